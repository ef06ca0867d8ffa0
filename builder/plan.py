"""The page planner: which block of an article goes on which page, and the size of each photo.

It works on measured facts only — the page's content box, every text block's height and
margins as WeasyPrint laid it out, every figure's height apart from its photos at a few widths,
each photo's pixel size — and on a photo editor's rules, as costs:

- a figure never splits, its caption stays under its photos; a heading never ends a page;
- a photo may be set smaller to share a page, down to ``FLOOR`` of its full size and never
  under ``MIN_AREA`` of the page; its full size is as large as the text width, the page and
  its pixels at ``MAX_DPI`` allow; alone on a page it may grow into the side margins
  (``Area.breakout``), still within ``MAX_DPI``;
- two or three photos of a group stand side by side when that keeps them above the floor;
- up to ``MAX_MOVED`` paragraphs may move ahead of a photo that does not fit, as print floats
  do, never past a heading or another photo;
- holes before a photo cost the most; then shrinking photos, moving text and pages.

:func:`plan_article` finds the cheapest sequence of pages by dynamic programming over the
article's blocks (a state: the next block, the lines of it already set, a photo waiting for
the next page). The plan is then applied to the print document and checked against the pages
WeasyPrint renders (:mod:`builder.layout`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MM_PER_INCH = 25.4
#: A photo is never set larger than its pixels allow at this resolution.
MAX_DPI = 150
#: The smallest share of its full size a photo may be set at to share a page.
FLOOR = 0.75
#: No photo is set smaller than this share of the page's area (unless its pixels are fewer).
MIN_AREA = 0.10
#: At most this many paragraphs move ahead of a photo.
MAX_MOVED = 3
#: The room kept free on every page against rounding, in millimetres.
SLACK = 1.0
#: A page is looked for among at most this many blocks.
LOOK_AHEAD = 200
#: A photo alone on a page grows to at most this many times its full size.
MAX_GROWTH = 2.0

# Costs. A hole before a photo is what a photo editor sends back; a short last page is not.
HOLE = 1000.0
END_HOLE = 60.0
SHRINK = 60.0
MOVED = 4.0
PAGE = 6.0
#: A reward for the photos' area, as a share of the page: of two ways that cost the same, the
#: one with the larger photos.
AREA = 10.0


@dataclass(frozen=True)
class Area:
    """The page as the planner sees it, in millimetres: the content box and the whole page."""

    width: float
    height: float
    page_width: float
    page_height: float
    breakout: float = 0.0  # how far a photo alone on a page may reach into each side margin
    top: float = 0.0  # where the content box starts on the page

    @property
    def page_area(self) -> float:
        return self.page_width * self.page_height


@dataclass(frozen=True)
class Shape:
    """One way to set a figure: its photos stacked or side by side, at full size (scale 1)."""

    kind: str  # "stack" or "row"
    sizes: tuple[tuple[float, float], ...]  # each photo's (width, height) in mm at scale 1
    min_scale: float
    gap: float = 0.0  # between photos side by side, in mm (it does not scale)
    max_scale: float = 1.0  # on a page of photos alone: into the margins, within MAX_DPI

    @property
    def width(self) -> float:
        return self.width_at(1.0)

    def width_at(self, scale: float) -> float:
        """The figure's width with its photos at ``scale`` (the gap between them does not
        scale)."""
        if self.kind == "stack":
            return max(w for w, _ in self.sizes) * scale
        return sum(w for w, _ in self.sizes) * scale + self.gap * (len(self.sizes) - 1)

    @property
    def photos_height(self) -> float:
        heights = [h for _, h in self.sizes]
        return sum(heights) if self.kind == "stack" else max(heights)


@dataclass(frozen=True)
class Block:
    """One block of an article's print flow, as measured.

    ``kind``: ``text`` (a paragraph, list, quote …), ``heading`` (keeps with what follows),
    ``figure`` or ``break`` (a block the theme starts on a page of its own).
    For a figure, ``height`` is the figure's height without its photos, by shape and caption
    width: ``frames[(kind, width)]``, widths ascending."""

    id: str
    kind: str
    height: float = 0.0
    margin_top: float = 0.0
    margin_bottom: float = 0.0
    line: float = 0.0  # the line height when the block may split between pages; 0: it may not
    movable: bool = False  # a paragraph that may move ahead of a photo
    shapes: tuple[Shape, ...] = ()
    frames: dict[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        return round(self.height / self.line) if self.line else 0

    def frame(self, shape: Shape, width: float) -> float:
        """The figure's height without its photos when set ``width`` wide: measured at the
        widest measured width not wider (a narrower caption never has fewer lines)."""
        steps = self.frames[shape.kind]
        best = steps[0][1]
        for w, h in steps:
            if w <= width + 0.01:
                best = h
        return best

    def figure_height(self, shape: Shape, scale: float) -> float:
        return self.frame(shape, shape.width_at(scale)) + shape.photos_height * scale


@dataclass(frozen=True)
class Placed:
    """A block (or part of one) on a page. ``lines``: the lines of a split block set here
    (0: all of what is left of it); ``scale`` and ``shape`` for a figure."""

    id: str
    first_line: int = 0
    lines: int = 0
    shape: Shape | None = None
    scale: float = 1.0
    moved: bool = False  # set ahead of a photo that stood before it


@dataclass(frozen=True)
class PagePlan:
    blocks: tuple[Placed, ...]
    forced: bool  # the page starts with a break the plan asks for (not text running on)
    free: float  # the height left empty, in mm
    before_photo: bool  # the next page opens with a photo


@dataclass(frozen=True)
class ArticlePlan:
    pages: tuple[PagePlan, ...]
    cost: float


# -- photo sizes --------------------------------------------------------------------------------

def full_size(px: tuple[int, int], max_width: float, max_height: float) -> tuple[float, float]:
    """The largest (width, height) in mm a photo of ``px`` pixels is set at within the box,
    never above ``MAX_DPI``."""
    w_px, h_px = max(1, px[0]), max(1, px[1])
    width = min(max_width, w_px / MAX_DPI * MM_PER_INCH, max_height * w_px / h_px)
    return width, width * h_px / w_px


def shapes_for(pixels: list[tuple[int, int]], area: Area, gap: float,
               max_height: dict[str, float]) -> tuple[Shape, ...]:
    """The ways to set a figure of photos ``pixels``: stacked, each at its full size within
    ``max_height["stack"]`` shared; and side by side at one height when there are two or
    three and each stays at least ``MIN_AREA`` of the page."""
    n = len(pixels)
    stack_h = (max_height["stack"] - gap * (n - 1)) / n
    stack = tuple(full_size(px, area.width, stack_h) for px in pixels)
    out = [Shape("stack", stack, _min_scale(stack, area),
                 max_scale=_max_scale(stack, pixels, max(w for w, _ in stack), area))]
    if 2 <= n <= 3:
        aspects = [max(1, w) / max(1, h) for w, h in pixels]
        height = (area.width - gap * (n - 1)) / sum(aspects)
        height = min(height, max_height.get("row", max_height["stack"]),
                     *(h / MAX_DPI * MM_PER_INCH for _, h in pixels))
        row = tuple((height * a, height) for a in aspects)
        if all(w * h >= MIN_AREA * area.page_area for w, h in row):
            out.append(Shape("row", row, _min_scale(row, area), gap,
                             _max_scale(row, pixels, sum(w for w, _ in row) + gap * (n - 1),
                                        area)))
    return tuple(out)


def _max_scale(sizes, pixels, width: float, area: Area) -> float:
    """How much larger than its full size a figure ``width`` wide may be set on a page of
    photos alone: as wide as the text and ``area.breakout`` on each side, within MAX_DPI."""
    wide = (area.width + 2 * area.breakout) / max(width, 1e-6)
    sharp = min(px[0] / MAX_DPI * MM_PER_INCH / max(w, 1e-6)
                for (w, _), px in zip(sizes, pixels, strict=True))
    return max(1.0, min(wide, sharp, MAX_GROWTH))


def _min_scale(sizes, area: Area) -> float:
    """``FLOOR``, or more where a photo would fall under ``MIN_AREA`` of the page."""
    least = min(w * h for w, h in sizes)
    # a little above the floor, so that rounding never sets a photo under it
    by_area = (MIN_AREA * 1.03 * area.page_area / least) ** 0.5 if least else 1.0
    return min(1.0, max(FLOOR, by_area))


# -- the plan -----------------------------------------------------------------------------------

@dataclass
class _Page:
    """A page being filled."""

    used: float = 0.0  # text and spacing set so far
    last_margin: float = -1.0  # the bottom margin of the last block; -1: the page is empty
    figures: list = field(default_factory=list)  # [(block, shape)]
    placed: list = field(default_factory=list)

    def spacing(self, block: Block, forced_top: bool) -> float:
        if self.last_margin < 0:
            return block.margin_top if forced_top else 0.0
        return max(self.last_margin, block.margin_top)

    def photos_min(self) -> float:
        return sum(b.figure_height(s, s.min_scale) for b, s in self.figures)

    def photos_max(self) -> float:
        return sum(b.figure_height(s, 1.0) for b, s in self.figures)


def plan_article(blocks: list[Block], area: Area) -> ArticlePlan:
    """The cheapest pages for ``blocks`` (one article, in reading order) on ``area``."""
    n = len(blocks)
    room = area.height - SLACK
    page_area = area.page_area
    headings = frozenset(b.id for b in blocks if b.kind == "heading")

    def order(i: int, off: int, waiting: int) -> tuple[list, int]:
        """The blocks still to set, in the order they will stand — the rest of a split block,
        then a photo waiting for this page, then the blocks after — as far as two pages could
        hold (and no more than ``LOOK_AHEAD`` blocks), and the block after the last of them
        (``n``: the article's end)."""
        out = [(i, off)] if off else []
        reach = blocks[i].height - off * blocks[i].line if off else 0.0
        if off:
            i += 1
        if waiting >= 0:
            out.append((waiting, 0))
            reach += _least(blocks[waiting])
        for j in range(i, n):
            if reach > 2 * room + 1 or len(out) >= LOOK_AHEAD:
                return out, j
            if j != waiting:
                out.append((j, 0))
                reach += _least(blocks[j])
        return out, n

    def state_after(seq: list, after: int, k: int, off: int, deferred: int, waiting: int):
        """The state whose blocks are those of ``seq`` from position ``k`` on (``off`` lines
        of it set) and then ``after`` on, with the photo ``deferred`` on this page waiting for
        the next, or the photo that was waiting still waiting if this page did not reach it."""
        if waiting >= 0 and any(j == waiting for j, _ in seq[k:]):
            j = seq[k][0]
            if j == waiting:  # it opens the next page, the blocks after it follow
                return (seq[k + 1][0] if k + 1 < len(seq) else after, 0, waiting)
            return (j, off, waiting)
        if k >= len(seq):
            return (after, 0, deferred)
        return (seq[k][0], off, deferred)

    def choices(state) -> list:
        """Every page that may open at ``state``: (cost, plan, next state)."""
        i, off, waiting = state
        seq, after = order(i, off, waiting)
        out = []
        for page, end, nxt in _fill(blocks, seq, after >= n, off, room, headings):
            plan, cost = _close(page, end, nxt, seq, blocks, room, off == 0, page_area)
            out.append((cost, plan, state_after(seq, after, *nxt, waiting)))
        out = [c for c in out if c[2] != state]
        if not out:  # nothing fits: set the next block alone (the check will tell)
            j, o = seq[0]
            out.append((HOLE, PagePlan((Placed(blocks[j].id, o),), off == 0, 0.0, False),
                        state_after(seq, after, 1, 0, -1, waiting)))
        return out

    # The cheapest pages from each state on, without recursion (an article may have thousands
    # of pages): a state is settled once every state its pages lead to is.
    done = {(n, 0, -1): (0.0, None, None)}  # state: (cost, first page, next state)
    pending: dict = {}
    stack = [(0, 0, -1)]
    while stack:
        state = stack[-1]
        if state in done:
            stack.pop()
            continue
        if state not in pending:
            pending[state] = choices(state)
        missing = [nxt for _, _, nxt in pending[state] if nxt not in done]
        if missing:
            stack.extend(missing)
            continue
        cost, plan, nxt = min(pending.pop(state), key=lambda c: c[0] + done[c[2]][0])
        done[state] = (cost + done[nxt][0], plan, nxt)
        stack.pop()
    pages = []
    state = (0, 0, -1)
    cost = done[state][0]
    while done[state][1] is not None:
        _, plan, state = done[state]
        pages.append(plan)
    return ArticlePlan(tuple(pages), cost)


def _least(block: Block) -> float:
    """The least height a block takes on a page."""
    if block.kind == "figure":
        return min((block.figure_height(s, s.min_scale) for s in block.shapes), default=0.0)
    return block.height


def _fill(blocks, seq, complete, off, room, headings):
    """Every way to fill one page with the blocks of ``seq`` (``complete``: to the article's
    end): yields (page, end, next) where
    ``end`` is "forced" (the plan breaks before the next block), "flow" (text runs on to the
    next page) or "end" (the article ends), and ``next`` is (position in seq, lines set of
    it, the photo now waiting or -1)."""

    def walk(k: int, page: _Page, first_off: int, deferred: int, moving: int):
        if k >= len(seq):  # the article's end (a heading that ends it has nothing to keep with)
            if complete and deferred < 0:
                yield page, "end", (k, 0, -1)
            elif not complete and page.placed:
                yield page, "forced", (k, 0, deferred)  # more than a page of tall blocks
            return
        j, start = seq[k]
        start = first_off if k == 0 else start
        block = blocks[j]
        top = k == 0 and first_off == 0
        if k > 0 and block.kind == "break":
            if not _ends_with_heading(page, headings):
                yield page, "forced", (k, 0, deferred)
            return
        if deferred >= 0 and (block.kind != "text" or not block.movable or moving >= MAX_MOVED):
            # text moved ahead of a photo stops at a heading, a photo, or the limit
            if page.placed and not _ends_with_heading(page, headings):
                yield page, "forced", (k, 0, deferred)
            return
        if block.kind == "figure":
            yield from figure(k, j, block, page, deferred, moving, top)
            return
        space = page.spacing(block, top) if start == 0 else 0.0
        lines_left = block.lines - start
        height = block.height - start * block.line if start else block.height
        free_min = room - page.used - page.photos_min()
        if space + height <= free_min + 1e-6:
            nxt = _copy(page)
            nxt.used += space + height
            nxt.last_margin = block.margin_bottom
            nxt.placed.append(Placed(block.id, start, 0, moved=deferred >= 0))
            yield from walk(k + 1, nxt, 0, deferred, moving + (deferred >= 0))
            if block.kind == "heading" and k > 0 and not _ends_with_heading(page, headings):
                yield page, "forced", (k, 0, deferred)  # a section may open a page
            return
        # it does not fit whole: split it (text runs on), or leave it for the next page
        free_max = room - page.used - page.photos_max()
        if block.line and lines_left >= 4:
            fit = int((free_max - space + 1e-6) // block.line)
            fit = min(fit, lines_left - 2)
            if fit >= 2:
                nxt = _copy(page)
                nxt.used += space + fit * block.line
                nxt.placed.append(Placed(block.id, start, fit, moved=deferred >= 0))
                yield nxt, "flow", (k, start + fit, deferred)
                return
        if page.placed and not _ends_with_heading(page, headings):
            yield page, "flow" if block.kind == "text" else "forced", (k, start, deferred)

    def figure(k, j, block, page, deferred, moving, top):
        space = page.spacing(block, top)
        fits = False
        for shape in block.shapes:
            need = space + block.figure_height(shape, shape.min_scale)
            if page.used + page.photos_min() + need <= room + 1e-6:
                fits = True
                nxt = _copy(page)
                nxt.used += space
                nxt.last_margin = block.margin_bottom
                nxt.figures.append((block, shape))
                nxt.placed.append(Placed(block.id, shape=shape))
                yield from walk(k + 1, nxt, 0, deferred, moving)
        if not page.placed:
            if not fits:  # too tall even alone: set it alone at its floor
                nxt = _copy(page)
                shape = block.shapes[0]
                nxt.used += space
                nxt.figures.append((block, shape))
                nxt.placed.append(Placed(block.id, shape=shape))
                yield nxt, "forced", (k + 1, 0, -1)
            return
        if _ends_with_heading(page, headings):
            return
        yield page, "forced", (k, 0, deferred)  # the photo opens the next page
        nxt_pos = k + 1
        if deferred < 0 and nxt_pos < len(seq) and not fits:
            after = blocks[seq[nxt_pos][0]]
            if after.kind == "text" and after.movable:
                yield from walk(nxt_pos, page, 0, j, 0)

    yield from walk(0, _Page(), off, -1, 0)


def _ends_with_heading(page: _Page, headings: frozenset) -> bool:
    return bool(page.placed) and page.placed[-1].id in headings


def _copy(page: _Page) -> _Page:
    return _Page(page.used, page.last_margin, list(page.figures), list(page.placed))


def _largest(heights, lo: float, hi: float, free: float) -> float:
    """The largest scale in [lo, hi] at which ``heights`` fits ``free`` (lo if none does)."""
    if heights(hi) <= free:
        return hi
    for _ in range(30):
        mid = (lo + hi) / 2
        if heights(mid) <= free:
            lo = mid
        else:
            hi = mid
    return lo


def _close(page: _Page, end: str, nxt, seq, blocks, room, forced: bool, area: float):
    """The page's plan (its photos scaled to fill it) and its cost."""
    free = room - page.used
    scale = 1.0
    if page.figures:
        def heights(g: float) -> float:
            return sum(b.figure_height(s, min(max(g, s.min_scale), s.max_scale))
                       for b, s in page.figures)

        if heights(1.0) > free:
            scale = _largest(heights, min(s.min_scale for _, s in page.figures), 1.0, free)
        elif end != "flow" and len(page.placed) == len(page.figures):
            # photos alone on a page grow to fill it, into the margins, within their pixels
            top = max(s.max_scale for _, s in page.figures)
            if top > 1.0:
                scale = _largest(heights, 1.0, top, free)
        free -= heights(scale)
    placed = tuple(
        Placed(p.id, p.first_line, p.lines, p.shape,
               min(max(scale, p.shape.min_scale), p.shape.max_scale), p.moved)
        if p.shape is not None else p for p in page.placed)
    k = nxt[0]
    opens_photo = end == "forced" and k < len(seq) and (
        blocks[seq[k][0]].kind == "figure" or nxt[2] >= 0)
    share = max(0.0, free) / room
    cost = PAGE
    cost += (HOLE if opens_photo else END_HOLE) * share ** 2
    cost += sum(SHRINK * max(0.0, 1 - p.scale) ** 2 for p in placed if p.shape is not None)
    cost += MOVED * sum(p.moved for p in placed)
    cost -= AREA * sum(w * h * p.scale ** 2 for p in placed if p.shape is not None
                       for w, h in p.shape.sizes) / area
    return PagePlan(placed, forced, round(max(0.0, free), 2), opens_photo), cost
