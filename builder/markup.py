"""A small lxml helper that the renderer and the kepub writer share: a text of an element (its
``text``, or a child's ``tail``) replaced by text and new elements in its place."""

from __future__ import annotations

from lxml import etree


def put_in_place(parent: etree._Element, before: etree._Element | None, lead: str | None,
                 elements: list[etree._Element]) -> None:
    """Replace ``parent.text`` (when ``before`` is None) or ``before.tail`` by ``lead``, and
    insert ``elements`` right after it, in order."""
    if before is None:
        parent.text = lead
        at = 0
    else:
        before.tail = lead
        at = parent.index(before) + 1
    for k, element in enumerate(elements):
        parent.insert(at + k, element)
