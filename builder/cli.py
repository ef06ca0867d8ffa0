"""The ``builder`` command: arguments, exit codes, progress display.

Exit codes: 0 built (warnings allowed), 1 the build failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import sys
import threading
from pathlib import Path

from . import __version__, signals
from .console import ConsoleProgress
from .errors import BuilderError, ConfigError, SourceError, Terminated
from .log import configure
from .text import one_line


def _pair(value: str) -> tuple[str, str]:
    if "=" not in value:
        raise argparse.ArgumentTypeError(f"expected FROM=TO, got {value!r}")
    old, new = value.split("=", 1)
    if not old or not new:
        raise argparse.ArgumentTypeError(f"expected FROM=TO, got {value!r}")
    return old, new


def _jobs(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 64, got {value!r}")
    return int(value)


def _formats(value: str) -> list[str]:
    items = [v.strip().lower() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in ("epub", "pdf", "booklet")]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"unknown format {bad[0] if bad else value!r} "
                                         "(choose from epub, pdf, booklet)")
    return items


def _devices(value: str) -> list[str]:
    from .devices import DEVICES

    items = [v.strip().lower() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in DEVICES]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"unknown device {bad[0] if bad else value!r} "
                                         f"(choose from {', '.join(DEVICES)})")
    return items


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="builder", description="Turn articles collected from the web into an EPUB and a "
        "printable PDF photo booklet.")
    p.add_argument("--version", action="version", version=f"builder {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("paths", nargs="*", type=Path, metavar="PATHS",
                        help="article files or folders (default: seeds/)")
    common.add_argument("--config", type=Path, metavar="FILE",
                        help="book.toml (default: book.toml in the first PATHS folder, if any)")
    common.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="image cache (default: the user cache folder)")
    common.add_argument("--rewrite", type=_pair, action="append", metavar="FROM=TO",
                        help="fetch URLs starting with FROM from TO + the rest (repeatable)")
    common.add_argument("--allow-host", action="append", metavar="HOST[:PORT]",
                        help="allow fetching from this local or private host (repeatable)")
    common.add_argument("--refresh", action="store_true", help="fetch every image again")
    common.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    common.add_argument("-v", "--verbose", action="store_true",
                        help="print each warning, and more detail")
    common.add_argument("--debug", action="store_true",
                        help="show tracebacks of internal errors")

    cleaning = argparse.ArgumentParser(add_help=False)
    cleaning.add_argument("--digit-spacing", choices=["remove", "keep", "add"],
                          help="spaces between CJK characters and digits (default: remove)")
    cleaning.add_argument("--no-cjk-quotes", action="store_true",
                          help="leave ASCII quotes around CJK text as they are")

    b = sub.add_parser("build", parents=[common, cleaning],
                       help="build the book from article files",
                       description="Build dist/NAME.epub, NAME.pdf, NAME-booklet.pdf and "
                       "NAME.report.json from article files (text with YAML front matter).")
    b.add_argument("--out", type=Path, default=Path("dist"), metavar="DIR",
                   help="output folder (default: dist/)")
    b.add_argument("--name", help="output file name without extension (default: a slug of the "
                   "title)")
    b.add_argument("--title", help="book title (default: the article's title for one article)")
    b.add_argument("--author", help="book author or editor")
    b.add_argument("--format", type=_formats, metavar="LIST",
                   help="what to write: epub,pdf,booklet (default: all three)")
    b.add_argument("--device", type=_devices, metavar="LIST",
                   help="the e-readers to make the EPUB for, one book each: generic (NAME.epub, "
                   "the default), kindle (NAME.kindle.epub, at most 45MB), kobo "
                   "(NAME.kobo.kepub.epub), koreader, apple; e.g. --device kobo,kindle")
    b.add_argument("--max-size", metavar="SIZE",
                   help="largest EPUB, e.g. 45MB: photos are re-encoded until the book fits "
                   "(default: the device's own budget; 0 for none)")
    b.add_argument("--grayscale", action="store_true",
                   help="EPUB photos in shades of grey, for e-ink")
    b.add_argument("--theme", type=Path, metavar="DIR",
                   help="a theme folder with templates/ and styles/ that override the default "
                   "one file at a time")
    b.add_argument("--page-size", metavar="SIZE",
                   help="PDF page: A5 (default), A4, letter, square210 or WxH in mm")
    b.add_argument("--bleed", metavar="MM", help="PDF bleed for a print shop, e.g. 3mm "
                   "(the cover photo runs into it)")
    b.add_argument("--signature", type=int, metavar="N",
                   help="booklet in signatures of N pages (a multiple of 4) to fold, stack and "
                   "sew or glue; 0: one saddle-stitched booklet (default: one booklet up to 64 "
                   "pages, signatures of 16 beyond)")
    b.add_argument("--creep", metavar="MM",
                   help="move the pages of each booklet's inner sheets toward the fold, the "
                   "innermost by MM (e.g. 0.5mm), so that trimmed margins come out equal")
    b.add_argument("--marks", action="store_true", help="PDF crop marks (use with --bleed)")
    b.add_argument("--pdf-variant", choices=["pdf/a-3b", "pdf/x-4", "pdf/x-1a"],
                   help="pdf/x-4 or pdf/x-1a for a print shop (X-4: RGB photos with a CMYK "
                   "output intent; X-1a: everything CMYK, no transparency), checked by the "
                   "preflight before it is written; pdf/a-3b for archiving")
    b.add_argument("--cover-separate", action="store_true",
                   help="also write NAME-cover.pdf: the cover, outside and inside, with its "
                   "bleed, for a print shop that prints covers on other paper")
    b.add_argument("--offline", action="store_true", help="use cached images only")
    b.add_argument("--force", action="store_true",
                   help="rebuild everything, even when nothing changed; only the image cache "
                   "is used")
    b.add_argument("--jobs", type=_jobs, metavar="N",
                   help="lay out N parts of the PDF at a time, each in a process of its own "
                   "(default: the number of CPUs, at most 4); 1 for the least memory")
    b.add_argument("--strict", action="store_true",
                   help="fail (exit 1) when the book would be degraded: an image that could "
                   "not be fetched, an article left out, a caption without its photo")
    b.add_argument("--keep-going", action="store_true",
                   help="build an anthology without the articles that cannot be read, naming "
                   "each (default: stop at the first)")
    b.add_argument("--check", action="store_true", help="run EPUBCheck on the EPUB it wrote")

    sub.add_parser("fetch", parents=[common, cleaning],
                   help="fill the image cache without building",
                   description="Download every image of the articles into the cache, so that "
                   "a later 'build --offline' has them.")

    i = sub.add_parser("inspect", parents=[cleaning],
                       help="show what cleaning makes of one article",
                       description="Print the cleaned XHTML of an article and what each "
                       "cleaning pass changed, exactly as the build of its folder makes it "
                       "(with the book.toml beside it): the tool to run when a new site's "
                       "articles look wrong.")
    i.add_argument("file", type=Path, metavar="FILE", help="an article file")
    i.add_argument("--config", type=Path, metavar="FILE",
                   help="book.toml (default: the one beside FILE, if any)")
    i.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")

    f = sub.add_parser("preflight", help="check a PDF for a print shop or a home printer",
                       description="Check a PDF as a print shop would: boxes, fonts, each "
                       "image's resolution where placed, colour spaces, transparency, text "
                       "near the trim, output intent. One line per finding; exit 1 when a "
                       "print-shop profile fails.")
    f.add_argument("file", type=Path, metavar="FILE.pdf")
    f.add_argument("--for", dest="profile", choices=["pdf/x-4", "pdf/x-1a", "home"],
                   default="home", help="what the PDF is for (default: home)")
    f.add_argument("--booklet", action="store_true",
                   help="the pages are to be folded into a saddle-stitched booklet")
    f.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    f.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")

    c = sub.add_parser("check", help="run EPUBCheck on an EPUB",
                       description="Run EPUBCheck (needs Java and the epubcheck package) on an "
                       "EPUB and print its findings; exit 1 on any error or warning.")
    c.add_argument("file", type=Path, metavar="FILE.epub")
    c.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return p


#: The flag each setting comes from, for error messages (and exit code 2).
FLAGS = {
    "paths": "PATHS", "out_dir": "--out", "cache_dir": "--cache-dir", "theme_dir": "--theme",
    "book.title": "--title", "book.author": "--author", "book.name": "--name",
    "book.formats": "--format", "pdf.page_size": "--page-size", "pdf.bleed": "--bleed",
    "pdf.marks": "--marks", "pdf.variant": "--pdf-variant", "fetch.rewrite": "--rewrite",
    "fetch.allow_hosts": "--allow-host", "clean.cjk_digit_spacing": "--digit-spacing",
    "clean.cjk_quotes": "--no-cjk-quotes", "book.keep_going": "--keep-going", "jobs": "--jobs",
    "pdf.signature": "--signature", "pdf.creep": "--creep",
    "pdf.cover_separate": "--cover-separate",
    "epub.device": "--device", "epub.max_size": "--max-size", "epub.grayscale": "--grayscale",
}


def _overrides(args: argparse.Namespace) -> dict:
    opt = lambda name: getattr(args, name, None)  # noqa: E731 - not every command has each flag
    return {
        "paths": tuple(opt("paths") or ()) or None, "out_dir": opt("out"),
        "cache_dir": opt("cache_dir"), "theme_dir": opt("theme"),
        "offline": opt("offline") or None, "refresh": opt("refresh") or None,
        "strict": opt("strict") or None, "force": opt("force") or None,
        "jobs": opt("jobs"),
        "book.title": opt("title"), "book.author": opt("author"), "book.name": opt("name"),
        "book.formats": opt("format"), "pdf.page_size": opt("page_size"),
        "pdf.bleed": opt("bleed"), "pdf.marks": opt("marks") or None,
        "pdf.variant": opt("pdf_variant"),
        "fetch.rewrite": dict(opt("rewrite")) if opt("rewrite") else None,
        "fetch.allow_hosts": opt("allow_host"),
        "clean.cjk_digit_spacing": opt("digit_spacing"),
        "clean.cjk_quotes": False if opt("no_cjk_quotes") else None,
        "book.keep_going": opt("keep_going") or None,
        "pdf.signature": opt("signature"), "pdf.creep": opt("creep"),
        "pdf.cover_separate": opt("cover_separate") or None,
        "epub.device": opt("device"), "epub.max_size": opt("max_size"),
        "epub.grayscale": opt("grayscale") or None,
    }


def _config_file(args: argparse.Namespace, folder: Path) -> Path | None:
    if args.config is not None:
        return args.config
    candidate = folder / "book.toml"
    return candidate if folder.is_dir() and candidate.is_file() else None


def _settings(args: argparse.Namespace):
    """The settings of a build or fetch: checked whole before any article is read."""
    from .settings import load_settings

    first = (args.paths or [Path("seeds")])[0]
    return load_settings(_config_file(args, first), _overrides(args), FLAGS)


def run_build(args: argparse.Namespace) -> int:
    from .state import begin

    settings = _settings(args)
    args.out_dir_ = settings.out_dir
    start = begin(settings)  # nothing to do: the stages are not even imported
    report = start.report
    if not report.up_to_date:
        from .ahead import for_print

        printer = for_print(settings)  # loads the print libraries while the stages load
        try:
            with signals.shielded():
                from .pipeline import build
        except BaseException:
            if printer is not None:
                printer.close()
            raise
        report = build(settings, ConsoleProgress(args.quiet), start, printer)
    if not args.quiet and not args.verbose:  # with -v the log has shown them already
        for entry in report.skipped:
            print(f"warning: left out {entry['where'] or entry['source']}: {entry['error']}",
                  file=sys.stderr)
    if not args.quiet:
        for line in report.summary(listed=args.verbose):
            print(line)
    if args.check:
        books = [Path(p) for kind, p in report.outputs.items() if kind.startswith("epub")]
        return max((run_check(book, args.quiet) for book in books), default=0)
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    with signals.shielded():
        from .pipeline import fetch_images, prepare_articles
    from .report import BuildReport

    settings = _settings(args)
    report = BuildReport()
    articles = prepare_articles(settings, report)
    fetch_images(settings, articles, report, ConsoleProgress(args.quiet))
    if not args.quiet:
        print(report.summary()[0])
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    from .pipeline import inspect
    from .settings import load_settings

    folder = args.file.parent
    overrides = {**_overrides(args), "paths": (folder,)}
    settings = load_settings(_config_file(args, folder), overrides, FLAGS)
    found = inspect(args.file, settings)
    cleaned = found.article
    print(f"# {cleaned.title}")
    print(f"# settings: {settings.config_file or '(defaults)'}")
    print(f"# cover: {cleaned.cover.url if cleaned.cover else '(none)'}")
    print("# what cleaning did:")
    for key, count in cleaned.stats:
        print(f"#   {key}: {count}")
    print(f"# figures ({len(cleaned.figures)}):")
    for n, fig in enumerate(cleaned.figures, 1):
        caption = one_line(fig.caption)[:60] if fig.caption else "(no caption)"
        print(f"#   {n:3}. {len(fig.images)} image(s) · {caption}")
    audit = cleaned.audit
    dropped = ", ".join(f"{n} {reason}" for reason, n in audit.dropped) or "none"
    print(f"# audit: {audit.images_in_source} image(s) in the source, {audit.images_kept} "
          f"kept ({audit.repeated} repeated), dropped: {dropped}; {audit.captions_in_source} "
          f"caption(s), {audit.captions_attached} attached, {audit.captions_stranded} "
          f"stranded; text {audit.text_before} → {audit.text_after} characters")
    if cleaned.cover is not None:
        where = "opens the body" if cleaned.cover_in_body else "opens the chapter as its lead"
        print(f"# head image {where}; caption: {cleaned.cover_caption or '(none)'}")
    for w in found.warnings:
        print(f"# warning: {one_line(w)}")
    print(cleaned.body.replace("><figure", ">\n<figure").replace("><p>", ">\n<p>")
          .replace("><h", ">\n<h").replace("><section", ">\n<section"))
    return 0


def run_preflight(args: argparse.Namespace) -> int:
    from .preflight import NAMES, UNREADABLE, preflight

    try:
        result = preflight(args.file, args.profile, args.booklet)
    except UNREADABLE as exc:
        raise SourceError(f"cannot be read as a PDF ({one_line(str(exc))[:120]}): give a "
                          "PDF file", str(args.file)) from None
    for finding in result.findings:
        if finding.fails or not args.quiet:
            print(finding.line())
    verdict = "passed" if result.passed else f"FAILED ({len(result.problems)} problem(s))"
    if not args.quiet or not result.passed:
        print(f"preflight for {NAMES[args.profile]}: {args.file}: {result.pages} page(s), "
              f"{verdict}")
    return 0 if result.passed else 1


def run_check(path: Path, quiet: bool = False) -> int:
    from .check import run_epubcheck

    passed, lines = run_epubcheck(path)
    if not quiet or not passed:
        for line in lines:
            print(line)
        print(f"EPUBCheck: {path}: {'passed' if passed else 'FAILED'}")
    return 0 if passed else 1


def _interrupted(args: argparse.Namespace, terminated: bool) -> int:
    """Ctrl-C or SIGTERM: one line naming the output folder (left as it was: the staging
    folder went when the build unwound), exit 130 or 143 — at once, not after the downloads
    or layout processes still running, which end with the process."""
    import multiprocessing

    from .store import remove_spares

    what = "stopped by SIGTERM" if terminated else "interrupted"
    if args.command == "build":
        out = getattr(args, "out_dir_", None) or getattr(args, "out", None) or Path("dist")
        print(f"builder: {what}; {out} is as it was", file=sys.stderr)
    else:
        print(f"builder: {what}", file=sys.stderr)
    code = 143 if terminated else 130
    remove_spares()
    if threading.active_count() > 1 or multiprocessing.active_children():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def run() -> None:
    """The ``builder`` command: :func:`main`, then out without Python's tear-down of every
    module and object of the build (some 0.15 s after a book is written): what is written is
    flushed and the exit handlers run first, so nothing is lost by it."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach it
            pass
    atexit._run_exitfuncs()
    logging.shutdown()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signals.install()
    if args.command is None:
        parser().print_help()
        return 2
    configure(quiet=getattr(args, "quiet", False), verbose=getattr(args, "verbose", False),
              debug=getattr(args, "debug", False))
    try:
        if args.command == "build":
            return run_build(args)
        if args.command == "fetch":
            return run_fetch(args)
        if args.command == "inspect":
            return run_inspect(args)
        if args.command == "preflight":
            return run_preflight(args)
        return run_check(args.file)
    except BuilderError as exc:
        print(f"builder: {exc.category} error: {one_line(str(exc))}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) and exc.location and \
            exc.location.startswith("--") else 1
    except BrokenPipeError:  # output piped into a pager or head that closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt as exc:
        return _interrupted(args, isinstance(exc, Terminated))
    except Exception as exc:  # a bug: one line unless --debug
        if getattr(args, "debug", False):
            raise
        print(f"builder: internal error: {type(exc).__name__}: {one_line(str(exc))} "
              "(run again with --debug for the traceback)", file=sys.stderr)
        return 1
