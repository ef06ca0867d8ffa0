"""The last pass: an allow-list sanitizer, then well-formed XHTML."""

from __future__ import annotations

import html

import nh3
from lxml import etree
from lxml import html as lxml_html

from ..text import scrub
from .policy import ATTRIBUTES, DROP_WITH_CONTENT, LINK_SCHEMES, TAGS


def sanitize(fragment: str) -> str:
    """``fragment`` with only allowed tags, attributes and URL schemes, as XHTML."""
    cleaned = nh3.clean(
        scrub(fragment), tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        clean_content_tags=set(DROP_WITH_CONTENT), url_schemes=set(LINK_SCHEMES),
        link_rel=None, strip_comments=True)
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
        out.append(html.escape(root.text, quote=False))
    for child in root:
        for el in child.iter():
            href = el.get("href") if el.tag == "a" else None
            if href is not None and href.startswith("#") and href[1:] not in ids:
                del el.attrib["href"]
        out.append(etree.tostring(child, method="xml", encoding="unicode"))
    return "".join(out)
