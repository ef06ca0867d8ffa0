"""Impose a PDF for binding: two pages side by side on a sheet twice the page width, in the order
that comes out right when printed double-sided (flip on the short edge) and folded. Nothing is
re-rendered.

A thin book is one saddle-stitched booklet: its sheets folded together and stapled. A thick
one is folded in *signatures* (:func:`plan`): booklets of a few sheets each, stacked in order
and sewn or glued; the outermost sheet of each carries a collation mark on its fold, a little
lower from one signature to the next, so that the stacked spines show a staircase and a
signature out of place shows at once.

*Creep*: in a folded booklet the inner sheets stick out at the fore-edge, and trimming takes
their outer margins. With ``creep_mm`` the pages of the innermost sheet move that far toward
the fold, those of the outermost not at all, the sheets between by linear steps; each half
sheet is clipped at the fold.

Each page becomes a Form XObject that a sheet draws where it belongs, its resources shared,
not copied. The sheets are made in the book's own file, opened with pikepdf, and the pages then
taken out of its page tree (what only the book has, its outline and names, left behind): qpdf
writes the booklet reading each image stream from the book as it goes, never holding them
together, copied as they are, deterministically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import Dictionary, Name, Pdf

from .model import PT_PER_MM
from .output import sink
from .pdfsave import origin, save

#: The document information carried over from the book to its booklet.
#: (Not its PDF/X identification: a booklet for home printing is no PDF/X.)
INFO = ("/Title", "/Author", "/CreationDate", "/ModDate", "/Producer")
#: The most pages one saddle-stitched booklet holds well; a longer book goes in signatures.
SADDLE_MAX_PAGES = 64
#: Pages per signature of a book too long for one booklet, when the settings name none.
DEFAULT_SIGNATURE = 16
MARK_WIDTH_MM, MARK_HEIGHT_MM, MARK_STEP_MM, MARK_TOP_MM = 3.0, 5.0, 7.0, 8.0


@dataclass(frozen=True)
class Side:
    """One side of a sheet: the page on its left half and on its right (indices; None is a
    blank), which signature and which of its sheets (0 the outermost) it belongs to."""

    left: int | None
    right: int | None
    signature: int
    sheet: int
    sheets: int  # in its signature
    front: bool


@dataclass(frozen=True)
class Imposed:
    sides: int
    signatures: tuple[int, ...]  # pages in each signature
    creep_mm: float

    def how(self, name: str) -> str:
        """How to print, fold and bind it, in a sentence or two."""
        sheets = self.sides // 2
        print_it = (f"print {name} double-sided, flipping on the short edge ({sheets} sheet(s))")
        if len(self.signatures) == 1:
            return f"{print_it}; fold the stack of sheets in half together and staple on the fold"
        last = "" if len(set(self.signatures)) == 1 else f", the last of {self.signatures[-1]}"
        return (f"{print_it}; it is {len(self.signatures)} signatures of "
                f"{self.signatures[0]} pages{last}: fold each signature's "
                f"{self.signatures[0] // 4} sheets in half together, stack the signatures in "
                "order (the marks on their folds make a staircase), then sew or glue them "
                "at the spine")


def signature_pages(pages: int, signature: int) -> int:
    """The pages per signature for a book of ``pages``: ``signature`` when the settings name
    one (0: the whole book is one booklet), else one booklet up to
    :data:`SADDLE_MAX_PAGES` and :data:`DEFAULT_SIGNATURE` beyond."""
    padded = -(-pages // 4) * 4
    if signature == 0 or (signature < 0 and padded <= SADDLE_MAX_PAGES):
        return padded
    return DEFAULT_SIGNATURE if signature < 0 else signature


def booklet_order(pages: int) -> list[tuple[int | None, int | None]]:
    """(left, right) page indices per sheet side of one booklet, front then back, outermost
    sheet first; None is a blank."""
    return [(s.left, s.right) for s in plan(pages, 0)]


def plan(pages: int, signature: int) -> list[Side]:
    """Every sheet side, in printing order, of a book of ``pages`` in signatures of
    ``signature`` pages (see :func:`signature_pages`); the last signature may be shorter (a
    multiple of four); pages beyond the book are blanks."""
    n = -(-pages // 4) * 4 if pages else 0
    per = signature_pages(pages, signature) or 4
    out = []
    for number, start in enumerate(range(0, n, per)):
        size = min(per, n - start)

        def page(i: int, start: int = start) -> int | None:
            return start + i if start + i < pages else None

        sheets = size // 4
        for sheet in range(sheets):
            a, b = 2 * sheet, size - 1 - 2 * sheet
            out.append(Side(page(b), page(a), number, sheet, sheets, True))   # last … first
            out.append(Side(page(a + 1), page(b - 1), number, sheet, sheets, False))
    return out


def impose_booklet(pdf_path: Path, out_path: Path, signature: int = 0,
                   creep_mm: float = 0.0) -> Imposed:
    """Write the imposed booklet (or signatures) of ``pdf_path`` to ``out_path``."""
    with Pdf.open(pdf_path) as book:
        return _impose(book, origin(book, pdf_path), out_path, signature, creep_mm)


def impose_pages(pages, out_path: Path, signature: int = 0, creep_mm: float = 0.0,
                 fonts: Callable[[], dict] | None = None) -> Imposed:
    """As :func:`impose_booklet`, of the book's pages as the join has them
    (:class:`builder.join.Pages`, copied from the parts as the join copies them): with the
    fonts and the document information the book gets, the booklet is the one the book would
    give, while the join writes the book. ``fonts``: what gives the fonts' programs when
    ``pages.fonts`` does not (waiting for the join to subset them), asked once the sheets are
    made."""
    from .furniture import draw
    from .join import copied
    from .subsets import put

    with copied(pages.pieces) as book:
        if pages.furniture is not None:
            draw(book, *pages.furniture)
        book.trailer.Info = book.make_indirect(Dictionary(
            {key: pikepdf.String(value) for key, value in sorted(pages.info.items())}))
        return _impose(book, pages.origin, out_path, signature, creep_mm,
                       lambda: put(book, fonts() if pages.fonts is None else pages.fonts))


def _impose(book: Pdf, made_of: str, out_path: Path, signature: int,
            creep_mm: float, finish: Callable[[], None] | None = None) -> Imposed:
    """The booklet of ``book`` (opened: its sheets are made in it) to ``out_path``;
    ``made_of``: what identifies the book (:func:`~builder.pdfsave.origin`); ``finish``: done
    to it once the sheets are made, before it is written."""
    box = book.pages[0].mediabox
    left0, bottom0 = float(box[0]), float(box[1])
    width, height = float(box[2]) - left0, float(box[3]) - bottom0
    pages = len(book.pages)
    sides = plan(pages, signature)
    count = max(s.signature for s in sides) + 1
    forms: dict[int, pikepdf.Object] = {}
    for side in sides:  # the sheets after the pages, in the book's own file
        sheet = book.add_blank_page(page_size=(2 * width, height))
        shift = creep_mm * PT_PER_MM * side.sheet / max(1, side.sheets - 1)
        xobjects, ops = Dictionary(), []
        for index, x0, dx in ((side.left, 0.0, shift), (side.right, width, -shift)):
            if index is None:
                continue
            if index not in forms:
                page = book.pages[index]
                form = page.as_form_xobject()  # clipped to the trim box: widen it
                form.BBox = pikepdf.Array([float(v) for v in page.mediabox])
                forms[index] = form
            xobjects[f"/P{index}"] = forms[index]
            ops.append(_draw(index, x0, width, height, x0 + dx - left0, -bottom0))
        if count > 1 and side.front and side.sheet == 0:
            ops.append(_collation_mark(side.signature, width, height))
        sheet.Resources = Dictionary(XObject=xobjects)
        sheet.Contents = book.make_stream(" ".join(ops).encode("ascii"))
    if finish is not None:
        finish()
    basis = ("booklet", made_of, str(signature), repr(creep_mm))
    del book.pages[:pages]  # the pages live on as the sheets' forms
    book.trailer.Root = book.make_indirect(Dictionary(Type=Name.Catalog,
                                                      Pages=book.Root.Pages))
    _save(book, book, out_path, basis, "builder (imposed booklet)",
          force_version="1.5")  # for its object streams: the book's own is not the booklet's
    per_signature: dict[int, int] = {}
    for s in sides:
        per_signature[s.signature] = 4 * s.sheets
    return Imposed(len(sides), tuple(per_signature[k] for k in range(count)), creep_mm)


def _draw(index: int, clip_x: float, clip_w: float, height: float, tx: float,
          ty: float) -> str:
    """Draw the page form ``/P<index>`` moved by (tx, ty), clipped to its half of the sheet."""
    return (f"q {clip_x:.4f} 0 {clip_w:.4f} {height:.4f} re W n "
            f"1 0 0 1 {tx:.4f} {ty:.4f} cm /P{index} Do Q")


def _save(book: Pdf, made: Pdf, out_path: Path, basis: tuple[str, ...],
          creator: str | None = None, **options) -> None:
    """Write ``made`` with the book's document information, deterministically (its ID made
    of ``basis``)."""
    info = book.trailer.get("/Info")
    made.trailer.Info = made.make_indirect(Dictionary(
        {key: info[key] for key in INFO if info is not None and key in info}))
    if creator:
        made.trailer.Info[Name.Creator] = pikepdf.String(creator)
    with sink(out_path) as fh:
        save(made, fh, basis, object_stream_mode=pikepdf.ObjectStreamMode.generate, **options)


def _collation_mark(signature: int, width: float, height: float) -> str:
    """A black bar across the fold, lower by a step per signature (back to the top when the
    page is full)."""
    steps = max(1, int((height / PT_PER_MM - 2 * MARK_TOP_MM) // MARK_STEP_MM))
    top = height - (MARK_TOP_MM + (signature % steps) * MARK_STEP_MM) * PT_PER_MM
    w, h = MARK_WIDTH_MM * PT_PER_MM, MARK_HEIGHT_MM * PT_PER_MM
    return f"q 0 0 0 1 k {width - w / 2:.4f} {top - h:.4f} {w:.4f} {h:.4f} re f Q"


def cover_spreads(pdf_path: Path, out_path: Path) -> int:
    """Write the cover of the book at ``pdf_path`` on its own, as a print shop prints a cover
    on other paper: the outside spread (the back, blank, on the left; the front cover, the
    book's first page, on the right) and the inside spread (the inside of the front cover,
    the book's second page; the inside of the back, blank). Each page keeps its bleed on the
    outer edges; the two meet at the spine, each clipped there. Returns the pages written."""
    with Pdf.open(pdf_path) as book, Pdf.new() as cover:
        first = book.pages[0]
        media = [float(v) for v in first.mediabox]
        trim = [float(v) for v in first.obj.get("/TrimBox", first.mediabox)]
        height = media[3] - media[1]
        bleed = trim[0] - media[0]
        trim_w = trim[2] - trim[0]
        spine = bleed + trim_w
        inside = 1 if len(book.pages) > 1 else None
        used = [i for i in (0, inside) if i is not None]
        # Copied as pages first, so that qpdf drops the resources their content does not use
        # (WeasyPrint gives every page the resources of the whole book).
        for i in used:
            cover.pages.append(book.pages[i])
        cover.remove_unreferenced_resources()
        forms = {}
        for n, i in enumerate(used):
            forms[i] = cover.make_indirect(cover.pages[n].as_form_xobject())
            forms[i].BBox = pikepdf.Array([float(v) for v in book.pages[i].mediabox])
        for left, right in ((None, 0), (inside, None)):
            sheet = cover.add_blank_page(page_size=(2 * trim_w + 2 * bleed, height))
            xobjects, ops = Dictionary(), []
            for index, x0, x1, dx in ((left, 0.0, spine, 0.0),
                                      (right, spine, 2 * spine, trim_w)):
                if index is None:
                    continue
                xobjects[f"/P{index}"] = forms[index]
                ops.append(_draw(index, x0, x1 - x0, height, dx - media[0], -media[1]))
            sheet.Resources = Dictionary(XObject=xobjects)
            sheet.Contents = cover.make_stream(" ".join(ops).encode("ascii"))
            sheet.obj.TrimBox = pikepdf.Array([bleed, trim[1] - media[1], bleed + 2 * trim_w,
                                               trim[3] - media[1]])
            sheet.obj.BleedBox = pikepdf.Array([0, 0, 2 * trim_w + 2 * bleed, height])
        for _ in used:
            del cover.pages[0]
        _save(book, cover, out_path, ("cover", origin(book, pdf_path)))
        return len(cover.pages)
