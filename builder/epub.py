"""Write the EPUB with ebooklib, then re-pack it so that the same inputs give the same bytes:
``mimetype`` first and stored, entries sorted, fixed timestamps, images stored uncompressed."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

from ebooklib import epub

from .images import fit
from .model import Book
from .render import Doc, book_meta, epub_image_name, labels

STORED_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif")


def write_epub(book: Book, docs: list[Doc], stylesheet: str, path: Path,
               modified: dt.datetime) -> None:
    """Write ``book`` as EPUB 3 (with an NCX) to ``path``."""
    meta = book_meta(book)
    eb = epub.EpubBook()
    eb.set_identifier(f"urn:uuid:{book.identifier}")
    eb.set_title(book.title)
    eb.set_language(meta["lang"])
    if meta["author"]:
        eb.add_author(meta["author"])
    if meta["publisher"]:
        eb.add_metadata("DC", "publisher", meta["publisher"])
    if book.date is not None:
        eb.add_metadata("DC", "date", book.date.astimezone(dt.timezone.utc)
                        .strftime("%Y-%m-%dT%H:%M:%SZ"))
    for subject in meta["keywords"]:
        eb.add_metadata("DC", "subject", subject)
    for article in book.articles:
        if article.base_url:
            eb.add_metadata("DC", "source", article.base_url)
    for prop, value in _accessibility(book):
        eb.add_metadata(None, "meta", value, {"property": prop})

    max_edge = book.config.get("images", "epub_max_edge")
    for name, asset in sorted(_epub_assets(book).items()):
        data = asset.path.read_bytes()
        prepared = fit(data, asset.media_type, max_edge)
        if asset is book.cover_asset:
            eb.set_cover(name, prepared.data, create_page=False)  # the theme's page shows it
            continue
        eb.add_item(epub.EpubItem(uid=f"img-{asset.sha256[:16]}", file_name=name,
                                  media_type=asset.media_type, content=prepared.data))

    css = epub.EpubItem(uid="style", file_name="styles/epub.css", media_type="text/css",
                        content=stylesheet.encode("utf-8"))
    eb.add_item(css)
    chapters = []
    for doc in docs:
        item = epub.EpubHtml(title=doc.title, file_name=doc.file_name, lang=doc.lang,
                             uid=doc.file_name.rsplit(".", 1)[0])
        item.content = doc.body
        item.add_item(css)
        eb.add_item(item)
        chapters.append(item)
    eb.toc = [(epub.Link(d.file_name, d.title, d.file_name.rsplit(".", 1)[0]),
               [epub.Link(f"{d.file_name}#{sid}", text, f"{d.file_name}-{sid}")
                for sid, text in d.sections]) if d.sections else c
              for c, d in zip(chapters, docs) if d.kind == "chapter"]
    first = next(c for c, d in zip(chapters, docs) if d.kind == "chapter")
    words = labels(meta["lang"])
    eb.guide = ([{"type": "cover", "href": "cover.xhtml", "title": words["cover"]}]
                if book.cover is not None else []) + [
        {"type": "toc", "href": "nav.xhtml", "title": words["contents"]},
        {"type": "text", "href": first.file_name, "title": words["start"]}]
    eb.add_item(epub.EpubNcx())
    eb.add_item(epub.EpubNav())
    covers = [c for c, d in zip(chapters, docs) if d.kind == "cover"]
    eb.spine = covers + ["nav"] + [c for c in chapters if c not in covers]
    tmp = path.with_name(path.name + ".raw")
    try:
        epub.write_epub(str(tmp), eb, {"raise_exceptions": True, "mtime": modified,
                                       "epub3_landmark": True,
                                       "landmark_title": words["landmarks"]})
        _repack(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _accessibility(book: Book) -> list[tuple[str, str]]:
    """EPUB Accessibility 1.1 metadata: what the book holds and how it can be read."""
    has_images = any(a.images for a in book.articles) or book.cover is not None
    headings = any("<h2" in a.body for a in book.articles)
    meta = [("schema:accessMode", "textual")]
    if has_images:
        meta.append(("schema:accessMode", "visual"))
    meta += [("schema:accessModeSufficient", "textual"),
             ("schema:accessibilityFeature", "tableOfContents"),
             ("schema:accessibilityFeature", "readingOrder"),
             ("schema:accessibilityFeature", "displayTransformability")]
    if has_images:
        meta.append(("schema:accessibilityFeature", "alternativeText"))
    if headings:
        meta.append(("schema:accessibilityFeature", "structuralNavigation"))
    meta += [("schema:accessibilityHazard", "none"),
             ("schema:accessibilitySummary",
              "Reflowable text with a table of contents. Every photo has a text alternative: "
              "its caption, or the article title where it has none. No flashing, sound or "
              "motion.")]
    return meta


def _epub_assets(book: Book) -> dict:
    """The assets the book shows, by their file name in the EPUB."""
    names = {}
    for article in book.articles:
        for ref in article.images:
            asset = book.asset(ref.url, article.source.parent)
            names[epub_image_name(asset)] = asset
    if book.cover_asset is not None:
        names[epub_image_name(book.cover_asset)] = book.cover_asset
    return names


def _repack(src: Path, dst: Path) -> None:
    fixed = (1980, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        names = sorted(n for n in zin.namelist() if n != "mimetype")
        info = zipfile.ZipInfo("mimetype", fixed)
        info.compress_type = zipfile.ZIP_STORED
        zout.writestr(info, zin.read("mimetype"))
        for name in names:
            info = zipfile.ZipInfo(name, fixed)
            info.external_attr = 0o644 << 16
            stored = name.lower().endswith(STORED_SUFFIXES)
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            zout.writestr(info, zin.read(name), compresslevel=None if stored else 9)
