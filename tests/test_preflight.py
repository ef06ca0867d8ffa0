"""The preflight and the PDF/X conversion, piece by piece, on small real PDFs."""

from __future__ import annotations

import base64
import io

import pikepdf
import pytest
from PIL import Image
from weasyprint import HTML

from builder import press
from builder.preflight import preflight


def pdf_of(path, body: str, page: str = "size: 100mm 100mm; margin: 20mm") -> None:
    HTML(string=f"<style>@page {{ {page} }}</style>{body}").write_pdf(path)


def lines(result) -> list[str]:
    return [f.line() for f in result.findings]


def png(width: int, height: int, alpha: bool = False) -> str:
    out = io.BytesIO()
    Image.new("RGBA" if alpha else "RGB", (width, height),
              (200, 30, 30, 120) if alpha else (200, 30, 30)).save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_text_inside_the_safe_margin_is_listed(tmp_path):
    near, far = tmp_path / "near.pdf", tmp_path / "far.pdf"
    pdf_of(near, "<body style=\"margin: 0\"><p style=\"margin: 0\">靠边的字</p>",
           "size: 100mm 100mm; margin: 1mm")
    pdf_of(far, "<p>居中的字</p>")
    found = lines(preflight(near, "home"))
    assert any("from the trim's left edge" in line and line.startswith("warning: page 1")
               for line in found), found
    assert any("top edge" in line for line in found)
    assert not any("trim" in line for line in lines(preflight(far, "home")))


def test_a_low_resolution_image_is_listed_with_its_size(tmp_path):
    path = tmp_path / "soft.pdf"
    pdf_of(path, f'<img src="{png(60, 60)}" style="width: 50mm">')
    home = lines(preflight(path, "home"))
    assert any("is 30 dpi where placed (50×50 mm; 150 dpi" in line for line in home), home
    sharp = tmp_path / "sharp.pdf"
    pdf_of(sharp, f'<img src="{png(400, 400)}" style="width: 25mm">')  # 406 dpi
    assert not any("dpi" in line for line in lines(preflight(sharp, "pdf/x-4")))


def test_transparency_fails_x1a_only(tmp_path):
    path = tmp_path / "see-through.pdf"
    pdf_of(path, '<p style="opacity: 0.5; color: device-cmyk(0 0 0 1)">半透明</p>')
    x1a = lines(preflight(path, "pdf/x-1a"))
    assert any("transparency: fill opacity 0.5" in line and line.startswith("problem: page 1")
               for line in x1a), x1a
    assert not any("transparency" in line for line in lines(preflight(path, "pdf/x-4")))
    assert preflight(path, "home").passed


def test_a_font_that_is_not_embedded_fails_a_shop_profile(tmp_path):
    path = tmp_path / "font.pdf"
    with pikepdf.new() as pdf:
        page = pdf.add_blank_page(page_size=(300, 300))
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pdf.make_indirect(
            pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                               BaseFont=pikepdf.Name.Helvetica))))
        page.Contents = pdf.make_stream(b"BT /F1 12 Tf 100 150 Td (Hello) Tj ET")
        pdf.save(path)
    x4 = preflight(path, "pdf/x-4")
    assert "problem: page 1: font Helvetica is not embedded" in lines(x4)
    assert "problem: page 1: no trim box" in lines(x4)
    assert not x4.passed
    home = preflight(path, "home")
    assert home.passed and "warning: page 1: font Helvetica is not embedded" in lines(home)


def test_a_booklet_page_count_not_a_multiple_of_four(tmp_path):
    path = tmp_path / "five.pdf"
    pdf_of(path, "".join(f'<p style="break-after: page">{n}</p>' for n in range(5)))
    assert "warning: 5 pages, not a multiple of 4: a saddle-stitched booklet gets 3 blank " \
           "page(s) at the end" in lines(preflight(path, "home", booklet=True))
    assert not any("multiple of 4" in line for line in lines(preflight(path, "home")))


def test_x1a_conversion_flattens_alpha_and_makes_every_colour_cmyk(tmp_path):
    path = tmp_path / "book.pdf"
    pdf_of(path, f'<p style="color: #333; background: rgb(10, 120, 200)">字</p>'
                 f'<img src="{png(300, 200, alpha=True)}" style="width: 20mm">')
    assert not preflight(path, "pdf/x-1a").passed
    made: list[str] = []

    def cache(key, make):
        made.append(key)
        return make()

    press.convert(path, "pdf/x-1a", cache)
    assert made and all(k.startswith("builder:press/cmyk/") for k in made)
    result = preflight(path, "pdf/x-1a")
    assert result.passed, lines(result)
    with pikepdf.open(path) as pdf:
        image = next(o for o in pdf.objects if isinstance(o, pikepdf.Stream)
                     and o.get("/Subtype") == "/Image")
        assert image.ColorSpace == "/DeviceCMYK" and "/SMask" not in image
        ops = [(list(map(float, o)), str(op)) for o, op in pikepdf.parse_content_stream(
            pdf.pages[0]) if str(op) in ("k", "rg")]
    assert ([0, 0, 0, pytest.approx(0.8, abs=0.001)], "k") in ops  # #333: K alone
    assert all(op == "k" for _, op in ops)
    # The flattened photo is the colour it was over white paper, in CMYK: red-ish.
    with pikepdf.open(path) as pdf:
        picture = pikepdf.PdfImage(image_of(pdf)).as_pil_image()
    c, m, y, k = picture.getpixel((10, 10))
    assert m > 60 and c < m


def image_of(pdf):
    return next(o for o in pdf.objects if isinstance(o, pikepdf.Stream)
                and o.get("/Subtype") == "/Image")


def test_colours():
    colours = press._Colours(press.profile_bytes())
    assert colours.colour(0, 0, 0) == [0, 0, 0, 1]
    assert colours.colour(1, 1, 1) == [0, 0, 0, 0]
    assert colours.colour(0.4, 0.4, 0.4) == [0, 0, 0, 0.6]
    c, m, y, k = colours.colour(1, 0, 0)
    assert m > 0.8 and y > 0.8 and c < 0.1


@pytest.mark.parametrize(("pdf_date", "xmp"), [
    ("D:20220831053439Z", "2022-08-31T05:34:39Z"),
    ("D:20220831053439+08'00'", "2022-08-31T05:34:39+08:00"),
    ("D:20220831053439", "2022-08-31T05:34:39Z"), ("", ""), ("D:2022", ""),
])
def test_xmp_dates(pdf_date, xmp):
    assert press._xmp_date(pdf_date) == xmp


def test_links_are_annotations_a_shop_refuses_and_the_conversion_drops(tmp_path):
    path = tmp_path / "links.pdf"
    pdf_of(path, '<p><a href="https://example.org/">一个链接</a></p>')
    x4 = lines(preflight(path, "pdf/x-4"))
    assert "problem: page 1: annotations (Link): a PDF/X page has none but printer's marks" \
        in x4
    assert not any("annotations" in line for line in lines(preflight(path, "home")))
    press.convert(path, "pdf/x-4")
    assert not any("annotations" in line for line in lines(preflight(path, "pdf/x-4")))


def test_x4_tags_gradients_and_group_blending_spaces(tmp_path):
    path = tmp_path / "gradient.pdf"
    pdf_of(path, '<div style="height: 20mm; background: linear-gradient(red, blue)"></div>'
                 '<p style="opacity: 0.5">半透明</p>')
    before = lines(preflight(path, "pdf/x-4"))
    assert any("gradient in DeviceRGB" in line for line in before), before
    press.convert(path, "pdf/x-4")
    result = preflight(path, "pdf/x-4")
    assert result.passed, lines(result)
    with pikepdf.open(path) as pdf:
        for o in pdf.objects:
            if isinstance(o, pikepdf.Dictionary) and "/Group" in o:
                assert o.Group.get("/CS") != "/DeviceRGB"


def test_a_book_is_preflighted_from_its_parts_in_a_process_of_its_own(tmp_path):
    """What the build does while the join goes on: the book's pages, copied from its parts as
    the join copies them, are preflighted in another process; what each part's pages were
    found to have is kept, and a part preflighted before is not read again."""
    import os

    from builder.join import Pages, Piece
    from builder.memo import Memo
    from builder.printing import _Preflight

    part = tmp_path / "part.pdf"
    pdf_of(part, f'<img src="{png(60, 40)}" style="width:50mm">'
                 '<p style="break-before: page">第二页</p>')
    spans = [("part-a", 0, 1), ("part-b", 1, 1)]  # each part's key, first page and pages
    kept, counts = Memo(tmp_path / "kept"), []
    early = _Preflight(True, kept, lambda kind, was_kept: counts.append(was_kept))
    early.start(Pages((Piece(part, 0, 2),), {}, "00", 2), spans)
    whole = preflight(part, "home", booklet=True).to_json()
    found, took = early.result()
    assert early.process.pid != os.getpid() and took >= 0
    assert found["pdf"].to_json() == whole
    assert any("dpi where placed" in f.message and f.page == 1 for f in found["pdf"].findings)
    early.close()
    assert counts == [False, False]
    # The same parts again, in a book whose first page is another: its findings are the
    # ones kept (the page is not read), the new part's are read.
    other = tmp_path / "other.pdf"
    pdf_of(other, "<p>第一页</p><p style=\"break-before: page\">第二页</p>")
    again = _Preflight(True, kept, lambda kind, was_kept: counts.append(was_kept))
    again.start(Pages((Piece(other, 0, 1), Piece(part, 1, 2)), {}, "00", 2),
                [("part-a", 0, 1), ("part-c", 1, 1)])
    found_again, _ = again.result()
    again.close()
    assert counts[2:] == [True, False]
    assert found_again["pdf"].to_json() == whole


def test_only_the_pages_asked_for_are_read(tmp_path):
    path = tmp_path / "two.pdf"
    pdf_of(path, f'<img src="{png(60, 40)}" style="width:50mm">'
                 '<p style="break-before: page">第二页</p>')
    assert any(f.page == 1 for f in preflight(path, "home").findings)
    second = preflight(path, "home", booklet=True, only={1})
    assert second.pages == 2 and not any(f.page == 1 for f in second.findings)
    assert any(f.page == 0 for f in second.findings)  # the book's own: 2 pages, not 4


def test_a_books_pages_are_preflighted_a_part_at_a_time_and_named_by_their_page_in_it(tmp_path):
    """Each part's pages are copied and read apart from the others' (the process holds one
    part's, not the book's): what is found is told by its page in the book."""
    from builder.join import Pages, Piece
    from builder.printing import preflighted_pages

    photo = tmp_path / "photo.pdf"
    pdf_of(photo, f'<img src="{png(60, 40)}" style="width:50mm">'
                  '<p style="break-before: page">第二页</p>')
    text = tmp_path / "text.pdf"
    pdf_of(text, "<p>第一页</p>")
    pages = Pages((Piece(text, 0, 1), Piece(photo, 0, 2), Piece(photo, 0, 2)), {}, "00", 5)
    found, _ = preflighted_pages(pages, False, list(range(5)))
    low = [f.page for f in found["pdf"].findings if "dpi where placed" in f.message]
    assert low == [2, 4]
    found, _ = preflighted_pages(pages, False, [3, 4])  # the last part's pages only
    assert [f.page for f in found["pdf"].findings if "dpi where placed" in f.message] == [4]
