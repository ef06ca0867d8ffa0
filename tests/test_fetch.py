"""Downloading images: against a local HTTP server on 127.0.0.1 only, with tiny timeouts."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import socket
import threading
import time
from pathlib import Path

import helpers_images as H  # noqa: N812 - as in the other tests
import httpcore
import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request as WRequest
from werkzeug import Response

from builder import checked
from builder.drawn import placeholder
from builder.errors import BuilderError
from builder.fetch import (
    Fetcher,
    FetchFailed,
    Guard,
    NetworkGuardError,
    Request,
    Store,
    fetch_assets,
)
from builder.fetch.guard import (
    BlockedAddress,
    DeadlineBackend,
    GuardedTransport,
    Unresolvable,
    _mapped,
    _ResponseStream,
)
from builder.model import ImageRef, asset_key
from builder.photos import prepare
from builder.settings import FetchSettings

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
              "all_proxy", "no_proxy")


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def make_httpserver():
    """The plugin's server, but on 127.0.0.1 and threaded: a hanging handler must not hold up
    the retries and tests that follow it."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    # A proxy from the environment would carry requests off this machine.
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def release():
    """Set when the test ends, so that a handler left sleeping returns at once."""
    event = threading.Event()
    yield event
    event.set()


class RawServer:
    """A raw TCP server on 127.0.0.1 for misbehaviour no HTTP library would commit: each
    connection's request head is recorded, then ``handler(conn, head)`` answers (or not) and
    the connection is closed."""

    def __init__(self, handler):
        self.handler = handler
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                head = b""
                try:
                    while b"\r\n\r\n" not in head:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        head += chunk
                    if head:
                        self.requests.append(head)
                        self.handler(conn, head)
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.listener.close()


@pytest.fixture
def raw_server():
    """``raw_server(handler)`` starts a :class:`RawServer`; all are stopped after the test."""
    servers = []

    def start(handler) -> RawServer:
        servers.append(RawServer(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def make_settings(port: int | None, **changes) -> FetchSettings:
    """The default settings with short timeouts, allowing 127.0.0.1:``port`` (if given)."""
    base = dict(allow_hosts=(f"127.0.0.1:{port}",) if port else (), timeout=1.0, deadline=3.0,
                retries=3, concurrency=4, per_host=2)
    base.update(changes)
    base["allow_hosts"] = tuple(base["allow_hosts"])
    return dataclasses.replace(FetchSettings(), **base)


@pytest.fixture
def settings(httpserver):
    return make_settings(httpserver.port)


def hits(server: HTTPServer, path: str) -> int:
    return sum(1 for req, _ in server.log if req.path == path)


def fetch_one(url: str, settings: FetchSettings, tmp_path: Path, **kw):
    folder = tmp_path / "article"
    folder.mkdir(exist_ok=True)
    assets = fetch_assets([Request(ImageRef(url), folder)], settings, tmp_path / "cache", **kw)
    return assets[asset_key(url, folder)]


# --- success and the cache -------------------------------------------------------------------

def test_ok_jpeg(httpserver, settings, tmp_path):
    data = H.jpeg(40, 30)
    httpserver.expect_request("/ok.jpg").respond_with_data(data, content_type="image/jpeg")
    url = httpserver.url_for("/ok.jpg")
    events = []
    asset = fetch_one(url, settings, tmp_path, progress=lambda *a, **k: events.append(a[0]))
    assert asset.status == "ok" and asset.reason is None
    assert asset.url == url
    assert asset.path.read_bytes() == data
    assert asset.sha256 == hashlib.sha256(data).hexdigest()
    assert (asset.media_type, asset.width, asset.height, asset.bytes) == \
        ("image/jpeg", 40, 30, len(data))
    assert asset.path.is_relative_to(tmp_path / "cache")
    assert hits(httpserver, "/ok.jpg") == 1
    assert events[0] == "start" and events[-1] == "end" and "done" in events
    # It was asked for politely.
    req = httpserver.log[0][0]
    assert req.headers["User-Agent"].startswith("builder/")


def test_second_run_uses_the_cache(httpserver, settings, tmp_path):
    httpserver.expect_request("/cached.jpg").respond_with_data(H.jpeg(), content_type="image/jpeg")
    url = httpserver.url_for("/cached.jpg")
    first = fetch_one(url, settings, tmp_path)
    assert first.status == "ok"
    n = len(httpserver.log)
    second = fetch_one(url, settings, tmp_path)
    assert len(httpserver.log) == n  # not a single request
    assert second.status == "cached"
    assert (second.sha256, second.path, second.width, second.height) == \
        (first.sha256, first.path, first.width, first.height)
    # Offline, the cache is all there is, and it is enough.
    assert fetch_one(url, settings, tmp_path, offline=True).status == "cached"
    # refresh=True asks again.
    assert fetch_one(url, settings, tmp_path, refresh=True).status == "ok"
    assert hits(httpserver, "/cached.jpg") == 2


def test_corrupt_cache_object_is_refetched(httpserver, settings, tmp_path):
    data = H.jpeg(33, 22)
    httpserver.expect_request("/c.jpg").respond_with_data(data, content_type="image/jpeg")
    url = httpserver.url_for("/c.jpg")
    first = fetch_one(url, settings, tmp_path)
    first.path.write_bytes(b"bit rot")
    again = fetch_one(url, settings, tmp_path)
    assert again.status == "ok"
    assert again.path.read_bytes() == data
    assert hits(httpserver, "/c.jpg") == 2


def test_store_get_detects_corruption(tmp_path):
    store = Store(tmp_path)
    prepared = placeholder(300, 200, "x")
    asset = store.put("http://a.example/x.png", prepared)
    assert store.get("http://a.example/x.png").status == "cached"
    asset.path.write_bytes(prepared.data[:-1])
    assert store.get("http://a.example/x.png") is None
    assert not asset.path.exists()
    assert store.get("http://never.example/") is None


# --- HTTP failures ---------------------------------------------------------------------------

def test_404_is_not_retried(httpserver, settings, tmp_path):
    httpserver.expect_request("/missing.jpg").respond_with_data("nope", status=404)
    asset = fetch_one(httpserver.url_for("/missing.jpg"), settings, tmp_path)
    assert asset.status == "placeholder"
    assert "http 404" in asset.reason
    assert hits(httpserver, "/missing.jpg") == 1
    assert asset.media_type == "image/png" and asset.path.exists()
    assert asset.bytes == 0


def test_500_then_200_is_retried(httpserver, settings, tmp_path):
    data = H.jpeg()
    httpserver.expect_oneshot_request("/flaky.jpg").respond_with_data("oops", status=500)
    httpserver.expect_request("/flaky.jpg").respond_with_data(data, content_type="image/jpeg")
    asset = fetch_one(httpserver.url_for("/flaky.jpg"), settings, tmp_path)
    assert asset.status == "ok"
    assert asset.path.read_bytes() == data
    assert hits(httpserver, "/flaky.jpg") == 2


def test_retries_are_bounded(httpserver, settings, tmp_path):
    httpserver.expect_request("/down.jpg").respond_with_data("oops", status=503)
    asset = fetch_one(httpserver.url_for("/down.jpg"), settings, tmp_path)
    assert asset.status == "placeholder" and "http 503" in asset.reason
    assert hits(httpserver, "/down.jpg") == 3


def test_429_with_long_retry_after_gives_up_at_once(httpserver, settings, tmp_path):
    httpserver.expect_request("/busy.jpg").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "3600"})
    start = time.monotonic()
    asset = fetch_one(httpserver.url_for("/busy.jpg"), settings, tmp_path)
    assert "http 429" in asset.reason
    assert time.monotonic() - start < 1.5
    assert hits(httpserver, "/busy.jpg") == 1


def test_hanging_server_times_out(httpserver, settings, tmp_path, release):
    def hang(request: WRequest) -> Response:
        release.wait(3)
        return Response(H.jpeg(), content_type="image/jpeg")

    httpserver.expect_request("/hang.jpg").respond_with_handler(hang)
    start = time.monotonic()
    asset = fetch_one(httpserver.url_for("/hang.jpg"), settings, tmp_path)
    elapsed = time.monotonic() - start
    assert asset.status == "placeholder"
    assert "timeout" in asset.reason
    assert elapsed < settings.deadline + 1.0


def test_trickling_server_stopped_by_the_deadline(httpserver, tmp_path, release):
    settings = make_settings(httpserver.port, timeout=1.0, deadline=2.0)

    def trickle(request: WRequest) -> Response:
        def body():
            yield H.jpeg()[:2]
            for _ in range(200):  # 40 s in all: each byte well inside the read timeout
                if release.wait(0.2):
                    return
                yield b"\x00"
        return Response(body(), content_type="image/jpeg")

    httpserver.expect_request("/trickle.jpg").respond_with_handler(trickle)
    start = time.monotonic()
    asset = fetch_one(httpserver.url_for("/trickle.jpg"), settings, tmp_path)
    elapsed = time.monotonic() - start
    assert asset.status == "placeholder"
    assert "timeout" in asset.reason or "deadline" in asset.reason
    assert settings.deadline - 0.5 < elapsed < settings.deadline + 1.0


def test_redirect_followed(httpserver, settings, tmp_path):
    data = H.png(5, 5)
    httpserver.expect_request("/old.png").respond_with_data(
        "", status=301, headers={"Location": "/new.png"})
    httpserver.expect_request("/new.png").respond_with_data(data, content_type="image/png")
    asset = fetch_one(httpserver.url_for("/old.png"), settings, tmp_path)
    assert asset.status == "ok" and asset.path.read_bytes() == data
    assert asset.url == httpserver.url_for("/old.png")


def test_redirect_loop(httpserver, settings, tmp_path):
    httpserver.expect_request("/loop.jpg").respond_with_data(
        "", status=302, headers={"Location": "/loop.jpg"})
    asset = fetch_one(httpserver.url_for("/loop.jpg"), settings, tmp_path)
    assert asset.status == "placeholder"
    assert "too many redirects" in asset.reason
    assert hits(httpserver, "/loop.jpg") == 6  # the request and five redirects, no retry


def test_redirect_to_file_url_blocked(httpserver, settings, tmp_path):
    httpserver.expect_request("/evil.jpg").respond_with_data(
        "", status=302, headers={"Location": "file:///etc/passwd"})
    asset = fetch_one(httpserver.url_for("/evil.jpg"), settings, tmp_path)
    assert asset.status == "placeholder"
    assert "blocked scheme" in asset.reason
    assert hits(httpserver, "/evil.jpg") == 1


def test_redirect_to_private_address_blocked(httpserver, settings, tmp_path):
    httpserver.expect_request("/meta.jpg").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    asset = fetch_one(httpserver.url_for("/meta.jpg"), settings, tmp_path)
    assert "blocked address" in asset.reason


def test_redirect_without_location(httpserver, settings, tmp_path):
    httpserver.expect_request("/nowhere.jpg").respond_with_data("", status=302)
    asset = fetch_one(httpserver.url_for("/nowhere.jpg"), settings, tmp_path)
    assert "without Location" in asset.reason


# --- what comes back -------------------------------------------------------------------------

def test_html_served_as_jpeg_is_not_an_image(httpserver, settings, tmp_path):
    httpserver.expect_request("/page.jpg").respond_with_data(H.HTML, content_type="image/jpeg")
    asset = fetch_one(httpserver.url_for("/page.jpg"), settings, tmp_path)
    assert asset.status == "placeholder"
    assert "not an image" in asset.reason
    assert hits(httpserver, "/page.jpg") == 1


def test_png_labelled_jpeg_is_a_png(httpserver, settings, tmp_path):
    data = H.png(7, 9)
    httpserver.expect_request("/really.jpg").respond_with_data(data, content_type="image/jpeg")
    asset = fetch_one(httpserver.url_for("/really.jpg"), settings, tmp_path)
    assert asset.status == "ok"
    assert (asset.media_type, asset.extension, asset.width, asset.height) == \
        ("image/png", ".png", 7, 9)


def test_truncated_body(httpserver, settings, tmp_path):
    data = H.jpeg(100, 100)

    def short(request: WRequest) -> Response:
        # An iterable body keeps werkzeug from correcting the Content-Length.
        return Response(iter([data[:100]]), content_type="image/jpeg",
                        headers={"Content-Length": str(len(data))})

    httpserver.expect_request("/short.jpg").respond_with_handler(short)
    asset = fetch_one(httpserver.url_for("/short.jpg"), settings, tmp_path)
    assert asset.status == "placeholder"
    assert asset.reason.startswith("truncated")
    assert hits(httpserver, "/short.jpg") == 3  # a cut connection may pass: retried


def test_truncated_body_from_a_server_that_closes_early(raw_server):
    """A real server declares a Content-Length, sends 50 bytes and closes: the client's own
    HTTP parser reports the cut, and the cut is retried."""
    data = H.jpeg(100, 100)
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode()
    server = raw_server(lambda conn, request: conn.sendall(head + data[:50]))
    fetcher = Fetcher(make_settings(server.port, retries=2))
    try:
        with pytest.raises(FetchFailed, match=rf"^truncated: .*received 50 bytes, "
                                              rf"expected {len(data)}"):
            fetcher.get(f"http://127.0.0.1:{server.port}/x.jpg")
    finally:
        fetcher.close()
    assert len(server.requests) == 2
    assert all(r.startswith(b"GET /x.jpg HTTP/1.1\r\n") for r in server.requests)


def test_too_large_by_content_length(httpserver, tmp_path):
    settings = make_settings(httpserver.port, max_bytes=1000)
    httpserver.expect_request("/big.jpg").respond_with_data(H.jpeg(300, 300, color=None),
                                                           content_type="image/jpeg")
    asset = fetch_one(httpserver.url_for("/big.jpg"), settings, tmp_path)
    assert asset.status == "placeholder"
    assert "too large" in asset.reason
    assert hits(httpserver, "/big.jpg") == 1


def test_too_large_while_streaming(httpserver, tmp_path):
    settings = make_settings(httpserver.port, max_bytes=10_000)

    def stream(request: WRequest) -> Response:
        return Response((b"\xff" * 4096 for _ in range(100)), content_type="image/jpeg")

    httpserver.expect_request("/endless.jpg").respond_with_handler(stream)
    asset = fetch_one(httpserver.url_for("/endless.jpg"), settings, tmp_path)
    assert "too large" in asset.reason


def test_gzip_bomb_capped(httpserver, tmp_path):
    settings = make_settings(httpserver.port, max_bytes=100_000)
    bomb = gzip.compress(b"\x00" * 5_000_000)
    assert len(bomb) < 100_000
    httpserver.expect_request("/bomb.jpg").respond_with_data(
        bomb, content_type="image/jpeg", headers={"Content-Encoding": "gzip"})
    asset = fetch_one(httpserver.url_for("/bomb.jpg"), settings, tmp_path)
    assert asset.status == "placeholder"
    assert "too large" in asset.reason


def test_gzip_image_within_cap_decoded(httpserver, settings, tmp_path):
    data = H.png(20, 20)
    httpserver.expect_request("/gz.png").respond_with_data(
        gzip.compress(data), content_type="image/png", headers={"Content-Encoding": "gzip"})
    asset = fetch_one(httpserver.url_for("/gz.png"), settings, tmp_path)
    assert asset.status == "ok" and asset.path.read_bytes() == data


# --- what may be fetched ---------------------------------------------------------------------

def test_loopback_blocked_without_allow_hosts(httpserver, tmp_path):
    httpserver.expect_request("/x.jpg").respond_with_data(H.jpeg(), content_type="image/jpeg")
    asset = fetch_one(httpserver.url_for("/x.jpg"), make_settings(None), tmp_path)
    assert asset.status == "placeholder"
    assert "blocked address" in asset.reason
    assert hits(httpserver, "/x.jpg") == 0


def test_allow_hosts_is_per_port(httpserver, tmp_path):
    settings = make_settings(None, allow_hosts=[f"127.0.0.1:{httpserver.port + 1}"])
    asset = fetch_one(httpserver.url_for("/x.jpg"), settings, tmp_path)
    assert "blocked address" in asset.reason


@pytest.mark.parametrize("url", [
    "http://127.1/", "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/",
    "http://[::ffff:127.0.0.1]/", "http://[::1]/", "http://user@127.0.0.1/",
    "http://user:pw@127.0.0.1:8080/", "http://169.254.169.254/", "http://10.0.0.1/",
    "http://192.168.1.1/", "http://172.16.0.1/", "http://0.0.0.0/", "http://224.0.0.1/",
    "http://[fe80::1]/", "http://[fc00::1]/", "https://127.0.0.1:443/", "http://localhost/",
    "HTTP://127.0.0.1/", "http://0/", "http://127.000.000.001/", "http://0x7f.1/",
    "http://[::ffff:7f00:1]/", "http://[fe80::1%25eth0]/", "http://[2002:7f00:1::]/",
    "http://100.100.100.200/latest/meta-data/", "http://100.64.0.1/",
])
def test_guard_blocks_local_and_private_addresses(url):
    with pytest.raises(FetchFailed, match="blocked"):
        Guard([]).check(url)


@pytest.mark.parametrize("url, scheme", [
    ("file:///etc/passwd", "file"), ("ftp://example.com/x.jpg", "ftp"),
    ("gopher://127.0.0.1/", "gopher"), ("javascript:alert(1)", "javascript"),
])
def test_guard_blocks_other_schemes(url, scheme):
    with pytest.raises(FetchFailed, match=f"blocked scheme {scheme}"):
        Guard([]).check(url)


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999/", "http:///x.jpg"])
def test_guard_rejects_invalid_urls(url):
    with pytest.raises(FetchFailed, match="invalid URL"):
        Guard([]).check(url)


def test_guard_allows_listed_hosts():
    Guard(["127.0.0.1:8080"]).check("http://127.0.0.1:8080/x.jpg")
    Guard(["10.0.0.1"]).check("http://10.0.0.1/x.jpg")
    Guard(["::1"]).check("http://[::1]/x.jpg")
    Guard(["93.184.215.14"]).check("http://93.184.215.14/x.jpg")
    Guard([]).check("http://93.184.215.14/x.jpg")  # a public literal needs no look-up


@pytest.mark.parametrize("suffix", ["/\x00x.jpg", "/x.jpg\n", "/x\x7f.jpg", "/" + "a" * 70_000])
def test_url_the_client_refuses_is_a_placeholder_not_a_crash(httpserver, settings, tmp_path,
                                                              suffix):
    ok = httpserver.url_for("/fine.jpg")
    httpserver.expect_request("/fine.jpg").respond_with_data(H.jpeg(), content_type="image/jpeg")
    bad = f"http://127.0.0.1:{httpserver.port}{suffix}"
    folder = tmp_path / "a"
    folder.mkdir()
    assets = fetch_assets([Request(ImageRef(bad), folder), Request(ImageRef(ok), folder)],
                          settings, tmp_path / "cache")
    assert assets[bad].status == "placeholder" and "invalid URL" in assets[bad].reason
    assert assets[ok].status == "ok"  # one bad URL does not sink the others


def test_blocked_scheme_through_fetch_assets(tmp_path, settings):
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/x.jpg"):
        asset = fetch_one(url, settings, tmp_path)
        assert asset.status == "placeholder" and "blocked scheme" in asset.reason


def test_data_url(tmp_path, settings):
    data = H.png(6, 4)
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    asset = fetch_one(url, settings, tmp_path)
    assert asset.status == "ok"
    assert asset.path.read_bytes() == data and (asset.width, asset.height) == (6, 4)


def test_bad_data_url(tmp_path, settings):
    asset = fetch_one("data:image/png;base64,!!!!", settings, tmp_path)
    assert asset.status == "placeholder"


def test_relative_path_inside_the_folder(tmp_path, settings):
    folder = tmp_path / "article"
    (folder / "img").mkdir(parents=True)
    data = H.jpeg(12, 8)
    (folder / "img" / "a b.jpg").write_bytes(data)
    assets = fetch_assets([Request(ImageRef("img/a%20b.jpg"), folder),
                           Request(ImageRef("./img/a b.jpg?v=1"), folder)],
                          settings, tmp_path / "cache", offline=True)
    for asset in assets.values():
        assert asset.status == "ok" and asset.path.read_bytes() == data


def test_a_local_image_is_read_again_each_build_a_cached_one_known_by_its_stamp(
        tmp_path, settings, monkeypatch):
    monkeypatch.setattr(checked, "SETTLED", -1.0)  # files count as settled at once
    folder = tmp_path / "article"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(H.jpeg(12, 8))
    requests = [Request(ImageRef("a.jpg"), folder)]
    first = next(iter(fetch_assets(requests, settings, tmp_path / "cache").values()))
    store = Store(tmp_path / "cache")
    assert store.get(first.url) is not None  # its object read back (by any key): stamped
    assert checked.stamped(first.path, first.sha256) is not None
    changed = H.jpeg(16, 8)
    (folder / "a.jpg").write_bytes(changed)
    again = next(iter(fetch_assets(requests, settings, tmp_path / "cache").values()))
    assert again.path.read_bytes() == changed and again.width == 16
    store.put("http://photos.example/b.jpg", prepare(H.jpeg(20, 10), 10_000_000))
    assert store.get("http://photos.example/b.jpg") is not None  # read, found sound: stamped
    assert store.known("http://photos.example/b.jpg") is not None


@pytest.mark.parametrize("url", ["../secret.jpg", "img/../../secret.jpg", "/etc/hostname",
                                 "%2e%2e/secret.jpg"])
def test_path_outside_the_folder_refused(tmp_path, settings, url):
    (tmp_path / "secret.jpg").write_bytes(H.jpeg())
    (tmp_path / "article" / "img").mkdir(parents=True)
    asset = fetch_one(url, settings, tmp_path)
    assert asset.status == "placeholder"
    assert "outside" in asset.reason


def test_symlink_out_of_the_folder_refused(tmp_path, settings):
    (tmp_path / "secret.jpg").write_bytes(H.jpeg())
    (tmp_path / "article").mkdir()
    (tmp_path / "article" / "link.jpg").symlink_to(tmp_path / "secret.jpg")
    asset = fetch_one("link.jpg", settings, tmp_path)
    assert "outside" in asset.reason


def test_missing_local_file(tmp_path, settings):
    asset = fetch_one("nothing.jpg", settings, tmp_path)
    assert asset.status == "placeholder" and "not found" in asset.reason


def test_offline_with_empty_cache(httpserver, settings, tmp_path):
    asset = fetch_one(httpserver.url_for("/never.jpg"), settings, tmp_path, offline=True)
    assert asset.status == "placeholder"
    assert "offline" in asset.reason
    assert hits(httpserver, "/never.jpg") == 0


def test_rewrite_map(httpserver, tmp_path):
    data = H.jpeg(21, 13)
    settings = make_settings(httpserver.port, rewrite={
        "http://example.invalid/": f"http://127.0.0.1:{httpserver.port}/mirror/"})
    httpserver.expect_request("/mirror/pic.jpg").respond_with_data(data, content_type="image/jpeg")
    asset = fetch_one("http://example.invalid/pic.jpg", settings, tmp_path)
    assert asset.status == "ok"
    assert asset.url == "http://example.invalid/pic.jpg"
    assert asset.path.read_bytes() == data
    assert hits(httpserver, "/mirror/pic.jpg") == 1


def test_same_url_downloaded_once(httpserver, settings, tmp_path):
    httpserver.expect_request("/once.jpg").respond_with_data(H.jpeg(), content_type="image/jpeg")
    url = httpserver.url_for("/once.jpg")
    folder = tmp_path / "a"
    folder.mkdir()
    refs = [ImageRef(url), ImageRef(url, alt="again"), ImageRef(url + "#frag")]
    assets = fetch_assets([Request(r, folder) for r in refs], settings, tmp_path / "cache")
    assert hits(httpserver, "/once.jpg") == 1
    assert set(assets) == {url}  # keyed by asset_key: the #fragment names the same image
    assert assets[url].status == "ok"
    assert assets[asset_key(url + "#frag", folder)] is assets[url]


def test_many_images_at_once(httpserver, settings, tmp_path):
    for i in range(12):
        httpserver.expect_request(f"/many/{i}.png").respond_with_data(
            H.png(i + 1, 3), content_type="image/png")
    folder = tmp_path / "a"
    folder.mkdir()
    urls = [httpserver.url_for(f"/many/{i}.png") for i in range(12)]
    assets = fetch_assets([Request(ImageRef(u), folder) for u in urls], settings,
                          tmp_path / "cache")
    assert [assets[u].width for u in urls] == list(range(1, 13))
    assert all(assets[u].status == "ok" for u in urls)


def test_placeholder_takes_the_size_hints(httpserver, settings, tmp_path):
    httpserver.expect_request("/gone.jpg").respond_with_data("", status=410)
    url = httpserver.url_for("/gone.jpg")
    assets = fetch_assets([Request(ImageRef(url, width_hint=640, height_hint=480), tmp_path)],
                          settings, tmp_path / "cache")
    assert (assets[url].width, assets[url].height) == (640, 480)
    assert "http 410" in assets[url].reason


# --- the network layer: deadline on every read, the guard at connect time -----------------------

@pytest.fixture
def slow_header_server():
    """A raw server on 127.0.0.1 that sends its status line and headers one byte every 0.1 s,
    for at most 20 s: each read arrives well within any read timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(20)
    stop = threading.Event()

    def serve():
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                if stop.wait(0.1):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()
    thread.join(5)


def test_headers_trickled_byte_by_byte_stop_at_the_deadline(slow_header_server, tmp_path):
    port = slow_header_server
    settings = make_settings(port, timeout=1.0, deadline=1.5, retries=1)
    start = time.monotonic()
    asset = fetch_one(f"http://127.0.0.1:{port}/slow.jpg", settings, tmp_path)
    took = time.monotonic() - start
    assert asset.status == "placeholder" and "timeout" in asset.reason
    assert took < 6  # the deadline (1.5 s) and not the 20 s the headers would take


def test_name_resolving_to_a_private_address_is_blocked_at_connect(httpserver, tmp_path,
                                                                   monkeypatch):
    """The address checked is the address connected to: a name that resolves to loopback
    (as a rebinding DNS server would answer) is refused when the connection is made. Here
    through the default resolver, the system's ``getaddrinfo``."""
    real = socket.getaddrinfo

    def fake(host, *args, **kw):
        return real("127.0.0.1" if host == "rebind.example" else host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    httpserver.expect_request("/r.jpg").respond_with_data(H.jpeg(10, 10),
                                                          content_type="image/jpeg")
    url = f"http://rebind.example:{httpserver.port}/r.jpg"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    blocked = fetch_one(url, make_settings(None), tmp_path / "a")
    assert blocked.status == "placeholder"
    assert blocked.reason == "blocked address rebind.example (127.0.0.1)"
    assert hits(httpserver, "/r.jpg") == 0
    allowed = fetch_one(url, make_settings(None, allow_hosts=[f"rebind.example:{httpserver.port}"]),
                        tmp_path / "b")
    assert allowed.status == "ok" and hits(httpserver, "/r.jpg") == 1


def test_same_relative_path_in_two_folders_is_two_images(settings, tmp_path):
    folders = [tmp_path / "a", tmp_path / "b"]
    for n, folder in enumerate(folders):
        (folder / "img").mkdir(parents=True)
        (folder / "img" / "p.png").write_bytes(H.png(10 + n, 10))
    assets = fetch_assets([Request(ImageRef("img/p.png"), f) for f in folders], settings,
                          tmp_path / "cache")
    a, b = (assets[asset_key("img/p.png", f)] for f in folders)
    assert a.status == b.status == "ok" and a.sha256 != b.sha256
    assert (a.width, b.width) == (10, 11)


# --- the guard under httpx: the resolver, every hop, proxies, failing closed --------------------

def resolver_for(names: dict[str, list[str] | str]):
    """A resolver that knows only ``names`` (one address or a list) and records each call; any
    other name has no address, as in DNS. System DNS is never asked."""
    calls: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append((host, port))
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        found = names[host]
        return [found] if isinstance(found, str) else list(found)

    resolve.calls = calls
    return resolve


def test_resolved_loopback_is_blocked_and_an_allowed_name_uses_the_resolver(httpserver,
                                                                           tmp_path):
    httpserver.expect_request("/a.jpg").respond_with_data(H.jpeg(10, 10),
                                                          content_type="image/jpeg")
    port = httpserver.port
    url = f"http://photos.example:{port}/a.jpg"
    resolve = resolver_for({"photos.example": "127.0.0.1"})
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    blocked = fetch_one(url, make_settings(None), tmp_path / "a", resolver=resolve)
    assert blocked.status == "placeholder"
    assert blocked.reason == "blocked address photos.example (127.0.0.1)"
    assert resolve.calls == [("photos.example", port)]  # refused after resolution …
    assert hits(httpserver, "/a.jpg") == 0  # … and before any request
    allowed = fetch_one(url, make_settings(None, allow_hosts=(f"photos.example:{port}",)),
                        tmp_path / "b", resolver=resolve)
    assert allowed.status == "ok", allowed.reason
    assert hits(httpserver, "/a.jpg") == 1
    assert httpserver.log[-1][0].headers["Host"] == f"photos.example:{port}"
    assert resolve.calls[-1] == ("photos.example", port)  # the resolver, not system DNS


def test_unresolvable_name_is_reported_and_not_retried(tmp_path):
    resolve = resolver_for({})
    asset = fetch_one("http://nowhere.example/a.jpg", make_settings(None), tmp_path,
                      resolver=resolve)
    assert asset.reason == "cannot resolve nowhere.example: Name or service not known"
    assert resolve.calls == [("nowhere.example", 80)]


def test_redirect_hop_to_a_name_resolving_to_loopback_is_refused(httpserver, settings,
                                                                 tmp_path):
    port = httpserver.port
    httpserver.expect_request("/hop.jpg").respond_with_data(
        "", status=302, headers={"Location": f"http://evil.example:{port}/x"})
    httpserver.expect_request("/x").respond_with_data(H.jpeg(), content_type="image/jpeg")
    resolve = resolver_for({"evil.example": "127.0.0.1"})
    asset = fetch_one(httpserver.url_for("/hop.jpg"), settings, tmp_path, resolver=resolve)
    assert asset.status == "placeholder"
    assert asset.reason == "blocked address evil.example (127.0.0.1)"
    assert hits(httpserver, "/hop.jpg") == 1 and hits(httpserver, "/x") == 0
    assert resolve.calls == [("evil.example", port)]  # 127.0.0.1 itself is never resolved


def test_pin_takes_the_first_allowed_address():
    resolve = resolver_for({"mixed.example": ["10.0.0.7", "93.184.215.14", "8.8.8.8"],
                            "private.example": ["192.168.1.2", "::1"],
                            "empty.example": []})
    guard = Guard([], resolve)
    assert guard.pin("mixed.example", 80) == "93.184.215.14"
    with pytest.raises(BlockedAddress, match=r"^blocked address private\.example "
                                             r"\(192\.168\.1\.2\)$"):
        guard.pin("private.example", 443)
    with pytest.raises(Unresolvable, match="^cannot resolve empty.example: no address$"):
        guard.pin("empty.example", 80)
    with pytest.raises(Unresolvable, match="^cannot resolve unknown.example: "):
        guard.pin("unknown.example", 80)
    # An allowed name is connected to at its (first) resolved address, not by name.
    assert Guard(["mixed.example"], resolve).pin("mixed.example", 80) == "10.0.0.7"
    # A literal address is never resolved.
    calls = len(resolve.calls)
    assert Guard([], resolve).pin("93.184.215.14", 80) == "93.184.215.14"
    assert len(resolve.calls) == calls


def test_the_backend_connects_to_the_pinned_address(httpserver):
    seen = []

    class Recording(httpcore.SyncBackend):
        def connect_tcp(self, host, port, *args, **kw):
            seen.append((host, port))
            return super().connect_tcp(host, port, *args, **kw)

    resolve = resolver_for({"photos.example": "127.0.0.1"})
    guard = Guard([f"photos.example:{httpserver.port}"], resolve)
    stream = DeadlineBackend(guard, inner=Recording()).connect_tcp("photos.example",
                                                                   httpserver.port, timeout=1)
    stream.close()
    assert seen == [("127.0.0.1", httpserver.port)]


@pytest.fixture
def proxy_server():
    """A second local HTTP server, to act as the proxy of the environment."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def test_images_come_through_the_proxy_of_the_environment(proxy_server, tmp_path,
                                                          monkeypatch):
    data = H.jpeg(14, 9)
    # Asked as a proxy, the server sees the absolute URL (and matches on its path).
    proxy_server.expect_request("/p.jpg").respond_with_data(data, content_type="image/jpeg")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy_server.port}")
    resolve = resolver_for({})  # nothing resolves: only the proxy can reach the host
    asset = fetch_one("http://photos.example/p.jpg", make_settings(None), tmp_path,
                      resolver=resolve)
    assert asset.status == "ok", asset.reason
    assert asset.path.read_bytes() == data
    req = proxy_server.log[0][0]
    assert req.environ["REQUEST_URI"] == "http://photos.example/p.jpg"
    assert req.headers["Host"] == "photos.example"
    # The name is looked up here too (a name that leads inside the network is refused even
    # through a proxy); it does not resolve here, so the proxy is trusted to reach it.
    assert resolve.calls == [("photos.example", 80)]


@pytest.mark.parametrize("url", ["http://inside.example/p.jpg", "http://localhost./p.jpg",
                                 "http://printer.local/p.jpg",
                                 "http://metadata.google.internal/computeMetadata/v1/"])
def test_a_proxy_does_not_lead_inside_the_network(proxy_server, tmp_path, monkeypatch, url):
    proxy_server.expect_request("/p.jpg").respond_with_data(H.jpeg(), content_type="image/jpeg")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy_server.port}")
    resolve = resolver_for({"inside.example": ["10.1.2.3"]})
    asset = fetch_one(url, make_settings(None), tmp_path, resolver=resolve)
    assert asset.status == "placeholder"
    assert asset.reason.startswith("blocked address"), asset.reason
    assert proxy_server.log == []


def test_no_proxy_bypasses_the_proxy(httpserver, proxy_server, tmp_path, monkeypatch):
    data = H.jpeg(15, 9)
    port = httpserver.port
    httpserver.expect_request("/d.jpg").respond_with_data(data, content_type="image/jpeg")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy_server.port}")
    monkeypatch.setenv("NO_PROXY", "other.example,photos.example")
    resolve = resolver_for({"photos.example": "127.0.0.1"})
    asset = fetch_one(f"http://photos.example:{port}/d.jpg",
                      make_settings(None, allow_hosts=(f"photos.example:{port}",)), tmp_path,
                      resolver=resolve)
    assert asset.status == "ok", asset.reason
    assert hits(httpserver, "/d.jpg") == 1
    assert proxy_server.log == []
    assert resolve.calls == [("photos.example", port)]


def test_a_blocked_literal_is_refused_even_with_a_proxy(proxy_server, tmp_path, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy_server.port}")
    asset = fetch_one("http://169.254.169.254/latest/meta-data/", make_settings(None), tmp_path)
    assert asset.reason == "blocked address 169.254.169.254"
    assert proxy_server.log == []


def test_the_transport_checks_urls_itself(httpserver):
    """Handed a request that the fetcher's own check was skipped for, the transport refuses
    it with the guard's reason as the cause."""
    transport = GuardedTransport(Guard([]), proxies={})
    try:
        with pytest.raises(httpx.ConnectError) as info:
            transport.handle_request(httpx.Request("GET", httpserver.url_for("/t.jpg")))
    finally:
        transport.close()
    assert isinstance(info.value.__cause__, BlockedAddress)
    assert str(info.value.__cause__) == "blocked address 127.0.0.1"
    assert hits(httpserver, "/t.jpg") == 0


def test_unsupported_proxy_scheme_stops_the_fetch(tmp_path, monkeypatch):
    monkeypatch.setenv("ALL_PROXY", "socks5://user:secret@127.0.0.1:1")
    with pytest.raises(BuilderError, match=r"^proxy socks5://127\.0\.0\.1:1 from the "
                                           r"environment is not supported") as info:
        fetch_one("http://photos.example/a.jpg", make_settings(None), tmp_path)
    assert "secret" not in str(info.value)


def test_guard_that_cannot_be_installed_fails_closed(httpserver, settings, tmp_path,
                                                     monkeypatch):
    def refuse(*args, **kw):
        raise TypeError("__init__() got an unexpected keyword argument 'network_backend'")

    monkeypatch.setattr(httpcore, "ConnectionPool", refuse)
    httpserver.expect_request("/g.jpg").respond_with_data(H.jpeg(), content_type="image/jpeg")
    with pytest.raises(NetworkGuardError) as info:
        fetch_one(httpserver.url_for("/g.jpg"), settings, tmp_path)
    message = str(info.value)
    assert isinstance(info.value, BuilderError)
    assert message.startswith(f"the network guard cannot be installed on httpcore "
                              f"{httpcore.__version__}")
    assert "install a version in the tested range" in message and "\n" not in message
    assert hits(httpserver, "/g.jpg") == 0  # never fetched unguarded
    # Offline, nothing is fetched and no guard is needed.
    assert fetch_one(httpserver.url_for("/g.jpg"), settings, tmp_path,
                     offline=True).reason == "offline: not in the cache"


def test_server_closing_without_an_answer_is_retried(raw_server, tmp_path):
    server = raw_server(lambda conn, head: None)  # reads the request, closes the connection
    asset = fetch_one(f"http://127.0.0.1:{server.port}/gone.jpg", make_settings(server.port),
                      tmp_path)
    assert asset.reason.startswith("connection error: RemoteProtocolError: Server disconnected")
    assert len(server.requests) == 3


def test_connection_refused_is_a_connection_error(tmp_path):
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    asset = fetch_one(f"http://127.0.0.1:{port}/x.jpg", make_settings(port, retries=1),
                      tmp_path)
    assert asset.reason.startswith("connection error: ConnectError: ")


@pytest.mark.parametrize("name", [
    "ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout", "ConnectError",
    "ReadError", "WriteError", "RemoteProtocolError", "LocalProtocolError", "ProxyError",
    "UnsupportedProtocol"])
def test_httpcore_errors_become_the_matching_httpx_errors(name):
    original = getattr(httpcore, name)("boom")
    with pytest.raises(getattr(httpx, name)) as info:
        with _mapped():
            raise original
    assert type(info.value) is getattr(httpx, name) and info.value.__cause__ is original

    def body():  # the same while the body is streamed
        yield b"a"
        raise original

    with pytest.raises(getattr(httpx, name)) as info:
        list(_ResponseStream(body()))
    assert info.value.__cause__ is original


def test_an_address_that_refuses_is_followed_by_the_next(httpserver, tmp_path):
    """As ``socket.create_connection`` does for a name: ``localhost`` may give ::1 first to a
    server that listens on 127.0.0.1 only. Only approved addresses are tried."""
    httpserver.expect_request("/n.jpg").respond_with_data(H.jpeg(), content_type="image/jpeg")
    port = httpserver.port
    resolve = resolver_for({"two.example": ["127.0.0.2", "127.0.0.1"]})  # nothing on .2
    asset = fetch_one(f"http://two.example:{port}/n.jpg",
                      make_settings(None, allow_hosts=(f"two.example:{port}",)), tmp_path,
                      resolver=resolve)
    assert asset.status == "ok", asset.reason
    assert hits(httpserver, "/n.jpg") == 1
    guard = Guard([], resolver_for({"mixed.example": ["10.0.0.7", "93.184.215.14",
                                                      "127.0.0.1", "8.8.8.8"]}))
    assert guard.addresses("mixed.example", 80) == ["93.184.215.14", "8.8.8.8"]
