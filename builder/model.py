"""The plain data that the stages hand to each other. Frozen: a stage returns new values.

What flows: ``Article`` (loaded, then cleaned) → ``Asset`` per image (fetched) → ``Book`` →
``Rendition`` (what render hands the writers: ``EpubRendition`` and ``PrintRendition``, complete,
so that a writer knows this module and its own library, never the renderer).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ImageRef:
    """An image an article shows: the real URL after unwrapping proxies and lazy loading."""

    url: str
    alt: str = ""
    width_hint: int | None = None
    height_hint: int | None = None


@dataclass(frozen=True)
class Figure:
    """One or several images and the caption that belongs to all of them."""

    images: tuple[ImageRef, ...]
    caption: str | None = None


@dataclass(frozen=True)
class CleanAudit:
    """What cleaning found in an article and what it did with it: every image and caption of
    the source is kept, or dropped for a reason that is counted here."""

    images_in_source: int = 0  # <img> elements (and <picture>s without one) in the body
    images_kept: int = 0  # image occurrences in the clean body's figures
    dropped: tuple[tuple[str, int], ...] = ()  # (reason, count), e.g. tracking pixels
    repeated: int = 0  # occurrences of a photo already shown (kept, one stored file)
    captions_in_source: int = 0  # caption markup: figcaption, ↑ ▲ 图为 …
    captions_attached: int = 0
    captions_stranded: int = 0  # kept as text: no photo before them
    text_before: int = 0  # characters of text (white space aside) before cleaning
    text_after: int = 0

    @property
    def unexplained(self) -> int:
        """Images neither kept nor dropped for a counted reason (a bug if ever non-zero)."""
        return self.images_in_source - self.images_kept - sum(n for _, n in self.dropped)


@dataclass(frozen=True)
class Article:
    source: Path
    slug: str
    title: str
    date: dt.datetime | None
    author: str | None
    categories: tuple[str, ...]
    lang: str
    cover: ImageRef | None
    body: str  # raw HTML after loading; clean XHTML fragment after cleaning
    base_url: str | None = None  # the page the article came from, when known
    figures: tuple[Figure, ...] = ()
    stats: tuple[tuple[str, int], ...] = ()  # what cleaning did, pass by pass
    warnings: tuple[str, ...] = ()
    cover_caption: str | None = None  # the caption the source gives the head image
    cover_in_body: bool = False  # the body opens with the head image: no separate lead
    audit: CleanAudit = CleanAudit()

    @property
    def images(self) -> tuple[ImageRef, ...]:
        """Every image the article shows: the head image, then each figure's, in order."""
        refs = [self.cover] if self.cover else []
        refs += [img for fig in self.figures for img in fig.images]
        return tuple(refs)


@dataclass(frozen=True)
class Asset:
    """A fetched (or substituted) image, stored on disk in the asset store."""

    url: str
    sha256: str
    path: Path
    media_type: str
    width: int
    height: int
    status: str  # ok | cached | placeholder
    reason: str | None = None
    bytes: int = 0

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.media_type, ".bin")

    @property
    def name(self) -> str:
        """The asset's file name in every output: its content hash and the extension of its
        media type. The one place an asset's name is made."""
        return f"{self.sha256[:16]}{self.extension}"


#: The file extension of each media type the asset store holds.
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
              "image/svg+xml": ".svg"}


#: The key of the typographic cover drawn for a book without a photo.
GENERATED_COVER = "builder:typographic-cover"
#: The key of the still picture a book's animated (GIF) cover photo becomes.
COVER_STILL = "builder:cover-still"
#: How an image whose URL names no image at all (``javascript:``, ``about:`` …) is keyed: the
#: URL itself never travels further than cleaning. The image stage gives it a placeholder.
REFUSED = "builder:refused/"


def refused_url(url: str, scheme: str) -> str:
    """The stand-in key of an image URL refused while cleaning."""
    import hashlib

    return f"{REFUSED}{scheme}/{hashlib.sha256(url.encode()).hexdigest()[:16]}"


def without_fragment(url: str) -> str:
    """An image URL without its ``#fragment``: two URLs that differ only there are one image."""
    return url.split("#", 1)[0]


def is_local(key: str) -> bool:
    """Whether the asset key ``key`` names a file (not a URL with a scheme or a host)."""
    return not (":" in key.split("/", 1)[0] or key.startswith("//"))


def asset_key(url: str, folder: Path) -> str:
    """How the asset store names the image ``url`` of an article in ``folder``: a URL without
    its ``#fragment``; a relative path as the file it names, since two folders' ``img/a.jpg``
    are two images."""
    url = without_fragment(url)
    if not is_local(url):  # has a scheme, or is protocol-relative
        return url
    return (folder / url.split("?", 1)[0]).as_posix()


@dataclass(frozen=True)
class Book:
    settings: object  # Settings; typed loosely to keep this module free of imports
    title: str
    articles: tuple[Article, ...]
    assets: dict[str, Asset] = field(default_factory=dict)
    identifier: str = ""
    date: dt.datetime | None = None
    cover: ImageRef | None = None
    cover_folder: Path | None = None  # the folder of the article the cover comes from
    #: The assets as the EPUB holds them (scaled down to its pixel box), by the same keys;
    #: empty: as they are.
    epub_assets: dict[str, Asset] = field(default_factory=dict)

    def asset(self, url: str, folder: Path, epub: bool = False) -> Asset:
        """The asset of image ``url`` of an article in ``folder`` (``epub``: in the EPUB)."""
        key = asset_key(url, folder)
        return (self.epub_assets or self.assets)[key] if epub else self.assets[key]

    @property
    def cover_asset(self) -> Asset | None:
        if self.cover is None or self.cover_folder is None:
            return None
        return self.asset(self.cover.url, self.cover_folder)


# -- what render hands the writers ---------------------------------------------------------------

#: The base URL of the print document: assets under ``assets/<Asset.name>``, the theme's
#: stylesheets under ``theme/<name>``. An ``.invalid`` host can never be fetched.
#: Points (PDF units) in a millimetre.
PT_PER_MM = 72 / 25.4
PRINT_BASE = "https://builder.invalid/"
#: The folder of the images inside the EPUB.
EPUB_IMAGES = "images/"


@dataclass(frozen=True)
class Labels:
    """The words the book itself says, in its language."""

    contents: str
    sources: str
    made_with: str
    cover: str
    start: str
    landmarks: str


@dataclass(frozen=True)
class BookMeta:
    """The book's metadata, as every output states it."""

    identifier: str  # a UUID derived from the content
    title: str
    lang: str
    author: str
    publisher: str
    date: dt.datetime | None  # the newest article's
    date_text: str  # the date as the book prints it
    subtitle: str  # date · author
    keywords: tuple[str, ...]
    sources: tuple[str, ...]  # the articles' page URLs
    modified: dt.datetime  # the build's fixed modification time
    series: str = ""  # the series the book belongs to, if any
    series_index: float = 1.0  # its number in the series


@dataclass(frozen=True)
class EpubDoc:
    """One EPUB content document: its file name, title, language and body fragment."""

    file_name: str
    title: str
    lang: str
    body: str
    kind: str  # cover | title | chapter | continued (a long chapter's next file) | colophon
    #: (id, title) of the chapter's headings; ``file#id`` for one in a continued file.
    sections: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EpubImage:
    """An image of the EPUB: its name in the package and its file in the asset store."""

    file_name: str  # EPUB_IMAGES + Asset.name
    path: Path
    media_type: str
    uid: str
    cover: bool = False


@dataclass(frozen=True)
class ImageDescriptions:
    """How the images of a book are described, for its accessibility metadata."""

    total: int = 0  # images in the reading flow
    with_alt: int = 0  # with a text alternative of their own
    with_caption: int = 0  # without one, but under a caption


@dataclass(frozen=True)
class EpubRendition:
    meta: BookMeta
    labels: Labels
    docs: tuple[EpubDoc, ...]
    images: tuple[EpubImage, ...]
    stylesheet: str
    has_headings: bool
    descriptions: ImageDescriptions = ImageDescriptions()
    device: str = "generic"  # the e-reader it is made for (see builder.devices)


@dataclass(frozen=True)
class PrintRendition:
    """The whole book as one HTML document, and everything the document may load."""

    meta: BookMeta
    html: str
    assets: dict[str, Asset]  # by Asset.name, served under PRINT_BASE + "assets/"
    stylesheets: dict[str, str]  # the theme's, served under PRINT_BASE + "theme/"
    serif_font: str  # the family the settings ask for; "": the theme's
    sans_font: str
    variant: str  # "" or a WeasyPrint PDF variant


@dataclass(frozen=True)
class Box:
    """Where an element stands in a laid-out document: its page (from 0) and its border box,
    in millimetres from the page's top left corner."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Frame:
    """A page as laid out: whether it is a blank one (left by a break to a side), the name of
    its page (CSS ``page``; "" for none), its margins (top, right, bottom, left) and its size
    (width, height, trimmed), in mm."""

    blank: bool
    name: str
    margins: tuple[float, float, float, float]
    size: tuple[float, float]


@dataclass(frozen=True)
class Rendition:
    epub: EpubRendition | None
    print: PrintRendition | None
