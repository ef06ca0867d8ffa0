"""Photo-like JPEGs and the seed's image list: what the tests and the benchmark both make
their inputs from (the benchmark imports them from here)."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

from PIL import Image


def _layer(rng: random.Random, w: int, h: int, gw: int, gh: int) -> Image.Image:
    small = Image.frombytes("RGB", (gw, gh), rng.randbytes(gw * gh * 3))
    return small.resize((w, h), Image.Resampling.BICUBIC)


def photo_jpeg(width: int, height: int, seed: int = 0) -> bytes:
    """A photo-like JPEG, deterministic for ``seed``: smooth colour fields at three scales
    plus per-pixel colour noise, at quality 82. A 1000×700 one is about 180–260 KB, as a
    photo of that size from a news site is."""
    rng = random.Random(seed)
    im = _layer(rng, width, height, 6, 4)
    im = Image.blend(im, _layer(rng, width, height, max(2, width // 40), max(2, height // 40)),
                     0.35)
    im = Image.blend(im, _layer(rng, width, height, max(2, width // 6), max(2, height // 6)),
                     0.17)
    noise = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    im = Image.blend(im, noise, rng.uniform(0.16, 0.24))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=82)
    return out.getvalue()



def seed_images(article: Path) -> list[dict]:
    """The image URLs of a scraped article (``data-original``) and their declared sizes."""
    text = article.read_text(encoding="utf-8")
    found = {}
    for tag in re.findall(r"<img[^>]+>", text):
        url = re.search(r'data-original="([^"]+)"', tag).group(1)
        w = int(re.search(r'data-width="(\d+)"', tag).group(1))
        h = int(re.search(r'data-height="(\d+)"', tag).group(1))
        found[url] = (w, h)
    return [{"url": u, "width": w, "height": h} for u, (w, h) in found.items()]
