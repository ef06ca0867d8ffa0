"""The lines a paragraph or a caption takes at a width, counted by Pango itself instead of laid
out by WeasyPrint: WeasyPrint's own layout of each one (its boxes, styles and line breaking)
was most of the measuring, some 2 ms a figure's frame at each of its widths and a paragraph.

A text is counted only when it breaks as one run would in WeasyPrint (WeasyPrint 70 breaks a
line of one text run with Pango's first line at the width, the first line's less its indent):
it holds text and ``span.halt`` marks only (given half width by the font's ``halt`` feature, a
Pango attribute here), its whitespace is plain, its style neither hyphenates, transforms nor
keeps spaces, and no line Pango makes overflows the width (a long word that ``overflow-wrap``
would cut). Anything else is ``None``, and the caller lays the block out with WeasyPrint
instead. The counts agree with WeasyPrint's on the bench's corpora (every paragraph and
caption of three of them, A5 and A4).

The styles and the width come from a *probe*: the block laid out with a one-line text of its
own (:data:`PROBE_TEXT` and a halted mark) in the measuring document: a paragraph, or a figure
whose caption that is. The block then is the probe's height and one line height per further
line. The probe's line must be that text and that mark alone, the mark's box adding nothing
around it and its font's size, family and line height those of the text around it: a theme
that puts content before a text, styles its first letter or sets its marks otherwise has its
blocks laid out.
"""

from __future__ import annotations

import re

from weasyprint.formatting_structure import boxes
from weasyprint.text.ffi import FROM_UNITS, ffi, pango
from weasyprint.text.fonts import font_features
from weasyprint.text.line_break import create_layout

#: What a probe says, and its halted mark: one line in any font the theme chooses.
PROBE_TEXT, PROBE_MARK = "国", "）"
#: What a halted mark may not change of the text around it.
_SAME = ("font_family", "font_size", "font_style", "font_weight", "font_stretch",
         "line_height", "vertical_align", "letter_spacing", "word_spacing")
_PLAIN = re.compile(r"^\S(?:.*\S)?$", re.S)


def runs(element) -> tuple[str, tuple[tuple[int, int], ...]] | None:
    """A paragraph's or caption's text and the UTF-8 byte ranges of its halted marks, or None
    when it holds anything but text and ``span.halt`` marks, or whitespace other than single
    spaces between words."""
    text = element.text or ""
    halts = []
    for child in element:
        if child.tag != "span" or dict(child.attrib) != {"class": "halt"} or len(child) \
                or not child.text:
            return None
        start = len(text.encode())
        text += child.text
        halts.append((start, len(text.encode())))
        text += child.tail or ""
    if not _PLAIN.match(text) or re.search(r"[\t\n\r\f\u00ad]| {2}", text):
        return None
    return text, tuple(halts)


def count(document, probes: dict[str, list[tuple[str, tuple[tuple[int, int], ...]]]],
          px_per_mm: float) -> dict[str, tuple[float, list[int | None]]]:
    """For each probe (by id) of the laid-out ``document``, its text's line height (mm) and
    the lines each of its texts (:func:`runs`) would take in its place (a figure's: in its
    caption's); a text that cannot be counted is None, a probe that cannot be read is
    absent."""
    found = _texts(document, set(probes))
    out = {}
    for name, texts in probes.items():
        block = found.get(name)
        if block is None:
            continue
        styles = _probe_styles(block)
        if styles is None:
            out[name] = (0.0, [None] * len(texts))
            continue
        style, features = styles
        line = block.children[0]
        indent = getattr(line, "text_indent", 0) or 0
        out[name] = (line.height / px_per_mm,
                     [_lines(text, halts, style, features, block.width, indent)
                      for text, halts in texts])
    return out


def _texts(document, names: set[str]) -> dict:
    """The box of each block named in ``names`` that holds its text: a figure's caption's,
    another block's own."""
    out: dict = {}

    def walk(box, figure: str | None) -> None:
        element = getattr(box, "element", None)
        if figure is None and isinstance(box, boxes.BlockBox) and element is not None \
                and element.get("id") in names and box.element_tag != "figure" \
                and element.get("id") not in out:
            out[element.get("id")] = box
            return
        if figure is None and isinstance(box, boxes.BlockBox) and element is not None \
                and box.element_tag == "figure" and element.get("id") in names:
            figure = element.get("id")
        if figure is not None and figure not in out and isinstance(box, boxes.BlockBox) \
                and box.element_tag == "figcaption":
            out[figure] = box
            return
        for child in getattr(box, "children", ()) or ():
            walk(child, figure)

    for page in document.pages:
        walk(page._page_box, None)  # noqa: SLF001 - WeasyPrint is pinned to 70.x
    return out


def _probe_styles(block) -> tuple[object, bytes] | None:
    """The style of a probe's text (``block``: the box that holds it) and the font features
    of its halted mark, when its one line is the probe's text and mark alone and they break
    as one run would."""
    if len(block.children) != 1 or not isinstance(block.children[0], boxes.LineBox):
        return None
    line = block.children[0].children
    if len(line) != 2 or not isinstance(line[0], boxes.TextBox) or line[0].text != PROBE_TEXT \
            or not isinstance(line[1], boxes.InlineBox) or len(line[1].children) != 1:
        return None
    text, (mark,) = line[0].style, line[1].children
    span = line[1]
    if not isinstance(mark, boxes.TextBox) or mark.text != PROBE_MARK or any(
            getattr(span, f"{edge}_{side}") for edge in ("margin", "padding")
            for side in ("left", "right")) or span.border_left_width \
            or span.border_right_width or any(text[k] != mark.style[k] for k in _SAME):
        return None
    if text["white_space"] != "normal" or text["hyphens"] == "auto" \
            or text["text_transform"] != "none" or text["word_break"] != "normal":
        return None
    return text, _features(mark.style)


def _features(style) -> bytes:
    found = font_features(
        style["font_kerning"], style["font_variant_ligatures"], style["font_variant_position"],
        style["font_variant_caps"], style["font_variant_numeric"],
        style["font_variant_alternates"], style["font_variant_east_asian"],
        style["font_feature_settings"])
    return ",".join(f"{key} {value}" for key, value in found.items()).encode()


def _lines(text: str, halts: tuple[tuple[int, int], ...], style, features: bytes,
           width: float, indent: float) -> int | None:
    """The lines of ``text`` at ``width`` (px), its first ``indent`` narrower."""
    first = _layout(text, halts, style, features, width - indent)
    if not indent:
        return _count(first, width)
    if _count(first, width - indent, 1) is None:
        return None
    second = pango.pango_layout_get_line_readonly(first.layout, 1)
    if second == ffi.NULL:
        return 1
    cut = second.start_index
    rest = _count(_layout(text.encode()[cut:].decode(), tuple(
        (max(0, a - cut), b - cut) for a, b in halts if b > cut), style, features, width), width)
    return None if rest is None else 1 + rest


def _layout(text: str, halts: tuple[tuple[int, int], ...], style, features: bytes,
            width: float):
    layout = create_layout(text, style, None, width, 0)
    if halts and features:
        attrs = pango.pango_layout_get_attributes(layout.layout)
        if attrs == ffi.NULL:
            attrs = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
        for start, end in halts:
            attr = pango.pango_attr_font_features_new(features)
            attr.start_index, attr.end_index = start, end
            pango.pango_attr_list_change(attrs, attr)
        pango.pango_layout_set_attributes(layout.layout, attrs)
    return layout


def _count(layout, width: float, most: int | None = None) -> int | None:
    """The lines of ``layout`` (its first ``most``); None when one is wider than ``width``."""
    extents = ffi.new("PangoRectangle *")
    n = 0
    while (most is None or n < most) and \
            (line := pango.pango_layout_get_line_readonly(layout.layout, n)) != ffi.NULL:
        pango.pango_layout_line_get_extents(line, ffi.NULL, extents)
        if extents.width * FROM_UNITS > width + 0.01:
            return None  # a word wider than the line: WeasyPrint would cut it otherwise
        n += 1
    return n or None
