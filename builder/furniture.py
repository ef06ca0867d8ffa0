"""The page furniture — each page's running head and folio — drawn on the book's pages after
they are laid out, not by WeasyPrint's margin boxes in each part. A part's pages then do not
depend on their page numbers, only on the side the part starts on: a rebuild after an article
grew by a page lays out that article again, not every one after it; and a part is laid out
without its margin boxes (some 2 ms a page).

The *runs* — each article's title, which is its running head, and each digit a folio is set
in — are laid out by WeasyPrint once, each on a page of its own of the *sheet* (a document
kept like a part), in the theme's styles for ``.running-head`` and ``.folio``. A sheet page
becomes a form that a book page draws where the theme's margins put it: the head centred in
the top margin, above the text; the folio's digits side by side in the bottom margin, at the
text's outer edge (left on a left-hand page, right on a right-hand one); each centred in its
margin's height, as a margin box is. A blank page and a page named ``cover`` or ``opener``
carry none. The join draws them on the book's pages (:func:`draw`), and the booklet's
imposition on its copy of them, before the fonts are subset: the sheet's glyphs go into the
book's one subset of each face. (The preflight beside the join reads the pages before the
runs are drawn on them; a PDF/X is preflighted from the book.)

A theme that draws furniture of its own — a margin box with content in its stylesheets — is
laid out as it says, each part with its page numbers (:func:`drawn_by_theme`).
"""

from __future__ import annotations

import html as html_text
import re
from dataclasses import dataclass

from .model import PT_PER_MM, Box, Frame

#: Pages that carry no furniture (besides the blank ones), by their CSS page name.
BARE_PAGES = ("cover", "opener")
#: The CSS page name of the sheet's pages.
SHEET_PAGE = "builder-furniture"
#: The sheet's stylesheet beside the theme's (both are user stylesheets there): each run as
#: wide as its text. ``:where()`` weighs nothing, so that the theme's own rule for either
#: class wins (``display: none``: the run is drawn on no page).
SHEET_CSS = ":where(.running-head, .folio) { display: inline-block; }"
_MARGIN_BOX = re.compile(
    r"@(?:top|bottom)-(?:left-corner|right-corner|left|center|right)\b\s*\{[^}]*|"
    r"@(?:left|right)-(?:top|middle|bottom)\b\s*\{[^}]*")
_CONTENT = re.compile(r"(?<![-\w])content\s*:\s*([^;}]*)")


def drawn_by_theme(stylesheets: dict[str, str]) -> bool:
    """Whether the theme's stylesheets give a margin box content (other than ``none`` or
    ``normal``): the theme then draws the furniture itself."""
    for css in stylesheets.values():
        css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
        for rule in _MARGIN_BOX.finditer(css):
            for value in _CONTENT.findall(rule.group(0)):
                if value.strip().removesuffix("!important").strip() not in ("none", "normal"):
                    return True
    return False


@dataclass(frozen=True)
class Runs:
    """What the sheet holds: the running heads (their texts and languages, in order) and the
    digits; run ``n`` is on the sheet's page ``n``."""

    titles: tuple[tuple[str, str], ...]  # (title, language)

    @property
    def count(self) -> int:
        return len(self.titles) + 10

    def head(self, title: str) -> int:
        return next(n for n, (t, _) in enumerate(self.titles) if t == title)

    @staticmethod
    def head_id(n: int) -> str:
        return f"builder-head-{n}"

    def digit(self, d: int) -> int:
        return len(self.titles) + d

    @staticmethod
    def digit_id(d: int) -> str:
        return f"builder-digit-{d}"


def sheet(prefix: str, runs: Runs, width: float | None) -> str:
    """The sheet's document (laid out with :data:`SHEET_CSS`): ``prefix`` (the book's
    ``<!DOCTYPE html><html …><head>…</head>``), then each run on a page of its own (no
    margins, no marks), a head at most ``width`` mm wide (None: the page's width)."""
    most = "100%" if width is None else f"{width:.3f}mm"
    pages = [f'<div class="running-head" id="{runs.head_id(n)}" lang="{_attr(lang)}" '
             f'style="max-width: {most}">{html_text.escape(title, quote=False)}</div>'
             for n, (title, lang) in enumerate(runs.titles)]
    pages += [f'<span class="folio" id="{runs.digit_id(d)}">{d}</span>' for d in range(10)]
    body = "".join(f'<div style="page: {SHEET_PAGE}; break-before: page; margin: 0">{p}</div>'
                   for p in pages)
    return (f"{prefix}<style>@page {SHEET_PAGE} {{ margin: 0; marks: none; }} body {{ margin: 0; }}"
            f"</style><body>{body}</body></html>")


def _attr(value: str) -> str:
    return html_text.escape(value, quote=True)


@dataclass(frozen=True)
class Page:
    """A page of the book as the furniture sees it: its frame, its number, and the running
    head it carries ("" for none)."""

    frame: Frame
    number: int
    title: str


def placements(pages: list[Page], runs: Runs, boxes: dict[str, Box]
               ) -> list[tuple[int, list[tuple[int, float, float]]]]:
    """For each page that carries furniture: its index and what it draws, as (sheet page,
    shift right, shift up in pt). ``boxes``: where each run stands on its sheet page."""
    out = []
    for index, page in enumerate(pages):
        frame = page.frame
        if frame.blank or frame.name in BARE_PAGES:
            continue
        top, right, bottom, left = frame.margins
        width, height = frame.size
        drawn = []
        if page.title:
            n = runs.head(page.title)
            box = boxes.get(runs.head_id(n))
            if box is not None:
                w, h = box.x1 - box.x0, box.y1 - box.y0
                x = left + (width - left - right - w) / 2
                drawn.append((n, *_shift(box, x, (top - h) / 2)))
        digits = [int(c) for c in str(page.number)]
        found = [boxes.get(runs.digit_id(d)) for d in digits]
        if all(found):
            total = sum(b.x1 - b.x0 for b in found)
            x = left if page.number % 2 == 0 else width - right - total
            for d, box in zip(digits, found, strict=True):
                h = box.y1 - box.y0
                drawn.append((runs.digit(d), *_shift(box, x, height - bottom + (bottom - h) / 2)))
                x += box.x1 - box.x0
        if drawn:
            out.append((index, drawn))
    return out


def _shift(box: Box, x: float, y: float) -> tuple[float, float]:
    """The shift (right, up, in pt) that moves ``box``'s top-left corner to (x, y) mm from
    the page's top-left."""
    return round((x - box.x0) * PT_PER_MM, 3), round(-(y - box.y0) * PT_PER_MM, 3)


def draw(pdf, sheet: bytes, drawn: list[tuple[int, list[tuple[int, float, float]]]]) -> None:
    """Draw on the pages of ``pdf`` (pikepdf) what :func:`placements` gives them, from the
    sheet's PDF (``sheet``, its bytes): each run a form of its sheet page, moved into place.
    A page's own content is kept in ``q``/``Q``, so the runs are drawn in the page's own
    coordinates, and nothing of the page is clipped (its bleed, its crop marks)."""
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(sheet)) as source:
        forms: dict[int, pikepdf.Object] = {}
        opening = pdf.make_stream(b"q\n")  # one stream, shared by every page
        for index, what in drawn:
            page = pdf.pages[index].obj
            for n, _, _ in what:
                if n not in forms:
                    forms[n] = pdf.copy_foreign(source.pages[n].as_form_xobject())
            resources = page.get("/Resources")
            if resources is None:
                resources = page.Resources = pikepdf.Dictionary()
            xobjects = resources.get("/XObject")
            if xobjects is None:
                xobjects = resources.XObject = pikepdf.Dictionary()
            for n in sorted({n for n, _, _ in what}):  # (a part's pages share their resources)
                if f"/BuilderRun{n}" not in xobjects:
                    xobjects[f"/BuilderRun{n}"] = forms[n]
            contents = page.get("/Contents")
            own = list(contents) if isinstance(contents, pikepdf.Array) else \
                [contents] if contents is not None else []
            page.Contents = pikepdf.Array([opening, *own, pdf.make_stream(("Q\n" + " ".join(
                f"q 1 0 0 1 {dx:.3f} {dy:.3f} cm /BuilderRun{n} Do Q"
                for n, dx, dy in what) + "\n").encode("ascii"))])
