"""The book's settings, made once: the table of defaults, then ``book.toml``, then the flags.

The section dataclasses below are the one documented table of defaults: one ``#:`` comment per
key. :func:`load_settings` builds a frozen :class:`Settings` from them and checks everything a
build could trip over later — every key's type, the choices, the page size and bleed, the theme
folder and its templates, the fonts asked for — before any article is read or any image is
fetched. An error is a :class:`ConfigError` whose location is the file (``book.toml``) or the
flag (``--page-size``) the bad value came from, and whose message names the key and what is
allowed. Stage code reads attributes (``settings.pdf.page_size``), never string pairs.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from . import fonts
from .devices import DEVICES, parse_size
from .errors import BuilderError, ConfigError
from .text import language_tag

FORMATS = ("epub", "pdf", "booklet")
PAGE_SIZES = {"a5": (148.0, 210.0), "a4": (210.0, 297.0), "letter": (215.9, 279.4),
              "square210": (210.0, 210.0)}
MAX_BLEED_MM = 10.0


@dataclass(frozen=True)
class BookSettings:
    #: Title of a book of several articles (one article: the article's own title).
    title: str = ""
    #: Author or editor named on the cover and in the metadata.
    author: str = ""
    #: BCP 47 language of the book; empty: detected from the articles.
    language: str = ""
    #: Publisher named in the metadata and on the title page.
    publisher: str = ""
    #: Order of the articles by file name; unnamed articles follow in date order.
    order: tuple[str, ...] = ()
    #: Output file name without extension; empty: a slug of the title.
    name: str = ""
    #: What to write: any of epub, pdf, booklet (written in that order).
    formats: tuple[str, ...] = FORMATS
    #: The series the book belongs to (e-readers group and order its books by it).
    series: str = ""
    #: The book's number in its series (1, 2, 2.5 …).
    series_index: float = 1.0
    #: Build the book without the articles that cannot be read (each is named in the report
    #: and on stderr), instead of stopping at the first.
    keep_going: bool = False


@dataclass(frozen=True)
class FetchSettings:
    #: URL prefixes to fetch from elsewhere: "http://old/" = "http://mirror/".
    rewrite: dict[str, str] = field(default_factory=dict)
    #: Hosts (host or host:port) that may be fetched although they are local or private.
    allow_hosts: tuple[str, ...] = ()
    #: Downloads at once, in all.
    concurrency: int = 8
    #: Downloads at once from one host.
    per_host: int = 4
    #: Seconds to connect, and between two chunks of a response.
    timeout: float = 10.0
    #: Seconds one image may take in all, retries included.
    deadline: float = 60.0
    #: Attempts for an image after connection errors, timeouts, 429 and 5xx.
    retries: int = 3
    #: Largest image accepted, in bytes after decoding.
    max_bytes: int = 25_000_000


@dataclass(frozen=True)
class ImagesSettings:
    #: Longest edge of an image in the EPUB, in pixels (larger ones are scaled down).
    epub_max_edge: int = 1600
    #: Largest image accepted, in pixels (width × height); beyond: a decompression bomb.
    max_pixels: int = 80_000_000


@dataclass(frozen=True)
class EpubSettings:
    #: The e-readers to make the EPUB for, one book each: generic (NAME.epub), kindle,
    #: kobo (a kepub), koreader, apple (NAME.kindle.epub, NAME.kobo.kepub.epub …).
    device: tuple[str, ...] = ("generic",)
    #: Largest size of each EPUB, e.g. "45MB": photos are re-encoded until it fits (""
    #: the device's own budget: 45MB for kindle, none for the others; "0": no budget).
    max_size: str = ""
    #: Photos in shades of grey, for e-ink screens (it saves little: resolution is the lever).
    grayscale: bool = False


@dataclass(frozen=True)
class PdfSettings:
    #: A5, A4, letter, square210, or WxH in millimetres (e.g. 148x210).
    page_size: str = "A5"
    #: Each article opens on a right-hand page (a blank left page before it if need be).
    open_right: bool = True
    #: Bleed around each page for a print shop, e.g. "3mm" ("0mm": none; at most 10mm).
    bleed: str = "0mm"
    #: Crop marks outside the page (they need a bleed to have room).
    marks: bool = False
    #: Also write NAME-cover.pdf: the cover's outside and inside, with the bleed, for a print
    #: shop that prints the cover on other paper.
    cover_separate: bool = False
    #: Pages per signature of the booklet, a multiple of 4 (0: one saddle-stitched booklet
    #: however long; -1, the default: one booklet up to 64 pages, signatures of 16 beyond).
    signature: int = -1
    #: How far the pages of a booklet's (or signature's) innermost sheet move toward the fold,
    #: e.g. "0.5mm", so that trimming leaves equal margins ("0mm": none; at most 5mm).
    creep: str = "0mm"
    #: A PDF variant: "" (none), "pdf/a-3b" (archiving), "pdf/x-4" (a print shop, RGB photos
    #: ICC-tagged) or "pdf/x-1a" (a print shop, everything CMYK, no transparency).
    variant: str = ""
    #: Body font family (fontconfig name).
    serif_font: str = "Noto Serif CJK SC"
    #: Caption and heading font family (fontconfig name).
    sans_font: str = "Noto Sans CJK SC"

    @property
    def size_mm(self) -> tuple[float, float]:
        """Width and height of the page in millimetres."""
        return page_size_mm(self.page_size)

    @property
    def bleed_mm(self) -> float:
        return bleed_mm(self.bleed)

    @property
    def creep_mm(self) -> float:
        return creep_mm(self.creep)


@dataclass(frozen=True)
class CleanSettings:
    #: Spaces between CJK characters and digits: remove, keep, or add.
    cjk_digit_spacing: str = "remove"
    #: Turn ASCII quotes around CJK text into “ ” and ‘ ’.
    cjk_quotes: bool = True


#: The sections of ``book.toml``, by name.
SECTIONS: dict[str, type] = {"book": BookSettings, "fetch": FetchSettings,
                             "images": ImagesSettings, "epub": EpubSettings, "pdf": PdfSettings,
                             "clean": CleanSettings}

#: Keys whose value is one of a few words.
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("clean", "cjk_digit_spacing"): ("remove", "keep", "add"),
    ("pdf", "variant"): ("", "pdf/a-3b", "pdf/x-4", "pdf/x-1a"),
}
#: List keys whose items are one of a few words.
ITEM_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {("book", "formats"): FORMATS,
                                                        ("epub", "device"): tuple(DEVICES)}
#: The largest value a number may have: beyond, a setting is a mistake (and a timeout of
#: 1e300 seconds overflows the platform's clock).
MAXIMA: dict[tuple[str, str], float] = {
    ("fetch", "concurrency"): 64, ("fetch", "per_host"): 64, ("fetch", "timeout"): 600,
    ("fetch", "deadline"): 3600, ("fetch", "retries"): 20, ("fetch", "max_bytes"): 2_000_000_000,
    ("images", "epub_max_edge"): 20_000, ("images", "max_pixels"): 2_000_000_000,
    ("book", "series_index"): 1_000_000,
}
#: Overrides of these keys add to the file's value instead of replacing it.
ADDITIVE = {("fetch", "allow_hosts"), ("fetch", "rewrite")}


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("builder")) / "images"


#: Most parts of the PDF laid out at once by default (each process holds one part's pages).
MAX_JOBS = 4


def default_jobs() -> int:
    """The CPUs this process may use, at most :data:`MAX_JOBS`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_JOBS, cpus))


@dataclass(frozen=True)
class Settings:
    """Everything one build needs to know; made by :func:`load_settings`."""

    book: BookSettings = BookSettings()
    fetch: FetchSettings = FetchSettings()
    images: ImagesSettings = ImagesSettings()
    epub: EpubSettings = EpubSettings()
    pdf: PdfSettings = PdfSettings()
    clean: CleanSettings = CleanSettings()
    #: Article files or folders.
    paths: tuple[Path, ...] = (Path("seeds"),)
    #: Where the outputs go.
    out_dir: Path = Path("dist")
    #: The image cache.
    cache_dir: Path = field(default_factory=default_cache_dir)
    #: A theme folder whose templates/ and styles/ override the default theme's.
    theme_dir: Path | None = None
    #: Use cached images only.
    offline: bool = False
    #: Fetch every image again.
    refresh: bool = False
    #: Rebuild everything but the downloads: no up-to-date check, no kept work but the images.
    force: bool = False
    #: Parts of the PDF laid out at a time, each in a process of its own.
    jobs: int = field(default_factory=default_jobs)
    #: A degraded result (an image that failed) fails the build.
    strict: bool = False
    #: The book.toml read, if any.
    config_file: Path | None = None

    @property
    def formats(self) -> tuple[str, ...]:
        """The formats to write, in the canonical order."""
        return tuple(f for f in FORMATS if f in self.book.formats)

    @property
    def prints(self) -> bool:
        """Whether a PDF is rendered (for the PDF itself or the booklet)."""
        return "pdf" in self.formats or "booklet" in self.formats


#: The fields of :class:`Settings` that are not sections: what a run is, not what a book is.
RUN_FIELDS = tuple(f.name for f in dataclasses.fields(Settings) if f.name not in SECTIONS)


def defaults(section: str) -> dict[str, Any]:
    """The default value of every key of ``section``."""
    return {k: v for k, v in dataclasses.asdict(SECTIONS[section]()).items()}


# -- values ----------------------------------------------------------------------------------

def page_size_mm(value: str) -> tuple[float, float]:
    """Width and height in mm of a preset (A5, A4, letter, square210) or ``WxH`` in mm."""
    key = value.strip().lower()
    if key in PAGE_SIZES:
        return PAGE_SIZES[key]
    m = re.match(r"^(\d{2,4}(?:\.\d+)?)\s*[x×]\s*(\d{2,4}(?:\.\d+)?)(?:\s*mm)?$", key)
    if m and 50 <= float(m.group(1)) <= 1000 and 50 <= float(m.group(2)) <= 1000:
        return float(m.group(1)), float(m.group(2))
    raise ValueError(f"unknown page size {value!r}: use A5, A4, letter, square210 or WxH in mm "
                     "from 50 to 1000 (e.g. 148x210)")


def _millimetres(value: str, what: str, most: float, example: str) -> float:
    """``value`` such as ``3mm`` (or ``3``) in millimetres, from 0 to ``most``."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(mm)?\s*$", value.lower())
    if not m or float(m.group(1)) > most:
        raise ValueError(f"unknown {what} {value!r}: give millimetres from 0 to {most:g}, "
                         f"e.g. {example}")
    return float(m.group(1))


def bleed_mm(value: str) -> float:
    """A bleed such as ``3mm`` (or ``3``) in millimetres, 0 to 10."""
    return _millimetres(value, "bleed", MAX_BLEED_MM, "3mm")


MAX_CREEP_MM = 5.0


def creep_mm(value: str) -> float:
    """A creep such as ``0.5mm`` (or ``0.5``) in millimetres, 0 to 5."""
    return _millimetres(value, "creep", MAX_CREEP_MM, "0.5mm")


def _signature(value: int) -> int:
    if value % 4 or value > 256:
        raise ValueError(f"{value} pages per signature: give a multiple of 4 up to 256 (16 is "
                         "usual), or 0 for one saddle-stitched booklet")
    return value


#: Checks of one value beyond its type; each raises ValueError with what is allowed.
def _language(value: str) -> str:
    if value and language_tag(value) is None:
        raise ValueError(f"{value!r} is not a language tag (e.g. zh, en, zh-Hant)")
    return value


def _variant(value: str) -> str:
    if value.startswith("pdf/x"):
        from .profiles import ProfileMissing, profile_bytes

        try:
            profile_bytes()
        except ProfileMissing as exc:
            raise ValueError(str(exc)) from None
    return value


VALUE_CHECKS = {("pdf", "variant"): _variant, ("book", "language"): _language,
                ("pdf", "page_size"): page_size_mm,
                ("pdf", "bleed"): bleed_mm, ("epub", "max_size"): parse_size,
                ("pdf", "creep"): creep_mm, ("pdf", "signature"): _signature}
#: Numbers that may be 0 (they are otherwise positive).
ZERO_ALLOWED = {("pdf", "signature")}

_TYPE_WORDS = {str: "text", bool: "true or false", int: "a whole number", float: "a number"}


def _kind(section: str, key: str) -> Any:
    return typing.get_type_hints(SECTIONS[section])[key]


def _check(section: str, key: str, value: Any, where: str) -> Any:
    """``value`` for ``section.key`` in the type of the table, or a ConfigError at ``where``."""
    kind = _kind(section, key)
    name = f"'{section}.{key}'"
    origin = typing.get_origin(kind)
    if origin is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{name} must be a list of text", where)
        allowed = ITEM_CHOICES.get((section, key))
        if allowed:
            bad = [v for v in value if v not in allowed]
            if bad:
                raise ConfigError(f"{name}: unknown value {bad[0]!r} (choose from "
                                  f"{', '.join(allowed)})", where)
            if not value:
                raise ConfigError(f"{name} is empty: name at least one of {', '.join(allowed)}",
                                  where)
        return tuple(dict.fromkeys(value))
    if origin is dict:
        if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise ConfigError(f"{name} must be a table of text = text", where)
        return dict(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{name} must be {_TYPE_WORDS[kind]}, not {value!r}", where)
    if kind is float and not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, not {value!r}", where)
    zero = (section, key) in ZERO_ALLOWED
    if kind in (int, float) and (value < 0 if zero else value <= 0):
        raise ConfigError(f"{name} must be {'0 or more' if zero else 'positive'}, not {value!r}",
                          where)
    most = MAXIMA.get((section, key))
    if most is not None and value > most:
        raise ConfigError(f"{name} must be at most {most:,g}, not {value!r}", where)
    choices = CHOICES.get((section, key))
    if choices and value not in choices:
        shown = ", ".join(repr(c) if not c else c for c in choices)
        raise ConfigError(f"{name} must be one of {shown}, not {value!r}", where)
    check = VALUE_CHECKS.get((section, key))
    if check is not None:
        try:
            check(value)
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}", where) from None
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("config file not found", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config: {exc}", str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", str(path)) from None


# -- the whole ---------------------------------------------------------------------------------

def load_settings(config_file: Path | str | None = None,
                  overrides: dict[str, Any] | None = None,
                  flags: dict[str, str] | None = None) -> Settings:
    """Read ``config_file`` (a book.toml, optional), apply ``overrides`` and check everything.

    ``overrides`` holds dotted settings (``"book.title"``) and the run fields of
    :class:`Settings` (``paths``, ``out_dir`` …); a value of None is no override. An override of
    ``fetch.allow_hosts`` or ``fetch.rewrite`` adds to the file's value. ``flags`` names the
    command-line flag each override came from, for the error messages (``"pdf.page_size":
    "--page-size"``); without it an override's location is ``overrides``.
    """
    values: dict[str, dict[str, Any]] = {s: defaults(s) for s in SECTIONS}
    origins: dict[tuple[str, str], str] = {}
    run: dict[str, Any] = {}
    flags = flags or {}
    if config_file is not None:
        config_file = Path(config_file)
        where = str(config_file)
        for section, table in _read_toml(config_file).items():
            if section not in SECTIONS:
                raise ConfigError(f"unknown section [{section}] (known: "
                                  f"{', '.join(SECTIONS)})", where)
            if not isinstance(table, dict):
                raise ConfigError(f"'{section}' must be a table [{section}]", where)
            for key, value in table.items():
                if key not in values[section]:
                    raise ConfigError(f"unknown key '{section}.{key}' (known: "
                                      f"{', '.join(values[section])})", where)
                values[section][key] = _check(section, key, value, where)
                origins[(section, key)] = where
        run["config_file"] = config_file
    for name, value in (overrides or {}).items():
        if value is None:
            continue
        where = flags.get(name, "overrides")
        if name in RUN_FIELDS:
            run[name] = value
            continue
        section, _, key = name.partition(".")
        if key not in values.get(section, {}):
            raise ConfigError(f"unknown setting '{name}'", where)
        value = _check(section, key, value, where)
        if (section, key) in ADDITIVE:
            current = values[section][key]
            value = ({**current, **value} if isinstance(current, dict)
                     else tuple(dict.fromkeys((*current, *value))))
        values[section][key] = value
        origins[(section, key)] = where
    settings = Settings(**{s: SECTIONS[s](**v) for s, v in values.items()},
                        **_run_fields(run, flags))
    _check_environment(settings, origins, flags.get("theme_dir", "overrides"))
    return settings


def _run_fields(run: dict[str, Any], flags: dict[str, str]) -> dict[str, Any]:
    """The run fields as paths and booleans, checked."""
    out: dict[str, Any] = {}
    for name, value in run.items():
        where = flags.get(name, "overrides")
        if name == "paths":
            items = [value] if isinstance(value, (str, Path)) else value
            if not isinstance(items, (list, tuple)) or \
                    not all(isinstance(p, (str, Path)) for p in items):
                raise ConfigError(f"'paths' must be a path or a list of paths, not {value!r}",
                                  where)
            value = tuple(Path(p) for p in items) or (Path("seeds"),)
        elif name in ("out_dir", "cache_dir", "theme_dir", "config_file"):
            if not isinstance(value, (str, Path)):
                raise ConfigError(f"'{name}' must be a path, not {value!r}", where)
            value = Path(value)
            if name in ("out_dir", "cache_dir") and value.exists() and not value.is_dir():
                raise ConfigError(f"{value} is a file, not a folder", where)
        elif name == "jobs":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
                raise ConfigError(f"'jobs' must be a whole number from 1 to 64, not {value!r}",
                                  where)
        elif not isinstance(value, bool):
            raise ConfigError(f"'{name}' must be true or false, not {value!r}", where)
        out[name] = value
    return out


def _check_environment(settings: Settings, origins: dict[tuple[str, str], str],
                       theme_flag: str) -> None:
    """What the settings name outside themselves: the theme folder and the fonts."""
    if settings.theme_dir is not None:
        from .theme import Theme

        try:
            Theme(settings.theme_dir).check()
        except BuilderError as exc:
            raise ConfigError(f"theme {settings.theme_dir}: {exc.message}", theme_flag) from None
    if settings.prints and fonts.families():
        for key in ("serif_font", "sans_font"):
            family = getattr(settings.pdf, key)
            if family != getattr(PdfSettings(), key) and not fonts.installed(family):
                cjk = ", ".join(fonts.cjk_families()[:6]) or "none"
                raise ConfigError(f"'pdf.{key}': font {family!r} is not installed (fonts "
                                  f"with Chinese: {cjk}); install it or name another",
                                  origins.get(("pdf", key), "overrides"))
