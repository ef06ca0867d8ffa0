"""The content-addressed cache of images: ``objects/<sha256>`` and ``urls/<sha256 of url>.json``."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from ..drawn import placeholder
from ..model import Asset, ImageRef
from ..photos import Prepared


class Store:
    """The content-addressed cache: ``objects/<sha256>`` and ``urls/<sha256 of url>.json``."""

    def __init__(self, root: Path):
        self.root = root
        (root / "objects").mkdir(parents=True, exist_ok=True)
        (root / "urls").mkdir(parents=True, exist_ok=True)

    def _url_file(self, url: str) -> Path:
        return self.root / "urls" / (hashlib.sha256(url.encode()).hexdigest() + ".json")

    def object_path(self, sha: str) -> Path:
        return self.root / "objects" / sha

    def _write(self, path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put(self, url: str, prepared: Prepared) -> Asset:
        sha = hashlib.sha256(prepared.data).hexdigest()
        path = self.object_path(sha)
        if not path.exists():
            self._write(path, prepared.data)
        entry = {"sha256": sha, "media_type": prepared.media_type, "width": prepared.width,
                 "height": prepared.height}
        self._write(self._url_file(url), json.dumps(entry, sort_keys=True).encode())
        return Asset(url, sha, path, prepared.media_type, prepared.width, prepared.height,
                     "ok", None, len(prepared.data))

    def recorded(self, url: str) -> str | None:
        """The SHA-256 the cache records for ``url`` when its object is there (not re-read)."""
        try:
            sha = json.loads(self._url_file(url).read_text())["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return sha if isinstance(sha, str) and self.object_path(sha).is_file() else None

    def get(self, url: str, verify: bool = True) -> Asset | None:
        """The cached asset of ``url``, or None when absent or corrupt; ``verify``: its bytes
        are hashed (else only its record is read, for a size that is looked at, not used)."""
        try:
            entry = json.loads(self._url_file(url).read_text())
            path = self.object_path(entry["sha256"])
            size = len(data := path.read_bytes()) if verify else path.stat().st_size
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if verify and hashlib.sha256(data).hexdigest() != entry["sha256"]:
            path.unlink(missing_ok=True)
            return None
        return Asset(url, entry["sha256"], path, entry["media_type"], entry["width"],
                     entry["height"], "cached", None, size)

    def put_placeholder(self, key: str, ref: ImageRef, reason: str) -> Asset:
        prepared = placeholder(ref.width_hint, ref.height_hint, reason)
        sha = hashlib.sha256(prepared.data).hexdigest()
        path = self.object_path(sha)
        if not path.exists():
            self._write(path, prepared.data)
        return Asset(key, sha, path, prepared.media_type, prepared.width, prepared.height,
                     "placeholder", reason, 0)
