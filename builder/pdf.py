"""Write the print PDF with WeasyPrint. Its URL fetcher serves the asset store and the theme's
stylesheet and nothing else: no file:// read, no network fetch, no data: URL from outside."""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from pathlib import Path

from dataclasses import dataclass

from weasyprint import CSS, HTML
from weasyprint.formatting_structure.boxes import ReplacedBox
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .model import Book
from .render import PRINT_BASE
from .theme import Theme

log = logging.getLogger(__name__)


class StoreFetcher(URLFetcher):
    """Serves ``PRINT_BASE/assets/<name>`` from the book's assets and ``PRINT_BASE/theme/<name>``
    from the theme's stylesheets; refuses every other URL and remembers it."""

    def __init__(self, book: Book, theme: Theme):
        super().__init__(allowed_protocols=set())
        self.assets = {f"{a.sha256[:16]}{a.extension}": a for a in book.assets.values()}
        self.theme = theme
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if url.startswith(PRINT_BASE + "assets/"):
            asset = self.assets.get(url[len(PRINT_BASE) + 7:])
            if asset is not None:
                return URLFetcherResponse(url, asset.path.read_bytes(),
                                          {"Content-Type": asset.media_type})
        elif url.startswith(PRINT_BASE + "theme/"):
            name = url[len(PRINT_BASE) + 6:]
            if name.replace("-", "").replace("_", "").replace(".", "").isalnum():
                css = self.theme.stylesheet(name)
                return URLFetcherResponse(url, css, {"Content-Type": "text/css"})
        self.refused.append(url[:200])
        raise ValueError(f"refused: {url[:200]}")


def cjk_fonts() -> list[str]:
    """Families of the installed fonts that cover Chinese, by fontconfig."""
    if not shutil.which("fc-list"):
        return []
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True,
                         check=False).stdout
    return sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()})


#: Below this effective resolution at its printed size, a photo prints visibly soft.
MIN_DPI = 150


@dataclass(frozen=True)
class Placed:
    """A photo as laid out: its URL, page number, printed width in inches and resolution."""

    url: str
    page: int
    inches: float
    dpi: float


def placed_photos(document, book: Book) -> list[Placed]:
    """Every image box of the laid-out ``document`` with its effective resolution."""
    by_name = {f"{a.sha256[:16]}{a.extension}": a for a in book.assets.values()}
    found = []
    for number, page in enumerate(document.pages, 1):
        for box in page._page_box.descendants():
            if not isinstance(box, ReplacedBox) or box.element is None:
                continue
            src = box.element.get("src") or ""
            asset = by_name.get(src.rsplit("/", 1)[-1])
            if asset is None or asset.status == "placeholder" or not box.width \
                    or not box.height:
                continue
            inches = box.width / 96
            # A cropped fit (the cover's object-fit: cover) enlarges one axis beyond the box:
            # the lower of the two resolutions is the one that prints.
            dpi = min(asset.width / inches, asset.height / (box.height / 96))
            found.append(Placed(asset.url, number, round(inches, 2), round(dpi, 1)))
    return found


def write_pdf(book: Book, html: str, theme: Theme, path: Path,
              variant: str | None = None) -> tuple[list[str], list[Placed]]:
    """Render ``html`` to ``path``; return the URLs the fetcher refused and the placed
    photos."""
    fetcher = StoreFetcher(book, theme)
    serif = book.config.get("pdf", "serif_font")
    sans = book.config.get("pdf", "sans_font")
    fonts = CSS(string=f':root {{ --serif: "{_css_str(serif)}", "Noto Serif CJK SC", serif; '
                       f'--sans: "{_css_str(sans)}", "Noto Sans CJK SC", sans-serif; }}')
    document = HTML(string=html, base_url=PRINT_BASE, url_fetcher=fetcher).render(
        stylesheets=[fonts])
    identifier = hashlib.sha256(book.identifier.encode()).hexdigest()[:32].encode()
    document.write_pdf(str(path), pdf_identifier=identifier, attachments=[],
                       uncompressed_pdf=False, pdf_variant=variant)
    return fetcher.refused, placed_photos(document, book)


def _css_str(value: str) -> str:
    return "".join(c for c in value if c.isalnum() or c in " -_")
