"""The print PDF of the seed, opened and read: pages, text order, fonts, captions beside their
photos, the outline, bleed and crop marks, PDF/A, the print resolution check."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEED, SEEDS, run_cli, serve_args
from pypdf import PdfReader
from pypdf.generic import ContentStream

from builder.clean import clean_article
from builder.load import load_article

A5 = (419.53, 595.28)
MM = 72 / 25.4


def build(tmp_path, server, *extra):
    out = tmp_path / "out"
    result = run_cli("build", SEEDS, "--out", out, "--cache-dir", tmp_path / "cache",
                     "--format", "pdf", "--name", "seed", *serve_args(server), *extra)
    assert result.returncode == 0, result.stderr
    return out / "seed.pdf", json.loads((out / "seed.report.json").read_text())


@pytest.fixture(scope="module")
def seed_pdf(tmp_path_factory, image_server):
    return build(tmp_path_factory.mktemp("pdf"), image_server)


def compact(text: str) -> str:
    return "".join(text.split())


def test_pages_are_a5(seed_pdf):
    pdf, _ = seed_pdf
    reader = PdfReader(pdf)
    assert 10 <= len(reader.pages) <= 24
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A5, 0.01)


def test_title_captions_and_credits_in_reading_order(seed_pdf):
    pdf, _ = seed_pdf
    text = compact("".join(p.extract_text() for p in PdfReader(pdf).pages))
    article = clean_article(load_article(SEED)[0])
    wanted = [article.title] + [compact(f.caption)[:20] for f in article.figures if f.caption] \
        + ["总监制", "袁炳忠", "新华社第一工作室出品", "新华社摄影部制作"]
    start = 0
    for w in wanted:  # each one after the one before
        found = text.find(compact(w), start)
        assert found != -1, (w, text[start:start + 80])
        start = found + 1
    assert "↑" not in text


def test_cjk_fonts_embedded_and_no_missing_glyphs(seed_pdf):
    pdf, _ = seed_pdf
    reader = PdfReader(pdf)
    fonts = {}
    for page in reader.pages:
        for name, ref in (page["/Resources"].get("/Font") or {}).items():
            font = ref.get_object()
            desc = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert "/FontFile3" in desc or "/FontFile2" in desc, font["/BaseFont"]
            assert re.match(r"^/[A-Z]{6}\+", str(font["/BaseFont"])), "subset prefix"
            fonts[name] = str(font["/BaseFont"])
        # Identity-H text: two bytes a glyph; glyph 0 is .notdef, a character the font lacks.
        for operands, op in ContentStream(page.get_contents(), reader).operations:
            strings = operands[0] if op == b"TJ" else operands[:1] if op == b"Tj" else []
            for s in strings:
                if isinstance(s, (bytes, str)) and not isinstance(s, (int, float)):
                    data = s if isinstance(s, bytes) else s.get_original_bytes()
                    glyphs = [data[i:i + 2] for i in range(0, len(data) - 1, 2)]
                    assert b"\x00\x00" not in glyphs
    assert any("Serif-CJK" in f for f in fonts.values())
    assert any("Sans-CJK" in f for f in fonts.values())


def test_captions_share_a_page_with_their_photos(seed_pdf):
    pdf, report = seed_pdf
    pages = [compact(p.extract_text()) for p in PdfReader(pdf).pages]
    page_of = {p["url"]: p["page"] for p in report["print"]}
    article = clean_article(load_article(SEED)[0])
    checked = 0
    for figure in article.figures:
        if not figure.caption:
            continue
        caption_pages = {n for n, text in enumerate(pages, 1)
                         if compact(figure.caption) in text}
        photo_pages = {page_of[ref.url] for ref in figure.images}
        assert len(photo_pages) == 1 and photo_pages == caption_pages, figure.caption
        checked += 1
    assert checked == 13


def test_outline_is_book_article_sections(seed_pdf):
    pdf, _ = seed_pdf
    outline = PdfReader(pdf).outline
    assert outline[0].title == "总书记挂念的_关键小事_丨做好社区工作"  # the book (cover)
    assert isinstance(outline[1], list) and outline[1][0].title == outline[0].title  # article


def test_low_resolution_photos_are_reported(seed_pdf):
    _, report = seed_pdf
    # 19 photos, the first twice: on the cover and opening the article.
    assert len(report["print"]) == 20
    assert len({p["url"] for p in report["print"]}) == 19
    low = [p for p in report["print"] if p["dpi"] < 150]
    # The 1000 px cover fills an A5 page: well under 150 dpi. The body photos are fine.
    assert [p["page"] for p in low] == [1]
    assert any(w.startswith(f"print: {low[0]['url']} on page 1 is ") for w in report["warnings"])


def test_bleed_marks_and_pdf_a(tmp_path, image_server):
    pdf, _ = build(tmp_path, image_server, "--bleed", "3mm", "--marks",
                   "--pdf-variant", "pdf/a-3b", "--page-size", "A4")
    reader = PdfReader(pdf)
    page = reader.pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (width, height) == pytest.approx((595.28 + 6 * MM, 841.89 + 6 * MM), 0.01)
    trim = page.trimbox
    assert (float(trim.width), float(trim.height)) == pytest.approx((595.28, 841.89), 0.01)
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp


def test_bad_bleed_is_a_usage_error(tmp_path):
    result = run_cli("build", SEEDS, "--out", tmp_path, "--bleed", "3cm")
    assert result.returncode == 2 and "bleed" in result.stderr


def test_articles_open_on_the_right_unless_configured(tmp_path):
    """Two one-page articles: with open_right the second starts on an odd page."""
    src = tmp_path / "src"
    src.mkdir()
    for n in (1, 2):
        (src / f"a{n}.txt").write_text(f"---\ntitle: 第{n}篇\ndate: 2022-01-0{n}\n---\n"
                                       f"<p>正文{n}。</p>", "utf-8")

    def start_pages(extra_config: str) -> list[int]:
        (src / "book.toml").write_text(f'[book]\ntitle = "合集"\n{extra_config}', "utf-8")
        out = tmp_path / "out"
        result = run_cli("build", src, "--out", out, "--format", "pdf", "--name", "b",
                         "--cache-dir", tmp_path / "c")
        assert result.returncode == 0, result.stderr
        pages = [compact(p.extract_text()) for p in PdfReader(out / "b.pdf").pages]
        return [next(i for i, t in enumerate(pages, 1) if f"正文{n}" in t) for n in (1, 2)]

    right = start_pages("")
    assert all(p % 2 == 1 for p in right) and right[1] - right[0] == 2
    anywhere = start_pages("[pdf]\nopen_right = false\n")
    assert anywhere[1] - anywhere[0] == 1


def test_no_title_leaves_one_character_alone_on_its_last_line(seed_pdf):
    """The seed's title broke as '…做好社区工' / '作'; its last two characters stay together."""
    pdf, _ = seed_pdf
    import subprocess

    text = subprocess.run(["pdftotext", "-f", "1", "-l", "3", "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert "工作" in lines  # the title's last line, on the cover and on the opener
    assert not [line for line in lines if len(line) == 1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the search left out on Linux")
def test_weasyprint_loads_its_libraries_without_a_search_of_the_system():

    script = """
import ctypes.util, sys
asked = []
def search(name):
    asked.append(name)
    return None
ctypes.util.find_library = search
import builder.pdf
from weasyprint.text import ffi
print(asked, ctypes.util.find_library is search, ffi.pango is not None, ffi.fontconfig is not None)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent.parent).stdout.split()
    assert out == ["[]", "True", "True", "True"]  # none asked for, the search put back, loaded



def test_a_page_gets_its_margin_boxes_only_where_one_has_content(tmp_path):
    """The margin boxes are made only for a page where a rule gives one of them content (here
    the left-hand pages'), and a page without is the same bytes as WeasyPrint makes it."""
    import weasyprint.layout
    from weasyprint import HTML

    from builder import pdf

    installed = weasyprint.layout.make_margin_boxes
    weasyprint_own = installed.original
    made = []

    def spy(context, page, state):
        made.append(page.page_type.side)
        return weasyprint_own(context, page, state)

    pages = "".join(f'<p style="break-before: page">page {n}</p>' for n in range(1, 5))
    plain = f"<html><head><style>@page {{ size: A6 }}</style></head><body>{pages}</body></html>"
    folios = plain.replace("</style>", "@page :left { @bottom-center { content: 'folio ' "
                                       "counter(page) } }</style>")
    written = {}
    try:
        for name, function in (("checked", pdf._margin_boxes(spy)), ("own", weasyprint_own)):
            weasyprint.layout.make_margin_boxes = function
            written[name] = HTML(string=plain).write_pdf(pdf_identifier=b"0" * 16)
        assert written["checked"] == written["own"] and made == []
        weasyprint.layout.make_margin_boxes = pdf._margin_boxes(spy)
        (tmp_path / "a.pdf").write_bytes(HTML(string=folios).write_pdf())
    finally:
        weasyprint.layout.make_margin_boxes = installed
    assert made == ["left", "left"]
    text = [PdfReader(tmp_path / "a.pdf").pages[n].extract_text() for n in range(4)]
    assert ["folio" in t for t in text] == [False, True, False, True]
