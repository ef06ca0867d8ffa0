"""The print blocks measured by WeasyPrint and kept block by block: what a rebuild measures of a
changed article is what a build that keeps nothing measures, and only the blocks that changed
are measured again."""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from builder import pdf
from builder.blocks import articles_of, number_blocks
from builder.measure import measure_articles
from builder.memo import Memo
from builder.model import PrintRendition

ROOT = Path(__file__).resolve().parent.parent
WIDTH = 119.0  # mm: the A5 theme's text width
TOP = 13.0
HEAD = f'<head><meta charset="utf-8"/><link rel="stylesheet" href="{pdf.THEME}print.css"/></head>'
WIDTHS = {"fig1": {"stack": [90.0, 119.0]}, "fig2": {"stack": [119.0], "row": [80.0, 119.0]}}


def rendition() -> PrintRendition:
    css = (ROOT / "styles" / "print.css").read_text(encoding="utf-8")
    return PrintRendition(None, "", {}, {"print.css": css}, "", "", "")


def paragraph(n: int) -> str:
    return f"<p>第{n}段。{'社区是党和政府联系、服务居民群众的“最后一公里”。' * (n % 4 + 1)}</p>"


def article(blocks: list[str]) -> list:
    root = lxml.html.document_fromstring(
        f"<html>{HEAD}<body><article id=\"a001\" class=\"article\" lang=\"zh\">"
        + "".join(blocks) + "</article></body></html>")
    found = articles_of(root)
    return [(a, number_blocks(a, set())) for a in found]


def blocks_v1() -> list[str]:
    return ['<header class="opener"><h1 class="article-title">标题</h1></header>',
            *(paragraph(n) for n in range(1, 5)), "<h2>小标题</h2>",
            '<figure id="fig1"><img src="x.jpg"/><figcaption>说明一</figcaption></figure>',
            *(paragraph(n) for n in range(5, 9)),
            '<figure id="fig2"><img src="y.jpg"/><img src="z.jpg"/>'
            f"<figcaption>说明二{'文字' * 40}</figcaption></figure>",
            "<table><tr><td>一</td><td>二</td></tr></table>",
            '<section class="credits"><dl><dt>作者</dt><dd>某人</dd></dl></section>']


def measure(blocks: list[str], memo: Memo) -> tuple[dict, dict]:
    counts: dict[str, list[bool]] = {}
    found = measure_articles(rendition(), HEAD, WIDTH, TOP, article(blocks), WIDTHS, memo,
                             lambda kind, kept: counts.setdefault(kind, []).append(kept), 1)
    return found["a001"], counts


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    memo = Memo(tmp_path_factory.mktemp("memo"))
    return memo, *measure(blocks_v1(), memo)


def test_every_block_is_measured_once_and_kept(first):
    memo, found, counts = first
    assert counts["measured articles"] == [False]
    assert not any(counts["measured blocks"])
    assert list(found["blocks"]) == ["a001-b1", *(f"a001-b{n}" for n in range(2, 7)), "fig1",
                                     *(f"a001-b{n}" for n in range(8, 12)), "fig2", "a001-b13",
                                     "a001-b14"]
    assert found["blocks"]["a001-b1"][3] and found["blocks"]["a001-b14"][3]  # own pages
    assert found["blocks"]["a001-b3"] == found["blocks"]["a001-b9"]  # paragraphs of one length
    assert found["blocks"]["a001-b2"][0] == pytest.approx(2 * found["line"], abs=0.01)
    assert set(found["frames"]) == {"fig1/stack", "fig2/stack", "fig2/row"}
    assert [w for w, _ in found["frames"]["fig2/row"]] == [80.0, 119.0]
    narrow, wide = (h for _, h in found["frames"]["fig2/row"])
    assert narrow > wide  # the caption takes more lines at the narrower width
    again, counts = measure(blocks_v1(), memo)
    assert again == found
    assert counts["measured articles"] == [True] and all(counts["measured blocks"])


def test_a_changed_article_measures_only_its_changed_blocks_and_as_a_fresh_build_does(
        first, tmp_path):
    memo, _, _ = first
    changed = blocks_v1()
    changed.insert(1, "<p>新加的第一段。</p>")  # every later block's place (and id) moves
    changed.insert(8, "<p>中间新加的一段，比较长。" + "文字" * 50 + "</p>")
    del changed[4]  # a paragraph removed
    changed[changed.index(next(b for b in changed if 'id="fig1"' in b))] = (
        '<figure id="fig1"><img src="x.jpg"/><figcaption>改过的说明，长一些，'
        + "说明" * 60 + "</figcaption></figure>")
    found, counts = measure(changed, memo)
    assert counts["measured articles"] == [False]
    assert counts["measured blocks"].count(False) == 3  # the two new paragraphs, the caption
    fresh, fresh_counts = measure(changed, Memo(tmp_path / "fresh"))
    assert not any(fresh_counts["measured blocks"])
    assert json.dumps(found, sort_keys=True) == json.dumps(fresh, sort_keys=True)


def test_a_kept_entry_of_the_wrong_shape_is_measured_again(tmp_path):
    memo = Memo(tmp_path / "memo")
    found, _ = measure(blocks_v1(), memo)
    for entry in (tmp_path / "memo").glob("*.json"):
        record = json.loads(entry.read_text(encoding="utf-8"))
        if "flow" in record:
            record["flow"] = {k: [1.0, "x"] for k in record["flow"]}
        elif "measured" in record:  # the article kept whole
            record["measured"]["blocks"] = {k: [1.0, "x"] for k in record["measured"]["blocks"]}
        entry.write_text(json.dumps(record), encoding="utf-8")
    again, counts = measure(blocks_v1(), memo)
    assert counts["measured articles"] == [False] and not any(counts["measured blocks"])
    assert again == found


class Untouchable(dict):
    """Widths that may not be asked for."""

    def get(self, *args):
        raise AssertionError("the widths were asked for")

    __getitem__ = get


def test_an_article_measured_before_is_found_whole_without_its_figures_widths(first):
    memo, found, counts = first
    kept: dict[str, list[bool]] = {}
    again = measure_articles(rendition(), HEAD, WIDTH, TOP, article(blocks_v1()), Untouchable(),
                             memo, lambda kind, k: kept.setdefault(kind, []).append(k), 1)
    assert again["a001"] == found
    assert kept["measured articles"] == [True]
    assert kept["measured blocks"] == [True] * len(counts["measured blocks"])


@pytest.mark.parametrize("damage", [
    lambda r: {**r, "count": "many"},
    lambda r: {**r, "measured": {**r["measured"], "frames": {"fig1/stack": [[1.0]]}}},
    lambda r: {**r, "measured": {**r["measured"], "line": None}},
])
def test_an_article_kept_whole_of_the_wrong_shape_is_found_by_its_blocks(tmp_path, damage):
    memo = Memo(tmp_path / "memo")
    found, _ = measure(blocks_v1(), memo)
    for entry in (tmp_path / "memo").glob("*.json"):
        record = json.loads(entry.read_text(encoding="utf-8"))
        if "measured" in record:
            entry.write_text(json.dumps(damage(record)), encoding="utf-8")
    again, counts = measure(blocks_v1(), memo)
    assert again == found
    assert counts["measured articles"] == [True] and all(counts["measured blocks"])


def test_the_warm_up_is_done_before_the_measuring_forks_and_changes_nothing(tmp_path):
    import os

    blocks = blocks_v1()
    two = [*article(blocks), *_renamed(article(blocks), "a002")]  # two documents, two processes
    calls: list[int] = []
    found = measure_articles(rendition(), HEAD, WIDTH, TOP, two, WIDTHS, Memo(tmp_path / "m"),
                             lambda kind, kept: None, 2, warm=lambda: calls.append(os.getpid()))
    assert calls == [os.getpid()]
    alone, _ = measure(blocks, Memo(tmp_path / "alone"))
    assert found["a001"] == alone


def _renamed(articles: list, aid: str) -> list:
    """The articles with their own ids and their blocks' (the second article of a book)."""
    for element, _ in articles:
        element.set("id", aid)
        for child in element.iter():
            if child is not element and child.get("id"):
                child.set("id", f"{aid}-{child.get('id')}")
    return articles
