"""The last pass: an allow-list sanitizer, then well-formed XHTML."""

from __future__ import annotations

import html
from dataclasses import dataclass

import nh3
from lxml import etree
from lxml import html as lxml_html

from ..text import scrub
from .policy import ATTRIBUTES, DROP_WITH_CONTENT, IMAGE_TOKEN, LINK_SCHEMES, TAGS


@dataclass(frozen=True)
class Sanitized:
    xhtml: str
    text_length: int  # characters of text, white space aside


def sanitize(fragment: str, sources: list[str] | None = None) -> Sanitized:
    """``fragment`` with only allowed tags, attributes and URL schemes, as XHTML; the n-th
    ``<img>`` whose ``src`` is the stand-in ``IMAGE_TOKEN + n`` gets ``sources[n]``."""
    cleaned = nh3.clean(
        scrub(fragment), tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        clean_content_tags=set(DROP_WITH_CONTENT), url_schemes=set(LINK_SCHEMES),
        link_rel=None, strip_comments=True)
    return to_xhtml(cleaned, sources or [])


def to_xhtml(fragment: str, sources: list[str] = ()) -> Sanitized:
    """An HTML fragment serialized as well-formed XHTML (no XML-forbidden characters), with
    its image stand-ins replaced by ``sources`` (in the tree: text that looks like one stays
    text)."""
    if not fragment.strip():
        return Sanitized("", 0)
    parser = lxml_html.HTMLParser(remove_comments=True, huge_tree=True)
    root = lxml_html.fragment_fromstring(scrub(fragment), create_parent="div", parser=parser)
    for img in root.iter("img"):
        token = img.get("src", "")
        n = token[len(IMAGE_TOKEN):] if token.startswith(IMAGE_TOKEN) else ""
        if n.isdigit() and int(n) < len(sources):
            img.set("src", sources[int(n)])
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
    return Sanitized("".join(out), len("".join("".join(root.itertext()).split())))
