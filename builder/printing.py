"""The print outputs of a build: the book's PDF laid out and written in parts, made a PDF/X
when the settings ask (:mod:`.press`), preflighted (:mod:`.preflight`), imposed as a booklet
(:mod:`.impose`), and the cover on its own for a print shop. Each PDF library is imported here,
so an EPUB-only build loads none."""

from __future__ import annotations

import functools
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from . import checked
from .ahead import Ahead
from .ahead import possible as ahead_possible
from .errors import OutputError
from .impose import cover_spreads, impose_booklet, impose_pages
from .join import copied
from .layout import check, plan_print
from .memo import Memo, digest
from .model import PrintRendition
from .output import writing
from .parts import front_pages, warm_up, write_book
from .preflight import NAMES, Finding, Result, folded, preflight
from .report import BuildReport
from .settings import Settings
from .signals import shielded
from .workers import fork_map

#: Below this effective resolution a placed photo prints soft (a warning).
MIN_DPI = 150
#: A booklet of at most this many pages is imposed beside the join (see _Booklet): its
#: pages' objects (some 70 KB a page) and the join's are held at once.
BESIDE_PAGES = 400
#: How many of a failed preflight's problems the error names.
NAMED_PROBLEMS = 3


def print_apart(rendition: PrintRendition, settings: Settings, name: str,
                tmp: Path) -> tuple[dict[str, Path], BuildReport]:
    """The print outputs (in the process ahead, or in the build's with one job), with a report
    of their own for the build to take in."""
    report = BuildReport()
    return write_print(rendition, settings, name, tmp, report,
                       functools.partial(Memo.of, settings)), report


def write_print(rendition: PrintRendition, settings: Settings, name: str, tmp: Path,
                report: BuildReport, memo: Callable[[str], Memo]) -> dict[str, Path]:
    """Write the PDF (and the booklet, and the separate cover) of ``rendition`` into ``tmp``;
    return them by kind."""
    pdf = settings.pdf
    shop = pdf.variant.startswith("pdf/x")
    profile = pdf.variant if shop else "home"
    booklet = tmp / f"{name}-booklet.pdf" if "booklet" in settings.formats else None
    # A book that is not made a PDF/X afterwards is preflighted and imposed from its pages
    # beside the join, each in a process of its own that copies them from the parts as the
    # join does; the booklet's makes its sheets meanwhile and takes their fonts once the join
    # has subset them.
    # (The booklet is imposed from the pages with one job too, here, so that it is the same
    # bytes whatever the jobs.)
    beside = not shop and settings.jobs > 1 and ahead_possible()
    early = _Preflight(booklet is not None, memo("parts"), report.count) if beside else None
    imposing = _Booklet(booklet, pdf, beside) if booklet and not shop else None

    def ready(pages, spans: list[tuple[str, int, int]]) -> None:
        if early is not None:
            early.start(pages, spans)
        if imposing is not None:
            imposing.impose(pages)

    # The parts laid out now: the processes beside the join read them until they end.
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-parts-", dir=tmp))
    try:
        written = _write(rendition, settings, name, tmp, report, memo, scratch,
                         ready if early or imposing else None,
                         imposing.fonts if imposing else None)
        kinds = tuple(k for k in ("pdf", "cover") if k in written
                      and not (k == "pdf" and early is not None and early.started))
        tasks = ([("preflight", kinds)] if kinds else []) + \
            ([("impose", ())] if booklet and not (imposing and imposing.started) else [])
        # Each only reads the book: side by side when there are two processes to give them.
        done = dict(fork_map(_finish, tasks, settings.jobs, (written, profile, booklet, pdf)))
        if imposing is not None and imposing.started:  # (here, beside the preflight)
            done["impose"] = imposing.result()
        found, took = done.get("preflight", ({}, 0.0))
        if early is not None and early.started:
            found_early, took_early = early.result()
            found, took = {**found_early, **found}, round(took + took_early, 4)
    finally:
        for process in (early, imposing):
            if process is not None:
                process.close()
        shutil.rmtree(scratch, ignore_errors=True)
        checked.stamp_written()  # the parts kept: their scratch names are gone
    report.timings["preflight"] = took
    _passed(found, profile, report)
    if booklet:
        imposed, report.timings["impose"] = done["impose"]
        written["booklet"] = booklet
        report.imposition = {"sheet_sides": imposed.sides, "signatures": list(imposed.signatures),
                             "creep_mm": imposed.creep_mm,
                             "how": imposed.how(f"{name}-booklet.pdf")}
    if "pdf" not in settings.formats:
        written.pop("pdf").unlink()
    return written


def _write(rendition: PrintRendition, settings: Settings, name: str, tmp: Path,
           report: BuildReport, memo: Callable[[str], Memo], scratch: Path,
           ready: Callable | None, subset: Callable | None) -> dict[str, Path]:
    """The PDF laid out (its new parts in ``scratch``), joined, checked against its plan and
    (as the settings ask) made a PDF/X, and its separate cover: by kind. ``ready`` and
    ``subset``: told of the book's pages (and its parts' spans) before the join starts on
    them, and of their fonts once subset (:func:`~builder.parts.write_book`'s)."""
    pdf = settings.pdf
    written: dict[str, Path] = {}
    # The front matter's pages, which the articles' parts need: counted beside the measuring
    # (and the page area's, and the measuring documents' making), in a process forked warm.
    front = front_pages(rendition, memo("parts"), lay_out=False)
    warm = functools.partial(warm_up, rendition, settings.cache_dir / "fonts")
    counting = None
    if front is None and settings.jobs > 1 and ahead_possible():
        warm()
        counting = Ahead.run(front_pages, rendition, memo("parts"))
    try:
        with report.timed("layout"):
            laid = plan_print(rendition, pdf.size_mm, memo("layout"), report.count,
                              settings.jobs, warm)
        if front is None:
            front = counting.result() if counting else front_pages(rendition, memo("parts"))
    finally:
        if counting is not None:
            counting.close()
    book = written["pdf"] = tmp / f"{name}.pdf"
    shop = pdf.variant.startswith("pdf/x")
    finish = press = None
    if shop:  # the book made a PDF/X as it is joined; a PDF/X-1a's photos part by part
        with shielded():
            from PIL import ImageCms  # noqa: F401 - its native part, loaded shielded

            from .press import cmyk_photos, convert
            from .press import finish as make_press

        cache = _cache(settings.cache_dir)
        press = functools.partial(make_press, variant=pdf.variant, cache=cache)
        if pdf.variant == "pdf/x-1a":
            finish = functools.partial(cmyk_photos, cache=cache)
    with report.timed("pdf"), writing(book):
        result = write_book(laid.rendition, book, memo("parts"),
                            {aid: len(plan.pages) for aid, plan in laid.plans.items()},
                            pdf.open_right, settings.jobs, report.count,
                            settings.cache_dir / "fonts", ready, subset, laid.area.width,
                            finish, press, scratch, front)
    for url in result.refused:
        report.warn(f"PDF: refused to load {url}")
    report.layout = check(laid, result.boxes, result.pages)
    if report.layout["disagreement_count"]:
        report.warn(f"print: {report.layout['disagreement_count']} block(s) did not land "
                    f"on their planned page, e.g. {report.layout['disagreements'][0]}")
    report.placed = [vars(p) for p in result.placed]
    for p in result.placed:
        if p.dpi < MIN_DPI:
            report.warn(f"print: {p.url} on page {p.page} is {p.dpi:.0f} dpi at "
                        f"{p.inches * 25.4:.0f} mm wide (below {MIN_DPI} dpi: it will "
                        "print soft)")
    if pdf.cover_separate:
        cover = written["cover"] = tmp / f"{name}-cover.pdf"
        with writing(cover):
            cover_spreads(book, cover)
            if shop:
                convert(cover, pdf.variant)
    return written


class _Preflight:
    """The book's preflight for home printing (``booklet``: its pages are a booklet's),
    beside the join, in a process of its own. What each part's pages were found to have is
    kept in ``kept`` by the part's key: only the pages of parts not preflighted before are
    read (a rebuild after one article changed reads that article's). ``count("preflighted
    parts", kept)`` is told of each part."""

    def __init__(self, booklet: bool, kept: Memo, count: Callable[[str, bool], None]):
        self.booklet, self.kept, self.count = booklet, kept, count
        self.process: Ahead | None = None
        self.spans: list[tuple[str, int, int]] = []
        self.found: dict[str, list] = {}  # by part key: its pages' findings, kept before

    @property
    def started(self) -> bool:
        return self.process is not None

    def start(self, pages, spans: list[tuple[str, int, int]]) -> None:
        """Preflight the pages of the book (a :class:`~builder.join.Pages`; each part's key,
        first page and pages: ``spans``)."""
        self.spans = spans
        for key, _, _ in spans:
            record = self.kept.get_record(_findings_key(key), {"findings": list})
            if record is not None and all(_finding(f) for f in record["findings"]):
                self.found[key] = record["findings"]
            self.count("preflighted parts", key in self.found)
        todo = sorted(p for key, first, count in spans if key not in self.found
                      for p in range(first, first + count))
        self.process = Ahead.run(preflighted_pages, pages, self.booklet, todo)

    def result(self) -> tuple[dict, float]:
        """The book's preflight: what the pages read were found to have (each part's kept
        for the next build) and what the parts kept before had."""
        found, took = self.process.result()
        book = found["pdf"]
        whole = [f for f in book.findings if f.page == 0]
        pages = [f for f in book.findings if f.page]
        for key, first, count in self.spans:
            if key in self.found:
                pages += [Finding(first + n + 1, message, fails)
                          for n, message, fails in self.found[key]]
            else:
                mine = [[f.page - 1 - first, f.message, f.fails] for f in book.findings
                        if first < f.page <= first + count]
                self.kept.put_record(_findings_key(key), {"findings": mine})
        book.findings = whole + sorted(pages, key=lambda f: f.page)
        return found, took

    def close(self) -> None:
        if self.process is not None:
            self.process.close()


class _Booklet:
    """The booklet imposed from the book's pages (:func:`~builder.impose.impose_pages`): in a
    process of its own while the join writes the book (``apart``), started before the join
    starts on the pages (it copies them from the parts itself and makes its sheets meanwhile)
    and given their fonts once the join has subset them; or here, once the fonts are subset,
    before the join goes on (with one job). A book of more than :data:`BESIDE_PAGES` pages is
    imposed here once the join is done: the booklet's pages held at once with the join's would
    make the build's memory grow with the book."""

    def __init__(self, booklet: Path, pdf, apart: bool):
        self.booklet, self.pdf, self.apart = booklet, pdf, apart
        self.process: Ahead | None = None
        self.done: tuple | None = None
        self.pages = None  # the pages (join.Pages), their fonts to come
        self.later = None  # the pages with their fonts, to impose once the join is done

    @property
    def started(self) -> bool:
        return self.process is not None or self.done is not None or self.later is not None

    def impose(self, pages) -> None:
        """Impose ``pages`` (a :class:`~builder.join.Pages`, its fonts to come:
        :meth:`fonts`) into the booklet."""
        self.pages = pages
        if self.apart and pages.count <= BESIDE_PAGES:
            self.process = Ahead.run(imposed, pages, self.booklet, self.pdf.signature,
                                     self.pdf.creep_mm, follows=True)

    def fonts(self, fonts: dict) -> None:
        """The pages' fonts, subset (:func:`builder.subsets.put`'s)."""
        if self.process is not None:
            self.process.follow(fonts)
        elif self.apart:
            self.later = replace(self.pages, fonts=fonts)
        else:
            self.done = imposed(replace(self.pages, fonts=fonts), self.booklet,
                                self.pdf.signature, self.pdf.creep_mm)

    def result(self) -> tuple:
        if self.later is not None and self.done is None:
            self.done = imposed(self.later, self.booklet, self.pdf.signature, self.pdf.creep_mm)
        return self.done if self.done is not None else self.process.result()

    def close(self) -> None:
        if self.process is not None:
            self.process.close()


def _findings_key(part: str) -> str:
    return digest(part, "preflight", "home")


def _finding(value) -> bool:
    """Whether a kept finding has the shape :meth:`_Preflight.result` gives it."""
    return isinstance(value, list) and len(value) == 3 and isinstance(value[0], int) and \
        value[0] >= 0 and isinstance(value[1], str) and isinstance(value[2], bool)


def _finish(shared: tuple, task: tuple[str, tuple[str, ...]]) -> tuple[str, tuple]:
    """One of the steps after the book is written, and how long it took: the ``preflight`` of
    the files it names (the book, its separate cover) or the ``impose``-d booklet."""
    written, profile, booklet, pdf = shared
    what, kinds = task
    if what == "preflight":
        return what, preflighted({kind: written[kind] for kind in kinds}, profile,
                                 booklet is not None)
    start = time.perf_counter()
    with writing(booklet):
        found = impose_booklet(written["pdf"], booklet, pdf.signature, pdf.creep_mm)
    return what, (found, round(time.perf_counter() - start, 4))


def imposed(pages, booklet: Path, signature: int, creep_mm: float,
            fonts: Callable[[], dict] | None = None) -> tuple:
    """The booklet of the book's pages (:class:`~builder.join.Pages`), and how long it took;
    ``fonts``: what gives their fonts when they come after the pages (waiting for them)."""
    start = time.perf_counter()
    with writing(booklet):
        found = impose_pages(pages, booklet, signature, creep_mm, fonts)
    return found, round(time.perf_counter() - start, 4)


def preflighted(files: dict[str, Path], profile: str, booklet: bool,
                only: list[int] | None = None) -> tuple[dict, float]:
    """The preflight of each file (``pdf``: the book, whose pages may be a booklet's, and of
    which only the pages ``only`` are read when given; ``cover``), and how long it took."""
    start = time.perf_counter()
    found = {kind: preflight(path, profile, booklet=booklet and kind == "pdf",
                             only=set(only) if only is not None and kind == "pdf" else None)
             for kind, path in files.items()}
    return found, round(time.perf_counter() - start, 4)


def preflighted_pages(pages, booklet: bool, only: list[int]) -> tuple[dict, float]:
    """The home preflight of the book's pages as the join has them (a
    :class:`~builder.join.Pages`), of which only the pages ``only`` (from 0) are read, and how
    long it took. Only the parts that have those pages are copied (a rebuild after one
    article changed copies that article's), one at a time: what the process holds is one
    part's pages, not the book's (the home preflight finds nothing of a document as a whole,
    and each part's fonts are objects of its own, told once either way)."""
    start = time.perf_counter()
    wanted, first = set(only), 0
    result = Result("home", pages.count, folded(pages.count) if booklet else [])
    for piece in pages.pieces:
        span = range(first, first + piece.stop - piece.start)  # its pages in the book
        first = span.stop
        if not wanted.intersection(span):
            continue
        with copied([piece]) as some:
            found = preflight(some, "home", only={n for n, page in enumerate(span)
                                                  if page in wanted})
        result.findings += [replace(f, page=span[f.page - 1] + 1) if f.page else f
                            for f in found.findings]
    return {"pdf": result}, round(time.perf_counter() - start, 4)


def _passed(found: dict, profile: str, report: BuildReport) -> None:
    """The preflight of the book (and of its separate cover) into the report; a PDF/X that
    does not conform fails the build, naming what does not."""
    for kind, result in found.items():
        report.preflight[kind] = result.to_json()
        if not result.passed:
            named = "; ".join(f.line().removeprefix("problem: ")
                              for f in result.problems[:NAMED_PROBLEMS])
            more = len(result.problems) - NAMED_PROBLEMS
            raise OutputError(
                f"the {kind} is not a {NAMES[profile]}: {named}"
                + (f"; and {more} more" if more > 0 else "")
                + " (run 'builder preflight' on a build without --pdf-variant to see all)",
                "--pdf-variant")


def _cache(cache_dir: Path):
    """Converted photos kept in the image store of ``cache_dir``, by the key :mod:`.press`
    gives. (The store and Pillow are imported for a PDF/X only.)"""
    from .photos import Prepared
    from .store import Store

    store = Store(cache_dir)

    def cached(key: str, make: Callable[[], bytes]) -> bytes:
        return store.derived(key, lambda: Prepared(make(), "image/jpeg", 0, 0)
                             ).path.read_bytes()

    return cached
