"""Work kept by the hash of everything it depends on, so that a rebuild re-does only what
changed: a loaded and a cleaned article, the measurements of the print blocks, a rendered part
of the PDF.

A :class:`Memo` is a folder of entries named by their key, a SHA-256 of the inputs (always
including :func:`code_version`, so that a new builder never reads an old builder's work). An
entry is checked when it is read — a JSON record with typed fields, or a dataclass rebuilt
field by field from its type hints (never unpickled: a cache folder is not trusted to run
code) — and one that is unreadable, damaged or of the wrong shape is a miss: the work
is done again and the entry replaced. A memo that cannot be written only costs time. Like the
image cache, the memo is trusted with its content: it is the user's own folder, and an entry
is checked for its shape and its key, not for what a hostile hand could have put in it. A memo
that does not ``reuse`` (``--force``) finds nothing but still keeps what is done, for the next
build; one without a folder keeps nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any


def digest(*parts: bytes | str) -> str:
    """The SHA-256 of ``parts``, each length-prefixed so that no two lists collide."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


#: The libraries whose output the kept work is made of: a new version of any makes it again.
LIBRARIES = ("weasyprint", "pydyf", "pikepdf", "lxml", "beautifulsoup4", "nh3",
             "pillow", "ebooklib", "jinja2", "python-frontmatter", "markdown", "pypinyin")


@functools.cache
def code_version() -> str:
    """The builder's version, the digest of its own source files, the Python and library
    versions it runs with, and the installed fonts: an edited or upgraded builder, or a font
    installed, invalidates what an earlier build kept."""
    from . import __version__
    from .fonts import fingerprint
    from .versions import version

    def have(name: str) -> str:
        return f"{name} {version(name) or '-'}"

    package = Path(__file__).resolve().parent
    files = sorted(package.rglob("*.py"))
    return digest(__version__, sys.version, *(have(n) for n in LIBRARIES), fingerprint(),
                  *(p.relative_to(package).as_posix() for p in files),
                  *(p.read_bytes() for p in files))


def encode(value: Any) -> Any:
    """``value`` (dataclasses, tuples, paths, datetimes and plain values) as JSON data."""
    if dataclasses.is_dataclass(value):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def decode(kind: Any, data: Any) -> Any:
    """The value of type ``kind`` that :func:`encode` gave ``data`` for; ValueError when
    ``data`` does not have that shape."""
    return _decoder(kind)(data)


@functools.cache
def _decoder(kind: Any) -> Callable[[Any], Any]:
    """What decodes data of type ``kind``: worked out once per type (a kept plan is some
    400 values; asking ``typing`` of each one's type made reading it most of its cost)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        optional = type(None) in args
        inner = [a for a in args if a is not type(None)]
        one = _decoder(inner[0]) if len(inner) == 1 else None

        def union(data):
            if data is None and optional:
                return None
            if one is None:
                raise ValueError(f"cannot decode {kind}")
            return one(data)
        return union
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])

            def many(data):
                if not isinstance(data, list):
                    raise ValueError(f"expected a list for {kind}")
                return tuple(item(v) for v in data)
            return many
        items = tuple(_decoder(a) for a in args)

        def fixed(data):
            if not isinstance(data, list):
                raise ValueError(f"expected a list for {kind}")
            if len(items) != len(data):
                raise ValueError(f"expected {len(items)} items for {kind}")
            return tuple(d(v) for d, v in zip(items, data, strict=True))
        return fixed
    if dataclasses.is_dataclass(kind):
        hints, fields = _fields(kind)
        table: list[dict[str, Callable[[Any], Any]]] = []  # made at first use (types nest)

        def made(data):
            if not isinstance(data, dict):
                raise ValueError(f"expected an object for {kind.__name__}")
            if data.keys() != fields:
                raise ValueError(f"fields of {kind.__name__} do not match")
            if not table:
                table.append({name: _decoder(hints[name]) for name in fields})
            decoders = table[0]
            return kind(**{name: decoders[name](data[name]) for name in fields})
        return made
    if kind is Path:
        def path(data):
            if not isinstance(data, str):
                raise ValueError("expected a path")
            return Path(data)
        return path
    if kind is dt.datetime:
        def date(data):
            if not isinstance(data, str):
                raise ValueError("expected a date")
            return dt.datetime.fromisoformat(data)
        return date

    def plain(data):
        if kind in (str, int, float, bool) and _typed(data, kind):
            return data
        raise ValueError(f"expected {kind}, not {type(data).__name__}")
    return plain


@functools.cache
def _fields(kind: type) -> tuple[dict[str, Any], frozenset[str]]:
    """A dataclass's type hints (evaluated once: they are strings here) and the names of the
    fields it is made with."""
    return (typing.get_type_hints(kind),
            frozenset(f.name for f in dataclasses.fields(kind) if f.init))


def _typed(value: Any, kind: type) -> bool:
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    return isinstance(value, (int, float) if kind is float else kind)


class Memo:
    """Entries under ``root`` (None: nothing is kept); with ``reuse`` false, entries are
    written but never read."""

    def __init__(self, root: Path | None, reuse: bool = True):
        self.root, self.reuse = root, reuse

    @classmethod
    def of(cls, settings, kind: str) -> Memo:
        """The kept work of ``kind`` (``articles``, ``layout``, ``parts`` …) in the cache folder
        of ``settings``: with ``--force``, nothing kept is used, and what is done is kept for
        the next build."""
        return cls(settings.cache_dir / kind, reuse=not settings.force)

    def _path(self, key: str, suffix: str) -> Path | None:
        return None if self.root is None else self.root / f"{key}{suffix}"

    def _found(self, key: str, suffix: str) -> Path | None:
        return self._path(key, suffix) if self.reuse else None

    def _write(self, path: Path | None, data: bytes | Path) -> Path | None:
        """``data`` (bytes, or a file's) into ``path`` through a temporary file, so that a
        reader never sees half an entry; ``path`` once written, None if not."""
        if path is None:
            return None
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, Path) and _linked(data, path):
                return path
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                if isinstance(data, Path):
                    with data.open("rb") as src:
                        shutil.copyfileobj(src, fh, 1 << 20)
                else:
                    fh.write(data)
            os.replace(tmp, path)
            return path
        except OSError:  # a memo that cannot be written only costs time
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            return None

    def get_record(self, key: str, fields: dict[str, type]) -> dict | None:
        """The JSON record under ``key`` if it has ``fields`` of their types (a float field
        takes an int too); None if not, or unreadable."""
        path = self._found(key, ".json")
        try:
            found = json.loads(path.read_text(encoding="utf-8")) if path else None
        except (OSError, ValueError):
            return None
        ok = isinstance(found, dict) and all(_typed(found.get(f), t) for f, t in fields.items())
        return found if ok else None

    def put_record(self, key: str, value: dict) -> None:
        self._write(self._path(key, ".json"), json.dumps(value, sort_keys=True).encode())

    def get_value(self, key: str, kind: type) -> Any | None:
        """The dataclass ``kind`` kept under ``key``, rebuilt and type-checked field by field
        from its JSON; None when absent or when anything does not match."""
        path = self._found(key, ".json")
        try:
            return decode(kind, json.loads(path.read_text(encoding="utf-8"))) if path else None
        except (OSError, ValueError, TypeError):
            return None

    def put_value(self, key: str, value: Any) -> None:
        self._write(self._path(key, ".json"),
                    json.dumps(encode(value), sort_keys=True, ensure_ascii=False).encode())

    def file(self, key: str, suffix: str) -> Path | None:
        """The path of the file entry ``key`` when it exists; None if not (or no memo)."""
        path = self._found(key, suffix)
        return path if path is not None and path.is_file() else None

    def put_bytes(self, key: str, suffix: str, data: bytes) -> None:
        """Keep ``data`` as the file entry ``key``."""
        self._write(self._path(key, suffix), data)

    def put_copy(self, key: str, suffix: str, source: Path) -> Path | None:
        """Keep a copy of the file ``source`` (or a second name of it) as the file entry
        ``key``; its path, None if it could not be kept."""
        return self._write(self._path(key, suffix), source)


def _linked(source: Path, path: Path) -> bool:
    """``source`` put at ``path`` as a second name of the same file (no bytes copied: a part
    of the PDF is some 5 MB), through a temporary name; False where it cannot be (another
    file system, one without links), and the file is copied."""
    tmp = path.parent / f".tmp-{secrets.token_hex(8)}"
    try:
        os.link(source, tmp)
    except OSError:
        return False
    try:
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        return False
    return True
