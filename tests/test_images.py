"""Image verification and preparation, on images made in the test with Pillow."""

from __future__ import annotations

import io

import helpers_images as H
import pytest
from PIL import Image

from builder.drawn import placeholder
from builder.photos import ImageRejected, Prepared, fit, prepare

MAX = 80_000_000


def test_jpeg_kept_byte_for_byte():
    data = H.jpeg(40, 30)
    p = prepare(data, MAX)
    assert p == Prepared(data, "image/jpeg", 40, 30)


def test_png_kept_byte_for_byte():
    data = H.png(40, 30)
    p = prepare(data, MAX)
    assert p == Prepared(data, "image/png", 40, 30)


def test_png_with_alpha_kept():
    data = H.png(8, 6, mode="RGBA", color=(1, 2, 3, 4))
    assert prepare(data, MAX) == Prepared(data, "image/png", 8, 6)


def test_format_sniffed_from_bytes_not_name_or_label():
    # prepare() sees only bytes: a PNG is a PNG whatever it was called or served as.
    data = H.png(12, 7)
    p = prepare(data, MAX)
    assert p.media_type == "image/png" and p.data == data and (p.width, p.height) == (12, 7)


def test_cmyk_jpeg_becomes_rgb_jpeg():
    p = prepare(H.cmyk_jpeg(40, 30), MAX)
    assert p.media_type == "image/jpeg"
    im = Image.open(io.BytesIO(p.data))
    assert im.format == "JPEG" and im.mode == "RGB" and im.size == (40, 30)
    assert (p.width, p.height) == (40, 30)


def test_exif_rotated_jpeg_turned_upright():
    data = H.rotated_jpeg(40, 30, orientation=6)
    p = prepare(data, MAX)
    assert p.data != data
    assert (p.width, p.height) == (30, 40)
    im = Image.open(io.BytesIO(p.data))
    assert im.format == "JPEG" and im.size == (30, 40)
    assert im.getexif().get(0x0112, 1) == 1  # no orientation left to apply twice


def test_exif_orientation_1_kept():
    data = H.rotated_jpeg(40, 30, orientation=1)
    assert prepare(data, MAX).data == data


def test_webp_becomes_jpeg():
    p = prepare(H.webp(40, 30), MAX)
    assert p.media_type == "image/jpeg"
    assert H.size_of(p.data) == ("JPEG", (40, 30))


def test_webp_with_alpha_becomes_png():
    p = prepare(H.webp(40, 30, alpha=True), MAX)
    assert p.media_type == "image/png"
    im = Image.open(io.BytesIO(p.data))
    assert im.format == "PNG" and im.mode == "RGBA" and im.size == (40, 30)


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_other_formats_become_jpeg(fmt):
    p = prepare(H.encode(Image.new("RGB", (9, 5)), fmt), MAX)
    assert p.media_type == "image/jpeg" and H.size_of(p.data) == ("JPEG", (9, 5))


def test_animated_gif_kept():
    data = H.animated_gif(20, 20, frames=3)
    p = prepare(data, MAX)
    assert p == Prepared(data, "image/gif", 20, 20)
    assert Image.open(io.BytesIO(p.data)).n_frames == 3


def test_truncated_jpeg_rejected():
    data = H.jpeg(200, 150)
    with pytest.raises(ImageRejected, match="broken image"):
        prepare(data[: len(data) // 2], MAX)


def test_truncated_png_rejected():
    data = H.encode(Image.effect_noise((64, 64), 50), "PNG")
    with pytest.raises(ImageRejected):
        prepare(data[: len(data) - 40], MAX)


@pytest.mark.parametrize("data", [H.HTML, b"", b"\x00" * 64, b"GIF89a", b'{"error": "nope"}'])
def test_not_an_image(data):
    with pytest.raises(ImageRejected, match="not an image|broken image"):
        prepare(data, MAX)


def test_html_is_not_an_image():
    with pytest.raises(ImageRejected, match="^not an image$"):
        prepare(H.HTML, MAX)


def test_decompression_bomb_rejected():
    bomb = H.png_declaring(30000, 30000)  # 900 million pixels in under a megabyte
    assert len(bomb) < 1_000_000
    with pytest.raises(ImageRejected, match="too large"):
        prepare(bomb, 80_000_000)


def test_over_max_pixels_rejected_before_decoding():
    with pytest.raises(ImageRejected, match=r"too large: 9000×9000 pixels"):
        prepare(H.png_declaring(9000, 9000), 80_000_000)


def test_max_pixels_is_honoured():
    data = H.png(300, 200)
    with pytest.raises(ImageRejected, match="too large"):
        prepare(data, 50_000)
    assert prepare(data, 60_000).width == 300


# --- SVG ---------------------------------------------------------------------------------

def test_plain_svg_accepted():
    p = prepare(H.SVG_OK, MAX)
    assert p == Prepared(H.SVG_OK, "image/svg+xml", 120, 80)


def test_svg_with_xml_declaration_and_internal_reference_accepted():
    data = (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
            b'xmlns:xlink="http://www.w3.org/1999/xlink" width="10px" height="10">'
            b'<defs><linearGradient id="g"/></defs><rect id="r" fill="url(#g)" width="5" '
            b'height="5"/><use xlink:href="#r"/></svg>')
    assert prepare(data, MAX).media_type == "image/svg+xml"


@pytest.mark.parametrize("svg, reason", [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "<script>"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "onload"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><rect onclick="x()"/></svg>', "onclick"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>',
     "foreignobject"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
     b'<image xlink:href="http://evil.example/x.png"/></svg>', "external"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><text>x</text>'
     b'</a></svg>', "external"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(http://evil/x.css);</style>'
     b'</svg>', "external"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(http://evil/p)"/></svg>',
     "external"),
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>', "entit"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><rect', "broken"),
    (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><svg/></body></html>',
     "not an image"),
])
def test_unsafe_svg_rejected(svg, reason):
    with pytest.raises(ImageRejected, match=reason):
        prepare(svg, MAX)


# --- fit and placeholder ---------------------------------------------------------------------

def test_fit_downsizes_to_longest_edge():
    data = H.jpeg(3000, 2000)
    p = fit(data, "image/jpeg", 1600)
    assert (p.width, p.height) == (1600, 1067)
    assert H.size_of(p.data) == ("JPEG", (1600, 1067))
    assert p.media_type == "image/jpeg"


def test_fit_portrait_png_with_alpha_stays_png():
    data = H.png(1000, 3000, mode="RGBA", color=(0, 0, 0, 0))
    p = fit(data, "image/png", 1600)
    assert p.media_type == "image/png"
    assert H.size_of(p.data) == ("PNG", (533, 1600))


def test_fit_leaves_small_images_alone():
    data = H.jpeg(800, 600)
    assert fit(data, "image/jpeg", 1600) == Prepared(data, "image/jpeg", 800, 600)


def test_fit_leaves_animations_alone():
    data = H.animated_gif(2000, 100)
    assert fit(data, "image/gif", 1600).data == data


def test_fit_svg_unchanged():
    assert fit(H.SVG_OK, "image/svg+xml", 10).data == H.SVG_OK


def test_placeholder_deterministic():
    a = placeholder(None, None, "http 404")
    b = placeholder(None, None, "http 404")
    assert a == b
    assert a.media_type == "image/png" and (a.width, a.height) == (1000, 667)
    assert H.size_of(a.data) == ("PNG", (1000, 667))
    assert prepare(a.data, MAX) == a  # a placeholder is itself a valid image


def test_placeholder_takes_size_hints_within_bounds():
    assert (placeholder(640, 480, "x").width, placeholder(640, 480, "x").height) == (640, 480)
    tiny = placeholder(1, 1, "x")
    assert (tiny.width, tiny.height) == (200, 150)
    huge = placeholder(100_000, 100_000, "x")
    assert (huge.width, huge.height) == (2000, 2000)


# --- damaged bytes ---------------------------------------------------------------------------

def _mutants(seed: int, count: int):
    """Deterministic damage to valid images of every kept and converted format: bytes
    changed, cut out and put in."""
    import random

    originals = [H.jpeg(64, 48), H.png(30, 20), H.png(8, 8, mode="RGBA", color=(1, 2, 3, 4)),
                 H.animated_gif(16, 16), H.webp(20, 20), H.webp(20, 20, alpha=True),
                 H.rotated_jpeg(), H.cmyk_jpeg(), H.encode(Image.new("RGB", (10, 10)), "BMP"),
                 H.encode(Image.new("RGB", (10, 10)), "TIFF")]
    rng = random.Random(seed)
    for _ in range(count):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 8)):
            pos, op = rng.randrange(len(data)), rng.random()
            if op < 0.6:
                data[pos] = rng.randrange(256)
            elif op < 0.8:
                del data[pos:pos + rng.randint(1, 16)]
            else:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        yield bytes(data)


def test_damaged_images_are_rejected_never_raise_anything_else():
    import warnings

    outcomes = {"ok": 0, "rejected": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about every corrupt TIFF tag
        for data in _mutants(seed=1, count=4000):
            try:
                p = prepare(data, MAX)
            except ImageRejected:
                outcomes["rejected"] += 1
            else:
                outcomes["ok"] += 1
                assert p.width > 0 and p.height > 0
    assert outcomes["ok"] and outcomes["rejected"]


def test_truncated_image_rejected_after_weasyprint_is_imported():
    """WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES when imported; a build imports it
    before images are verified, so verification must not depend on that flag."""
    import weasyprint  # noqa: F401 - the import is the point
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True
    data = H.jpeg(400, 300)
    with pytest.raises(ImageRejected):
        prepare(data[:-300], MAX)


@pytest.mark.parametrize("fmt", ["AVIF", "HEIF"])
def test_phone_formats_become_jpeg(fmt):
    data = H.encode(Image.new("RGB", (40, 30), (200, 30, 30)), fmt)
    prepared = prepare(data, MAX)
    assert prepared.media_type == "image/jpeg"
    assert (prepared.width, prepared.height) == (40, 30)
    assert Image.open(io.BytesIO(prepared.data)).format == "JPEG"
