"""The imposed booklet: sheet order for saddle stitching and for signatures, creep and
collation marks, checked on real PDFs by where each page's text lands on the sheet and by the
offsets the sheets draw their pages at."""

from __future__ import annotations

import re
import subprocess

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from builder.impose import PT_PER_MM, booklet_order, impose_booklet, plan, signature_pages

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
    imposed = impose_booklet(src, out)
    assert imposed.sides == len(EXPECTED[pages])
    assert imposed.signatures == (len(EXPECTED[pages]) * 2,)
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


def folded(sides: list[tuple[int | None, int | None]], signatures: tuple[int, ...]) -> list:
    """The pages as a reader meets them in the bound book, modelled on paper: the sheets are
    printed double-sided flipping on the short edge (a back's left half lies behind its
    front's right half), each signature's sheets are taken in printing order (the first
    outermost), folded together with the first front outside, and the signatures stacked in
    order. Reading a folded signature goes in through each sheet's front right and back left
    halves, then out through each back right and front left."""
    order, at = [], 0
    for pages in signatures:
        sheets = [(sides[at + 2 * k], sides[at + 2 * k + 1]) for k in range(pages // 4)]
        at += 2 * len(sheets)
        for front, back in sheets:
            order += [front[1], back[0]]
        for front, back in reversed(sheets):
            order += [back[1], front[0]]
    assert at == len(sides)
    return order


def test_the_folding_model_reads_the_hand_derived_booklets():
    for pages, expected in EXPECTED.items():
        padded = -(-pages // 4) * 4
        assert folded(expected, (padded,)) == list(range(1, pages + 1)) + \
            [None] * (padded - pages)


@pytest.mark.parametrize(("pages", "signature", "expected"), [
    (70, -1, (16, 16, 16, 16, 8)),  # the default for a long book: signatures of 16
    (64, -1, (64,)),                # up to 64 pages: one saddle-stitched booklet
    (30, 8, (8, 8, 8, 8)),
    (90, 0, (92,)),                 # 0: one booklet however long
])
def test_signatures_fold_and_stack_in_order(tmp_path, pages, signature, expected):
    src, out = tmp_path / "in.pdf", tmp_path / "booklet.pdf"
    numbered_pdf(src, pages)
    imposed = impose_booklet(src, out, signature)
    assert imposed.signatures == expected
    padded = sum(expected)
    assert folded(sheet_sides(out), expected) == list(range(1, pages + 1)) + \
        [None] * (padded - pages)
    how = imposed.how("book-booklet.pdf")
    assert "short edge" in how and f"{padded // 4} sheet" in how
    assert ("signatures" in how) == (len(expected) > 1)


def test_signature_pages():
    assert signature_pages(64, -1) == 64 and signature_pages(65, -1) == 16
    assert signature_pages(358, 0) == 360 and signature_pages(358, 32) == 32
    for pages in range(1, 120):
        placed = [p for s in plan(pages, -1) for p in (s.left, s.right) if p is not None]
        assert sorted(placed) == list(range(pages))


def draws(path) -> list[list[tuple[int, float, float]]]:
    """Per sheet side: (page index, x offset, clip x) of each page drawn, from the content
    stream."""
    out = []
    for page in PdfReader(path).pages:
        stream = page.get_contents().get_data().decode("ascii")
        out.append([(int(p), float(x), float(clip)) for clip, x, p in re.findall(
            r"q (-?[\d.]+) 0 [\d.]+ [\d.]+ re W n 1 0 0 1 (-?[\d.]+) -?[\d.]+ cm /P(\d+) Do Q",
            stream)])
    return out


def test_creep_moves_inner_sheets_toward_the_fold(tmp_path):
    """16 pages, 4 sheets, creep 1.2 mm: the outermost sheet's pages stay, the innermost move
    1.2 mm toward the fold, the sheets between 0.4 and 0.8 mm; front and back alike."""
    src, out = tmp_path / "in.pdf", tmp_path / "booklet.pdf"
    numbered_pdf(src, 16)
    width = float(PdfReader(src).pages[0].mediabox.width)
    imposed = impose_booklet(src, out, 0, creep_mm=1.2)
    assert imposed.creep_mm == 1.2
    sides = draws(out)
    assert len(sides) == 8
    for n, side in enumerate(sides):
        shift = 1.2 * PT_PER_MM * (n // 2) / 3
        (left, lx, lclip), (right, rx, rclip) = side
        assert lx == pytest.approx(shift, abs=1e-3)           # the left page moves right
        assert rx == pytest.approx(width - shift, abs=1e-3)   # the right page moves left
        assert (lclip, rclip) == (0.0, pytest.approx(width))  # each clipped at the fold
    # The text moved with its page: page 8 (innermost sheet's back, left) by the full creep.
    plain = tmp_path / "plain.pdf"
    impose_booklet(src, plain)
    assert _x_of("P8", out) - _x_of("P8", plain) == pytest.approx(1.2 * PT_PER_MM, abs=0.3)


def _x_of(label: str, path) -> float:
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return float(re.search(rf'xMin="([\d.]+)"[^>]*>{label}<', html).group(1))


def marks(path) -> list[tuple[int, float, float]]:
    """(sheet side, x centre, top) of each collation mark: a K-filled rectangle."""
    found = []
    for n, page in enumerate(PdfReader(path).pages):
        stream = page.get_contents().get_data().decode("ascii")
        for x, y, w, h in re.findall(r"0 0 0 1 k ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re f",
                                     stream):
            found.append((n, float(x) + float(w) / 2, float(y) + float(h)))
    return found


def test_collation_marks_step_down_the_spine(tmp_path):
    src, out = tmp_path / "in.pdf", tmp_path / "booklet.pdf"
    numbered_pdf(src, 40)
    impose_booklet(src, out, 8)  # 5 signatures of 2 sheets: 4 sides each
    width = float(PdfReader(src).pages[0].mediabox.width)
    found = marks(out)
    assert [n for n, _, _ in found] == [0, 4, 8, 12, 16]  # each signature's outer front
    assert all(x == pytest.approx(width) for _, x, _ in found)  # on the fold
    tops = [top for _, _, top in found]
    steps = [a - b for a, b in zip(tops, tops[1:], strict=False)]
    assert steps == [pytest.approx(7 * PT_PER_MM, abs=1e-3)] * 4
    single = tmp_path / "single.pdf"
    impose_booklet(src, single, 0)
    assert marks(single) == []  # one booklet: nothing to collate
