"""The last pass: an allow-list sanitizer, then well-formed XHTML."""

from __future__ import annotations

import nh3
from lxml import etree, html as lxml_html

from ..text import scrub

TAGS = {
    "p", "br", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "img", "a", "em", "strong",
    "b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "mark", "code", "pre", "kbd", "q",
    "cite", "abbr", "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "section", "table", "thead",
    "tbody", "tfoot", "tr", "th", "td", "caption", "hr", "ruby", "rt", "rp", "span",
}
ATTRIBUTES = {
    "*": {"id", "lang"},
    "a": {"href", "title"},
    "img": {"src", "alt"},
    "section": {"class"},
    "span": {"class"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
DROP_WITH_CONTENT = {"script", "style", "noscript", "template", "iframe", "object", "embed",
                     "svg", "math", "textarea", "select", "title", "head", "frameset", "applet"}
URL_SCHEMES = {"http", "https", "mailto", "data"}


def sanitize(fragment: str) -> str:
    """``fragment`` with only allowed tags, attributes and URL schemes, as XHTML."""
    cleaned = nh3.clean(
        scrub(fragment), tags=TAGS, attributes=ATTRIBUTES, clean_content_tags=DROP_WITH_CONTENT,
        url_schemes=URL_SCHEMES, link_rel=None, strip_comments=True)
    return to_xhtml(cleaned)


def to_xhtml(fragment: str) -> str:
    """An HTML fragment serialized as well-formed XHTML (no XML-forbidden characters)."""
    if not fragment.strip():
        return ""
    parser = lxml_html.HTMLParser(remove_comments=True, huge_tree=True)
    root = lxml_html.fragment_fromstring(scrub(fragment), create_parent="div", parser=parser)
    # Ids must be unique, and a link into the article must have its target.
    ids: set[str] = set()
    for el in root.iter():
        if el.get("id") is not None:
            if el.get("id") in ids:
                del el.attrib["id"]
            else:
                ids.add(el.get("id"))
    out = []
    if root.text:
        out.append(_escape(root.text))
    for child in root:
        for el in child.iter():
            href = el.get("href") if el.tag == "a" else None
            if href is not None and (href.lower().startswith("data:") or
                                     (href.startswith("#") and href[1:] not in ids)):
                del el.attrib["href"]
        out.append(etree.tostring(child, method="xml", encoding="unicode"))
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
