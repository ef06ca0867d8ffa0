"""The running heads and folios, seen from the user's side: drawn on the pages after the
layout (builder.furniture), so that every page carries its own number and its article's title
wherever the article lands; an article that grows by pages does not make the articles after
it laid out again; a theme with margin boxes of its own draws them itself."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from helpers_corpus import photo_jpeg
from pytest_httpserver import HTTPServer

EPOCH = "1661924079"
TEXT = "社区里的小事，一件一件做好，居民的日子就一天一天好起来。" * 10
ARTICLE = """---
title: 第{n}篇：城市的角落
date: 2022-08-0{n}
---
{paragraphs}
<img data-original="http://photos.example/{n}.jpg">
↑ 第{n}篇的照片。
<p>{text}</p>
"""


@pytest.fixture(scope="module")
def photos():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    for n in range(1, 5):
        server.expect_request(f"/{n}.jpg").respond_with_data(
            photo_jpeg(900, 600, seed=n), content_type="image/jpeg")
    yield server
    server.clear()
    server.stop()


def write(folder: Path, paragraphs: dict[int, int] | None = None) -> None:
    """Four articles of some pages each (``paragraphs``: how many an article has, by number;
    8 by default)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, 5):
        count = (paragraphs or {}).get(n, 8)
        (folder / f"a{n}.txt").write_text(ARTICLE.format(
            n=n, text=TEXT, paragraphs="".join(f"<p>{k}：{TEXT}</p>" for k in range(count))),
            encoding="utf-8")


def fetch_flags(photos) -> list[str]:
    return ["--rewrite", f"http://photos.example/={photos.url_for('/')}",
            "--allow-host", f"127.0.0.1:{photos.port}"]


def margins(pdf: Path) -> list[tuple[list, list]]:
    """Each page's words in its top and its bottom margin: (x of the word's middle, word),
    in pt, from poppler's boxes."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    pages = []
    for page in out.split("<page ")[1:]:
        height = float(re.search(r'height="([\d.]+)"', page).group(1))
        words = [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<',
            page)]
        pages.append(([((a + c) / 2, w) for a, b, c, d, w in words if d < 13 * 72 / 25.4],
                      [((a + c) / 2, w) for a, b, c, d, w in words
                       if b > height - 15 * 72 / 25.4]))
    return pages


def check_furniture(pdf: Path, width_pt: float = 148 * 72 / 25.4) -> list[int]:
    """Every folio is its page's number, at the outer side; every running head an article's
    title; returns the numbers of the pages that carry a folio."""
    numbered = []
    for number, (top, bottom) in enumerate(margins(pdf), 1):
        if bottom:
            (x, word), = bottom
            assert word == str(number)
            assert (x < width_pt / 2) == (number % 2 == 0)  # left-hand pages: on the left
            numbered.append(number)
            assert top, f"page {number} has a folio and no running head"
        for _, word in top:
            assert re.fullmatch(r"第[1-4]篇：城市的角落", word), (number, word)
    return numbered


def test_every_page_carries_its_number_and_its_articles_title(photos, tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    write(src)
    result = run_cli("build", src, "--out", out, "--cache-dir", tmp_path / "cache", "--title",
                     "合集", "--name", "book", *fetch_flags(photos),
                     env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.returncode == 0, result.stderr
    numbered = check_furniture(out / "book.pdf")
    pages = len(margins(out / "book.pdf"))
    # the cover, the contents and each article's first page (an opener) carry none
    assert len(numbered) >= pages - 2 - 4 - 4 and len(numbered) >= 8, (numbered, pages)
    titles = [top for top, _ in margins(out / "book.pdf") if top]
    assert {w for top in titles for _, w in top} == {f"第{n}篇：城市的角落" for n in range(1, 5)}
    # the booklet's pages are the book's, furniture and all
    booklet = subprocess.run(["pdftotext", str(out / "book-booklet.pdf"), "-"],
                             capture_output=True, text=True, check=True).stdout
    assert "第3篇：城市的角落" in booklet and f"\n{numbered[-1]}\n" in booklet


def test_an_article_that_grows_by_pages_leaves_the_articles_after_it_kept(photos, tmp_path,
                                                                          monkeypatch):
    import builder
    import builder.parts
    from builder.settings import load_settings

    monkeypatch.setattr(builder.parts, "PART_PAGES", 1)  # a part an article
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    src = tmp_path / "src"

    def run(out: Path, cache: Path):
        return builder.build(load_settings(None, {
            "paths": (src,), "out_dir": out, "cache_dir": cache, "jobs": 2,
            "book.title": "合集", "book.name": "book",
            "fetch.rewrite": {"http://photos.example/": photos.url_for("/")},
            "fetch.allow_hosts": [f"127.0.0.1:{photos.port}"]}))

    write(src)
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = run(out, cache)
    assert first.work["PDF parts"] == {"done": 5, "kept": 0}
    before = len(margins(out / "book.pdf"))
    write(src, {1: 30})  # the first article some pages longer: every page after it moves
    second = run(out, cache)
    after = len(margins(out / "book.pdf"))
    assert after >= before + 3
    # the first article and the front (its contents' numbers) again, and the next article
    # only if it now starts on the other side; the two after it are kept
    assert second.work["PDF parts"]["kept"] >= 2, second.work
    assert second.work["PDF parts"]["done"] <= 3, second.work
    check_furniture(out / "book.pdf")
    # the book a build that keeps nothing makes, byte for byte
    fresh = tmp_path / "fresh"
    shutil.copytree(cache, tmp_path / "fresh-cache",
                    ignore=shutil.ignore_patterns("articles", "layout", "parts", "fonts"))
    run(fresh, tmp_path / "fresh-cache")
    for name in ("book.pdf", "book-booklet.pdf"):
        assert (fresh / name).read_bytes() == (out / name).read_bytes(), name


def test_a_theme_with_margin_boxes_of_its_own_draws_them_itself(photos, tmp_path):
    src, out, theme = tmp_path / "src", tmp_path / "out", tmp_path / "theme"
    write(src)
    (theme / "styles").mkdir(parents=True)
    css = (ROOT / "styles" / "print.css").read_text(encoding="utf-8")
    (theme / "styles" / "print.css").write_text(
        css + '\n@page { @bottom-center { content: "p" counter(page); font: 8pt sans-serif; } }\n'
        "@page cover { @bottom-center { content: none; } }\n", encoding="utf-8")
    result = run_cli("build", src, "--out", out, "--cache-dir", tmp_path / "cache", "--title",
                     "合集", "--name", "book", "--theme", theme, "--format", "pdf",
                     *fetch_flags(photos), env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.returncode == 0, result.stderr
    pages = margins(out / "book.pdf")
    width = 148 * 72 / 25.4
    for number, (top, bottom) in enumerate(pages, 1):
        assert not top  # the theme has no running head: none is drawn
        if number > 1:
            (x, word), = bottom  # the theme's folio, and no other
            assert word == f"p{number}" and abs(x - width / 2) < 10
    report = json.loads((out / "book.report.json").read_text(encoding="utf-8"))
    assert report["layout"]["disagreement_count"] == 0


def test_a_theme_can_leave_the_folios_out(photos, tmp_path):
    """``.folio { display: none }`` in a theme's print stylesheet: no page has a folio, and
    the running heads are drawn as before."""
    src, out, theme = tmp_path / "src", tmp_path / "out", tmp_path / "theme"
    write(src)
    (theme / "styles").mkdir(parents=True)
    css = (ROOT / "styles" / "print.css").read_text(encoding="utf-8")
    (theme / "styles" / "print.css").write_text(css + "\n.folio { display: none; }\n",
                                                encoding="utf-8")
    result = run_cli("build", src, "--out", out, "--cache-dir", tmp_path / "cache", "--title",
                     "合集", "--name", "book", "--theme", theme, "--format", "pdf",
                     *fetch_flags(photos), env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.returncode == 0, result.stderr
    pages = margins(out / "book.pdf")
    assert not any(bottom for _, bottom in pages)
    assert sum(1 for top, _ in pages if top) >= 8


def test_a_theme_that_styles_a_documents_first_page_styles_only_the_books(photos, tmp_path,
                                                                         monkeypatch):
    """A part after an even page count has no lead page: its first page is its document's
    first, a right-hand one. A theme with ``@page :first`` styles only the book's first page:
    its parts keep their lead pages, and no page but the book's first has that style."""
    from PIL import Image

    import builder
    import builder.parts
    from builder.settings import load_settings

    monkeypatch.setattr(builder.parts, "PART_PAGES", 1)  # a part an article
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    src, out, theme = tmp_path / "src", tmp_path / "out", tmp_path / "theme"
    write(src, {1: 8, 2: 9, 3: 10, 4: 11})  # articles that end on either side
    (theme / "styles").mkdir(parents=True)
    css = (ROOT / "styles" / "print.css").read_text(encoding="utf-8")
    (theme / "styles" / "print.css").write_text(
        css + "\n@page :first { background: rgb(0, 200, 0); margin-bottom: 60mm; }\n",
        encoding="utf-8")
    report = builder.build(load_settings(None, {
        "paths": (src,), "out_dir": out, "cache_dir": tmp_path / "cache", "jobs": 2,
        "book.title": "合集", "book.name": "book", "book.formats": ["pdf"], "theme_dir": theme,
        "fetch.rewrite": {"http://photos.example/": photos.url_for("/")},
        "fetch.allow_hosts": [f"127.0.0.1:{photos.port}"]}))
    subprocess.run(["pdftoppm", "-r", "10", "-png", str(out / "book.pdf"), str(tmp_path / "p")],
                   check=True)
    corners = [Image.open(p).convert("RGB").getpixel((0, 0))
               for p in sorted(tmp_path.glob("p-*.png"))]
    assert corners[0] == (0, 200, 0)  # the book's first page (the cover, its margin box)
    assert all(c == (255, 255, 255) for c in corners[1:]), corners
    check_furniture(out / "book.pdf")
    # the pages planned with the area of an article's page, not the first page's
    assert report.layout["disagreement_count"] == 0, report.layout["disagreements"]
    # (an article opens after a page that is not blank: a part after an even count of pages)
    text = subprocess.run(["pdftotext", str(out / "book.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout.split("\f")
    pages = margins(out / "book.pdf")
    opens = [n for n, page in enumerate(text) if re.search(r"第[1-4]篇：城市的角落", page)
             and n > 2 and not pages[n][0]]
    assert any(text[n - 1].strip() for n in opens), opens
