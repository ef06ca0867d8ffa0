"""What the caches guarantee, seen from the user's side: a book of four articles whose photos
come from a server on 127.0.0.1, built with the CLI again and again.

- Nothing changed: the build says "up to date" and writes nothing (no file is touched).
- One article changed: that article is cleaned, measured and laid out again, the others are
  kept; the book is the one a build without any cache makes, byte for byte.
- ``--force``: everything but the downloads is done again, with the same bytes.
- A damaged entry (a part's PDF, an article's record) is not used: it is done again.
- A theme file or a cached image that changed makes the book out of date.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import zipfile
from pathlib import Path

import pytest
from conftest import run_cli
from helpers_corpus import photo_jpeg
from pytest_httpserver import HTTPServer

from builder import checked, subsets
from builder.store import Store

EPOCH = "1661924079"
ARTICLE = """---
title: 第{n}篇：城市的角落
date: 2022-08-0{n}
---
<p>{text}</p>
<div onclick="x()"><img src="/proxy?u=1" data-original="http://photos.example/{n}/a.jpg"></div>
↑ 第{n}篇的第一张照片。
<p>{text}</p>
<img data-original="http://photos.example/{n}/b.jpg">
<p>{text}</p>
"""


@pytest.fixture(scope="module")
def photos():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    for n in range(1, 6):
        for k, name in enumerate("ab"):
            server.expect_request(f"/{n}/{name}.jpg").respond_with_data(
                photo_jpeg(900, 600, seed=10 * n + k), content_type="image/jpeg")
    yield server
    server.clear()
    server.stop()


def write_articles(folder: Path, count: int = 4) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    text = "社区里的小事，一件一件做好，居民的日子就一天一天好起来。" * 12
    return [_write(folder / f"a{n}.txt", ARTICLE.format(n=n, text=text))
            for n in range(1, count + 1)]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def cli(photos, src: Path, out: Path, cache: Path, *extra, env: dict | None = None):
    return run_cli("build", src, "--out", out, "--cache-dir", cache, "--title", "合集",
                   "--name", "book", "--rewrite", f"http://photos.example/={photos.url_for('/')}",
                   "--allow-host", f"127.0.0.1:{photos.port}", *extra,
                   env={"SOURCE_DATE_EPOCH": EPOCH, **(env or {})})


def build(photos, src: Path, out: Path, cache: Path, *extra):
    result = cli(photos, src, out, cache, *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((out / "book.report.json").read_text(encoding="utf-8"))
    return result, report


def books(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes()
            for name in ("book.epub", "book.pdf", "book-booklet.pdf")}


def stamps(out: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in out.iterdir()}


def test_nothing_changed_means_nothing_done(photos, tmp_path):
    src, out, cache = tmp_path / "src", tmp_path / "out", tmp_path / "cache"
    write_articles(src)
    build(photos, src, out, cache)
    before = stamps(out)
    requests = len(photos.log)
    result = cli(photos, src, out, cache)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("up to date: nothing changed since the last build")
    assert str(out / "book.pdf") in result.stdout
    assert stamps(out) == before  # not one file written, not even the report
    assert len(photos.log) == requests  # no image asked for
    # Found without importing the stages or their libraries (Python lists what it imports).
    result = cli(photos, src, out, cache, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.stdout.startswith("up to date")
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert "builder.state" in imported
    assert not imported & {"builder.pipeline", "builder.clean", "builder.fetch", "weasyprint",
                           "bs4", "httpx", "pikepdf", "PIL", "ebooklib"}


def test_a_build_with_every_photo_cached_loads_no_http_library(photos, tmp_path):
    src, out, cache = tmp_path / "src", tmp_path / "out", tmp_path / "cache"
    paths = write_articles(src)

    def imported(result) -> set[str]:
        assert result.returncode == 0, result.stderr
        return {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}

    profiled = {"PYTHONPROFILEIMPORTTIME": "1"}
    assert "httpx" in imported(cli(photos, src, out, cache, "--format", "epub", env=profiled))
    requests = len(photos.log)
    text = paths[0].read_text(encoding="utf-8")
    paths[0].write_text(text.replace("<p>", "<p>新的一段。</p><p>", 1), encoding="utf-8")
    found = imported(cli(photos, src, out, cache, "--format", "epub", env=profiled))
    assert "builder.fetch" in found and not found & {"httpx", "httpcore", "h2"}
    assert len(photos.log) == requests


def test_one_article_changed_is_the_only_one_done_again(photos, tmp_path):
    src, out, cache = tmp_path / "src", tmp_path / "out", tmp_path / "cache"
    paths = write_articles(src)
    _, first = build(photos, src, out, cache)
    assert first["work"]["cleaned articles"] == {"done": 4, "kept": 0}
    text = paths[2].read_text(encoding="utf-8")
    paths[2].write_text(text.replace("<p>", "<p>新的一段。</p><p>", 1), encoding="utf-8")
    result, second = build(photos, src, out, cache)
    assert second["work"]["cleaned articles"] == {"done": 1, "kept": 3}
    assert second["work"]["measured articles"] == {"done": 1, "kept": 3}
    assert second["work"]["measured blocks"]["done"] == 1  # the new paragraph, no other
    parts = second["work"]["PDF parts"]
    assert parts["kept"] >= 1 and parts["done"] >= 1  # the front and the changed run of articles
    assert second["work"]["preflighted parts"] == parts  # only the pages of parts laid out again
    assert "kept from an earlier build: 3 of 4 cleaned articles" in result.stdout
    with zipfile.ZipFile(out / "book.epub") as z:
        assert any("新的一段" in z.read(n).decode() for n in z.namelist() if "chapter" in n)
    # The same book as a build that keeps nothing makes, from an empty cache of work.
    fresh_out, fresh_cache = tmp_path / "fresh", tmp_path / "fresh-cache"
    shutil.copytree(cache, fresh_cache, ignore=shutil.ignore_patterns("articles", "layout",
                                                                      "parts", "fonts"))
    _, fresh = build(photos, src, fresh_out, fresh_cache)
    assert fresh["work"]["cleaned articles"] == {"done": 4, "kept": 0}
    assert books(fresh_out) == books(out)
    assert fresh["preflight"] == second["preflight"]


def test_force_does_everything_again_with_the_same_bytes(photos, tmp_path):
    src, out, cache = tmp_path / "src", tmp_path / "out", tmp_path / "cache"
    paths = write_articles(src)
    build(photos, src, out, cache)
    kept = books(out)
    requests = len(photos.log)
    _, forced = build(photos, src, out, cache, "--force")
    assert all(t["kept"] == 0 for t in forced["work"].values())
    assert {i["status"] for i in forced["images"]} == {"cached"}  # the image cache is used
    assert len(photos.log) == requests
    assert books(out) == kept
    # What the forced build did is kept for the next one.
    paths[0].write_text(paths[0].read_text(encoding="utf-8") + "<p>又一段。</p>\n",
                        encoding="utf-8")
    _, after = build(photos, src, out, cache)
    assert after["work"]["cleaned articles"] == {"done": 1, "kept": 3}


def test_a_damaged_entry_is_done_again(photos, tmp_path):
    src, out, cache = tmp_path / "src", tmp_path / "out", tmp_path / "cache"
    paths = write_articles(src)
    build(photos, src, out, cache)
    kept = books(out)
    for pdf in (cache / "parts").glob("*.pdf"):  # same length, other bytes
        data = bytearray(pdf.read_bytes())
        data[len(data) // 2] ^= 0xFF
        pdf.write_bytes(bytes(data))
    for record in (cache / "articles").glob("*.json"):  # loaded and cleaned: all damaged
        record.write_text('{"article": {"title": 7}}', encoding="utf-8")
    for record in (cache / "parts").glob("*.json"):  # what the pages were found to have
        if '"findings"' in record.read_text(encoding="utf-8"):
            record.write_text('{"findings": [[-1, 2, "x"]]}', encoding="utf-8")
    paths[0].touch()  # the same bytes: still up to date unless something else changed
    (out / ".builder-state.json").unlink()  # so that the build does not stop at "up to date"
    _, again = build(photos, src, out, cache)
    assert again["work"]["PDF parts"]["kept"] == 0
    assert again["work"]["preflighted parts"]["kept"] == 0
    assert again["work"]["cleaned articles"] == {"done": 4, "kept": 0}
    assert books(out) == kept


def test_a_changed_theme_file_or_cached_image_is_not_up_to_date(photos, tmp_path):
    src, out, cache = tmp_path / "src", tmp_path / "out", tmp_path / "cache"
    write_articles(src)
    theme = tmp_path / "theme"
    (theme / "styles").mkdir(parents=True)
    (theme / "styles" / "print.css").write_text(
        (Path(__file__).parent.parent / "styles" / "print.css").read_text(encoding="utf-8"),
        encoding="utf-8")
    build(photos, src, out, cache, "--theme", theme)
    with (theme / "styles" / "print.css").open("a", encoding="utf-8") as fh:
        fh.write("\n.byline { color: #333; }\n")
    result, report = build(photos, src, out, cache, "--theme", theme)
    assert not result.stdout.startswith("up to date")
    assert report["work"]["cleaned articles"]["kept"] == 4  # only the print was affected
    assert report["work"]["PDF parts"]["done"] >= 1
    # An image the cache now records differently (fetched again, say): out of date.
    record = next((cache / "urls").glob("*.json"))
    entry = json.loads(record.read_text())
    other = next(p for p in (cache / "objects").iterdir()
                 if p.name != entry["sha256"] and not p.name.endswith(checked.SUFFIX))
    record.write_text(json.dumps({**entry, "sha256": other.name}))
    result, _ = build(photos, src, out, cache, "--theme", theme)
    assert not result.stdout.startswith("up to date")


def test_parts_laid_out_in_parallel_make_the_same_book(photos, tmp_path, monkeypatch):
    """Several parts (one article each), laid out two at a time in forked processes and in
    this one: the same bytes, and every part was laid out."""
    import builder
    import builder.parts
    from builder.settings import load_settings

    monkeypatch.setattr(builder.parts, "PART_PAGES", 1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    src = tmp_path / "src"
    write_articles(src)
    made = {}
    for jobs in (2, 1):
        out = tmp_path / f"out{jobs}"
        settings = load_settings(None, {
            "paths": (src,), "out_dir": out, "cache_dir": tmp_path / "cache", "jobs": jobs,
            "force": True, "book.title": "合集", "book.name": "book",
            "fetch.rewrite": {"http://photos.example/": photos.url_for("/")},
            "fetch.allow_hosts": [f"127.0.0.1:{photos.port}"]})
        report = builder.build(settings)
        assert report.work["PDF parts"] == {"done": 5, "kept": 0}  # the front once, 4 articles
        made[jobs] = books(out)
    assert made[2] == made[1]


def test_the_fronts_length_is_kept_and_the_front_laid_out_once(photos, tmp_path, monkeypatch):
    """The front's own length comes from a layout that writes nothing, kept: a second build
    (one article changed) does not lay it out for it again; and the front is laid out once a
    build, beside the parts, where its page numbers turn out as the plan gave them."""
    import builder
    import builder.parts
    from builder import pdf
    from builder.settings import load_settings

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    src = tmp_path / "src"
    paths = write_articles(src)
    log = tmp_path / "counted"  # a file: the print outputs are written in a process of their own
    log.write_text("")
    real = pdf.page_count

    def counting(*a):
        with log.open("a") as fh:
            fh.write("1")
        return real(*a)

    monkeypatch.setattr(pdf, "page_count", counting)

    def run():
        settings = load_settings(None, {
            "paths": (src,), "out_dir": tmp_path / "out", "cache_dir": tmp_path / "cache",
            "jobs": 2, "book.title": "合集", "book.name": "book",
            "fetch.rewrite": {"http://photos.example/": photos.url_for("/")},
            "fetch.allow_hosts": [f"127.0.0.1:{photos.port}"]})
        return builder.build(settings)

    monkeypatch.setattr(builder.parts, "PART_PAGES", 1)  # a part an article
    first = run()
    assert log.read_text() == "1"
    assert first.work["PDF parts"] == {"done": 5, "kept": 0}  # the front once, 4 articles
    text = paths[1].read_text(encoding="utf-8")
    paths[1].write_text(text.replace("<p>", "<p>又一段。</p><p>", 1), encoding="utf-8")
    second = run()
    assert log.read_text() == "1"  # kept
    assert second.work["PDF parts"]["kept"] >= 1


def test_a_wrong_first_count_of_the_front_is_found_out_and_the_book_is_the_same(
        photos, tmp_path, monkeypatch):
    """The front's pages, counted beside the measuring, are only where the articles are first
    laid out from: a count that is one off (the articles then start on the other side) is
    found out when the front is laid out, and the book is the one an honest count makes."""
    import builder
    import builder.parts
    import builder.printing
    from builder.settings import load_settings

    monkeypatch.setattr(builder.parts, "PART_PAGES", 1)  # a part an article
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    src = tmp_path / "src"
    write_articles(src)

    def run(name: str):
        settings = load_settings(None, {
            "paths": (src,), "out_dir": tmp_path / name, "cache_dir": tmp_path / "cache",
            "jobs": 2, "force": True, "book.title": "合集", "book.name": "book",
            "fetch.rewrite": {"http://photos.example/": photos.url_for("/")},
            "fetch.allow_hosts": [f"127.0.0.1:{photos.port}"]})
        return builder.build(settings), books(tmp_path / name)

    honest, made = run("honest")
    real = builder.printing.front_pages
    monkeypatch.setattr(builder.printing, "front_pages", lambda *a, lay_out=True: (
        real(*a, lay_out=lay_out) + 1) if lay_out else None)
    wrong, made_wrong = run("wrong")
    assert made_wrong == made
    # the article after the front was laid out on the wrong side first, then again
    assert wrong.work["PDF parts"]["done"] > honest.work["PDF parts"]["done"]


def test_jobs_must_be_a_whole_number(tmp_path):
    result = run_cli("build", tmp_path, "--jobs", "0")
    assert result.returncode == 2 and "--jobs" in result.stderr


def test_up_to_date_is_only_said_of_a_whole_book_built_the_same_way(photos, tmp_path):
    """A book that left an article out is never up to date (the next build, --strict or
    not, looks again); another SOURCE_DATE_EPOCH is another book; a local photo whose name is
    percent-encoded in the article is followed by its real name."""
    from PIL import Image

    src, out, cache = tmp_path / "src", tmp_path / "out", tmp_path / "cache"
    write_articles(src, 2)
    Image.new("RGB", (640, 480), (30, 120, 90)).save(src / "图.png")
    with (src / "a1.txt").open("a", encoding="utf-8") as fh:
        fh.write('<p><img src="%E5%9B%BE.png"></p>\n')
    (src / "broken.txt").write_bytes(b"---\ntitle: [unclosed\n---\n<p>x</p>")
    build(photos, src, out, cache, "--keep-going")
    again = cli(photos, src, out, cache, "--keep-going")
    assert again.returncode == 0 and not again.stdout.startswith("up to date")
    strict = cli(photos, src, out, cache, "--keep-going", "--strict")
    assert strict.returncode == 1 and "could not be read" in strict.stderr
    (src / "broken.txt").unlink()
    build(photos, src, out, cache)
    assert cli(photos, src, out, cache).stdout.startswith("up to date")
    other = run_cli("build", src, "--out", out, "--cache-dir", cache, "--title", "合集",
                    "--name", "book", "--rewrite",
                    f"http://photos.example/={photos.url_for('/')}",
                    "--allow-host", f"127.0.0.1:{photos.port}",
                    env={"SOURCE_DATE_EPOCH": str(int(EPOCH) + 86400)})
    assert other.returncode == 0 and not other.stdout.startswith("up to date")
    build(photos, src, out, cache)
    assert cli(photos, src, out, cache).stdout.startswith("up to date")
    Image.new("RGB", (640, 480), (200, 20, 20)).save(src / "图.png")  # the local photo changed
    _, report = build(photos, src, out, cache)
    assert report["work"]["cleaned articles"] == {"done": 0, "kept": 2}  # built again


def _fonts(pdf_path: Path) -> dict[str, set]:
    """Each font's name and the font programs its descriptors point at."""
    import pikepdf

    found: dict[str, set] = {}
    with pikepdf.open(pdf_path) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                program = obj.get("/FontFile3") or obj.get("/FontFile2")
                assert program is not None, f"{obj.FontName} is not embedded"
                assert subsets.stub(program.read_bytes()) is None, "a stub reached the book"
                found.setdefault(str(obj.FontName), set()).add(program.objgen)
    return found


def _in_process(photos, tmp_path, src: Path, out: Path, monkeypatch, **extra):
    import builder
    from builder.settings import load_settings

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    settings = load_settings(None, {
        "paths": (src,), "out_dir": out, "cache_dir": tmp_path / "cache", "force": True,
        "book.title": "合集", "book.name": "book", "book.formats": ("pdf",),
        "fetch.rewrite": {"http://photos.example/": photos.url_for("/")},
        "fetch.allow_hosts": [f"127.0.0.1:{photos.port}"], **extra})
    return builder.build(settings)


def test_each_font_is_subset_once_for_the_whole_book(photos, tmp_path, monkeypatch):
    """Five parts (the front, four articles): each face is one program in the book, shared by
    every part's font, with every glyph any part shows; the pages look as they do when
    WeasyPrint subsets each part itself, and read the same."""
    import subprocess

    import builder.parts

    monkeypatch.setattr(builder.parts, "PART_PAGES", 1)
    src = tmp_path / "src"
    paths = write_articles(src)
    paths[3].write_text(paths[3].read_text(encoding="utf-8").replace(
        "<p>", "<p>鳏寡孤独，麤犇羴。</p><p>", 1), encoding="utf-8")  # glyphs of one part only
    _in_process(photos, tmp_path, src, tmp_path / "once", monkeypatch)
    fonts = _fonts(tmp_path / "once" / "book.pdf")
    assert fonts and all(len(programs) == 1 for programs in fonts.values()), fonts
    faces = list((tmp_path / "cache" / "fonts").glob("*.font"))
    assert faces and all(hashlib.sha256(f.read_bytes()).hexdigest() == f.stem for f in faces)
    # The same book with WeasyPrint subsetting every part: more programs, the same pages.
    monkeypatch.setattr(subsets, "available", lambda: False)
    _in_process(photos, tmp_path, src, tmp_path / "each", monkeypatch)
    each = _fonts(tmp_path / "each" / "book.pdf")
    assert sum(map(len, each.values())) > sum(map(len, fonts.values()))
    assert (tmp_path / "once" / "book.pdf").stat().st_size < \
        (tmp_path / "each" / "book.pdf").stat().st_size

    def text(name):
        return subprocess.run(["pdftotext", str(tmp_path / name / "book.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout

    assert text("once") == text("each") and "鳏寡孤独，麤犇羴" in text("once")
    for name in ("once", "each"):
        subprocess.run(["pdftoppm", "-r", "40", "-png", str(tmp_path / name / "book.pdf"),
                        str(tmp_path / name / "page")], check=True)
    pages = sorted(p.name for p in (tmp_path / "once").glob("page-*.png"))
    assert pages and pages == sorted(p.name for p in (tmp_path / "each").glob("page-*.png"))
    for page in pages:
        assert (tmp_path / "once" / page).read_bytes() == (tmp_path / "each" / page).read_bytes()


def test_a_damaged_or_missing_font_face_is_kept_again(photos, tmp_path):
    src, out, cache = tmp_path / "src", tmp_path / "out", tmp_path / "cache"
    write_articles(src)
    build(photos, src, out, cache)
    kept = books(out)
    faces = sorted((cache / "fonts").glob("*.font"))
    assert faces
    data = bytearray(faces[0].read_bytes())  # same length, other bytes
    data[len(data) // 2] ^= 0xFF
    faces[0].write_bytes(bytes(data))
    faces[-1].unlink()
    (out / ".builder-state.json").unlink()  # so that the build does not stop at "up to date"
    _, again = build(photos, src, out, cache)
    assert again["work"]["PDF parts"]["done"] >= 1  # the parts that use those faces
    assert books(out) == kept
    for face in faces:
        assert hashlib.sha256(face.read_bytes()).hexdigest() == face.stem


def _damage_keeping_times(path: Path) -> None:
    """Other bytes of the same length, the modification time put back."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_one_damaged_part_is_found_out_while_the_others_are_kept(photos, tmp_path):
    """A part whose file no longer matches its record is laid out again, alone; the others
    are kept, and the book is the same."""
    src, out, cache = tmp_path / "src", tmp_path / "out", tmp_path / "cache"
    write_articles(src)
    build(photos, src, out, cache)
    kept = books(out)
    parts = sorted((cache / "parts").glob("*.pdf"), key=lambda p: p.stat().st_size)
    data = bytearray(parts[-1].read_bytes())  # the largest: an article's, not the front's
    data[len(data) // 2] ^= 0xFF
    parts[-1].write_bytes(bytes(data))
    (out / ".builder-state.json").unlink()  # so that the build does not stop at "up to date"
    _, again = build(photos, src, out, cache)
    assert again["work"]["PDF parts"]["done"] == 1
    assert again["work"]["PDF parts"]["kept"] >= 1  # the front
    assert books(out) == kept


def test_the_parts_a_build_wrote_are_not_read_by_the_next(photos, tmp_path):
    """A part laid out is stamped by the build that wrote it (its bytes known, no wait for
    it to settle): the next build trusts it by its stamp without reading it, and writes no
    stamp of its own."""
    src, out, cache = tmp_path / "src", tmp_path / "out", tmp_path / "cache"
    write_articles(src)
    build(photos, src, out, cache)
    parts = sorted((cache / "parts").glob("*.pdf"))
    assert parts
    for path in parts:
        record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        assert checked.stamped(path, record["sha256"]) is not None, path
    before = {p: os.stat(checked.stamp_path(p)) for p in parts}
    (out / ".builder-state.json").unlink()  # so that the build does not stop at "up to date"
    _, second = build(photos, src, out, cache)
    assert second["work"]["PDF parts"]["done"] == 0
    for path, st in before.items():  # not hashed again, so not stamped again
        now = os.stat(checked.stamp_path(path))
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns), path


def test_cache_files_checked_once_are_read_again_when_damaged(photos, tmp_path):
    """A photo, a part and a font face are hashed once and then known by their stamps; one
    damaged since (its length and modification time the same) is found out and made again."""
    src, out, cache = tmp_path / "src", tmp_path / "out", tmp_path / "cache"
    write_articles(src)
    build(photos, src, out, cache)
    kept = books(out)
    time.sleep(checked.SETTLED + 0.2)  # stamps are written only for files settled that long
    (out / ".builder-state.json").unlink()  # so that the build does not stop at "up to date"
    _, second = build(photos, src, out, cache)
    assert second["work"]["PDF parts"]["done"] == 0
    store = Store(cache)
    objects = sorted(store.object_path(store.recorded(i["url"])) for i in second["images"])
    assert len(objects) == 8
    parts = sorted((cache / "parts").glob("*.pdf"))
    faces = sorted((cache / "fonts").glob("*.font"))
    for path in (*objects, *parts, *faces):
        assert checked.stamp_path(path).is_file(), path
    for path in (objects[0], parts[-1], faces[0]):
        _damage_keeping_times(path)
    requests = len(photos.log)
    (out / ".builder-state.json").unlink()
    _, again = build(photos, src, out, cache)
    assert len(photos.log) == requests + 1  # the damaged photo fetched again
    assert {i["status"] for i in again["images"]} <= {"cached", "ok"}
    assert again["work"]["PDF parts"]["done"] >= 1  # the damaged part, and those of the face
    assert books(out) == kept
    for path in (*objects, *faces):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name.split(".")[0]


def test_the_booklet_imposed_beside_the_join_is_the_books(photos, tmp_path):
    """The booklet is imposed from the pages the join copies, in a process of its own while
    the join writes the book: it is the booklet of the book, with the book's fonts."""
    import pikepdf

    from builder.impose import impose_booklet

    src, out, cache = tmp_path / "src", tmp_path / "out", tmp_path / "cache"
    write_articles(src)
    build(photos, src, out, cache, "--jobs", "2")
    of_book = tmp_path / "of-book.pdf"
    impose_booklet(out / "book.pdf", of_book, -1, 0.0)

    def read(path: Path):
        with pikepdf.open(path) as pdf:
            sheets = [(p.obj.Contents.read_bytes(), sorted(
                (name, form.read_bytes(), form.Resources.keys())
                for name, form in p.obj.Resources.XObject.items())) for p in pdf.pages]
            fonts = [o for o in pdf.objects if isinstance(o, pikepdf.Dictionary)
                     and o.get("/Type") == "/FontDescriptor"]
            programs = sorted(o.get(k).read_bytes() for o in fonts
                              for k in ("/FontFile2", "/FontFile3") if k in o)
            return sheets, programs, dict(pdf.trailer.Info), bytes(pdf.trailer.ID[0])

    beside, imposed = read(out / "book-booklet.pdf"), read(of_book)
    assert beside == imposed
    assert beside[1] and all(subsets.stub(p) is None for p in beside[1])  # embedded, no stub


def test_a_long_books_booklet_is_imposed_after_the_join_with_the_same_bytes(photos, tmp_path,
                                                                             monkeypatch):
    """Beyond ``BESIDE_PAGES`` the booklet waits for the join (the memory of two whole books'
    pages is not held at once): the same booklet."""
    import builder
    import builder.printing
    from builder.settings import load_settings

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    src = tmp_path / "src"
    write_articles(src)
    made = {}
    for least in (10_000, 0):  # beside the join; after it
        monkeypatch.setattr(builder.printing, "BESIDE_PAGES", least)
        out = tmp_path / f"out{least}"
        settings = load_settings(None, {
            "paths": (src,), "out_dir": out, "cache_dir": tmp_path / "cache", "jobs": 2,
            "force": True, "book.title": "合集", "book.name": "book",
            "fetch.rewrite": {"http://photos.example/": photos.url_for("/")},
            "fetch.allow_hosts": [f"127.0.0.1:{photos.port}"]})
        report = builder.build(settings)
        assert report.timings["impose"] > 0
        made[least] = books(out)
    assert made[10_000] == made[0]
    assert not list((tmp_path / "out0").glob(".*pages*"))  # the second name let go of
