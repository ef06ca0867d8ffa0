"""Paragraphs' and captions' lines counted by Pango instead of each block and frame laid out by
WeasyPrint: the measurements come out as WeasyPrint's layout of each one gives them, and a
text that cannot be counted is laid out."""

from __future__ import annotations

import lxml.html
import pytest

from builder import lines
from builder import measure as measuring
from builder.memo import Memo
from tests.test_measure import HEAD, TOP, WIDTH, article, rendition

CAPTIONS = [
    "甘肃省武威市古浪县小区里新添了充电桩，幸福写在每个人的脸上（2019年4月20日摄"
    '<span class="halt">）</span>。',
    "青海省西宁市城西区议事厅里讨论热烈，社区食堂飘出饭菜香，一老一小是大家最关心的事"
    "（2018年2月20日摄<span class=\"halt\">）</span>。" * 2,
    "Residents of the district gather at the new community canteen for lunch, which the "
    "volunteers serve every weekday (photo taken on 20 April 2019).",
    "“智慧社区”<span class=\"halt\">」</span>「平台上线后，居民在手机上就能办理 37 项业务"
    "，平均用时 5 分钟。",
    "短说明",
]
LONG_WORD = "见 https://example.org/" + "a" * 150 + " 的报道。"


def figures(captions: list[str]) -> tuple[list[str], dict]:
    """An article of a paragraph and a figure for each of ``captions`` (the paragraph says
    the same), and the widths of its figures."""
    blocks, widths = [], {}
    for n, caption in enumerate(captions):
        photos = "<img src=\"x.jpg\"/>" * (1 + n % 2)
        blocks += [f"<p>{caption}</p>",
                   f'<figure id="fig{n}">{photos}<figcaption>{caption}</figcaption></figure>']
        widths[f"fig{n}"] = {"stack": [55.0, 87.46, 119.0]} | (
            {"row": [70.3, 119.0]} if n % 2 else {})
    return blocks, widths


def measured(tmp_path, captions: list[str], counted: bool, monkeypatch,
             css: str = "") -> tuple[dict, list]:
    """The measurements of an article of ``captions`` (:func:`figures`), with their lines
    counted or (not ``counted``) every block and frame laid out; and the documents measured,
    as (document, probes)."""
    blocks, widths = figures(captions)
    seen: list = []
    measure = measuring._measure

    def spy(shared, doc):
        seen.append(doc)
        return measure(shared, doc)

    with monkeypatch.context() as m:
        m.setattr(measuring, "_measure", spy)
        if not counted:
            m.setattr(measuring, "runs", lambda caption: None)
        base = rendition()
        base.stylesheets["print.css"] += css
        found = measuring.measure_articles(base, HEAD, WIDTH, TOP, article(blocks), widths,
                                           Memo(tmp_path / f"memo-{counted}"),
                                           lambda kind, kept: None, 1)
    return found["a001"], seen


def same(counted: dict, laid: dict) -> None:
    assert set(counted["frames"]) == set(laid["frames"])
    for name, steps in laid["frames"].items():
        assert [w for w, _ in counted["frames"][name]] == [w for w, _ in steps], name
        assert [h for _, h in counted["frames"][name]] == pytest.approx(
            [h for _, h in steps], abs=0.002), name
    assert set(counted["blocks"]) == set(laid["blocks"])
    for name, (height, top, bottom, broke) in laid["blocks"].items():
        assert counted["blocks"][name][:3] == pytest.approx([height, top, bottom], abs=0.002)
        assert counted["blocks"][name][3] == broke
    assert counted["line"] == laid["line"]


def test_counted_blocks_and_frames_are_the_ones_laid_out(tmp_path, monkeypatch):
    counted, seen = measured(tmp_path, CAPTIONS, True, monkeypatch)
    laid, _ = measured(tmp_path, CAPTIONS, False, monkeypatch)
    same(counted, laid)
    assert len(seen) == 1  # every text counted: no second document
    document, probes = seen[0]
    assert 'id="f-' not in document and '<p id="m-' not in document  # (figures: in the flow)
    # one probe for all the blocks alike (at a width), every text counted at one
    frames = sum(len(steps) for steps in laid["frames"].values())
    assert len(probes) < frames
    assert sum(len(texts) for texts in probes.values()) == frames + len(CAPTIONS)
    heights = [h for steps in laid["frames"].values() for _, h in steps]
    assert len(set(heights)) > 4  # the captions took different numbers of lines
    assert len({b[0] for b in laid["blocks"].values()}) > 3  # so did the paragraphs


def test_a_text_with_a_word_wider_than_the_line_is_laid_out(tmp_path, monkeypatch):
    captions = [CAPTIONS[0], LONG_WORD]
    counted, seen = measured(tmp_path, captions, True, monkeypatch)
    laid, _ = measured(tmp_path, captions, False, monkeypatch)
    same(counted, laid)
    assert len(seen) == 2  # the second lays out what Pango could not count
    assert seen[1][1] == {} and 'id="f-' in seen[1][0] and '<p id="m-' in seen[1][0]
    assert "a" * 150 in seen[1][0] and CAPTIONS[0].split("，")[0] not in seen[1][0]


@pytest.mark.parametrize("css", ['figcaption::before, p::before { content: "图："; }',
                                 "figcaption::first-letter, p::first-letter { font-size: 150%; }",
                                 ".halt { font-size: 80%; }", ".halt { padding: 0 1pt; }"])
def test_a_theme_that_sets_texts_otherwise_has_them_laid_out(tmp_path, monkeypatch, css):
    css = f"\n{css}\n"
    counted, seen = measured(tmp_path, CAPTIONS, True, monkeypatch, css)
    laid, _ = measured(tmp_path, CAPTIONS, False, monkeypatch, css)
    same(counted, laid)
    assert len(seen) == 2
    assert 'id="f-' in seen[1][0] and '<p id="m-' in seen[1][0]


@pytest.mark.parametrize("css", ["", "p, figcaption { text-indent: 3em; }",
                                 "p, figcaption { text-indent: 0; letter-spacing: 0.05em; }"])
def test_an_indent_or_spacing_of_the_theme_is_counted(tmp_path, monkeypatch, css):
    counted, seen = measured(tmp_path, CAPTIONS, True, monkeypatch, f"\n{css}\n")
    laid, _ = measured(tmp_path, CAPTIONS, False, monkeypatch, f"\n{css}\n")
    same(counted, laid)
    assert len(seen) == 1


def caption(html: str):
    return lxml.html.fragment_fromstring(f"<figcaption>{html}</figcaption>")


def test_runs_are_text_and_halted_marks_only():
    assert lines.runs(caption("一段说明。")) == ("一段说明。", ())
    text, halts = lines.runs(caption(CAPTIONS[0]))
    assert text.endswith("摄）。")
    (start, end), = halts
    assert text.encode()[start:end].decode() == "）"
    for html in ("说明<br/>二", '说明<a href="x">链接</a>', "<b>粗</b>体", " 前有空格",
                 "两个  空格", "换\n行", '<span class="halt"><i>）</i></span>',
                 '<span class="keep">保持</span>', ""):
        assert lines.runs(caption(html)) is None, html
