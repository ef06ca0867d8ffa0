"""The e-readers a book is made for: one profile per family of devices, each with the pixel box
its photos are scaled into, the size budget it needs, its file name and the markup it reads
best.

The boxes are the screens of current models, portrait, as Kindle Comic Converter's device
list gives them (``kindlecomicconverter/image.py``, ``ProfileData.Profiles``): a photo scaled
into the box fills the screen's width or height and no more. Apple Books' box follows Apple's
asset guide (images up to about 4 million pixels).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Device:
    name: str
    #: The photos' pixel box, portrait (width, height); 0: the settings' ``epub_max_edge``.
    box: tuple[int, int]
    #: What the file name ends with, after the book's name.
    suffix: str
    #: The book's size budget by default, in bytes; 0: none.
    max_size: int = 0
    #: Written as a Kobo kepub (koboSpans and the Kobo wrappers).
    kepub: bool = False
    #: Transparent images are set on white (some readers show them on a black page).
    flatten: bool = False
    #: Opaque PNG photos (many colours) become JPEG: the device gains nothing from PNG there.
    photos_as_jpeg: bool = False
    #: The language named by its primary subtag only (``zh``, not ``zh-CN``): Send-to-Kindle
    #: refers to KDP's list of languages, which has few regional tags.
    primary_language: bool = False
    #: Where the screens are from, for the curious.
    source: str = ""

    def file_name(self, name: str) -> str:
        return f"{name}{self.suffix}"

    @property
    def output_kind(self) -> str:
        """The key of the book in the report's outputs: ``epub``, ``epub-kindle`` …"""
        return "epub" if self.name == "generic" else f"epub-{self.name}"


MB = 1_000_000

DEVICES: dict[str, Device] = {d.name: d for d in (
    Device("generic", (0, 0), ".epub",
           source="any reader: photos at up to [images] epub_max_edge pixels"),
    Device("kindle", (1272, 1696), ".kindle.epub", max_size=45 * MB, flatten=True,
           photos_as_jpeg=True, primary_language=True,
           source="Kindle Paperwhite 12th generation and Colorsoft, 1272×1696 (KCC; the "
                  "Oasis is 1264×1680); Send-to-Kindle takes at most 50 MB by e-mail"),
    Device("kobo", (1264, 1680), ".kobo.kepub.epub", kepub=True, flatten=True,
           photos_as_jpeg=True,
           source="Kobo Libra 2 and Libra Colour, 1264×1680 (KCC 'KoL')"),
    Device("koreader", (1440, 1920), ".koreader.epub", flatten=True, photos_as_jpeg=True,
           source="KOReader on the larger e-ink screens: Kobo Sage, PocketBook Era, "
                  "1440×1920 (KCC 'KoS')"),
    Device("apple", (1536, 2048), ".apple.epub",
           source="Apple Books on an iPad, 1536×2048 (3.1 million pixels, within Apple's "
                  "4 million)"),
)}


def device(name: str) -> Device:
    return DEVICES[name]


def box(dev: Device, max_edge: int) -> tuple[int, int]:
    """The device's pixel box; the generic one is ``max_edge`` square."""
    return dev.box if dev.box[0] else (max_edge, max_edge)


def parse_size(value: str) -> int:
    """``"45MB"``, ``"45 MB"``, ``"500KB"``, ``"1.5GB"`` or a number of bytes, as bytes
    (decimal units, as Amazon counts its 50 MB); ``""`` or ``"0"``: no budget. Raises
    ValueError with what is wrong."""
    text = value.strip().upper().replace(" ", "")
    if text in ("", "0", "NONE"):
        return 0
    m = re.fullmatch(r"([0-9]*\.?[0-9]+)(GB|MB|KB|B)?", text)
    if not m or not float(m.group(1)) > 0:
        raise ValueError(f"{value!r} is not a size: write e.g. 45MB or 1.5GB")
    size = float(m.group(1))
    factor = {"GB": 1_000_000_000, "MB": MB, "KB": 1000, "B": 1}[m.group(2) or "B"]
    if size * factor < 1 * MB:
        raise ValueError(f"{value!r} is too small for a book with photos (at least 1MB)")
    return int(size * factor)
