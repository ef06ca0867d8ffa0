"""The plain data that the stages hand to each other. Frozen: a stage returns new values."""

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

    @property
    def images(self) -> tuple[ImageRef, ...]:
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
        return {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
                "image/svg+xml": ".svg"}.get(self.media_type, ".bin")


#: The key of the typographic cover drawn for a book without a photo.
GENERATED_COVER = "builder:typographic-cover"


def asset_key(url: str, folder: Path) -> str:
    """How the asset store names the image ``url`` of an article in ``folder``: a URL without
    its ``#fragment``; a relative path as the file it names, since two folders' ``img/a.jpg``
    are two images."""
    url = url.split("#", 1)[0]
    if ":" in url.split("/", 1)[0] or url.startswith("//"):  # has a scheme, or is protocol-relative
        return url
    return (folder / url.split("?", 1)[0]).as_posix()


@dataclass(frozen=True)
class Book:
    config: object  # BookConfig; typed loosely to keep this module free of imports
    title: str
    articles: tuple[Article, ...]
    assets: dict[str, Asset] = field(default_factory=dict)
    identifier: str = ""
    date: dt.datetime | None = None
    cover: ImageRef | None = None
    cover_folder: Path | None = None  # the folder of the article the cover comes from

    def asset(self, url: str, folder: Path) -> Asset:
        """The asset of image ``url`` of an article in ``folder``."""
        return self.assets[asset_key(url, folder)]

    @property
    def cover_asset(self) -> Asset | None:
        if self.cover is None or self.cover_folder is None:
            return None
        return self.asset(self.cover.url, self.cover_folder)
