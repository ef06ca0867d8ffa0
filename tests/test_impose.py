"""The imposed booklet: sheet order for saddle stitching, checked on real PDFs by where each
page's text lands on the sheet."""

from __future__ import annotations

import re
import subprocess

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from builder.impose import booklet_order, impose_booklet

# Hand-derived: a sheet side as (left, right), 1-based page numbers, None for a blank.
# Printed double-sided (flip on the short edge), stacked and folded, these read 1, 2, 3 …
EXPECTED = {
    1: [(None, 1), (None, None)],
    5: [(None, 1), (2, None), (None, 3), (4, 5)],
    8: [(8, 1), (2, 7), (6, 3), (4, 5)],
    13: [(None, 1), (2, None), (None, 3), (4, 13), (12, 5), (6, 11), (10, 7), (8, 9)],
}


def numbered_pdf(path, pages: int) -> None:
    body = "".join(f'<p style="break-after: page">P{n}</p>' for n in range(1, pages + 1))
    HTML(string=f"<style>@page {{ size: 148mm 210mm }}</style>{body}").write_pdf(path)


def sheet_sides(path) -> list[tuple[int | None, int | None]]:
    """For each sheet side, the page label printed in its left and in its right half, read by
    poppler's pdftotext from each half of the sheet as it would be printed."""
    reader = PdfReader(path)
    sides = []
    for number, page in enumerate(reader.pages, 1):
        half, height = float(page.mediabox.width) / 2, float(page.mediabox.height)
        labels = []
        for x in (0, half):
            text = subprocess.run(
                ["pdftotext", "-f", str(number), "-l", str(number), "-r", "72",
                 "-x", str(int(x)), "-y", "0", "-W", str(int(half)), "-H", str(int(height)),
                 str(path), "-"], capture_output=True, text=True, check=True).stdout
            found = re.findall(r"P(\d+)", text)
            assert len(found) <= 1, text
            labels.append(int(found[0]) if found else None)
        sides.append(tuple(labels))
    return sides


@pytest.mark.parametrize("pages", sorted(EXPECTED))
def test_booklet_order_on_real_pdfs(tmp_path, pages):
    src, out = tmp_path / "in.pdf", tmp_path / "booklet.pdf"
    numbered_pdf(src, pages)
    assert len(PdfReader(src).pages) == pages
    sides = impose_booklet(src, out)
    assert sides == len(EXPECTED[pages])
    assert sheet_sides(out) == EXPECTED[pages]
    sheet = PdfReader(out).pages[0].mediabox
    page = PdfReader(src).pages[0].mediabox
    assert float(sheet.width) == pytest.approx(2 * float(page.width))
    assert float(sheet.height) == pytest.approx(float(page.height))


def test_booklet_order_is_the_hand_derived_one():
    for pages, expected in EXPECTED.items():
        as_indices = [tuple(None if p is None else p - 1 for p in side) for side in expected]
        assert booklet_order(pages) == as_indices


def test_every_page_appears_once():
    for pages in range(1, 41):
        placed = [p for side in booklet_order(pages) for p in side if p is not None]
        assert sorted(placed) == list(range(pages))


def test_bleed_and_marks_reach_the_sheet(tmp_path):
    """With bleed, each page is drawn whole on its sheet — its bleed and crop marks too —
    not clipped to its trim box."""
    from PIL import Image

    src, out = tmp_path / "in.pdf", tmp_path / "booklet.pdf"
    body = "".join(f'<p style="break-after: page">P{n}</p>' for n in range(1, 5))
    HTML(string="<style>@page { size: 148mm 210mm; bleed: 3mm; marks: crop; "
                f"background: rgb(200, 0, 0) }}</style>{body}").write_pdf(src)
    impose_booklet(src, out)
    page = PdfReader(src).pages[0]
    assert float(page.trimbox.width) < float(page.mediabox.width)  # the bleed is there
    sheet = PdfReader(out).pages[0]
    assert float(sheet.mediabox.width) == pytest.approx(2 * float(page.mediabox.width))
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(out),
                    str(tmp_path / "s")], check=True)
    image = Image.open(next(tmp_path.glob("s*.png"))).convert("RGB")
    w, h = image.size
    # Inside the bleed, just off the trimmed edge of the left page: the page's red, not paper.
    r, g, b = image.getpixel((int(w * 0.5 * 2 / 160), h // 2))
    assert r > 150 and g < 80 and b < 80
