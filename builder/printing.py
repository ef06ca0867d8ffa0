"""The print outputs of a build: the book's PDF laid out and written in parts, made a PDF/X
when the settings ask (:mod:`.press`), preflighted (:mod:`.preflight`), imposed as a booklet
(:mod:`.impose`), and the cover on its own for a print shop. Each PDF library is imported here,
so an EPUB-only build loads none."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .errors import OutputError
from .fetch import Store
from .impose import cover_spreads, impose_booklet
from .layout import check, plan_print
from .memo import Memo
from .model import PrintRendition
from .output import writing
from .parts import write_book
from .photos import Prepared
from .preflight import NAMES, preflight
from .report import BuildReport
from .settings import Settings
from .signals import shielded
from .workers import fork_map

#: Below this effective resolution a placed photo prints soft (a warning).
MIN_DPI = 150
#: How many of a failed preflight's problems the error names.
NAMED_PROBLEMS = 3


def write_print(rendition: PrintRendition, settings: Settings, name: str, tmp: Path,
                report: BuildReport, memo: Callable[[str], Memo]) -> dict[str, Path]:
    """Write the PDF (and the booklet, and the separate cover) of ``rendition`` into ``tmp``;
    return them by kind."""
    pdf = settings.pdf
    written: dict[str, Path] = {}
    with report.timed("layout"):
        laid = plan_print(rendition, pdf.size_mm, memo("layout"), report.count, settings.jobs)
    book = written["pdf"] = tmp / f"{name}.pdf"
    with report.timed("pdf"), writing(book):
        result = write_book(laid.rendition, book, memo("parts"),
                            {aid: len(plan.pages) for aid, plan in laid.plans.items()},
                            pdf.open_right, settings.jobs, report.count,
                            settings.cache_dir / "fonts")
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
            convert(book, pdf.variant, _cache(Store(settings.cache_dir)))
    if pdf.cover_separate:
        cover = written["cover"] = tmp / f"{name}-cover.pdf"
        with writing(cover):
            cover_spreads(book, cover)
            if shop:
                convert(cover, pdf.variant)
    booklet = tmp / f"{name}-booklet.pdf" if "booklet" in settings.formats else None
    tasks = ["preflight", "impose"] if booklet else ["preflight"]
    # Both only read the book: side by side when there are two processes to give them.
    done = dict(fork_map(_finish, tasks, settings.jobs,
                         (written, pdf.variant if shop else "home", booklet, pdf)))
    found, took = done["preflight"]
    report.timings["preflight"] = took
    _passed(found, pdf.variant if shop else "home", report)
    if booklet:
        imposed, report.timings["impose"] = done["impose"]
        written["booklet"] = booklet
        report.imposition = {"sheet_sides": imposed.sides, "signatures": list(imposed.signatures),
                             "creep_mm": imposed.creep_mm,
                             "how": imposed.how(f"{name}-booklet.pdf")}
    if "pdf" not in settings.formats:
        written.pop("pdf").unlink()
    return written


def _finish(shared: tuple, task: str) -> tuple[str, tuple]:
    """One of the steps after the book is written, and how long it took: its ``preflight``
    (of the book and of its separate cover) or the ``impose``-d booklet."""
    written, profile, booklet, pdf = shared
    start = time.perf_counter()
    if task == "preflight":
        found = {kind: preflight(written[kind], profile,
                                 booklet=booklet is not None and kind == "pdf")
                 for kind in ("pdf", "cover") if kind in written}
    else:
        with writing(booklet):
            found = impose_booklet(written["pdf"], booklet, pdf.signature, pdf.creep_mm)
    return task, (found, round(time.perf_counter() - start, 4))


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


def _cache(store: Store):
    """Converted photos kept in the image store, by the key :mod:`.press` gives."""
    def cached(key: str, make: Callable[[], bytes]) -> bytes:
        return store.derived(key, lambda: Prepared(make(), "image/jpeg", 0, 0)
                             ).path.read_bytes()

    return cached
