"""Lay out the book through the theme's templates: XHTML documents for the EPUB and one HTML
document for print. Article text reaches the templates as data, never as template source; the
one place where image URLs become asset paths is :func:`localize`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from lxml import etree

from .errors import ConfigError
from .model import GENERATED_COVER, Article, Asset, Book
from .theme import Theme

PRINT_BASE = "https://builder.invalid/"
PAGE_SIZES = {"a5": (148.0, 210.0), "a4": (210.0, 297.0), "letter": (215.9, 279.4),
              "square210": (210.0, 210.0)}
LABELS = {
    "zh": {"contents": "目录", "sources": "来源", "made_with": "本书由 builder 制作。",
           "cover": "封面", "start": "正文", "landmarks": "导览"},
    "en": {"contents": "Contents", "sources": "Sources", "made_with": "Made with builder.",
           "cover": "Cover", "start": "Start", "landmarks": "Landmarks"},
}


@dataclass(frozen=True)
class Doc:
    """One EPUB content document: its file name, title, language and body fragment."""

    file_name: str
    title: str
    lang: str
    body: str
    kind: str  # title | chapter | colophon
    article: Article | None = None
    sections: tuple[tuple[str, str], ...] = ()  # (id, title) of the chapter's headings


def page_size(value: str) -> tuple[float, float]:
    """Width and height in mm of a preset (A5, A4, letter, square210) or ``WxH`` in mm."""
    key = value.strip().lower()
    if key in PAGE_SIZES:
        return PAGE_SIZES[key]
    m = re.match(r"^(\d{2,4}(?:\.\d+)?)\s*[x×]\s*(\d{2,4}(?:\.\d+)?)(?:\s*mm)?$", key)
    if m and 50 <= float(m.group(1)) <= 1000 and 50 <= float(m.group(2)) <= 1000:
        return float(m.group(1)), float(m.group(2))
    raise ConfigError(f"unknown page size {value!r}: use A5, A4, letter, square210 or WxH in mm"
                      " (e.g. 148x210)", "pdf.page_size")


def bleed_mm(value: str) -> float:
    """A bleed such as ``3mm`` (or ``3``) in millimetres, 0 to 10."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(mm)?\s*$", value.lower())
    if not m or float(m.group(1)) > 10:
        raise ConfigError(f"unknown bleed {value!r}: give millimetres from 0 to 10, e.g. 3mm",
                          "pdf.bleed")
    return float(m.group(1))


def labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang.split("-")[0].lower(), LABELS["en"])


def _transform(body: str, change: Callable[[etree._Element], None]) -> str:
    """``body`` (an XHTML fragment) after ``change`` was applied to its wrapping element."""
    if not body:
        return body
    root = etree.fromstring(f"<div>{body}</div>")
    change(root)
    out = [root.text] if root.text else []
    out += [etree.tostring(child, encoding="unicode") for child in root]
    return "".join(out)


def localize(body: str, src_of: Callable[[str], str]) -> str:
    """``body`` with every image URL replaced by ``src_of(url)``."""
    def change(root):
        for img in root.iter("img"):
            img.set("src", src_of(img.get("src", "")))
    return _transform(body, change)


def format_date(value: dt.datetime | None, lang: str) -> str:
    if value is None:
        return ""
    if lang.startswith("zh") or lang.startswith("ja"):
        return f"{value.year}年{value.month}月{value.day}日"
    return value.strftime("%Y-%m-%d")


def byline(article: Article) -> str:
    return " · ".join(x for x in (format_date(article.date, article.lang), article.author) if x)


def _sections(body: str, prefix: str) -> tuple[str, list[tuple[str, str]]]:
    """``body`` with an id on each second-level heading, and those (id, text) pairs."""
    found: list[tuple[str, str]] = []

    def change(root):
        for n, heading in enumerate(root.iter("h2"), 1):
            if not heading.get("id"):
                heading.set("id", f"{prefix}-s{n}")
            text = " ".join("".join(heading.itertext()).split())
            if text:
                found.append((heading.get("id"), text))
    return _transform(body, change), found


def _article_context(book: Book, article: Article, index: int, prefix: str) -> dict:
    src_of = _asset_lookup(book, article.source.parent, prefix)
    cover = None
    # The lead photo opens the chapter, unless the book is this one article: then the book's
    # cover page already shows it.
    if article.cover is not None and not (len(book.articles) == 1 and book.cover is not None):
        cover = {"src": src_of(article.cover.url), "alt": article.cover.alt or article.title}
    body, sections = _sections(localize(article.body, src_of), f"a{index:03d}")
    return {"id": f"a{index:03d}", "title": article.title, "byline": byline(article),
            "lang": article.lang, "cover": cover, "url": article.base_url or "",
            "body": body, "sections": sections}


def _asset_lookup(book: Book, folder: Path | None, prefix: str) -> Callable[[str], str]:
    """Where the images of an article in ``folder`` are found in an output."""
    def src_of(url: str) -> str:
        asset = book.asset(url, folder)
        return f"{prefix}{asset.sha256[:16]}{asset.extension}"
    return src_of


def epub_image_name(asset: Asset) -> str:
    return f"images/{asset.sha256[:16]}{asset.extension}"


def render_epub_docs(book: Book, theme: Theme) -> list[Doc]:
    """The title page, one chapter per article and the colophon, as body fragments."""
    lang = book.config.get("book", "language") or book.articles[0].lang
    meta = book_meta(book)
    docs = []
    if book.cover_asset is not None:
        cover = {"src": epub_image_name(book.cover_asset), "alt": book.title}
        docs.append(Doc("cover.xhtml", labels(lang)["cover"], lang,
                        theme.render("epub/cover.xhtml.j2", cover=cover), "cover"))
    docs.append(Doc("title.xhtml", book.title, lang,
                    theme.render("epub/title.xhtml.j2", book=meta), "title"))
    contexts = []
    for i, article in enumerate(book.articles, 1):
        ctx = _article_context(book, article, i, "images/")
        contexts.append(ctx)
        docs.append(Doc(f"chapter-{i:03d}.xhtml", article.title, article.lang,
                        theme.render("epub/chapter.xhtml.j2", article=ctx), "chapter", article,
                        tuple(ctx["sections"])))
    docs.append(Doc("colophon.xhtml", labels(lang)["sources"], lang,
                    theme.render("epub/colophon.xhtml.j2", articles=contexts,
                                 labels=labels(lang)), "colophon"))
    return docs


def book_meta(book: Book) -> dict:
    lang = book.config.get("book", "language") or book.articles[0].lang
    authors = [a.author for a in book.articles if a.author]
    author = book.config.get("book", "author") or (authors[0] if len(set(authors)) == 1 else "")
    date = format_date(book.date, lang)
    return {"title": book.title, "author": author, "date": date, "lang": lang,
            "publisher": book.config.get("book", "publisher"),
            "subtitle": " · ".join(x for x in (date, author) if x),
            "keywords": sorted({c for a in book.articles for c in a.categories})}


def print_page(book: Book) -> dict:
    width, height = page_size(book.config.get("pdf", "page_size"))
    content = height - 16 - 18
    room = 28  # a caption and the space around a figure
    return {"width": width, "height": height, "bleed": bleed_mm(book.config.get("pdf", "bleed")),
            "marks": book.config.get("pdf", "marks"),
            "open_right": book.config.get("pdf", "open_right"), "photo_height": round(content - room, 1),
            "photo_height_2": round((content - room) / 2 - 2, 1),
            "photo_height_3": round((content - room) / 3 - 2, 1)}


def render_print_html(book: Book, theme: Theme, created: str) -> str:
    """The whole book as one HTML document for WeasyPrint; assets under :data:`PRINT_BASE`."""
    meta = book_meta(book)
    meta["created"] = created
    meta["cover"] = None
    if book.cover is not None and book.cover.url != GENERATED_COVER:  # print sets its own
        src_of = _asset_lookup(book, book.cover_folder, f"{PRINT_BASE}assets/")
        meta["cover"] = {"src": src_of(book.cover.url), "alt": book.cover.alt or book.title}
    articles = []
    for i, article in enumerate(book.articles, 1):
        ctx = _article_context(book, article, i, f"{PRINT_BASE}assets/")
        ctx["body"] = _mark_figures(ctx["body"])
        articles.append(ctx)
    return theme.render("pdf/book.html.j2", book=meta, articles=articles, page=print_page(book),
                        labels=labels(meta["lang"]), stylesheet=f"{PRINT_BASE}theme/print.css")


def _mark_figures(body: str) -> str:
    """Give each figure a class by its number of images, for the print layout."""
    def change(root):
        for fig in root.iter("figure"):
            fig.set("class", f"figure-{min(len(fig.findall('img')), 4)}")
    return _transform(body, change)
