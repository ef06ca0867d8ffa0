"""Shared fixtures: a local image server for the seed's image URLs, a CLI runner, and the
sandbox every test runs in.

The sandbox (set for the whole session, and inherited by every CLI run): the user cache folder
is a temporary one, so no test reads or fills the real cache; the proxy variables point at a
closed port on 127.0.0.1, so a request that escaped to any other host fails at once instead of
reaching out; only 127.0.0.1 and localhost are reached directly.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_corpus import photo_jpeg
from helpers_corpus import seed_images as _seed_images

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED = SEEDS / "000_dc99e8bd12c8b5f6.txt"


def seed_images(path: Path = SEED) -> dict[str, tuple[int, int]]:
    """The seed's image URLs (real ones, behind the proxy) and their declared sizes."""
    return {i["url"]: (i["width"], i["height"]) for i in _seed_images(path)}


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: Where requests that are not for 127.0.0.1 go during the tests: nowhere.
CLOSED_PROXY = f"http://127.0.0.1:{_closed_port()}"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(scope="session", autouse=True)
def sandbox(tmp_path_factory):
    """The environment of every test: its own cache folder, proxies that lead nowhere."""
    saved = dict(os.environ)
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("user-cache"))
    for name in PROXY_VARIABLES:
        os.environ[name] = os.environ[name.upper()] = CLOSED_PROXY
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def image_server():
    """A real HTTP server on 127.0.0.1 that serves a JPEG at each seed image's path, under
    /zkres1/… and /zkres2/… for URL rewrites, and at the original path for use as an HTTP
    proxy; ``.images`` maps the original URL to the bytes served."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    server.images = {}
    for i, (url, (w, h)) in enumerate(sorted(seed_images().items())):
        data = photo_jpeg(w, h, seed=i)
        path = re.sub(r"^http://(zkres\d)\.myzaker\.com", r"/\1", url)
        server.expect_request(path).respond_with_data(data, content_type="image/jpeg")
        # Asked as a proxy, the server sees the original path (the two hosts' names differ).
        proxied = re.sub(r"^http://zkres\d\.myzaker\.com", "", url)
        server.expect_request(proxied).respond_with_data(data, content_type="image/jpeg")
        server.images[url] = data
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def serve_args(server) -> list[str]:
    """Flags that point the seed's image hosts at the local server."""
    base = f"http://127.0.0.1:{server.port}"
    return ["--rewrite", f"http://zkres1.myzaker.com/={base}/zkres1/",
            "--rewrite", f"http://zkres2.myzaker.com/={base}/zkres2/",
            "--allow-host", f"127.0.0.1:{server.port}"]


def run_cli(*args, cwd: Path | None = None, env: dict | None = None
            ) -> subprocess.CompletedProcess:
    """``python -m builder ARGS`` in a subprocess, as a user would run it (in the sandbox)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "builder", *map(str, args)], cwd=cwd or ROOT,
                          env=full_env, capture_output=True, text=True, timeout=300)
