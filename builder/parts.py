"""The print PDF written in parts: the front matter, then each article on its own, each kept
by the hash of what it depends on, then joined (:mod:`builder.join`).

Why parts: WeasyPrint holds every page of a document until it writes it, so one document of
the whole book costs memory in proportion to the book; an article alone costs what that
article costs. And an article whose content and side did not change since the last build is
not laid out again.

How a part is made to look as it would inside the whole book:

* **Its side.** A part that follows ``P`` pages of the book, ``P`` odd (page ``P`` a
  right-hand one), is laid out behind one *lead* page, a right-hand one as a document's first
  page is. WeasyPrint then puts the part's first page where it would have in the whole book —
  on the next page, or after a blank one when the part must open on a right-hand page. The
  lead page is dropped when the parts are joined. After an even ``P`` the part's first page
  is a right-hand one, as its document's is: it has no lead page — unless a stylesheet styles
  a document's first page (``@page :first``, ``:nth()``) or the theme draws its own page
  numbers; then it has two, a right-hand and a left-hand one, so that its first page is not
  its document's. Its running heads and folios are drawn at the join
  (:mod:`builder.furniture`), so its pages do not depend on their numbers — unless the theme
  draws them with margin boxes: then the page counter is reset so that the last lead page is
  numbered ``P``, and WeasyPrint numbers the part's pages.
* **The contents' page numbers.** The front matter's ``target-counter()`` of an article points
  at the article's id; the front is laid out with one *stub* page per article at its end,
  carrying that id and numbered as the article's first page will be. The stubs are dropped too,
  and the contents' links go to the articles' own anchors in the joined book.

An article's page count does not depend on its page numbers, only on its side, so the book's
page numbers are found article by article; the front is laid out once more when they changed.
"""

from __future__ import annotations

import contextlib
import functools
import html as html_lib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import lxml.html

from . import checked, furniture, pdf, subsets
from .errors import OutputError
from .join import Pages, Piece, join, marks_record, read_marks
from .memo import Memo, code_version, digest
from .model import Box, Frame, PrintRendition
from .printcheck import Placed, resolution
from .workers import fork_map

#: A part holds consecutive articles until their planned pages reach this: most articles are
#: a part of their own, a few short ones go together. A smaller part is re-done for less when
#: one article changes and holds less in a layout process; each costs a document's set-up.
#: Measured on the bench corpus (20 articles, 277 pages): 32 pages (9 parts) against 12 (18
#: parts): warm build the same within noise, the rebuild of one article 4.2 → 3.9 s, the
#: PDF's peak memory with two processes 313 → 280 MB.
PART_PAGES = 12


@dataclass(frozen=True)
class Part:
    """One document of the book: the front matter (no articles), or consecutive articles with
    what follows each up to the next."""

    html: str
    articles: tuple[str, ...]  # the ids of its articles
    #: Those that go on from the article before (a long one's pieces, builder.pieces): they
    #: start on the next page, whatever its side.
    continued: frozenset[str] = frozenset()
    #: Each article's running head and language (a piece's: its article's title).
    titles: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Book:
    """What writing the book found: refused URLs, every id's box (pages of the whole book, from
    0), the page count, and each photo as printed."""

    refused: list[str]
    boxes: dict[str, Box]
    pages: int
    placed: list[Placed]


def split(html: str, planned: dict[str, int], least: int | None = None) -> list[Part]:
    """The planned print document as parts: everything before the first ``<article>`` (the
    front matter), then runs of articles (each with the elements after it up to the next one)
    of at least ``least`` planned pages (``planned``: pages by article id); the pieces of a
    long article each a part of its own. Each part is a whole document with the book's
    ``<head>``. ``least`` is :data:`PART_PAGES` by default."""
    least = PART_PAGES if least is None else least
    root = lxml.html.document_fromstring(html)
    head = lxml.html.tostring(root.find("head"), encoding="unicode")
    body = root.find("body")
    attrs = "".join(f' {k}="{_attr(v)}"' for k, v in root.attrib.items())
    body_attrs = "".join(f' {k}="{_attr(v)}"' for k, v in body.attrib.items())
    groups: list[tuple[list[str], list[str]]] = [([], [body.text or ""])]
    continued: set[str] = set()
    titles: dict[str, tuple[str, str]] = {}
    title = ("", "")
    pages, alone = 0, False
    for child in body:
        if isinstance(child.tag, str) and child.tag == "article":
            piece = "continued" in (child.get("class") or "").split()
            if not groups[-1][0] or pages >= least or piece or alone:
                groups.append(([], []))  # a long article's piece is a part by itself
                pages = 0
            alone = piece
            groups[-1][0].append(child.get("id") or "")
            pages += planned.get(child.get("id") or "", 1)
            if piece:
                continued.add(child.get("id") or "")
            else:
                heading = child.find(".//h1")
                title = (" ".join("".join(heading.itertext()).split()) if heading is not None
                         else "", child.get("lang") or root.get("lang") or "")
            titles[child.get("id") or ""] = title
        groups[-1][1].append(lxml.html.tostring(child, encoding="unicode"))
    return [Part(f"<!DOCTYPE html><html{attrs}>{head}<body{body_attrs}>{''.join(chunks)}"
                 "</body></html>", tuple(a for a in ids if a),
                 frozenset(a for a in ids if a in continued),
                 tuple(titles[a] for a in ids if a)) for ids, chunks in groups]


_FIRST_PAGE = re.compile(r"@page\b[^{;]*:(?:first|nth)\b", re.I)


def first_page_styled(stylesheets: dict[str, str]) -> bool:
    """Whether a stylesheet gives a document's first page styles of its own (``@page
    :first`` or ``@page :nth(…)``): a part's first page then stays off its document's."""
    return any(_FIRST_PAGE.search(re.sub(r"/\*.*?\*/", "", css, flags=re.S))
               for css in stylesheets.values())


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


@dataclass(frozen=True)
class _Laid:
    """A part as written: its PDF, its leading pages to drop (lead) and trailing (stubs), and
    what it holds, with pages counted in the part's own PDF."""

    path: Path
    pages: int
    lead: int
    stubs: int
    boxes: dict[str, Box]
    refused: tuple[str, ...]
    placed: tuple[Placed, ...]
    key: str
    frames: tuple[Frame, ...] = ()
    #: What its fonts' stubs say (builder.subsets.deferred's ``named``).
    stubs_named: tuple = ()
    #: Its named destinations and outline (builder.join.marks_record's), read as it was laid out.
    marks: dict | None = None

    @property
    def kept(self) -> int:
        return self.pages - self.lead - self.stubs


@dataclass(frozen=True)
class _Job:
    """A part as it is to be laid out: its document, extra stylesheet and key."""

    key: str
    html: str
    css: str
    lead: int
    stubs: int


class _Writer:
    """Lays parts out, or finds them in the memo (or among those laid out ahead, in parallel)."""

    def __init__(self, rendition: PrintRendition, kept: Memo, scratch: Path,
                 count: Callable[[str, bool], None], faces: Path | None,
                 finish: Callable[[Path], None] | None = None):
        self.rendition, self.kept, self.scratch, self.count = rendition, kept, scratch, count
        self.faces, self.finish = faces, finish
        #: The parts laid out ahead, by key: their records, and where the memo keeps them.
        self.ahead: dict[str, tuple[dict, Path | None]] = {}
        self.looked: dict[str, _Laid | None] = {}  # what the memo gave, by key
        self.base = digest(code_version(), rendition.serif_font, rendition.sans_font,
                           rendition.variant,
                           *(f"{k}\0{v}" for k, v in sorted(rendition.stylesheets.items())))
        #: The theme draws the furniture (its margin boxes show the page numbers): each part
        #: is laid out with its page numbers, not only on its side (builder.furniture).
        self.numbered = furniture.drawn_by_theme(rendition.stylesheets)
        #: A part after an even page count is laid out behind two lead pages, not none.
        self.leads = self.numbered or first_page_styled(rendition.stylesheets)

    def job(self, part: Part, after: int, starts: dict[str, int]) -> _Job:
        """``part`` laid out after ``after`` pages of the book (what matters of it: the side
        it starts on, and its page numbers when the theme draws them); ``starts``: the first
        page number of each article, for the front's stubs."""
        lead = 1 if after % 2 else (2 if after and self.leads else 0)
        html, css = part.html, ""
        if lead:
            leads = '<div class="plan-lead" style="break-after: page"></div>' * lead
            at = html.index(">", html.index("<body")) + 1
            html = html[:at] + leads + html[at:]
            if self.numbered:
                css = f"@page :first {{ counter-reset: page {after - lead + 1}; }}"
        stubs = list(starts) if not part.articles else []
        if stubs:
            at = html.rindex("</body>")
            html = html[:at] + "".join(
                f'<div id="{aid}" class="plan-stub" style="page: plan-stub-{n}; '
                'break-before: page"></div>' for n, aid in enumerate(stubs)) + html[at:]
            css += "".join(f"@page plan-stub-{n} {{ counter-reset: page {starts[aid]}; }}"
                           for n, aid in enumerate(stubs))
        return _Job(digest(self.base, html, css), html, css, lead, len(stubs))

    def found(self, job: _Job) -> _Laid | None:
        """The part of ``job`` from the memo, if it is there and sound (looked up once)."""
        if job.key not in self.looked:
            self.looked[job.key] = self._find(job)
        return self.looked[job.key]

    def _find(self, job: _Job) -> _Laid | None:
        record = self.kept.get_record(job.key, {"pages": int, "boxes": dict, "refused": list,
                                                "placed": list, "sha256": str, "faces": list,
                                                "frames": list, "stubs": list,
                                                "marks": dict | None})
        path = self.kept.file(job.key, ".pdf")
        if record is None or path is None or not checked.check(path, record["sha256"]):
            return None
        if record["faces"] and (self.faces is None or not all(
                isinstance(f, str) and subsets.intact(self.faces, f) for f in record["faces"])):
            return None  # its fonts' faces are gone: laid out again, which keeps them
        try:
            return self._laid(path, record, job)
        except (TypeError, ValueError, KeyError):
            return None  # a damaged record: laid out again

    def part(self, part: Part, after: int, starts: dict[str, int]) -> _Laid:
        """``part`` after ``after`` pages: kept, laid out ahead, or laid out now."""
        return self.laid(self.job(part, after, starts))

    def sheet(self, prefix: str, runs: furniture.Runs, width: float | None) -> _Job:
        """The job of the furniture's sheet (:func:`builder.furniture.sheet`)."""
        html = furniture.sheet(prefix, runs, width)
        return _Job(digest(self.base, "furniture", html, furniture.SHEET_CSS), html,
                    furniture.SHEET_CSS, 0, 0)

    def laid(self, job: _Job, counted: bool = True) -> _Laid:
        """``job``'s document: kept, laid out ahead, or laid out now (and, when ``counted``,
        told to ``count`` as one of the book's parts)."""
        laid = self.found(job)
        if counted:
            self.count("PDF parts", laid is not None)
        if laid is not None:
            return laid
        record, kept = self.ahead.pop(job.key, None) or _lay_out(
            self.rendition, job, self.scratch, self.faces, self.finish, self.kept)
        # the book is joined from the scratch copy; the kept one is stamped when it is gone
        checked.written(kept, record["sha256"])
        path = self.scratch / f"{job.key}.pdf"
        self.looked[job.key] = self._laid(path, record, job)  # asked again: not laid out again
        return self.looked[job.key]

    def pages(self, part: Part, starts: dict[str, int], lay_out: bool = True) -> int | None:
        """The pages of ``part``'s own (the front's: without its stubs), from a layout that
        writes nothing; kept in the memo by the part's key (None: not kept, and not
        ``lay_out``)."""
        job = self.job(part, 0, starts)
        key = digest(job.key, "pages")
        found = self.kept.get_record(key, {"pages": int})
        if found is not None and found["pages"] >= 1:
            return found["pages"]
        if not lay_out:
            return None
        pages = pdf.page_count(replace(self.rendition, html=job.html), job.css) - job.lead \
            - job.stubs
        if pages < 1:
            raise OutputError("the front matter laid out to no page of its own; please "
                              "report this book", "--theme")
        self.kept.put_record(key, {"pages": pages})
        return pages

    def ahead_of_time(self, jobs: list[_Job], workers: int) -> None:
        """Lay out ``jobs`` (those not in the memo) in ``workers`` processes, so that
        :meth:`part` finds them laid out when it asks for them in order."""
        todo = [j for j in jobs if self.found(j) is None and j.key not in self.ahead]
        if workers < 2 or len(todo) < 2:
            return
        records = fork_map(_lay_out_in_worker, todo, workers,
                           (self.rendition, self.scratch, self.faces, self.finish, self.kept),
                           functools.partial(warm_up, self.rendition, self.faces))
        self.ahead.update({j.key: r for j, r in zip(todo, records, strict=True)})

    @staticmethod
    def _laid(path: Path, record: dict, job: _Job) -> _Laid:
        boxes = {k: Box(int(v[0]), *(float(x) for x in v[1:5]))
                 for k, v in record["boxes"].items()}
        placed = tuple(Placed(str(u), int(p), float(i), float(d))
                       for u, p, i, d in record["placed"])
        frames = tuple(Frame(bool(b), str(n), (float(t), float(r), float(bm), float(lf)),
                             (float(w), float(h))) for b, n, t, r, bm, lf, w, h in record["frames"])
        named = tuple((str(f), int(i), tuple(int(g) for g in glyphs), bool(n), bool(h))
                      for f, i, glyphs, n, h in record["stubs"])
        laid = _Laid(path, int(record["pages"]), job.lead, job.stubs, boxes,
                     tuple(str(r) for r in record["refused"]), placed, job.key, frames, named,
                     record.get("marks"))
        if len(frames) != laid.pages:
            raise ValueError("a part whose pages' frames are not all there")
        if laid.kept < 1:
            raise ValueError("a part without pages of its own")
        return laid


#: A text of both scripts of the books, for :func:`warm_up`.
_SAMPLE = "国文 Aa"
_warmed = False  # whether this process (or the one it was forked from) has warmed up


def warm_up(rendition: PrintRendition, faces: Path | None) -> None:
    """Lay out and write a small document in ``rendition``'s theme (to nowhere: what is
    written is not kept), once in a process, before it forks the processes that lay out the
    parts or measure the blocks: what WeasyPrint does for the first document of a process (the
    families' faces found by fontconfig and loaded, its C declarations parsed, its PDF writer
    and Pillow's plugins imported, the faces' stubs found in ``faces``, where no face is kept
    for it: the book may not use its faces) is then done once, and the processes are forked
    with it done. A fresh process's first part cost some 0.1-0.15 s of CPU more without it,
    some 0.02-0.05 s more with it (the bench corpus)."""
    global _warmed
    if _warmed:
        return
    _warmed = True
    photo = min((name for name, asset in rendition.assets.items()
                 if asset.media_type == "image/jpeg"), default=None)
    img = f'<img src="{pdf.ASSETS}{html_lib.escape(photo)}" alt="">' if photo else ""
    text = f"{_SAMPLE} <b>{_SAMPLE}</b> <i>{_SAMPLE}</i>"
    body = (f"<h1>{_SAMPLE}</h1><p>{text}</p>"
            + "".join(f'<p style="font-family: var(--{family})">{text}</p>'
                      for family in ("serif", "sans"))
            + f"<figure>{img}<figcaption>{text}</figcaption></figure>")
    head = rendition.html[:rendition.html.index("<body")] if "<body" in rendition.html else ""
    with subsets.deferred(faces, keep=False):  # (its faces known, not kept: it is not kept)
        pdf.write_pdf(replace(rendition, html=f"{head}<body>{body}</body></html>"),
                      Path(os.devnull))


def _lay_out_in_worker(shared: tuple, job: _Job) -> tuple[dict, Path | None]:
    return _lay_out(shared[0], job, *shared[1:])


def _lay_out(rendition: PrintRendition, job: _Job, scratch: Path, faces: Path | None,
             finish: Callable[[Path], None] | None, kept: Memo) -> tuple[dict, Path | None]:
    """Write the part of ``job`` to ``scratch/KEY.pdf`` (its fonts' faces kept in ``faces``,
    to be subset at the join; ``finish`` then done to the file: its photos made CMYK for a
    PDF/X-1a) and keep it in ``kept`` (here, in a worker beside the others, not after them
    all); return its record, and where it is kept (None: it could not be)."""
    path = scratch / f"{job.key}.pdf"
    named: list = []
    with subsets.deferred(faces, named=named) as used:
        written = pdf.write_pdf(replace(rendition, html=job.html), path, job.css)
    placed = resolution(path, rendition.assets)
    if finish is not None:
        finish(path)
        pdf.release_memory()  # what it held (the part's photos, converted) given back
    found = marks_record(*read_marks(path))  # (read here, beside the other parts: not at the join)
    record = {"pages": written.pages, "refused": written.refused,
              "sha256": checked.sha256(path), "faces": sorted(used), "stubs": named,
              "marks": found,
              "boxes": {k: [b.page, b.x0, b.y0, b.x1, b.y1] for k, b in written.boxes.items()},
              "frames": [[f.blank, f.name, *f.margins, *f.size] for f in written.frames],
              "placed": [[p.url, p.page, p.inches, p.dpi] for p in placed]}
    copy = kept.put_copy(job.key, ".pdf", path)
    kept.put_record(job.key, record)
    return record, copy


def _furnished(pieces: list[_Laid], parts: list[Part]) -> list[furniture.Page]:
    """The book's pages as the furniture sees them: each kept page's frame, its number, and
    the title of the article it is a page of."""
    out: list[furniture.Page] = []
    for piece, part in zip(pieces, parts, strict=True):
        opens = sorted((piece.boxes[aid].page, title) for aid, title in
                       zip(part.articles, part.titles, strict=True) if aid in piece.boxes)
        for page in range(piece.lead, piece.pages - piece.stubs):
            title = next((t for first, (t, _) in reversed(opens) if first <= page), "")
            out.append(furniture.Page(piece.frames[page], len(out) + 1, title))
    return out


def _predicted(parts: list[Part], after: int, planned: dict[str, int],
               open_right: bool) -> tuple[list[int], dict[str, int]]:
    """Where each part will start (the pages before it), and each article's first page
    number, from the planned page counts: an article opens on a right-hand page (an odd one)
    when ``open_right``."""
    out, starts = [], {}
    for part in parts:
        out.append(after)
        for aid in part.articles:
            if open_right and after % 2 and aid not in part.continued:
                after += 1
            starts[aid] = after + 1
            after += planned.get(aid, 1)
    return out, starts


def front_pages(rendition: PrintRendition, kept: Memo, lay_out: bool = True) -> int | None:
    """The pages of the front matter of ``rendition``, planned or not (the plan does not
    change them), as :func:`write_book` first counts them: kept in ``kept``, or laid out
    (None: not kept, and not ``lay_out``). For :func:`write_book`'s ``front_pages``, so that
    they can be counted beside the measuring of the articles, not after it."""
    parts = split(rendition.html, {})
    writer = _Writer(rendition, kept, Path(), lambda kind, kept: None, None)
    return writer.pages(parts[0], _starts(parts[1:]), lay_out)


def _starts(articles: list[Part]) -> dict[str, int]:
    """The first page of each article (not of its pieces: the contents name articles), all 0
    until they are known."""
    return {aid: 0 for p in articles for aid in p.articles if aid not in p.continued}


def write_book(rendition: PrintRendition, path: Path, kept: Memo, planned: dict[str, int],
               open_right: bool = True, workers: int = 1,
               count: Callable[[str, bool], None] = lambda kind, kept: None,
               faces: Path | None = None,
               ready: Callable[[Pages, list[tuple[str, int, int]]], None] | None = None,
               subset: Callable | None = None,
               text_width: float | None = None, finish: Callable[[Path], None] | None = None,
               press: Callable | None = None, scratch: Path | None = None,
               front_pages: int | None = None) -> Book:
    """Write the planned print document ``rendition`` to ``path`` in parts (kept in ``kept``;
    ``planned``: each article's planned pages) and return what it holds. With ``workers`` > 1
    the parts are laid out that many at a time, each in a process of its own, where the plan
    says they will start (one that starts elsewhere is laid out again). ``count("PDF parts",
    kept)`` is told of each part laid out or kept. With ``faces`` (a folder), each font is
    subset once for the whole book (:mod:`builder.subsets`), not once per part. ``ready``
    and ``subset``: as :func:`~builder.join.join`'s, ``ready`` told besides of each part's
    key, first page in the book (from 0) and pages there. ``scratch``: the folder where the parts
    laid out now are written (they are read from there until it is removed; by default a
    folder beside ``path`` removed when the book is written). Unless the theme draws them, the
    running heads (at most ``text_width`` mm wide: by default the page's) and the folios are
    drawn on the pages at the join (:mod:`builder.furniture`). ``finish`` is done to each part
    laid out, before it is kept (its photos made CMYK for a PDF/X-1a, :mod:`builder.press`);
    ``press``, to the joined book before it is written (as :func:`~builder.join.join`'s).
    ``front_pages``: the front matter's pages as :func:`front_pages` counted them, if it
    has (the first guess of where the articles start; it is checked all the same)."""
    parts = split(rendition.html, planned)
    front, articles = parts[0], parts[1:]
    with (contextlib.nullcontext(scratch) if scratch is not None else
          tempfile.TemporaryDirectory(prefix=".builder-parts-", dir=path.parent)) as folder:
        writer = _Writer(rendition, kept, Path(folder), count, faces, finish)
        starts = _starts(articles)
        runs = furniture.Runs(tuple(dict.fromkeys(
            t for p in articles for t in p.titles if t[0])))
        sheet = None if writer.numbered else writer.sheet(
            front.html[:front.html.index("<body")], runs, text_width)
        if front_pages is None:
            front_pages = writer.pages(front, starts)
        for _ in range(3):  # the front's length may change with its page numbers: rarely
            afters, expected = _predicted(articles, front_pages, planned, open_right)
            # the front too, with the page numbers the plan gives: laid out beside the parts
            # (and found laid out below) when the parts land where they are planned
            expected = {aid: n for aid, n in expected.items() if aid in starts}
            writer.ahead_of_time(([sheet] if sheet else []) + [writer.job(front, 0, expected)] + [
                writer.job(p, a, {}) for p, a in zip(articles, afters, strict=True)], workers)
            after, laid = front_pages, []
            for part in articles:
                laid.append(writer.part(part, after, {}))
                for aid in part.articles:
                    first = laid[-1].boxes.get(aid) if aid in starts else None
                    if first is not None:
                        starts[aid] = after + 1 + first.page - laid[-1].lead
                after += laid[-1].kept
            laid_front = writer.part(front, 0, starts)
            if laid_front.kept == front_pages:
                break
            front_pages = laid_front.kept
        else:  # pragma: no cover - a contents whose length keeps changing with its numbers
            raise OutputError("the contents' page numbers did not settle after three layouts; "
                              "please report this book", str(path))
        pieces = [laid_front, *laid]
        spans, at = [], 0
        for piece in pieces:
            spans.append((piece.key, at, piece.kept))
            at += piece.kept
        furnished = None
        if sheet is not None:
            runs_laid = writer.laid(sheet, counted=False)
            drawn = furniture.placements(_furnished(pieces, parts), runs, runs_laid.boxes)
            furnished = (runs_laid.path.read_bytes(), drawn) if drawn else None
        join([Piece(p.path, p.lead, p.pages - p.stubs,
                    bool(part.articles) and part.articles[0] in part.continued, p.key,
                    p.stubs_named, p.marks) for p, part in zip(pieces, parts, strict=True)],
             path, faces, kept, (lambda pages: ready(pages, spans)) if ready else None, subset,
             furnished, press, runs_laid.stubs_named if furnished else ())
    if scratch is None:  # the folder of the parts laid out now is gone: they are kept as they are
        checked.stamp_written()
    boxes: dict[str, Box] = {}
    placed: list[Placed] = []
    refused: list[str] = []
    offset = 0
    for piece in pieces:
        shift = offset - piece.lead
        for name, box in piece.boxes.items():
            if piece.lead <= box.page < piece.pages - piece.stubs:
                boxes.setdefault(name, replace(box, page=box.page + shift))
        placed += [replace(p, page=p.page + shift) for p in piece.placed
                   if piece.lead < p.page <= piece.pages - piece.stubs]
        refused += [r for r in piece.refused if r not in refused]
        offset += piece.kept
    return Book(refused, boxes, offset, placed)
