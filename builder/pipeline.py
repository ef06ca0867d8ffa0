"""The order of the stages: the one module that knows it.

:func:`build` reads like a table of contents — articles, images, book, rendition, outputs —
and :func:`inspect` and ``builder fetch`` run the same first stages through the same functions,
so that what they show is what the book gets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import fonts
from .ahead import Ahead, for_print
from .clean import clean_article
from .devices import MB, device, parse_size
from .drawn import typographic_cover
from .errors import OutputError, SourceError
from .fetch import Progress, Request, fetch_assets
from .load import load_article, read_source
from .memo import Memo, code_version, digest
from .model import (
    COVER_STILL,
    GENERATED_COVER,
    Article,
    Asset,
    Book,
    ImageRef,
    Rendition,
    asset_key,
)
from .output import staged, writing
from .photos import first_frame
from .render import format_date, render
from .report import BuildReport
from .settings import Settings, load_settings
from .signals import shielded
from .sources import find_sources
from .state import Start, begin, record
from .store import Store
from .text import one_line, release_pinyin, slugify
from .theme import Theme

if TYPE_CHECKING:
    from .ereader import Made


@dataclass(frozen=True)
class Inspection:
    """What cleaning makes of one article, as the build would make it."""

    article: Article  # cleaned
    warnings: tuple[str, ...]  # from loading and cleaning


# -- stages -------------------------------------------------------------------------------------

def order_articles(articles: list[Article], order: tuple[str, ...]) -> list[Article]:
    """The settings' order by file name first, then by date (undated last), then by name."""
    rank = {name: i for i, name in enumerate(order)}
    epoch = dt.datetime.max.replace(tzinfo=dt.UTC)

    def key(a: Article):
        named = rank.get(a.source.name, rank.get(a.source.stem))
        return (named is None, named or 0, a.date or epoch, a.source.name)

    return sorted(articles, key=key)


def unique_slugs(articles: list[Article]) -> list[Article]:
    """The articles with their slugs made unique in book order: ``a``, ``a-2``, ``a-3`` …"""
    taken = {a.slug for a in articles}
    seen: dict[str, int] = {}
    out = []
    for a in articles:
        slug = a.slug
        if slug in seen:
            n = seen[slug] + 1
            while f"{a.slug}-{n}" in taken:
                n += 1
            seen[slug] = n
            slug = f"{a.slug}-{n}"
            taken.add(slug)
            out.append(replace(a, slug=slug))
        else:
            seen[slug] = 1
            out.append(a)
    return out


@dataclass(frozen=True)
class Loaded:
    """An article file as loaded, with the warnings loading gave: what the memo keeps."""

    article: Article
    warnings: tuple[str, ...]


def _load(source: Path, kept: Memo) -> tuple[Loaded, str]:
    """The article file ``source`` loaded, from the memo when its bytes were loaded before;
    and the key it is kept under."""
    data = read_source(source)
    key = digest(code_version(), "load", str(source), data)
    loaded = kept.get_value(key, Loaded)
    if loaded is None or loaded.article.source != source:  # kept for this file only
        article, warnings = load_article(source, data)
        loaded = Loaded(article, tuple(warnings))
        kept.put_value(key, loaded)
    return loaded, key


def _clean(article: Article, settings: Settings, prefix: str, loaded_as: str,
           kept: Memo, report: BuildReport) -> Article:
    """``article`` cleaned, from the memo when the same article was cleaned the same way."""
    key = digest(code_version(), "clean", loaded_as, article.slug, prefix, repr(settings.clean))
    cleaned = kept.get_value(key, Article)
    report.count("cleaned articles", kept=cleaned is not None)
    if cleaned is None:
        cleaned = clean_article(article, settings.clean, id_prefix=prefix)
        kept.put_value(key, cleaned)
    return cleaned


def prepare_articles(settings: Settings, report: BuildReport,
                     only: Path | None = None) -> list[Article]:
    """The articles of ``settings``, in book order, cleaned; their warnings go to ``report``.
    With ``only``, just that article is cleaned (and returned), at its place in the book.
    What was loaded and cleaned before from the same bytes and settings comes from the memo."""
    kept = Memo.of(settings, "articles")
    keys: dict[Path, str] = {}
    with report.timed("load"):
        loaded = []
        for source in find_sources(list(settings.paths)):
            try:
                found, keys[source] = _load(source, kept)
            except SourceError as exc:
                inspected_elsewhere = only is not None and source.resolve() != only.resolve()
                if inspected_elsewhere:  # a broken sibling does not stop the inspection
                    continue
                if not settings.book.keep_going:
                    raise
                report.skipped.append({"source": str(source), "error": one_line(exc.message),
                                       "where": exc.location})
                report.warn(f"left out {exc}")
                continue
            loaded.append(found.article)
            for w in found.warnings:
                report.warn(w)
        if not loaded:
            raise SourceError("no article could be read: " + "; ".join(
                f"{e['where'] or e['source']}: {e['error']}" for e in report.skipped),
                ", ".join(str(p) for p in settings.paths))
        articles = unique_slugs(order_articles(loaded, settings.book.order))
    with report.timed("clean"):
        cleaned = [_clean(a, settings, f"a{i:03d}-", keys[a.source], kept, report)
                   for i, a in enumerate(articles, 1)
                   if only is None or a.source.resolve() == only.resolve()]
    for a in cleaned:
        for w in a.warnings:
            report.warn(w)
        report.add_article(a)
    return cleaned


def fetch_images(settings: Settings, articles: list[Article], report: BuildReport,
                 progress: Progress | None = None, store: Store | None = None
                 ) -> dict[str, Asset]:
    """Every image of ``articles`` from the cache or the web; outcomes go to ``report``."""
    requests = [Request(ref, a.source.parent) for a in articles for ref in a.images]
    store = store or Store(settings.cache_dir)
    with report.timed("fetch"):
        assets = fetch_assets(requests, settings.fetch, settings.cache_dir,
                              offline=settings.offline, refresh=settings.refresh,
                              max_pixels=settings.images.max_pixels, progress=progress,
                              store=store)
    if store.degraded:
        report.warn(store.degraded)
    report.add_images(assets)
    for image in report.images:
        if image["status"] == "placeholder":
            report.warn(f"image {image['url']}: {image['reason']}; a placeholder stands in")
    return assets


def book_title(settings: Settings, articles: list[Article]) -> str:
    """The title from the settings, or the one article's own."""
    title = settings.book.title or (articles[0].title if len(articles) == 1 else "")
    if not title:
        raise SourceError("a book of several articles needs a title: give --title or "
                          "[book] title in book.toml", ", ".join(str(p) for p in settings.paths))
    return title


def content_identifier(parts: list[bytes]) -> str:
    """A UUID derived from the content: the same inputs give the same identifier."""
    digest = hashlib.sha256(b"\0".join(parts)).hexdigest()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"builder:{digest}"))


def modified_time(book_date: dt.datetime | None) -> dt.datetime:
    """``SOURCE_DATE_EPOCH`` when set, else the newest article date, else a fixed date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    if book_date is not None:
        return book_date.astimezone(dt.UTC)
    return dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _raster(assets: dict[str, Asset], ref: ImageRef, folder: Path) -> bool:
    """Whether the image can be a cover: not an SVG (e-readers' libraries show none)."""
    asset = assets.get(asset_key(ref.url, folder))
    return asset is not None and asset.media_type != "image/svg+xml"


def assemble(settings: Settings, title: str, articles: list[Article],
             assets: dict[str, Asset]) -> Book:
    """The book: its articles, assets, cover, date and content-derived identifier."""
    dates = [a.date for a in articles if a.date]
    cover, cover_folder = next(((a.cover, a.source.parent) for a in articles
                                if a.cover and _raster(assets, a.cover, a.source.parent)),
                               (None, None))
    if cover is not None and assets[asset_key(cover.url, cover_folder)].media_type == "image/gif":
        # A cover is a still picture in JPEG or PNG (what Send-to-Kindle and the readers'
        # libraries show): an animation's first frame.
        gif = assets[asset_key(cover.url, cover_folder)]
        key = f"builder:still/{gif.sha256}"
        store = Store(settings.cache_dir)
        still = store.derived(key, lambda: first_frame(gif.path.read_bytes()))
        assets = {**assets, COVER_STILL: still}
        cover, cover_folder = ImageRef(COVER_STILL, cover.alt), Path(".")
    if cover is None and "epub" in settings.formats:
        # No photo to open the book with: e-readers get a typographic cover.
        subtitle = " · ".join(x for x in (format_date(max(dates), articles[0].lang)
                                          if dates else "", settings.book.author) if x)
        drawn = typographic_cover(title, subtitle, settings.pdf.sans_font)
        stored = Store(settings.cache_dir).put(GENERATED_COVER, drawn)
        assets = {**assets, GENERATED_COVER: stored}
        cover, cover_folder = ImageRef(GENERATED_COVER, title), Path(".")
    identity = [title.encode()] + [a.body.encode() for a in articles] + \
        [assets[u].sha256.encode() for u in sorted(assets)]
    return Book(settings=settings, title=title, articles=tuple(articles), assets=assets,
                identifier=content_identifier(identity), date=max(dates) if dates else None,
                cover=cover, cover_folder=cover_folder)


def make_epubs(settings: Settings, book: Book, theme: Theme, modified: dt.datetime,
               report: BuildReport) -> list[Made]:
    """One EPUB per device of ``[epub] device``, each within its size budget where it has one;
    what each budget did goes to ``report``. (The EPUB's modules are loaded here, once the
    print work is handed over: they are not on its way.)"""
    from .ereader import FLOOR_EDGE, FLOOR_QUALITY
    from .ereader import make as make_epub

    store = Store(settings.cache_dir)
    kept = Memo.of(settings, "epub")
    out = []
    for name in settings.epub.device:
        dev = device(name)
        budget = dev.max_size if settings.epub.max_size == "" else \
            parse_size(settings.epub.max_size)
        made = make_epub(settings, book, theme, modified, dev, budget, store, kept,
                         settings.jobs)
        report.add_epub(made)
        if made.budget and made.size > made.budget:
            problem = (f"{dev.name}: the EPUB is {made.size / MB:.1f} MB, over its budget of "
                       f"{made.budget / MB:.1f} MB, with every photo at its floor (JPEG "
                       f"quality {FLOOR_QUALITY}, {FLOOR_EDGE} px on the long edge)")
            if settings.strict:
                raise OutputError(problem + " (--strict); raise --max-size or leave out "
                                  "articles", "--max-size")
            report.warn(problem)
        out.append(made)
    return out


def write_outputs(book: Book, theme: Theme, modified: dt.datetime, rendition: Rendition,
                  settings: Settings, name: str, tmp: Path, report: BuildReport,
                  printer: Ahead | None = None) -> dict[str, Path]:
    """Write the formats of ``settings`` into ``tmp``; return them by kind. Each writer is
    imported when its format is asked for: an EPUB-only build loads no PDF library. With a
    ``printer`` (:mod:`.ahead`, the print libraries loaded), the print outputs are written
    there, handed over first, while the EPUBs are made and written here."""
    if rendition.print is not None and printer is not None:
        printer.hand("builder.printing", "print_apart", rendition.print, settings, name, tmp)
    try:
        written = _write_epubs(book, theme, modified, settings, name, tmp, report)
    except BaseException:
        if printer is not None:
            printer.close()  # it writes into tmp: ended before tmp is removed
        raise
    if rendition.print is not None:
        if printer is not None:
            printed, found = printer.result()
        else:
            with shielded():  # its libraries' native parts
                from .printing import print_apart
            printed, found = print_apart(rendition.print, settings, name, tmp)
        report.absorb(found)
        written.update(printed)
    return written


def _write_epubs(book: Book, theme: Theme, modified: dt.datetime, settings: Settings,
                 name: str, tmp: Path, report: BuildReport) -> dict[str, Path]:
    """The EPUBs the settings ask for, made and written into ``tmp``: by kind."""
    from .epub import write_epub

    epubs = []
    if "epub" in settings.formats:
        with report.timed("epub images"):
            epubs = make_epubs(settings, book, theme, modified, report)
    written: dict[str, Path] = {}
    for made in epubs:
        path = written[made.device.output_kind] = tmp / made.device.file_name(name)
        with report.timed("epub"), writing(path):
            size = write_epub(made.rendition, path)
        report.epubs[made.device.name]["size"] = size
        if made.budget and size > made.budget >= made.size:  # the estimate errs by bytes
            report.warn(f"{made.device.name}: the EPUB came out at {size:,} bytes, over its "
                        f"budget of {made.budget:,}")
    return written


def strict_check(settings: Settings, report: BuildReport) -> None:
    """With ``--strict``, a degraded book is an error: an image that could not be had, an
    article left out, a caption without its photo, an image lost for no counted reason."""
    t = report.tally()
    failed = report.counts()["placeholder"]
    problems = [f"{failed} image(s) could not be fetched" if failed else "",
                f"{len(report.skipped)} article(s) could not be read" if report.skipped else "",
                f"{t.stranded} caption(s) without their photo" if t.stranded else "",
                f"{t.unexplained} image(s) lost while cleaning" if t.unexplained else ""]
    problems = [p for p in problems if p]
    if problems:
        raise OutputError("; ".join(problems) + " (--strict); see the warnings",
                          str(settings.paths[0]))


# -- the whole ----------------------------------------------------------------------------------

def build(settings: Settings, progress: Progress | None = None,
          start: Start | None = None, printer: Ahead | None = None) -> BuildReport:
    """Build the book of ``settings`` (from :func:`~builder.settings.load_settings`); return its
    report. Raises :class:`~builder.errors.BuilderError` on bad input; ``settings.out_dir`` is
    left as it was unless every output was written. ``start``: what :func:`~builder.state.
    begin` found for this build, when the caller asked first; ``printer``: the process ahead
    for the print outputs (:func:`~builder.ahead.for_print`), when the caller forked it first
    (it is ended here)."""
    try:
        start = start or begin(settings)
        report = start.report
        if report.up_to_date:
            return report
        # The print libraries load in a process of their own while the articles are cleaned
        # and the EPUB written; that process then writes the print outputs (with one job,
        # this one).
        printer = printer or for_print(settings)
        return _build(settings, progress, start, report, printer)
    finally:
        if printer is not None:
            printer.close()


def _build(settings: Settings, progress: Progress | None, start: Start, report: BuildReport,
           printer: Ahead | None) -> BuildReport:
    store = Store(settings.cache_dir)
    theme = Theme(settings.theme_dir)
    articles = prepare_articles(settings, report)
    title = book_title(settings, articles)
    name = slugify(settings.book.name or title)
    release_pinyin()
    report.name, report.title = name, title
    assets = fetch_images(settings, articles, report, progress, store)
    report.add_audits(articles, assets)
    if settings.strict:
        strict_check(settings, report)
    book = assemble(settings, title, articles, assets)
    if settings.prints and not fonts.cjk_families():
        report.warn("no CJK font found: Chinese text will not print; install one, e.g. "
                    "'apt-get install fonts-noto-cjk'")
    modified = modified_time(book.date)
    with report.timed("render"):
        rendition = render(book, theme, modified, epub=False, prints=settings.prints)
    with staged(settings.out_dir, needs=_needs(settings, book)) as tmp:
        written = write_outputs(book, theme, modified, rendition, settings, name, tmp, report,
                                printer)
        written["report"] = tmp / f"{name}.report.json"
        report.outputs = {kind: str(settings.out_dir / p.name) for kind, p in written.items()}
        with writing(written["report"]):
            written["report"].write_text(report.to_json(), encoding="utf-8")
            t = report.tally()
            record(tmp, start.inputs, settings.cache_dir, book.assets, written,
                   degraded=bool(report.skipped or t.stranded or t.unexplained
                                 or report.layout.get("disagreement_count")))
    return report


def _needs(settings: Settings, book) -> int:
    """About how many bytes the build needs at most in its output folder: the photos once per
    EPUB, and twice for the PDF (its parts, the book), three times with a booklet (made from
    the parts while the book is written)."""
    photos = sum(a.path.stat().st_size for a in book.assets.values() if a.path.is_file())
    outputs = len(settings.epub.device if "epub" in settings.formats else ()) + \
        (2 + ("booklet" in settings.formats) if settings.prints else 0)
    return photos * max(1, outputs)


def inspect(path: Path | str, settings: Settings | None = None) -> Inspection:
    """What the build makes of the article ``path``: loaded and cleaned by the same functions,
    with the same settings (by default those of ``book.toml`` beside it), at its place in the
    book of its folder."""
    path = Path(path)
    if settings is None:
        beside = path.parent / "book.toml"
        settings = load_settings(beside if beside.is_file() else None,
                                 {"paths": (path.parent,)})
    if not path.is_file():
        raise SourceError("no such file", str(path))
    if path.resolve() not in {p.resolve() for p in find_sources(list(settings.paths))}:
        settings = replace(settings, paths=(path,))  # not part of a book: a book of its own
    report = BuildReport()
    articles = prepare_articles(settings, report, only=path)
    return Inspection(articles[0], tuple(report.warnings))
