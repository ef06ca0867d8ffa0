"""The print blocks measured with WeasyPrint, and kept block by block.

What is measured, at the text width, for each article (:func:`measure_articles`):

* every block in the flow between two hairline spacers, which give its margins: its height,
  the room above and below it, and whether the theme starts it on a page of its own (a
  figure without its caption, once for all the figures of the article that have the same
  margins: :func:`~builder.blocks.in_flow`);
* every figure with a probe image in place of each photo, at its full and its floor width
  for each of its shapes: its height apart from its photos;
* the height of one line of text.

A block whose lines Pango can count (:mod:`builder.lines`: a paragraph of text and halted
marks, a figure with such a caption) is laid out as a *probe* instead, with a one-line text in
place of its own, once for all the blocks of the article alike (at that width, for a figure):
it is that probe and a line's height for each further line of its own text. One that cannot
be counted there after all is laid out in a second document, as the others are.

Each of these is kept by the hash of what it is made of (the block without its ids, the
article's element, the stylesheets, fonts and text width, the builder's version), not by its
place: a rebuild after a paragraph was added, removed or changed measures that paragraph and
no other. An article none of whose blocks changed is found in one entry; an article that
changed finds the measurements of its earlier version (and those of the book's other
articles) and measures the rest, in one document of its own.

Where a block stands in a measuring document does not change what is measured of it: each one
follows a spacer of its own, and a document is as wide as the text and taller than any article.
"""

from __future__ import annotations

import copy
import functools
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from . import pdf
from .blocks import block_kind, in_flow, photos_of, size_figure, strip_ids
from .lines import PROBE_MARK, PROBE_TEXT, runs
from .memo import Memo, code_version, digest
from .model import PRINT_BASE, Box, PrintRendition
from .workers import fork_map

PROBE = PRINT_BASE + "layout/probe.png"
PROBE_HEIGHT = 10.0  # mm: each probe photo's height while measuring
MEASURE_PAGE = 400_000  # mm: the measuring page's height, some two thousand pages of text
#: The id a unit's fragment has until it is given its name in a measuring document.
UNNAMED = "builder-unnamed"


@dataclass
class _Article:
    """One article's units: ``flow`` (block id, key, fragment, probe fragment, text runs) for
    the blocks measured in the flow, ``frames`` (block id, key, [(shape kind, width, fragment,
    probe fragment)], photos, caption runs) for the figures, and the key of its line. The
    probe fragments and the runs (:func:`builder.lines.runs`) are None when the lines are not
    counted. ``values``: what is known of each key so far."""

    aid: str
    opening: str
    closing: str
    flow: list[tuple[str, str, str, str | None, tuple | None]]
    frames: list[tuple[str, str, list[tuple[str, float, str, str | None]], int, tuple | None]]
    line: str
    key: str = ""
    values: dict[str, dict] = field(default_factory=lambda: {"flow": {}, "frames": {},
                                                             "line": {}})

    def missing(self) -> tuple[list, list, bool]:
        """The units not measured yet: flow, frames, and whether the line is."""
        flow = [u for u in self.flow if u[1] not in self.values["flow"]]
        frames = [u for u in self.frames if u[1] not in self.values["frames"]]
        return (_unique(flow), _unique(frames), self.line not in self.values["line"])


def _unique(units: list) -> list:
    seen: set = set()
    return [u for u in units if not (u[1] in seen or seen.add(u[1]))]


def measure_articles(rendition: PrintRendition, head: str, width: float, page_top: float,
                     articles: list, widths: Mapping[str, dict[str, list]], cache: Memo,
                     count: Callable[[str, bool], None], workers: int,
                     whole: str = "", warm: Callable[[], None] | None = None
                     ) -> dict[str, dict]:
    """Each article's measurements, by its id: ``{"blocks": {block id: [height, room above,
    room below, starts a page]}, "frames": {"block id/shape kind": [[width, height], …]},
    "line": height}``, in mm. ``articles``: (article element, its blocks); ``widths``: the
    widths each figure is measured at by shape kind; ``page_top``: where a page's content
    starts. What is not kept in ``cache`` is measured, an article's document at a time,
    ``workers`` at a time (``warm`` done before they are forked: :func:`~builder.workers.
    fork_map`'s); ``count`` is told of each article ("measured articles") and each block
    ("measured blocks"), kept or not.

    An article whose markup (its blocks' ids and all) was measured before is found whole,
    by that markup and ``whole`` (what else its figures' ``widths`` depend on: they are not
    asked for); only the others are taken apart into their blocks."""
    base = digest(code_version(), "measure", head, f"{width:.3f}", rendition.serif_font,
                  rendition.sans_font,
                  *(f"{k}\0{v}" for k, v in sorted(rendition.stylesheets.items())))
    keys = [digest(base, "whole", whole, lxml.html.tostring(article, encoding="unicode"))
            for article, _ in articles]
    found_whole = {n: found for n, key in enumerate(keys) if (found := _whole(cache, key))}
    units = {n: _units(base, article, blocks, width, widths)
             for n, (article, blocks) in enumerate(articles) if n not in found_whole}
    known: dict[str, dict] = {"flow": {}, "frames": {}, "line": {}}
    todo: list[_Article] = []
    for unit in units.values():
        found = _kept(cache, unit.key)
        if found is None:
            todo.append(unit)
        else:
            unit.values = found
            for kind in known:
                known[kind].update(found[kind])
    for unit in todo:  # what the article's earlier version, or another article, had
        earlier = cache.get_record(_latest(base, unit.aid), {"article": str})
        found = _kept(cache, earlier["article"]) if earlier else None
        for kind in known:
            unit.values[kind] = {k: v for source in (known, found or {})
                                 for k, v in source.get(kind, {}).items()}
    measured = {unit.aid for unit in todo}
    for n in range(len(articles)):
        if n in found_whole:
            count("measured articles", True)
            for _ in range(found_whole[n]["count"]):
                count("measured blocks", True)
            continue
        unit = units[n]
        count("measured articles", unit.aid not in measured)
        known_of: dict[str, bool] = {}
        for kind, group in (("flow", unit.flow), ("frames", unit.frames)):
            for bid, key, *_ in group:
                known_of[bid] = known_of.get(bid, True) and key in unit.values[kind]
        for kept in known_of.values():
            count("measured blocks", kept)
    page = (f"<!DOCTYPE html><html>{head}<style>@page {{ size: {width + 400:.0f}mm "
            f"{MEASURE_PAGE:.0f}mm; }}</style><body>")
    # One document an article (memory bounded by an article); then one for each article with
    # blocks or frames whose texts could not be counted, laid out instead.
    pending, counted = todo, True
    while pending:
        docs = [_document(unit, width, counted) for unit in pending]
        laid = fork_map(_measure, [(f"{page}{html}</body></html>", probes)
                                   for html, probes, _ in docs], workers, rendition, warm)
        for unit, (_, _, refs), result in zip(pending, docs, laid, strict=True):
            _read(unit, result, refs, page_top)
        pending = [unit for unit in pending if any(unit.missing()[:2])] if counted else []
        counted = False
    for unit in todo:
        kept = {kind: {k: unit.values[kind][k] for k in keys} for kind, keys in (
            ("flow", {u[1] for u in unit.flow}), ("frames", {u[1] for u in unit.frames}),
            ("line", {unit.line}))}
        cache.put_record(unit.key, kept)
        cache.put_record(_latest(base, unit.aid), {"article": unit.key})
    out = {}
    for n, (article, blocks) in enumerate(articles):
        if n in found_whole:
            out[article.get("id")] = found_whole[n]["measured"]
            continue
        unit = units[n]
        out[unit.aid] = _by_block(unit, blocks)
        cache.put_record(keys[n], {"measured": out[unit.aid], "count": len(
            {bid for group in (unit.flow, unit.frames) for bid, *_ in group})})
    return out


def _whole(cache: Memo, key: str) -> dict | None:
    """An article's measurements by block kept whole (:func:`_by_block`'s), with the count
    of its blocks measured; None when absent or not of that shape."""
    found = cache.get_record(key, {"measured": dict, "count": int})
    if found is None:
        return None
    measured = found["measured"]
    ok = isinstance(measured.get("blocks"), dict) and isinstance(measured.get("frames"), dict) \
        and isinstance(measured.get("line"), int | float) and _sound(
            {"flow": measured["blocks"], "line": {"": measured["line"]},
             "frames": _frames_by_block(measured["frames"])})
    return found if ok else None


def _frames_by_block(frames: dict) -> dict:
    """``{"block/kind": steps}`` as :func:`_sound` reads frames: ``{block: {kind: steps}}``."""
    out: dict = {}
    for name, steps in frames.items():
        bid, _, kind = name.rpartition("/")
        out.setdefault(bid, {})[kind] = steps
    return out


def _latest(base: str, aid: str) -> str:
    return digest(base, "latest", aid)


def _kept(cache: Memo, key: str) -> dict | None:
    found = cache.get_record(key, {"flow": dict, "frames": dict, "line": dict})
    return found if found is not None and _sound(found) else None


def _sound(found: dict) -> bool:
    """Whether a kept entry has the shape :func:`_read` gives: each flow unit's ``[height,
    top, bottom, broke]`` (or None: it had no box), each figure's ``{kind: [[width,
    height], …]}``, each line's height."""
    def number(x) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    return all(v is None or (isinstance(v, list) and len(v) == 4 and all(map(number, v[:3]))
                             and isinstance(v[3], bool)) for v in found["flow"].values()) and \
        all(isinstance(v, dict) and all(
            isinstance(s, list) and all(isinstance(p, list) and len(p) == 2
                                        and all(map(number, p)) for p in s)
            for s in v.values()) for v in found["frames"].values()) and \
        all(map(number, found["line"].values()))


def _units(base: str, article, blocks, width: float, widths: dict) -> _Article:
    shell = etree.Element("article", {k: v for k, v in sorted(article.attrib.items())
                                      if k != "id"})
    shell.text = "\ue000"
    opening, closing = lxml.html.tostring(shell, encoding="unicode").split("\ue000")
    where = digest(base, opening)
    flow, frames = [], []
    for block, like in in_flow(blocks):
        bid = block.get("id")
        if like == bid:
            clone = copy.deepcopy(block)
            if block_kind(block) == "figure":
                for caption in clone.iter("figcaption"):
                    caption.getparent().remove(caption)
                html = _probe_figure(clone, "stack", width)
                probe, text = None, None
            else:
                strip_ids(clone)
                clone.set("id", UNNAMED)
                html = lxml.html.tostring(clone, encoding="unicode")
                probe, text = _probe_text(clone)
            flow.append((bid, digest(where, "flow", html), html, probe, text))
        sizes = [(kind, w) for kind, steps in widths.get(bid, {}).items() for w in steps]
        if sizes:
            probe, caption = _probe_caption(block)
            shapes = [(kind, w, _probe_figure(block, kind, w),
                       _probe_figure(probe, kind, w) if caption else None) for kind, w in sizes]
            frames.append((bid, digest(where, "frames", *(f"{k}\0{w!r}\0{h}"
                                                          for k, w, h, _ in shapes)),
                           shapes, len(photos_of(block)), caption))
    line = digest(where, "line")
    return _Article(article.get("id"), opening, closing, flow, frames, line,
                    digest(where, "article", *(u[1] for u in flow), *(u[1] for u in frames)))


def _probe_caption(figure) -> tuple[object, tuple | None]:
    """The figure with a one-line caption in place of its own, and its own caption's runs
    (:func:`builder.lines.runs`); ``(None, None)`` when it has not one caption that Pango
    counts."""
    captions = list(figure.iter("figcaption"))
    found = runs(captions[0]) if len(captions) == 1 and \
        captions[0].getparent() is figure else None
    if found is None:
        return None, None
    clone = copy.deepcopy(figure)
    _probe_line(next(clone.iter("figcaption")))
    return clone, found


def _probe_text(block) -> tuple[str | None, tuple | None]:
    """The block's fragment with a one-line text in place of its own, and its own text's runs
    (:func:`builder.lines.runs`); ``(None, None)`` when Pango does not count its lines."""
    found = runs(block)
    if found is None:
        return None, None
    clone = copy.deepcopy(block)
    _probe_line(clone)
    return lxml.html.tostring(clone, encoding="unicode"), found


def _probe_line(element) -> None:
    for child in list(element):
        element.remove(child)
    element.text = PROBE_TEXT
    etree.SubElement(element, "span", {"class": "halt"}).text = PROBE_MARK


def _probe_figure(figure, kind: str, width: float) -> str:
    """The figure with a probe image of ``PROBE_HEIGHT`` for each photo, ``width`` wide."""
    clone = copy.deepcopy(figure)
    strip_ids(clone)
    clone.set("id", UNNAMED)
    imgs = photos_of(clone)
    for img in imgs:
        img.set("src", PROBE)
        img.set("alt", "")
    size_figure(clone, kind, [(width / max(1, len(imgs)) if kind == "row" else width,
                               PROBE_HEIGHT)] * len(imgs), width)
    return lxml.html.tostring(clone, encoding="unicode")


def _named(html: str, name: str) -> str:
    """A unit's fragment with its name (the fragment's own id is the first in it: its
    descendants have none, and an attribute's value cannot hold a quotation mark)."""
    return html.replace(f' id="{UNNAMED}"', f' id="{name}"', 1)


def _spacer(name: str) -> str:
    return (f'<div id="{name}" style="height:0;margin:0;padding:0;'
            f'border-top:0.01mm solid transparent"></div>')


def _document(unit: _Article, width: float, counted: bool) -> tuple[str, dict, dict]:
    """What measures the article's units not measured yet: its flow units in order, each
    after a spacer of its own and before the next; a one-line paragraph; each figure at its
    widths. Where ``counted`` and a block's lines are counted (a flow unit's text, a figure's
    caption) the block is laid out as its probe instead, once for all the blocks whose probes
    are alike (a flow unit's between spacers of its own). With the texts to count at each
    probe (by its name), and where each unit's lines are among them: ``{("flow", unit):
    (probe, index) or its place among the flow units laid out, (frame, shape): (probe,
    index)}``."""
    flow, frames, line = unit.missing()
    parts = [f'<div style="width:{width:.3f}mm">{unit.opening}', _spacer("g-0")]
    named: dict[str, str] = {}  # probe fragment → its name
    probes: dict[str, list] = {}
    refs: dict = {}

    def probe_for(fragment: str, text: tuple, spaced: bool) -> tuple[str, int]:
        name = named.get(fragment)
        if name is None:
            name = named[fragment] = f"p-{len(named)}"
            later.extend([_spacer(f"{name}-a"), _named(fragment, name), _spacer(f"{name}-b")]
                         if spaced else [_named(fragment, name)])
        probes.setdefault(name, []).append(text)
        return name, len(probes[name]) - 1

    later: list[str] = []
    chain = 0  # the flow units laid out: each between the spacers g-chain and g-(chain + 1)
    for n, (_, _, html, probe, text) in enumerate(flow):
        if counted and text is not None:
            refs["flow", n] = probe_for(probe, text, True)
        else:
            refs["flow", n] = chain
            parts += [_named(html, f"m-{n}"), _spacer(f"g-{chain + 1}")]
            chain += 1
    parts += later
    later = []
    if line:
        parts.append('<p id="line">国</p>')
    for n, (_, _, shapes, _, caption) in enumerate(frames):
        for k, (_, _, html, probe) in enumerate(shapes):
            if counted and caption is not None:
                refs[n, k] = probe_for(probe, caption, False)
            else:
                parts.append(_named(html, f"f-{n}-{k}"))
    parts += later
    parts.append(f"{unit.closing}</div>")
    return "".join(parts), probes, refs


def _read(unit: _Article, result: tuple[dict[str, Box], dict], refs: dict,
          page_top: float) -> None:
    """The values of the units :func:`_document` measured, from its boxes and the lines
    counted at its probes (``result``), into ``unit.values``; a block or frame whose text
    could not be counted stays unknown (to be laid out)."""
    boxes, counted = result
    flow, frames, line = unit.missing()
    for n, (_, key, *_) in enumerate(flow):
        where, more = refs["flow", n], 0.0
        if isinstance(where, int):
            box, before, after = (boxes.get(f"m-{n}"), boxes.get(f"g-{where}"),
                                  boxes.get(f"g-{where + 1}"))
        else:
            name, index = where
            box, before, after = (boxes.get(name), boxes.get(f"{name}-a"),
                                  boxes.get(f"{name}-b"))
            height, lines = _counted(counted, name, index)
            if box is None or before is None or after is None or lines is None:
                continue  # laid out instead
            more = (lines - 1) * height
        if box is None or before is None or after is None:
            unit.values["flow"][key] = None
            continue
        broke = box.page != before.page
        top = box.y0 - page_top if broke else box.y0 - before.y1
        bottom = after.y0 - box.y1 if after.page == box.page else 0.0
        unit.values["flow"][key] = [round(box.y1 - box.y0 + more, 4), round(top, 4),
                                    round(bottom, 4), broke]
    if line:
        box = boxes.get("line")
        unit.values["line"][unit.line] = round(box.y1 - box.y0, 4) if box else 0.0
    for n, (_, key, shapes, photos, _) in enumerate(frames):
        steps: dict[str, list] = {}
        for k, (kind, w, _, _) in enumerate(shapes):
            probes = PROBE_HEIGHT * (photos if kind == "stack" else 1)
            if (n, k) not in refs:
                f = boxes.get(f"f-{n}-{k}")
                if f is not None:
                    steps.setdefault(kind, []).append([w, round(f.y1 - f.y0 - probes, 4)])
                continue
            name, index = refs[n, k]
            f, (height, lines) = boxes.get(name), _counted(counted, name, index)
            if f is None or lines is None:
                break  # laid out instead
            steps.setdefault(kind, []).append(
                [w, round(f.y1 - f.y0 - probes + (lines - 1) * height, 4)])
        else:
            unit.values["frames"][key] = {kind: sorted(s) for kind, s in steps.items()}


def _counted(counted: dict, name: str, index: int) -> tuple[float, int | None]:
    """The line height at probe ``name`` and the lines of its ``index``-th text (None: not
    counted)."""
    height, lines = counted.get(name, (0.0, []))
    return height, lines[index] if index < len(lines) else None


def _by_block(unit: _Article, blocks) -> dict:
    """The article's measurements by block id, as the planner takes them."""
    flow = {bid: unit.values["flow"].get(key) for bid, key, *_ in unit.flow}
    out: dict = {"blocks": {}, "frames": {}, "line": unit.values["line"].get(unit.line, 0.0)}
    for block, like in in_flow(blocks):
        if flow.get(like) is not None:
            out["blocks"][block.get("id")] = flow[like]
    for bid, key, *_ in unit.frames:
        for kind, steps in unit.values["frames"].get(key, {}).items():
            out["frames"][f"{bid}/{kind}"] = steps
    return out


@functools.cache
def _probe_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (4, 4), 128).save(out, "PNG")
    return out.getvalue()


def _measure(rendition: PrintRendition, doc: tuple[str, dict]) -> tuple[dict[str, Box], dict]:
    """The boxes of a measuring document and the lines counted at its probes."""
    html, probes = doc
    return pdf.measure_lines(rendition, html, {PROBE: (_probe_png(), "image/png")}, probes)
