"""The cleaning policy: which elements, attributes and URL schemes may stay in an article. The
passes (:mod:`.passes`) and the sanitizer (:mod:`.sanitize`) both read it from here, so that
what one keeps the other does not refuse."""

from __future__ import annotations

import re

#: Elements that may reach an output.
TAGS = frozenset({
    "p", "br", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "img", "a", "em", "strong",
    "b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "mark", "code", "pre", "kbd", "q",
    "cite", "abbr", "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "section", "table", "thead",
    "tbody", "tfoot", "tr", "th", "td", "caption", "hr", "ruby", "rt", "rp", "span",
})
#: Attributes that may reach an output, by element ("*": on every element).
ATTRIBUTES = {
    "*": frozenset({"id", "lang"}),
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt"}),
    "section": frozenset({"class"}),
    "span": frozenset({"class"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
    "ol": frozenset({"start"}),
}
#: Attributes the passes keep on the way although no output has them: an image's size hints,
#: which the image stage reads.
WORKING_ATTRIBUTES = {"img": frozenset({"data-width", "data-height"})}
#: Elements dropped with all they hold, whoever meets them first (the passes, or the
#: sanitizer for what a pass did not know).
DROP_WITH_CONTENT = frozenset({
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math",
    "textarea", "select", "title", "head", "frameset", "applet", "input", "button", "link",
    "meta", "canvas", "video", "audio", "frame", "base",
})
#: Of those, the empty ones: the parser may wrongly nest what follows inside them (libxml2 does
#: so for ``<embed>``), so the passes drop the tag and keep that content.
VOID_DROPPED = frozenset({"embed", "input", "link", "meta", "base", "frame"})
#: Wrappers that go while their content stays: a page-wide ``<form>`` (ASP.NET) holds the
#: article.
UNWRAPPED = frozenset({"form"})

#: Images are written with this stand-in URL plus their number, which the sanitizer keeps
#: whatever the real URL is, and replaces with it at the end. Which URL may be fetched is the
#: image stage's decision, not the sanitizer's: a refused one becomes a placeholder with its
#: reason.
IMAGE_TOKEN = "https://image.invalid/"  # noqa: S105 - a URL, not a secret

#: Schemes a link may keep.
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
#: Schemes that name no image at all: such an ``<img>`` is dropped while cleaning. Other
#: schemes (file:, ftp: …) stay, so that the image stage refuses them with a reason and a
#: placeholder shows where the image was.
NOT_AN_IMAGE = frozenset({"javascript", "vbscript", "about", "mailto", "tel", "blob"})


def allowed_attributes(tag: str, working: bool = False) -> frozenset[str]:
    """The attributes ``tag`` may keep: in an output, or (``working``) between the passes."""
    out = ATTRIBUTES["*"] | ATTRIBUTES.get(tag, frozenset())
    if working:
        out |= WORKING_ATTRIBUTES.get(tag, frozenset())
    return out


def scheme(url: str) -> str:
    """The scheme of ``url`` as a browser reads it (tabs and newlines inside ignored), lower
    case; empty for a relative URL."""
    m = re.match(r"^\s*([a-z][a-z0-9+.-]*):", re.sub(r"[\t\n\r]", "", url), re.I)
    return m.group(1).lower() if m else ""


def link_allowed(href: str) -> bool:
    """Whether a link may keep ``href``: a fragment, a relative URL or an allowed scheme."""
    found = scheme(href)
    return not found or found in LINK_SCHEMES
