"""Impose a PDF for saddle stitching: pages padded with blanks to a multiple of four, two pages
side by side on a sheet twice the page width, in the order that comes out right when printed
double-sided (flip on the short edge) and folded. Nothing is re-rendered.

Each page becomes a Form XObject that a sheet draws where it belongs, its resources shared,
not copied (merging page content instead copies the resources of every page into every sheet,
which grows with pages × images). pikepdf (qpdf) copies the pages with their image streams as
they are, and writes deterministically.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf
from pikepdf import Dictionary, Name, Pdf

#: The document information carried over from the book to its booklet.
INFO = ("/Title", "/Author", "/CreationDate", "/ModDate", "/Producer")


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
    with Pdf.open(pdf_path) as book, Pdf.new() as sheets:
        box = book.pages[0].mediabox
        left0, bottom0 = float(box[0]), float(box[1])
        width, height = float(box[2]) - left0, float(box[3]) - bottom0
        forms: dict[int, pikepdf.Object] = {}
        for left, right in booklet_order(len(book.pages)):
            sheet = sheets.add_blank_page(page_size=(2 * width, height))
            xobjects, ops = Dictionary(), []
            for index, dx in ((left, 0.0), (right, width)):
                if index is None:
                    continue
                if index not in forms:
                    page = book.pages[index]
                    form = page.as_form_xobject()  # clipped to the trim box: widen it
                    form.BBox = pikepdf.Array([float(v) for v in page.mediabox])
                    forms[index] = sheets.copy_foreign(form)
                xobjects[f"/P{index}"] = forms[index]
                ops.append(f"q 1 0 0 1 {dx - left0:.4f} {-bottom0:.4f} cm /P{index} Do Q")
            sheet.Resources = Dictionary(XObject=xobjects)
            sheet.Contents = sheets.make_stream(" ".join(ops).encode("ascii"))
        info = book.trailer.get("/Info")
        sheets.trailer.Info = sheets.make_indirect(Dictionary(
            {key: info[key] for key in INFO if info is not None and key in info}))
        sheets.trailer.Info[Name.Creator] = pikepdf.String("builder (imposed booklet)")
        sheets.save(out_path, deterministic_id=True,
                    stream_decode_level=pikepdf.StreamDecodeLevel.none,
                    object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return len(sheets.pages)
