"""Generic cleaning passes on the parsed soup. Each is ``(soup, ctx) -> None`` and counts what it
changed in ``ctx.stats``. They run in the order of :data:`PASSES`; the order matters: images are
resolved before anything drops ``data-*`` attributes, and typography runs on text only."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from ..model import refused_url, without_fragment
from ..settings import CleanSettings
from . import policy
from .typography import tidy
from .urls import (
    LAZY_ATTRS,
    LAZY_SRCSET_ATTRS,
    absolutize,
    is_placeholder_src,
    largest_candidate,
    unwrap_proxy,
)


@dataclass
class Context:
    """What the passes of one article share: its settings and the counts of what they did."""

    base_url: str | None
    id_prefix: str
    settings: CleanSettings = CleanSettings()
    stats: Counter = field(default_factory=Counter)
    #: Images removed, by reason: what the audit shows (nothing else may vanish).
    dropped: Counter = field(default_factory=Counter)
    #: URL prefixes of the chosen site rules' image proxies.
    proxies: tuple[str, ...] = ()

    def drop(self, reason: str, n: int = 1) -> None:
        if n:
            self.dropped[reason] += n


#: What :func:`drop_junk` removes: the policy's dropped elements, but ``<noscript>``, whose
#: images :func:`resolve_noscript` may still need.
JUNK_TAGS = sorted(policy.DROP_WITH_CONTENT - {"noscript"})


def real_image_url(img: Tag, ctx: Context) -> str | None:
    """The URL of the image an ``<img>`` really shows, or None for a placeholder."""
    for attr in LAZY_ATTRS:
        value = img.get(attr)
        if isinstance(value, str) and value.strip() and not is_placeholder_src(value):
            ctx.stats["lazy images resolved"] += 1
            return value
    for attr in LAZY_SRCSET_ATTRS:
        value = img.get(attr)
        if isinstance(value, str) and value.strip():
            best = largest_candidate(value)
            if best and not is_placeholder_src(best):
                if attr != "srcset":
                    ctx.stats["lazy images resolved"] += 1
                return best
    src = img.get("src")
    if isinstance(src, str) and src.strip():
        if not is_placeholder_src(src):
            return src
        ctx.stats["placeholder src ignored"] += 1
    return None


def drop_junk(soup: BeautifulSoup, ctx: Context) -> None:
    """Comments, scripts, styles, embeds and form controls go, content and all; a form's
    content stays."""
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(JUNK_TAGS):
        if tag.parent is None or tag.decomposed:
            continue
        ctx.stats[f"dropped <{tag.name}>"] += 1
        if tag.name in policy.VOID_DROPPED:
            tag.unwrap()
        else:
            ctx.drop(f"inside <{tag.name}>", len(tag.find_all("img")))
            tag.decompose()
    for tag in soup.find_all(sorted(policy.UNWRAPPED)):
        ctx.stats[f"unwrapped <{tag.name}>"] += 1
        tag.unwrap()


def resolve_noscript(soup: BeautifulSoup, ctx: Context) -> None:
    """A ``<noscript>`` image fallback stands in for a lazy image without a real URL."""
    for ns in soup.find_all("noscript"):
        inner = BeautifulSoup(ns.decode_contents(), "lxml")
        imgs = inner.find_all("img")
        prev = ns.find_previous_sibling("img")
        if imgs and (prev is None or real_image_url(prev, Context(None, "")) is None):
            if prev is not None:
                ctx.drop("lazy-load placeholder (its <noscript> image stands in)")
                prev.decompose()
            for img in imgs:
                ns.insert_before(img)
            ctx.stats["noscript images used"] += len(imgs)
        else:
            ctx.drop("<noscript> copy of an image shown", len(ns.find_all("img")))
        ns.decompose()


def resolve_pictures(soup: BeautifulSoup, ctx: Context) -> None:
    """``<picture>``: the largest ``<source>`` candidate when the ``<img>`` has none."""
    for pic in soup.find_all("picture"):
        if pic.decomposed:  # inside a picture already resolved
            continue
        img = pic.find("img")
        best = None
        for source in pic.find_all("source"):
            srcset = source.get("srcset") or source.get("data-srcset")
            if isinstance(srcset, str):
                best = largest_candidate(srcset) or best
        if img is None:
            img = soup.new_tag("img")
            pic.insert_before(img)
        else:
            img.extract()
            pic.insert_before(img)
        if best and real_image_url(img, Context(None, "")) is None:
            img["src"] = best
        ctx.drop("another <img> of the same <picture>", len(pic.find_all("img")))
        pic.decompose()
        ctx.stats["pictures resolved"] += 1


def image_url(url: str, ctx: Context) -> str:
    """The URL an image is fetched by: absolute, unproxied; one that names no image at all
    (``javascript:``, ``about:`` …) becomes a stand-in key, so that it travels no further."""
    absolute = absolutize(url, ctx.base_url)
    unwrapped = unwrap_proxy(absolute, ctx.proxies)
    if unwrapped != absolute:
        ctx.stats["proxy URLs unwrapped"] += 1
    scheme = policy.scheme(unwrapped)
    if scheme in policy.NOT_AN_IMAGE:
        ctx.stats["images with a URL that names no image"] += 1
        return refused_url(unwrapped, scheme)
    if not _parses(unwrapped):
        ctx.stats["images with an unusable URL"] += 1  # the image stage says why
    return unwrapped


def resolve_images(soup: BeautifulSoup, ctx: Context) -> None:
    """Every ``<img>`` gets its real, absolute, unproxied URL in ``src``; only lazy-loading
    placeholders and tracking pixels go (counted). A URL that cannot be fetched stays: the image
    stage refuses it with a reason, and a placeholder shows where the image was."""
    seen: set[str] = set()
    for img in soup.find_all("img"):
        width, height = _int(img.get("width")), _int(img.get("height"))
        if (width is not None and width <= 2) or (height is not None and height <= 2):
            ctx.stats["tracking pixels dropped"] += 1
            ctx.drop("tracking pixel")
            img.decompose()
            continue
        url = real_image_url(img, ctx)
        if url is None:
            ctx.stats["images without a source dropped"] += 1
            ctx.drop("lazy-load placeholder without a real URL")
            img.decompose()
            continue
        unwrapped = image_url(url, ctx)
        key = without_fragment(unwrapped)
        if key in seen:
            ctx.stats["repeated images"] += 1
        seen.add(key)
        ctx.stats["images found"] += 1
        hints = {"data-width": img.get("data-width") or img.get("width"),
                 "data-height": img.get("data-height") or img.get("height")}
        alt = img.get("alt") if isinstance(img.get("alt"), str) else ""
        img.attrs = {"src": unwrapped, "alt": alt}
        for k, v in hints.items():
            if _int(v):
                img[k] = str(_int(v))


def fix_ids(soup: BeautifulSoup, ctx: Context) -> None:
    """Keep only ids that a link points to, prefixed so that they are unique in the book."""
    targets = {a["href"][1:] for a in soup.find_all("a", href=True)
               if isinstance(a["href"], str) and a["href"].startswith("#")}
    for tag in soup.find_all(id=True):
        if tag["id"] in targets:
            tag["id"] = f"{ctx.id_prefix}{_safe_id(tag['id'])}"
        else:
            del tag["id"]
    for a in soup.find_all("a", href=True):
        href = a["href"]
        if isinstance(href, str) and href.startswith("#"):
            if href[1:] in targets and soup.find(id=f"{ctx.id_prefix}{_safe_id(href[1:])}"):
                a["href"] = f"#{ctx.id_prefix}{_safe_id(href[1:])}"
            else:
                del a["href"]


def strip_attributes(soup: BeautifulSoup, ctx: Context) -> None:
    """Layout and script attributes go: class, style, on*, data-*, referrerpolicy …"""
    for tag in soup.find_all(True):
        allowed = policy.allowed_attributes(tag.name, working=True) - {"class"}
        for attr in list(tag.attrs):
            if attr not in allowed:
                ctx.stats["attributes dropped"] += 1
                del tag[attr]
        href = tag.get("href")
        if isinstance(href, str) and not href.startswith("#"):
            # A link leaves the book: made absolute against the article's page, or dropped
            # (a relative link would point inside the EPUB at a file that is not there).
            href = absolutize(href, ctx.base_url)
            if policy.link_allowed(href) and policy.scheme(href):
                tag["href"] = href
            else:
                del tag["href"]


def typography(soup: BeautifulSoup, ctx: Context) -> None:
    """CJK quotes and spacing on every text node outside code."""
    for node in list(soup.find_all(string=True)):
        if not isinstance(node, NavigableString) or isinstance(node, Comment):
            continue
        if node.find_parent(["pre", "code", "kbd"]):
            continue
        fixed, n = tidy(str(node), ctx.settings.cjk_quotes, ctx.settings.cjk_digit_spacing)
        if n:
            ctx.stats["typography fixes"] += n
            node.replace_with(fixed)


#: The soup passes, in order (blocks, credits and sanitizing follow in clean_article).
PASSES = (drop_junk, resolve_noscript, resolve_pictures, resolve_images, fix_ids,
          strip_attributes, typography)



def _parses(url: str) -> bool:
    try:
        urlsplit(url).port  # noqa: B018 - raises on a bad host or port
    except ValueError:
        return False
    return True


def _int(value) -> int | None:
    if isinstance(value, str):
        m = re.match(r"^\s*(\d{1,6})", value)
        return int(m.group(1)) if m else None
    return None


def _safe_id(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", value) or "x"
