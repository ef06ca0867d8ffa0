"""Write the print PDF with WeasyPrint. Its URL fetcher serves the rendition's assets and the
theme's stylesheets and nothing else: no file:// read, no network fetch, no data: URL from
outside."""

from __future__ import annotations

import hashlib
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .model import PRINT_BASE, PrintRendition

ASSETS = PRINT_BASE + "assets/"
THEME = PRINT_BASE + "theme/"


class StoreFetcher(URLFetcher):
    """Serves ``PRINT_BASE/assets/<name>`` from the rendition's assets and
    ``PRINT_BASE/theme/<name>`` from its stylesheets; refuses every other URL and remembers
    it."""

    def __init__(self, rendition: PrintRendition):
        super().__init__(allowed_protocols=set())
        self.assets = rendition.assets
        self.stylesheets = rendition.stylesheets
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
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


def write_pdf(rendition: PrintRendition, path: Path) -> list[str]:
    """Render ``rendition`` to ``path``; return the URLs the fetcher refused."""
    fetcher = StoreFetcher(rendition)
    document = HTML(string=rendition.html, base_url=PRINT_BASE, url_fetcher=fetcher).render(
        stylesheets=_fonts(rendition))
    identifier = hashlib.sha256(rendition.meta.identifier.encode()).hexdigest()[:32].encode()
    document.write_pdf(str(path), pdf_identifier=identifier, attachments=[],
                       uncompressed_pdf=False, pdf_variant=rendition.variant or None)
    return fetcher.refused


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
