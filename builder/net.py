"""What the fetcher may connect to, and for how long.

:class:`Guard` decides from a URL whether it may be fetched at all. :class:`DeadlineBackend` is
the network layer under httpx: it resolves each host itself and connects only to an address the
guard allows (so a name cannot pass the check and then resolve elsewhere when the connection is
made), and it bounds every connect, read and write by the current download's total deadline (so
a server that trickles its headers or body byte by byte cannot outlast it).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from urllib.parse import urlsplit

import httpcore

_local = threading.local()


class FetchFailed(Exception):
    """Why an image could not be had; the message is the report's reason."""

    def __init__(self, reason: str, retry: bool = False, wait: float | None = None):
        super().__init__(reason)
        self.reason, self.retry, self.wait = reason, retry, wait


class BlockedAddress(httpcore.ConnectError):
    """A connection refused by the guard at connect time."""


def _blocked(ip: ipaddress._BaseAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    # ``is_global`` also excludes the shared 100.64.0.0/10, where Alibaba Cloud's metadata
    # service (100.100.100.200) lives.
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
            or ip.is_unspecified or ip.is_reserved or not ip.is_global or
            (isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None
             and _blocked(ip.sixtofour)))


def _literal_ip(host: str) -> ipaddress._BaseAddress | None:
    """``host`` as an address when it spells one (``127.1``, ``2130706433``, ``0x7f000001``)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


class Guard:
    """Decides whether a URL may be fetched; raises :class:`FetchFailed` when not."""

    def __init__(self, allow_hosts: list[str]):
        self.allow = {h.lower().strip("[]") for h in allow_hosts}

    def check(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError:
            raise FetchFailed("invalid URL") from None
        if parts.scheme not in ("http", "https"):
            raise FetchFailed(f"blocked scheme {parts.scheme or 'none'}:")
        if not host:
            raise FetchFailed("invalid URL: no host")
        port = port or (443 if parts.scheme == "https" else 80)
        if self.allowed(host, port):
            return
        literal = _literal_ip(host)
        if (literal is not None and _blocked(literal)) or host.lower() == "localhost":
            raise FetchFailed(f"blocked address {host}")
        # A name is checked when the connection is made (DeadlineBackend → pin), after the
        # resolution that the connection really uses; a configured proxy is trusted to reach it.

    def allowed(self, host: str, port: int) -> bool:
        host = host.lower().strip("[]")
        return host in self.allow or f"{host}:{port}" in self.allow

    def pin(self, host: str, port: int) -> str:
        """The address to connect to for ``host``: the first one not blocked."""
        if self.allowed(host, port):
            return host
        literal = _literal_ip(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError, OSError) as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc.args[-1]}") from None
            addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
        for ip in addresses:
            if not _blocked(ip):
                return str(ip)
        raise BlockedAddress(f"blocked address {host} ({addresses[0]})")


class deadline:  # noqa: N801 - used as a context manager, like a function
    """Within ``with deadline(t):`` every network operation of this thread ends by ``t``
    (a ``time.monotonic()`` value)."""

    def __init__(self, when: float):
        self.when = when

    def __enter__(self):
        _local.deadline = self.when

    def __exit__(self, *exc):
        _local.deadline = None


def _bounded(timeout: float | None) -> float | None:
    when = getattr(_local, "deadline", None)
    if when is None:
        return timeout
    left = when - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend with the guard at connect time and the deadline on every
    operation. With ``guard=None`` (a connection to a configured proxy, which is trusted)
    only the deadline applies."""

    def __init__(self, guard: Guard | None):
        self._inner = httpcore.SyncBackend()
        self._guard = guard

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        if self._guard is not None:
            host = self._guard.pin(host, port)
        return _Stream(self._inner.connect_tcp(host, port, _bounded(timeout), local_address,
                                               socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def install(client, guard: Guard) -> None:
    """Put :class:`DeadlineBackend` under every transport of an httpx ``client``: the guarded
    one for direct connections, the deadline-only one for connections to proxies."""
    direct = getattr(client, "_transport", None)
    for transport in [direct, *getattr(client, "_mounts", {}).values()]:
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = DeadlineBackend(guard if transport is direct else None)
