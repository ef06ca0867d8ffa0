"""The print outputs of a build: the book's PDF laid out and written in parts, made a PDF/X
when the settings ask (:mod:`.press`), preflighted (:mod:`.preflight`), imposed as a booklet
(:mod:`.impose`), and the cover on its own for a print shop. Each PDF library is imported here,
so an EPUB-only build loads none."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path

from .ahead import Ahead
from .ahead import possible as ahead_possible
from .errors import OutputError
from .impose import cover_spreads, impose_booklet
from .layout import check, plan_print
from .memo import Memo
from .model import PrintRendition
from .output import writing
from .parts import write_book
from .preflight import NAMES, preflight
from .report import BuildReport
from .settings import Settings
from .signals import shielded
from .workers import fork_map

#: Below this effective resolution a placed photo prints soft (a warning).
MIN_DPI = 150
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
    # A book that is not made a PDF/X afterwards is preflighted from its pages as soon as the
    # join has copied them, beside the rest of the join and the imposition.
    early = _Early(tmp / f".{name}-pages.pdf", booklet is not None) \
        if not shop and settings.jobs > 1 and ahead_possible() else None
    try:
        written = _write(rendition, settings, name, tmp, report, memo, early)
        kinds = tuple(k for k in ("pdf", "cover") if k in written
                      and not (k == "pdf" and early is not None and early.started))
        tasks = ([("preflight", kinds)] if kinds else []) + \
            ([("impose", ())] if booklet else [])
        # Each only reads the book: side by side when there are two processes to give them.
        done = dict(fork_map(_finish, tasks, settings.jobs, (written, profile, booklet, pdf)))
        found, took = done.get("preflight", ({}, 0.0))
        if early is not None and early.started:
            found_early, took_early = early.result()
            found, took = {**found_early, **found}, round(took + took_early, 4)
    finally:
        if early is not None:
            early.close()
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
           report: BuildReport, memo: Callable[[str], Memo], early: _Early | None
           ) -> dict[str, Path]:
    """The PDF laid out, joined, checked against its plan and (as the settings ask) made a
    PDF/X, and its separate cover: by kind."""
    pdf = settings.pdf
    written: dict[str, Path] = {}
    with report.timed("layout"):
        laid = plan_print(rendition, pdf.size_mm, memo("layout"), report.count, settings.jobs)
    book = written["pdf"] = tmp / f"{name}.pdf"
    with report.timed("pdf"), writing(book):
        result = write_book(laid.rendition, book, memo("parts"),
                            {aid: len(plan.pages) for aid, plan in laid.plans.items()},
                            pdf.open_right, settings.jobs, report.count,
                            settings.cache_dir / "fonts", early.start if early else None)
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
    shop = pdf.variant.startswith("pdf/x")
    if shop:
        with shielded():
            from PIL import ImageCms  # noqa: F401 - its native part, loaded shielded

            from .press import convert

        with report.timed("press"), writing(book):
            convert(book, pdf.variant, _cache(settings.cache_dir))
    if pdf.cover_separate:
        cover = written["cover"] = tmp / f"{name}-cover.pdf"
        with writing(cover):
            cover_spreads(book, cover)
            if shop:
                convert(cover, pdf.variant)
    return written


class _Early:
    """The book's preflight, from the file of its pages the join copies first (the pages, their
    photos and fonts' widths as the book has them), in a process of its own (:mod:`.ahead`)
    while the join goes on. The file is given a second name (``link``) in the staging folder
    for as long as the preflight reads it."""

    def __init__(self, link: Path, booklet: bool):
        self.link, self.booklet = link, booklet
        self.process: Ahead | None = None

    @property
    def started(self) -> bool:
        return self.process is not None

    def start(self, pages: Path) -> None:
        try:
            os.link(pages, self.link)
        except OSError:
            return  # no second name here: preflighted after the join, as a PDF/X is
        self.process = Ahead("builder.preflight")
        self.process.hand("builder.printing", "preflighted", {"pdf": self.link}, "home",
                          self.booklet)

    def result(self) -> tuple[dict, float]:
        return self.process.result()

    def close(self) -> None:
        if self.process is not None:
            self.process.close()
        self.link.unlink(missing_ok=True)


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


def preflighted(files: dict[str, Path], profile: str, booklet: bool) -> tuple[dict, float]:
    """The preflight of each file (``pdf``: the book, whose pages may be a booklet's;
    ``cover``), and how long it took."""
    start = time.perf_counter()
    found = {kind: preflight(path, profile, booklet=booklet and kind == "pdf")
             for kind, path in files.items()}
    return found, round(time.perf_counter() - start, 4)


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
