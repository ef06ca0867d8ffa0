"""The ``builder`` command: arguments, exit codes, progress display.

Exit codes: 0 built (warnings allowed), 1 the build failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from . import __version__
from .console import ConsoleProgress
from .errors import BuilderError, ConfigError
from .text import one_line

log = logging.getLogger("builder")


def _pair(value: str) -> tuple[str, str]:
    if "=" not in value:
        raise argparse.ArgumentTypeError(f"expected FROM=TO, got {value!r}")
    old, new = value.split("=", 1)
    if not old or not new:
        raise argparse.ArgumentTypeError(f"expected FROM=TO, got {value!r}")
    return old, new


def _formats(value: str) -> list[str]:
    items = [v.strip().lower() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in ("epub", "pdf", "booklet")]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"unknown format {bad[0] if bad else value!r} "
                                         "(choose from epub, pdf, booklet)")
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
    common.add_argument("-v", "--verbose", action="store_true", help="print more detail")
    common.add_argument("--debug", action="store_true",
                        help="show tracebacks of internal errors")

    b = sub.add_parser("build", parents=[common], help="build the book from article files",
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
    b.add_argument("--theme", type=Path, metavar="DIR",
                   help="a theme folder with templates/ and styles/ that override the default "
                   "one file at a time")
    b.add_argument("--page-size", metavar="SIZE",
                   help="PDF page: A5 (default), A4, letter, square210 or WxH in mm")
    b.add_argument("--bleed", metavar="MM", help="PDF bleed for a print shop, e.g. 3mm "
                   "(the cover photo runs into it)")
    b.add_argument("--marks", action="store_true", help="PDF crop marks (use with --bleed)")
    b.add_argument("--pdf-variant", choices=["pdf/a-3b"], help="write the PDF as PDF/A-3b")
    b.add_argument("--offline", action="store_true", help="use cached images only")
    b.add_argument("--strict", action="store_true",
                   help="fail (exit 1) when any image could not be fetched")
    b.add_argument("--check", action="store_true", help="run EPUBCheck on the EPUB it wrote")

    sub.add_parser("fetch", parents=[common], help="fill the image cache without building",
                   description="Download every image of the articles into the cache, so that "
                   "a later 'build --offline' has them.")

    i = sub.add_parser("inspect", help="show what cleaning makes of one article",
                       description="Print the cleaned XHTML of an article and what each "
                       "cleaning pass changed: the tool to run when a new site's articles "
                       "look wrong.")
    i.add_argument("file", type=Path, metavar="FILE", help="an article file")
    i.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")

    c = sub.add_parser("check", help="run EPUBCheck on an EPUB",
                       description="Run EPUBCheck (needs Java and the epubcheck package) on an "
                       "EPUB and print its findings; exit 1 on any error or warning.")
    c.add_argument("file", type=Path, metavar="FILE.epub")
    c.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return p


def _overrides(args: argparse.Namespace) -> dict:
    paths = tuple(args.paths) or (Path("seeds"),)
    opt = lambda name: getattr(args, name, None)  # noqa: E731 - build-only flags
    return {
        "paths": paths, "out_dir": opt("out"), "cache_dir": args.cache_dir,
        "theme_dir": opt("theme"), "offline": bool(opt("offline")), "refresh": args.refresh,
        "strict": bool(opt("strict")),
        "book.title": opt("title"), "book.author": opt("author"), "book.name": opt("name"),
        "book.formats": opt("format"), "pdf.page_size": opt("page_size"),
        "pdf.bleed": opt("bleed"), "pdf.marks": opt("marks") or None,
        "pdf.variant": opt("pdf_variant"),
        "fetch.rewrite": dict(args.rewrite) if args.rewrite else None,
        "fetch.allow_hosts": args.allow_host,
    }


def _config_file(args: argparse.Namespace) -> Path | None:
    if args.config is not None:
        return args.config
    first = (args.paths or [Path("seeds")])[0]
    candidate = first / "book.toml"
    return candidate if first.is_dir() and candidate.is_file() else None


def run_build(args: argparse.Namespace) -> int:
    from .build import build
    from .config import load_config
    from .render import bleed_mm, page_size

    for flag, value, check in (("--page-size", args.page_size, page_size),
                               ("--bleed", args.bleed, bleed_mm)):
        if value is not None:
            try:
                check(value)
            except ConfigError as exc:
                raise ConfigError(exc.message, flag) from None
    config = load_config(_config_file(args), _overrides(args))
    page_size(config.get("pdf", "page_size"))  # bad values in book.toml: say so before work
    bleed_mm(config.get("pdf", "bleed"))
    report = build(config, ConsoleProgress(args.quiet))
    if not args.quiet:
        for line in report.summary():
            print(line)
        if args.verbose:
            for w in report.warnings:
                print(f"warning: {w}", file=sys.stderr)
    if args.check and "epub" in report.outputs:
        return run_check(Path(report.outputs["epub"]), args.quiet)
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from .build import fetch_images, load_and_clean
    from .config import load_config
    from .report import BuildReport

    config = load_config(_config_file(args), _overrides(args))
    report = BuildReport()
    articles = load_and_clean(config, report)
    fetch_images(config, articles, report, ConsoleProgress(args.quiet))
    if not args.quiet:
        print(report.summary()[0])
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    from .clean import clean_article
    from .load import load_article

    article, warnings = load_article(args.file)
    cleaned = clean_article(article)
    print(f"# {cleaned.title}")
    print(f"# cover: {cleaned.cover.url if cleaned.cover else '(none)'}")
    print("# what cleaning did:")
    for key, count in cleaned.stats:
        print(f"#   {key}: {count}")
    print(f"# figures ({len(cleaned.figures)}):")
    for n, fig in enumerate(cleaned.figures, 1):
        caption = one_line(fig.caption)[:60] if fig.caption else "(no caption)"
        print(f"#   {n:3}. {len(fig.images)} image(s) · {caption}")
    for w in (*warnings, *cleaned.warnings):
        print(f"# warning: {one_line(w)}")
    print(cleaned.body.replace("><figure", ">\n<figure").replace("><p>", ">\n<p>")
          .replace("><h", ">\n<h").replace("><section", ">\n<section"))
    return 0


def run_check(path: Path, quiet: bool = False) -> int:
    from .check import run_epubcheck

    passed, lines = run_epubcheck(path)
    if not quiet or not passed:
        for line in lines:
            print(line)
        print(f"EPUBCheck: {path}: {'passed' if passed else 'FAILED'}")
    return 0 if passed else 1


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return 2
    quiet, verbose = getattr(args, "quiet", False), getattr(args, "verbose", False)
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)
    for noisy in ("weasyprint", "fontTools", "httpx", "httpcore", "PIL"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    if not verbose:
        logging.getLogger("builder").setLevel(logging.ERROR)
    try:
        if args.command == "build":
            return run_build(args)
        if args.command == "fetch":
            return run_fetch(args)
        if args.command == "inspect":
            return run_inspect(args)
        return run_check(args.file)
    except BuilderError as exc:
        print(f"builder: {exc.category} error: {one_line(str(exc))}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) and exc.location and \
            exc.location.startswith("--") else 1
    except BrokenPipeError:  # output piped into a pager or head that closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("builder: interrupted; dist/ is as it was", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line unless --debug
        if getattr(args, "debug", False):
            raise
        print(f"builder: internal error: {type(exc).__name__}: {one_line(str(exc))} "
              "(run again with --debug for the traceback)", file=sys.stderr)
        return 1
