"""The page planner's rules, on measured blocks made up for each case (no WeasyPrint here)."""

from __future__ import annotations

from builder.plan import (
    FLOOR,
    MAX_DPI,
    MAX_MOVED,
    MIN_AREA,
    Area,
    Block,
    full_size,
    plan_article,
    shapes_for,
)

A5 = Area(119.0, 182.0, 148.0, 210.0)
LINE = 6.0


def text(name: str, lines: int, movable: bool = True) -> Block:
    return Block(name, "text", lines * LINE, 0.0, 2.5, line=LINE, movable=movable)


def heading(name: str) -> Block:
    return Block(name, "heading", 8.0, 4.0, 2.0)


def figure(name: str, px=((1000, 667),), frame: float = 10.0) -> Block:
    room = {"stack": A5.height - 1 - 5 - frame, "row": A5.height - 1 - 5 - frame}
    shapes = shapes_for(list(px), A5, 3.0, room)
    frames = {s.kind: ((20.0, frame), (A5.width, frame)) for s in shapes}
    return Block(name, "figure", 0.0, 5.0, 5.0, shapes=shapes, frames=frames)


def pages(plan) -> list[list[str]]:
    return [[p.id for p in page.blocks] for page in plan.pages]


def test_two_landscapes_share_a_page():
    plan = plan_article([figure("f1"), figure("f2"), figure("f3"), figure("f4")], A5)
    assert pages(plan) == [["f1", "f2"], ["f3", "f4"]]
    assert all(p.scale >= FLOOR for page in plan.pages for p in page.blocks)


def test_a_photo_is_never_set_larger_than_its_pixels_allow():
    width, height = full_size((400, 300), A5.width, A5.height)
    assert round(width, 3) == round(400 / MAX_DPI * 25.4, 3)
    assert height == width * 300 / 400


def test_the_floor_keeps_a_photo_above_a_tenth_of_the_page():
    small = shapes_for([(500, 330)], A5, 3.0, {"stack": 170.0})[0]
    w, h = small.sizes[0]
    assert (w * small.min_scale) * (h * small.min_scale) >= MIN_AREA * A5.page_area - 0.01
    assert small.min_scale > FLOOR


def test_landscapes_side_by_side_only_above_the_floor():
    kinds = [s.kind for s in shapes_for([(1000, 667), (1000, 667)], A5, 3.0, {"stack": 170.0})]
    assert kinds == ["stack"]  # two landscapes in a row would be under a tenth of the page
    kinds = [s.kind for s in shapes_for([(800, 1200), (800, 1200)], A5, 3.0, {"stack": 170.0})]
    assert kinds == ["stack", "row"]


def test_text_moves_ahead_of_a_photo_that_does_not_fit_but_not_past_a_heading():
    blocks = [text("t1", 14), figure("tall", ((1000, 1500),)), text("t2", 3), text("t3", 3),
              heading("h"), text("t4", 3)]
    plan = plan_article(blocks, A5)
    order = [i for page in pages(plan) for i in page]
    assert order.index("t2") < order.index("tall")
    assert order.index("h") > order.index("tall")
    moved = [p.id for page in plan.pages for p in page.blocks if p.moved]
    assert 0 < len(moved) <= MAX_MOVED
    assert "t4" not in moved


def test_no_page_ends_with_a_heading():
    blocks = [text("t1", 28), heading("h"), text("t2", 10)]
    plan = plan_article(blocks, A5)
    for page in plan.pages:
        assert page.blocks[-1].id != "h"


def test_a_split_paragraph_leaves_two_lines_on_each_page():
    blocks = [text("t1", 27), text("t2", 5)]
    plan = plan_article(blocks, A5)
    for page in plan.pages:
        for placed in page.blocks:
            if placed.id == "t2" and placed.lines:
                assert placed.lines >= 2 and 5 - placed.first_line - placed.lines >= 2


def test_a_break_block_opens_a_page():
    blocks = [text("t1", 3), Block("credits", "break", 30.0, 0.0, 0.0)]
    assert pages(plan_article(blocks, A5)) == [["t1"], ["credits"]]


def test_a_photo_too_tall_for_any_page_stands_alone():
    blocks = [text("t1", 3), figure("f", frame=400.0), text("t2", 3)]
    plan = plan_article(blocks, A5)
    assert ["f"] in pages(plan)


def test_an_article_of_thousands_of_pages_is_planned():
    blocks = [text(f"t{i}", 30, movable=False) for i in range(1500)]
    plan = plan_article(blocks, A5)
    assert len(plan.pages) >= 1500
    assert [p.id for page in plan.pages for p in page.blocks if not p.first_line] == \
        [b.id for b in blocks]


def test_photos_alone_on_a_page_grow_into_the_margins_within_their_pixels():
    wide = Area(119.0, 182.0, 148.0, 210.0, breakout=6.0)
    room = {"stack": 170.0}
    big = shapes_for([(2000, 1333)], wide, 3.0, room)[0]
    assert round(big.max_scale * big.width, 2) == 131.0  # the text width and 6 mm each side
    small = shapes_for([(600, 400)], wide, 3.0, room)[0]
    assert small.max_scale == 1.0  # 600 px are 102 mm at 150 dpi: its full size already
    assert round(small.width, 2) == round(600 / MAX_DPI * 25.4, 2)
    block = Block("f", "figure", 0.0, 5.0, 5.0, shapes=(big,),
                  frames={"stack": ((20.0, 10.0), (131.0, 10.0))})
    page = plan_article([block], wide).pages[0].blocks[0]
    assert page.scale == big.max_scale


def test_a_figure_taller_than_two_pages_does_not_end_the_article():
    tall = Block("f", "figure", 0.0, 5.0, 5.0, shapes=shapes_for([(1000, 667)], A5, 3.0,
                                                               {"stack": 150.0}),
                 frames={"stack": ((119.0, 400.0),)})
    plan = plan_article([tall, text("t", 3), text("u", 3)], A5)
    assert [p.id for page in plan.pages for p in page.blocks] == ["f", "t", "u"]


def test_every_block_once_among_hundreds_of_empty_ones():
    blocks = [Block(f"e{i}", "text", 0.0, 0.0, 0.0) for i in range(1200)] + [text("t", 3)]
    plan = plan_article(blocks, A5)
    assert [p.id for page in plan.pages for p in page.blocks] == [b.id for b in blocks]


def test_a_figure_the_theme_lays_out_as_nothing_is_planned_as_a_block():
    import lxml.html

    from builder.layout import _plan_blocks

    figure = lxml.html.fragment_fromstring('<figure id="f"><img src="x.jpg"/></figure>')
    measured = {"blocks": {"f": [0.0, 0.0, 0.0, False]}, "frames": {}, "line": LINE}
    (block,) = _plan_blocks([figure], measured, A5, None)
    assert block.kind == "text" and not block.shapes
    assert pages(plan_article([block, text("t", 3)], A5)) == [["f", "t"]]


def test_free_room_spreads_photos_alone_and_centres_a_page_before_a_photo():
    from builder.layout import _room_above
    from builder.plan import PagePlan, Placed

    shape = shapes_for([(1000, 667)], A5, 3.0, {"stack": 150.0})[0]
    two = PagePlan((Placed("a", shape=shape), Placed("b", shape=shape)), True, 30.0, True)
    assert _room_above(two) == [0.0, 30.0]  # from the page's top to its foot
    one = PagePlan((Placed("a", shape=shape),), True, 30.0, True)
    assert _room_above(one) == [15.0]  # in the middle
    text_then_photo = PagePlan((Placed("t"),), True, 30.0, True)
    assert _room_above(text_then_photo) == [15.0]
    text_page = PagePlan((Placed("t"),), True, 30.0, False)  # before a heading, say
    assert _room_above(text_page) == [0.0]


def test_a_plan_is_kept_by_its_blocks_and_planned_again_when_its_entry_is_damaged(tmp_path):
    import json

    from builder.layout import _planned
    from builder.memo import Memo, encode

    memo = Memo(tmp_path)
    blocks = [text("t1", 20), figure("f1", ((1000, 1500),)), text("t2", 8), figure("f2")]
    plan = _planned(blocks, A5, memo)
    assert plan == plan_article(blocks, A5)
    (entry,) = tmp_path.glob("*.json")
    assert _planned(blocks, A5, memo) == plan  # from the memo, exactly
    other = _planned([*blocks[:2], text("t2", 9), blocks[3]], A5, memo)
    assert other == plan_article([*blocks[:2], text("t2", 9), blocks[3]], A5) != plan
    kept = entry.read_text(encoding="utf-8")
    entry.write_text(json.dumps(encode(other)), encoding="utf-8")
    assert _planned(blocks, A5, memo) == other  # read, not planned again
    entry.write_text(kept.replace('"cost": ', '"cost": "x", "_": '), encoding="utf-8")
    assert _planned(blocks, A5, memo) == plan
