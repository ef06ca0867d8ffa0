"""Site rules: what is peculiar to one site, as data. A rule is chosen by the host of the
article's URL or image URLs, or by a hint in its front matter (author or category).

Each rule may name CSS selectors of elements to remove (with their content) and of wrappers to
unwrap before the generic passes run. Generic passes alone must give a good result; a rule only
adds what they cannot know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from ...model import Article
from . import zaker


@dataclass(frozen=True)
class SiteRule:
    name: str
    hosts: tuple[str, ...]  # a host matches when it is one of these or ends with "." + one
    hints: tuple[str, ...]  # front-matter author or category values that name the site
    remove: tuple[str, ...] = ()  # selectors removed with their content
    unwrap: tuple[str, ...] = ()  # selectors whose element goes and whose content stays
    #: URL prefixes of the site's image proxies: what follows a prefix is the real image URL
    #: (for proxies whose shape the generic rule does not know).
    proxies: tuple[str, ...] = ()


RULES = (zaker.RULE_DATA and SiteRule(**zaker.RULE_DATA),)


def _hosts(article: Article, soup: BeautifulSoup) -> set[str]:
    urls = [article.base_url or "", article.cover.url if article.cover else ""]
    for img in soup.find_all("img", limit=50):
        for value in img.attrs.values():
            if isinstance(value, str) and "://" in value:
                urls.append(value)
    hosts = set()
    for url in urls:
        for part in url.split("?"):
            try:
                host = urlsplit(part).hostname
            except ValueError:
                host = None
            if host:
                hosts.add(host.lower())
    return hosts


def rules_for(article: Article, soup: BeautifulSoup) -> list[SiteRule]:
    hosts = _hosts(article, soup)
    hints = {h.lower() for h in (article.author or "", *article.categories) if h}
    chosen = []
    for rule in RULES:
        by_host = any(h == r or h.endswith("." + r) for h in hosts for r in rule.hosts)
        if by_host or hints & {h.lower() for h in rule.hints}:
            chosen.append(rule)
    return chosen


#: ``tag``, ``.class`` or ``tag.class``: found without compiling a CSS selector (soupsieve
#: takes about 0.1 s to compile a rule's selectors the first time).
SIMPLE = re.compile(r"([a-z][a-z0-9]*)?(?:\.([A-Za-z_][\w-]*))?")


def select(soup: BeautifulSoup, selector: str) -> list:
    """The elements ``selector`` matches, in document order."""
    simple = SIMPLE.fullmatch(selector.strip())
    if simple and any(simple.groups()):
        name, cls = simple.groups()
        return soup.find_all(name or True, class_=cls) if cls else soup.find_all(name)
    return soup.select(selector)


def apply(rule: SiteRule, soup: BeautifulSoup, stats) -> int:
    """Apply ``rule`` to ``soup``, counting in ``stats``; return the images it removed."""
    images = 0
    for selector in rule.remove:
        for tag in select(soup, selector):
            if tag.decomposed:  # inside an element removed already
                continue
            stats[f"site {rule.name}: removed {selector}"] += 1
            images += (tag.name == "img") + len(tag.find_all("img"))
            tag.decompose()
    for selector in rule.unwrap:
        for tag in select(soup, selector):
            stats[f"site {rule.name}: unwrapped {selector}"] += 1
            tag.unwrap()
    return images
