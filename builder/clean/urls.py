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


#: Query parameters that a proxy carries its whole target in (``?url=<encoded image URL>``).
PROXY_PARAMS = frozenset({"url", "u", "src", "image", "img", "imgurl", "image_url", "target",
                          "file", "uri", "link"})
_IMAGE_PATH = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|heic|heif|bmp|tiff?|svg)$", re.I)


def _whole_url(value: str) -> str | None:
    """``value`` when it is one whole absolute http(s) URL (percent-encoded or not)."""
    for candidate in (value, unquote(value)):
        if re.match(r"^https?://[^\s/?#]+\S*$", candidate, re.I):
            return candidate
    return None


def unwrap_proxy(url: str, prefixes: tuple[str, ...] = (), depth: int = 0) -> str:
    """The URL a proxy wraps, when ``url`` has a proxy's shape; any other URL as it is.

    A proxy's shape: the whole query is the target (``https://proxy/?http://real/a.jpg``);
    the only query parameter, named like ``url``, is the whole target and the proxy's own path
    is no image (``https://proxy/fetch?url=https%3A%2F%2Freal%2Fa.jpg``); the path carries the
    target (``https://proxy/fetch/https://real/a.jpg``); or ``url`` starts with one of
    ``prefixes`` (a site rule's proxies, as data) and the rest is the target. A parameter that
    merely contains a URL (``photo.jpg?ref=https://news.example/a.html``) is no proxy.
    """
    url = url.strip()
    if depth > 5 or not _ABSOLUTE.match(url):
        return url
    for prefix in prefixes:
        if url.startswith(prefix):
            inner = _whole_url(url[len(prefix):])
            if inner:
                return unwrap_proxy(inner, prefixes, depth + 1)
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: not a URL we can look inside
        return url
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    if parts.query and not _IMAGE_PATH.search(parts.path):
        inner = _whole_url(parts.query)
        if inner:
            return unwrap_proxy(inner + fragment, prefixes, depth + 1)
        params = parse_qsl(parts.query, keep_blank_values=True)
        if len(params) == 1 and params[0][0].lower() in PROXY_PARAMS:
            inner = _whole_url(params[0][1])
            if inner:
                return unwrap_proxy(inner, prefixes, depth + 1)
    match = _EMBEDDED.search(unquote(parts.path)[1:]) if parts.path else None
    if match:
        inner = re.sub(r"^(https?):/{1,2}", r"\1://", match.group(1), flags=re.I)
        if parts.query:
            inner += "?" + parts.query
        return unwrap_proxy(inner, prefixes, depth + 1)
    return url


def srcset_candidates(srcset: str) -> list[tuple[str, str | None]]:
    """The (URL, descriptor) pairs of a ``srcset``, read as the HTML standard does: a URL runs
    to the next white space (commas inside it stay; trailing ones end the candidate), its
    descriptors to the next comma."""
    out: list[tuple[str, str | None]] = []
    i, n = 0, len(srcset)
    while i < n:
        while i < n and (srcset[i].isspace() or srcset[i] == ","):
            i += 1
        start = i
        while i < n and not srcset[i].isspace():
            i += 1
        url = srcset[start:i]
        if not url:
            break
        if url.endswith(","):
            out.append((url.rstrip(","), None))
            continue
        start = i
        depth = 0
        while i < n and (srcset[i] != "," or depth):
            depth += {"(": 1, ")": -1}.get(srcset[i], 0)
            i += 1
        descriptor = srcset[start:i].strip() or None
        out.append((url, descriptor))
        i += 1
    return out


def largest_candidate(srcset: str) -> str | None:
    """The largest image of a ``srcset``: the widest by its ``w`` descriptor when any has one,
    else the densest by ``x`` (no descriptor is ``1x``), whatever their order."""
    widths, densities = [], []
    for url, descriptor in srcset_candidates(srcset):
        m = re.match(r"^(\d+(?:\.\d+)?)([wx])$", (descriptor or "1x").split()[-1].lower())
        if m is None:
            continue
        (widths if m.group(2) == "w" else densities).append((float(m.group(1)), url))
    best = max(widths or densities, key=lambda pair: pair[0], default=None)
    return best[1] if best else None


def is_placeholder_src(src: str) -> bool:
    """A ``src`` that lazy loading leaves in place of the image: a data: GIF, a spinner."""
    src = src.strip()
    if not src or src in ("#", "about:blank"):
        return True
    if src.lower().startswith("data:"):
        # A tiny inline image is the lazy-loading placeholder; a large one may be real (the
        # image stage then takes it, or refuses it with a reason and a placeholder).
        return len(src) < 400
    try:
        path = urlsplit(src).path
    except ValueError:  # a broken URL is no stand-in: the image stage refuses it with a reason
        return False
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
