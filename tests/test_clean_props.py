"""Whatever the HTML, cleaning gives safe, well-formed XHTML and never raises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from builder.clean import clean_article
from builder.clean.policy import TAGS
from builder.model import Article
from builder.settings import CleanSettings

# Text that is hard on parsers and serializers: controls, non-characters, lone surrogates,
# character references that XML forbids, markup characters.
NASTY = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b[31m", "\x7f", "\x85", "\x9f", "\ufffe",
         "\uffff", "\ud800", "\udfff", "\ufeff", "\u200b", "\u3000", "\u00a0", "&#0;", "&#xD800;",
         "&#x1F;", "&#65534;", "&#x110000;", "&nbsp;", "&amp;", "&", "<", ">", "]]>", '"', "'",
         "<!--", "-->", "<![CDATA[", "\r\n", "\r", "↑ ", "图为", "编辑：", "2022 年", "“",
         "</p>", "<p", "<br>", "<img", "</div>", "<script>", "</script>"]

text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(NASTY),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=6),
).filter(lambda t: "javascript:" not in t.lower())  # as text, the word is harmless
URLS = st.sampled_from([
    "http://a.com/x.jpg", "https://cors.zfour.workers.dev/?http://a.com/y.jpg",
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)", "data:image/gif;base64,R0lGODlhAQABAAAAACw=", "data:text/html,<script>",
    "vbscript:x", "file:///etc/passwd", "//cdn.example/z.png", "img/local.png", "#frag", "",
    "http://a.com/x.jpg 1x, http://a.com/x2.jpg 2x", "http://[::1", "x" * 50,
    "&#106;avascript:alert(1)", "java\tscript:alert(1)", "jav&#x09;ascript:alert(1)",
    "https://p.example/?url=javascript%3Aalert(1)", "https://p.example/fetch/javascript:alert(1)",
])
URL_ATTRS = {"src", "data-src", "data-original", "srcset", "data-srcset", "href", "formaction",
             "xmlns"}
ATTR_NAMES = st.sampled_from([
    "src", "data-src", "data-original", "srcset", "data-srcset", "alt", "width", "height",
    "onerror", "onload", "onclick", "style", "class", "id", "href", "lang", "title", "xmlns",
    "xml:lang", "data-width", "ONERROR", "on", "formaction",
])
attrs = st.lists(ATTR_NAMES, max_size=4, unique=True).flatmap(
    lambda names: st.fixed_dictionaries(
        {n: URLS if n in URL_ATTRS else st.one_of(text, URLS)
         for n in names}))
TAG_NAMES = st.sampled_from([
    "div", "p", "span", "img", "script", "iframe", "a", "br", "figure", "figcaption", "section",
    "style", "noscript", "picture", "source", "table", "tr", "td", "ul", "li", "h1", "svg", "math",
    "embed", "object", "form", "input", "textarea", "template", "b", "pre", "code", "blockquote",
    "font", "title", "head", "body", "html", "meta", "foo:bar", "x-custom",
])


def _attr_text(attributes: dict[str, str]) -> str:
    return "".join(f' {k}="{v.replace(chr(34), "&quot;")}"' for k, v in attributes.items())


@st.composite
def element(draw, depth: int = 0) -> str:
    name = draw(TAG_NAMES)
    if name == "a" and draw(st.booleans()):
        attributes = {"href": draw(st.sampled_from(["javascript:alert(1)", "#x", "http://ok/"])),
                      "id": draw(st.sampled_from(["x", "y"]))}
    else:
        attributes = draw(attrs)
    open_tag = f"<{name}{_attr_text(attributes)}>"
    if depth >= 3 or name in ("br", "img", "source", "input", "meta"):
        return open_tag
    children = draw(st.lists(st.one_of(text, element(depth + 1)), max_size=4))
    close = draw(st.sampled_from([f"</{name}>", f"</{name}>", f"</{name}>", "", "</div>",
                                  "</p>"]))
    return open_tag + "".join(children) + close


html_fragments = st.lists(st.one_of(text, element()), max_size=8).map("".join)


def make(body: str, title: str = "T") -> Article:
    return Article(source=Path("x.html"), slug="x", title=title, date=None, author=None,
                   categories=(), lang="zh", cover=None, body=body)


def check_body(body: str) -> etree._Element:
    root = etree.fromstring(f"<div>{body}</div>")  # well-formed XML, default depth limit
    for el in root.iter():
        if el is root:
            continue
        assert isinstance(el.tag, str), f"comment or PI in output: {body!r}"
        assert el.tag in TAGS, f"<{el.tag}> in output: {body!r}"
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), f"{name} in output: {body!r}"
            # What a browser would run: the scheme after dropping blanks and controls.
            probe = re.sub(r"[\x00-\x20]", "", value).lower()
            if name in ("href", "src"):
                assert not probe.startswith(("javascript:", "vbscript:")), body
            if name == "href":  # (an image's file: URL is left for the image stage to refuse)
                assert not probe.startswith(("file:", "data:")), body
    assert "<script" not in body.lower()
    return root


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_fragments, st.booleans(), st.sampled_from(["remove", "keep", "add"]))
def test_any_html_cleans_to_safe_xhtml(body, quotes, spacing):
    cleaned = clean_article(make(body), CleanSettings(cjk_quotes=quotes,
                                                       cjk_digit_spacing=spacing))
    root = check_body(cleaned.body)
    # The figures reported are the images in the body.
    assert [img.get("src") for img in root.iter("img")] == \
        [ref.url for fig in cleaned.figures for ref in fig.images]
    ids = [el.get("id") for el in root.iter() if el.get("id") is not None]
    assert len(ids) == len(set(ids))
    for a in root.iter("a"):
        href = a.get("href")
        assert href is None or not href.startswith("#") or href[1:] in ids


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=200)
       .filter(lambda t: "javascript:" not in t.lower()), text)
def test_any_text_cleans_to_safe_xhtml(body, title):
    cleaned = clean_article(make(body, title=title))
    check_body(cleaned.body)
    assert "\n" not in cleaned.title


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["<div>", "</div>", "<p>", "</p>", "<span>", "</span>", "<b>",
                                 "</b>", "<table>", "<tr>", "<td>", "</table>", "<li>", "<ul>",
                                 "</ul>", "<figure>", "</figure>", "<a href='#x'>", "</a>",
                                 "<p id='x'>", "<br>", "<img src='http://a.com/i.jpg'>", "字",
                                 "↑说明", "<pre>", "</pre>", "<blockquote>", "</blockquote>"]),
                max_size=40).map("".join))
def test_misnested_soup_keeps_its_text(body):
    cleaned = clean_article(make(body))
    root = check_body(cleaned.body)
    if "字" in body:
        assert "字" in "".join(root.itertext())


# --- explicit ------------------------------------------------------------------------------

def _nested(tag: str, n: int, inner: str = "深处的文字") -> str:
    return f"<{tag}>" * n + inner + f"</{tag}>" * n


def test_thousand_nested_divs():
    body = clean_article(make(_nested("div", 1000))).body
    assert body == "<p>深处的文字</p>"


def test_five_thousand_nested_divs():
    body = clean_article(make(_nested("div", 5000))).body
    assert body == "<p>深处的文字</p>"


@pytest.mark.parametrize("tag, n", [(t, 1000) for t in ("span", "b", "font", "blockquote",
                                                          "section", "li", "a", "table")]
                         + [("span", 5000), ("blockquote", 5000)])
def test_deeply_nested_inline_and_blocks_keep_text_and_stay_parseable(tag, n):
    body = clean_article(make(_nested(tag, n))).body
    root = check_body(body)  # XML parsers refuse more than 256 levels
    assert "深处的文字" in "".join(root.itertext())


def test_moderate_inline_nesting_kept():
    body = clean_article(make("<p>" + _nested("b", 5, "粗") + "</p>")).body
    assert body == "<p><b><b><b><b><b>粗</b></b></b></b></b></p>"


def test_unclosed_tags():
    body = clean_article(make("<div><p>一<p>二<b>粗<i>斜<div>三")).body
    check_body(body)
    # An inline element holding a block is flattened: its text stays, in order.
    assert body == "<p>一</p><p>二粗斜</p><p>三</p>"


def test_misnested_tags():
    body = clean_article(make("<p>a<b>b<i>c</b>d</i>e</p></div></span>f")).body
    check_body(body)
    text = "".join(etree.fromstring(f"<div>{body}</div>").itertext())
    assert text == "abcdef"


def test_stray_end_tags_and_garbage():
    body = clean_article(make("</p></div><<>>&&;<p>文</x></p>")).body
    check_body(body)
    assert "文" in body


def test_forbidden_characters_and_references():
    body = clean_article(make("<p>a&#0;b&#xD800;c\x00d\ufffee\ud800f&#x1F;g</p>")).body
    check_body(body)
    text = "".join(etree.fromstring(f"<div>{body}</div>").itertext())
    assert [c for c in text if c.isalpha()] == list("abcdefg")
