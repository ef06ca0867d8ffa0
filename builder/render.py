"""Lay out the book through the theme's templates: :func:`render` turns a :class:`Book` into a
:class:`Rendition` — the EPUB's documents, images and metadata, and the print document with
everything it may load — complete, so that the writers need nothing else.

Article text reaches the templates as data, never as template source. Each article body is
parsed once; the same tree gives the EPUB chapter and the print article, and the one place where
image URLs become asset names is :func:`_set_sources`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lxml import etree

from .markup import put_in_place
from .model import (
    EPUB_IMAGES,
    GENERATED_COVER,
    PRINT_BASE,
    Article,
    Asset,
    Book,
    BookMeta,
    EpubDoc,
    EpubImage,
    EpubRendition,
    ImageDescriptions,
    Labels,
    PrintRendition,
    Rendition,
)
from .text import halt_marks, keep_end
from .theme import Theme

LABELS = {
    "zh": Labels(contents="目录", sources="来源", made_with="本书由 builder 制作。", cover="封面",
                 start="正文", landmarks="导览"),
    "en": Labels(contents="Contents", sources="Sources", made_with="Made with builder.",
                 cover="Cover", start="Start", landmarks="Landmarks"),
}
PRINT_ASSETS = f"{PRINT_BASE}assets/"


def labels(lang: str) -> Labels:
    return LABELS.get(lang.split("-")[0].lower(), LABELS["en"])


def format_date(value: dt.datetime | None, lang: str) -> str:
    if value is None:
        return ""
    if lang.startswith("zh") or lang.startswith("ja"):
        return f"{value.year}年{value.month}月{value.day}日"
    return value.strftime("%Y-%m-%d")


def byline(article: Article) -> str:
    return " · ".join(x for x in (format_date(article.date, article.lang), article.author) if x)


def book_meta(book: Book, modified: dt.datetime) -> BookMeta:
    s = book.settings
    lang = s.book.language or book.articles[0].lang
    authors = [a.author for a in book.articles if a.author]
    author = s.book.author or (authors[0] if len(set(authors)) == 1 else "")
    date = format_date(book.date, lang)
    return BookMeta(
        identifier=book.identifier, title=book.title, lang=lang, author=author,
        publisher=s.book.publisher, date=book.date, date_text=date,
        subtitle=" · ".join(x for x in (date, author) if x),
        keywords=tuple(sorted({c for a in book.articles for c in a.categories})),
        sources=tuple(a.base_url for a in book.articles if a.base_url), modified=modified,
        series=s.book.series, series_index=s.book.series_index)


def _meta_context(meta: BookMeta) -> dict:
    """The ``book`` the templates see."""
    return {"title": meta.title, "author": meta.author, "date": meta.date_text,
            "lang": meta.lang, "publisher": meta.publisher, "subtitle": meta.subtitle,
            "keywords": list(meta.keywords)}


#: The largest EPUB content document a long article is given; beyond, it goes on in another
#: file (e-readers page through a file of several megabytes slowly, some not at all).
MAX_DOC_BYTES = 300_000


# -- article bodies -----------------------------------------------------------------------------

class _Body:
    """An article body parsed once, its second-level headings given ids."""

    def __init__(self, body: str, prefix: str):
        self.root = etree.fromstring(f"<div>{body}</div>") if body else None
        self.sections: list[tuple[str, str]] = []
        self.images: list[tuple[etree._Element, str]] = []  # each <img> and its source URL
        if self.root is None:
            return
        self.images = [(img, img.get("src", "")) for img in self.root.iter("img")]
        for n, heading in enumerate(self.root.iter("h2"), 1):
            if not heading.get("id"):
                heading.set("id", f"{prefix}-s{n}")
            text = " ".join("".join(heading.itertext()).split())
            if text:
                self.sections.append((heading.get("id"), text))

    def serialize(self) -> str:
        if self.root is None:
            return ""
        out = [self.root.text] if self.root.text else []
        out += [etree.tostring(child, encoding="unicode") for child in self.root]
        return "".join(out)

    def chunks(self, limit: int, stem: str) -> list[tuple[str, str]]:
        """The body as (file name, markup) pieces of at most about ``limit`` bytes each, cut
        between top-level blocks (at a heading when one comes past half the limit); one
        piece, ``stem.xhtml``, when it fits. Links into another piece name its file;
        :attr:`file_of` gives the file of each id."""
        self.file_of: dict[str, str] = {}
        whole = self.serialize()
        if self.root is None or len(whole.encode("utf-8")) <= limit:
            return [(f"{stem}.xhtml", whole)]
        groups: list[list[etree._Element]] = [[]]
        size = len((self.root.text or "").encode("utf-8"))
        for child in self.root:
            n = len(etree.tostring(child, encoding="utf-8"))
            heading = child.tag in ("h2", "h3", "section")
            if groups[-1] and (size + n > limit or (heading and size > limit // 2)):
                groups.append([])
                size = 0
            groups[-1].append(child)
            size += n
        names = [f"{stem}.xhtml"] + [f"{stem}-{k}.xhtml" for k in range(2, len(groups) + 1)]
        for name, group in zip(names, groups, strict=True):
            for element in group:
                for node in element.iter():
                    if node.get("id"):
                        self.file_of[node.get("id")] = name
        out = []
        for k, (name, group) in enumerate(zip(names, groups, strict=True)):
            for element in group:
                for link in element.iter("a"):
                    target = link.get("href", "")
                    if target.startswith("#") and self.file_of.get(target[1:], name) != name:
                        link.set("href", self.file_of[target[1:]] + target)
            head = (self.root.text or "") if k == 0 else ""
            out.append((name, head + "".join(etree.tostring(e, encoding="unicode")
                                             for e in group)))
        return out


def _set_sources(body: _Body, name_of) -> None:
    """Every image URL of ``body`` replaced by its asset's name in an output."""
    for img, url in body.images:
        img.set("src", name_of(url))


def _mark_figures(body: _Body) -> None:
    """Give each figure a class by its number of images, for the print layout, and keep the
    end of each heading together (a heading never leaves one character alone on a line)."""
    if body.root is None:
        return
    for fig in body.root.iter("figure"):
        fig.set("class", f"figure-{min(len(fig.findall('img')), 4)}")
    for heading in body.root.iter("h2", "h3", "h4", "h5", "h6"):
        if len(heading) or not heading.text:  # only plain headings: markup inside stays as is
            continue
        head, tail = keep_end(heading.text)
        if head:
            heading.text = head
            keep = etree.SubElement(heading, "span", {"class": "keep"})
            keep.text = tail


NO_HALT = {"pre", "code", "kbd", "samp", "script", "style"}


def _halt(body: _Body) -> None:
    """Meeting CJK punctuation marks of ``body`` wrapped in ``<span class="halt">``, for the
    print stylesheet to set them half-width (see :func:`~builder.text.halt_marks`)."""
    if body.root is None:
        return
    for element in list(body.root.iter()):
        if not isinstance(element.tag, str) or element.tag in NO_HALT or any(
                a.tag in NO_HALT for a in element.iterancestors()):
            continue
        if element.text:
            _wrap(element, None, element.text)
        for child in list(element):
            if child.tail:  # the text after a child element, comment or instruction
                _wrap(element, child, child.tail)


def _wrap(parent, before, text: str) -> None:
    """Put ``text`` (``parent.text`` when ``before`` is None, else ``before.tail``) back with
    its halted marks in spans."""
    runs = halt_marks(text)
    if not any(flag for _, flag in runs):
        return
    pieces: list = []
    for run, flag in runs:
        if flag:
            span = etree.Element("span", {"class": "halt"})
            span.text = run
            pieces.append(span)
        elif pieces and not isinstance(pieces[-1], str):
            pieces[-1].tail = (pieces[-1].tail or "") + run
        else:
            pieces.append(run)
    lead = pieces.pop(0) if isinstance(pieces[0], str) else ""
    put_in_place(parent, before, lead, pieces)


def _namer(book: Book, folder: Path | None, prefix: str, epub: bool = False):
    """Where the images of an article in ``folder`` are found in an output."""
    return lambda url: prefix + book.asset(url, folder, epub).name


def _article_context(article: Article, index: int, body: str, name_of) -> dict:
    cover = None
    # The head image opens the chapter, with the caption the source gives it; when the body
    # itself opens with that photo, the body's figure is the lead.
    if article.cover is not None and not article.cover_in_body:
        cover = {"src": name_of(article.cover.url), "alt": article.cover.alt,
                 "caption": article.cover_caption or ""}
    return {"id": f"a{index:03d}", "title": article.title, "byline": byline(article),
            "lang": article.lang, "cover": cover, "url": article.base_url or "", "body": body}


def _descriptions(book: Book) -> ImageDescriptions:
    """How many images of the reading flow have a text alternative, or a caption."""
    total = with_alt = with_caption = 0
    for article in book.articles:
        shown = [(ref, fig.caption) for fig in article.figures for ref in fig.images]
        if article.cover is not None and not article.cover_in_body:
            shown.insert(0, (article.cover, article.cover_caption))
        for ref, caption in shown:
            total += 1
            with_alt += bool(ref.alt)
            with_caption += bool(not ref.alt and caption)
    return ImageDescriptions(total, with_alt, with_caption)


# -- the outputs --------------------------------------------------------------------------------

def _epub(book: Book, theme: Theme, meta: BookMeta, bodies: list[_Body]) -> EpubRendition:
    words = labels(meta.lang)
    docs = []
    cover_asset = book.asset(book.cover.url, book.cover_folder, epub=True) \
        if book.cover_asset is not None else None
    if cover_asset is not None:
        cover = {"src": EPUB_IMAGES + cover_asset.name, "alt": book.title}
        docs.append(EpubDoc("cover.xhtml", words.cover, meta.lang,
                            theme.render("epub/cover.xhtml.j2", cover=cover), "cover"))
    docs.append(EpubDoc("title.xhtml", book.title, meta.lang,
                        theme.render("epub/title.xhtml.j2", book=_meta_context(meta)), "title"))
    contexts = []
    shown: dict[str, Asset] = {}
    for i, (article, body) in enumerate(zip(book.articles, bodies, strict=True), 1):
        name_of = _namer(book, article.source.parent, EPUB_IMAGES, epub=True)
        _set_sources(body, name_of)
        chunks = body.chunks(MAX_DOC_BYTES, f"chapter-{i:03d}")
        ctx = _article_context(article, i, chunks[0][1], name_of)
        contexts.append({**ctx, "body": body.serialize()} if len(chunks) > 1 else ctx)
        sections = tuple(body.sections) if len(chunks) == 1 else tuple(
            (f"{body.file_of.get(sid, chunks[0][0])}#{sid}", text) for sid, text in body.sections)
        docs.append(EpubDoc(chunks[0][0], article.title, article.lang,
                            theme.render("epub/chapter.xhtml.j2", article=ctx), "chapter",
                            sections))
        for file_name, part in chunks[1:]:  # a long article goes on in files of its own
            docs.append(EpubDoc(file_name, article.title, article.lang,
                                theme.render("epub/continued.xhtml.j2",
                                             article={**ctx, "body": part}), "continued"))
        for ref in article.images:
            asset = book.asset(ref.url, article.source.parent, epub=True)
            shown[EPUB_IMAGES + asset.name] = asset
    docs.append(EpubDoc("colophon.xhtml", words.sources, meta.lang,
                        theme.render("epub/colophon.xhtml.j2", articles=contexts,
                                     labels=words), "colophon"))
    cover_name = None
    if cover_asset is not None:
        cover_name = EPUB_IMAGES + cover_asset.name
        shown[cover_name] = cover_asset
    images = tuple(EpubImage(name, a.path, a.media_type, f"img-{a.sha256[:16]}",
                             name == cover_name) for name, a in sorted(shown.items()))
    return EpubRendition(meta=meta, labels=words, docs=tuple(docs), images=images,
                         stylesheet=theme.stylesheet("epub.css"),
                         has_headings=any("<h2" in a.body for a in book.articles),
                         descriptions=_descriptions(book))


def print_page(book: Book) -> dict:
    """The page box the print templates lay out on, in millimetres (the page planner sets
    each photo's size)."""
    pdf = book.settings.pdf
    width, height = pdf.size_mm
    return {"width": width, "height": height, "bleed": pdf.bleed_mm, "marks": pdf.marks,
            "open_right": pdf.open_right}


def _print(book: Book, theme: Theme, meta: BookMeta, bodies: list[_Body]) -> PrintRendition:
    context = _meta_context(meta)
    context["created"] = meta.modified.strftime("%Y-%m-%dT%H:%M:%SZ")
    context["cover"] = None
    if book.cover is not None and book.cover.url != GENERATED_COVER:  # print sets its own
        name_of = _namer(book, book.cover_folder, PRINT_ASSETS)
        context["cover"] = {"src": name_of(book.cover.url), "alt": book.cover.alt or book.title}
    articles = []
    for i, (article, body) in enumerate(zip(book.articles, bodies, strict=True), 1):
        name_of = _namer(book, article.source.parent, PRINT_ASSETS)
        _set_sources(body, name_of)
        _mark_figures(body)
        _halt(body)
        articles.append(_article_context(article, i, body.serialize(), name_of))
    html = theme.render("pdf/book.html.j2", book=context, articles=articles,
                        page=print_page(book), labels=labels(meta.lang),
                        stylesheet=f"{PRINT_BASE}theme/print.css")
    pdf = book.settings.pdf
    default = type(pdf)()
    return PrintRendition(meta=meta, html=html,
                          assets={a.name: a for a in book.assets.values()},
                          stylesheets=theme.stylesheets(),
                          serif_font="" if pdf.serif_font == default.serif_font else pdf.serif_font,
                          sans_font="" if pdf.sans_font == default.sans_font else pdf.sans_font,
                          variant=pdf.variant)


def _bodies(book: Book) -> list[_Body]:
    return [_Body(a.body, f"a{i:03d}") for i, a in enumerate(book.articles, 1)]


def render(book: Book, theme: Theme, modified: dt.datetime, epub: bool = True,
           prints: bool = True) -> Rendition:
    """The book laid out for the EPUB (when ``epub``) and for print (when ``prints``)."""
    meta = book_meta(book, modified)
    return Rendition(epub=_epub(book, theme, meta, _bodies(book)) if epub else None,
                     print=_print(book, theme, meta, _bodies(book)) if prints else None)


def render_epub(book: Book, theme: Theme, modified: dt.datetime) -> EpubRendition:
    """The book laid out for the EPUB, with the photos of ``book.epub_assets``."""
    return _epub(book, theme, book_meta(book, modified), _bodies(book))
