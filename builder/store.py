"""The content-addressed cache of images: ``objects/<sha256>`` and ``urls/<sha256 of url>.json``.

What it serves it checks: a record of the right types (:data:`RECORD`), bytes whose SHA-256
is the record's, and bytes that are the image the record says (its format and pixel size, read
from the image's header). An object found sound gets a stamp (:mod:`builder.checked`) that
stands for the check until the file changes, so a warm build does not read every photo to
find it sound. An entry that fails is deleted and listed in :attr:`Store.corrupt`, so that
the fetch gets it again (or, offline, says why it has none).

A cache that cannot be written (a full disk, a read-only folder) does not stop the build: the
images go to a temporary folder of this process instead, removed at its end, and
:attr:`Store.degraded` says why, for a warning.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import checked
from .model import Asset, ImageRef

if TYPE_CHECKING:  # Pillow is imported only where an image is made or read
    from .photos import Prepared

#: The fields of a URL's record and their types.
RECORD = {"sha256": str, "media_type": str, "width": int, "height": int}
_SHA = re.compile(r"^[0-9a-f]{64}$")
#: Pillow's name of each format the store keeps, by media type.
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
_SPARE: list[Path] = []


class Store:
    """The content-addressed cache: ``objects/<sha256>`` and ``urls/<sha256 of url>.json``."""

    def __init__(self, root: Path):
        self.root = root
        self.corrupt: set[str] = set()  # URLs whose entry was found damaged and deleted
        self.degraded: str = ""  # why the cache cannot be written, if it cannot
        self.spare: Path | None = None
        try:
            (root / "objects").mkdir(parents=True, exist_ok=True)
            (root / "urls").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._degrade(exc)

    def _url_file(self, url: str) -> Path:
        return self.root / "urls" / (hashlib.sha256(url.encode()).hexdigest() + ".json")

    def object_path(self, sha: str) -> Path:
        return self.root / "objects" / sha

    def _degrade(self, exc: OSError) -> None:
        if not self.degraded:
            self.degraded = f"the image cache {self.root} cannot be written " \
                f"({(exc.strerror or str(exc)).lower()}): building without caching"

    def _write(self, path: Path, data: bytes) -> bool:
        """``data`` into ``path`` through a temporary file; False when it cannot be written."""
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
            return True
        except BaseException as exc:  # an interrupt too: no half-written file is left
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            if not isinstance(exc, OSError):
                raise
            self._degrade(exc)
            return False

    def _keep(self, sha: str, data: bytes) -> Path:
        """Where the object ``sha`` is: in the cache, or in this process's spare folder when
        the cache cannot take it."""
        path = self.object_path(sha)
        if path.is_file() or self._write(path, data):
            return path
        if self.spare is None:
            self.spare = Path(tempfile.mkdtemp(prefix="builder-images-"))
            _SPARE.append(self.spare)
        spare = self.spare / sha
        if not spare.exists():
            spare.write_bytes(data)  # the system's temporary folder full too: an error
        return spare

    def put(self, url: str, prepared: Prepared) -> Asset:
        sha = hashlib.sha256(prepared.data).hexdigest()
        path = self._keep(sha, prepared.data)
        entry = {"sha256": sha, "media_type": prepared.media_type, "width": prepared.width,
                 "height": prepared.height}
        if path == self.object_path(sha):
            self._write(self._url_file(url), json.dumps(entry, sort_keys=True).encode())
        return Asset(url, sha, path, prepared.media_type, prepared.width, prepared.height,
                     "ok", None, len(prepared.data))

    def derived(self, key: str, make: Callable[[], Prepared]) -> Asset:
        """The image kept under ``key`` (a photo re-encoded, converted, a frame of it); made
        and kept when it is not there, or not sound."""
        return self.get(key) or self.put(key, make())

    def recorded(self, url: str) -> str | None:
        """The SHA-256 the cache records for ``url`` when its object is there (not re-read)."""
        try:
            sha = json.loads(self._url_file(url).read_text())["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return sha if isinstance(sha, str) and _SHA.match(sha) and \
            self.object_path(sha).is_file() else None

    def get(self, url: str, verify: bool = True) -> Asset | None:
        """The cached asset of ``url``, or None when absent or damaged (a damaged entry is
        deleted and ``url`` added to :attr:`corrupt`); ``verify``: its bytes are hashed and
        their image header read, unless they were found sound before and have not changed
        since (:mod:`builder.checked`); else only its record is read, for a size that is
        looked at, not used."""
        return self._get(url, verify, True)

    def known(self, url: str) -> Asset | None:
        """The cached asset of ``url`` when it was found sound before and has not changed
        since: only its record and its stamp read; None for anything else (:meth:`get`
        tells what)."""
        return self._get(url, True, False)

    def _get(self, url: str, verify: bool, read: bool) -> Asset | None:
        record = self._url_file(url)
        try:
            text = record.read_text()
        except OSError:
            return None
        try:
            entry = json.loads(text)
        except ValueError:
            entry = None
        if not _valid(entry):
            return self._damaged(url, record, None) if read else None
        path = self.object_path(entry["sha256"])
        known = checked.stamped(path, entry["sha256"]) if verify else None
        if known is None and verify and not read:
            return None
        try:
            st = known or path.stat()
            data = path.read_bytes() if verify and known is None else b""
        except OSError:
            return None  # the object is gone: a miss, not damage
        if verify and known is None:
            if hashlib.sha256(data).hexdigest() != entry["sha256"] or not _is_image(data, entry):
                return self._damaged(url, record, path)
            checked.stamp(path, entry["sha256"], st)
        return Asset(url, entry["sha256"], path, entry["media_type"], entry["width"],
                     entry["height"], "cached", None, st.st_size)

    def _damaged(self, url: str, record: Path, path: Path | None) -> None:
        self.corrupt.add(url)
        for p in (record, path, path and checked.stamp_path(path)):
            if p is not None:
                try:
                    p.unlink(missing_ok=True)
                except OSError:
                    pass
        return None

    def put_placeholder(self, key: str, ref: ImageRef, reason: str) -> Asset:
        from .drawn import placeholder

        prepared = placeholder(ref.width_hint, ref.height_hint, reason)
        sha = hashlib.sha256(prepared.data).hexdigest()
        path = self._keep(sha, prepared.data)
        return Asset(key, sha, path, prepared.media_type, prepared.width, prepared.height,
                     "placeholder", reason, 0)


def _valid(entry) -> bool:
    return isinstance(entry, dict) and all(
        isinstance(entry.get(k), t) and not isinstance(entry.get(k), bool)
        for k, t in RECORD.items()) and bool(_SHA.match(entry["sha256"])) \
        and entry["width"] >= 0 and entry["height"] >= 0


def _is_image(data: bytes, entry: dict) -> bool:
    """``data`` is the image ``entry`` says: its format and, where recorded, its size (an SVG
    by its opening; a derived entry recorded without a size by its format alone)."""
    media = entry["media_type"]
    if media == "image/svg+xml":
        head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        return b"<svg" in head
    expected = FORMATS.get(media)
    if expected is None:
        return False
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                fmt, size = im.format, im.size
    except Exception:  # noqa: BLE001 - whatever Pillow makes of damaged bytes: not an image
        return False
    if fmt == "MPO":  # a JPEG with more frames (cameras write them)
        fmt = "JPEG"
    return fmt == expected and (not entry["width"] or size == (entry["width"], entry["height"]))


@atexit.register
def _remove_spares() -> None:
    remove_spares()


def remove_spares() -> None:
    """Remove the spare folders of this process (at its end, or when it is interrupted)."""
    while _SPARE:
        shutil.rmtree(_SPARE.pop(), ignore_errors=True)
