"""Read article files: bytes → text → front matter + body → :class:`Article` with raw HTML.

python-frontmatter finds and splits the front matter; its YAML is read with a loader that
builds only strings, lists and mappings (YAML 1.1 would read ``title: Off`` as ``False`` and
``author: 2022`` as a number) and refuses aliases, which can expand exponentially.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import logging
import re
from pathlib import Path

import frontmatter
import markdown
import yaml
from bs4 import BeautifulSoup

from .errors import SourceError
from .model import Article, ImageRef
from .sources import MARKDOWN_SUFFIXES, MAX_FILE_BYTES, find_sources
from .text import detect_language, language_tag, one_line, scrub, slugify

log = logging.getLogger(__name__)

MAX_DEPTH = 20  # nesting of the front matter; the composer recurses, so a bound keeps it safe
_LEADING_BLANK = re.compile(r"(?:[ \t]*\n)*")
#: A tag, for guessing the language without parsing; ``[^<>]`` keeps the scan linear.
_TAG = re.compile(r"<[^<>]*>")
#: How much of a body the language is guessed from.
LANGUAGE_SAMPLE = 100_000


def _visible_text(body: str) -> str:
    """The text of an HTML body, roughly, in linear time: comments, scripts, styles and
    templates cut out, tags replaced by spaces."""
    low, out, i = body.lower(), [], 0
    while i < len(body):
        starts = [(low.find(opener, i), closer) for opener, closer in
                  (("<!--", "-->"), ("<script", "</script"), ("<style", "</style"),
                   ("<template", "</template"))]
        at, closer = min(((a, c) for a, c in starts if a >= 0), default=(-1, ""))
        if at < 0:
            out.append(body[i:])
            break
        out.append(body[i:at])
        end = low.find(closer, at + 4)
        if end >= 0 and closer != "-->":
            end = low.find(">", end)
        i = len(body) if end < 0 else end + (3 if closer == "-->" else 1)
    return html.unescape(_TAG.sub(" ", "".join(out)))


class _StringLoader(yaml.BaseLoader):
    """Every scalar is the text written; aliases are refused, and so is deep nesting."""

    _depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(None, None, "aliases (*name) are not allowed",
                                       event.start_mark)
        if self._depth >= MAX_DEPTH:
            raise yaml.MarkedYAMLError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                       self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Handler(frontmatter.YAMLHandler):
    r"""python-frontmatter's YAML handler with a boundary that never reaches into the next line
    (``[ \t]`` rather than ``\s``: line numbers hold) and the string-only loader."""

    FM_BOUNDARY = re.compile(r"^-{3,}[ \t]*$", re.MULTILINE)

    def load(self, fm: str, **kwargs):
        return yaml.load(fm, Loader=_StringLoader)  # noqa: S506 - BaseLoader builds strings only


def decode(data: bytes, where: str) -> str:
    """Text from bytes: UTF-8 (BOM or not), UTF-16 with a BOM, else GB18030 (GBK's superset)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise SourceError("not UTF-8 or GB18030 text; save the file as UTF-8",
                          f"{where}:{line}") from None
    log.debug("%s: read as GB18030", where)
    return text


def parse_date(value: str) -> dt.datetime:
    """RFC 2822, ISO 8601 or YYYY-MM-DD; a date without zone is taken as UTC."""
    value = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"unrecognised date {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        parsed.astimezone(dt.UTC)  # the books state it in UTC: it must have a UTC time
    except OverflowError:  # within hours of year 1 or 9999
        raise ValueError(f"date {value!r} is out of range") from None
    return parsed  # in its own zone: the day it prints is the article's local day


def _text(meta: dict, key: str, where: str) -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SourceError(f"invalid front matter: '{key}' must be text", where)
    return one_line(value) or None


def _categories(meta: dict, where: str) -> tuple[str, ...]:
    value = meta.get("categories", meta.get("tags"))
    if value is None:
        return ()
    if isinstance(value, str):
        items = re.split(r"[,，]", value)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = value
    else:
        raise SourceError("invalid front matter: 'categories' must be text or a list of text",
                          where)
    return tuple(dict.fromkeys(c for c in (one_line(i) for i in items) if c))


def _first_heading(body: str) -> str | None:
    soup = BeautifulSoup(body, "lxml")
    for tag in soup.find_all(["h1", "h2", "h3"], limit=1):
        return one_line(tag.get_text(" ")) or None
    return None


def _page_url(value: str | None, where: str, warnings: list[str]) -> str | None:
    """The article's page URL when it is a web address; anything else is left out (it is
    linked from the books' sources page)."""
    if value is None:
        return None
    if re.match(r"^https?://[^\s/?#]+", value, re.I):
        return value
    warnings.append(f"{where}: the article's URL {value[:80]!r} is not an http(s) address; "
                    "it is left out")
    return None


def read_source(path: Path) -> bytes:
    """The bytes of the article file ``path``; SourceError when it cannot be read or is too
    large."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise SourceError(f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB", str(path))
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}", str(path)) from None


def load_article(path: Path, data: bytes | None = None) -> tuple[Article, list[str]]:
    """One article (from ``data``, its file's bytes, when given) and the warnings its reading
    gave."""
    where = str(path)
    warnings: list[str] = []
    if data is None:
        data = read_source(path)
    # Scrubbed before parsing: YAML refuses control characters, which must only be dropped.
    text = scrub(decode(data, where))
    meta: dict = {}
    body = text
    fm = ""
    handler = _Handler()
    blank = _LEADING_BLANK.match(text).end()
    offset = text[:blank].count("\n") + 1  # line of the opening '---'
    if handler.detect(text[blank:]):
        try:
            fm, body = handler.split(text[blank:])
        except ValueError:
            raise SourceError("invalid front matter: no closing '---' line",
                              f"{where}:{offset}") from None
        fm = fm[1:] if fm.startswith("\n") else fm  # the rest of the opening line
        try:
            meta = handler.load(fm)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = offset + 1 + mark.line if mark else offset
            problem = getattr(exc, "problem", None) or str(exc)
            raise SourceError(f"invalid front matter: {one_line(str(problem))}",
                              f"{where}:{line}") from None
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            raise SourceError("invalid front matter: expected 'key: value' lines",
                              f"{where}:{offset + 1}")

    def at(key: str) -> str:
        """``file:line`` of ``key`` in the front matter, for errors about its value."""
        found = re.search(rf"^{re.escape(key)}[ \t]*:", fm, re.MULTILINE)
        line = offset + 1 + fm[: found.start()].count("\n") if found else offset
        return f"{where}:{line}"

    def field(key: str) -> str | None:
        return _text(meta, key, at(key))

    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        body = markdown.markdown(body, extensions=["extra", "sane_lists"])

    title = field("title")
    if not title:
        title = _first_heading(body) or one_line(path.stem) or "Untitled"
        warnings.append(f"{where}: no title in the front matter; using {title!r}")

    date = None
    raw_date = meta.get("date")
    if raw_date not in (None, ""):
        try:
            if not isinstance(raw_date, str):
                raise ValueError("not text")
            date = parse_date(raw_date)
        except ValueError as exc:
            warnings.append(f"{where}: field 'date': {exc}; the date is left unknown")

    cover_url = field("headimg") or field("thumbnail") or field("cover") or field("image")
    lang = field("lang") or field("language")
    if lang and language_tag(lang) is None:
        warnings.append(f"{where}: field 'lang': {lang!r} is not a language tag (e.g. zh, "
                        "en, zh-Hant); the language is guessed from the text")
        lang = ""
    elif lang:
        lang = language_tag(lang)
    if not lang:
        lang = detect_language(title + " " + _visible_text(body[:LANGUAGE_SAMPLE]))

    article = Article(
        source=path,
        slug=slugify(path.stem, fallback="article"),
        title=title,
        date=date,
        author=field("author"),
        categories=_categories(meta, at("categories" if "categories" in meta else "tags")),
        lang=lang,
        cover=ImageRef(url=cover_url) if cover_url else None,
        body=body,
        base_url=_page_url(field("url") or field("source") or field("link"), at("url"),
                           warnings),
    )
    return article, warnings


def load_articles(paths: list[Path]) -> tuple[list[Article], list[str]]:
    """Every article under ``paths`` and the warnings their reading gave."""
    articles, warnings = [], []
    for source in find_sources(paths):
        article, more = load_article(source)
        articles.append(article)
        warnings += more
    return articles, warnings
