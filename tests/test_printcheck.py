"""builder.printcheck: each photo placed in a real PDF matched to its asset, with its
resolution; a JPEG's bytes are read only when its pixel size and length do not tell it."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace

import pytest
from PIL import Image, ImageDraw

from builder import pdfimages
from builder.model import Asset
from builder.printcheck import resolution


def jpeg(width: int, height: int, stripes: int) -> bytes:
    """A photo of ``stripes`` bands: as many stripes, as many lengths."""
    image = Image.new("RGB", (width, height), (200, 60, 30))
    draw = ImageDraw.Draw(image)
    for k in range(stripes):
        draw.rectangle((k * width // stripes, 0, k * width // stripes + 3, height), (30, 60, 200))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def asset(tmp_path, name: str, data: bytes, width: int, height: int) -> Asset:
    path = tmp_path / f"{name}.jpg"
    path.write_bytes(data)
    return Asset(f"http://photos.example/{name}.jpg", hashlib.sha256(data).hexdigest(), path,
                 "image/jpeg", width, height, "ok", None, len(data))


@pytest.fixture
def book(tmp_path):
    """Four 1200×800 JPEGs on an A5 page, each at its own width: ``wide`` and ``narrow`` of
    different lengths; ``twin_a`` and ``twin_b`` of the same length (the shorter padded after
    its end), told apart only by their bytes."""
    wide, narrow, twin_a, twin_b = (jpeg(1200, 800, n) for n in (3, 9, 27, 26))
    if len(twin_a) < len(twin_b):
        twin_a, twin_b = twin_b, twin_a
    twin_b += b"\0" * (len(twin_a) - len(twin_b))  # after the image's end: still the same JPEG
    assert len({len(wide), len(narrow), len(twin_a)}) == 3 and len(twin_a) == len(twin_b)
    assets = {name: asset(tmp_path, name, data, 1200, 800) for name, data in
              (("wide", wide), ("narrow", narrow), ("twin_a", twin_a), ("twin_b", twin_b))}
    from weasyprint import HTML

    widths = {"wide": 120, "narrow": 30, "twin_a": 60, "twin_b": 40}
    imgs = "".join(f'<img src="{n}.jpg" style="display: block; width: {w}mm">'
                   for n, w in widths.items())
    target = tmp_path / "book.pdf"
    HTML(string=f"<style>@page {{ size: A5; margin: 5mm }}</style>{imgs}",
         base_url=str(tmp_path)).write_pdf(target)
    return target, assets, widths


def test_each_photo_is_matched_to_its_asset_with_its_resolution(book):
    pdf, assets, widths = book
    found = {p.url.rsplit("/", 1)[1][:-4]: p for p in resolution(pdf, assets)}
    assert set(found) == set(widths)
    for name, mm in widths.items():
        assert found[name].dpi == pytest.approx(1200 / (mm / 25.4), rel=0.01)
        assert found[name].page == 1


def test_only_the_jpegs_that_share_a_size_and_a_length_are_read(book, monkeypatch):
    pdf, assets, _ = book
    read: list[int] = []
    digest = pdfimages._Walker.digest

    def counted(image):
        read.append(int(image.get("/Length")))
        return digest(image)

    monkeypatch.setattr(pdfimages._Walker, "digest", staticmethod(counted))
    resolution(pdf, assets)
    assert read == [assets["twin_a"].bytes] * 2  # the twins, each once


def test_a_jpeg_of_no_asset_is_matched_by_its_pixel_size(book):
    """A photo whose bytes are not the asset's (re-encoded on its way into the PDF) is still
    found by its pixel size: its resolution is all the check needs."""
    pdf, assets, _ = book
    only = {"wide": replace(assets["wide"], sha256="0" * 64, bytes=1)}
    found = resolution(pdf, only)
    assert len(found) == 4 and {p.url for p in found} == {only["wide"].url}
