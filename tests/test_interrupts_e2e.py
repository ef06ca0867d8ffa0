"""Interrupts seen from the user's side: Ctrl-C and SIGTERM sent to a real build while it
fetches, while it lays the PDF out and while it writes; SIGKILL and the next build. Each
ends at once with one line and the right exit code, the output folder as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import helpers_images as H
import pytest
from conftest import ROOT
from pytest_httpserver import HTTPServer
from werkzeug import Response

EPOCH = "1661924079"
SLOW_S = 4.0  # each photo of the slow server takes this long
PHOTOS = 24  # with 8 downloads at once: about 12 s of fetching


@pytest.fixture(scope="module")
def servers():
    """A slow server (each photo after SLOW_S seconds; ``asked`` is set at the first
    request) and a fast one."""
    slow = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    slow.start()
    slow.asked = threading.Event()
    slow.count = 0
    release = threading.Event()
    jpeg = H.jpeg(60, 40)

    def late(request):
        slow.count += 1
        slow.asked.set()
        release.wait(SLOW_S)
        return Response(jpeg, content_type="image/jpeg")

    slow.expect_request("/p.jpg").respond_with_handler(late)
    fast = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    fast.start()
    fast.expect_request("/p.jpg").respond_with_data(H.jpeg(900, 600), content_type="image/jpeg")
    yield slow, fast
    release.set()
    for server in (slow, fast):
        server.clear()
        server.stop()


def write_book(folder: Path, server: HTTPServer, photos: int, paragraphs: int = 10) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, 4):
        body = "".join(f'<p>第{n}篇第{k}段：街角的面包店清晨五点就亮了灯，路过的人都会停一下。</p>'
                       * 3 for k in range(paragraphs))
        images = "".join(f'<img data-original="{server.url_for("/p.jpg")}?n={n}-{k}">'
                         for k in range(photos // 3))
        (folder / f"a{n}.txt").write_text(
            f"---\ntitle: 第{n}篇\ndate: 2022-08-0{n}\n---\n{body}{images}{body}\n", "utf-8")
    return folder


def start(src: Path, out: Path, cache: Path, server: HTTPServer, *extra) -> subprocess.Popen:
    """A build in its own process group, as a user's shell starts it."""
    cmd = [sys.executable, "-m", "builder", "build", str(src), "--out", str(out),
           "--cache-dir", str(cache), "--title", "合集", "--name", "book",
           "--allow-host", f"127.0.0.1:{server.port}", *map(str, extra)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True,
                            env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})


def until(condition, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.02)


def staging(out: Path) -> list[Path]:
    return sorted(out.glob(".builder-tmp-*")) if out.is_dir() else []


def stopped(proc: subprocess.Popen, sig: int) -> tuple[float, str, str]:
    """Send ``sig``; the seconds until the build ended, and its output."""
    sent = time.monotonic()
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    return time.monotonic() - sent, stdout, stderr


def group_gone(proc: subprocess.Popen) -> bool:
    """No process of the build's group (its layout workers) is left."""
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize(("sig", "code", "words"), [(signal.SIGINT, 130, "interrupted"),
                                                    (signal.SIGTERM, 143, "stopped by SIGTERM")])
def test_a_signal_while_fetching_stops_at_once(servers, tmp_path, sig, code, words):
    slow, _ = servers
    slow.asked.clear()
    out = tmp_path / "never" / "dist"
    proc = start(write_book(tmp_path / "src", slow, PHOTOS), out, tmp_path / "cache", slow)
    until(slow.asked.is_set)
    took, _, stderr = stopped(proc, sig)
    assert proc.returncode == code, stderr
    assert took < SLOW_S, took  # the downloads still running were not waited for
    assert stderr.strip().splitlines()[-1] == f"builder: {words}; {out} is as it was"
    assert "Traceback" not in stderr
    assert not (tmp_path / "never").exists()  # nothing written: no folder made
    until(lambda: group_gone(proc), 10)


def first_build(tmp_path: Path, server: HTTPServer, *extra) -> tuple[Path, Path, dict]:
    src = write_book(tmp_path / "src", server, 9, paragraphs=60)
    out, cache = tmp_path / "dist", tmp_path / "cache"
    proc = start(src, out, cache, server, *extra)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    return src, out, {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}


@pytest.mark.parametrize(("stage", "sig", "code"), [("layout", signal.SIGINT, 130),
                                                    ("write", signal.SIGTERM, 143)])
def test_a_signal_while_laying_out_or_writing_leaves_the_book_as_it_was(
        servers, tmp_path, stage, sig, code):
    """``layout``: the PDF laid out by two forked processes; ``write``: the EPUB being
    written (the staging folder there, the PDF not yet)."""
    _, fast = servers
    src, out, before = first_build(tmp_path, fast)
    (src / "a1.txt").write_text((src / "a1.txt").read_text("utf-8") + "<p>又一段。</p>",
                                "utf-8")
    proc = start(src, out, tmp_path / "cache", fast, "--force", "--jobs", "2")
    until(lambda: bool(staging(out)) and (stage == "write" or any(
        p.name.endswith(".epub") for p in staging(out)[0].iterdir())))
    took, _, stderr = stopped(proc, sig)
    assert proc.returncode == code, stderr
    assert took < 5, took
    assert stderr.strip().splitlines()[-1].endswith(f"; {out} is as it was")
    assert staging(out) == []
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    until(lambda: group_gone(proc), 10)


def test_the_next_build_removes_what_a_killed_build_left(servers, tmp_path):
    _, fast = servers
    src, out, before = first_build(tmp_path, fast)
    proc = start(src, out, tmp_path / "cache", fast, "--force")
    until(lambda: bool(staging(out)))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    left = staging(out)
    assert left, "SIGKILL leaves the staging folder"
    an_hour_ago = time.time() - 3600
    os.utime(left[0], (an_hour_ago, an_hour_ago))
    # Beside it, what is not an orphan staging folder: a live build's, a file, a folder.
    live = out / f".builder-tmp-{os.getpid()}-live"
    live.mkdir()
    os.utime(live, (an_hour_ago, an_hour_ago))
    (out / ".builder-tmp-notes.txt").write_text("mine")
    (out / "keep").mkdir()
    again = start(src, out, tmp_path / "cache", fast)
    _, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr
    assert not left[0].exists()
    assert live.is_dir() and (out / ".builder-tmp-notes.txt").read_text() == "mine"
    assert (out / "keep").is_dir()
    assert {p.name for p in out.iterdir() if p.is_file()} >= set(before)
