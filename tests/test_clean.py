"""Cleaning: a golden test on the seed article, then one test per pass or helper."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from builder.clean import clean_article
from builder.clean.urls import is_placeholder_src, largest_candidate, unwrap_proxy
from builder.load import load_article
from builder.model import REFUSED, Article, CleanAudit, ImageRef, refused_url
from builder.settings import CleanSettings

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_dc99e8bd12c8b5f6.txt"
GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


def article(body: str, title: str = "T", cover: ImageRef | None = None, **kw) -> Article:
    kw.setdefault("author", None)
    return Article(source=Path("x.html"), slug="x", title=title, date=None, categories=(),
                   lang="zh", cover=cover, body=body, **kw)


def clean(body: str, id_prefix: str | None = None, **kw) -> str:
    """The cleaned body; ``kw`` are :class:`CleanSettings` fields."""
    return clean_article(article(body), CleanSettings(**kw), id_prefix=id_prefix).body


def xml(body: str) -> etree._Element:
    """The body parsed by a strict XML parser with the default (256-level) depth limit."""
    return etree.fromstring(f"<div>{body}</div>")


# --- the seed ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed():
    raw, _ = load_article(SEED)
    return clean_article(raw)


def test_seed_cover_is_unproxied(seed):
    assert seed.cover.url == "http://zkres1.myzaker.com/202208/630f4fce8e9f09475345ec48_1024.jpg"
    # The body opens with the head image: that figure is the chapter's lead, shown once (the
    # source gives it no caption), and the head image takes its size hints.
    assert seed.cover_in_body and seed.cover_caption is None
    assert seed.figures[0].images[0].url == seed.cover.url
    assert seed.body.count("630f4fce8e9f09475345ec48_") == 1
    assert (seed.cover.width_hint, seed.cover.height_hint) == (1000, 744)


def test_seed_figures(seed):
    root = xml(seed.body)
    figures = root.findall("figure")
    assert len(figures) == 15
    got = [(len(f.findall("img")), (f.findtext("figcaption") or "")[:12]) for f in figures]
    assert got == [
        (1, ""),  # the head image, which opens the body
        (2, "2022年8月17日，习"),
        (1, "2022年6月28日，习"),
        (2, "2022年7月13日，习"),
        (1, "2019年7月15日，习"),
        (2, "2022年8月17日，习"),
        (1, "2021年6月7日，习近"),
        (2, "2021年2月4日，习近"),
        (1, "2019年2月1日，习近"),
        (1, "福建省福州市晋安区王庄街"),
        (1, "江苏省张家港市永联村永全"),
        (1, "浙江省长兴县吕山乡金村村"),
        (1, "村民在古浪县黄花滩生态移"),
        (1, "在河南省邓州市花洲街道办"),
        (1, ""),
    ]
    # The figures the article reports are the ones in the body, in order.
    assert [len(f.images) for f in seed.figures] == [n for n, _ in got]
    assert [img.get("src") for img in root.iter("img")] == \
        [ref.url for f in seed.figures for ref in f.images]
    # The seed's images have no alt of their own: alt is empty, never the caption repeated
    # nor the article's title.
    assert {img.get("alt") for img in root.iter("img")} == {""}
    assert all(ref.alt == "" for f in seed.figures for ref in f.images)
    assert "小院议事厅" in seed.body and "“小院议事厅”" in seed.body


def test_seed_body_is_clean(seed):
    body = seed.body
    assert "↑" not in body
    root = xml(body)
    for p in root.iter("p"):
        assert "".join(p.itertext()).strip() or len(p), etree.tostring(p, encoding="unicode")
    assert not re.search(r"<p>\s*</p>|<p/>", body)
    for junk in ("onclick", 'class="img_box"', "data-original", "cors.zfour"):
        assert junk not in body
    assert all(img.get("src", "").startswith("http://zkres") for img in root.iter("img"))
    # Every photo of the source is in the body, the head image included; the seed shows none
    # twice.
    srcs = [img.get("src") for img in root.iter("img")]
    assert len(srcs) == len(set(srcs)) == 19


def test_seed_credits(seed):
    root = xml(seed.body)
    sections = root.findall("section")
    assert len(sections) == 1 and sections[0].get("class") == "credits"
    credits = sections[0]
    assert credits is root[-1]
    pairs = list(zip([dt.text for dt in credits.iter("dt")],
                     [dd.text for dd in credits.iter("dd")], strict=True))
    assert [role for role, _ in pairs] == ["总监制", "监制", "策划", "统筹", "编辑", "摄影"]
    assert pairs[0] == ("总监制", "袁炳忠")
    assert pairs[1] == ("监制", "孙承斌 邹声文")
    assert pairs[-1][1].startswith("鞠鹏 李学仁")
    assert [p.text for p in credits.findall("p")] == ["新华社第一工作室出品", "新华社摄影部制作"]
    # The credits are not also in the running text.
    assert "总监制：" not in seed.body


def test_seed_stats_and_no_warnings(seed):
    stats = dict(seed.stats)
    assert stats["figures made"] == 15
    assert stats["images found"] == 19
    assert stats["captions attached"] == 13
    assert "cover not repeated" not in stats and "repeated images" not in stats
    assert stats["credit lines"] == 8
    assert stats["site rule zaker"] == 1
    assert not seed.warnings


def test_seed_audit(seed):
    audit = seed.audit
    assert (audit.images_in_source, audit.images_kept, audit.dropped, audit.repeated) == \
        (19, 19, (), 0)
    assert audit.unexplained == 0
    assert (audit.captions_in_source, audit.captions_attached, audit.captions_stranded) == \
        (13, 13, 0)
    assert 0.9 * audit.text_before < audit.text_after <= audit.text_before


# --- URLs ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("https://cors.zfour.workers.dev/?http://a.com/x.jpg", "http://a.com/x.jpg"),
    ("https://p.example/?url=https%3A%2F%2Fa.com%2Fx.jpg", "https://a.com/x.jpg"),
    ("https://p.example/fetch/https://a.com/x.jpg", "https://a.com/x.jpg"),
    ("https://a.com/x.jpg", "https://a.com/x.jpg"),
    ("https://a.com/img/x.jpg?w=640&h=480", "https://a.com/img/x.jpg?w=640&h=480"),
    ("img/x.jpg", "img/x.jpg"),
])
def test_unwrap_proxy(url, expected):
    assert unwrap_proxy(url) == expected


@pytest.mark.parametrize("srcset, expected", [
    ("a.jpg 100w, b.jpg 800w, c.jpg 400w", "b.jpg"),
    ("http://a.com/1.jpg 1x, http://a.com/3.jpg 3x, http://a.com/2.jpg 2x", "http://a.com/3.jpg"),
    ("http://a.com/x.jpg?a=1,2 100w, http://a.com/y.jpg 200w", "http://a.com/y.jpg"),
    ("only.jpg", "only.jpg"),
    ("", None),
])
def test_largest_candidate(srcset, expected):
    assert largest_candidate(srcset) == expected


def test_is_placeholder_src():
    assert is_placeholder_src(GIF)
    assert is_placeholder_src("http://a.com/images/loading.gif")
    assert is_placeholder_src("")
    assert not is_placeholder_src("http://a.com/photo.jpg")


def test_proxied_img_src_is_unwrapped():
    a = clean_article(article('<img src="https://cors.zfour.workers.dev/?http://a.com/x.jpg">'))
    assert a.body == '<figure><img src="http://a.com/x.jpg" alt=""/></figure>'
    assert dict(a.stats)["proxy URLs unwrapped"] == 1


def test_relative_src_made_absolute_against_base_url():
    a = clean_article(article('<img src="/i/x.jpg">', base_url="https://site.example/a/b.html"))
    assert a.body == '<figure><img src="https://site.example/i/x.jpg" alt=""/></figure>'


# --- images ------------------------------------------------------------------------------

def test_srcset_w_descriptors():
    body = clean('<p>hi <img srcset="a.jpg 100w, b.jpg 800w, c.jpg 400w" src="s.jpg"></p>')
    assert body == '<p>hi</p><figure><img src="b.jpg" alt=""/></figure>'


def test_srcset_x_descriptors():
    body = clean('<img srcset="http://a.com/a.jpg 1x, http://a.com/b.jpg 2x">')
    assert body == '<figure><img src="http://a.com/b.jpg" alt=""/></figure>'


@pytest.mark.parametrize("attr", ["data-src", "data-lazy-src", "data-actualsrc", "data-original"])
def test_lazy_attributes(attr):
    a = clean_article(article(f'<img {attr}="http://a.com/real.jpg" src="{GIF}">'))
    assert a.body == '<figure><img src="http://a.com/real.jpg" alt=""/></figure>'
    assert dict(a.stats)["lazy images resolved"] == 1


def test_lazy_src_beats_spinner_src():
    body = clean('<img data-lazy-src="http://a.com/y.jpg" src="http://a.com/loading.gif">')
    assert body == '<figure><img src="http://a.com/y.jpg" alt=""/></figure>'


def test_lazy_srcset():
    body = clean(f'<img src="{GIF}" '
                 'data-srcset="http://a.com/s1.jpg 320w, http://a.com/s2.jpg 640w">')
    assert body == '<figure><img src="http://a.com/s2.jpg" alt=""/></figure>'


def test_picture_source_used_when_img_has_no_real_src():
    a = clean_article(article(
        '<picture><source srcset="http://a.com/p1.webp 1x, http://a.com/p2.webp 2x">'
        f'<img src="{GIF}"></picture>'))
    assert a.body == '<figure><img src="http://a.com/p2.webp" alt=""/></figure>'
    assert dict(a.stats)["pictures resolved"] == 1


def test_picture_without_img():
    body = clean('<picture><source srcset="http://a.com/p.jpg 800w"></picture>')
    assert body == '<figure><img src="http://a.com/p.jpg" alt=""/></figure>'


def test_picture_img_with_real_src_is_kept():
    body = clean('<picture><source srcset="http://a.com/p2.webp 2x"><img src="http://a.com/p0.jpg">'
                 '</picture>')
    assert body == '<figure><img src="http://a.com/p0.jpg" alt=""/></figure>'


def test_nested_pictures():
    body = clean('<picture><picture><source srcset="http://a.com/in.jpg"></picture>'
                 '<source srcset="http://a.com/out.jpg 2x"></picture>')
    assert body == '<figure><img src="http://a.com/out.jpg" alt=""/></figure>'


@pytest.mark.parametrize("url", ["http://[::1", "http://a.com:99999/x.jpg", "http://[x]/y.jpg"])
def test_unparseable_image_url_kept_for_the_image_stage(url):
    # A URL that cannot be parsed is not silently lost: it stays, and the image stage refuses
    # it with a reason (a placeholder shows where the photo was). Both occurrences stay.
    a = clean_article(article(f'<img src="{url}"><picture><source srcset="{url}"></picture>'
                              f'<p>x</p>', base_url="http://[bad"))
    assert a.body == f'<figure><img src="{url}" alt=""/><img src="{url}" alt=""/></figure><p>x</p>'
    assert [r.url for f in a.figures for r in f.images] == [url, url]
    stats = dict(a.stats)
    assert stats["images with an unusable URL"] == 2 and stats["repeated images"] == 1
    assert a.audit == CleanAudit(images_in_source=2, images_kept=2, repeated=1,
                                 text_before=1, text_after=1)
    assert a.audit.unexplained == 0


def test_noscript_fallback():
    a = clean_article(article(
        f'<img class="lazy" src="{GIF}"><noscript><img src="http://a.com/n.jpg"></noscript>'))
    assert a.body == '<figure><img src="http://a.com/n.jpg" alt=""/></figure>'
    assert dict(a.stats)["noscript images used"] == 1
    # The lazy stand-in went, counted; the <noscript> image is the one kept.
    assert a.audit.images_in_source == 2 and a.audit.images_kept == 1
    assert a.audit.dropped == (("lazy-load placeholder (its <noscript> image stands in)", 1),)
    assert a.audit.unexplained == 0


def test_noscript_not_used_twice_when_lazy_image_resolves():
    a = clean_article(article('<img data-src="http://a.com/n.jpg" src="' + GIF + '">'
                              '<noscript><img src="http://a.com/n.jpg"></noscript>'))
    assert a.body == '<figure><img src="http://a.com/n.jpg" alt=""/></figure>'
    assert a.audit.dropped == (("<noscript> copy of an image shown", 1),)
    assert a.audit.unexplained == 0


def test_placeholder_gif_never_used():
    a = clean_article(article(f'<p>x</p><img src="{GIF}">'))
    assert a.body == "<p>x</p>"
    assert "data:" not in a.body
    assert dict(a.stats)["images without a source dropped"] == 1
    assert a.figures == ()
    assert a.audit.dropped == (("lazy-load placeholder without a real URL", 1),)
    assert a.audit.images_in_source == 1 and a.audit.unexplained == 0


def test_repeated_image_kept_at_every_place():
    # The same photo three times (once with a fragment, once behind a proxy): every occurrence
    # stays where the source has it, counted as repeated (the image stage stores it once).
    a = clean_article(article(
        '<img src="http://a.com/d.jpg"><p>x</p><img src="http://a.com/d.jpg#f">'
        '<img data-src="https://cors.zfour.workers.dev/?http://a.com/d.jpg">'))
    assert a.body == ('<figure><img src="http://a.com/d.jpg" alt=""/></figure><p>x</p>'
                      '<figure><img src="http://a.com/d.jpg#f" alt=""/>'
                      '<img src="http://a.com/d.jpg" alt=""/></figure>')
    stats = dict(a.stats)
    assert stats["repeated images"] == 2 and "duplicate images dropped" not in stats
    assert a.audit.repeated == 2 and a.audit.images_kept == a.audit.images_in_source == 3
    assert {r.url.split("#")[0] for r in a.images} == {"http://a.com/d.jpg"}


def test_cover_opening_the_body_is_the_lead_figure():
    # The body opens with the head image: its figure (and caption) stays and is the chapter's
    # lead; the head image is not removed from the body, nor shown a second time.
    a = clean_article(article('<img src="http://a.com/c.jpg" width="800" height="600">'
                              '<p>↑ 封面说明</p><p>正文</p>',
                              cover=ImageRef("https://cors.zfour.workers.dev/?http://a.com/c.jpg")))
    assert a.cover == ImageRef("http://a.com/c.jpg", "", 800, 600)
    assert a.cover_in_body and a.cover_caption == "封面说明"
    assert a.body == ('<figure><img src="http://a.com/c.jpg" alt=""/>'
                      '<figcaption>封面说明</figcaption></figure><p>正文</p>')
    assert len(a.figures) == 1 and a.figures[0].caption == "封面说明"
    assert "cover not repeated" not in dict(a.stats)
    assert a.audit.images_kept == a.audit.images_in_source == 1 and a.audit.unexplained == 0


def test_cover_elsewhere_in_body_is_kept():
    a = clean_article(article('<img src="http://a.com/other.jpg"><p>正文</p>',
                              cover=ImageRef("http://a.com/c.jpg")))
    assert a.body == '<figure><img src="http://a.com/other.jpg" alt=""/></figure><p>正文</p>'
    assert not a.cover_in_body and a.cover_caption is None


def test_cover_later_in_body_takes_its_caption_and_keeps_its_place():
    a = clean_article(article('<p>导语</p><img src="http://a.com/o.jpg"><p>↑ 别的</p>'
                              '<img src="http://a.com/c.jpg#x"><p>↑ 封面在此</p>',
                              cover=ImageRef("http://a.com/c.jpg")))
    assert not a.cover_in_body and a.cover_caption == "封面在此"
    assert [f.caption for f in a.figures] == ["别的", "封面在此"]
    assert a.figures[1].images[0].url == "http://a.com/c.jpg#x"


def test_javascript_img_src_kept_as_a_stand_in_and_file_url_left_to_the_image_stage():
    a = clean_article(article('<img src="javascript:alert(1)"><img src="file:///etc/passwd">'
                              '<p>x</p>'))
    # javascript: names no image: the URL itself goes no further than cleaning, but the image
    # stays as a stand-in key, which the image stage turns into a placeholder with its reason.
    # file: does name one; the image stage refuses it with a reason (the sanitizer is no URL
    # filter).
    key = refused_url("javascript:alert(1)", "javascript")
    assert key.startswith(f"{REFUSED}javascript/")
    assert a.body == (f'<figure><img src="{key}" alt=""/><img src="file:///etc/passwd" alt=""/>'
                      '</figure><p>x</p>')
    assert [r.url for f in a.figures for r in f.images] == [key, "file:///etc/passwd"]
    assert "javascript:" not in a.body and "alert" not in a.body
    assert dict(a.stats)["images with a URL that names no image"] == 1
    assert a.audit.images_kept == a.audit.images_in_source == 2 and a.audit.unexplained == 0


def test_tracking_pixel_dropped():
    a = clean_article(article('<img src="http://a.com/px.gif" width="1" height="1">'
                              '<img src="http://t.com/p?x=1" width="1" height="1"><p>x</p>'))
    assert a.body == "<p>x</p>"
    assert dict(a.stats)["tracking pixels dropped"] == 2
    assert a.audit.dropped == (("tracking pixel", 2),) and a.audit.unexplained == 0


def test_size_hints_reach_the_figure():
    a = clean_article(article('<img src="http://a.com/x.jpg" width="640" height="480">'))
    assert a.figures[0].images[0].width_hint == 640
    assert a.figures[0].images[0].height_hint == 480


# --- captions --------------------------------------------------------------------------------

@pytest.mark.parametrize("marked", ["↑ 说明", "↑说明", "▲说明", "△ 说明", "图为说明", "上图：说明",
                                    "上图为说明", "图：说明"])
def test_caption_marks_one_image(marked):
    a = clean_article(article(f'<img src="http://a.com/1.jpg"><p>{marked}</p>'))
    # The caption is the figcaption only: alt does not repeat it.
    assert a.body == ('<figure><img src="http://a.com/1.jpg" alt=""/>'
                      '<figcaption>说明</figcaption></figure>')
    assert a.figures[0].caption == "说明"
    assert dict(a.stats)["captions attached"] == 1
    assert (a.audit.captions_in_source, a.audit.captions_attached) == (1, 1)


@pytest.mark.parametrize("mark", ["↑", "▲", "△", "图为", "上图：", "图："])
def test_caption_marks_two_images(mark):
    a = clean_article(article(
        f'<img src="http://a.com/1.jpg"><img src="http://a.com/2.jpg">{mark}两张图'))
    assert a.body == ('<figure><img src="http://a.com/1.jpg" alt=""/>'
                      '<img src="http://a.com/2.jpg" alt=""/>'
                      '<figcaption>两张图</figcaption></figure>')
    assert len(a.figures) == 1 and [i.alt for i in a.figures[0].images] == ["", ""]
    assert a.figures[0].caption == "两张图"


def test_unmarked_paragraph_is_no_caption():
    a = clean_article(article('<img src="http://a.com/1.jpg"><p>普通段落</p>', ))
    assert a.body == '<figure><img src="http://a.com/1.jpg" alt=""/></figure><p>普通段落</p>'
    assert a.figures[0].caption is None
    assert a.figures[0].images[0].alt == ""


def test_two_images_without_caption_do_not_take_the_title():
    a = clean_article(article('<img src="http://a.com/1.jpg"><img src="http://a.com/2.jpg">',
                              title="标题"))
    assert a.body == ('<figure><img src="http://a.com/1.jpg" alt=""/>'
                      '<img src="http://a.com/2.jpg" alt=""/></figure>')
    assert a.figures[0].caption is None


def test_markdown_image_alt_stays_alt_and_is_no_caption():
    # Captions come from caption markup only: a meaningful alt stays the image's alt.
    a = clean_article(article('<p><img alt="cap" src="http://a.com/m.jpg"></p>'))
    assert a.body == '<figure><img src="http://a.com/m.jpg" alt="cap"/></figure>'
    assert a.figures[0].caption is None and a.figures[0].images[0].alt == "cap"
    assert a.audit.captions_in_source == 0


@pytest.mark.parametrize("alt", ["IMG_1234.jpg", "photo", "图片", " ", "x"])
def test_alt_that_says_nothing_is_emptied(alt):
    a = clean_article(article(f'<img alt="{alt}" src="http://a.com/m.jpg"><p>↑ 说明</p>'))
    assert a.figures[0].images[0].alt == ""
    assert 'alt=""' in a.body


def test_alt_repeating_the_caption_is_emptied_and_a_different_one_kept():
    a = clean_article(article('<img alt="两位老人 在院子里" src="http://a.com/1.jpg">'
                              '<p>↑ 两位老人 在院子里</p>'
                              '<img alt="一位老人在院子里读报" src="http://a.com/2.jpg">'
                              '<p>↑ 2022年8月17日，社区居民</p>'))
    assert [(f.images[0].alt, f.caption) for f in a.figures] == [
        ("", "两位老人 在院子里"), ("一位老人在院子里读报", "2022年8月17日，社区居民")]


def test_generic_alt_is_no_caption():
    body = clean('<p><img alt="image" src="http://a.com/m.jpg"></p>')
    assert body == '<figure><img src="http://a.com/m.jpg" alt=""/></figure>'


def test_existing_figure_kept():
    a = clean_article(article(
        '<figure><img src="http://a.com/f.jpg"><figcaption>已有说明</figcaption></figure>'
        '<p>正文</p>'))
    # The figcaption is the caption; alt does not repeat it.
    assert a.body == ('<figure><img src="http://a.com/f.jpg" alt=""/>'
                      '<figcaption>已有说明</figcaption></figure><p>正文</p>')
    assert a.figures[0].caption == "已有说明"


def test_figcaption_without_image_stays_text():
    a = clean_article(article("<figure><figcaption>孤立</figcaption></figure>"))
    assert a.body == "<p>孤立</p>"
    assert (a.audit.captions_in_source, a.audit.captions_attached,
            a.audit.captions_stranded) == (1, 0, 1)


@pytest.mark.parametrize("mark", ["↑", "▲", "△"])
def test_marked_caption_without_photo_kept_as_text_without_its_mark(mark):
    a = clean_article(article(f"<p>导语</p><p>{mark} 无图的说明</p><p>正文</p>"))
    assert a.body == "<p>导语</p><p>无图的说明</p><p>正文</p>"
    assert dict(a.stats)["captions stranded"] == 1
    assert (a.audit.captions_in_source, a.audit.captions_stranded) == (1, 1)


@pytest.mark.parametrize("mark", ["图为", "上图：", "图："])
def test_words_that_open_a_caption_after_a_photo_are_text_elsewhere(mark):
    """``图为…`` (“pictured is…”) or ``图：`` (a credits role) open ordinary text
    when no photo comes before them: kept as written, not counted as captions."""
    a = clean_article(article(f"<p>导语</p><p>{mark} 无图的说明</p><p>正文</p>"))
    kept = mark if mark.endswith("：") else mark + " "  # no space after a full-width colon
    assert a.body == f"<p>导语</p><p>{kept}无图的说明</p><p>正文</p>"
    assert (a.audit.captions_in_source, a.audit.captions_stranded) == (0, 0)


def test_wechat_sections():
    body = clean('<section><section><img data-src="http://mmbiz.qpic.cn/x/640?wx_fmt=jpeg" '
                 'src="data:image/svg+xml,%3Csvg%3E" style="width:100%"></section></section>'
                 '<section><span style="color:red">说明文字</span></section>')
    assert body == ('<figure><img src="http://mmbiz.qpic.cn/x/640?wx_fmt=jpeg" alt=""/></figure>'
                    '<p><span>说明文字</span></p>')


# --- blocks ----------------------------------------------------------------------------------

def test_empty_paragraphs_dropped():
    a = clean_article(article('<p></p><p>&nbsp;</p><div>&nbsp;&nbsp;</div><p>\u3000</p>'
                              '<p>\u200b</p><p>a</p><p> </p>'))
    assert a.body == "<p>a</p>"
    assert dict(a.stats)["empty paragraphs dropped"] >= 4


def test_bare_text_wrapped():
    assert clean("bare text <b>bold</b><div>block</div>tail") == \
        "<p>bare text <b>bold</b></p><p>block</p><p>tail</p>"


def test_double_br_collapsed():
    a = clean_article(article("one<br><br>two<br>three"))
    assert a.body == "<p>one</p><p>two<br/>three</p>"
    assert dict(a.stats)["line breaks collapsed"] == 1


def test_br_at_paragraph_edges_dropped():
    assert clean("<p>text<br></p><p><br>lead</p><p>a<br> <br> <br>b</p>") == \
        "<p>text</p><p>lead</p><p>a</p><p>b</p>"


def test_headings_lists_tables_kept():
    assert clean("<h1>大标题</h1><h3>小</h3><ul><li>a<li>b</ul>"
                 "<table><tr><td>1</td></tr></table>") \
        == ("<h2>大标题</h2><h3>小</h3><ul><li>a</li><li>b</li></ul>"
            "<table><tbody><tr><td>1</td></tr></tbody></table>")


def test_text_is_escaped():
    assert clean("<p>a &amp; b &lt;c&gt;</p>") == "<p>a &amp; b &lt;c&gt;</p>"


def test_credits_need_two_lines():
    assert clean("<p>x</p><p>编辑：张三</p>") == "<p>x</p><p>编辑：张三</p>"
    assert clean("<p>x</p><p>编辑：张三</p><p>责任编辑：李四</p>") == (
        '<p>x</p><section class="credits"><dl><dt>编辑</dt><dd>张三</dd>'
        "<dt>责任编辑</dt><dd>李四</dd></dl></section>")


# --- typography ------------------------------------------------------------------------------

def test_cjk_quotes():
    assert clean('<p>草厂四条" 小院议事厅 "同居民</p>') == "<p>草厂四条“小院议事厅”同居民</p>"


def test_cjk_quotes_off():
    assert clean('<p>草厂四条" 小院议事厅 "</p>', cjk_quotes=False) == \
        '<p>草厂四条" 小院议事厅 "</p>'


def test_latin_quotes_untouched():
    assert clean('<p>He said "hello" there</p>') == '<p>He said "hello" there</p>'


def test_cjk_digit_spacing_removed_by_default():
    a = clean_article(article("<p>2022 年 8 月 17 日</p>"))
    assert a.body == "<p>2022年8月17日</p>"
    assert dict(a.stats)["typography fixes"] == 5


def test_cjk_digit_spacing_kept():
    assert clean("<p>2022 年 8 月 17 日</p>", cjk_digit_spacing="keep") == \
        "<p>2022 年 8 月 17 日</p>"


def test_cjk_digit_spacing_added():
    assert clean("<p>2022年8月</p>", cjk_digit_spacing="add") == "<p>2022 年 8 月</p>"


def test_typography_skips_code():
    assert clean('<pre>"引号" 2022 年</pre>') == '<pre>"引号" 2022 年</pre>'


# --- ids -------------------------------------------------------------------------------------

def test_ids_kept_only_when_referenced_and_prefixed():
    assert clean('<p id="keep">a</p><p id="drop">b</p><p><a href="#keep">k</a>'
                 '<a href="#nope">n</a></p>') == \
        '<p id="x-keep">a</p><p>b</p><p><a href="#x-keep">k</a><a>n</a></p>'


def test_id_prefix_argument():
    assert clean('<h2 id="s 1">节</h2><p><a href="#s 1">回</a></p>', id_prefix="a001-") == \
        '<h2 id="a001-s-1">节</h2><p><a href="#a001-s-1">回</a></p>'


def test_id_on_wrapper_moves_to_its_first_block():
    assert clean('<div id="w"><p>a</p></div><p><a href="#w">w</a></p>') == \
        '<p id="x-w">a</p><p><a href="#x-w">w</a></p>'


def test_inline_ids_kept():
    assert clean('<p>x<a id="fn1" href="#r1">1</a></p><p id="r1">注<a href="#fn1">回</a></p>') == \
        '<p>x<a href="#x-r1" id="x-fn1">1</a></p><p id="x-r1">注<a href="#x-fn1">回</a></p>'


def test_duplicate_ids_and_dangling_links():
    body = clean('<p id="d">a</p><p id="d">b</p><p><a href="#d">d</a><a href="#c">c</a></p>'
                 '<p>编辑：张三</p><p id="c">责任编辑：李四</p>')
    assert body == ('<p id="x-d">a</p><p>b</p><p><a href="#x-d">d</a><a>c</a></p>'
                    '<section class="credits"><dl><dt>编辑</dt><dd>张三</dd>'
                    '<dt>责任编辑</dt><dd>李四</dd></dl></section>')


def test_empty_target_points_at_the_next_block():
    assert clean('<p><a href="#t">t</a></p><div id="t"></div><p>b</p>') == \
        '<p><a href="#x-t">t</a></p><p id="x-t">b</p>'
    # An empty target after the last block: the link loses its href rather than dangle.
    root = xml(clean('<p><a href="#t">t</a></p><p>b</p><span id="t"></span>'))
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert all(a.get("href") is None or a.get("href")[1:] in ids for a in root.iter("a"))


# --- safety ----------------------------------------------------------------------------------

def test_junk_removed_and_text_kept():
    a = clean_article(article(
        '<script>alert(1)</script><style>p{color:red}</style><iframe src="http://x"></iframe>'
        '<object data="x.swf">o</object><embed src="x.swf"><form action="/post"><input name="q">'
        '<button>提交</button><p>表单里的正文</p></form>'
        '<p onclick="x()" onmouseover="y" style="color:red" class="c">t</p>'
        '<a href="javascript:alert(1)">j</a><a href=" JavaScript:alert(1)">j2</a>'
        '<a href="vbscript:x">v</a><a href="https://ok.example/">ok</a>'))
    assert a.body == ("<p>表单里的正文</p><p>t</p>"
                      '<p><a>j</a><a>j2</a><a>v</a><a href="https://ok.example/">ok</a></p>')
    stats = dict(a.stats)
    assert stats["dropped <iframe>"] == 1 and stats["dropped <object>"] == 1
    assert stats["dropped <embed>"] == 1
    for bad in ("script", "alert", "style", "iframe", "object", "embed", "form", "input",
                "button", "onclick", "javascript", "vbscript"):
        assert bad not in a.body.lower()


def test_embed_does_not_swallow_the_rest():
    # libxml2 parses <embed> as a container: what follows it must survive its removal.
    assert clean('<p>一</p><embed src="x.swf"><p>二</p><p>三</p>') == "<p>一</p><p>二</p><p>三</p>"


def test_comments_removed():
    assert clean("<p>a<!-- secret -->b</p><!-- x -->") == "<p>ab</p>"


def test_svg_and_math_dropped():
    assert clean('<p>a</p><svg onload="x"><script>y</script></svg><math><mi>x</mi></math>') == \
        "<p>a</p>"


def test_control_characters_scrubbed():
    body = clean("<p>a\x00b\x1b[31mc\x7f\ufffed&#0;e</p>")
    xml(body)
    assert body.startswith("<p>a") and "b" in body and "c" in body and "e" in body
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe]", body)


def test_lone_surrogates_and_controls_in_the_raw_body():
    a = clean_article(article("\ud800<p>a\udfffb\x00c</p>\ufffe"))
    assert a.body == "<p>abc</p>"


def test_title_made_one_line():
    a = clean_article(article("<p>x</p>", title="标题\n第二行\x07"))
    assert a.title == "标题 第二行"


def test_eaten_article_warns():
    long = "正文" * 200
    a = clean_article(article(f"<script>{long}</script><style>{long}</style><p>{long}</p>"))
    assert not a.warnings  # script content is not text that was lost
    b = clean_article(article(f"<object>{long}</object><p>短</p>"))
    assert any("cleaning kept" in w for w in b.warnings)


# --- regressions found while auditing -------------------------------------------------------

def test_credit_line_with_the_photo_role_is_no_stranded_caption():
    a = clean_article(article("<p>x</p><p>文：张三</p><p>图：李四</p>"))
    assert a.body == ('<p>x</p><section class="credits"><dl><dt>文</dt><dd>张三</dd>'
                      "<dt>图</dt><dd>李四</dd></dl></section>")
    assert a.audit.captions_stranded == 0


def test_ordinary_paragraph_starting_like_a_mark_is_left_alone():
    a = clean_article(article("<p>周末上图书馆看书。</p>"))
    assert a.body == "<p>周末上图书馆看书。</p>"
    b = clean_article(article("<p>导语</p><p>上图书馆的人很多。</p>"))
    assert b.body == "<p>导语</p><p>上图书馆的人很多。</p>"
    assert b.audit.captions_stranded == 0


def test_nested_pictures_are_accounted_for():
    a = clean_article(article('<picture><picture><source srcset="http://a.com/in.jpg"></picture>'
                              '<source srcset="http://a.com/out.jpg 2x"></picture>'))
    assert a.audit.unexplained == 0
    assert not a.warnings


def test_site_rule_removal_counts_each_image_once():
    a = clean_article(article('<p>x</p><div class="share_box"><div class="zaker_ad">'
                              '<img src="http://a.com/ad.jpg"></div></div>'
                              '<img src="http://a.com/ok.jpg">', author="ZAKER"))
    assert a.audit.dropped == (("removed by the zaker site rule", 1),)
    assert a.audit.unexplained == 0 and not a.warnings


def test_a_body_that_reads_like_a_file_name_gives_no_warning(recwarn):
    assert "a.txt" in clean_article(article("photos/2022/a.txt")).body
    assert not [w for w in recwarn if "filename" in str(w.message)]


@pytest.mark.parametrize("selector", ["div.img_box", ".img_box", "div", "p", "div.x-y",
                                      "div > p", "div.img_box.content", "[data-x]"])
def test_site_rule_selectors_match_as_css_does(selector):
    from bs4 import BeautifulSoup

    from builder.clean.sites import select

    soup = BeautifulSoup('<div class="img_box content"><p>a</p><div class="x-y">'
                         '<p data-x="1">b</p></div></div><span class="img_box">c</span>',
                         "html.parser")
    assert select(soup, selector) == soup.select(selector)
