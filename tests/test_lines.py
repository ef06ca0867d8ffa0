"""Captions' lines counted by Pango instead of each frame laid out by WeasyPrint: the frames
come out as WeasyPrint's layout of each one gives them, and a caption that cannot be counted
is laid out."""

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
    blocks, widths = [], {}
    for n, caption in enumerate(captions):
        photos = "<img src=\"x.jpg\"/>" * (1 + n % 2)
        blocks += [f"<p>第{n}段。</p>",
                   f'<figure id="fig{n}">{photos}<figcaption>{caption}</figcaption></figure>']
        widths[f"fig{n}"] = {"stack": [55.0, 87.46, 119.0]} | (
            {"row": [70.3, 119.0]} if n % 2 else {})
    return blocks, widths


def frames(tmp_path, captions: list[str], counted: bool, monkeypatch,
           css: str = "") -> tuple[dict, list]:
    """The frames of an article of ``captions``, with their lines counted or (not
    ``counted``) every frame laid out; and the documents measured, as (document, probes)."""
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
    return found["a001"]["frames"], seen


def same(counted: dict, laid: dict) -> None:
    assert set(counted) == set(laid)
    for name, steps in laid.items():
        assert [w for w, _ in counted[name]] == [w for w, _ in steps], name
        assert [h for _, h in counted[name]] == pytest.approx([h for _, h in steps],
                                                              abs=0.002), name


def test_counted_frames_are_the_frames_laid_out(tmp_path, monkeypatch):
    counted, seen = frames(tmp_path, CAPTIONS, True, monkeypatch)
    laid, _ = frames(tmp_path, CAPTIONS, False, monkeypatch)
    same(counted, laid)
    assert len(seen) == 1  # every caption counted: no second document
    document, probes = seen[0]
    assert 'id="f-' not in document
    # one probe for all the figures alike at a width, every frame's caption counted at one
    assert len(probes) < sum(len(steps) for steps in laid.values())
    assert sum(len(texts) for texts in probes.values()) == \
        sum(len(steps) for steps in laid.values())
    heights = [h for steps in laid.values() for _, h in steps]
    assert len(set(heights)) > 4  # the captions took different numbers of lines


def test_a_caption_with_a_word_wider_than_the_line_is_laid_out(tmp_path, monkeypatch):
    captions = [CAPTIONS[0], LONG_WORD]
    counted, seen = frames(tmp_path, captions, True, monkeypatch)
    laid, _ = frames(tmp_path, captions, False, monkeypatch)
    same(counted, laid)
    assert len(seen) == 2  # the second lays out the frames of the caption Pango could not
    assert seen[1][1] == {} and 'id="f-' in seen[1][0] and "a" * 150 in seen[1][0]
    assert CAPTIONS[0].split("，")[0] not in seen[1][0]


@pytest.mark.parametrize("css", ["figcaption { text-indent: 2em; }",
                                 'figcaption::before { content: "图："; }',
                                 "figcaption::first-letter { font-size: 150%; }",
                                 ".halt { font-size: 80%; }", ".halt { padding: 0 1pt; }"])
def test_a_theme_that_sets_captions_otherwise_has_their_frames_laid_out(tmp_path, monkeypatch,
                                                                         css):
    css = f"\n{css}\n"
    counted, seen = frames(tmp_path, CAPTIONS, True, monkeypatch, css)
    laid, _ = frames(tmp_path, CAPTIONS, False, monkeypatch, css)
    same(counted, laid)
    assert len(seen) == 2


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
