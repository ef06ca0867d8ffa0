"""Photos from the source: verify, normalise and resize image bytes with Pillow.

The format is sniffed from the bytes. Every image is fully decoded once to prove it is whole.
JPEG, PNG and GIF are kept byte for byte unless they need a change (EXIF orientation, CMYK);
other formats become JPEG, or PNG where there is transparency. SVG passes only when it has no
script, event handler or external reference.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
from dataclasses import dataclass

from lxml import etree
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

try:  # HEIC/HEIF photos (phones): Pillow reads them through pillow-heif's plugin
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - a declared dependency; without it HEIC is "not an image"
    pass

KEPT_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif"}
#: What Pillow's decoders raise on damaged or hostile bytes (its plugins are not consistent).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError, KeyError,
                 ZeroDivisionError, struct.error)


class ImageRejected(Exception):
    """The bytes are not a usable image; the message is the report's reason."""


@dataclass(frozen=True)
class Prepared:
    data: bytes
    media_type: str
    width: int
    height: int


def _is_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<svg", b"<?xml", b"<!doctype svg")) and b"<svg" in data[:4096].lower()


_SVG_EXTERNAL = re.compile(r"^\s*(?!#|data:image/(?:png|jpe?g|gif);)", re.I)
#: A CSS reference to anything but a fragment of the SVG itself.
_CSS_EXTERNAL = re.compile(r"url\s*\(\s*['\"]?\s*(?!#)|@import", re.I)


def check_svg(data: bytes) -> Prepared:
    """An SVG that is safe to embed, or :class:`ImageRejected`."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ImageRejected(f"broken SVG: {exc}") from None
    if b"<!ENTITY" in data:
        raise ImageRejected("unsafe SVG: entity declarations")
    if not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "svg":
        raise ImageRejected("not an image: XML without an <svg> root")
    sibling = root.getprevious()
    while sibling is not None:  # <?xml-stylesheet href=…?> before the root
        if isinstance(sibling, etree._ProcessingInstruction):
            raise ImageRejected("unsafe SVG: processing instruction")
        sibling = sibling.getprevious()
    for el in root.iter():
        if isinstance(el, etree._ProcessingInstruction):
            raise ImageRejected("unsafe SVG: processing instruction")
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname.lower()
        if local in ("script", "foreignobject", "iframe", "embed", "object", "handler"):
            raise ImageRejected(f"unsafe SVG: <{local}>")
        for name, value in el.attrib.items():
            attr = etree.QName(name).localname.lower()
            if attr.startswith("on"):
                raise ImageRejected(f"unsafe SVG: event handler {attr}")
            if attr in ("href", "src") and _SVG_EXTERNAL.match(value):
                raise ImageRejected("unsafe SVG: external reference")
            if _CSS_EXTERNAL.search(value):
                raise ImageRejected("unsafe SVG: external reference in style")
            if re.match(r"^\s*(?:java|vb)script\s*:", re.sub(r"[\t\n\r]", "", value), re.I):
                raise ImageRejected("unsafe SVG: script URL")
        if local in ("set", "animate", "animatemotion", "animatetransform", "animatecolor"):
            target = (el.get("attributeName") or "").lower().split(":")[-1]
            if target in ("href", "src") or target.startswith("on"):
                raise ImageRejected(f"unsafe SVG: <{local}> of {target}")
        if local == "style" and re.search(r"url\s*\(|@import", el.text or "", re.I):
            raise ImageRejected("unsafe SVG: external reference in style")
    width = _svg_length(root.get("width")) or 800
    height = _svg_length(root.get("height")) or 600
    return Prepared(data, "image/svg+xml", width, height)


def _svg_length(value: str | None) -> int | None:
    m = re.match(r"^\s*([\d.]+)\s*(px)?\s*$", value or "")
    return int(float(m.group(1))) if m else None


def prepare(data: bytes, max_pixels: int) -> Prepared:
    """Verified, normalised image bytes for the asset store, or :class:`ImageRejected`."""
    if _is_svg(data):
        return check_svg(data)
    # WeasyPrint sets this to True when it is imported, which makes Pillow pad a truncated
    # image silently instead of failing; verification needs it off. Images that pass are
    # whole, so rendering them later is the same either way.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data))
            fmt = im.format
            if im.width * im.height > max_pixels:
                raise ImageRejected(
                    f"too large: {im.width}×{im.height} pixels (limit {max_pixels:,})")
            im.load()
            if getattr(im, "n_frames", 1) > 1:
                for frame in range(1, min(im.n_frames, 2000)):
                    im.seek(frame)
                    im.load()
                im.seek(0)
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected("too large: decompression bomb") from None
        except UnidentifiedImageError:
            raise ImageRejected("not an image") from None
        except DECODE_ERRORS as exc:
            raise ImageRejected(f"broken image: {exc}") from None
        try:
            orientation = im.getexif().get(0x0112, 1) if fmt == "JPEG" else 1
            if fmt in KEPT_FORMATS and im.mode != "CMYK" and orientation in (1, None):
                return Prepared(data, KEPT_FORMATS[fmt], im.width, im.height)
            return reencode(ImageOps.exif_transpose(im))
        except DECODE_ERRORS as exc:
            raise ImageRejected(f"broken image: {exc}") from None


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)


def reencode(im: Image.Image, quality: int = 92) -> Prepared:
    """JPEG (PNG with transparency), without metadata."""
    out = io.BytesIO()
    if _has_alpha(im):
        im = im.convert("RGBA")
        im.save(out, "PNG", optimize=True)
        media = "image/png"
    else:
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        im.save(out, "JPEG", quality=quality, optimize=True, progressive=False)
        media = "image/jpeg"
    return Prepared(out.getvalue(), media, im.width, im.height)


def fitted(width: int, height: int, within: tuple[int, int]) -> tuple[int, int]:
    """``width`` × ``height`` scaled down (never up) to fit ``within``, ratio kept."""
    scale = min(1.0, within[0] / max(1, width), within[1] / max(1, height))
    if scale >= 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


@dataclass(frozen=True)
class Screen:
    """How an e-reader's book holds a photo: scaled into ``box`` (width, height), transparent
    ones set on white (``flatten``), opaque many-coloured PNGs as JPEG (``photo_jpeg``), in
    shades of grey (``gray``), and a JPEG at ``quality`` (0: kept as it is when nothing else
    changes, else 88)."""

    box: tuple[int, int]
    flatten: bool = False
    photo_jpeg: bool = False
    gray: bool = False
    quality: int = 0

    @property
    def key(self) -> str:
        flags = "".join(c for c, on in (("f", self.flatten), ("j", self.photo_jpeg),
                                         ("g", self.gray)) if on)
        return f"{self.box[0]}x{self.box[1]}/{flags or '-'}/q{self.quality}"


def for_screen(data: bytes, media_type: str, screen: Screen) -> Prepared:
    """The image as ``screen`` holds it: the bytes as they are when nothing needs to change;
    an animation is never re-encoded (its frames would be lost)."""
    if media_type == "image/svg+xml":
        return check_svg(data)
    im = Image.open(io.BytesIO(data))
    if getattr(im, "n_frames", 1) > 1:
        return Prepared(data, media_type, im.width, im.height)
    changed = screen.quality > 0
    target = fitted(im.width, im.height, screen.box)
    if target != im.size:
        im.draft(im.mode, target)  # a JPEG decoded at the smallest scale still over the target
        im = im.resize(target, Image.Resampling.LANCZOS)
        changed = True
    alpha = _has_alpha(im)
    if alpha and screen.flatten:
        ground = Image.new("RGB", im.size, (255, 255, 255))
        rgba = im.convert("RGBA")
        ground.paste(rgba, mask=rgba.getchannel("A"))
        im, alpha, changed = ground, False, True
    if screen.gray and im.mode not in ("L", "LA", "1"):
        im, changed = im.convert("LA" if alpha else "L"), True
    keep_png = media_type in ("image/png", "image/gif") and (
        alpha or not screen.photo_jpeg or im.convert("RGB").getcolors(256) is not None)
    if media_type == "image/png" and not keep_png:
        changed = True
    if not changed:
        return Prepared(data, media_type, im.width, im.height)
    out = io.BytesIO()
    if keep_png:
        im.save(out, "PNG", optimize=True)
        return Prepared(out.getvalue(), "image/png", im.width, im.height)
    if im.mode not in ("RGB", "L"):
        im = im.convert("RGB")
    im.save(out, "JPEG", quality=screen.quality or 88, optimize=True, progressive=False)
    return Prepared(out.getvalue(), "image/jpeg", im.width, im.height)


def first_frame(data: bytes) -> Prepared:
    """An image's first frame, as a still PNG (or JPEG when opaque): what stands for an
    animation where only a still picture will do."""
    im = Image.open(io.BytesIO(data))
    im.seek(0)
    return reencode(im.convert("RGBA") if _has_alpha(im) else im.convert("RGB"))


def fit(data: bytes, media_type: str, max_edge: int) -> Prepared:
    """The image scaled down so that its longest edge is at most ``max_edge`` pixels."""
    if media_type == "image/svg+xml":
        return check_svg(data)
    im = Image.open(io.BytesIO(data))
    if max(im.size) <= max_edge or getattr(im, "n_frames", 1) > 1:
        return Prepared(data, media_type, im.width, im.height)
    im.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
    return reencode(im, quality=88)
