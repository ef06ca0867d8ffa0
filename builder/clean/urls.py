"""Find the real image URL behind proxies, lazy loading and responsive markup."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

_ABSOLUTE = re.compile(r"^(?:https?:)?//", re.I)
_EMBEDDED = re.compile(r"(https?:/{1,2}[^\s]+)$", re.I)

#: Attributes that lazy-loading scripts put the real image URL in, most specific first.
LAZY_ATTRS = ("data-original", "data-src", "data-lazy-src", "data-actualsrc", "data-url",
              "data-lazyload", "data-echo", "data-full-src", "data-hi-res-src")
LAZY_SRCSET_ATTRS = ("data-srcset", "data-lazy-srcset", "srcset")

_PLACEHOLDER_NAMES = re.compile(
    r"(?:^|[/_.-])(?:blank|spacer|spinner|loading|lazy|placeholder|pixel|transparent|grey|gray|"
    r"default|1x1)(?:[_.-]|\.(?:gif|png|svg)$)", re.I)


def unwrap_proxy(url: str, depth: int = 0) -> str:
    """The URL a proxy wraps: ``https://proxy/?http://real``, ``…?url=<encoded>``,
    ``https://proxy/fetch/https://real``; any other URL as it is."""
    url = url.strip()
    if depth > 5 or not _ABSOLUTE.match(url):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: not a URL we can look inside
        return url
    query = parts.query
    if query:
        for candidate in (unquote(query), query):
            if re.match(r"^https?://", candidate, re.I):
                return unwrap_proxy(candidate + (f"#{parts.fragment}" if parts.fragment else ""),
                                    depth + 1)
        for _, value in parse_qsl(query, keep_blank_values=False):
            if re.match(r"^https?://\S+$", value, re.I):
                return unwrap_proxy(value, depth + 1)
    match = _EMBEDDED.search(unquote(parts.path)[1:]) if parts.path else None
    if match:
        inner = re.sub(r"^(https?):/{1,2}", r"\1://", match.group(1), flags=re.I)
        if query:
            inner += "?" + query
        return unwrap_proxy(inner, depth + 1)
    return url


def largest_candidate(srcset: str) -> str | None:
    """The largest image of a ``srcset`` (by width ``w`` or density ``x`` descriptor)."""
    best, best_size = None, -1.0
    for item in re.split(r",\s+(?=\S)", srcset.strip()):
        bits = item.split()
        if not bits:
            continue
        size = 1.0
        if len(bits) > 1:
            m = re.match(r"^([\d.]+)([wx])$", bits[-1])
            if m:
                size = float(m.group(1)) * (1 if m.group(2) == "w" else 1000)
        if size > best_size:
            best, best_size = bits[0].rstrip(","), size
    return best


def is_placeholder_src(src: str) -> bool:
    """A ``src`` that lazy loading leaves in place of the image: a data: GIF, a spinner."""
    src = src.strip()
    if not src or src in ("#", "about:blank"):
        return True
    if src.lower().startswith("data:"):
        # A tiny inline image is the lazy-loading placeholder; a large one may be real.
        return len(src) < 400 or src.lower().startswith(("data:image/gif", "data:image/svg"))
    try:
        path = urlsplit(src).path
    except ValueError:  # no URL at all: nothing to show
        return True
    return bool(_PLACEHOLDER_NAMES.search(path))


def absolutize(url: str, base: str | None) -> str:
    """``url`` made absolute against the article's page, when that is known."""
    url = url.strip()
    if url.startswith("//"):
        return "https:" + url
    if base and not re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I):
        try:
            return urljoin(base, url)
        except ValueError:
            return url
    return url
