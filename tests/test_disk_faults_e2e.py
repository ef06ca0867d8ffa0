"""Faults of the disk and of the cache, from the user's side: a full output folder, a full
cache, damaged cache entries, an output folder that cannot be written and a theme that cannot
work, each found by a real build (small tmpfs mounts stand for full disks)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
from pathlib import Path

import helpers_images as H
import pytest
from conftest import run_cli
from pytest_httpserver import HTTPServer

EPOCH = "1661924079"
PHOTOS = 6


@pytest.fixture(scope="module")
def photos():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    server.asked = 0
    lock = threading.Lock()
    data = {k: H.jpeg(800, 600, color=(30 * k, 60, 90)) for k in range(PHOTOS)}

    def serve(request):
        from werkzeug import Response

        with lock:
            server.asked += 1
        return Response(data[int(request.args["k"])], content_type="image/jpeg")

    server.expect_request("/p.jpg").respond_with_handler(serve)
    server.photos = data
    yield server
    server.clear()
    server.stop()


def write_article(folder: Path, server: HTTPServer) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    images = "".join(f'<img data-original="{server.url_for("/p.jpg")}?k={k}">\n↑ 第{k}张。\n'
                     for k in range(PHOTOS))
    (folder / "a.txt").write_text(f"---\ntitle: 磁盘测试\ndate: 2022-08-31\n---\n"
                                  f"<p>开头的一段。</p>{images}<p>结尾的一段。</p>\n", "utf-8")
    return folder


def build(server: HTTPServer, src: Path, out: Path, cache: Path, *extra):
    return run_cli("build", src, "--out", out, "--cache-dir", cache, "--name", "book",
                   "--allow-host", f"127.0.0.1:{server.port}", *extra,
                   env={"SOURCE_DATE_EPOCH": EPOCH})


@pytest.fixture
def small_disk(tmp_path):
    """``small_disk(kb, readonly=False)``: a tmpfs of that size, mounted for this test."""
    mounts = []

    def make(kb: int, readonly: bool = False) -> Path:
        if os.geteuid() != 0:
            pytest.skip("mounting a small tmpfs needs root")
        where = tmp_path / f"disk{len(mounts)}"
        where.mkdir()
        options = f"size={kb}k" + (",ro" if readonly else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                       check=True)
        mounts.append(where)
        return where

    yield make
    for where in mounts:
        subprocess.run(["umount", "-l", str(where)], check=False)


def one_clean_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    return lines[0]


def test_a_full_output_disk_is_one_line_with_the_path_and_the_room_needed(
        photos, tmp_path, small_disk):
    out = small_disk(600)
    (out / "old.txt").write_text("the previous book")
    result = build(photos, write_article(tmp_path / "src", photos), out, tmp_path / "cache",
                   "-q")
    assert result.returncode == 1, result.stderr
    line = one_clean_line(result)
    written = line.removeprefix(f"builder: output error: cannot write {out}/").split(":")[0]
    assert written in ("book.epub", "book.pdf", "book-booklet.pdf"), line  # the one it was for
    assert "no space left on device (needs about " in line and line.endswith(" MB)")
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]  # nothing stray, nothing lost
    assert (out / "old.txt").read_text() == "the previous book"


def test_a_full_cache_disk_builds_the_book_without_caching(photos, tmp_path, small_disk):
    cache = small_disk(64)
    out = tmp_path / "dist"
    result = build(photos, write_article(tmp_path / "src", photos), out, cache, "-v")
    assert result.returncode == 0, result.stderr
    assert f"the image cache {cache} cannot be written (no space left on device): building " \
           "without caching" in result.stderr
    report = json.loads((out / "book.report.json").read_text("utf-8"))
    assert [i["status"] for i in report["images"]] == ["ok"] * PHOTOS
    assert report["print"] and len(report["print"]) == PHOTOS  # every photo printed


def damage(cache: Path, url: str, how: str) -> None:
    record = cache / "urls" / (hashlib.sha256(url.encode()).hexdigest() + ".json")
    entry = json.loads(record.read_text())
    if how == "other image":  # bytes that hash right but are not the image recorded
        data = H.png(10, 10)
        sha = hashlib.sha256(data).hexdigest()
        (cache / "objects" / sha).write_bytes(data)
        entry["sha256"] = sha
    elif how == "wrong types":
        entry["width"], entry["height"] = "800", None
    record.write_text(json.dumps(entry))


@pytest.mark.parametrize("how", ["other image", "wrong types"])
def test_a_damaged_cache_entry_is_fetched_again(photos, tmp_path, how):
    src, cache = write_article(tmp_path / "src", photos), tmp_path / "cache"
    assert build(photos, src, tmp_path / "one", cache).returncode == 0
    url = f"{photos.url_for('/p.jpg')}?k=2"
    damage(cache, url, how)
    asked = photos.asked
    result = build(photos, src, tmp_path / "two", cache, "--force")
    assert result.returncode == 0, result.stderr
    assert photos.asked == asked + 1  # that one photo, again
    report = json.loads((tmp_path / "two" / "book.report.json").read_text("utf-8"))
    image = next(i for i in report["images"] if i["url"] == url)
    assert (image["status"], image["width"], image["height"]) == ("ok", 800, 600)


def test_offline_a_damaged_entry_becomes_a_placeholder_saying_so(photos, tmp_path):
    src, cache = write_article(tmp_path / "src", photos), tmp_path / "cache"
    assert build(photos, src, tmp_path / "one", cache).returncode == 0
    url = f"{photos.url_for('/p.jpg')}?k=4"
    damage(cache, url, "other image")
    result = build(photos, src, tmp_path / "two", cache, "--offline", "--force")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "two" / "book.report.json").read_text("utf-8"))
    image = next(i for i in report["images"] if i["url"] == url)
    assert image["status"] == "placeholder"
    assert image["reason"] == "offline: cache entry corrupt (deleted)"


def test_an_output_folder_that_cannot_be_written_stops_before_any_fetch(
        photos, tmp_path, small_disk):
    out = small_disk(64, readonly=True)
    asked = photos.asked
    result = build(photos, write_article(tmp_path / "src", photos), out / "dist",
                   tmp_path / "cache", "-q")
    assert result.returncode == 1
    line = one_clean_line(result)
    assert line.startswith(f"builder: output error: {out}/dist: cannot write to the output "
                           "folder")
    assert photos.asked == asked


def test_a_theme_using_what_the_builder_does_not_give_stops_before_any_fetch(photos, tmp_path):
    theme = tmp_path / "theme"
    (theme / "templates" / "epub").mkdir(parents=True)
    (theme / "templates" / "epub" / "chapter.xhtml.j2").write_text(
        "<html><body>{{ article.title }} {{ chapter_number }}</body></html>", "utf-8")
    asked = photos.asked
    result = build(photos, write_article(tmp_path / "src", photos), tmp_path / "dist",
                   tmp_path / "cache", "--theme", theme, "-q")
    assert result.returncode != 0
    line = one_clean_line(result)
    assert "template epub/chapter.xhtml.j2 uses chapter_number, which the builder does not " \
           "give it (it gives article)" in line
    assert str(theme) in line
    assert photos.asked == asked and not (tmp_path / "dist").exists()
