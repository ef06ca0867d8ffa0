"""Impose a PDF for saddle stitching: pages padded with blanks to a multiple of four, two pages
side by side on a sheet twice the page width, in the order that comes out right when printed
double-sided (flip on the short edge) and folded. pypdf places the pages; nothing is re-rendered.
"""

from __future__ import annotations

from pathlib import Path

from pypdf import PageObject, PdfReader, PdfWriter, Transformation


def booklet_order(pages: int) -> list[tuple[int | None, int | None]]:
    """(left, right) page indices per sheet side, front then back; None is a blank."""
    n = -(-pages // 4) * 4 if pages else 0
    idx = [i if i < pages else None for i in range(n)]
    order = []
    for sheet in range(n // 4):
        a, b = 2 * sheet, n - 1 - 2 * sheet
        order.append((idx[b], idx[a]))          # front: last … first
        order.append((idx[a + 1], idx[b - 1]))  # back: second … second to last
    return order


def impose_booklet(pdf_path: Path, out_path: Path) -> int:
    """Write the imposed booklet of ``pdf_path`` to ``out_path``; return its sheet sides."""
    reader = PdfReader(str(pdf_path))
    pages = reader.pages
    box = pages[0].mediabox
    width, height = float(box.width), float(box.height)
    writer = PdfWriter()
    for left, right in booklet_order(len(pages)):
        sheet = PageObject.create_blank_page(width=2 * width, height=height)
        for index, dx in ((left, 0.0), (right, width)):
            if index is not None:
                sheet.merge_transformed_page(pages[index], Transformation().translate(dx, 0))
        writer.add_page(sheet)
    for key, value in (reader.metadata or {}).items():
        if key in ("/Title", "/Author", "/CreationDate", "/ModDate", "/Producer"):
            writer.add_metadata({key: value})
    writer.add_metadata({"/Creator": "builder (imposed booklet)"})
    writer._ID = None
    with open(out_path, "wb") as fh:
        writer.write(fh)
    return len(writer.pages)
