"""The order of the stages, and atomic output: everything is written into a temporary folder
inside the output folder and moved into place at the end, so a failed or interrupted build leaves
the previous outputs as they were."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import platformdirs

from .clean import clean_article
from .config import BookConfig
from .epub import write_epub
from .errors import OutputError, SourceError
from .fetch import Progress, Request, fetch_assets, store_image
from .impose import impose_booklet
from .images import typographic_cover
from .load import load_articles
from .model import GENERATED_COVER, Article, Book, ImageRef
from .pdf import MIN_DPI, cjk_fonts, write_pdf
from .render import format_date, render_epub_docs, render_print_html
from .report import BuildReport
from .text import slugify
from .theme import Theme


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("builder")) / "images"


def order_articles(articles: list[Article], order: list[str]) -> list[Article]:
    """The config's order by file name first, then by date (undated last), then by file name."""
    rank = {name: i for i, name in enumerate(order)}
    epoch = dt.datetime.max.replace(tzinfo=dt.timezone.utc)

    def key(a: Article):
        named = rank.get(a.source.name, rank.get(a.source.stem))
        return (named is None, named or 0, a.date or epoch, a.source.name)

    return sorted(articles, key=key)


def _unique_slugs(articles: list[Article]) -> list[Article]:
    seen: dict[str, int] = {}
    out = []
    for a in articles:
        n = seen.get(a.slug, 0)
        seen[a.slug] = n + 1
        out.append(a if n == 0 else replace(a, slug=f"{a.slug}-{n + 1}"))
    return out


def content_identifier(parts: list[bytes]) -> str:
    """A UUID derived from the content: the same inputs give the same identifier."""
    digest = hashlib.sha256(b"\0".join(parts)).hexdigest()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"builder:{digest}"))


def modified_time(book_date: dt.datetime | None) -> dt.datetime:
    """``SOURCE_DATE_EPOCH`` when set, else the newest article date, else a fixed date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
    if book_date is not None:
        return book_date.astimezone(dt.timezone.utc)
    return dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def load_and_clean(config: BookConfig, report: BuildReport) -> list[Article]:
    """The articles of ``config``, in book order, cleaned; their warnings go to ``report``."""
    with report.timed("load"):
        articles, warnings = load_articles(list(config.paths))
    for w in warnings:
        report.warn(w)
    articles = _unique_slugs(order_articles(articles, config.get("book", "order")))
    with report.timed("clean"):
        articles = [clean_article(a, quotes=config.get("clean", "cjk_quotes"),
                                  digit_spacing=config.get("clean", "cjk_digit_spacing"),
                                  id_prefix=f"a{i:03d}-")
                    for i, a in enumerate(articles, 1)]
    for a in articles:
        for w in a.warnings:
            report.warn(w)
        report.add_article(a)
    return articles


def fetch_images(config: BookConfig, articles: list[Article], report: BuildReport,
                 progress: Progress | None = None) -> dict:
    """Every image of ``articles`` from the cache or the web; outcomes go to ``report``."""
    requests = [Request(ref, a.source.parent) for a in articles for ref in a.images]
    with report.timed("fetch"):
        assets = fetch_assets(requests, config.settings["fetch"],
                              config.cache_dir or default_cache_dir(), offline=config.offline,
                              refresh=config.refresh,
                              max_pixels=config.get("images", "max_pixels"), progress=progress)
    report.add_images(assets)
    for image in report.images:
        if image["status"] == "placeholder":
            report.warn(f"image {image['url']}: {image['reason']}; a placeholder stands in")
    return assets


def book_title(config: BookConfig, articles: list[Article]) -> str:
    """The title from the config, or the one article's own."""
    title = config.get("book", "title") or (articles[0].title if len(articles) == 1 else "")
    if not title:
        raise SourceError("a book of several articles needs a title: give --title or "
                          "[book] title in book.toml", ", ".join(str(p) for p in config.paths))
    return title


def assemble(config: BookConfig, title: str, articles: list[Article], assets: dict) -> Book:
    """The book: its articles, assets, cover, date and content-derived identifier."""
    dates = [a.date for a in articles if a.date]
    cover, cover_folder = next(((a.cover, a.source.parent) for a in articles if a.cover),
                               (None, None))
    if cover is None and "epub" in config.formats:
        # No photo to open the book with: e-readers get a typographic cover.
        subtitle = " · ".join(x for x in (format_date(max(dates), articles[0].lang)
                                          if dates else "", config.get("book", "author")) if x)
        drawn = typographic_cover(title, subtitle, config.get("pdf", "sans_font"))
        assets = {**assets, GENERATED_COVER: store_image(
            config.cache_dir or default_cache_dir(), GENERATED_COVER, drawn)}
        cover, cover_folder = ImageRef(GENERATED_COVER, title), Path(".")
    identity = [title.encode()] + [a.body.encode() for a in articles] + \
        [assets[u].sha256.encode() for u in sorted(assets)]
    return Book(config=config, title=title, articles=tuple(articles), assets=assets,
                identifier=content_identifier(identity), date=max(dates) if dates else None,
                cover=cover, cover_folder=cover_folder)


@contextmanager
def staged(out_dir: Path):
    """A temporary folder inside ``out_dir`` whose files replace those of ``out_dir`` only when
    the block ends without an error; otherwise ``out_dir`` stays as it was."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".builder-tmp-", dir=out_dir))
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder: {exc.strerror or exc}",
                          str(out_dir)) from None
    try:
        yield tmp
        for path in sorted(tmp.iterdir()):
            os.replace(path, out_dir / path.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_outputs(book: Book, name: str, tmp: Path, report: BuildReport) -> dict[str, Path]:
    """Write the formats of the book's config into ``tmp``; return them by kind."""
    config = book.config
    modified = modified_time(book.date)
    theme = Theme(config.theme_dir)
    written: dict[str, Path] = {}
    if "epub" in config.formats:
        with report.timed("render"):
            docs = render_epub_docs(book, theme)
            css = theme.stylesheet("epub.css")
        with report.timed("epub"):
            written["epub"] = tmp / f"{name}.epub"
            write_epub(book, docs, css, written["epub"], modified)
    if {"pdf", "booklet"} & set(config.formats):
        if not cjk_fonts():
            report.warn("no CJK font found: Chinese text will not print; install one, e.g. "
                        "'apt-get install fonts-noto-cjk'")
        with report.timed("render"):
            html = render_print_html(book, theme, modified.strftime("%Y-%m-%dT%H:%M:%SZ"))
        with report.timed("pdf"):
            written["pdf"] = tmp / f"{name}.pdf"
            refused, placed = write_pdf(book, html, theme, written["pdf"],
                                        config.get("pdf", "variant") or None)
        for url in refused:
            report.warn(f"PDF: refused to load {url}")
        report.placed = [vars(p) for p in placed]
        for p in placed:
            if p.dpi < MIN_DPI:
                report.warn(f"print: {p.url} on page {p.page} is {p.dpi:.0f} dpi at "
                            f"{p.inches * 25.4:.0f} mm wide (below {MIN_DPI} dpi: it will "
                            "print soft)")
        if "booklet" in config.formats:
            with report.timed("impose"):
                written["booklet"] = tmp / f"{name}-booklet.pdf"
                impose_booklet(written["pdf"], written["booklet"])
        if "pdf" not in config.formats:
            written.pop("pdf").unlink()
    return written


def build(config: BookConfig, progress: Progress | None = None) -> BuildReport:
    """Build the book of ``config``; return the report. Raises BuilderError on bad input."""
    report = BuildReport()
    articles = load_and_clean(config, report)
    title = book_title(config, articles)
    name = slugify(config.get("book", "name") or title)
    report.name, report.title = name, title
    assets = fetch_images(config, articles, report, progress)
    failed = report.counts()["placeholder"]
    if config.strict and failed:
        raise OutputError(f"{failed} image(s) could not be fetched (--strict); see the "
                          "warnings", str(config.paths[0]))
    book = assemble(config, title, articles, assets)
    with staged(config.out_dir) as tmp:
        for kind, path in write_outputs(book, name, tmp, report).items():
            report.outputs[kind] = str(config.out_dir / path.name)
        report.outputs["report"] = str(config.out_dir / f"{name}.report.json")
        (tmp / f"{name}.report.json").write_text(report.to_json(), encoding="utf-8")
    return report
