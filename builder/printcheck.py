"""The print check: every photo of the written PDF with its page, printed width and effective
resolution, read from the PDF itself (:mod:`.pdfimages`) and matched to the book's assets.

A JPEG is matched by its pixel size and its length in bytes (WeasyPrint embeds JPEGs as they
are), and by its bytes' SHA-256 where two of the book's JPEGs share both (only those are read
and hashed); any other image by its pixel size, which is all the resolution depends on.
Placeholders are left out: they stand for a photo that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pikepdf

from .model import Asset
from .pdfimages import placed_images

POINTS_PER_INCH = 72.0


@dataclass(frozen=True)
class Placed:
    """A photo as printed: its URL, page number, printed width in inches and resolution."""

    url: str
    page: int
    inches: float
    dpi: float


def resolution(pdf: Path, assets: dict[str, Asset]) -> list[Placed]:
    """Every photo placed in ``pdf`` that is one of ``assets``, with its resolution."""
    by_digest = {a.sha256: a for a in assets.values()}
    by_size: dict[tuple[int, int], Asset] = {}
    by_length: dict[tuple[int, int, int], set[str]] = {}
    for name in sorted(assets):
        a = assets[name]
        by_size.setdefault((a.width, a.height), a)
        if a.bytes:
            by_length.setdefault((a.width, a.height, a.bytes), set()).add(a.sha256)
    by_length_one = {k: by_digest[next(iter(v))] for k, v in by_length.items() if len(v) == 1}

    def digest_when(width: int, height: int, length: int | None) -> bool:
        return (width, height, length) not in by_length_one

    with pikepdf.open(pdf) as reader:
        pages = [float(page.trimbox[2]) - float(page.trimbox[0]) for page in reader.pages]
        drawn = placed_images(reader, digest_when)
    found = []
    for p in drawn:
        asset = by_digest.get(p.digest) if p.digest else None
        asset = asset or by_length_one.get((p.width_px, p.height_px, p.length or 0))
        asset = asset or by_size.get((p.width_px, p.height_px))
        if asset is None or asset.status == "placeholder" or not p.width_pt or not p.height_pt:
            continue
        wide, high = p.width_pt / POINTS_PER_INCH, p.height_pt / POINTS_PER_INCH
        # A cropped fit (the cover's object-fit: cover) draws the image larger than its box,
        # uniformly: either axis gives the resolution that prints; the lower one is safe.
        dpi = min(p.width_px / wide, p.height_px / high)
        shown = min(p.width_pt, pages[p.page - 1]) / POINTS_PER_INCH  # what the page shows
        found.append(Placed(asset.url, p.page, round(shown, 2), round(dpi, 1)))
    return found
