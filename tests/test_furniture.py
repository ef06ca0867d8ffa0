"""The page furniture's pieces: which themes draw their own, and where the runs go on a page."""

from __future__ import annotations

import pytest

from builder.furniture import Page, Runs, drawn_by_theme, placements, sheet
from builder.model import Box, Frame

PT = 72 / 25.4


@pytest.mark.parametrize(("css", "drawn"), [
    ("@page { margin: 13mm; }", False),
    ("@page { @bottom-right { content: counter(page); } }", True),
    ("@page :left { margin: 1mm; @top-center { font: 7pt serif; content: string(running) } }",
     True),
    ("@page { @top-left-corner { content: 'x' } }", True),
    ("@page { @right-middle { content: counter(page) } }", True),
    ("@page cover { @top-center { content: none; } @bottom-left { content: normal } }", False),
    ("@page { @bottom-center { content: none !important } }", False),
    ("/* @page { @bottom-center { content: counter(page) } } */ p { content: 'x' }", False),
    (".folio { font: 8pt sans-serif; } p::before { content: '※' }", False),
])
def test_a_theme_draws_the_furniture_only_with_a_margin_box_that_has_content(css, drawn):
    assert drawn_by_theme({"print.css": css}) is drawn


FRAME = Frame(False, "", (13.0, 12.0, 15.0, 17.0), (148.0, 210.0))  # a right-hand page
LEFT = Frame(False, "", (13.0, 17.0, 15.0, 12.0), (148.0, 210.0))
RUNS = Runs((("第一篇", "zh"), ("第二篇", "zh")))
# each run at the top left of its sheet page: a head 30 mm wide, digits 2 mm wide, 4 mm high
BOXES = {RUNS.head_id(0): Box(0, 0.0, 0.0, 30.0, 3.0), RUNS.head_id(1): Box(1, 0.0, 0.0, 20.0, 3.0),
         **{RUNS.digit_id(d): Box(2 + d, 0.0, 0.0, 2.0, 4.0) for d in range(10)}}


def test_the_head_is_centred_above_the_text_and_the_folio_at_the_outer_corner():
    (index, drawn), = placements([Page(FRAME, 17, "第二篇")], RUNS, BOXES)
    assert index == 0
    head, one, seven = drawn
    assert head == (1, pytest.approx((17 + (148 - 29 - 20) / 2) * PT, abs=0.01),
                    pytest.approx(-(13 - 3) / 2 * PT, abs=0.01))
    # a right-hand page (odd): the digits end at the text's right edge, 148 - 12 mm
    assert one[0] == RUNS.digit(1) and seven[0] == RUNS.digit(7)
    assert one[1] == pytest.approx((148 - 12 - 4) * PT, abs=0.01)
    assert seven[1] == pytest.approx((148 - 12 - 2) * PT, abs=0.01)
    assert one[2] == pytest.approx(-(210 - 15 + (15 - 4) / 2) * PT, abs=0.01)


def test_a_left_hand_pages_folio_starts_at_the_texts_left_edge():
    (_, drawn), = placements([Page(LEFT, 18, "")], RUNS, BOXES)
    assert [n for n, _, _ in drawn] == [RUNS.digit(1), RUNS.digit(8)]  # no head: no title
    assert drawn[0][1] == pytest.approx(12 * PT, abs=0.01)
    assert drawn[1][1] == pytest.approx(14 * PT, abs=0.01)


@pytest.mark.parametrize("frame", [Frame(True, "", FRAME.margins, FRAME.size),
                                   Frame(False, "opener", FRAME.margins, FRAME.size),
                                   Frame(False, "cover", (0, 0, 0, 0), FRAME.size)])
def test_blank_pages_openers_and_the_cover_carry_no_furniture(frame):
    assert placements([Page(frame, 3, "第一篇")], RUNS, BOXES) == []


def test_the_sheet_has_a_page_for_each_run_and_escapes_the_titles():
    runs = Runs((("<b>甲</b> & 乙", "zh"), ("Title", "en")))
    html = sheet("<!DOCTYPE html><html><head></head>", runs, 119.0)
    assert html.count("break-before: page") == runs.count == 12
    assert "&lt;b&gt;甲&lt;/b&gt; &amp; 乙" in html and "<b>" not in html
    assert 'lang="en"' in html and "max-width: 119.000mm" in html
    assert [runs.head("Title"), runs.digit(0), runs.digit(9)] == [1, 2, 11]


def test_a_run_the_theme_does_not_display_is_drawn_on_no_page():
    """``.folio { display: none }``: the sheet has no box for the digits, and no page draws
    a folio (the heads are still drawn); the same for the heads."""
    no_digits = {k: v for k, v in BOXES.items() if "digit" not in k}
    (_, drawn), = placements([Page(FRAME, 17, "第二篇")], RUNS, no_digits)
    assert [n for n, _, _ in drawn] == [1]
    no_heads = {k: v for k, v in BOXES.items() if "head" not in k}
    (_, drawn), = placements([Page(FRAME, 17, "第二篇")], RUNS, no_heads)
    assert [n for n, _, _ in drawn] == [RUNS.digit(1), RUNS.digit(7)]
