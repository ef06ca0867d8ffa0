"""The ``builder`` command: arguments, exit codes, progress display.

Exit codes: 0 built (warnings allowed), 1 the build failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import __version__
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

    b = sub.add_parser("build", help="build the book from article files",
                       description="Build dist/NAME.epub, NAME.pdf, NAME-booklet.pdf and "
                       "NAME.report.json from article files (text with YAML front matter).")
    b.add_argument("paths", nargs="*", type=Path, metavar="PATHS",
                   help="article files or folders (default: seeds/)")
    b.add_argument("--out", type=Path, default=Path("dist"), metavar="DIR",
                   help="output folder (default: dist/)")
    b.add_argument("--name", help="output file name without extension (default: a slug of the "
                   "title)")
    b.add_argument("--title", help="book title (default: the article's title for one article)")
    b.add_argument("--author", help="book author or editor")
    b.add_argument("--format", type=_formats, metavar="LIST",
                   help="what to write: epub,pdf,booklet (default: all three)")
    b.add_argument("--config", type=Path, metavar="FILE",
                   help="book.toml (default: book.toml in the first PATHS folder, if any)")
    b.add_argument("--theme", type=Path, metavar="DIR",
                   help="a theme folder with templates/ and styles/ that override the default "
                   "one file at a time")
    b.add_argument("--cache-dir", type=Path, metavar="DIR",
                   help="image cache (default: the user cache folder)")
    b.add_argument("--page-size", metavar="SIZE",
                   help="PDF page: A5 (default), A4, letter, square210 or WxH in mm")
    b.add_argument("--rewrite", type=_pair, action="append", metavar="FROM=TO",
                   help="fetch URLs starting with FROM from TO + the rest (repeatable)")
    b.add_argument("--allow-host", action="append", metavar="HOST[:PORT]",
                   help="allow fetching from this local or private host (repeatable)")
    b.add_argument("--offline", action="store_true", help="use cached images only")
    b.add_argument("--refresh", action="store_true", help="fetch every image again")
    b.add_argument("--strict", action="store_true",
                   help="fail (exit 1) when any image could not be fetched")
    b.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    b.add_argument("-v", "--verbose", action="store_true", help="print more detail")
    b.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return p


class ConsoleProgress:
    """A rich progress bar on a terminal; plain lines otherwise; nothing when quiet."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.task = None
        self.done = 0
        self.total = 0

    def __call__(self, event: str, **kw) -> None:
        if self.quiet:
            return
        if event == "start":
            self.total = kw["total"]
            if self.tty and self.total:
                from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn,
                                           Progress, TextColumn)
                self.bar = Progress(TextColumn("images"), BarColumn(), MofNCompleteColumn(),
                                    DownloadColumn(), transient=True)
                self.bar.start()
                self.task = self.bar.add_task("images", total=self.total)
            elif self.total:
                print(f"fetching {self.total} image(s)", file=sys.stderr)
        elif event == "bytes" and self.bar is not None:
            pass
        elif event == "done":
            self.done += 1
            if self.bar is not None:
                self.bar.update(self.task, advance=1)
            elif kw.get("status") == "placeholder" or self.done == self.total:
                detail = f" {one_line(kw['url'])}: {kw['reason']}" if kw.get("reason") else ""
                print(f"  [{self.done}/{self.total}] {kw['status']}{detail}", file=sys.stderr)
        elif event == "end" and self.bar is not None:
            self.bar.stop()
            self.bar = None


def _overrides(args: argparse.Namespace) -> dict:
    paths = tuple(args.paths) or (Path("seeds"),)
    return {
        "paths": paths, "out_dir": args.out, "cache_dir": args.cache_dir,
        "theme_dir": args.theme, "offline": args.offline, "refresh": args.refresh,
        "strict": args.strict,
        "book.title": args.title, "book.author": args.author, "book.name": args.name,
        "book.formats": args.format, "pdf.page_size": args.page_size,
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
    from .render import page_size

    config = load_config(_config_file(args), _overrides(args))
    page_size(config.get("pdf", "page_size"))  # a bad size is a usage mistake: say it early
    report = build(config, ConsoleProgress(args.quiet))
    if not args.quiet:
        for line in report.summary():
            print(line)
        if args.verbose:
            for w in report.warnings:
                print(f"warning: {w}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return 2
    level = logging.ERROR if args.quiet else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)
    for noisy in ("weasyprint", "fontTools", "httpx", "httpcore", "PIL"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    if not args.verbose:
        logging.getLogger("builder").setLevel(logging.ERROR)
    try:
        return run_build(args)
    except BuilderError as exc:
        print(f"builder: {exc.category} error: {one_line(str(exc))}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) and exc.location and \
            exc.location.startswith("--") else 1
    except KeyboardInterrupt:
        print("builder: interrupted; dist/ is as it was", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line unless --debug
        if getattr(args, "debug", False):
            raise
        print(f"builder: internal error: {type(exc).__name__}: {one_line(str(exc))} "
              "(run again with --debug for the traceback)", file=sys.stderr)
        return 1
