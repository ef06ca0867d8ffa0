"""Write the print PDF with WeasyPrint, and measure print blocks with it. Its URL fetcher
serves the rendition's assets and the theme's stylesheets and nothing else: no file:// read, no
network fetch, no data: URL from outside."""

from __future__ import annotations

import ctypes
import functools
from dataclasses import dataclass, replace
from pathlib import Path

from .documents import document
from .libraries import by_soname
from .model import PRINT_BASE, Box, Frame, PrintRendition

with by_soname():
    import weasyprint.layout
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    from .lines import count as count_lines

#: The margin boxes of a page (CSS Paged Media), by their at-rules.
MARGIN_BOXES = tuple(f"@{side}-{place}" for side, places in (
    ("top", ("left-corner", "left", "center", "right", "right-corner")),
    ("bottom", ("left-corner", "left", "center", "right", "right-corner")),
    ("left", ("top", "middle", "bottom")), ("right", ("top", "middle", "bottom")))
    for place in places)


def _margin_boxes(original):
    """WeasyPrint 70 makes the sixteen margin boxes of every page, each with its style, and
    then lays out those that have content: some 1.2 ms a page, a sixth of a part's layout,
    where none has any (the builder draws its running heads and folios at the join,
    builder.furniture). A page none of whose margin boxes has content gets none, as WeasyPrint
    gives it none (it generates a box whose content is ``normal``, ``none`` or ``inhibit``,
    its initial value with no rule, not at all), without making them."""
    def make_margin_boxes(context, page, state):
        for at in MARGIN_BOXES:
            style = context.style_for(page.page_type, at)
            if style is not None and style["content"] not in ("normal", "inhibit", "none"):
                return original(context, page, state)
        return ()

    make_margin_boxes.original = original
    return make_margin_boxes


if not hasattr(weasyprint.layout.make_margin_boxes, "original"):  # (a module loaded again)
    weasyprint.layout.make_margin_boxes = _margin_boxes(weasyprint.layout.make_margin_boxes)

ASSETS = PRINT_BASE + "assets/"
THEME = PRINT_BASE + "theme/"
PX_PER_MM = 96 / 25.4
#: The variants WeasyPrint writes itself.
WEASYPRINT_VARIANTS = ("pdf/a-3b",)
#: The theme's stylesheet for a PDF/X-1a: what must be opaque.
PRESS_CSS = "press.css"


class StoreFetcher(URLFetcher):
    """Serves ``PRINT_BASE/assets/<name>`` from the rendition's assets and
    ``PRINT_BASE/theme/<name>`` from its stylesheets; refuses every other URL and remembers
    it."""

    def __init__(self, rendition: PrintRendition,
                 extra: dict[str, tuple[bytes, str]] | None = None):
        super().__init__(allowed_protocols=set())
        self.assets = rendition.assets
        self.stylesheets = rendition.stylesheets
        self.extra = extra or {}
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if url in self.extra:
            data, media_type = self.extra[url]
            return URLFetcherResponse(url, data, {"Content-Type": media_type})
        if url.startswith(ASSETS):
            asset = self.assets.get(url[len(ASSETS):])
            if asset is not None:
                return URLFetcherResponse(url, asset.path.read_bytes(),
                                          {"Content-Type": asset.media_type})
        elif url.startswith(THEME):
            css = self.stylesheets.get(url[len(THEME):])
            if css is not None:
                return URLFetcherResponse(url, css, {"Content-Type": "text/css"})
        self.refused.append(url[:200])
        raise ValueError(f"refused: {url[:200]}")


@dataclass(frozen=True)
class Written:
    """What writing the PDF found: the URLs refused, where each element with an id stands,
    and each page's frame."""

    refused: list[str]
    boxes: dict[str, Box]
    pages: int
    frames: tuple[Frame, ...] = ()


def write_pdf(rendition: PrintRendition, path: Path, css: str = "") -> Written:
    """Render ``rendition`` (with the extra stylesheet ``css``) to ``path``; return the URLs
    the fetcher refused and the boxes of the elements with an id."""
    fetcher = StoreFetcher(rendition)
    fonts = process_fonts()
    press = rendition.stylesheets.get(PRESS_CSS, "") if rendition.variant == "pdf/x-1a" else ""
    extra = [CSS(string=text, font_config=fonts) for text in (press, css) if text]
    document = _render(rendition, fetcher, extra)
    # PDF/X is made after the join (builder.press): WeasyPrint would only label the file.
    variant = rendition.variant if rendition.variant in WEASYPRINT_VARIANTS else None
    # No document ID: a part is joined into a book, which is given its own (builder.pdfsave),
    # and WeasyPrint makes one by writing every object again, photos and all, to hash them.
    document.write_pdf(str(path), pdf_identifier=False, attachments=[],
                       uncompressed_pdf=False, pdf_variant=variant)
    written = Written(fetcher.refused, _boxes(document), len(document.pages),
                      tuple(_frame(page) for page in document.pages))
    del document
    release_memory()
    return written


def page_count(rendition: PrintRendition, css: str = "") -> int:
    """The pages ``rendition`` (with the extra stylesheet ``css``) lays out to; nothing is
    written."""
    extra = [CSS(string=css, font_config=process_fonts())] if css else []
    document = _render(rendition, StoreFetcher(rendition), extra)
    count = len(document.pages)
    del document
    release_memory()
    return count


def measure(rendition: PrintRendition, html: str,
            extra: dict[str, tuple[bytes, str]]) -> dict[str, Box]:
    """Lay ``html`` out with the rendition's stylesheets and fonts (and ``extra`` files by
    URL) and return the box of each element with an id; nothing is written."""
    return measure_lines(rendition, html, extra, {})[0]


def measure_lines(rendition: PrintRendition, html: str, extra: dict[str, tuple[bytes, str]],
                  probes: dict[str, list]) -> tuple[dict[str, Box], dict]:
    """:func:`measure`'s boxes, and for each probe of ``probes`` (by id: a paragraph, or a
    figure with its caption) the line height of its text and the lines each of its texts
    would take there (:func:`builder.lines.count`)."""
    document = _render(replace(rendition, html=html), StoreFetcher(rendition, extra), [])
    boxes = _boxes(document)
    counted = count_lines(document, probes, PX_PER_MM) if probes else {}
    del document
    release_memory()
    return boxes, counted


def _render(rendition: PrintRendition, fetcher: StoreFetcher, extra: list[CSS]):
    """``rendition``'s document laid out: the theme's stylesheets it links first, then the
    fonts the settings name, then ``extra`` (:mod:`builder.documents`)."""
    fonts = process_fonts()
    html, linked = document(rendition.html, PRINT_BASE, fetcher, rendition.stylesheets,
                            THEME, fonts)
    return html.render(stylesheets=linked + _fonts(rendition) + extra, font_config=fonts)


@functools.cache
def _libc():
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_memory() -> None:
    """Give the memory of the document just laid out back to the system: C's allocator keeps
    freed memory for the process (some 80 MB after each part) unless it is told to trim, and
    the next document's peak would stand on top of it. Only where the C library can
    (glibc's ``malloc_trim``); elsewhere nothing."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def process_fonts() -> FontConfiguration:
    """One font configuration per process: fonts found once are reused by every document the
    process lays out (a forked worker inherits the one its parent had made, if any)."""
    return FontConfiguration()


def _boxes(document) -> dict[str, Box]:
    """Each id's first box: its page (from 0) and its border box in mm."""
    out: dict[str, Box] = {}
    for number, page in enumerate(document.pages):
        for name, (x0, y0, x1, y1) in page.anchors.items():
            if name not in out:
                out[name] = Box(number, x0 / PX_PER_MM, y0 / PX_PER_MM, x1 / PX_PER_MM,
                                y1 / PX_PER_MM)
    return out


def _frame(page) -> Frame:
    """The page's frame, from WeasyPrint's page box (``Page`` does not say whether it is
    blank, what its page is named, or its margins: its box does, in WeasyPrint 70)."""
    box = page._page_box  # noqa: SLF001 - see above; WeasyPrint is pinned to 70.x
    kind = box.page_type
    return Frame(bool(kind.blank), str(kind.name or ""),
                 tuple(round(getattr(box, f"margin_{side}") / PX_PER_MM, 4)
                       for side in ("top", "right", "bottom", "left")),
                 (round(page.width / PX_PER_MM, 4), round(page.height / PX_PER_MM, 4)))


def _fonts(rendition: PrintRendition) -> list[CSS]:
    """The families the settings name, ahead of the theme's (a user stylesheet wins over the
    theme's only when ``!important``); none when the settings leave the theme's choice."""
    rules = [f'--{var}: "{_css_str(family)}", "{fallback}", {generic} !important;'
             for var, family, fallback, generic in (
                 ("serif", rendition.serif_font, "Noto Serif CJK SC", "serif"),
                 ("sans", rendition.sans_font, "Noto Sans CJK SC", "sans-serif")) if family]
    return [CSS(string=":root { " + " ".join(rules) + " }")] if rules else []


def _css_str(value: str) -> str:
    return "".join(c for c in value if c.isalnum() or c in " -_")
