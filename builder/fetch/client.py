"""The HTTP client of the fetch stage, and the images that need none (local files, ``data:``).

:class:`Fetcher` holds one httpx client on a :class:`~builder.fetch.guard.GuardedTransport`:
a global and a per-host limit on concurrent downloads, connection reuse, HTTP/2 where TLS
offers it, retries with backoff, jitter and ``Retry-After``, at most five redirects with every
hop checked again, a size cap on the decoded bytes and a total deadline per image.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from .. import __version__
from ..settings import FetchSettings
from .guard import (
    BlockedAddress,
    FetchFailed,
    Guard,
    GuardedTransport,
    Resolver,
    Unresolvable,
    deadline,
)

MAX_REDIRECTS = 5
USER_AGENT = f"builder/{__version__} (+ebook builder)"


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
    """Downloads with the limits of the ``[fetch]`` settings.

    ``resolver`` (``(host, port) -> addresses``, the system's by default) is how every host
    name is resolved, under the guard: the guard still decides which address may be used.
    """

    def __init__(self, settings: FetchSettings, *, resolver: Resolver | None = None):
        self.s = settings
        self.guard = Guard(settings.allow_hosts, resolver)
        self.rewrite = sorted(settings.rewrite.items(), key=lambda kv: -len(kv[0]))
        limits = httpx.Limits(max_connections=settings.concurrency * 2,
                              max_keepalive_connections=settings.concurrency)
        # HTTP/1.1 only: over HTTP/2 the thread that reads a shared connection reads frames for
        # every stream on it, so one image's deadline could end the downloads of all the others
        # (httpcore marks the connection failed). The per-host limit gives parallel
        # connections instead.
        transport = GuardedTransport(self.guard, limits=limits, http2=False, resolver=resolver)
        timeout = httpx.Timeout(settings.timeout, connect=settings.timeout)
        # trust_env=False: httpx mounts no proxy transport of its own; the guarded transport
        # reads the proxy variables itself.
        self.client = httpx.Client(transport=transport, trust_env=False, timeout=timeout,
                                   follow_redirects=False,
                                   headers={"User-Agent": USER_AGENT,
                                            "Accept": "image/*,*/*;q=0.5"})
        self._hosts: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()
        self._cancelled = threading.Event()

    def close(self) -> None:
        self.client.close()

    def cancel(self) -> None:
        """Stop: no request starts, no retry waits, a download ends at its next chunk."""
        self._cancelled.set()

    def _check(self) -> None:
        if self._cancelled.is_set():
            raise FetchFailed("cancelled")

    def rewritten(self, url: str) -> str:
        for old, new in self.rewrite:
            if url.startswith(old):
                return new + url[len(old):]
        return url

    def _host_slot(self, url: str) -> threading.Semaphore:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            return self._hosts.setdefault(host, threading.Semaphore(self.s.per_host))

    def get(self, url: str, on_bytes: Callable[[int], None] = lambda n: None) -> bytes:
        """The body of ``url`` after retries, or :class:`FetchFailed`."""
        until: float | None = None  # the image's clock starts when it has a slot to run in
        attempts = max(1, self.s.retries)
        for attempt in range(attempts):
            self._check()
            try:
                with self._host_slot(url):
                    self._check()
                    if until is None:
                        until = time.monotonic() + self.s.deadline
                    with deadline(until):
                        return self._get_once(url, until, on_bytes)
            except FetchFailed as exc:
                if until is None:
                    raise
                left = until - time.monotonic()
                if not exc.retry or attempt == attempts - 1 or left <= 0:
                    raise
                wait = exc.wait if exc.wait is not None else 0.25 * 2 ** attempt
                wait = min(wait + random.uniform(0, 0.1), left)  # noqa: S311 - jitter
                if wait >= left or self._cancelled.wait(wait):
                    raise
        raise FetchFailed("no attempt made")  # pragma: no cover

    def _get_once(self, url: str, deadline: float, on_bytes) -> bytes:
        for _hop in range(MAX_REDIRECTS + 1):
            self.guard.check(url)
            left = deadline - time.monotonic()
            if left <= 0:
                raise FetchFailed("timeout: deadline passed")
            timeout = httpx.Timeout(min(self.s.timeout, left))
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
                if isinstance(exc.__cause__, (BlockedAddress, Unresolvable)):
                    raise FetchFailed(str(exc.__cause__)[:200]) from None
                if "complete message body" in str(exc):  # h11: the peer closed mid-body
                    raise FetchFailed(f"truncated: {exc}"[:200], retry=True) from None
                raise FetchFailed(f"connection error: {type(exc).__name__}: {exc}"[:200],
                                  retry=True) from None
        raise FetchFailed(f"too many redirects (more than {MAX_REDIRECTS})")

    def _read(self, resp: httpx.Response, deadline: float, on_bytes) -> bytes:
        cap = self.s.max_bytes
        length = resp.headers.get("content-length")
        if length and length.isdigit() and int(length) > cap and \
                resp.headers.get("content-encoding", "identity") == "identity":
            raise FetchFailed(f"too large: {int(length):,} bytes (limit {cap:,})")
        chunks, total = [], 0
        for chunk in resp.iter_bytes():
            self._check()
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
