"""Images made on the spot with Pillow, for the image and fetch tests."""

from __future__ import annotations

import io

from PIL import Image


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **kw)
    return out.getvalue()


def jpeg(width: int = 40, height: int = 30, color=(200, 30, 30), **kw) -> bytes:
    return encode(Image.new("RGB", (width, height), color), "JPEG", **kw)


def png(width: int = 40, height: int = 30, mode: str = "RGB", color=None) -> bytes:
    return encode(Image.new(mode, (width, height), color if color is not None else 0), "PNG")


def cmyk_jpeg(width: int = 40, height: int = 30) -> bytes:
    return encode(Image.new("CMYK", (width, height), (0, 60, 100, 0)), "JPEG")


def rotated_jpeg(width: int = 40, height: int = 30, orientation: int = 6) -> bytes:
    """A JPEG stored ``width``×``height`` whose EXIF says to turn it when shown."""
    im = Image.new("RGB", (width, height), (10, 120, 200))
    exif = im.getexif()
    exif[0x0112] = orientation
    return encode(im, "JPEG", exif=exif.tobytes())


def webp(width: int = 40, height: int = 30, alpha: bool = False) -> bytes:
    if alpha:
        return encode(Image.new("RGBA", (width, height), (10, 20, 30, 100)), "WEBP")
    return encode(Image.new("RGB", (width, height), (10, 20, 30)), "WEBP")


def animated_gif(width: int = 20, height: int = 20, frames: int = 3) -> bytes:
    images = [Image.new("RGB", (width, height), (i * 80 % 256, 40, 200 - i * 50 % 200))
              for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def size_of(data: bytes) -> tuple[str, tuple[int, int]]:
    im = Image.open(io.BytesIO(data))
    return im.format, im.size


HTML = b"<!doctype html><html><head><title>404</title></head><body>Not found</body></html>"
SVG_OK = (b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">'
          b'<rect width="60" height="40" fill="red"/></svg>')


def png_declaring(width: int, height: int, mode: str = "1") -> bytes:
    """A small PNG whose header declares ``width``×``height`` pixels (a decompression bomb):
    one bit per pixel, every row zero, compressed to almost nothing."""
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))

    depth, color = {"1": (1, 0), "L": (8, 0)}[mode]
    row = b"\x00" * (1 + (width * depth + 7) // 8)
    z = zlib.compressobj(1)
    block, rows = row * 256, height
    parts = []
    while rows >= 256:
        parts.append(z.compress(block))
        rows -= 256
    idat = b"".join(parts) + z.compress(row * rows) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
