"""Nothing to do, nothing done: the state of the last build, kept in its output folder.

A build that succeeded leaves ``OUT/.builder-state.json`` beside its outputs: the digest of
everything the book depends on that can be read without doing the work (the settings, the
article files, the theme's files, the builder's own code), the image each URL gave (its
SHA-256, as the image cache records it, or a local file's), and each output's size and
modification time. The next build into the same folder first computes the digest again; when
it is the same, every image is still what the cache holds for it, and every output is still
the file that build wrote, there is nothing to do. A book that had to make do with a
placeholder is never up to date: the next build tries the image again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from .memo import code_version, digest
from .model import GENERATED_COVER, Asset, is_local
from .output import check_writable, sweep
from .report import BuildReport
from .settings import FetchSettings, Settings
from .sources import MAX_FILE_BYTES, find_sources
from .store import Store
from .theme import Theme

STATE = ".builder-state.json"


@dataclass(frozen=True)
class Start:
    """Where a build starts: the digest of its inputs, and its report, which says "up to date"
    (with the last build's outputs) when there is nothing to do."""

    inputs: str
    report: BuildReport


def begin(settings: Settings) -> Start:
    """Start the build of ``settings``: its output folder checked (before any article is read
    or image fetched) and cleared of what a killed build left, and the inputs compared with the
    last build's. Imports nothing that the work needs, so that a build with nothing to do
    costs little more than starting Python."""
    report = BuildReport()
    check_writable(settings.out_dir)
    sweep(settings.out_dir)
    with report.timed("up to date"):
        inputs = inputs_digest(settings, find_sources(list(settings.paths)),
                               Theme(settings.theme_dir))
        previous = None if settings.force or settings.refresh else unchanged(settings, inputs)
    if previous is not None:
        report.up_to_date, report.outputs = True, previous
    return Start(inputs, report)


def inputs_digest(settings: Settings, sources: list[Path], theme: Theme) -> str:
    """The digest of the settings, the article files (names and bytes), the theme's files and
    the builder's code. What only decides whether a build fails (``strict``), how and where
    images are had (``[fetch]``, ``offline``: each image is checked against the cache
    instead) or how many processes lay the PDF out (``jobs``) is left out."""
    run = replace(settings, fetch=FetchSettings(), strict=False, offline=False, refresh=False,
                  force=False, jobs=1, config_file=None)
    themed = sorted(p for d in theme.dirs for sub in ("templates", "styles")
                    for p in (d / sub).rglob("*") if p.is_file())
    return digest(code_version(), repr(run), os.environ.get("SOURCE_DATE_EPOCH", ""),
                  *(part for p in [*sources, *themed] for part in (str(p), _file_digest(p))))


def _file_digest(path: Path) -> str:
    """The SHA-256 of a regular file of at most :data:`MAX_FILE_BYTES`, or why not: the build
    that follows reports an unreadable article in its own words."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return "unreadable"
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    except OSError:
        return "unreadable"


def _image_digest(key: str, store: Store) -> str | None:
    """What ``key`` gives now: the image cache's record, or a local file's SHA-256 (its path
    spelt as the fetcher reads it: ``%E5%9B%BE.jpg`` is ``图.jpg``)."""
    if key == GENERATED_COVER:
        return "drawn"
    if not is_local(key):
        return store.recorded(key)
    from urllib.request import url2pathname  # as the fetcher reads it; rarely wanted

    found = _file_digest(Path(url2pathname(key)))
    return None if found == "unreadable" else found


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def unchanged(settings: Settings, key: str) -> dict[str, str] | None:
    """The outputs of the last build into ``settings.out_dir`` (kind → path) when nothing it
    depends on has changed since; None when there is work to do."""
    try:
        state = json.loads((settings.out_dir / STATE).read_text(encoding="utf-8"))
        if state["inputs"] != key:
            return None
        images, outputs = dict(state["images"]), list(state["outputs"])
        if not outputs or not all(isinstance(v, str) for v in images.values()) or \
                not all(isinstance(name, str) and name == Path(name).name
                        for _, name, _ in outputs):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    store = Store(settings.cache_dir)
    if any(_image_digest(k, store) != sha for k, sha in images.items()):
        return None
    found = {}
    for kind, name, stat in outputs:
        path = settings.out_dir / name
        if _stat(path) != stat:
            return None
        found[kind] = str(path)
    return found


def record(tmp: Path, key: str, cache_dir: Path, assets: dict[str, Asset],
           written: dict[str, Path], degraded: bool) -> None:
    """Write the state of this build into the staging folder ``tmp``, beside its outputs
    (``written``: kind → file in ``tmp``), unless the book is ``degraded`` (an image had to
    be replaced, an article left out, a caption stranded: the next build tries again, and
    ``--strict`` fails it). A remote image is recorded as the build had it; a local file as
    it is now."""
    if degraded or any(a.status == "placeholder" for a in assets.values()):
        return
    store = Store(cache_dir)
    images = {k: ("drawn" if k == GENERATED_COVER else
                  assets[k].sha256 if not is_local(k) else _image_digest(k, store))
              for k in sorted(assets)
              if not k.lower().startswith("data:")}  # a data: URL is part of its article file
    if None in images.values():
        return
    state = {"inputs": key, "images": images,
             "outputs": [[kind, p.name, _stat(p)] for kind, p in written.items()]}
    (tmp / STATE).write_text(json.dumps(state, sort_keys=True, indent=1), encoding="utf-8")
