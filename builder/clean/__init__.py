"""Cleaning: scraped HTML becomes semantic, safe XHTML.

``clean_article`` runs site rules, then the generic passes of :mod:`.passes` in order, then
flattens the body into blocks, groups figures and captions, finds the credits, and sanitizes
last. It checks that it did not eat the article: when most of the text is gone, it says so.
"""

from __future__ import annotations

from dataclasses import replace

from bs4 import BeautifulSoup
from lxml import etree

from ..model import Article, ImageRef
from ..settings import CleanSettings
from ..text import one_line, scrub
from . import blocks as walk
from . import sites
from .passes import PASSES, Context
from .sanitize import sanitize
from .urls import absolutize, unwrap_proxy


def _text_length(text: str) -> int:
    return len("".join(text.split()))


def clean_article(article: Article, settings: CleanSettings = CleanSettings(),
                  id_prefix: str | None = None) -> Article:
    """``article`` with a clean XHTML body, its figures, and counts of what each pass did.
    ``id_prefix`` makes the ids the body keeps unique in the book (default: the slug)."""
    ctx = Context(base_url=article.base_url, id_prefix=id_prefix or f"{article.slug}-",
                  settings=settings)
    raw = scrub(article.body)  # no control characters or lone surrogates reach the parser
    soup = BeautifulSoup(raw, "lxml")
    before = _text_length(soup.get_text())
    for rule in sites.rules_for(article, soup):
        ctx.stats[f"site rule {rule.name}"] += 1
        sites.apply(rule, soup, ctx.stats)
    for step in PASSES:
        step(soup, ctx)

    blocks = walk.group_figures(walk.linearize(walk.soup_root(soup), ctx), ctx)

    cover = article.cover
    if cover is not None:
        url = unwrap_proxy(absolutize(cover.url, article.base_url))
        cover = ImageRef(url=url, alt=cover.alt)
        for block in blocks:
            if block.kind != "figure":
                continue
            first = block.images[0]
            if first.url.split("#")[0] == url.split("#")[0]:
                # The head image opens the chapter; it is not repeated as the first figure.
                block.images.pop(0)
                cover = ImageRef(url=url, alt=block.caption or cover.alt,
                                 width_hint=first.width_hint, height_hint=first.height_hint)
                ctx.stats["cover not repeated"] += 1
                if not block.images:
                    blocks.remove(block)
                    ctx.stats["figures made"] -= 1
            break

    blocks, credits = walk.split_credits(blocks, ctx)
    figures = tuple(walk.figure_of(b, article.title) for b in blocks if b.kind == "figure")
    urls = [ref.url for fig in figures for ref in fig.images]
    body = walk.restore_images(sanitize(walk.render(blocks, credits, article.title)), urls)

    warnings = list(article.warnings)
    after = _text_length("".join(etree.fromstring(f"<div>{body}</div>").itertext())) \
        if body else 0
    if before > 200 and after < before * 0.5:
        warnings.append(f"{article.source}: cleaning kept {after} of {before} characters of text;"
                        " run 'builder inspect' on it to see what was dropped")
    stats = tuple(sorted((k, v) for k, v in ctx.stats.items() if v))
    return replace(article, body=body, figures=figures, cover=cover, stats=stats,
                   warnings=tuple(warnings), title=one_line(article.title))


__all__ = ["clean_article"]
