"""The fetch stage: every image of the book once, safely, into a content-addressed store.

:func:`fetch_assets` turns the images the articles name into :class:`~builder.model.Asset`\\ s,
keyed by :func:`~builder.model.asset_key`: each distinct image is had once, from the cache
(:class:`Store`) when it is there, else from the web, the article's folder or a ``data:`` URL;
an image that cannot be had becomes a placeholder whose reason goes to the report.

One httpx client serves the whole build (:class:`Fetcher`): a global and a per-host limit on
concurrent downloads, connection reuse, HTTP/2 where TLS offers it, the proxy variables of the
environment honoured. Every request is bounded: connect and read timeouts, a total deadline per
image (httpx's read timeout restarts with every chunk, so a trickling server needs a deadline of
our own), a size cap on the decoded bytes, at most five redirects with every hop checked again,
retries with backoff for errors that can pass.

The safety rules (:mod:`builder.fetch.guard`):

* only http(s) and ``data:`` URLs, and relative paths inside the article's folder (no ``..``,
  no symlink out of it);
* no local, private, link-local, multicast, reserved or unspecified address, whether spelt
  literally (``127.1``, ``0x7f000001``, ``[::ffff:127.0.0.1]``) or reached through a name,
  unless ``allow_hosts`` names the host (``host`` or ``host:port``; by name, not by address);
* a name is resolved once, by the guard, and the connection goes to the address it approved;
  so a name cannot pass the check and then resolve elsewhere (DNS rebinding). Tests swap the
  resolver, never the guard;
* a proxy from the environment is trusted to reach the host; the URL is still checked;
* the guard is installed through public httpx/httpcore API only; if it cannot be, the stage
  stops with :class:`NetworkGuardError` instead of fetching unguarded.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..model import REFUSED, Asset, ImageRef, asset_key
from ..photos import ImageRejected, prepare
from ..settings import FetchSettings
from ..store import Store
from .local import FetchFailed, NetworkGuardError, read_local

if TYPE_CHECKING:
    from .client import Fetcher
    from .guard import Guard, Resolver

__all__ = ["FetchFailed", "Fetcher", "Guard", "NetworkGuardError", "Progress", "Request",
           "Resolver", "Store", "fetch_assets"]

#: Loaded when first asked for: the HTTP client (httpx, httpcore, h2: some 70 ms to import) only
#: when something is to be downloaded.
_LAZY = {"Fetcher": "client", "Guard": "guard", "Resolver": "guard"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: ``progress(event, **details)``: ``"start"`` (total=), ``"bytes"`` (n=), ``"done"`` (url=,
#: status=, reason=), ``"end"``.
Progress = Callable[..., None]


@dataclass(frozen=True)
class Request:
    """One image to get: its URL as the article names it, and the article's folder."""

    ref: ImageRef
    folder: Path


def fetch_assets(requests: list[Request], settings: FetchSettings, cache_dir: Path, *,
                 offline: bool = False, refresh: bool = False, max_pixels: int = 80_000_000,
                 progress: Progress | None = None, resolver: Resolver | None = None,
                 store: Store | None = None) -> dict[str, Asset]:
    """Every requested image as an :class:`Asset` (a placeholder when it failed), by
    :func:`~builder.model.asset_key`: each distinct image is fetched once.

    ``offline``: the cache only. ``refresh``: fetch again what is cached. ``resolver``: how
    host names are resolved under the guard (the system's by default). ``store``: the cache
    (one on ``cache_dir`` by default), which says afterwards whether it could be written and
    which entries it found damaged. Raises :class:`NetworkGuardError` when the network guard
    cannot be installed.

    Interrupted (Ctrl-C, or SIGTERM raised as an exception), it cancels what is queued and
    what is downloading, and returns at once: the threads still running are left to end with
    the process.
    """
    progress = progress or (lambda *a, **k: None)
    store = store or Store(cache_dir)
    unique: dict[str, Request] = {}
    for req in requests:
        unique.setdefault(asset_key(req.ref.url, req.folder), req)
    assets: dict[str, Asset] = {}
    known = {} if refresh else {key: found for key, req in unique.items()
                                if _remote(req.ref.url) and (found := store.known(key))}
    client = None if offline else _Client(settings, resolver)
    progress("start", total=len(unique))

    def one(key: str, req: Request) -> Asset:
        try:
            if req.ref.url.startswith(REFUSED):
                scheme = req.ref.url[len(REFUSED):].split("/", 1)[0]
                raise FetchFailed(f"not an image URL (scheme {scheme}); refused while cleaning")
            try:
                local = req.ref.url.lower().startswith("data:") or \
                    not urlsplit(req.ref.url).netloc
            except ValueError as exc:
                raise FetchFailed(f"invalid URL: {exc}") from None
            if local:
                prepared = prepare(read_local(req.ref, req.folder), max_pixels)
                asset = store.put(key, prepared)
            else:
                cached = None if refresh else store.get(key)
                if cached is not None:
                    asset = cached
                elif client is None:
                    raise FetchFailed("offline: cache entry corrupt (deleted)"
                                      if key in store.corrupt else "offline: not in the cache")
                else:
                    fetcher = client.made()
                    data = fetcher.get(fetcher.rewritten(key),
                                       lambda n: progress("bytes", n=n))
                    asset = store.put(key, prepare(data, max_pixels))
        except (FetchFailed, ImageRejected) as exc:
            asset = store.put_placeholder(key, req.ref, str(exc))
        except (OSError, ValueError, ArithmeticError) as exc:  # what an odd input may still raise
            asset = store.put_placeholder(key, req.ref, f"unexpected {type(exc).__name__}: {exc}"
                                          [:200])
        progress("done", url=key, status=asset.status, reason=asset.reason)
        return asset

    for key, asset in known.items():  # found sound before: no thread needed
        progress("done", url=key, status=asset.status, reason=asset.reason)
    pool = ThreadPoolExecutor(max_workers=settings.concurrency)
    try:
        futures = {key: pool.submit(one, key, req) for key, req in unique.items()
                   if key not in known}
        for key in unique:
            assets[key] = known[key] if key in known else futures[key].result()
    except BaseException:  # an error or Ctrl-C: nothing more is started, nothing waited for
        if client and client.fetcher:
            client.fetcher.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        progress("end")
        raise
    pool.shutdown(wait=True)
    if client and client.fetcher:
        client.fetcher.close()
    progress("end")
    return assets


class _Client:
    """The build's :class:`Fetcher`, made (and the HTTP library imported, some 70 ms) when the
    first photo must be downloaded: a build whose photos are all in the cache makes none."""

    def __init__(self, settings: FetchSettings, resolver: Resolver | None):
        self.settings, self.resolver = settings, resolver
        self.fetcher: Fetcher | None = None
        self._lock = threading.Lock()

    def made(self) -> Fetcher:
        with self._lock:
            if self.fetcher is None:
                client = importlib.import_module(f"{__name__}.client")
                self.fetcher = client.Fetcher(self.settings, resolver=self.resolver)
            return self.fetcher


def _remote(url: str) -> bool:
    """Whether ``url`` is fetched and kept by its URL (not a file of the article's folder, a
    ``data:`` URL, which are read again each time, or a URL refused while cleaning)."""
    if url.startswith(REFUSED) or url.lower().startswith("data:"):
        return False
    try:
        return bool(urlsplit(url).netloc)
    except ValueError:
        return False
