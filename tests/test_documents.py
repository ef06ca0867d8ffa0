"""The documents handed to WeasyPrint parsed by the builder: the same pages as WeasyPrint's own
parsing gives, the theme's stylesheets parsed once and kept in their place in the cascade, and
WeasyPrint's parsing where a document does not go over as XML."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pikepdf
import pytest

from builder import documents, pdf
from builder.model import PRINT_BASE, BookMeta, PrintRendition

ROOT = Path(__file__).resolve().parent.parent
LINK = f'<link rel="stylesheet" href="{pdf.THEME}print.css">'


def rendition(html: str, css: str | None = None) -> PrintRendition:
    css = (ROOT / "styles" / "print.css").read_text(encoding="utf-8") if css is None else css
    meta = BookMeta("urn:uuid:0", "Test", "zh", "", "", None, "", "", (), (),
                    dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    return PrintRendition(meta, html, {}, {"print.css": css}, "", "", "")


def book(body: str, head: str = LINK) -> str:
    return (f'<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>T</title>{head}'
            f'</head><body>{body}</body></html>')


BODY = ('<article id="a1" class="article" lang="zh"><header class="opener" id="h">'
        '<h1 class="article-title">便民服务中心开门迎客</h1><p class="byline">2022年1月1日</p>'
        '</header><p id="p1">乡村振兴的画卷徐徐展开。“引号”与 Latin text, 1&amp;2 &lt;3&gt;.</p>'
        + "".join(f'<p id="q{n}" style="margin-top:{n}mm">第{n}段，社区是党和政府联系、服务'
                  f'居民群众的“最后一公里”。{"文字" * 60}</p>' for n in range(1, 9))
        + '<figure id="f1"><figcaption>说明 &amp; 文字</figcaption></figure>'
        '<section class="credits"><dl><dt>作者</dt><dd>某人</dd></dl></section></article>')


def weasyprint_own(r: PrintRendition):
    """The document as WeasyPrint parses it itself: the way before."""
    fonts = pdf.process_fonts()
    return documents.HTML(string=r.html, base_url=PRINT_BASE, url_fetcher=pdf.StoreFetcher(r)
                    ).render(stylesheets=pdf._fonts(r), font_config=fonts)


def pages(document) -> list[bytes]:
    out = []
    with pikepdf.open(io.BytesIO(document.write_pdf(pdf_identifier=b"0" * 32))) as opened:
        for page in opened.pages:
            out.append(page.obj.Contents.read_bytes())
    return out


def test_same_pages_and_boxes_as_weasyprints_own_parsing():
    r = rendition(book(BODY, LINK + "<style>@page { size: 148mm 210mm; }</style>"))
    ours, before = pdf._render(r, pdf.StoreFetcher(r), []), weasyprint_own(r)
    assert len(ours.pages) == len(before.pages) >= 2
    assert pages(ours) == pages(before)
    assert pdf._boxes(ours) == pdf._boxes(before)


def test_the_theme_is_parsed_once_per_process():
    r = rendition(book(BODY))
    fonts = pdf.process_fonts()
    first = documents.document(r.html, PRINT_BASE, pdf.StoreFetcher(r), r.stylesheets,
                               pdf.THEME, fonts)[1]
    again = documents.document(r.html, PRINT_BASE, pdf.StoreFetcher(r), r.stylesheets,
                               pdf.THEME, fonts)[1]
    assert len(first) == 1 and first[0] is again[0]
    changed = documents.document(r.html, PRINT_BASE, pdf.StoreFetcher(r),
                                 {"print.css": "p { color: red }"}, pdf.THEME, fonts)[1]
    assert changed[0] is not first[0]  # kept by its text


def colour(document) -> tuple:
    """The colour ``#p1`` is set in."""
    found = []

    def walk(box):
        if getattr(box, "element", None) is not None and box.element.get("id") == "p1":
            found.append(box.style["color"])
        for child in getattr(box, "children", []):
            walk(child)

    walk(document.pages[0]._page_box)
    return tuple(round(c, 2) for c in found[0])


RED, BLUE = (1, 0, 0, 1), (0, 0, 1, 1)


P1 = '<p id="p1">文字</p>'
STYLE = "<style>p { color: blue }</style>"
IMPORTANT = "<style>p { color: blue !important }</style>"


@pytest.mark.parametrize(("theme", "head", "body", "wanted"), [
    ("p { color: red }", LINK + STYLE, P1, BLUE),  # the document's style after the theme
    ("p { color: red }", STYLE + LINK, P1, RED),  # the theme after the style: kept an author's
    ("p { color: red }", LINK, P1, RED),
    ("p { color: red }", LINK, '<p id="p1" style="color: blue">文字</p>', BLUE),
    ("p { color: red !important }", LINK, '<p id="p1" style="color: blue">文字</p>', RED),
    ("p { color: red }", LINK + IMPORTANT, P1, BLUE),
    ("p { color: red !important }", LINK + IMPORTANT, P1, BLUE),  # the later !important
])
def test_the_cascade_is_as_before(theme, head, body, wanted):
    r = rendition(book(body, head), theme)
    assert colour(pdf._render(r, pdf.StoreFetcher(r), [])) == wanted
    assert colour(weasyprint_own(r)) == wanted


def test_the_parsed_tree_is_handed_over_where_it_goes_as_xml():
    fonts = pdf.process_fonts()
    r = rendition(book(BODY))
    assert isinstance(documents.document(r.html, PRINT_BASE, pdf.StoreFetcher(r),
                                         r.stylesheets, pdf.THEME, fonts)[0], documents._Tree)
    r = rendition(book('<p id="p1" epub:type="x">文字</p>'))
    assert not isinstance(documents.document(r.html, PRINT_BASE, pdf.StoreFetcher(r),
                                             r.stylesheets, pdf.THEME, fonts)[0],
                          documents._Tree)


def test_a_document_that_is_not_xml_is_parsed_by_weasyprint():
    body = '<p id="p1" epub:type="x" xml:lang="zh">前缀</p>'  # an undeclared prefix
    r = rendition(book(body))
    document = pdf._render(r, pdf.StoreFetcher(r), [])
    assert "p1" in pdf._boxes(document)
    assert pages(document) == pages(weasyprint_own(r))


def test_a_stylesheet_that_loads_a_url_goes_through_each_documents_fetcher():
    css = "p { background: url(https://elsewhere.invalid/x.png) }"
    for _ in range(2):
        r = rendition(book('<p id="p1">文字</p>'), css)
        fetcher = pdf.StoreFetcher(r)
        pdf._render(r, fetcher, [])
        assert fetcher.refused == ["https://elsewhere.invalid/x.png"]
