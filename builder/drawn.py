"""Images the build draws itself: the placeholder that stands in for a photo that could not
be had, and the typographic cover of a book without photos."""

from __future__ import annotations

import io
import re

from PIL import Image, ImageDraw, ImageFont

from .fonts import font_file
from .photos import Prepared


def placeholder(width: int | None, height: int | None, reason: str) -> Prepared:
    """A grey picture with a crossed frame, at the size the image was meant to have."""
    w = min(max(width or 1000, 200), 2000)
    h = min(max(height or round(w * 2 / 3), 150), 2000)
    im = Image.new("RGB", (w, h), (226, 226, 222))
    draw = ImageDraw.Draw(im)
    inset = max(8, min(w, h) // 20)
    box = (inset, inset, w - inset, h - inset)
    draw.rectangle(box, outline=(170, 170, 165), width=max(2, inset // 4))
    draw.line(box, fill=(190, 190, 185), width=max(1, inset // 6))
    draw.line((box[0], box[3], box[2], box[1]), fill=(190, 190, 185), width=max(1, inset // 6))
    out = io.BytesIO()
    im.save(out, "PNG", optimize=True)
    return Prepared(out.getvalue(), "image/png", w, h)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """``text`` broken into lines no wider than ``width``: CJK anywhere, others at spaces."""
    lines, line = [], ""
    for unit in re.findall(r"[A-Za-z0-9'’\-]+\s*|\s+|.", text):
        if line and draw.textlength(line + unit, font=font) > width:
            lines.append(line.rstrip())
            line = unit.lstrip()
        else:
            line += unit
    return lines + ([line.rstrip()] if line.strip() else [])


def typographic_cover(title: str, subtitle: str, family: str) -> Prepared:
    """A cover for a book without a photo: the title set large on a quiet ground."""
    w, h = 1200, 1600
    im = Image.new("RGB", (w, h), (244, 241, 234))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, w, 36), fill=(150, 40, 35))
    found = font_file(f"{family}:bold")
    def font(size):
        if found is None:
            return ImageFont.load_default(size)
        return ImageFont.truetype(found[0], size, index=found[1])
    big, small = font(96), font(44)
    y = 420
    for line in _wrap(draw, title, big, w - 240)[:6]:
        draw.text((120, y), line, font=big, fill=(30, 30, 30))
        y += 132
    draw.line((120, y + 40, 360, y + 40), fill=(150, 40, 35), width=6)
    if subtitle:
        draw.text((120, y + 90), subtitle, font=small, fill=(90, 90, 90))
    out = io.BytesIO()
    im.save(out, "PNG", optimize=True)
    return Prepared(out.getvalue(), "image/png", w, h)
