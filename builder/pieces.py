"""A long article cut into pieces for print, so that no document WeasyPrint lays out (to
measure it, or to write its part of the PDF) is larger than a bound: its time and memory grow
with the article's length, not faster.

An article whose blocks weigh more than :data:`PIECE_WEIGHT` (their markup's bytes, a photo
counted as :data:`PHOTO_WEIGHT`) is cut between top-level blocks — at a heading when one
comes past half the weight — into ``<article>`` elements that follow it: ``ID-2``, ``ID-3``, …
of class ``article any-page continued``. A piece starts on the next page (not the next
right-hand one), with the article's running head set on it (the opener sets it on the first).
Everything else — planning, parts, the join — takes a piece as it takes an article.
"""

from __future__ import annotations

from lxml import etree

#: The most a piece weighs: about 70 A5 pages of CJK text.
PIECE_WEIGHT = 200_000
#: What a photo weighs, as bytes of text (about as much room as half a page of it).
PHOTO_WEIGHT = 2_000
HEADINGS = ("h2", "h3")


def cut_long_articles(articles: list) -> list:
    """Cut each long one of ``articles`` (lxml ``<article>`` elements in their document) in
    place; return the articles and pieces in order."""
    out = []
    for article in articles:
        out.append(article)
        out.extend(_cut(article))
    return out


def _weight(element) -> int:
    return len(etree.tostring(element, encoding="utf-8")) + PHOTO_WEIGHT * sum(
        1 for _ in element.iter("img"))


def _cut(article) -> list:
    blocks = [c for c in article if isinstance(c.tag, str)]
    weights = [_weight(b) for b in blocks]
    if sum(weights) <= PIECE_WEIGHT:
        return []
    groups: list[list] = [[]]
    size = 0
    for block, weight in zip(blocks, weights, strict=True):
        heading = block.tag in HEADINGS
        if groups[-1] and (size + weight > PIECE_WEIGHT or (heading and size > PIECE_WEIGHT // 2)):
            groups.append([])
            size = 0
        groups[-1].append(block)
        size += weight
    title = "".join(article.find(".//h1").itertext()).strip() \
        if article.find(".//h1") is not None else ""
    pieces, after = [], article
    for n, group in enumerate(groups[1:], 2):
        piece = article.makeelement("article", {
            "id": f"{article.get('id')}-{n}", "class": "article any-page continued",
            "style": f'string-set: running "{_css_string(title)}"'})
        for key in ("lang", "dir"):
            if article.get(key):
                piece.set(key, article.get(key))
        for block in group:
            piece.append(block)  # moved, with its tail
        after.addnext(piece)
        piece.tail, after.tail = after.tail, None
        pieces.append(piece)
        after = piece
    return pieces


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
