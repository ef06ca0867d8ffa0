"""The print document's blocks, as the measuring (:mod:`builder.measure`) and the planning
(:mod:`builder.layout`) see them: the ``<article id>`` elements, their element children (the
opener, figures, paragraphs, headings, the credits), what kind each is, and the figure's
photos and the sizes they are set at."""

from __future__ import annotations

from lxml import etree

from .model import PRINT_BASE, PrintRendition

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6", "header"}


def articles_of(root) -> list:
    return [a for a in root.iter("article") if a.get("id")]


def number_blocks(article, taken: set) -> list:
    """The article's blocks, each with an id of its own: one is given to a block that has
    none, or whose id an earlier element of the document has (``taken``: the ids so far)."""
    out = []
    for n, child in enumerate(article, 1):
        if not isinstance(child.tag, str):
            continue
        if not child.get("id") or child.get("id") in taken:
            name, k = f"{article.get('id')}-b{n}", 1
            while name in taken:
                k += 1
                name = f"{article.get('id')}-b{n}-{k}"
            child.set("id", name)
        taken.add(child.get("id"))
        out.append(child)
    return out


def block_kind(element) -> str:
    if element.tag == "figure" and element.find(".//img") is not None:
        return "figure"
    return "heading" if element.tag in HEADINGS else "text"


def photos_of(figure) -> list:
    return list(figure.iter("img"))


def pixels_of(img, rendition: PrintRendition) -> tuple[int, int]:
    src = img.get("src", "")
    asset = rendition.assets.get(src.rsplit("/", 1)[-1]) if src.startswith(PRINT_BASE) else None
    if asset is None or not asset.width or not asset.height:
        return (1200, 800)  # not one of the book's images (it will not load): a 3:2 frame
    return (asset.width, asset.height)


def strip_ids(element) -> None:
    for sub in element.iter():
        if isinstance(sub.tag, str) and "id" in sub.attrib:
            del sub.attrib["id"]


def set_style(element, css: str) -> None:
    old = element.get("style", "").strip().rstrip(";")
    element.set("style", f"{old};{css}" if old else css)


def size_figure(figure, kind: str, sizes, width: float, column: float = 0.0) -> None:
    """Set the figure ``width`` wide, its photos at ``sizes`` (mm), side by side for a row;
    centred on the ``column``, into its margins when wider."""
    imgs = photos_of(figure)
    side = f"{-(width - column) / 2:.2f}mm" if column and width > column + 0.01 else "auto"
    set_style(figure, f"width:{width:.2f}mm;margin-left:{side};margin-right:{side}")
    for img, (w, h) in zip(imgs, sizes, strict=True):
        set_style(img, f"width:{w:.2f}mm;height:{h:.2f}mm;max-width:none;max-height:none")
    if kind == "row" and imgs:
        row = etree.Element("div", {"class": "photos"})
        parent = imgs[0].getparent()
        parent.insert(parent.index(imgs[0]), row)
        for img in imgs:
            tail = img.tail
            img.tail = None
            img.getparent().remove(img)
            row.append(img)
            if tail and tail.strip():
                row.tail = (row.tail or "") + tail


def in_flow(blocks) -> list[tuple[object, str]]:
    """Each block and the id of the block whose margins it has: its own, or for a figure the
    first figure of the article with the same tag, class and number of photos (their margins
    are the stylesheet's, and a figure's height comes from its frames)."""
    first: dict = {}
    out = []
    for block in blocks:
        if block_kind(block) == "figure":
            sign = (block.tag, block.get("class", ""), block.get("style", ""),
                    len(photos_of(block)))
            out.append((block, first.setdefault(sign, block.get("id"))))
        else:
            out.append((block, block.get("id")))
    return out
