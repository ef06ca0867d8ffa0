"""What the fetcher may connect to, and for how long, and the transport that enforces it.

:class:`Guard` decides from a URL whether it may be fetched at all, and at connect time which
addresses a host may be reached at: every host is resolved once, through the guard's resolver
(the system's by default), and the connection goes to an address the guard approved, so a name
cannot pass the check and then resolve elsewhere when the connection is made.

:class:`DeadlineBackend` is the network layer under httpcore: it connects only to an address
:meth:`Guard.addresses` approves, and bounds every connect, read and write by the current
download's total deadline (:class:`deadline`), so a server that trickles its headers or body
byte by byte cannot outlast it.

:class:`GuardedTransport` is the one httpx transport of the fetcher, built from public API only:
an ``httpcore.ConnectionPool`` on a guarded :class:`DeadlineBackend` for direct connections and,
where the proxy variables of the environment apply to a request, an ``httpcore.HTTPProxy``
whose connections to the (trusted) proxy get only the deadline. If it cannot be built — an
httpcore that no longer takes a ``network_backend`` — it raises :class:`NetworkGuardError`
rather than fetch unguarded.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import urlsplit

import httpcore
import httpx

from ..errors import BuilderError
from .local import FetchFailed, NetworkGuardError

#: ``(host, port) -> addresses``: how a host name becomes the addresses it may be reached at.
#: It raises OSError (``socket.gaierror``) when the name has none.
Resolver = Callable[[str, int], list[str]]

_local = threading.local()


class BlockedAddress(httpcore.ConnectError):
    """A connection refused by the guard; the message is the report's reason."""


class Unresolvable(httpcore.ConnectError):
    """A host the resolver has no address for."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the system's ``getaddrinfo``."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


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
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _resolve(resolver: Resolver, host: str, port: int) -> list[ipaddress._BaseAddress]:
    """The addresses ``resolver`` gives for ``host``, or :class:`Unresolvable`."""
    try:
        found = resolver(host, port)
        addresses = [ipaddress.ip_address(str(a).split("%")[0]) for a in found]
    except (OSError, UnicodeError, ValueError) as exc:
        detail = exc.args[-1] if exc.args else type(exc).__name__
        raise Unresolvable(f"cannot resolve {host}: {detail}") from None
    if not addresses:
        raise Unresolvable(f"cannot resolve {host}: no address")
    return addresses


#: Names that never lead outside the local network: loopback, mDNS, and the internal names of
#: cloud metadata services (RFC 6761, RFC 6762, ``metadata.google.internal``).
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan")


class Guard:
    """Decides whether a URL may be fetched (:meth:`check`, raising :class:`FetchFailed`) and
    which addresses a host may be connected at (:meth:`addresses`, :meth:`pin`)."""

    def __init__(self, allow_hosts: Iterable[str], resolver: Resolver | None = None):
        self.allow = {h.lower().strip("[]") for h in allow_hosts}
        self.resolver = resolver or system_resolver

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
        name = host.lower().rstrip(".")
        if (literal is not None and _blocked(literal)) or name == "localhost" or \
                name.endswith(LOCAL_SUFFIXES):
            raise FetchFailed(f"blocked address {host}")
        # Any other name is checked when the connection is made (DeadlineBackend → addresses),
        # after the resolution that the connection really uses; through a proxy, by
        # GuardedTransport, wherever the name resolves here.

    def allowed(self, host: str, port: int) -> bool:
        """Whether ``host`` is allowed by name (``host`` or ``host:port``), whatever its
        address: an allowed address does not make a name that resolves to it allowed."""
        host = host.lower().strip("[]")
        return host in self.allow or f"{host}:{port}" in self.allow

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses ``host`` may be connected at, in the resolver's order: those not
        blocked (all of them for an allowed host); else :class:`BlockedAddress`, or
        :class:`Unresolvable` when there are none at all."""
        literal = _literal_ip(host)
        found = [literal] if literal is not None else _resolve(self.resolver, host, port)
        if self.allowed(host, port):
            return [str(ip) for ip in found]
        approved = [str(ip) for ip in found if not _blocked(ip)]
        if not approved:
            raise BlockedAddress(f"blocked address {host} ({found[0]})")
        return approved

    def pin(self, host: str, port: int) -> str:
        """The address to connect to for ``host``: the first of :meth:`addresses`."""
        return self.addresses(host, port)[0]


# -- the deadline and the network backend -------------------------------------------------------

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
    operation.

    With a ``guard``, a connection goes to an address :meth:`Guard.addresses` approved, the
    first that accepts (TLS still checks the certificate against the name). With
    ``guard=None`` (a connection to a configured proxy, which is trusted) only the deadline
    applies; the proxy's name is resolved by ``resolver`` when one is given, else by the system
    when connecting. ``inner`` is the backend that does the I/O (httpcore's ``SyncBackend`` by
    default)."""

    def __init__(self, guard: Guard | None, resolver: Resolver | None = None,
                 inner: httpcore.NetworkBackend | None = None):
        self._guard = guard
        self._resolver = resolver
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        if self._guard is not None:
            candidates = self._guard.addresses(host, port)
        elif self._resolver is not None and _literal_ip(host) is None:
            candidates = [str(ip) for ip in _resolve(self._resolver, host, port)]
        else:
            candidates = [host]
        # Each address in turn while the previous one refuses, as socket.create_connection
        # does for a name (``localhost`` may give ::1 first to a server on 127.0.0.1 only).
        for n, address in enumerate(candidates):
            try:
                stream = self._inner.connect_tcp(address, port, _bounded(timeout),
                                                 local_address, socket_options)
            except httpcore.ConnectError:
                if n == len(candidates) - 1:
                    raise
                continue
            return _Stream(stream)
        raise httpcore.ConnectError(f"no address to connect to for {host}")  # pragma: no cover

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


# -- the transport --------------------------------------------------------------------------------

#: httpcore's exceptions and httpx's, the most specific first.
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _mapped() -> Iterator[None]:
    """httpcore's exceptions raised as httpx's, the original as ``__cause__``."""
    try:
        yield
    except Exception as exc:
        for core, mapped in _EXCEPTIONS:
            if isinstance(exc, core):
                raise mapped(str(exc)) from exc
        raise


class _ResponseStream(httpx.SyncByteStream):
    """httpcore's response body, with its exceptions as httpx's."""

    def __init__(self, inner: Iterable[bytes]):
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        with _mapped():
            yield from self._inner

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            with _mapped():
                close()


def environment_proxies() -> dict[str, str]:
    """The proxy variables of the environment, as the standard library reads them
    (``{"http": URL, "https": URL, "all": URL, "no": "host,.domain"}``)."""
    return urllib.request.getproxies_environment()


class GuardedTransport(httpx.BaseTransport):
    """The fetcher's httpx transport: every connection through a :class:`DeadlineBackend`.

    Direct connections go through a guarded backend. A request whose scheme has a proxy in
    ``proxies`` (by default the environment's: ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``)
    and whose host ``NO_PROXY`` does not name goes through that proxy, which is trusted to
    reach the host: only the deadline applies to the connection to it (``resolver``, when given,
    resolves the proxy's name). The URL is checked by the guard before anything is sent.
    """

    def __init__(self, guard: Guard, *, limits: httpx.Limits | None = None, http2: bool = True,
                 ssl_context=None, proxies: dict[str, str] | None = None,
                 resolver: Resolver | None = None):
        self._guard = guard
        limits = limits or httpx.Limits(max_connections=16, max_keepalive_connections=8)
        self._proxies = environment_proxies() if proxies is None else dict(proxies)
        self._via: dict[str, httpcore.ConnectionPool] = {}  # by scheme
        pools: dict[str, httpcore.ConnectionPool] = {}  # by proxy URL
        try:
            ssl_context = ssl_context or httpx.create_ssl_context()
            common = dict(ssl_context=ssl_context, max_connections=limits.max_connections,
                          max_keepalive_connections=limits.max_keepalive_connections,
                          keepalive_expiry=limits.keepalive_expiry, http1=True, http2=http2)
            self._direct = httpcore.ConnectionPool(network_backend=DeadlineBackend(guard),
                                                   **common)
            for scheme in ("http", "https"):
                url = self._proxies.get(scheme) or self._proxies.get("all")
                if not url:
                    continue
                if url not in pools:
                    pools[url] = self._proxy_pool(url, resolver, common)
                self._via[scheme] = pools[url]
        except (TypeError, AttributeError) as exc:
            raise NetworkGuardError(
                f"the network guard cannot be installed on httpcore "
                f"{getattr(httpcore, '__version__', '?')} ({type(exc).__name__}: {exc}); "
                "install a version in the tested range (httpcore>=1.0.9,<2)") from exc

    @staticmethod
    def _proxy_pool(url: str, resolver: Resolver | None, common: dict) -> httpcore.HTTPProxy:
        where = url if "://" in url else f"http://{url}"
        try:
            proxy = httpx.Proxy(where)
        except (ValueError, httpx.InvalidURL):
            proxy = None
        if proxy is None or proxy.url.scheme not in ("http", "https"):
            parts = urlsplit(where)
            shown = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
            raise BuilderError(f"proxy {shown} from the environment is not supported: give "
                               "an http:// or https:// proxy, or unset the variable")
        return httpcore.HTTPProxy(
            proxy_url=httpcore.URL(scheme=proxy.url.raw_scheme, host=proxy.url.raw_host,
                                   port=proxy.url.port, target=proxy.url.raw_path),
            proxy_auth=proxy.raw_auth, proxy_headers=proxy.headers.raw,
            network_backend=DeadlineBackend(None, resolver), **common)

    def _pool_for(self, url: httpx.URL) -> httpcore.ConnectionPool:
        """The proxy for ``url`` unless ``NO_PROXY`` names its host; else the direct pool."""
        pool = self._via.get(url.scheme)
        if pool is None:
            return self._direct
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if any(urllib.request.proxy_bypass_environment(h, self._proxies)
               for h in (host, hostport)):
            return self._direct
        # The proxy could reach inside the network: a name that resolves here to a blocked
        # address only is refused (one that does not resolve here is left to the proxy).
        try:
            self._guard.addresses(host, port)
        except Unresolvable:
            pass
        return pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            self._guard.check(str(request.url))
        except FetchFailed as exc:
            raise httpx.ConnectError(exc.reason) from BlockedAddress(exc.reason)
        if not isinstance(request.stream, httpx.SyncByteStream):
            raise TypeError("GuardedTransport sends requests with a synchronous body only")
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host,
                             port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw, content=request.stream,
            extensions=request.extensions)
        with _mapped():
            response = self._pool_for(request.url).handle_request(core)
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_ResponseStream(response.stream),
                              extensions=response.extensions)

    def close(self) -> None:
        with _mapped():
            self._direct.close()
            for pool in set(self._via.values()):
                pool.close()
