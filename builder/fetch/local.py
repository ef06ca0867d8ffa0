"""What the fetch stage needs before it knows whether anything is to be downloaded: why an
image could not be had, and the images read from the article's folder or a ``data:`` URL. No
HTTP library is imported here: a build whose photos are all in the cache never loads one."""

from __future__ import annotations

import base64
import urllib.request
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

from ..errors import BuilderError
from ..model import ImageRef


class FetchFailed(Exception):
    """Why an image could not be had; the message is the report's reason."""

    def __init__(self, reason: str, retry: bool = False, wait: float | None = None):
        super().__init__(reason)
        self.reason, self.retry, self.wait = reason, retry, wait


class NetworkGuardError(BuilderError):
    """The network guard cannot be put under httpx: nothing is fetched."""


def read_local(ref: ImageRef, folder: Path) -> bytes:
    """The bytes of a ``data:`` URL or of a relative path inside the article's ``folder``."""
    url = ref.url
    if url.lower().startswith("data:"):
        header, _, payload = url.partition(",")
        try:
            if header.lower().endswith(";base64"):
                return base64.b64decode(payload, validate=False)
            return unquote_to_bytes(payload)
        except ValueError:
            raise FetchFailed("invalid data: URL") from None
    scheme = urlsplit(url).scheme.lower()
    if scheme:
        raise FetchFailed(f"blocked scheme {scheme}:")
    root = folder.resolve()
    try:
        path = (root / urllib.request.url2pathname(url.split("?")[0].split("#")[0])).resolve()
    except (ValueError, OSError) as exc:  # a NUL byte, a name too long …
        raise FetchFailed(f"invalid path: {exc}") from None
    if not path.is_relative_to(root):
        raise FetchFailed("blocked: path outside the article's folder")
    if path.is_dir():
        raise FetchFailed("a folder, not an image file")
    try:
        return path.read_bytes()
    except OSError:
        raise FetchFailed("file not found") from None
