"""A Kobo kepub's markup: each sentence of text in a ``<span class="koboSpan" id="kobo.P.S">``
and the body inside ``<div id="book-columns"><div id="book-inner">``, as Kobo's own books and
kepubify have them — the Kobo renderer finds reading positions, highlights and page turns by
these spans; without them a Kobo opens the book in its older Adobe renderer.

The numbering follows kepubify: a paragraph (``P``) starts at each ``p``, list, table,
heading or caption, and counts on from the spans before it; ``S`` counts the sentences within
it from 1. Text inside ``script``, ``style``, ``pre``, ``svg``, ``math``, ``audio`` and
``video`` is left as it is. A sentence ends after ``.!?`` followed by white space, or after
``。！？`` (with the closing quotes and brackets that follow them) in CJK text.

Images are not wrapped in spans: the EPUB stylesheet sizes the photos of a figure by their
place among its children (``img:nth-last-of-type``), which a span around each would undo.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from .markup import put_in_place

#: Where kepubify starts a new paragraph.
PARAGRAPHS = {"p", "ol", "ul", "table", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption",
              "dl", "blockquote"}
#: What keeps its text as it is.
SKIPPED = {"script", "style", "pre", "audio", "video", "svg", "math"}
#: The Kobo renderer's own rule, which kepubify adds to every file.
STYLE = "div#book-inner { margin-top: 0; margin-bottom: 0; }\n"

_SENTENCE = re.compile(
    r".*?(?:[.!?]['\"”’“…)]*\s+|[。！？!?…]+[」』”’）》〉】\"']*)", re.S)


def sentences(text: str) -> list[str]:
    """``text`` cut after each sentence's end; the pieces join to ``text``."""
    pieces, at = [], 0
    for m in _SENTENCE.finditer(text):
        if m.end() > at:
            pieces.append(text[at:m.end()])
            at = m.end()
    if at < len(text):
        pieces.append(text[at:])
    return pieces


class _Numbers:
    def __init__(self):
        self.paragraph = 0
        self.sentence = 0
        self.new = True

    def next_id(self) -> str:
        if self.new:
            self.paragraph += 1
            self.sentence = 0
            self.new = False
        self.sentence += 1
        return f"kobo.{self.paragraph}.{self.sentence}"


def _spans(text: str, numbers: _Numbers) -> list[etree._Element]:
    out = []
    for piece in sentences(text):
        span = etree.Element("span", {"class": "koboSpan", "id": numbers.next_id()})
        span.text = piece
        out.append(span)
    return out


def _slots(root: etree._Element):
    """In document order: ``("start", e)`` where element ``e`` starts, ``("text", e)`` for its
    text and ``("tail", e)`` for the text after it; nothing inside a skipped element."""
    stack = [(root, False)]
    while stack:
        element, done = stack.pop()
        if done:  # its tail, once its content is through
            yield "tail", element
            continue
        yield "start", element
        stack.append((element, True))
        if element.tag in SKIPPED or not isinstance(element.tag, str):
            continue
        if element.text and element.text.strip():
            yield "text", element
        for child in reversed(element):
            stack.append((child, False))


def _walk(root: etree._Element, numbers: _Numbers) -> None:
    """Every text of ``root`` with real characters in spans, numbered in document order
    (iteratively: an article may nest deeper than Python's recursion)."""
    work = []
    for event, element in _slots(root):
        if event == "start":
            if element.tag in PARAGRAPHS:
                numbers.new = True
        elif event == "text":
            work.append((element, None, _spans(element.text, numbers)))
        elif element is not root and element.tail and element.tail.strip():
            work.append((element.getparent(), element, _spans(element.tail, numbers)))
    for owner, child, spans in work:
        put_in_place(owner, child, None, spans)


def convert(body: str) -> str:
    """The XHTML fragment ``body`` (a document's content) with koboSpans, inside the Kobo
    wrappers."""
    root = _fragment(body)
    root.set("id", "book-inner")
    _walk(root, _Numbers())
    outer = etree.Element("div", {"id": "book-columns"})
    outer.append(root)
    return etree.tostring(outer, encoding="unicode", method="xml")


def _fragment(body: str) -> etree._Element:
    """``body`` in a ``<div>``, parsed as the EPUB writer parses a document's content (HTML,
    so that ``epub:type`` needs no namespace here)."""
    return lxml.html.fragment_fromstring(body, create_parent="div")


def plain(body: str) -> str:
    """``body`` without its koboSpans and wrappers: the text it was made from (for tests and
    for checking a kepub)."""
    root = _fragment(body)
    for span in root.xpath('//span[@class="koboSpan"]'):
        span.tag = "kobo-unwrap"
    etree.strip_tags(root, "kobo-unwrap")
    for div in root.xpath('//div[@id="book-columns" or @id="book-inner"]'):
        div.tag = "kobo-unwrap"
    etree.strip_tags(root, "kobo-unwrap")
    return "".join([root.text or ""] + [etree.tostring(c, encoding="unicode", method="xml")
                                        for c in root])
