"""The pieces of the e-reader books: sizes, boxes, the kepub's spans, a photo's ladder of
encodings, a device's photos, and the budget's choice of steps."""

from __future__ import annotations

import io

import pytest
from helpers_corpus import photo_jpeg
from helpers_images import animated_gif, encode, png
from PIL import Image

from builder import kepub
from builder.devices import DEVICES, MB, parse_size
from builder.ereader import FLOOR_EDGE, QUALITIES, ladder
from builder.photos import Screen, first_frame, fitted, for_screen
from builder.settings import load_settings
from builder.text import language_tag


@pytest.mark.parametrize("value,expected", [
    ("45MB", 45 * MB), ("45 mb", 45 * MB), ("1.5GB", 1_500_000_000), ("2000000", 2_000_000),
    ("", 0), ("0", 0), ("none", 0)])
def test_sizes(value, expected):
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", ["lots", "-3MB", "1e9", "45 MiB", "500KB"])
def test_sizes_refused(value):
    with pytest.raises(ValueError):
        parse_size(value)


def test_the_settings_take_devices_budget_and_series():
    s = load_settings(None, {"epub.device": ["kobo", "kindle"], "epub.max_size": "30MB",
                             "book.series": "笔记", "book.series_index": 2.5})
    assert s.epub.device == ("kobo", "kindle") and s.epub.max_size == "30MB"
    assert s.book.series == "笔记" and s.book.series_index == 2.5
    assert load_settings().epub.device == ("generic",)
    with pytest.raises(Exception, match="unknown value 'nook'"):
        load_settings(None, {"epub.device": ["nook"]})
    with pytest.raises(Exception, match="not a size"):
        load_settings(None, {"epub.max_size": "big"})


def test_every_device_has_a_file_name_and_a_box():
    names = {d.file_name("b") for d in DEVICES.values()}
    assert len(names) == len(DEVICES) and "b.epub" in names and "b.kobo.kepub.epub" in names
    assert DEVICES["kindle"].max_size == 45 * MB
    for d in DEVICES.values():
        assert d.name == "generic" or (d.box[0] < d.box[1] and d.source)


def test_fitted_keeps_the_ratio_and_never_grows():
    assert fitted(1800, 1200, (1272, 1696)) == (1272, 848)
    assert fitted(1100, 1650, (1272, 1696)) == (1100, 1650)
    assert fitted(1300, 1950, (1272, 1696)) == (1131, 1696)
    assert fitted(800, 600, (1272, 1696)) == (800, 600)


@pytest.mark.parametrize("value,tag", [("zh", "zh"), ("zh_CN", "zh-CN"), ("EN-us", "en-us"),
                                       ("yue", "yue"), ("C", None), ("us", None), ("", None),
                                       ("zh-", None)])
def test_language_tags(value, tag):
    assert language_tag(value) == tag


# -- kepub ---------------------------------------------------------------------------------------

def test_sentences_end_at_western_and_cjk_marks_and_join_to_the_text():
    text = "第一句。第二句！“第三句？”尾巴 One. Two!  three"
    pieces = kepub.sentences(text)
    assert "".join(pieces) == text
    assert pieces == ["第一句。", "第二句！", "“第三句？”", "尾巴 One. ", "Two!  ", "three"]


def test_spans_are_numbered_by_paragraph_and_sentence():
    out = kepub.convert("<h1>标题</h1><p>一。二。<b>三。</b>四</p><ul><li>五</li></ul>")
    assert '<div id="book-columns"><div id="book-inner">' in out
    ids = [part.split('"')[0] for part in out.split('id="kobo.')[1:]]
    assert ids == ["1.1", "2.1", "2.2", "2.3", "2.4", "3.1"]


def test_what_is_not_prose_keeps_its_text_and_the_text_comes_back_whole():
    body = ('<p>a. b<!-- c -->tail. x</p><pre>keep. this.</pre>after. '
            '<figure><img src="a.jpg" alt=""/><figcaption>说明。</figcaption></figure>')
    out = kepub.convert(body)
    assert "<pre>keep. this.</pre>" in out
    assert '<img src="a.jpg" alt=""/>' in out  # not wrapped: the figure CSS counts its images
    assert kepub.plain(out) == body


def test_deep_nesting_keeps_its_text():
    body = "<div>" * 250 + "深处的一句。" + "</div>" * 250  # as deep as the parsers go
    out = kepub.convert(body)
    assert 'id="kobo.1.1">深处的一句。</span>' in out


# -- photos for a screen ---------------------------------------------------------------------------

def test_a_photo_is_scaled_into_the_screen_and_a_fitting_jpeg_kept_as_it_is():
    data = photo_jpeg(1800, 1200, seed=1)
    made = for_screen(data, "image/jpeg", Screen((1272, 1696)))
    assert (made.width, made.height) == (1272, 848) and made.media_type == "image/jpeg"
    small = photo_jpeg(600, 400, seed=2)
    assert for_screen(small, "image/jpeg", Screen((1272, 1696))).data == small
    lower = for_screen(small, "image/jpeg", Screen((1272, 1696), quality=60))
    assert len(lower.data) < len(small)


def test_transparency_is_set_on_white_and_photo_pngs_become_jpeg():
    im = Image.new("RGBA", (50, 40), (0, 0, 0, 0))
    im.putpixel((10, 10), (0, 0, 0, 255))
    made = for_screen(encode(im, "PNG"), "image/png", Screen((1000, 1000), flatten=True))
    out = Image.open(io.BytesIO(made.data))
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (255, 255, 255)
    assert out.getpixel((10, 10)) == (0, 0, 0)
    noisy = Image.open(io.BytesIO(photo_jpeg(300, 200, seed=4)))
    photo_png = encode(noisy, "PNG")
    assert for_screen(photo_png, "image/png",
                      Screen((1000, 1000), photo_jpeg=True)).media_type == "image/jpeg"
    flat = png(300, 200, color=(10, 200, 30))  # one colour: line art stays PNG
    assert for_screen(flat, "image/png",
                      Screen((1000, 1000), photo_jpeg=True)).media_type == "image/png"


def test_grayscale_and_animations():
    made = for_screen(photo_jpeg(300, 200, seed=5), "image/jpeg", Screen((1000, 1000), gray=True))
    assert Image.open(io.BytesIO(made.data)).mode == "L"
    gif = animated_gif(40, 30)
    assert for_screen(gif, "image/gif", Screen((10, 10))).data == gif  # frames would be lost
    still = first_frame(gif)
    assert Image.open(io.BytesIO(still.data)).format in ("JPEG", "PNG")


# -- the budget ---------------------------------------------------------------------------------

def test_a_ladder_lowers_quality_then_size_down_to_the_floor():
    steps = ladder(1272, 848)
    assert [q for _, q in steps[:len(QUALITIES)]] == list(QUALITIES)
    assert all(box == (1272, 848) for box, _ in steps[:len(QUALITIES)])
    boxes = [box for box, _ in steps[len(QUALITIES):]]
    assert boxes and max(boxes[-1]) == FLOOR_EDGE
    assert all(max(a) > max(b) for a, b in zip(boxes, boxes[1:], strict=False))
    assert [box for box, _ in ladder(900, 600)] == [(900, 600)] * len(QUALITIES)
