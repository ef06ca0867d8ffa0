"""Join PDFs written in parts into one book: a run of pages from each, in order, with the
named destinations (every id an internal link can go to), the outline and the document's
metadata of one book.

qpdf copies the pages and what they use from each part (its ``--pages``, run through
pikepdf's Job, which hands back the book before writing it); the parts' image streams are
read from their files only while the book is written, never held together, and copied as
they are (no stream is decoded again). Links keep working
across parts: WeasyPrint writes an internal link as a named destination, and the book's name
tree is the union of the parts' (for a name on a dropped page, the entry of the part that
keeps it). The outline is the parts' outlines in order, each part's top entries under the
front matter's last top entry (the book's title), as WeasyPrint nests them in one document.
Some of the catalog's entries (:data:`CARRIED`: language, PDF/A metadata and output intent,
viewer preferences) and the document information come from the first part. The file is
written deterministically: same parts, same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem, Pdf, String

from .checked import sha256
from .furniture import draw
from .memo import digest
from .output import sink
from .pdfsave import save, word
from .subsets import Early, Program, programs, put, said, stubs

#: The catalog entries taken from the first part (the rest the join makes for the whole book;
#: nothing that acts, such as /OpenAction or /AA, is carried over).
CARRIED = ("/Lang", "/Metadata", "/OutputIntents", "/ViewerPreferences", "/PageMode",
           "/PageLayout", "/MarkInfo", "/Version")


@dataclass(frozen=True)
class Piece:
    """Pages ``start`` to ``stop`` (from 0, ``stop`` excluded) of the PDF at ``path``."""

    path: Path
    start: int
    stop: int
    #: It opens with the rest of the article before: its outline goes under that article's.
    continues: bool = False
    #: What the part is made from (its key among the kept parts; by default the SHA-256 of
    #: its file): the book's document ID is made of them.
    key: str = ""
    #: What the stubs of its fonts say, if known (builder.subsets.deferred's ``named``): the
    #: book's fonts are then subset while its pages are copied.
    stubs: tuple = ()
    #: Its named destinations and outline as :func:`marks_record` keeps them, if known (read
    #: where the part was laid out): not read from its file again.
    marks: dict | None = None


@dataclass(frozen=True)
class Pages:
    """The book's pages as the join has them before it adds to them (:func:`copied`: their
    fonts still stubs), with what the join adds that a booklet of them needs as well: the
    document information (each entry's bytes), the book's document ID (its first word, hex),
    the running heads and folios the pages draw, and the fonts' programs by face
    (:func:`builder.subsets.put`), told apart once they are subset; and how many pages
    there are."""

    pieces: tuple[Piece, ...]
    info: dict[str, bytes]
    origin: str
    count: int = 0
    #: What the pages draw of the running heads and folios (builder.furniture.draw's).
    furniture: tuple[bytes, list] | None = None
    fonts: dict[tuple[str, int], Program] | None = None


@contextmanager
def copied(pieces: Sequence[Piece]) -> Iterator[Pdf]:
    """The pages of ``pieces``, in order, in a new PDF (not written): copied by qpdf (its
    ``--pages``), each stream read from its part only when the PDF is written (pikepdf's own
    copy of a page would read every stream it uses into memory at once). The parts' files
    stay open, and must stay there, until it is closed. (The job writes nothing: how the PDF
    is written is its caller's, :func:`builder.pdfsave.save`.)"""
    args = ["qpdf", "--empty", "--keep-files-open=y", "--no-warn", "--warning-exit-0",
            "--pages"]
    for piece in pieces:
        args += [str(piece.path), f"{piece.start + 1}-{piece.stop}"]
    job = pikepdf.Job([*args, "--", "unused.pdf"])  # (an output it needs, never written)
    with job.create_pdf() as pdf:  # (the job holds the parts it copies from: kept till then)
        yield pdf
    del job


def join(pieces: list[Piece], out: Path, faces: Path | None = None, kept=None,
         ready: Callable[[Pages], None] | None = None,
         subset: Callable[[dict[tuple[str, int], Program]], None] | None = None,
         furniture: tuple[bytes, list] | None = None,
         press: Callable[[Pdf], dict] | None = None, furniture_stubs: tuple = ()) -> None:
    """Write the pages of ``pieces``, in order, as one PDF at ``out``; their fonts' stubs
    subset once from the faces kept in ``faces`` (:mod:`builder.subsets`; the subsets kept in
    the memo ``kept``, when given). ``ready`` is told of the book's pages, with what a booklet
    of them needs (:class:`Pages`), before the join starts on them, and ``subset`` of the
    fonts' programs as soon as they are subset. ``furniture``: the sheet of the running heads
    and folios and where each page draws them (:func:`builder.furniture.draw`), drawn on the
    book's pages before their fonts are subset (and on the booklet's, from :class:`Pages`).
    ``press``: what makes the book a PDF/X before it is written, and returns the options it
    is written with (:func:`builder.press.finish`). ``furniture_stubs``: what the stubs of
    the furniture sheet's fonts say, as each piece's ``stubs``: when every piece has them, the
    fonts are subset while the pages are copied (:class:`~builder.subsets.Early`).

    No photo is held in memory: the pages are copied by qpdf (:func:`copied`), which reads
    each stream from its part as the book is written, once the book's names, outline, catalog
    and fonts are added."""
    names: dict[str, tuple[int, list]] = {}
    outlines: list[list[tuple[str, int, tuple, list]]] = []
    offset = 0
    for piece in pieces:
        part_names, part_outline = marks(piece, kept)

        def where(i: int | None, piece=piece, offset=offset) -> int | None:
            return offset + i - piece.start if i is not None and \
                piece.start <= i < piece.stop else None
        for name, i, rest in part_names:
            page = where(i)
            if page is not None and name not in names:
                names[name] = (page, rest)
        outlines.append(_kept_pages(part_outline, where))
        offset += piece.stop - piece.start
    basis = ("book", *(f"{p.key or sha256(p.path)} {p.start} {p.stop} {p.continues}"
                       for p in pieces))
    with Pdf.open(pieces[0].path) as first:
        if ready is not None:
            info = first.trailer.get("/Info")
            ready(Pages(tuple(pieces), {k: bytes(v) for k, v in (info or {}).items()
                                        if isinstance(v, String)}, word(basis).hex(),
                        offset, furniture))
        # (started once ``ready`` has forked what it forks: no thread of this one is copied)
        early = Early(faces, kept, said([*furniture_stubs, *(
            s for p in pieces for s in p.stubs)])) if faces is not None and all(
            p.stubs for p in pieces) else None
        with copied(pieces) as book:
            if furniture is not None:
                draw(book, *furniture)
            found = stubs(book, faces) if faces is not None else {}
            fonts = {} if faces is None else early.programs(found) if early else programs(
                faces, kept, found)
            if subset is not None:
                subset(fonts)
            _catalog(book, first)
            if names:  # one Array made at once: extending one item by item costs n² here
                flat = Array([x for name in sorted(names) for x in (
                    String(name), Array([book.pages[names[name][0]].obj, *names[name][1]]))])
                book.Root.Names = book.make_indirect(Dictionary(Dests=Dictionary(Names=flat)))
            _write_outline(book, outlines, [p.continues for p in pieces])
            if faces is not None:
                put(book, fonts, found)
            options = {"object_stream_mode": pikepdf.ObjectStreamMode.generate,
                       **(press(book) if press is not None else {})}
            with sink(out) as fh:
                save(book, fh, basis, compress_streams=True, **options)


def _catalog(book: Pdf, src: Pdf) -> None:
    for key in CARRIED:
        if key in src.Root:
            book.Root[key] = _copy(book, src, src.Root[key])
    if src.trailer.get("/Info") is not None:
        book.trailer.Info = _copy(book, src, src.trailer.Info)


def _copy(book: Pdf, src: Pdf, value):
    """``value`` of ``src`` in ``book``: a plain value as it is, an object with what it uses."""
    if not isinstance(value, pikepdf.Object):
        return value
    return book.copy_foreign(value if value.is_indirect else src.make_indirect(value))


def _dests(src: Pdf):
    """(name, destination array) of the part's named destinations (a flat name tree, as
    WeasyPrint writes it, or one with kids)."""
    names = src.Root.get("/Names")
    tree = names.get("/Dests") if names is not None else None
    stack = [tree] if tree is not None else []
    while stack:
        node = stack.pop()
        stack.extend(reversed(list(node.get("/Kids", []))))
        flat = node.get("/Names", [])
        for i in range(0, len(flat) - 1, 2):
            dest = flat[i + 1]
            if isinstance(dest, Dictionary):
                dest = dest.get("/D", Array())
            if isinstance(dest, Array):
                yield str(flat[i]), dest


def marks(piece: Piece, kept=None) -> tuple[list, list]:
    """What a part has that links and the outline go to: its named destinations as (name,
    page in the part from 0, the rest of the destination), and its outline as (title, page in
    the part or None, left, top, children). Read from its file, or kept in the memo ``kept``
    by the part's key (a rebuild then opens only the parts laid out anew)."""
    key = digest("join marks", piece.key) if kept is not None and piece.key else None
    for found in (piece.marks, kept.get_record(key, {"names": list, "outline": list})
                  if key is not None else None):
        if isinstance(found, dict):
            try:
                return ([(n, i, [_value(v) for v in rest]) for n, i, rest in _names_of(found)],
                        _outline_of(found["outline"]))
            except (TypeError, ValueError, KeyError, ArithmeticError):
                pass  # not of that shape: read again, and kept again
    names, outline = read_marks(piece.path)
    if key is not None:
        record = marks_record(names, outline)
        if record is not None:  # (else read from the file each time)
            kept.put_record(key, record)
    return names, outline


def read_marks(path: Path) -> tuple[list, list]:
    """:func:`marks` of the part at ``path``, read from the file."""
    with Pdf.open(path) as src:
        index = {page.obj.objgen: i for i, page in enumerate(src.pages)}
        names = [(name, index.get(dest[0].objgen),
                  [Name(str(x)) if isinstance(x, Name) else x for x in dest[1:]])
                 for name, dest in _dests(src) if len(dest) and isinstance(dest[0], Dictionary)]
        return names, _outline(src, index)


def marks_record(names: list, outline: list) -> dict | None:
    """:func:`marks` as JSON data, as the memo keeps it (None: a value it cannot hold)."""
    try:
        return {"names": [[n, i, [_kept(v) for v in rest]] for n, i, rest in names],
                "outline": outline}
    except TypeError:
        return None


def _kept(value):
    """A destination's value as JSON data (a name, a real kept as its digits)."""
    if isinstance(value, Name):
        return {"name": str(value)}
    if isinstance(value, Decimal):
        return {"real": str(value)}
    if value is None or isinstance(value, bool | int | float):
        return value
    raise TypeError(f"not a value to keep: {type(value).__name__}")


def _value(data):
    if isinstance(data, dict):
        if set(data) == {"name"} and isinstance(data["name"], str) and \
                data["name"].startswith("/"):
            return Name(data["name"])
        if set(data) == {"real"} and isinstance(data["real"], str):
            return Decimal(data["real"])
        raise ValueError("not a kept value")
    if data is None or isinstance(data, bool | int | float):
        return data
    raise ValueError("not a kept value")


def _names_of(found: dict) -> list:
    out = []
    for entry in found["names"]:
        name, i, rest = entry
        if not isinstance(name, str) or not (i is None or type(i) is int) or \
                not isinstance(rest, list):
            raise ValueError("not a kept name")
        out.append((name, i, rest))
    return out


def _outline_of(items: list) -> list:
    out = []
    for title, i, left, top, children in items:
        if not isinstance(title, str) or not (i is None or type(i) is int) or not all(
                v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                for v in (left, top)) or not isinstance(children, list):
            raise ValueError("not a kept outline")
        out.append([title, i, left, top, _outline_of(children)])
    return out


def _outline(src: Pdf, index: dict[tuple[int, int], int]) -> list:
    """The part's outline as [title, page in the part or None, left, top, children]."""
    def walk(items) -> list:
        out = []
        for item in items:
            dest = item.destination
            page = index.get(dest[0].objgen) if isinstance(dest, Array) and len(dest) \
                and isinstance(dest[0], Dictionary) else None
            at = (_number(dest, 2), _number(dest, 3)) if page is not None else (None, None)
            out.append([item.title, page, *at, walk(item.children)])
        return out

    with src.open_outline() as outline:
        return walk(outline.root)


def _kept_pages(outline: list, where: Callable[[int | None], int | None]) -> list:
    """The outline as (title, page in the book, (left, top), children), without the entries
    on pages that are not kept (their children are kept in their place)."""
    out = []
    for title, i, left, top, children in outline:
        page, inner = where(i), _kept_pages(children, where)
        if page is not None:
            out.append((title, page, (left, top), inner))
        else:
            out.extend(inner)
    return out


def _write_outline(book: Pdf, outlines: list[list], continues: list[bool]) -> None:
    def make(title: str, page: int, at: tuple, children: list) -> OutlineItem:
        item = OutlineItem(title, page, "XYZ", left=at[0], top=at[1])
        item.children.extend(make(*c) for c in children)
        return item

    if not any(outlines):
        return
    top = [make(*entry) for entry in outlines[0]]
    rest: list[OutlineItem] = []
    for part, goes_on in zip(outlines[1:], continues[1:], strict=True):
        items = [make(*entry) for entry in part]
        (rest[-1].children if goes_on and rest else rest).extend(items)
    if top:
        top[-1].children.extend(rest)
    else:
        top = rest
    with book.open_outline() as outline:
        outline.root.extend(top)


def _number(dest: Array, i: int) -> float | None:
    try:
        return float(dest[i])
    except (IndexError, TypeError, ValueError):
        return None

