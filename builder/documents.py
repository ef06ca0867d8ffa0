"""The documents WeasyPrint lays out, prepared here for less of its time.

A build lays out some forty documents (the measuring documents, the book's parts, its front),
and WeasyPrint would parse each one's HTML with its pure-Python HTML5 parser and each of the
theme's stylesheets again for every one: about a tenth of the print outputs' time, profiled.
Instead:

* **The tree** is parsed by lxml (the builder's documents are lxml's serializations to begin
  with) and handed over through the C XML parser of the standard library, as the element tree
  WeasyPrint's parser would have built. A document that does not go over as XML (an attribute
  with a prefix, a character XML does not allow) is parsed by WeasyPrint, as before.
* **The theme's stylesheets** that the document links first in its head are given to WeasyPrint
  parsed, each once per process, as *user* stylesheets ahead of the rest. Their place in the
  cascade is the one they had: every author rule that came after them still wins over them (an
  author rule is only the document's own ``<style>`` and ``style`` attributes), and the
  builder's own stylesheets (the fonts the settings name, the pages' numbering) still come
  after them. Only an ``!important`` of the document's own would be weighed otherwise (a
  user's ``!important`` wins over an author's): a document that has one keeps its links as
  they are. A stylesheet that names a URL is parsed again for each document, so that what it
  loads goes through that document's fetcher.

The pages come out byte for byte as they did from WeasyPrint's own parsing (tested).
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET  # noqa: N817 - the name WeasyPrint's own parser uses

import lxml.html
from lxml import etree

from .libraries import by_soname

with by_soname():
    import cssselect2
    from weasyprint import CSS, HTML


class _Tree(HTML):
    """WeasyPrint's document from an element tree already parsed (what ``HTML.__init__`` sets
    after its own parse, in the WeasyPrint versions this builder takes)."""

    def __init__(self, root: ET.Element, base_url: str, url_fetcher):  # noqa: D107
        self.base_url = base_url
        self.url_fetcher = url_fetcher
        self.media_type = "print"
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(
            root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element


def document(html: str, base_url: str, fetcher, sheets: dict[str, str], prefix: str,
             fonts) -> tuple[HTML, list[CSS]]:
    """``html`` as WeasyPrint's document, and the stylesheets it linked first (those under
    ``prefix``, by name in ``sheets``), parsed, to be laid out ahead of any other user
    stylesheet. ``fonts``: the font configuration the stylesheets register faces with."""
    root = lxml.html.document_fromstring(html)
    linked = []
    head = root.find("head")
    for element in list(head if head is not None and "!important" not in html else []):
        if element.tag == "link" and "stylesheet" in (element.get("rel") or "").split():
            name = (element.get("href") or "")[len(prefix):]
            if (element.get("href") or "").startswith(prefix) and name in sheets \
                    and not element.get("media"):
                linked.append(_sheet(prefix + name, sheets[name], fetcher, fonts))
                head.remove(element)
                continue
        if element.tag in ("link", "style"):
            break  # what follows keeps its place among the author's rules
    try:  # lxml's serialization of one element: no DTD, so no entity of its own to expand
        tree = ET.fromstring(etree.tostring(root, method="xml", encoding="unicode"))  # noqa: S314
    except (ET.ParseError, ValueError):
        return HTML(string=lxml.html.tostring(root, encoding="unicode"), base_url=base_url,
                    url_fetcher=fetcher), linked
    return _Tree(tree, base_url, fetcher), linked


def _sheet(url: str, text: str, fetcher, fonts) -> CSS:
    if "url(" in text or "@import" in text:
        return CSS(string=text, base_url=url, url_fetcher=fetcher, font_config=fonts)
    return _parsed(url, text, fonts)


@functools.lru_cache(maxsize=32)
def _parsed(url: str, text: str, fonts) -> CSS:
    """A stylesheet that loads nothing, parsed once per process (and font configuration)."""
    return CSS(string=text, base_url=url, font_config=fonts)
