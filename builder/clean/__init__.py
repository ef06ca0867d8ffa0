"""Cleaning: scraped HTML becomes semantic, safe XHTML.

``clean_article`` runs site rules, then the generic passes of :mod:`.passes` in order, then
flattens the body into blocks, groups figures and captions, finds the credits, and sanitizes
last. It checks that it did not eat the article: when most of the text is gone, it says so.
"""

from __future__ import annotations

from dataclasses import replace
from warnings import catch_warnings, simplefilter

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

from ..model import Article, CleanAudit, ImageRef, without_fragment
from ..settings import CleanSettings
from ..text import one_line, scrub
from . import blocks as walk
from . import sites
from .passes import PASSES, Context, image_url
from .sanitize import sanitize


def _text_length(text: str) -> int:
    return len("".join(text.split()))


def _same_image(a: str, b: str) -> bool:
    return without_fragment(a) == without_fragment(b)


def clean_article(article: Article, settings: CleanSettings = CleanSettings(),
                  id_prefix: str | None = None) -> Article:
    """``article`` with a clean XHTML body, its figures, an audit of its images and captions,
    and counts of what each pass did. ``id_prefix`` makes the ids the body keeps unique in the
    book (default: the slug)."""
    ctx = Context(base_url=article.base_url, id_prefix=id_prefix or f"{article.slug}-",
                  settings=settings)
    raw = scrub(article.body)  # no control characters or lone surrogates reach the parser
    with catch_warnings():  # a body that reads like a file name is still a body
        simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(raw, "lxml")
    before = _text_length(soup.get_text())
    in_source = len(soup.find_all("img")) + sum(
        1 for pic in soup.find_all("picture")
        if pic.find("img") is None and pic.find_parent("picture") is None)
    rules = sites.rules_for(article, soup)
    ctx.proxies = tuple(prefix for rule in rules for prefix in rule.proxies)
    for rule in rules:
        ctx.stats[f"site rule {rule.name}"] += 1
        ctx.drop(f"removed by the {rule.name} site rule", sites.apply(rule, soup, ctx.stats))
    for step in PASSES:
        step(soup, ctx)

    blocks = walk.group_figures(walk.linearize(walk.soup_root(soup), ctx), ctx)
    blocks, credits = walk.split_credits(blocks, ctx)

    # The head image: its caption is the one the source gives the photo in the body, and when
    # the body opens with it, that figure is the chapter's lead (it is not shown twice).
    cover, cover_caption, cover_in_body = article.cover, None, False
    if cover is not None:
        url = image_url(cover.url, ctx)
        hints, alt = (None, None), cover.alt
        for n, block in enumerate(blocks):
            found = [r for r in block.images if _same_image(r.url, url)] \
                if block.kind == "figure" else []
            if found:
                cover_caption = block.caption
                cover_in_body = n == 0 and _same_image(block.images[0].url, url)
                hints = (found[0].width_hint, found[0].height_hint)
                alt = walk.useful_alt(found[0].alt, block.caption) or alt
                break
        cover = ImageRef(url=url, alt=alt, width_hint=hints[0], height_hint=hints[1])

    figures = tuple(walk.figure_of(b) for b in blocks if b.kind == "figure")
    urls = [ref.url for fig in figures for ref in fig.images]
    sanitized = sanitize(walk.render(blocks, credits), urls)
    body, after = sanitized.xhtml, sanitized.text_length

    warnings = list(article.warnings)
    if before > 200 and after < before * 0.5:
        warnings.append(f"{article.source}: cleaning kept {after} of {before} characters of text;"
                        " run 'builder inspect' on it to see what was dropped")
    audit = CleanAudit(
        images_in_source=in_source, images_kept=len(urls),
        dropped=tuple(sorted(ctx.dropped.items())), repeated=ctx.stats["repeated images"],
        captions_in_source=ctx.stats["captions attached"] + ctx.stats["captions stranded"],
        captions_attached=ctx.stats["captions attached"],
        captions_stranded=ctx.stats["captions stranded"], text_before=before, text_after=after)
    if audit.unexplained:
        warnings.append(f"{article.source}: {audit.unexplained} image(s) of the source were "
                        "lost while cleaning for no counted reason; please report this article")
    stats = tuple(sorted((k, v) for k, v in ctx.stats.items() if v))
    return replace(article, body=body, figures=figures, cover=cover, stats=stats,
                   warnings=tuple(warnings), title=one_line(article.title),
                   cover_caption=cover_caption, cover_in_body=cover_in_body, audit=audit)


__all__ = ["clean_article"]
