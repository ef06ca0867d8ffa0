"""The print pages, planned: measure the print document's blocks (:mod:`builder.measure`),
plan each article's pages (:mod:`builder.plan`), set the plan into the document, and check the
laid-out PDF against it.

The print document's articles are ``<article id>`` elements; their element children are the
blocks (:mod:`builder.blocks`). The measurements and each article's plan are kept by what they
are made of, so a warm build measures and plans nothing, and a rebuild only what changed. The
plan is set into the document with a page break where a page must start, each photo's size,
and the order of blocks (a paragraph moved ahead of a photo).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

import lxml.html
from lxml import etree

from . import pdf
from .blocks import (
    articles_of,
    block_kind,
    number_blocks,
    photos_of,
    pixels_of,
    set_style,
    size_figure,
)
from .measure import measure_articles
from .memo import Memo, code_version, digest
from .model import Box, PrintRendition
from .pieces import cut_long_articles
from .plan import SLACK, Area, ArticlePlan, Block, PagePlan, plan_article, shapes_for

GAP = 3.0  # mm between photos side by side
EDGE = 6.0  # mm: a photo that reaches into the side margins stays this far from the edge
TEXT_KINDS = {"p"}  # blocks that may split between pages and move ahead of a photo
GAP_SHARE = 0.35  # a page this empty before a photo is a hole (as the layout figures count)


@dataclass(frozen=True)
class Layout:
    rendition: PrintRendition  # the planned document
    area: Area
    plans: dict[str, ArticlePlan]  # by article id


# -- measuring ----------------------------------------------------------------------------------

class _Widths(dict):
    """The widths of each figure by its id (:func:`_widths`), worked out when first asked
    for: the measuring asks only for the figures of the articles it takes apart."""

    def __init__(self, figures: dict, area: Area, rendition: PrintRendition):
        super().__init__()
        self._figures, self._area, self._rendition = figures, area, rendition

    def __missing__(self, bid: str) -> dict[str, list]:
        if bid not in self._figures:
            raise KeyError(bid)
        value = self[bid] = _widths(self._figures[bid], self._area, self._rendition)
        return value

    def get(self, bid: str, default=None):
        try:
            return self[bid]
        except KeyError:
            return default


def _widths(block, area: Area, rendition: PrintRendition) -> dict[str, list]:
    """The widths a figure's frame is measured at, by shape: its full width and its floor's,
    from an estimate of its caption (the plan uses the measured frame at the widest measured
    width not wider than the one it sets, so an estimate errs on the safe side)."""
    px = [pixels_of(img, rendition) for img in photos_of(block)]
    caption = "".join("".join(c.itertext()) for c in block.iter("figcaption"))
    if not caption.strip():
        return {"stack": [area.width]}
    lines = 1 + len(caption) * 2.7 / max(1.0, area.width / 2)  # ~2.7 mm a character
    room = area.height - SLACK - 5 - 4.2 * lines - 2
    out = {}
    for shape in shapes_for(px, area, GAP, {"stack": room, "row": room}):
        out[shape.kind] = sorted({round(shape.width, 2),
                                  round(shape.width * shape.min_scale * 0.98, 2)})
    return out


def _head(root) -> str:
    """The document's stylesheets and style elements: all of its head that lays it out."""
    head = root.find("head")
    if head is None:
        return "<head></head>"
    kept = [lxml.html.tostring(e, encoding="unicode") for e in head
            if e.tag == "style" or (e.tag == "link" and "stylesheet" in e.get("rel", ""))]
    return '<head><meta charset="utf-8"/>' + "".join(kept) + "</head>"


def _area(rendition: PrintRendition, head: str, page: tuple[float, float],
          cache: Memo) -> Area:
    """The content box of a page of the theme: of a right-hand page that is not its
    document's first (a theme's ``@page :first`` styles the book's first page, not the
    articles'), from a box as large as the third page's area, set on that page."""
    html = (f"<!DOCTYPE html><html>{head}<body><p>x</p><p style=\"break-before:page\">x</p>"
            "<p style=\"break-before:page\">x</p><div id=\"plan-area\" style=\"position:"
            "absolute;top:0;bottom:0;left:0;right:0\"></div></body></html>")
    key = _key(html, rendition)
    found = cache.get_record(key, {"width": float, "height": float, "top": float, "margin": float})
    if found is None:
        box = pdf.measure(rendition, html, {})["plan-area"]
        found = {"width": box.x1 - box.x0, "height": box.y1 - box.y0, "top": box.y0,
                 "margin": min(box.x0, page[0] - box.x1)}
        cache.put_record(key, found)
    return Area(found["width"], found["height"], page[0], page[1],
                max(0.0, found["margin"] - EDGE), found["top"])


def _key(html: str, rendition: PrintRendition) -> str:
    return digest(code_version(), html, rendition.serif_font, rendition.sans_font,
                  *(f"{k}\0{v}" for k, v in sorted(rendition.stylesheets.items())))


# -- planning -----------------------------------------------------------------------------------

def plan_print(rendition: PrintRendition, page: tuple[float, float], cache: Memo,
               count: Callable[[str, bool], None] = lambda kind, kept: None,
               workers: int = 1, warm: Callable[[], None] | None = None) -> Layout:
    """The print document with its pages planned: ``page`` is the trimmed page's size in mm;
    measurements and plans are kept in ``cache``; ``count`` is told of each article and block
    measured or kept (:func:`~builder.measure.measure_articles`), and what is not kept is
    measured ``workers`` documents at a time (``warm`` done before their processes are
    forked)."""
    root = lxml.html.document_fromstring(rendition.html)
    head = _head(root)
    area = _area(rendition, head, page, cache)
    found = cut_long_articles(articles_of(root))
    children = {child for article in found for child in article}
    taken = {e.get("id") for e in root.iter()
             if isinstance(e.tag, str) and e.get("id") and e not in children}
    articles = [(a, number_blocks(a, taken)) for a in found]
    figures = {b.get("id"): b for _, blocks in articles for b in blocks
               if block_kind(b) == "figure"}
    measured = measure_articles(rendition, head, area.width, area.top, articles,
                                _Widths(figures, area, rendition), cache, count, workers,
                                whole=repr(area), warm=warm)
    plans: dict[str, ArticlePlan] = {}
    for article, blocks in articles:
        aid = article.get("id")
        plan_blocks = _plan_blocks(blocks, measured[aid], area, rendition)
        plans[aid] = _planned(plan_blocks, area, cache)
        _apply(article, blocks, plans[aid], plan_blocks, area.width)
    for n, part in enumerate(root.find("body") if root.find("body") is not None else [], 1):
        if isinstance(part.tag, str) and part.tag in ("article", "nav"):
            if not part.get("id"):
                part.set("id", f"plan-part-{n}")
            part.append(etree.Element("div", {"id": f"{part.get('id')}-end",
                                              "class": "plan-end"}))
    html = lxml.html.tostring(root, doctype="<!DOCTYPE html>", encoding="unicode")
    return Layout(replace(rendition, html=html), area, plans)


def _planned(blocks: list[Block], area: Area, cache: Memo) -> ArticlePlan:
    """The article's plan, kept by its measured blocks and the page: planned once."""
    key = digest(code_version(), "plan", repr(area), repr(blocks))
    found = cache.get_value(key, ArticlePlan)
    if found is None:
        found = plan_article(blocks, area)
        cache.put_value(key, found)
    return found


def _plan_blocks(blocks, measured: dict, area: Area, rendition: PrintRendition) -> list[Block]:
    line = measured.get("line", 0.0)
    out = []
    for element in blocks:
        bid = element.get("id")
        height, top, bottom, broke = measured["blocks"].get(bid, [0.0, 0.0, 0.0, False])
        kind = block_kind(element)
        if broke and out and kind != "figure":
            kind = "break"  # the theme starts it on a page of its own
        frames = {k: tuple(map(tuple, measured["frames"][f"{bid}/{k}"]))
                  for k in ("stack", "row") if f"{bid}/{k}" in measured["frames"]}
        if kind == "figure" and "stack" not in frames:
            kind = "text"  # laid out as nothing (hidden by a theme, say): a block like any
        if kind == "figure":
            px = [pixels_of(img, rendition) for img in photos_of(element)]
            room = area.height - SLACK - top
            # the photos' room below their caption; a caption near a page's height leaves
            # them a quarter of the page (the figure then runs over, as WeasyPrint sets it)
            tallest = {k: max(room / 4, room - max(h for _, h in steps))
                       for k, steps in frames.items()}
            shapes = [s for s in shapes_for(px, area, GAP, tallest) if s.kind in frames]
            out.append(Block(bid, "figure", 0.0, top, bottom, shapes=tuple(shapes),
                             frames=frames))
            continue
        lines = height / line if line else 0
        # a paragraph splits by its lines; any block taller than a page splits somewhere
        splits = (element.tag in TEXT_KINDS and lines >= 1
                  and abs(lines - round(lines)) < 0.05) or height > area.height
        out.append(Block(bid, kind, height, top, bottom, line=line if splits else 0.0,
                         movable=kind == "text" and element.tag in TEXT_KINDS))
    return out


def _apply(article, blocks, plan: ArticlePlan, plan_blocks: list[Block], column: float) -> None:
    """Set ``plan`` into ``article``: the blocks in the planned order, a page break where a
    planned page starts with a block of its own, each photo at its planned size."""
    by_id = {b.get("id"): b for b in blocks}  # unique: see _blocks
    measured = {b.id: b for b in plan_blocks}
    for element in blocks:
        article.remove(element)
    seen = set()
    for number, page in enumerate(plan.pages):
        for k, placed in enumerate(page.blocks):
            element = by_id[placed.id]
            if placed.id not in seen:
                seen.add(placed.id)
                article.append(element)
            if k == 0 and number > 0 and page.forced and placed.first_line == 0:
                set_style(element, "break-before:page")
            extra = _room_above(page)[k]
            if extra and placed.first_line == 0:
                block = measured[placed.id]
                above = block.margin_top if k == 0 else max(
                    block.margin_top, measured[page.blocks[k - 1].id].margin_bottom)
                set_style(element, f"margin-top:{above + extra:.2f}mm")
            if placed.shape is not None:
                s = placed.scale
                size_figure(element, placed.shape.kind,
                            [(w * s, h * s) for w, h in placed.shape.sizes],
                            placed.shape.width_at(s), column=column)
    for element in blocks:  # anything the plan did not place stays, at the end
        if element.get("id") not in seen:
            article.append(element)


def _room_above(page: PagePlan) -> list[float]:
    """The room added above each block of a page that keeps free room: figures alone on a
    page spread from its top to its foot (one alone stands in the middle); what stands on a
    page that the next photo could not join is set in the middle (an opener's title sinks).
    Elsewhere the page fills from the top."""
    n = len(page.blocks)
    out = [0.0] * n
    if page.free <= 1:
        return out
    if all(p.shape is not None for p in page.blocks) and n > 1:
        out[1:] = [page.free / (n - 1)] * (n - 1)
    elif all(p.shape is not None for p in page.blocks) or page.before_photo:
        out[0] = page.free / 2
    return out


# -- the check ----------------------------------------------------------------------------------

def check(layout: Layout, boxes: dict[str, Box], pages: int) -> dict:
    """The report's ``layout``: pages, blank pages, holes, photos per page, the smallest scale,
    and every block that did not land on its planned page, from where the written book of
    ``pages`` pages put each id (``boxes``)."""
    disagree = []
    covered = {0}
    per_page: Counter = Counter()
    smallest = 1.0
    holes = moved = 0
    for aid, plan in layout.plans.items():
        start = boxes.get(aid)
        end = boxes.get(f"{aid}-end")
        if start is None:
            continue
        last = end.page if end else start.page
        if last - start.page + 1 != len(plan.pages):
            disagree.append(f"{aid}: planned {len(plan.pages)} page(s), set on "
                            f"{last - start.page + 1}")
        for number, page in enumerate(plan.pages):
            photos = 0
            for placed in page.blocks:
                moved += placed.moved
                if placed.shape is not None:
                    photos += len(placed.shape.sizes)
                    smallest = min(smallest, placed.scale)
                box = boxes.get(placed.id)
                if placed.first_line == 0 and box is not None \
                        and box.page != start.page + number:
                    disagree.append(f"{placed.id}: planned on page {start.page + number + 1}, "
                                    f"set on page {box.page + 1}")
            per_page[photos] += 1
            room = layout.area.height - SLACK
            below = page.free - sum(_room_above(page))
            holes += page.before_photo and below >= GAP_SHARE * room
    for name, box in boxes.items():
        if name.endswith("-end") and box is not None:
            begin = boxes.get(name[:-4])
            if begin is not None:
                covered.update(range(begin.page, box.page + 1))
    blank = sum(1 for p in range(pages) if p not in covered)
    return {"pages": pages, "blank_pages": blank, "gap_pages": holes,
            "photos_per_page": {str(k): v for k, v in sorted(per_page.items())},
            "smallest_scale": round(smallest, 3), "moved_paragraphs": moved,
            "disagreements": disagree[:50], "disagreement_count": len(disagree)}

