"""Write the EPUB with ebooklib, then re-pack it so that the same inputs give the same bytes:
``mimetype`` first and stored, entries sorted, fixed timestamps, images stored uncompressed."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

from ebooklib import epub

from .model import EpubRendition

STORED_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif")


def write_epub(rendition: EpubRendition, path: Path) -> None:
    """Write ``rendition`` as EPUB 3 (with an NCX) to ``path``."""
    meta = rendition.meta
    docs = rendition.docs
    eb = epub.EpubBook()
    eb.set_identifier(f"urn:uuid:{meta.identifier}")
    eb.set_title(meta.title)
    eb.set_language(meta.lang)
    if meta.author:
        eb.add_author(meta.author)
    if meta.publisher:
        eb.add_metadata("DC", "publisher", meta.publisher)
    if meta.date is not None:
        eb.add_metadata("DC", "date", meta.date.astimezone(dt.UTC)
                        .strftime("%Y-%m-%dT%H:%M:%SZ"))
    for subject in meta.keywords:
        eb.add_metadata("DC", "subject", subject)
    for source in meta.sources:
        eb.add_metadata("DC", "source", source)
    for prop, value in _accessibility(rendition):
        eb.add_metadata(None, "meta", value, {"property": prop})

    for image in rendition.images:
        data = image.path.read_bytes()
        if image.cover:
            eb.set_cover(image.file_name, data, create_page=False)  # the theme's page shows it
            continue
        eb.add_item(epub.EpubItem(uid=image.uid, file_name=image.file_name,
                                  media_type=image.media_type, content=data))

    css = epub.EpubItem(uid="style", file_name="styles/epub.css", media_type="text/css",
                        content=rendition.stylesheet.encode("utf-8"))
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
              for c, d in zip(chapters, docs, strict=True) if d.kind == "chapter"]
    first = next(c for c, d in zip(chapters, docs, strict=True) if d.kind == "chapter")
    words = rendition.labels
    has_cover = any(d.kind == "cover" for d in docs)
    eb.guide = ([{"type": "cover", "href": "cover.xhtml", "title": words.cover}]
                if has_cover else []) + [
        {"type": "toc", "href": "nav.xhtml", "title": words.contents},
        {"type": "text", "href": first.file_name, "title": words.start}]
    eb.add_item(epub.EpubNcx())
    eb.add_item(epub.EpubNav())
    covers = [c for c, d in zip(chapters, docs, strict=True) if d.kind == "cover"]
    eb.spine = covers + ["nav"] + [c for c in chapters if c not in covers]
    tmp = path.with_name(path.name + ".raw")
    try:
        epub.write_epub(str(tmp), eb, {"raise_exceptions": True, "mtime": meta.modified,
                                       "epub3_landmark": True,
                                       "landmark_title": words.landmarks})
        _repack(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _accessibility(rendition: EpubRendition) -> list[tuple[str, str]]:
    """EPUB Accessibility 1.1 metadata: what the book holds and how it can be read, claiming
    only what is true of this book."""
    d = rendition.descriptions
    has_images = bool(rendition.images)
    described = d.with_alt + d.with_caption
    meta = [("schema:accessMode", "textual")]
    if has_images:
        meta.append(("schema:accessMode", "visual"))
        meta.append(("schema:accessModeSufficient", "textual,visual"))
    if not has_images or described == d.total:
        meta.append(("schema:accessModeSufficient", "textual"))
    meta += [("schema:accessibilityFeature", "tableOfContents"),
             ("schema:accessibilityFeature", "readingOrder"),
             ("schema:accessibilityFeature", "displayTransformability")]
    if d.total and d.with_alt == d.total:
        meta.append(("schema:accessibilityFeature", "alternativeText"))
    if rendition.has_headings:
        meta.append(("schema:accessibilityFeature", "structuralNavigation"))
    if not d.total:
        photos = "It has no photos in its text."
    elif d.with_alt == d.total:
        photos = f"Each of its {d.total} photos has a text alternative."
    else:
        photos = (f"Of its {d.total} photos, {d.with_alt} have a text alternative from the "
                  f"source and {d.with_caption} more are described by their caption only; "
                  f"{d.total - described} have no description.")
    meta += [("schema:accessibilityHazard", "none"),
             ("schema:accessibilitySummary",
              f"Reflowable text with a table of contents. {photos} No flashing, sound or "
              "motion.")]
    return meta


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
