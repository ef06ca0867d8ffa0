"""Scraped bodies nest text, wrappers and images every which way. This module flattens a body
into a list of blocks (paragraphs, headings, images, kept blocks), groups images with the
caption that follows them into figures, finds the credits block, and writes the blocks back out.
The walk is iterative: a thousand nested wrappers cost no recursion."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, NavigableString, Tag

from ..model import Figure, ImageRef
from .passes import Context
from .policy import IMAGE_TOKEN

TRANSPARENT = {"html", "body", "div", "section", "article", "main", "header", "footer", "center",
               "aside", "nav", "span", "font", "a", "figure", "picture", "details", "summary",
               "address", "hgroup", "form", "fieldset", "label", "tbody"}
PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6"}
KEPT = {"ul", "ol", "dl", "table", "pre", "blockquote", "hr"}
INLINE = {"a", "em", "strong", "b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "mark",
          "code", "kbd", "q", "cite", "abbr", "span", "font", "ruby", "rt", "rp", "big", "tt",
          "strike", "time", "var", "samp", "bdi", "bdo", "wbr"}

#: Marks that start a caption below its photos; the mark is dropped, the text kept.
CAPTION_MARKS = re.compile(r"^\s*(?:[↑▲△⬆︿]+|图为|上图(?:[：:]|为)|图[：:])\s*")
#: The marks that only ever open a caption: a paragraph that starts with one and has no photo
#: before it is a stranded caption (``图：`` may also open a credits line, ``图为`` a sentence).
STRANDED_MARKS = re.compile(r"^\s*[↑▲△⬆︿]+\s*")
#: An alt text that says nothing: a file name, or a generic word.
_GENERIC_ALT = re.compile(
    r"^(?:img|image|photo|picture|图片|图|配图|untitled|\S+\.(?:jpe?g|png|gif|webp))$", re.I)
#: Credits lines at the end of an article: ``编辑：张三 李四``, ``新华社…出品``.
CREDIT_ROLE = re.compile(
    r"^(总监制|监制|总策划|策划|统筹|执行|主编|编辑|责任编辑|责编|编审|校对|审核|摄影|摄像|记者|文字|撰文|"
    r"文|图|视频|剪辑|设计|海报|美编|制图|动画|配音|翻译|出品人|制片|来源|作者|通讯员|实习生)\s*[：:]\s*(.+)$")
CREDIT_LINE = re.compile(r"^.{2,30}(出品|制作|联合出品|监制|供稿|发布)$")
_BLANK = re.compile(r"^[\s\u00a0\u3000\u200b\u200c\u200d\ufeff]*$")
#: Markup nested deeper than this inside one kept block is flattened to its text: XML parsers
#: (and reading systems) refuse documents nested more than 256 levels deep.
MAX_DEPTH = 32


@dataclass
class Block:
    kind: str  # p | h2.. | img | kept | figure
    html: str = ""
    text: str = ""
    image: ImageRef | None = None
    images: list[ImageRef] = field(default_factory=list)
    caption: str | None = None
    ids: list[str] = field(default_factory=list)  # link targets that point at this block


def _deeper_than(node: Tag, limit: int) -> bool:
    """Whether ``node`` nests elements more than ``limit`` levels deep (iteratively)."""
    stack = [(node, 1)]
    while stack:
        tag, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in tag.children if isinstance(c, Tag))
    return False


def _ref(img: Tag) -> ImageRef:
    def num(name):
        value = img.get(name)
        return int(value) if isinstance(value, str) and value.isdigit() else None
    alt = img.get("alt") if isinstance(img.get("alt"), str) else ""
    return ImageRef(url=img["src"], alt=" ".join(alt.split()), width_hint=num("data-width"),
                    height_hint=num("data-height"))


def linearize(root: Tag, ctx: Context) -> list[Block]:
    """The body as a flat list of blocks, in reading order."""
    blocks: list[Block] = []
    inline: list[str] = []
    texts: list[str] = []
    ids: list[str] = []  # ids of elements that were flattened, for the next block
    state = {"brs": 0, "kind": "p"}

    def emit(block: Block) -> None:
        block.ids, ids[:] = list(ids), []
        blocks.append(block)

    def note_id(node: Tag) -> None:
        value = node.get("id")
        if isinstance(value, str) and value:
            ids.append(value)

    def flush(kind: str | None = None) -> None:
        while inline and (inline[-1] == "<br/>" or _BLANK.match(inline[-1])):
            inline.pop()  # a line break that ends a paragraph is no line break
        text = "".join(texts)
        content = "".join(inline).strip()
        if content and not _BLANK.match(text):
            emit(Block(kind=kind or state["kind"], html=content, text=text.strip()))
        elif inline or texts:
            ctx.stats["empty paragraphs dropped"] += 1
        inline.clear()
        texts.clear()
        state["brs"] = 0

    def add_text(text: str) -> None:
        if text:
            if not _BLANK.match(text):
                state["brs"] = 0
            inline.append(html.escape(text, quote=False))
            texts.append(text)

    stack: list[object] = list(reversed(list(root.children)))
    while stack:
        node = stack.pop()
        if isinstance(node, tuple):  # ("end", kind) marks the end of a paragraph element
            flush(node[1])
            state["kind"] = "p"
            continue
        if isinstance(node, NavigableString):
            add_text(str(node))
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name
        if name == "img":
            flush()
            emit(Block(kind="img", image=_ref(node)))
            continue
        if name == "br":
            state["brs"] += 1
            if state["brs"] >= 2:
                ctx.stats["line breaks collapsed"] += 1
                flush()
            elif not _BLANK.match("".join(texts)):
                inline.append("<br/>")
            continue
        if name in KEPT:
            flush()
            if not _deeper_than(node, MAX_DEPTH) and node.find("img") is None:
                if ids and not node.get("id"):
                    node["id"] = ids.pop(0)
                emit(Block(kind="kept", html=str(node), text=node.get_text()))
            else:  # a list or quote holding images, or absurdly deep: flatten it
                note_id(node)
                stack.extend(reversed(list(node.children)))
            continue
        if name in INLINE and not _deeper_than(node, MAX_DEPTH) and \
                node.find(["img", *PARAGRAPHS, *KEPT, "div", "section", "figure"]) is None:
            inline.append(str(node))
            texts.append(node.get_text())
            state["brs"] = 0
            continue
        if name in PARAGRAPHS:
            flush()
            kind = "p" if name == "p" else ("h2" if name in ("h1", "h2") else name)
            state["kind"] = kind
            note_id(node)
            stack.append(("end", kind))
            stack.extend(reversed(list(node.children)))
            continue
        if name == "figcaption":
            flush()
            note_id(node)
            stack.append(("end", "figcaption"))
            stack.extend(reversed(list(node.children)))
            continue
        if name in ("li", "dt", "dd", "tr", "td", "th"):
            flush()
            note_id(node)
            stack.append(("end", "p"))
            stack.extend(reversed(list(node.children)))
            continue
        # Wrappers and unknown elements are transparent; a block wrapper ends the paragraph.
        if name not in INLINE:
            ctx.stats["wrappers unwrapped"] += 1
            flush()
            stack.append(("end", "p"))
        note_id(node)
        stack.extend(reversed(list(node.children)))
    flush()
    if ids and blocks:  # targets after the last block point at its end
        blocks[-1].ids += ids
    return blocks


def useful_alt(alt: str, caption: str | None) -> str:
    """The source's alt text when it says something: not empty, not a file name or a generic
    word, not the caption again; else empty (the caption, if any, describes the photo)."""
    alt = " ".join(alt.split())
    if len(alt) <= 1 or _GENERIC_ALT.match(alt):
        return ""
    if caption and " ".join(caption.split()) == alt:
        return ""
    return alt


def _strip_mark(block: Block) -> Block:
    """A stranded caption kept as a paragraph of its text, without its mark."""
    text = CAPTION_MARKS.sub("", block.text, count=1).strip()
    return Block(kind="p", html=html.escape(text, quote=False), text=text, ids=block.ids)


def group_figures(blocks: list[Block], ctx: Context) -> list[Block]:
    """Runs of images become figures; a marked caption right after them belongs to all."""
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if block.kind != "img":
            out.append(block)
            i += 1
            continue
        images, ids = [], []
        while i < len(blocks) and blocks[i].kind == "img":
            images.append(blocks[i].image)
            ids += blocks[i].ids
            i += 1
        caption = None
        if i < len(blocks) and blocks[i].kind in ("p", "figcaption"):
            text = blocks[i].text
            if blocks[i].kind == "figcaption" or CAPTION_MARKS.match(text):
                caption = CAPTION_MARKS.sub("", text, count=1).strip() or None
                ids += blocks[i].ids
                i += 1
                if caption:
                    ctx.stats["captions attached"] += 1
        out.append(Block(kind="figure", images=images, caption=caption, ids=ids))
        ctx.stats["figures made"] += 1
    # A caption with no photo before it stays as text, without its mark, and is counted.
    for n, block in enumerate(out):
        if block.kind == "figcaption" or (block.kind == "p" and STRANDED_MARKS.match(block.text)):
            out[n] = _strip_mark(block)
            ctx.stats["captions stranded"] += 1
    return out


def split_credits(blocks: list[Block], ctx: Context) -> tuple[list[Block], list[tuple[str, str]]]:
    """The credits block at the end of an article, as (role, names) pairs; a line without a
    role (``新华社…出品``) has an empty role."""
    credits: list[tuple[str, str]] = []
    j = len(blocks)
    while j > 0 and blocks[j - 1].kind == "p":
        text = " ".join(blocks[j - 1].text.split())
        m = CREDIT_ROLE.match(text)
        if m and len(text) <= 200:
            credits.append((m.group(1), m.group(2).strip()))
        elif CREDIT_LINE.match(text):
            credits.append(("", text))
        else:
            break
        j -= 1
    if len(credits) < 2:
        return blocks, []
    ctx.stats["credit lines"] += len(credits)
    return blocks[:j], list(reversed(credits))


def figure_of(block: Block) -> Figure:
    return Figure(images=tuple(ImageRef(r.url, useful_alt(r.alt, block.caption), r.width_hint,
                                        r.height_hint) for r in block.images),
                  caption=block.caption)


def render(blocks: list[Block], credits: list[tuple[str, str]]) -> str:
    """The blocks as an HTML fragment (sanitized afterwards); the n-th image of the figures
    has the source ``IMAGE_TOKEN + n``."""
    esc = html.escape
    out: list[str] = []
    n = 0
    for block in blocks:
        # The first target becomes the block's id; any others, empty anchors inside it.
        attr = f' id="{esc(block.ids[0])}"' if block.ids else ""
        anchors = "".join(f'<span id="{esc(i)}"></span>' for i in block.ids[1:])
        if block.kind == "figure":
            imgs = ""
            for ref in block.images:
                alt = useful_alt(ref.alt, block.caption)
                imgs += f'<img src="{IMAGE_TOKEN}{n}" alt="{esc(alt)}"/>'
                n += 1
            cap = f"<figcaption>{esc(block.caption)}</figcaption>" if block.caption else ""
            out.append(f"<figure{attr}>{anchors}{imgs}{cap}</figure>")
        elif block.kind == "kept":
            out.append("".join(f'<span id="{esc(i)}"></span>' for i in block.ids) + block.html)
        else:
            tag = block.kind if block.kind in ("h2", "h3", "h4", "h5", "h6") else "p"
            out.append(f"<{tag}{attr}>{anchors}{block.html}</{tag}>")
    if credits:
        rows = []
        for role, names in credits:
            if role:
                rows.append(f"<dt>{esc(role)}</dt><dd>{esc(names)}</dd>")
        lines = "".join(f"<p>{esc(names)}</p>" for role, names in credits if not role)
        dl = f"<dl>{''.join(rows)}</dl>" if rows else ""
        out.append(f'<section class="credits">{dl}{lines}</section>')
    return "".join(out)


def soup_root(soup: BeautifulSoup) -> Tag:
    return soup.body or soup
