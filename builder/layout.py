"""The print pages, planned: measure the print document's blocks with WeasyPrint, plan each
article's pages (:mod:`builder.plan`), set the plan into the document, and check the laid-out
PDF against it.

The print document's articles are ``<article id>`` elements; their element children are the
blocks (the opener, figures, paragraphs, headings, the credits). Measurement lays out, at the
text width, every block between two hairline spacers (which give its margins) and every figure
with a probe image in place of each photo at its full and its floor width (which gives its
height apart from its photos); the results are kept by the content they measured, so a warm
build measures nothing. The plan is set into the document with a page break where a page must
start, each photo's size, and the order of blocks (a paragraph moved ahead of a photo).
"""

from __future__ import annotations

import copy
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

import lxml.html
from lxml import etree

from . import pdf
from .memo import Memo, code_version, digest
from .model import PRINT_BASE, Box, PrintRendition
from .pieces import cut_long_articles
from .plan import SLACK, Area, ArticlePlan, Block, PagePlan, plan_article, shapes_for
from .workers import fork_map

PROBE = PRINT_BASE + "layout/probe.png"
PROBE_HEIGHT = 10.0  # mm: each probe photo's height while measuring
GAP = 3.0  # mm between photos side by side
EDGE = 6.0  # mm: a photo that reaches into the side margins stays this far from the edge
MEASURE_PAGE = 400_000  # mm: the measuring page's height, some two thousand pages of text
TEXT_KINDS = {"p"}  # blocks that may split between pages and move ahead of a photo
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6", "header"}
GAP_SHARE = 0.35  # a page this empty before a photo is a hole (as the layout figures count)


@dataclass(frozen=True)
class Layout:
    rendition: PrintRendition  # the planned document
    area: Area
    plans: dict[str, ArticlePlan]  # by article id


# -- the document's blocks ----------------------------------------------------------------------

def _articles(root) -> list:
    return [a for a in root.iter("article") if a.get("id")]


def _blocks(article, taken: set) -> list:
    """The article's blocks, each with an id of its own: one is given to a block that has
    none, or whose id an earlier element of the document has (``taken``: the ids so far)."""
    out = []
    for n, child in enumerate(article, 1):
        if not isinstance(child.tag, str):
            continue
        if not child.get("id") or child.get("id") in taken:
            name, k = f"{article.get('id')}-b{n}", 1
            while name in taken:
                k += 1
                name = f"{article.get('id')}-b{n}-{k}"
            child.set("id", name)
        taken.add(child.get("id"))
        out.append(child)
    return out


def _kind(element) -> str:
    if element.tag == "figure" and element.find(".//img") is not None:
        return "figure"
    return "heading" if element.tag in HEADINGS else "text"


def _photos(figure) -> list:
    return list(figure.iter("img"))


def _pixels(img, rendition: PrintRendition) -> tuple[int, int]:
    src = img.get("src", "")
    asset = rendition.assets.get(src.rsplit("/", 1)[-1]) if src.startswith(PRINT_BASE) else None
    if asset is None or not asset.width or not asset.height:
        return (1200, 800)  # not one of the book's images (it will not load): a 3:2 frame
    return (asset.width, asset.height)


# -- measuring ----------------------------------------------------------------------------------

def _probe_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (4, 4), 128).save(out, "PNG")
    return out.getvalue()


def _strip_ids(element) -> None:
    for sub in element.iter():
        if isinstance(sub.tag, str) and "id" in sub.attrib:
            del sub.attrib["id"]


def _spacer(name: str) -> str:
    return (f'<div id="{name}" style="height:0;margin:0;padding:0;'
            f'border-top:0.01mm solid transparent"></div>')


def _probe_figure(figure, kind: str, width: float, name: str) -> str:
    """The figure with a probe image of ``PROBE_HEIGHT`` for each photo, ``width`` wide."""
    clone = copy.deepcopy(figure)
    _strip_ids(clone)
    clone.set("id", name)
    _size_figure(clone, kind, [(width / max(1, len(_photos(clone))) if kind == "row" else width,
                                PROBE_HEIGHT)] * len(_photos(clone)), width, probe=True)
    return lxml.html.tostring(clone, encoding="unicode")


def _size_figure(figure, kind: str, sizes, width: float, probe: bool = False,
                 column: float = 0.0) -> None:
    """Set the figure ``width`` wide, its photos at ``sizes`` (mm), side by side for a row;
    centred on the ``column``, into its margins when wider."""
    imgs = _photos(figure)
    side = f"{-(width - column) / 2:.2f}mm" if column and width > column + 0.01 else "auto"
    _style(figure, f"width:{width:.2f}mm;margin-left:{side};margin-right:{side}")
    for img, (w, h) in zip(imgs, sizes, strict=True):
        if probe:
            img.set("src", PROBE)
            img.set("alt", "")
        _style(img, f"width:{w:.2f}mm;height:{h:.2f}mm;max-width:none;max-height:none")
    if kind == "row" and imgs:
        row = etree.Element("div", {"class": "photos"})
        parent = imgs[0].getparent()
        parent.insert(parent.index(imgs[0]), row)
        for img in imgs:
            tail = img.tail
            img.tail = None
            img.getparent().remove(img)
            row.append(img)
            if tail and tail.strip():
                row.tail = (row.tail or "") + tail


def _style(element, css: str) -> None:
    old = element.get("style", "").strip().rstrip(";")
    element.set("style", f"{old};{css}" if old else css)


def _in_flow(blocks) -> list[tuple[object, str]]:
    """Each block and the id of the block whose margins it has: its own, or for a figure the
    first figure of the article with the same tag, class and number of photos (their margins
    are the stylesheet's, and a figure's height comes from its frames)."""
    first: dict = {}
    out = []
    for block in blocks:
        if _kind(block) == "figure":
            sign = (block.tag, block.get("class", ""), block.get("style", ""),
                    len(_photos(block)))
            out.append((block, first.setdefault(sign, block.get("id"))))
        else:
            out.append((block, block.get("id")))
    return out


def _measure_html(article, blocks, width: float, widths: dict[str, dict[str, list]]) -> str:
    """What measures one article: its blocks in order between spacers (a figure without its
    caption and once per kind: only its margins matter there), a one-line paragraph, and each
    figure at the widths ``widths[figure id][shape kind]``."""
    aid = article.get("id")
    shell = etree.Element("article", {k: v for k, v in sorted(article.attrib.items())
                                      if k != "id"})
    shell.text = "\ue000"
    opening, closing = lxml.html.tostring(shell, encoding="unicode").split("\ue000")
    parts = [f'<div style="width:{width:.3f}mm">{opening}', _spacer(f"g0-{aid}")]
    for block, like in _in_flow(blocks):
        if like != block.get("id"):
            continue
        clone = copy.deepcopy(block)
        if _kind(block) == "figure":
            for caption in clone.iter("figcaption"):
                caption.getparent().remove(caption)
            parts.append(_probe_figure(clone, "stack", width, f"m-{like}"))
        else:
            _strip_ids(clone)
            clone.set("id", f"m-{like}")
            parts.append(lxml.html.tostring(clone, encoding="unicode"))
        parts.append(_spacer(f"g-{like}"))
    parts.append(f'<p id="m-{aid}-line">国</p>')
    for block in blocks:
        for kind, sizes in widths.get(block.get("id"), {}).items():
            for k, w in enumerate(sizes):
                parts.append(_probe_figure(block, kind, w, f"f-{block.get('id')}-{kind}-{k}"))
    parts.append(f"{closing}</div>")
    return "".join(parts)


def _widths(block, area: Area, rendition: PrintRendition) -> dict[str, list]:
    """The widths a figure's frame is measured at, by shape: its full width and its floor's,
    from an estimate of its caption (the plan uses the measured frame at the widest measured
    width not wider than the one it sets, so an estimate errs on the safe side)."""
    px = [_pixels(img, rendition) for img in _photos(block)]
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


def _read(aid: str, blocks, boxes: dict[str, Box], widths: dict, page_top: float) -> dict:
    """One article's measurements from the boxes of its measuring document (whose pages'
    content starts ``page_top`` mm down)."""
    out: dict = {"blocks": {}, "frames": {}}
    line = boxes.get(f"m-{aid}-line")
    out["line"] = round(line.y1 - line.y0, 4) if line else 0.0
    spacer = f"g0-{aid}"
    for block, like in _in_flow(blocks):
        bid = block.get("id")
        if like == bid:
            box, before, after = (boxes.get(f"m-{bid}"), boxes.get(spacer),
                                  boxes.get(f"g-{bid}"))
            spacer = f"g-{bid}"
            if box is None or before is None or after is None:
                continue
            broke = box.page != before.page
            top = box.y0 - page_top if broke else box.y0 - before.y1
            bottom = after.y0 - box.y1 if after.page == box.page else 0.0
            out["blocks"][bid] = [round(box.y1 - box.y0, 4), round(top, 4), round(bottom, 4),
                                  broke]
        elif like in out["blocks"]:
            out["blocks"][bid] = out["blocks"][like]
        photos = len(_photos(block))
        for kind, sizes in widths.get(bid, {}).items():
            steps = []
            for k, w in enumerate(sizes):
                f = boxes.get(f"f-{bid}-{kind}-{k}")
                if f is not None:
                    probes = PROBE_HEIGHT * (photos if kind == "stack" else 1)
                    steps.append([w, round(f.y1 - f.y0 - probes, 4)])
            if steps:
                out["frames"][f"{bid}/{kind}"] = sorted(steps)
    return out


def _area(rendition: PrintRendition, head: str, page: tuple[float, float],
          cache: Memo) -> Area:
    """The content box of a page of the theme (from a fixed box on a one-page document)."""
    html = (f"<!DOCTYPE html><html>{head}<body><div id=\"plan-area\" style=\"position:fixed;"
            "top:0;bottom:0;left:0;right:0\"></div><p>x</p></body></html>")
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


def _sound(found: dict) -> bool:
    """Whether a kept measurement has the shape :func:`_read` gives one: each block's
    ``[height, top, bottom, broke]`` and each frame's ``[[width, height], …]``."""
    def number(x) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    return all(isinstance(v, list) and len(v) == 4 and all(map(number, v[:3]))
               and isinstance(v[3], bool) for v in found["blocks"].values()) and \
        all(isinstance(v, list) and all(isinstance(p, list) and len(p) == 2
                                        and all(map(number, p)) for p in v)
            for v in found["frames"].values())


def _measure(rendition: PrintRendition, doc: str) -> dict[str, Box]:
    return pdf.measure(rendition, doc, {PROBE: (_probe_png(), "image/png")})


# -- planning -----------------------------------------------------------------------------------

def plan_print(rendition: PrintRendition, page: tuple[float, float], cache: Memo,
               count: Callable[[str, bool], None] = lambda kind, kept: None,
               workers: int = 1) -> Layout:
    """The print document with its pages planned: ``page`` is the trimmed page's size in mm;
    measurements are kept in ``cache``; ``count("measured articles", kept)`` is told of each
    article's; the articles not kept are measured ``workers`` at a time."""
    root = lxml.html.document_fromstring(rendition.html)
    head = _head(root)
    area = _area(rendition, head, page, cache)
    found = cut_long_articles(_articles(root))
    children = {child for article in found for child in article}
    taken = {e.get("id") for e in root.iter()
             if isinstance(e.tag, str) and e.get("id") and e not in children}
    articles = [(a, _blocks(a, taken)) for a in found]
    measured: dict[str, dict] = {}
    wanted: dict[str, tuple[str, str]] = {}
    widths = {b.get("id"): _widths(b, area, rendition)
              for _, blocks in articles for b in blocks if _kind(b) == "figure"}
    for article, blocks in articles:
        html = _measure_html(article, blocks, area.width, widths)
        key = _key(head + html, rendition)
        found = cache.get_record(key, {"blocks": dict, "frames": dict, "line": float})
        found = found if found is not None and _sound(found) else None
        count("measured articles", found is not None)
        if found is None:
            wanted[article.get("id")] = (key, html)
        else:
            measured[article.get("id")] = found
    docs = [(f"<!DOCTYPE html><html>{head}<style>@page {{ size: {area.width + 400:.0f}mm "
             f"{MEASURE_PAGE:.0f}mm; }}</style><body>{html}</body></html>")
            for _, html in wanted.values()]  # one document each: memory bounded by an article
    found_boxes = dict(zip(wanted, fork_map(_measure, docs, workers, rendition), strict=True))
    for article, blocks in articles:
        aid = article.get("id")
        if aid in found_boxes:
            measured[aid] = _read(aid, blocks, found_boxes[aid], widths, area.top)
            cache.put_record(wanted[aid][0], measured[aid])
    plans: dict[str, ArticlePlan] = {}
    for article, blocks in articles:
        aid = article.get("id")
        plan_blocks = _plan_blocks(blocks, measured[aid], area, rendition)
        plans[aid] = plan_article(plan_blocks, area)
        _apply(article, blocks, plans[aid], plan_blocks, area.width)
    for n, part in enumerate(root.find("body") if root.find("body") is not None else [], 1):
        if isinstance(part.tag, str) and part.tag in ("article", "nav"):
            if not part.get("id"):
                part.set("id", f"plan-part-{n}")
            part.append(etree.Element("div", {"id": f"{part.get('id')}-end",
                                              "class": "plan-end"}))
    html = lxml.html.tostring(root, doctype="<!DOCTYPE html>", encoding="unicode")
    return Layout(replace(rendition, html=html), area, plans)


def _plan_blocks(blocks, measured: dict, area: Area, rendition: PrintRendition) -> list[Block]:
    line = measured.get("line", 0.0)
    out = []
    for element in blocks:
        bid = element.get("id")
        height, top, bottom, broke = measured["blocks"].get(bid, [0.0, 0.0, 0.0, False])
        kind = _kind(element)
        if broke and out and kind != "figure":
            kind = "break"  # the theme starts it on a page of its own
        frames = {k: tuple(map(tuple, measured["frames"][f"{bid}/{k}"]))
                  for k in ("stack", "row") if f"{bid}/{k}" in measured["frames"]}
        if kind == "figure" and "stack" not in frames:
            kind = "text"  # laid out as nothing (hidden by a theme, say): a block like any
        if kind == "figure":
            px = [_pixels(img, rendition) for img in _photos(element)]
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
                _style(element, "break-before:page")
            extra = _room_above(page)[k]
            if extra and placed.first_line == 0:
                block = measured[placed.id]
                above = block.margin_top if k == 0 else max(
                    block.margin_top, measured[page.blocks[k - 1].id].margin_bottom)
                _style(element, f"margin-top:{above + extra:.2f}mm")
            if placed.shape is not None:
                s = placed.scale
                _size_figure(element, placed.shape.kind,
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

