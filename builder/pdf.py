"""Write the print PDF with WeasyPrint. Its URL fetcher serves the asset store and the theme's
stylesheet and nothing else: no file:// read, no network fetch, no data: URL from outside."""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from pathlib import Path

from weasyprint import CSS, HTML
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


def write_pdf(book: Book, html: str, theme: Theme, path: Path) -> list[str]:
    """Render ``html`` to ``path``; return the URLs the fetcher refused."""
    fetcher = StoreFetcher(book, theme)
    serif = book.config.get("pdf", "serif_font")
    sans = book.config.get("pdf", "sans_font")
    fonts = CSS(string=f':root {{ --serif: "{_css_str(serif)}", "Noto Serif CJK SC", serif; '
                       f'--sans: "{_css_str(sans)}", "Noto Sans CJK SC", sans-serif; }}')
    document = HTML(string=html, base_url=PRINT_BASE, url_fetcher=fetcher)
    identifier = hashlib.sha256(book.identifier.encode()).hexdigest()[:32].encode()
    document.write_pdf(str(path), stylesheets=[fonts],
                       pdf_identifier=identifier, attachments=[], uncompressed_pdf=False)
    return fetcher.refused


def _css_str(value: str) -> str:
    return "".join(c for c in value if c.isalnum() or c in " -_")
