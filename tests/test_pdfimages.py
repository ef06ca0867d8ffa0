"""builder.pdfimages: where images are drawn, read back from real PDFs.

WeasyPrint renders the layout cases; pypdf re-imposes a WeasyPrint PDF through Form XObjects;
and a PDF written byte by byte covers what WeasyPrint never writes (rotation, flips, nested and
self-drawing forms, inline images, a form without resources).
"""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
)

from builder.pdfimages import MAX_FORM_DEPTH, Placement, placed_images

MM = 72 / 25.4  # points per millimetre
A5_W, A5_H = 148 * MM, 210 * MM


def jpeg_bytes(width: int, height: int, color=(200, 60, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=85)
    return out.getvalue()


def png_bytes(width: int, height: int, color=(20, 120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def render(tmp_path, body: str, name: str = "out.pdf") -> object:
    from weasyprint import HTML

    html = ("<!doctype html><html><head><style>@page { size: A5; margin: 15mm }"
            " img { display: block }</style></head><body>" + body + "</body></html>")
    target = tmp_path / name
    HTML(string=html, base_url=str(tmp_path)).write_pdf(target)
    return target


@pytest.fixture
def two_pages(tmp_path):
    """A5: a 1200×800 JPEG file at 100 mm on page 1, a 300×200 PNG data: URI at 50 mm on page 2."""
    photo = jpeg_bytes(1200, 800)
    (tmp_path / "photo.jpg").write_bytes(photo)
    png = "data:image/png;base64," + base64.b64encode(png_bytes(300, 200)).decode()
    pdf = render(tmp_path, '<p>Text before.</p><img src="photo.jpg" style="width: 100mm">'
                           f'<img src="{png}" style="width: 50mm; break-before: page">'
                           '<p>Text after.</p>')
    return pdf, photo


def test_pages_pixel_sizes_drawn_sizes_and_jpeg_digest(two_pages):
    pdf, photo = two_pages
    jpg, png = placed_images(pdf)
    assert (jpg.page, jpg.width_px, jpg.height_px) == (1, 1200, 800)
    assert jpg.width_pt == pytest.approx(100 * MM, abs=0.5)  # 283.46 pt
    assert jpg.height_pt == pytest.approx(100 * MM * 800 / 1200, abs=0.5)
    assert jpg.digest == hashlib.sha256(photo).hexdigest()  # embedded as it is
    assert jpg.dpi == pytest.approx(1200 / (100 / 25.4), rel=0.01)  # ≈ 305 dpi

    assert (png.page, png.width_px, png.height_px) == (2, 300, 200)
    assert png.width_pt == pytest.approx(50 * MM, abs=0.5)
    assert png.height_pt == pytest.approx(50 * MM * 200 / 300, abs=0.5)
    assert png.digest is None  # Flate, not DCT
    assert png.dpi == pytest.approx(300 / (50 / 25.4), rel=0.01)  # ≈ 152 dpi
    assert jpg.name.startswith("/") and jpg.name != png.name


def test_the_shared_resources_do_not_count_as_placements(two_pages):
    # WeasyPrint hands every page one /XObject dictionary holding every image of the document:
    # the page that lists an image is not the page that draws it.
    pdf, _ = two_pages
    reader = PdfReader(str(pdf))
    listed = [set(p["/Resources"]["/XObject"].keys()) for p in reader.pages]
    assert listed[0] == listed[1] and len(listed[0]) == 2
    assert [p.page for p in placed_images(pdf)] == [1, 2]


def test_placement_is_frozen(two_pages):
    placement = placed_images(two_pages[0])[0]
    assert isinstance(placement, Placement)
    with pytest.raises(AttributeError):
        placement.page = 3  # type: ignore[misc]


def test_object_fit_cover_draws_the_whole_scaled_image_clipped_to_the_box(tmp_path):
    # A 3:2 photo in a 40×40 mm box: WeasyPrint 70 draws the image at 60×40 mm, centred, and
    # clips it with the box's rectangle (a `re W n` before the `Do`), no Form XObject.
    (tmp_path / "wide.jpg").write_bytes(jpeg_bytes(1200, 800))
    pdf = render(tmp_path, '<img src="wide.jpg" style="width: 40mm; height: 40mm;'
                           ' object-fit: cover">')
    (p,) = placed_images(pdf)
    box = 40 * MM
    assert p.width_pt == pytest.approx(60 * MM, abs=0.5)
    assert p.height_pt == pytest.approx(box, abs=0.5)
    assert p.width_pt >= box - 0.01 and p.height_pt >= box - 0.01
    assert p.width_pt / p.height_pt == pytest.approx(1200 / 800, rel=0.001)
    # The dpi is that of the scaled image, not of the box (the cropped part is not printed).
    assert p.dpi == pytest.approx(800 / (40 / 25.4), rel=0.01)


def test_object_fit_contain_draws_inside_the_box(tmp_path):
    (tmp_path / "wide.jpg").write_bytes(jpeg_bytes(1200, 800))
    pdf = render(tmp_path, '<img src="wide.jpg" style="width: 40mm; height: 40mm;'
                           ' object-fit: contain">')
    (p,) = placed_images(pdf)
    assert p.width_pt == pytest.approx(40 * MM, abs=0.5)
    assert p.height_pt == pytest.approx(40 * MM * 800 / 1200, abs=0.5)


def test_weasyprint_opacity_and_a_background_photo_go_through_form_xobjects(tmp_path):
    # `opacity` makes WeasyPrint draw the image inside a transparency-group Form XObject, and a
    # no-repeat `background` is a Form XObject too: both are found, at their drawn size. A
    # `transform` is a `cm` in the page's content.
    (tmp_path / "wide.jpg").write_bytes(jpeg_bytes(1200, 800))
    pdf = render(tmp_path, '<img src="wide.jpg" style="width: 60mm; opacity: 0.5">'
                           '<div style="width: 30mm; height: 30mm;'
                           ' background: url(wide.jpg) center / cover no-repeat"></div>'
                           '<img src="wide.jpg" style="width: 30mm; transform: rotate(90deg)">')
    reader = PdfReader(str(pdf))
    xobjects = reader.pages[0]["/Resources"]["/XObject"]
    assert any(xobjects[k]["/Subtype"] == "/Form" for k in xobjects)
    # Drawing order is CSS painting order, not source order: block backgrounds first, then
    # the two stacking contexts (opacity, transform) in source order.
    background, faded, turned = placed_images(pdf)
    assert faded.width_pt == pytest.approx(60 * MM, abs=0.5)
    assert background.width_pt == pytest.approx(45 * MM, abs=0.5)  # cover: 45×30 mm
    assert background.height_pt == pytest.approx(30 * MM, abs=0.5)
    assert turned.width_pt == pytest.approx(30 * MM, abs=0.5)  # turned, not resized
    assert turned.height_pt == pytest.approx(20 * MM, abs=0.5)
    assert faded.digest == background.digest == turned.digest is not None


def impose_2up(src, target):
    """Both pages of ``src`` side by side at half size on one A5 sheet, each as a Form XObject
    wrapping the page's content (shared resources), the way an imposition places pages. The left
    one is placed with `cm` in the sheet's content, the right one with the form's /Matrix."""
    reader = PdfReader(str(src))
    writer = PdfWriter()
    sheet = writer.add_blank_page(width=A5_W, height=A5_H)
    forms = []
    for i, page in enumerate(reader.pages):
        form = page["/Contents"].clone(writer)  # an indirect stream in the writer
        box = page.mediabox
        form.update({
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(FloatObject(v) for v in
                                             (box.left, box.bottom, box.right, box.top)),
            NameObject("/Resources"): page["/Resources"].clone(writer),
        })
        if i == 1:
            form[NameObject("/Matrix")] = ArrayObject(
                FloatObject(v) for v in (0.5, 0, 0, 0.5, A5_W / 2, A5_H / 4))
        forms.append(form.indirect_reference)
    sheet[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject(
        {NameObject("/P1"): forms[0], NameObject("/P2"): forms[1]})})
    content = DecodedStreamObject()
    content.set_data(f"q 0.5 0 0 0.5 0 {A5_H / 4:.4f} cm /P1 Do Q\nq /P2 Do Q\n".encode())
    sheet.replace_contents(content)
    writer.write(str(target))
    return target


def test_an_imposed_sheet_composes_the_form_matrix_and_the_ctm(two_pages, tmp_path):
    pdf, photo = two_pages
    sheet = impose_2up(pdf, tmp_path / "sheet.pdf")
    assert len(PdfReader(str(sheet)).pages) == 1
    jpg, png = placed_images(sheet)
    assert (jpg.page, png.page) == (1, 1)
    assert jpg.width_pt == pytest.approx(50 * MM, abs=0.5)  # 100 mm at half size
    assert jpg.height_pt == pytest.approx(50 * MM * 800 / 1200, abs=0.5)
    assert png.width_pt == pytest.approx(25 * MM, abs=0.5)
    assert (jpg.width_px, png.width_px) == (1200, 300)
    assert jpg.digest == hashlib.sha256(photo).hexdigest()
    assert jpg.dpi == pytest.approx(2 * placed_images(pdf)[0].dpi, rel=0.001)


# A PDF written byte by byte: what WeasyPrint does not write.

def stream(entries: str, data: bytes) -> bytes:
    return (f"<< {entries} /Length {len(data)} >>\nstream\n".encode() + data
            + b"\nendstream")


def write_pdf(path, objects: list[bytes]) -> None:
    """Objects numbered from 1 in list order; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    path.write_bytes(bytes(out))


@pytest.fixture
def hand_made(tmp_path):
    photo = jpeg_bytes(64, 48)
    chain = 20  # forms G0 … G19, each drawing the image and the next form
    first_g = 14
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",                                            # 1
        b"<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R 6 0 R] /Count 4"
        b" /MediaBox [0 0 400 400] >>",                                                  # 2
        b"<< /Type /Page /Parent 2 0 R /Contents 7 0 R"
        b" /Resources << /XObject << /Im 10 0 R /F1 11 0 R >> >> >>",                    # 3
        b"<< /Type /Page /Parent 2 0 R /Contents 8 0 R"
        b" /Resources << /XObject << /J 13 0 R >> >> >>",                                # 4
        b"<< /Type /Page /Parent 2 0 R /Resources << >> >>",                             # 5: blank
        f"<< /Type /Page /Parent 2 0 R /Contents 9 0 R"
        f" /Resources << /XObject << /G {first_g} 0 R >> >> >>".encode(),                # 6
        stream("", b"q 2 0 0 3 10 10 cm /Im Do Q\n"              # 2 x 3
                   b"q 0 50 -40 0 100 100 cm /Im Do Q\n"         # turned a quarter: 50 x 40
                   b"q -20 0 0 -10 300 300 cm /Im Do Q\n"        # flipped both ways: 20 x 10
                   b"q 1 0 0 1 0 0 cm BI /W 2 /H 2 /CS /G /BPC 8 ID \x00\xff\xff\x00 EI Q\n"
                   b"/Nowhere Do\n"                               # not in the resources
                   b"Q Q\n"                                       # unbalanced: ignored
                   b"q 2 0 0 2 0 0 cm /F1 Do Q\n"
                   b"q 7 0 0 5 0 0 cm /Im Do Q\n"),             # after the forms: 7 x 5   7
        stream("", b"q 100 0 0 75 0 0 cm /J Do Q q 0 -30 -40 0 0 0 cm /J Do Q"),         # 8
        stream("", b"/G Do"),                                                            # 9
        stream("/Type /XObject /Subtype /Image /Width 4 /Height 2 /ColorSpace /DeviceGray"
               " /BitsPerComponent 8", bytes(8)),                                        # 10
        # F1: scale 0.5, draws Im at 10 x 10 (x 0.5 x 2), F2, and itself.
        stream("/Type /XObject /Subtype /Form /BBox [0 0 400 400] /Matrix [0.5 0 0 0.5 9 9]"
               " /Resources << /XObject << /Im 10 0 R /F2 12 0 R /F1 11 0 R >> >>",
               b"q 10 0 0 10 0 0 cm /Im Do Q /F2 Do /F1 Do"),                            # 11
        # F2: turned a quarter, no /Resources (uses F1's), draws Im at 4 x 8 and F1 again.
        stream("/Type /XObject /Subtype /Form /BBox [0 0 400 400] /Matrix [0 1 -1 0 0 0]",
               b"q 4 0 0 8 0 0 cm /Im Do Q /F1 Do"),                                     # 12
        stream("/Type /XObject /Subtype /Image /Width 64 /Height 48 /ColorSpace /DeviceRGB"
               " /BitsPerComponent 8 /Filter /DCTDecode", photo),                        # 13
    ]
    for i in range(chain):
        nxt = f" /Next {first_g + i + 1} 0 R" if i + 1 < chain else ""
        objects.append(stream(
            "/Type /XObject /Subtype /Form /BBox [0 0 400 400]"
            f" /Resources << /XObject << /Im 10 0 R{nxt} >> >>",
            b"2 0 0 2 0 0 cm /Im Do /Next Do"))  # each image twice the size of the last
    path = tmp_path / "hand.pdf"
    write_pdf(path, objects)
    return path, photo


def sizes(placements):
    return [(round(p.width_pt, 3), round(p.height_pt, 3)) for p in placements]


def test_rotation_flips_nested_forms_and_self_drawing_forms(hand_made):
    path, _ = hand_made
    page1 = [p for p in placed_images(path) if p.page == 1]
    assert sizes(page1) == [(2, 3), (50, 40), (20, 10),
                            (10, 10),  # in F1: 10 x 0.5 x 2
                            (4, 8),    # in F2 in F1: its own 4 x 8, F2's turn, F1's 0.5, x 2
                            (7, 5)]    # the CTM is back to the page's after the forms
    assert {(p.name, p.width_px, p.height_px, p.digest) for p in page1} == {("/Im", 4, 2, None)}


def test_a_jpeg_drawn_twice_is_listed_twice_with_its_digest(hand_made):
    path, photo = hand_made
    page2 = [p for p in placed_images(path) if p.page == 2]
    assert sizes(page2) == [(100, 75), (30, 40)]
    assert {p.digest for p in page2} == {hashlib.sha256(photo).hexdigest()}
    assert {(p.name, p.width_px, p.height_px) for p in page2} == {("/J", 64, 48)}


def test_pages_are_in_order_a_blank_page_has_none_and_depth_is_limited(hand_made):
    path, _ = hand_made
    found = placed_images(path)
    assert [p.page for p in found] == sorted(p.page for p in found)
    assert not [p for p in found if p.page == 3]
    chain = [p for p in found if p.page == 4]
    assert len(chain) == MAX_FORM_DEPTH  # forms inside forms are followed only so deep
    assert sizes(chain[:3]) == [(2, 2), (4, 4), (8, 8)]
