"""The book's settings: one table of defaults, read from ``book.toml``, overridden by flags.

Every key of ``book.toml`` lives in a section; an unknown section or key, or a value of the wrong
type, is a :class:`ConfigError` that names the key and the file.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

#: Each section maps its keys to (type, default). ``list`` means a list of strings,
#: ``dict`` a table of strings to strings.
DEFAULTS: dict[str, dict[str, tuple[type, Any]]] = {
    "book": {
        #: Title of a book of several articles (one article: the article's own title).
        "title": (str, ""),
        #: Author or editor named on the cover and in the metadata.
        "author": (str, ""),
        #: BCP 47 language of the book; empty: detected from the articles.
        "language": (str, ""),
        #: Publisher named in the metadata and on the title page.
        "publisher": (str, ""),
        #: Order of the articles by file name; unnamed articles follow in date order.
        "order": (list, []),
        #: Output file name without extension; empty: a slug of the title.
        "name": (str, ""),
        #: What to write: any of epub, pdf, booklet.
        "formats": (list, ["epub", "pdf", "booklet"]),
    },
    "fetch": {
        #: URL prefixes to fetch from elsewhere: "http://old/" = "http://mirror/".
        "rewrite": (dict, {}),
        #: Hosts (host or host:port) that may be fetched although they are local or private.
        "allow_hosts": (list, []),
        #: Downloads at once, in all.
        "concurrency": (int, 8),
        #: Downloads at once from one host.
        "per_host": (int, 4),
        #: Seconds to connect, and between two chunks of a response.
        "timeout": (float, 10.0),
        #: Seconds one image may take in all, retries included.
        "deadline": (float, 60.0),
        #: Attempts for an image after connection errors, timeouts, 429 and 5xx.
        "retries": (int, 3),
        #: Largest image accepted, in bytes after decoding.
        "max_bytes": (int, 25_000_000),
    },
    "images": {
        #: Longest edge of an image in the EPUB, in pixels (larger ones are scaled down).
        "epub_max_edge": (int, 1600),
        #: Largest image accepted, in pixels (width × height); beyond: a decompression bomb.
        "max_pixels": (int, 80_000_000),
    },
    "pdf": {
        #: A5, A4, letter, square210, or WxH in millimetres (e.g. 148x210).
        "page_size": (str, "A5"),
        #: Each article opens on a right-hand page (a blank left page before it if need be).
        "open_right": (bool, True),
        #: Bleed around each page for a print shop, e.g. "3mm" ("0mm": none).
        "bleed": (str, "0mm"),
        #: Crop marks outside the page (they need a bleed to have room).
        "marks": (bool, False),
        #: A PDF variant for archiving or print workflows: "" or "pdf/a-3b".
        "variant": (str, ""),
        #: Body font families, first found wins.
        "serif_font": (str, "Noto Serif CJK SC"),
        #: Caption and heading font families.
        "sans_font": (str, "Noto Sans CJK SC"),
    },
    "clean": {
        #: Spaces between CJK characters and digits: remove, keep, or add.
        "cjk_digit_spacing": (str, "remove"),
        #: Turn ASCII quotes around CJK text into “ ” and ‘ ’.
        "cjk_quotes": (bool, True),
    },
}

CHOICES = {
    ("clean", "cjk_digit_spacing"): {"remove", "keep", "add"},
    ("pdf", "variant"): {"", "pdf/a-3b"},
}
FORMATS = ("epub", "pdf", "booklet")


@dataclass(frozen=True)
class BookConfig:
    """Everything one build needs to know; built by :func:`load_config`."""

    paths: tuple[Path, ...] = (Path("seeds"),)
    out_dir: Path = Path("dist")
    cache_dir: Path | None = None
    theme_dir: Path | None = None
    offline: bool = False
    refresh: bool = False
    strict: bool = False
    config_file: Path | None = None
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get(self, section: str, key: str) -> Any:
        return self.settings[section][key]

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(f for f in FORMATS if f in self.get("book", "formats"))


_FIELDS = {f.name for f in dataclasses.fields(BookConfig)} - {"settings"}


def _check(section: str, key: str, value: Any, where: str) -> Any:
    kind, _ = DEFAULTS[section][key]
    name = f"{section}.{key}"
    if kind is list:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"'{name}' must be a list of strings", where)
        if (section, key) == ("book", "formats"):
            bad = [f for f in value if f not in FORMATS]
            if bad:
                raise ConfigError(f"'book.formats': unknown format {bad[0]!r}", where)
            if not value:
                raise ConfigError("'book.formats' is empty: name at least one of "
                                  + ", ".join(FORMATS), where)
        return list(value)
    if kind is dict:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ConfigError(f"'{name}' must be a table of strings", where)
        return dict(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"'{name}' must be a {kind.__name__}, not {value!r}", where)
    if kind is float and not math.isfinite(value):
        raise ConfigError(f"'{name}' must be a finite number, not {value!r}", where)
    if kind in (int, float) and value <= 0:
        raise ConfigError(f"'{name}' must be positive, not {value!r}", where)
    choices = CHOICES.get((section, key))
    if choices and value not in choices:
        raise ConfigError(f"'{name}' must be one of {', '.join(sorted(choices))}", where)
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


def load_config(path: Path | str | None = None, overrides: dict[str, Any] | None = None
                ) -> BookConfig:
    """Read ``path`` (a book.toml, optional) and apply ``overrides``.

    ``overrides`` holds dotted settings (``"book.title"``) and the build fields of
    :class:`BookConfig` (``paths``, ``out_dir`` …). A list override of ``fetch.allow_hosts``
    adds to the file's list; a dict override of ``fetch.rewrite`` adds to its table.
    """
    settings = {s: {k: (list(d) if isinstance(d, list) else dict(d) if isinstance(d, dict) else d)
                    for k, (_, d) in keys.items()} for s, keys in DEFAULTS.items()}
    fields: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        data = _read_toml(path)
        for section, table in data.items():
            if section not in DEFAULTS:
                raise ConfigError(f"unknown section [{section}]", str(path))
            if not isinstance(table, dict):
                raise ConfigError(f"'{section}' must be a table [{section}]", str(path))
            for key, value in table.items():
                if key not in DEFAULTS[section]:
                    known = ", ".join(DEFAULTS[section])
                    raise ConfigError(f"unknown key '{section}.{key}' (known: {known})", str(path))
                settings[section][key] = _check(section, key, value, str(path))
        fields["config_file"] = path
    for name, value in (overrides or {}).items():
        if value is None:
            continue
        if "." in name:
            section, key = name.split(".", 1)
            if key not in DEFAULTS.get(section, {}):
                raise ConfigError(f"unknown setting '{name}'", "overrides")
            value = _check(section, key, value, f"--{key.replace('_', '-')}")
            current = settings[section][key]
            if isinstance(current, dict):
                value = {**current, **value}
            elif isinstance(current, list) and key == "allow_hosts":
                value = current + [v for v in value if v not in current]
            settings[section][key] = value
        elif name in _FIELDS:
            fields[name] = value
        else:
            raise ConfigError(f"unknown setting '{name}'", "overrides")
    return BookConfig(settings=settings, **fields)


def with_settings(config: BookConfig, **changes: Any) -> BookConfig:
    """A copy of ``config`` with some dotted settings changed (used by tests and the bench)."""
    settings = {s: dict(v) for s, v in config.settings.items()}
    for name, value in changes.items():
        section, key = name.split("__", 1)
        settings[section][key] = value
    return replace(config, settings=settings)
