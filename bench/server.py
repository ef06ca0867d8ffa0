"""A local image server for the benchmark: files under a root folder, on 127.0.0.1 only.

One :class:`ImageServer` listens on one or more ports of 127.0.0.1 (one port per image host
that the articles name, so that the builder's per-host limit sees as many hosts as on the real
web) and serves ``GET /<path>`` from ``root/<path>``. Each response can be delayed by a fixed
latency before its first byte, and capped to a bandwidth in bytes per second (per response).

It is bounded: it answers at most ``max_requests`` requests (then 503) and stops by itself after
``max_seconds``, whatever happens to the process that started it; used as a context manager it
stops at the end of the ``with`` block.

Run it alone: ``python bench/server.py ROOT --ports 2 --latency 0.1 --seconds 60``.
"""

from __future__ import annotations

import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

HOST = "127.0.0.1"
CHUNK = 16 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real image host
    server_version = "bench-images/1"
    owner: ImageServer  # set on the subclass made per server

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def do_HEAD(self):
        self._serve(body=False)

    def do_GET(self):
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        owner = self.owner
        if not owner.count_request():
            self.send_error(503, "request limit reached")
            return
        path = owner.resolve(urlsplit(self.path).path)
        if path is None:
            owner.count_miss()
            self.send_error(404)
            return
        data = path.read_bytes()
        if owner.latency:
            time.sleep(owner.latency)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg" if path.suffix.lower() in (".jpg", ".jpeg")
                         else "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not body:
            return
        try:
            if not owner.bandwidth:
                self.wfile.write(data)
            else:
                start = time.monotonic()
                for offset in range(0, len(data), CHUNK):
                    due = start + offset / owner.bandwidth
                    wait = due - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    self.wfile.write(data[offset:offset + CHUNK])
                wait = start + len(data) / owner.bandwidth - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            owner.count_bytes(len(data))
        except (BrokenPipeError, ConnectionResetError):
            pass


class ImageServer:
    """Serves ``root`` on ``ports`` ports of 127.0.0.1; ``.ports`` holds the ports bound."""

    def __init__(self, root: Path, ports: int = 1, latency: float = 0.0,
                 bandwidth: float | None = None, max_requests: int = 100_000,
                 max_seconds: float = 900.0):
        self.root = Path(root).resolve()
        self.latency = float(latency or 0.0)
        self.bandwidth = float(bandwidth) if bandwidth else None
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.requests = 0
        self.misses = 0
        self.bytes_sent = 0
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"owner": self})
        self._servers = []
        for _ in range(ports):
            server = ThreadingHTTPServer((HOST, 0), handler)
            server.daemon_threads = True
            self._servers.append(server)
        self.ports = [s.server_address[1] for s in self._servers]
        self._threads: list[threading.Thread] = []
        self._timer: threading.Timer | None = None
        self._stopped = False

    # -- bookkeeping ------------------------------------------------------------------------
    def count_request(self) -> bool:
        with self._lock:
            self.requests += 1
            return self.requests <= self.max_requests

    def count_miss(self) -> None:
        with self._lock:
            self.misses += 1

    def count_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    def reset_stats(self) -> None:
        with self._lock:
            self.requests = self.misses = self.bytes_sent = 0

    def stats(self) -> dict:
        with self._lock:
            return {"requests": self.requests, "misses": self.misses,
                    "bytes": self.bytes_sent}

    def resolve(self, url_path: str) -> Path | None:
        rel = unquote(url_path).lstrip("/")
        if not rel or "\x00" in rel:
            return None
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    def base(self, index: int = 0) -> str:
        return f"http://{HOST}:{self.ports[index % len(self.ports)]}"

    # -- life -------------------------------------------------------------------------------
    def start(self) -> ImageServer:
        for server in self._servers:
            t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                 daemon=True, name=f"image-server-{server.server_address[1]}")
            t.start()
            self._threads.append(t)
        self._timer = threading.Timer(self.max_seconds, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> ImageServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Serve a folder of images on 127.0.0.1.")
    p.add_argument("root", type=Path)
    p.add_argument("--ports", type=int, default=1, help="how many ports to listen on")
    p.add_argument("--latency", type=float, default=0.0, help="seconds before each response")
    p.add_argument("--bandwidth", type=float, default=0.0,
                   help="bytes per second per response (0: no cap)")
    p.add_argument("--seconds", type=float, default=60.0, help="stop after this long")
    a = p.parse_args(argv)
    with ImageServer(a.root, a.ports, a.latency, a.bandwidth or None,
                     max_seconds=a.seconds) as server:
        print("serving", a.root, "on", ", ".join(server.base(i) for i in range(a.ports)),
              f"for {a.seconds:g} s", flush=True)
        server._threads[0].join(a.seconds + 1)
        print(server.stats())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
