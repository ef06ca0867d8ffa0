"""Unit tests for builder.load: bytes → text → front matter + body → Article."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from builder.errors import SourceError
from builder.load import decode, load_article, load_articles, parse_date
from builder.model import ImageRef
from builder.sources import find_sources

UTC = dt.UTC
CST = dt.timezone(dt.timedelta(hours=8))

FRONT = """---
title: A Title
author: Jane Doe
date: 2022-08-31
categories: [news, photos]
---
"""


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def load(tmp_path: Path, name: str, content: str | bytes):
    return load_article(write(tmp_path, name, content))


def source_error(tmp_path: Path, name: str, content: str | bytes) -> tuple[Path, str]:
    path = write(tmp_path, name, content)
    with pytest.raises(SourceError) as info:
        load_article(path)
    return path, str(info.value)


def text_of(html: str) -> str:
    return " ".join(BeautifulSoup(html, "lxml").get_text(" ").split())


# --- file kinds ----------------------------------------------------------------------------------

def test_txt_with_front_matter_html_body(tmp_path):
    article, warnings = load(tmp_path, "seed.txt", FRONT + "<p>Hello <b>world</b></p>\n")
    assert warnings == []
    assert article.source == tmp_path / "seed.txt"
    assert article.slug == "seed"
    assert article.title == "A Title"
    assert article.author == "Jane Doe"
    assert article.date == dt.datetime(2022, 8, 31, tzinfo=UTC)
    assert article.categories == ("news", "photos")
    assert article.lang == "en"
    assert article.cover is None
    assert article.base_url is None
    assert article.body.strip() == "<p>Hello <b>world</b></p>"


@pytest.mark.parametrize("name", ["post.md", "post.markdown", "POST.MD"])
def test_markdown_with_front_matter_is_rendered(tmp_path, name):
    article, warnings = load(tmp_path, name, FRONT + "Some *text*.\n\n![cap](a.jpg)\n")
    assert warnings == []
    assert article.title == "A Title"
    assert article.author == "Jane Doe"
    assert article.categories == ("news", "photos")
    soup = BeautifulSoup(article.body, "lxml")
    img = soup.find("img")
    assert img is not None and img["src"] == "a.jpg" and img["alt"] == "cap"
    assert soup.find("em").get_text() == "text"
    assert "---" not in article.body and "title:" not in article.body


@pytest.mark.parametrize("name", ["page.html", "page.htm"])
def test_html_with_front_matter_stays_html(tmp_path, name):
    body = '<div class="x"><p>Para</p><img src="b.png" alt=""></div>\n# not a heading\n'
    article, warnings = load(tmp_path, name, FRONT + body)
    assert warnings == []
    assert article.title == "A Title"
    assert article.body.strip() == body.strip()  # no Markdown rendering of an HTML file


def test_txt_body_is_not_rendered_as_markdown(tmp_path):
    article, _ = load(tmp_path, "a.txt", FRONT + "![cap](a.jpg) *x*\n")
    assert article.body.strip() == "![cap](a.jpg) *x*"


def test_file_without_front_matter(tmp_path):
    article, warnings = load(tmp_path, "plain.md", "# Only a heading\n\nText.\n")
    assert article.title == "Only a heading"
    assert article.author is None and article.date is None and article.categories == ()
    assert warnings == [f"{tmp_path / 'plain.md'}: no title in the front matter; "
                        "using 'Only a heading'"]


def test_empty_front_matter(tmp_path):
    article, warnings = load(tmp_path, "e.html", "---\n---\n<h1>Head</h1>")
    assert article.title == "Head"
    assert len(warnings) == 1


def test_blank_lines_before_the_front_matter(tmp_path):
    article, warnings = load(tmp_path, "lead.txt", "\n\n" + FRONT + "<p>b</p>")
    assert warnings == []
    assert article.title == "A Title"
    assert article.body.strip() == "<p>b</p>"


def test_horizontal_rule_in_body_is_not_a_boundary(tmp_path):
    article, _ = load(tmp_path, "hr.md", FRONT + "one\n\n---\n\ntwo\n")
    soup = BeautifulSoup(article.body, "lxml")
    assert soup.find("hr") is not None
    assert text_of(article.body) == "one two"


# --- encodings and line ends ---------------------------------------------------------------------

def test_utf8_bom_front_matter_is_read(tmp_path):
    data = b"\xef\xbb\xbf" + (FRONT + "<p>Body</p>\n").encode("utf-8")
    article, warnings = load(tmp_path, "bom.txt", data)
    assert warnings == []
    assert article.title == "A Title"
    assert article.author == "Jane Doe"
    assert article.categories == ("news", "photos")
    assert article.date == dt.datetime(2022, 8, 31, tzinfo=UTC)
    assert article.body.strip() == "<p>Body</p>"
    assert "\ufeff" not in article.body and "title:" not in article.body


def test_crlf_line_ends(tmp_path):
    data = (FRONT + "<p>one</p>\n<p>two</p>\n").replace("\n", "\r\n").encode("utf-8")
    article, warnings = load(tmp_path, "crlf.txt", data)
    assert warnings == []
    assert article.title == "A Title"
    assert article.author == "Jane Doe"
    assert article.categories == ("news", "photos")
    assert "\r" not in article.body
    assert article.body.strip() == "<p>one</p>\n<p>two</p>"


def test_crlf_with_bom_markdown(tmp_path):
    data = b"\xef\xbb\xbf" + b"---\r\ntitle: T\r\n---\r\n# H\r\n\r\ntext\r\n"
    article, _ = load(tmp_path, "x.md", data)
    assert article.title == "T"
    assert article.body == "<h1>H</h1>\n<p>text</p>"


CHINESE = ("---\ntitle: 做好社区工作\nauthor: 新华社\ncategories: 新媒体，社区\n---\n"
           "<p>社区虽小，却连着千家万户。社区工作是一门学问，要积极探索创新。</p>\n")


@pytest.mark.parametrize("name", ["gbk.txt", "gbk.md", "gbk.html"])
def test_gbk_body_is_detected_whatever_the_extension(tmp_path, name):
    article, warnings = load(tmp_path, name, CHINESE.encode("gbk"))
    assert warnings == []
    assert article.title == "做好社区工作"
    assert article.author == "新华社"
    assert article.categories == ("新媒体", "社区")
    assert article.lang == "zh"
    assert "社区虽小，却连着千家万户。" in article.body


def test_gb18030_only_character(tmp_path):
    text = "---\ntitle: 𠀀字\n---\n<p>中文正文</p>\n"  # U+20000 is not in GBK
    article, _ = load(tmp_path, "gb.txt", text.encode("gb18030"))
    assert article.title == "𠀀字"


def test_decode_variants():
    assert decode("中文".encode(), "f") == "中文"
    assert decode(b"\xef\xbb\xbfabc", "f") == "abc"
    assert decode("中文abc".encode("gbk"), "f") == "中文abc"
    assert decode("ab中".encode("utf-16"), "f") == "ab中"  # with its BOM
    assert decode(b"", "f") == ""


def test_decode_refuses_bytes_that_are_neither_utf8_nor_gb18030():
    with pytest.raises(SourceError) as info:
        decode(b"line one\nline two\n\xff\xff", "seeds/x.txt")
    assert str(info.value) == "seeds/x.txt:3: not UTF-8 or GB18030 text; save the file as UTF-8"


# --- dates ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("Wed, 31 Aug 2022 05:34:39 GMT", dt.datetime(2022, 8, 31, 5, 34, 39, tzinfo=UTC)),
    ("Wed, 31 Aug 2022 13:34:39 +0800", dt.datetime(2022, 8, 31, 13, 34, 39, tzinfo=CST)),
    ("Wed, 31 Aug 2022 05:34:39 -0000", dt.datetime(2022, 8, 31, 5, 34, 39, tzinfo=UTC)),
    ("2022-08-31T13:34:39+08:00", dt.datetime(2022, 8, 31, 13, 34, 39, tzinfo=CST)),
    ("2022-08-31T05:34:39Z", dt.datetime(2022, 8, 31, 5, 34, 39, tzinfo=UTC)),
    ("2022-08-31T05:34:39", dt.datetime(2022, 8, 31, 5, 34, 39, tzinfo=UTC)),
    ("2022-08-31", dt.datetime(2022, 8, 31, tzinfo=UTC)),
    ("  2022-08-31  ", dt.datetime(2022, 8, 31, tzinfo=UTC)),
])
def test_parse_date_is_timezone_aware(raw, expected):
    parsed = parse_date(raw)
    assert parsed == expected
    assert parsed.tzinfo is not None
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("raw", ["2022-02-30", "2022-13-01", "yesterday", "",
                                 "Mon, 30 Feb 2022 00:00:00 GMT", "31/08/2022"])
def test_parse_date_refuses_impossible_or_unknown_dates(raw):
    with pytest.raises(ValueError):
        parse_date(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("Wed, 31 Aug 2022 05:34:39 GMT", dt.datetime(2022, 8, 31, 5, 34, 39, tzinfo=UTC)),
    ("'2022-08-31T13:34:39+08:00'", dt.datetime(2022, 8, 31, 13, 34, 39, tzinfo=CST)),
    ("2022-08-31T13:34:39+08:00", dt.datetime(2022, 8, 31, 13, 34, 39, tzinfo=CST)),
    ("2022-08-31", dt.datetime(2022, 8, 31, tzinfo=UTC)),
])
def test_front_matter_dates(tmp_path, raw, expected):
    article, warnings = load(tmp_path, "d.txt", f"---\ntitle: T\ndate: {raw}\n---\n<p>x</p>")
    assert warnings == []
    assert article.date == expected
    assert article.date.utcoffset() == expected.utcoffset()


def test_impossible_date_warns_naming_file_and_field_and_is_unknown(tmp_path):
    article, warnings = load(tmp_path, "bad.txt", "---\ntitle: T\ndate: 2022-02-30\n---\n<p>x</p>")
    assert article.date is None  # never shifted to 2022-03-02 or 2022-02-28
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{tmp_path / 'bad.txt'}: ")
    assert "'date'" in warnings[0]
    assert "2022-02-30" in warnings[0]


def test_date_that_is_a_list_warns(tmp_path):
    article, warnings = load(tmp_path, "l.txt", "---\ntitle: T\ndate: [2022, 1]\n---\n")
    assert article.date is None
    assert len(warnings) == 1 and "'date'" in warnings[0]


def test_empty_date_is_unknown_without_warning(tmp_path):
    article, warnings = load(tmp_path, "e.txt", "---\ntitle: T\ndate:\n---\n")
    assert article.date is None
    assert warnings == []


# --- YAML 1.1 traps and hostile YAML -------------------------------------------------------------

@pytest.mark.parametrize(("line", "field", "expected"), [
    ("title: Off", "title", "Off"),
    ("title: yes", "title", "yes"),
    ("title: No", "title", "No"),
    ("title: 1e3", "title", "1e3"),
    ("title: 0x1F", "title", "0x1F"),
    ("title: 010", "title", "010"),
    ("title: null", "title", "null"),
    ("title: 2022-08-31", "title", "2022-08-31"),
    ("title: 12:30:00", "title", "12:30:00"),
    ("author: 2022", "author", "2022"),
    ("author: 3.10", "author", "3.10"),
    ("author: on", "author", "on"),
])
def test_text_fields_read_as_the_text_written(tmp_path, line, field, expected):
    article, _ = load(tmp_path, "t.txt", f"---\n{line}\n---\n<p>x</p>")
    value = getattr(article, field)
    assert isinstance(value, str)
    assert value == expected


def test_categories_are_text_too(tmp_path):
    article, _ = load(tmp_path, "c.txt", "---\ntitle: T\ncategories: [yes, 2022, Off]\n---\n")
    assert article.categories == ("yes", "2022", "Off")


BILLION_LAUGHS = """---
title: lol
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
---
<p>boom</p>
"""


def test_alias_bomb_is_refused_quickly(tmp_path):
    start = time.perf_counter()
    path, message = source_error(tmp_path, "bomb.txt", BILLION_LAUGHS)
    elapsed = time.perf_counter() - start
    assert elapsed < 5
    assert message.startswith(f"{path}:4: invalid front matter: ")  # the first alias: line 4
    assert "alias" in message


def test_single_alias_is_refused(tmp_path):
    path, message = source_error(tmp_path, "a.txt", "---\nx: &x T\ntitle: *x\n---\n")
    assert message == f"{path}:3: invalid front matter: aliases (*name) are not allowed"


@pytest.mark.parametrize("depth", [30, 50_000])
def test_deeply_nested_front_matter_is_refused_quickly(tmp_path, depth):
    deep = "[" * depth + "]" * depth
    start = time.perf_counter()
    path, message = source_error(tmp_path, "deep.txt", f"---\ntitle: T\nx: {deep}\n---\n")
    assert time.perf_counter() - start < 5
    assert message == f"{path}:3: invalid front matter: nested more than 20 levels deep"


def test_moderate_nesting_is_fine(tmp_path):
    article, _ = load(tmp_path, "n.txt", "---\ntitle: T\nx: {a: [[[b]]]}\n---\n")
    assert article.title == "T"


def test_python_tag_executes_nothing(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"!!python/object/apply:os.system ['touch {marker}']"
    cases = [("title.txt", f"title: {payload}"), ("other.txt", f"title: T\nx: {payload}")]
    for name, front in cases:
        path = write(tmp_path, name, f"---\n{front}\n---\n<p>x</p>")
        try:
            article, _ = load_article(path)
        except SourceError as exc:
            assert str(exc).startswith(f"{path}:2: invalid front matter: ")
        else:
            assert article.title == "T"
    assert not marker.exists()


def test_python_name_tag_is_not_resolved(tmp_path):
    article, _ = load(tmp_path, "n.md", "---\ntitle: !!python/name:os.getcwd 'x'\n---\n# H\n")
    assert article.title == "x"  # the tag is ignored: the text written, never a function


# --- invalid front matter ------------------------------------------------------------------------

def test_yaml_error_reports_the_file_line(tmp_path):
    # line 1 '---', line 2 title, line 3 the error
    path, message = source_error(tmp_path, "x.txt", "---\ntitle: T\nauthor: : :\n---\n<p>x</p>")
    assert message == f"{path}:3: invalid front matter: mapping values are not allowed here"


def test_yaml_error_line_counts_blank_lines_after_the_opening(tmp_path):
    path, message = source_error(tmp_path, "x.txt", "---\n\ntitle: T\nauthor: : :\n---\n")
    assert message.startswith(f"{path}:4: invalid front matter: ")


def test_yaml_error_line_counts_blank_lines_before_the_opening(tmp_path):
    path, message = source_error(tmp_path, "x.txt", "\n\n---\ntitle: T\nauthor: : :\n---\n")
    assert message.startswith(f"{path}:5: invalid front matter: ")


def test_yaml_error_line_with_crlf_and_bom(tmp_path):
    data = b"\xef\xbb\xbf" + b"---\r\ntitle: T\r\nauthor: : :\r\n---\r\n"
    path, message = source_error(tmp_path, "x.txt", data)
    assert message.startswith(f"{path}:3: invalid front matter: ")


def test_unclosed_flow_sequence(tmp_path):
    path, message = source_error(tmp_path, "x.md", "---\ntitle: T\ncategories: [a, b\n---\n")
    # YAML notices at the end of the front matter: the closing '---' on line 4
    assert message == f"{path}:4: invalid front matter: expected ',' or ']', but got '<stream end>'"


def test_tab_indentation_error(tmp_path):
    path, message = source_error(tmp_path, "x.txt", "---\ntitle: T\n\tauthor: A\n---\n")
    assert message.startswith(f"{path}:3: invalid front matter: ")


def test_no_closing_boundary(tmp_path):
    path, message = source_error(tmp_path, "x.txt", "---\ntitle: T\n<p>body</p>\n")
    assert message == f"{path}:1: invalid front matter: no closing '---' line"


@pytest.mark.parametrize("front", ["- a\n- b", "just a string", "'quoted'", "[1, 2]"])
def test_front_matter_that_is_not_a_mapping(tmp_path, front):
    path, message = source_error(tmp_path, "x.txt", f"---\n{front}\n---\n<p>x</p>")
    assert message.startswith(f"{path}:2: invalid front matter")


@pytest.mark.parametrize(("front", "line"), [
    ("title: [a, b]", 2),
    ("author: X\ntitle:\n  k: v", 3),
    ("title: T\nauthor: [a]", 3),
    ("title: T\ncategories: [[a]]", 3),
    ("title: T\ncategories: {a: b}", 3),
    ("title: T\nlang: [zh]", 3),
])
def test_field_of_the_wrong_shape(tmp_path, front, line):
    path, message = source_error(tmp_path, "x.txt", f"---\n{front}\n---\n")
    assert message.startswith(f"{path}:{line}: invalid front matter: ")


# --- unreadable files ----------------------------------------------------------------------------

def test_missing_file(tmp_path):
    path = tmp_path / "missing.txt"
    with pytest.raises(SourceError) as info:
        load_article(path)
    assert str(info.value).startswith(f"{path}: cannot read file")


def test_directory_given_as_file(tmp_path):
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    with pytest.raises(SourceError) as info:
        load_article(folder)
    assert str(info.value).startswith(f"{folder}: cannot read file")


def test_binary_file(tmp_path):
    path, message = source_error(tmp_path, "x.txt", b"\x89PNG\r\n\x1a\n\xff\xff\xff")
    assert message.startswith(f"{path}:")
    assert "not UTF-8 or GB18030" in message


# --- categories ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("front", "expected"), [
    ("categories: [a, b]", ("a", "b")),
    ("categories:\n - 新媒体\n - ZAKER\n - source", ("新媒体", "ZAKER", "source")),
    ("categories: a, b ,c", ("a", "b", "c")),
    ("categories: 新媒体，社区, ZAKER", ("新媒体", "社区", "ZAKER")),
    ("categories: single", ("single",)),
    ("categories: a, a, b, a", ("a", "b")),
    ("categories: ' , ,'", ()),
    ("categories: []", ()),
    ("categories:", ()),
    ("tags: [x, y]", ("x", "y")),
    ("tags: x, y", ("x", "y")),
    ("categories: [  spaced   out  , b]", ("spaced out", "b")),
])
def test_categories_list_or_string(tmp_path, front, expected):
    article, _ = load(tmp_path, "c.txt", f"---\ntitle: T\n{front}\n---\n")
    assert article.categories == expected


# --- title ---------------------------------------------------------------------------------------

def test_missing_title_uses_first_markdown_heading(tmp_path):
    article, warnings = load(tmp_path, "m.md",
                             "---\nauthor: A\n---\nIntro\n\n## Second *level*\n\n# Later\n")
    assert article.title == "Second level"
    assert warnings == [f"{tmp_path / 'm.md'}: no title in the front matter; using 'Second level'"]


def test_missing_title_uses_first_html_heading(tmp_path):
    article, warnings = load(tmp_path, "h.txt",
                             "---\nauthor: A\n---\n<p>x</p><h3> The\n  Head </h3><h1>No</h1>")
    assert article.title == "The Head"
    assert len(warnings) == 1 and "'The Head'" in warnings[0]


def test_missing_title_and_no_heading_uses_file_stem(tmp_path):
    article, warnings = load(tmp_path, "my-article.html",
                             "---\nauthor: A\n---\n<p>x</p><h4>too deep</h4>")
    assert article.title == "my-article"
    assert warnings == [f"{tmp_path / 'my-article.html'}: no title in the front matter; "
                        "using 'my-article'"]


def test_empty_title_counts_as_missing(tmp_path):
    article, warnings = load(tmp_path, "e.md", "---\ntitle: ''\n---\n# Heading\n")
    assert article.title == "Heading"
    assert len(warnings) == 1


def test_whitespace_title_is_one_line(tmp_path):
    article, _ = load(tmp_path, "w.txt", '---\ntitle: "  Two\\n  lines\\t here "\n---\n')
    assert article.title == "Two lines here"


# --- language ------------------------------------------------------------------------------------

def test_language_from_front_matter(tmp_path):
    article, _ = load(tmp_path, "l.txt", "---\ntitle: 中文标题\nlang: zh-Hant\n---\n<p>中文</p>")
    assert article.lang == "zh-Hant"
    article, _ = load(tmp_path, "l2.txt", "---\ntitle: T\nlanguage: fr\n---\n<p>Bonjour</p>")
    assert article.lang == "fr"


def test_language_detected_chinese(tmp_path):
    article, _ = load(tmp_path, "z.txt",
                      "---\ntitle: 标题\n---\n<p>这是一篇中文文章，讲的是社区工作。</p>")
    assert article.lang == "zh"


def test_language_detected_english(tmp_path):
    article, _ = load(tmp_path, "e.txt", "---\ntitle: Title\n---\n<p>An English article.</p>")
    assert article.lang == "en"


def test_language_detection_ignores_markup(tmp_path):
    # Lots of ASCII in attributes must not outweigh the Chinese text.
    attrs = ' class="content_img_div perview_img_div lazy opacity_0"' * 20
    article, _ = load(tmp_path, "m.txt", f"---\ntitle: 标题\n---\n<div{attrs}>中文正文内容</div>")
    assert article.lang == "zh"


# --- other fields --------------------------------------------------------------------------------

def test_cover_and_source_url(tmp_path):
    article, _ = load(tmp_path, "c.txt", "---\ntitle: T\nheadimg: 'https://x.example/a.jpg'\n"
                                         "thumbnail: 'https://x.example/b.jpg'\n"
                                         "url: https://x.example/post\n---\n")
    assert article.cover == ImageRef(url="https://x.example/a.jpg")  # no alt is made up
    assert article.base_url == "https://x.example/post"


def test_cover_falls_back_to_thumbnail(tmp_path):
    article, _ = load(tmp_path, "c.txt", "---\ntitle: T\nthumbnail: https://x.example/b\n---\n")
    assert article.cover == ImageRef(url="https://x.example/b")


def test_slug_from_chinese_and_hostile_file_names(tmp_path):
    article, _ = load(tmp_path, "中文标题.txt", "---\ntitle: T\n---\n")
    assert article.slug == "zhong-wen-biao-ti"
    article, _ = load(tmp_path, "!!!.txt", "---\ntitle: T\n---\n")
    assert article.slug == "article"


def test_seed_like_article(tmp_path):
    text = ("\n---\ntitle: '总书记挂念的_关键小事_丨做好社区工作'\ncategories: \n"
            " - 新媒体\n - ZAKER\n - source\nheadimg: 'https://cors.example/?http://zkres1.myzaker.com/a_1024.jpg'\n"
            "author: ZAKER\ncomments: false\ndate: Wed, 31 Aug 2022 05:34:39 GMT\n---\n\n"
            "<div><p>社区虽小，却连着千家万户。</p></div>\n")
    article, warnings = load(tmp_path, "000_dc99e8bd12c8b5f6.txt", text)
    assert warnings == []
    assert article.title == "总书记挂念的_关键小事_丨做好社区工作"
    assert article.categories == ("新媒体", "ZAKER", "source")
    assert article.author == "ZAKER"
    assert article.date == dt.datetime(2022, 8, 31, 5, 34, 39, tzinfo=UTC)
    assert article.cover.url == "https://cors.example/?http://zkres1.myzaker.com/a_1024.jpg"
    assert article.lang == "zh"
    assert article.slug == "000-dc99e8bd12c8b5f6"


# --- control characters and terminal escapes -----------------------------------------------------

def test_escapes_in_quoted_front_matter_are_removed(tmp_path):
    text = ('---\ntitle: "Red\\x1b[31m title\\x1b[0m\\x07\\uFFFE\\uFFFF"\n'
            'author: "Ev\\x00il\\x1b]0;pwned\\x07 Author"\n'
            'categories: ["\\x1b[1mbold\\x1b[0m", "tab\\x0bbed", "\\uFFFF"]\n---\n<p>x</p>')
    article, _ = load(tmp_path, "q.txt", text)
    assert article.title == "Red title"
    assert article.author == "Evil Author"
    assert article.categories == ("bold", "tabbed")


def test_raw_control_characters_in_front_matter_are_removed(tmp_path):
    text = ("---\ntitle: Raw\x1b[31m red\x1b[0m\x07\ufffe\nauthor: A\x00\x08uthor\uffff\n"
            "categories: [a\x1b[2Jb, c\x7f]\n---\n<p>x</p>")
    article, warnings = load(tmp_path, "r.txt", text)
    assert warnings == []
    assert article.title == "Raw red"
    assert article.author == "Author"
    assert article.categories == ("ab", "c")


def test_control_characters_removed_from_the_body(tmp_path):
    body = "<p>\x1b[31mred\x1b[0m \x00nul\x08 \x1b]0;title\x07ok\ufffe\uffff\x85</p>\n"
    article, _ = load(tmp_path, "b.html", FRONT + body)
    assert article.body.strip() == "<p>red nul ok</p>"


def test_control_characters_removed_from_a_markdown_body(tmp_path):
    article, _ = load(tmp_path, "b.md", FRONT + "Hello \x1b[31mred\x1b[0m\x07 world\uffff\n")
    assert article.body == "<p>Hello red world</p>"


def test_control_characters_removed_from_a_heading_title(tmp_path):
    article, warnings = load(tmp_path, "h.md", "# Bad\x1b[5m blink\x07\n")
    assert article.title == "Bad blink"
    assert "\x1b" not in warnings[0] and "\x07" not in warnings[0]


# --- find_sources / load_articles ----------------------------------------------------------------

def test_find_sources_in_a_folder(tmp_path):
    for name in ["b.md", "a.txt", "C.HTML", "d.htm", "e.markdown", "notes.pdf", "image.jpg"]:
        write(tmp_path, name, "x")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "deep.md", "x")
    (tmp_path / "folder.md").mkdir()
    found = find_sources([tmp_path])
    assert found == [tmp_path / n for n in ["C.HTML", "a.txt", "b.md", "d.htm", "e.markdown"]]


def test_find_sources_explicit_files_keep_their_order(tmp_path):
    b = write(tmp_path, "b.txt", "x")
    a = write(tmp_path, "a.anything", "x")
    assert find_sources([b, a]) == [b, a]


def test_find_sources_missing_path(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(SourceError) as info:
        find_sources([missing])
    assert str(info.value) == f"{missing}: no such file or folder"


def test_find_sources_empty_folder(tmp_path):
    write(tmp_path, "readme.pdf", "x")
    with pytest.raises(SourceError) as info:
        find_sources([tmp_path])
    assert str(info.value).startswith(f"{tmp_path}: no articles found")


def test_load_articles_collects_articles_and_warnings(tmp_path):
    write(tmp_path, "1.txt", "---\ntitle: One\n---\n<p>1</p>")
    write(tmp_path, "2.md", "# Two\n")
    write(tmp_path, "3.txt", "---\ntitle: Three\ndate: 2022-02-30\n---\n<p>3</p>")
    articles, warnings = load_articles([tmp_path])
    assert [a.title for a in articles] == ["One", "Two", "Three"]
    assert [a.slug for a in articles] == ["1", "2", "3"]
    assert len(warnings) == 2
    assert warnings[0].startswith(f"{tmp_path / '2.md'}: no title")
    assert warnings[1].startswith(f"{tmp_path / '3.txt'}: field 'date'")


def test_load_articles_stops_at_a_broken_file(tmp_path):
    write(tmp_path, "1.txt", "---\ntitle: One\n---\n")
    bad = write(tmp_path, "2.txt", "---\ntitle: [\n---\n")
    with pytest.raises(SourceError) as info:
        load_articles([tmp_path])
    assert str(info.value).startswith(f"{bad}:")
