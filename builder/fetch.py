"""Download every image once, safely, into a content-addressed store.

One httpx client serves the whole build: a global and a per-host limit on concurrent
downloads, connection reuse, HTTP/2 where offered, proxy variables honoured. Every request is
bounded: connect and read timeouts, a total deadline per image (httpx's read timeout restarts
with every chunk, so a trickling server needs a deadline of our own), a size cap on the decoded
bytes, at most five redirects with every hop checked again, retries with backoff for errors that
can pass. What may be fetched: http(s) and data: URLs and relative paths inside the article's
folder; no local, private, link-local, multicast or unspecified address unless allowed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable
from urllib.parse import unquote_to_bytes, urljoin, urlsplit

import httpx

from . import __version__
from .images import ImageRejected, Prepared, placeholder, prepare
from .model import Asset, ImageRef, asset_key
from .net import BlockedAddress, FetchFailed, Guard, deadline, install

MAX_REDIRECTS = 5
USER_AGENT = f"builder/{__version__} (+ebook builder)"
Progress = Callable[..., None]


@dataclass(frozen=True)
class Request:
    """One image to get: its URL as the article names it, and the article's folder."""

    ref: ImageRef
    folder: Path


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

    def get(self, url: str) -> Asset | None:
        """The cached asset of ``url``, or None when absent or corrupt."""
        try:
            entry = json.loads(self._url_file(url).read_text())
            path = self.object_path(entry["sha256"])
            data = path.read_bytes()
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            path.unlink(missing_ok=True)
            return None
        return Asset(url, entry["sha256"], path, entry["media_type"], entry["width"],
                     entry["height"], "cached", None, len(data))

    def put_placeholder(self, key: str, ref: ImageRef, reason: str) -> Asset:
        prepared = placeholder(ref.width_hint, ref.height_hint, reason)
        sha = hashlib.sha256(prepared.data).hexdigest()
        path = self.object_path(sha)
        if not path.exists():
            self._write(path, prepared.data)
        return Asset(key, sha, path, prepared.media_type, prepared.width, prepared.height,
                     "placeholder", reason, 0)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class Fetcher:
    """Downloads with the limits of the ``[fetch]`` settings."""

    def __init__(self, settings: dict, transport: httpx.BaseTransport | None = None):
        self.s = settings
        self.guard = Guard(settings["allow_hosts"])
        self.rewrite = sorted(settings["rewrite"].items(), key=lambda kv: -len(kv[0]))
        timeout = httpx.Timeout(settings["timeout"], connect=settings["timeout"])
        limits = httpx.Limits(max_connections=settings["concurrency"] * 2,
                              max_keepalive_connections=settings["concurrency"])
        self.client = httpx.Client(http2=True, timeout=timeout, limits=limits, trust_env=True,
                                   follow_redirects=False, transport=transport,
                                   headers={"User-Agent": USER_AGENT, "Accept": "image/*,*/*;q=0.5"})
        if transport is None:
            install(self.client, self.guard)
        self._hosts: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def rewritten(self, url: str) -> str:
        for old, new in self.rewrite:
            if url.startswith(old):
                return new + url[len(old):]
        return url

    def _host_slot(self, url: str) -> threading.Semaphore:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            return self._hosts.setdefault(host, threading.Semaphore(self.s["per_host"]))

    def get(self, url: str, on_bytes: Callable[[int], None] = lambda n: None) -> bytes:
        """The body of ``url`` after retries, or :class:`FetchFailed`."""
        until = time.monotonic() + self.s["deadline"]
        attempts = max(1, self.s["retries"])
        for attempt in range(attempts):
            try:
                with self._host_slot(url), deadline(until):
                    return self._get_once(url, until, on_bytes)
            except FetchFailed as exc:
                left = until - time.monotonic()
                if not exc.retry or attempt == attempts - 1 or left <= 0:
                    raise
                wait = exc.wait if exc.wait is not None else 0.25 * 2 ** attempt
                wait = min(wait + random.uniform(0, 0.1), left)  # noqa: S311 - jitter
                if wait >= left:
                    raise
                time.sleep(wait)
        raise FetchFailed("no attempt made")  # pragma: no cover

    def _get_once(self, url: str, deadline: float, on_bytes) -> bytes:
        for _hop in range(MAX_REDIRECTS + 1):
            self.guard.check(url)
            left = deadline - time.monotonic()
            if left <= 0:
                raise FetchFailed("timeout: deadline passed")
            timeout = httpx.Timeout(min(self.s["timeout"], left))
            try:
                with self.client.stream("GET", url, timeout=timeout) as resp:
                    if resp.is_redirect:
                        location = resp.headers.get("location")
                        if not location:
                            raise FetchFailed(f"http {resp.status_code} without Location")
                        url = urljoin(str(resp.url), location)
                        continue
                    if resp.status_code == 429 or resp.status_code >= 500:
                        raise FetchFailed(f"http {resp.status_code}", retry=True,
                                          wait=_retry_after(resp.headers.get("retry-after")))
                    if resp.status_code >= 400:
                        raise FetchFailed(f"http {resp.status_code} {resp.reason_phrase}".strip())
                    return self._read(resp, deadline, on_bytes)
            except httpx.TimeoutException:
                raise FetchFailed("timeout", retry=True) from None
            except httpx.InvalidURL as exc:  # a control character, too long …
                raise FetchFailed(f"invalid URL: {exc}"[:200]) from None
            except (httpx.TransportError, httpx.DecodingError) as exc:
                if isinstance(exc.__cause__, BlockedAddress):
                    raise FetchFailed(str(exc.__cause__)) from None
                if "cannot resolve" in str(exc):
                    raise FetchFailed(str(exc)[:200]) from None
                if "complete message body" in str(exc):  # h11: the peer closed mid-body
                    raise FetchFailed(f"truncated: {exc}"[:200], retry=True) from None
                raise FetchFailed(f"connection error: {type(exc).__name__}: {exc}"[:200],
                                  retry=True) from None
        raise FetchFailed(f"too many redirects (more than {MAX_REDIRECTS})")

    def _read(self, resp: httpx.Response, deadline: float, on_bytes) -> bytes:
        cap = self.s["max_bytes"]
        length = resp.headers.get("content-length")
        if length and length.isdigit() and int(length) > cap and \
                resp.headers.get("content-encoding", "identity") == "identity":
            raise FetchFailed(f"too large: {int(length):,} bytes (limit {cap:,})")
        chunks, total = [], 0
        for chunk in resp.iter_bytes():
            total += len(chunk)
            if total > cap:
                raise FetchFailed(f"too large: over {cap:,} bytes (limit {cap:,})")
            if time.monotonic() > deadline:
                raise FetchFailed("timeout: deadline passed while reading")
            chunks.append(chunk)
            on_bytes(len(chunk))
        data = b"".join(chunks)
        if length and length.isdigit() and \
                resp.headers.get("content-encoding", "identity") == "identity" and \
                len(data) < int(length):
            raise FetchFailed(f"truncated: {len(data):,} of {int(length):,} bytes", retry=True)
        return data


def _local(ref: ImageRef, folder: Path) -> bytes:
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
    path = (root / urllib.request.url2pathname(url.split("?")[0].split("#")[0])).resolve()
    if not path.is_relative_to(root):
        raise FetchFailed("blocked: path outside the article's folder")
    try:
        return path.read_bytes()
    except OSError:
        raise FetchFailed("file not found") from None


def store_image(cache_dir: Path, key: str, prepared: Prepared) -> Asset:
    """Put an image the build made itself into the store, as ``key``."""
    return Store(cache_dir).put(key, prepared)


def fetch_assets(requests: list[Request], settings: dict, cache_dir: Path, *,
                 offline: bool = False, refresh: bool = False, max_pixels: int = 80_000_000,
                 progress: Progress | None = None,
                 transport: httpx.BaseTransport | None = None) -> dict[str, Asset]:
    """Every requested image as an :class:`Asset` (a placeholder when it failed), by
    :func:`~builder.model.asset_key`: each distinct image is fetched once."""
    progress = progress or (lambda *a, **k: None)
    store = Store(cache_dir)
    unique: dict[str, Request] = {}
    for req in requests:
        unique.setdefault(asset_key(req.ref.url, req.folder), req)
    assets: dict[str, Asset] = {}
    fetcher = None if offline else Fetcher(settings, transport)
    progress("start", total=len(unique))

    def one(key: str, req: Request) -> Asset:
        local = req.ref.url.lower().startswith("data:") or not urlsplit(req.ref.url).netloc
        try:
            if local:
                prepared = prepare(_local(req.ref, req.folder), max_pixels)
                asset = store.put(key, prepared)
            else:
                cached = None if refresh else store.get(key)
                if cached is not None:
                    asset = cached
                elif fetcher is None:
                    raise FetchFailed("offline: not in the cache")
                else:
                    data = fetcher.get(fetcher.rewritten(key),
                                       lambda n: progress("bytes", n=n))
                    asset = store.put(key, prepare(data, max_pixels))
        except (FetchFailed, ImageRejected) as exc:
            asset = store.put_placeholder(key, req.ref, str(exc))
        progress("done", url=key, status=asset.status, reason=asset.reason)
        return asset

    try:
        with ThreadPoolExecutor(max_workers=settings["concurrency"]) as pool:
            futures = {key: pool.submit(one, key, req) for key, req in unique.items()}
            for key, future in futures.items():
                assets[key] = future.result()
    finally:
        if fetcher:
            fetcher.close()
        progress("end")
    return assets
