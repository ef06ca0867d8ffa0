"""Write the EPUB with ebooklib's package, into a zip the builder writes itself, once, so that
the same inputs give the same bytes: ``mimetype`` first and stored, entries sorted, fixed
timestamps, images stored as they are (never deflated), text deflated."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
import zlib
from pathlib import Path

from ebooklib import epub

from .model import EpubRendition

STORED_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class _Photo(epub.EpubItem):
    """An image item whose bytes stay on disk until the zip is written."""

    def __init__(self, path: Path, **kw):
        super().__init__(**kw)
        self.path = path

    def get_content(self, default=None):
        return self.path


class _Entries:
    """What ebooklib's writer writes, kept by name instead of zipped: text as bytes, photos
    as the paths of their files."""

    def __init__(self):
        self.entries: dict[str, bytes | Path] = {}

    def writestr(self, name, data, compress_type=None):
        self.entries[str(name)] = data.encode("utf-8") if isinstance(data, str) else data


#: Languages written right to left: their books turn pages leftwards.
RTL_LANGUAGES = {"ar", "dv", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"}


class _Writer(epub.EpubWriter):
    """ebooklib's writer: its package (OPF, nav, NCX, items) kept by name, to be zipped once,
    deterministically (:func:`_zip`)."""

    def entries(self) -> dict[str, bytes | Path]:
        self.out = _Entries()
        self._write_container()
        self._write_opf()
        self._write_items()
        return self.out.entries


def write_epub(rendition: EpubRendition, path: Path) -> int:
    """Write ``rendition`` as EPUB 3 (with an NCX) to ``path``; return its size in bytes."""
    _zip(package(rendition), path)
    return path.stat().st_size


def package(rendition: EpubRendition) -> dict[str, bytes | Path]:
    """The files of the EPUB of ``rendition`` by name: text as bytes, photos as paths."""
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
    if meta.series:  # calibre and KOReader read the first two, Kobo and EPUB 3 readers the rest
        index = f"{meta.series_index:g}"
        eb.add_metadata(None, "meta", "", {"name": "calibre:series", "content": meta.series})
        eb.add_metadata(None, "meta", "", {"name": "calibre:series_index", "content": index})
        eb.add_metadata(None, "meta", meta.series,
                        {"property": "belongs-to-collection", "id": "series"})
        eb.add_metadata(None, "meta", "series",
                        {"refines": "#series", "property": "collection-type"})
        eb.add_metadata(None, "meta", index, {"refines": "#series", "property": "group-position"})
    rtl = meta.lang.split("-")[0].lower() in RTL_LANGUAGES
    if rtl:  # Kindle reads the writing mode from the metadata, others from the spine
        eb.set_direction("rtl")
        eb.add_metadata(None, "meta", "", {"name": "primary-writing-mode",
                                           "content": "horizontal-rl"})

    for image in rendition.images:
        if image.cover:  # the theme's page shows it
            eb.set_cover(image.file_name, image.path.read_bytes(), create_page=False)
            continue
        eb.add_item(_Photo(image.path, uid=image.uid, file_name=image.file_name,
                           media_type=image.media_type))

    css = epub.EpubItem(uid="style", file_name="styles/epub.css", media_type="text/css",
                        content=rendition.stylesheet.encode("utf-8"))
    eb.add_item(css)
    chapters = []
    for doc in docs:
        item = epub.EpubHtml(title=doc.title, file_name=doc.file_name, lang=doc.lang,
                             uid=doc.file_name.rsplit(".", 1)[0],
                             direction="rtl" if rtl else None)
        item.content = doc.body
        item.add_item(css)
        eb.add_item(item)
        chapters.append(item)
    eb.toc = [(epub.Link(d.file_name, d.title, d.file_name.rsplit(".", 1)[0]),
               [epub.Link(_target(d.file_name, sid), text,
                          re.sub(r"[^\w.-]", "-", f"{d.file_name}-{sid}"))
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
    writer = _Writer("", eb, {"raise_exceptions": True, "mtime": meta.modified,
                                     "epub3_landmark": True, "landmark_title": words.landmarks})
    writer.process()
    return writer.entries()


def _target(file_name: str, section: str) -> str:
    """A section's link: ``file#id``, in the chapter's own file unless it names another (a
    long chapter goes on in files of its own)."""
    return section if "#" in section else f"{file_name}#{section}"


def zip_size(entries: dict[str, bytes | Path]) -> int:
    """The size of the zip :func:`_zip` writes of ``entries``, to the byte, without writing
    it."""
    total = 22  # the end of the central directory
    for name, data in {"mimetype": b"application/epub+zip", **entries}.items():
        if name.lower().endswith(STORED_SUFFIXES) or name == "mimetype":
            size = data.stat().st_size if isinstance(data, Path) else len(data)
        else:
            raw = data.read_bytes() if isinstance(data, Path) else data
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            size = len(packer.compress(raw) + packer.flush())
        total += 30 + 46 + 2 * len(name.encode("utf-8")) + size
    return total


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


def _zip(entries: dict[str, bytes | Path], dst: Path) -> None:
    """``entries`` as an EPUB zip: ``mimetype`` first and stored, then the rest by name, each
    at a fixed time; photos copied from their files as they are, text deflated."""
    with zipfile.ZipFile(dst, "w") as out:
        info = zipfile.ZipInfo("mimetype", FIXED_TIME)
        info.compress_type = zipfile.ZIP_STORED
        out.writestr(info, entries.get("mimetype", b"application/epub+zip"))
        for name in sorted(n for n in entries if n != "mimetype"):
            data = entries[name]
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.external_attr = 0o644 << 16
            if name.lower().endswith(STORED_SUFFIXES):
                info.compress_type = zipfile.ZIP_STORED
                if isinstance(data, Path):
                    info.file_size = data.stat().st_size
                    with data.open("rb") as src, out.open(info, "w") as sink:
                        shutil.copyfileobj(src, sink, 1 << 20)
                    continue
                out.writestr(info, data)
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                if isinstance(data, Path):
                    data = data.read_bytes()
                out.writestr(info, data, compresslevel=9)
