"""Books for e-readers, seen from the user's side: ``builder build --device …`` on a book of
three articles and 42 photos served by a server on 127.0.0.1, then each book unzipped and read.

- Every profile's book passes EPUBCheck (the kepub with no error) and holds no photo larger
  than its device's screen.
- The kepub has a koboSpan around each sentence and the Kobo wrappers; without them its text
  is the generic book's, character for character.
- A size budget is met by re-encoding photos, the largest savings first, never under the
  floor; a warm build encodes nothing; a budget under the floor is a warning, or an error with
  ``--strict``.
- Series metadata is written in calibre's form and in EPUB 3's.
- Each profile's book is the same, byte for byte, when built again.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from conftest import SEEDS, run_cli, seed_images, serve_args
from helpers_corpus import photo_jpeg
from lxml import etree
from PIL import Image
from pytest_httpserver import HTTPServer

from builder import checked, kepub
from builder.devices import DEVICES, box
from builder.ereader import FLOOR_EDGE

EPOCH = "1661924079"
PHOTOS = 14  # per article
ARTICLE = """---
title: 第{n}篇：河边的早市
date: 2022-09-0{n}
author: 记者
lang: zh-CN
---
<p>{text}</p>
{photos}
<p>Two sentences in English. And one more! {text}</p>
"""
PHOTO = '<div onclick="x()"><img data-original="http://photos.example/{n}/{k}.jpg"></div>\n' \
        "↑ 第{n}篇的第{k}张照片。\n"
NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "x": "http://www.w3.org/1999/xhtml"}


@pytest.fixture(scope="module")
def photos():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    for n in range(1, 4):
        for k in range(PHOTOS):
            w, h = (1800, 1200) if k % 3 else (1100, 1650)  # landscape and portrait
            server.expect_request(f"/{n}/{k}.jpg").respond_with_data(
                photo_jpeg(w, h, seed=100 * n + k), content_type="image/jpeg")
    # The same photo under a second address: one file in the book, whatever it becomes.
    server.expect_request("/again.jpg").respond_with_data(
        photo_jpeg(1800, 1200, seed=101), content_type="image/jpeg")
    yield server
    server.clear()
    server.stop()


@pytest.fixture(scope="module")
def src(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("articles")
    text = "清晨五点，河边的早市已经热闹起来。卖菜的老人摆好了摊子！“今天的豆角新鲜吗？”" * 6
    for n in range(1, 4):
        shots = "".join(PHOTO.format(n=n, k=k) for k in range(PHOTOS))
        if n == 3:
            shots += '<img data-original="http://photos.example/again.jpg">\n'

        (folder / f"a{n}.txt").write_text(ARTICLE.format(n=n, text=text, photos=shots),
                                          encoding="utf-8")
    return folder


def build(photos, src: Path, out: Path, cache: Path, *extra):
    result = run_cli("build", src, "--out", out, "--cache-dir", cache, "--title", "早市",
                     "--name", "book", "--format", "epub",
                     "--rewrite", f"http://photos.example/={photos.url_for('/')}",
                     "--allow-host", f"127.0.0.1:{photos.port}", *extra,
                     env={"SOURCE_DATE_EPOCH": EPOCH})
    report = None
    if (out / "book.report.json").is_file():
        report = json.loads((out / "book.report.json").read_text(encoding="utf-8"))
    return result, report


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def chapters(files: dict[str, bytes]) -> dict[str, etree._Element]:
    return {n: etree.fromstring(d) for n, d in sorted(files.items())
            if re.search(r"chapter-\d+\.xhtml$", n)}


def words(element) -> str:
    return " ".join("".join(element.itertext()).split())


EPUB_NS = "http://www.idpf.org/2007/ops"
ALL = "generic,kindle,kobo,koreader,apple"
NAMES = {"generic": "book.epub", "kindle": "book.kindle.epub",
         "kobo": "book.kobo.kepub.epub", "koreader": "book.koreader.epub",
         "apple": "book.apple.epub"}


@pytest.fixture(scope="module")
def every(photos, src, tmp_path_factory):
    root = tmp_path_factory.mktemp("every")
    result, report = build(photos, src, root / "out", root / "cache", "--device", ALL)
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "out", report


def test_one_command_writes_one_book_per_device(every):
    out, report = every
    assert sorted(p.name for p in out.glob("*.epub")) == sorted(NAMES.values())
    assert set(report["epubs"]) == set(DEVICES)
    assert report["outputs"]["epub-kobo"].endswith("book.kobo.kepub.epub")
    for name, e in report["epubs"].items():
        assert e["size"] == (out / NAMES[name]).stat().st_size


@pytest.mark.parametrize("device", list(NAMES))
def test_every_profile_passes_epubcheck(every, device):
    from builder.check import run_epubcheck

    passed, lines = run_epubcheck(every[0] / NAMES[device])
    assert passed, "\n".join(lines)


@pytest.mark.parametrize("device", list(NAMES))
def test_no_photo_is_larger_than_the_screen(every, device):
    within = box(DEVICES[device], 1600)
    sizes = [Image.open(io.BytesIO(data)).size
             for name, data in entries(every[0] / NAMES[device]).items()
             if name.startswith("EPUB/images/")]
    assert len(sizes) == 3 * PHOTOS + 1  # and the drawn cover
    for w, h in sizes:
        assert w <= within[0] and h <= within[1], (device, w, h, within)
    if device != "generic":  # the screen's box, not the generic book's square
        assert max(w for w, _ in sizes) == within[0] or max(h for _, h in sizes) == within[1]


def test_the_kepub_has_a_span_per_sentence_and_the_kobo_wrappers(every):
    kobo = chapters(entries(every[0] / NAMES["kobo"]))
    generic = chapters(entries(every[0] / NAMES["generic"]))
    assert kobo.keys() == generic.keys() and len(kobo) == 3
    for name, root in kobo.items():
        body = root.find("x:body", NS)
        columns = body.find("x:div", NS)
        assert columns.get("id") == "book-columns"
        assert columns.find("x:div", NS).get("id") == "book-inner"
        spans = root.findall(".//x:span[@class='koboSpan']", NS)
        ids = [s.get("id") for s in spans]
        assert len(ids) == len(set(ids)) and all(re.fullmatch(r"kobo\.\d+\.\d+", i) for i in ids)
        texts = [s.text for s in spans]
        assert "清晨五点，河边的早市已经热闹起来。" in texts
        assert "Two sentences in English. " in texts and "And one more! " in texts
        assert "“今天的豆角新鲜吗？”" in texts
        # Without the spans and wrappers, the text is the generic book's (the writer indents
        # the wrappers' markup, so white space between blocks differs).
        inner = "".join(etree.tostring(c, encoding="unicode") for c in columns)
        plain = etree.fromstring(f'<div xmlns="{NS["x"]}" xmlns:epub="{EPUB_NS}">'
                                 f'{kepub.plain(inner)}</div>')
        assert words(plain) == words(generic[name].find("x:body", NS))
        assert not plain.findall(".//x:span[@class='koboSpan']", NS)
    css = entries(every[0] / NAMES["kobo"])["EPUB/styles/epub.css"].decode()
    assert "div#book-inner { margin-top: 0; margin-bottom: 0; }" in css


def test_kindle_names_its_language_by_the_primary_subtag(every):
    files = entries(every[0] / NAMES["kindle"])
    opf = etree.fromstring(files["EPUB/content.opf"])
    assert opf.findtext(".//dc:language", namespaces=NS) == "zh"
    generic = etree.fromstring(entries(every[0] / NAMES["generic"])["EPUB/content.opf"])
    assert generic.findtext(".//dc:language", namespaces=NS) == "zh-CN"


@pytest.fixture(scope="module")
def budgeted(photos, src, tmp_path_factory):
    root = tmp_path_factory.mktemp("budget")
    first = build(photos, src, root / "out", root / "cache", "--device", "kindle",
                  "--max-size", "6MB")
    return root, first


def test_a_budget_is_met_by_re_encoding_photos(budgeted):
    root, (result, report) = budgeted
    assert result.returncode == 0, result.stderr
    book = root / "out" / "book.kindle.epub"
    e = report["epubs"]["kindle"]
    assert e["budget"] == 6_000_000 and book.stat().st_size <= 6_000_000
    assert e["size"] == book.stat().st_size and not e["at_floor"]
    assert e["reduced"], "nothing was re-encoded"
    for r in e["reduced"]:
        assert r["after"] < r["before"] and r["quality"] >= 60
        assert max(r["width"], r["height"]) >= FLOOR_EDGE
    held = [d for n, d in entries(book).items() if n.startswith("EPUB/images/")]
    assert len(held) == 3 * PHOTOS + 1  # the photo shown twice is one file, and the cover
    for data in held:
        assert max(Image.open(io.BytesIO(data)).size) >= FLOOR_EDGE
    assert re.search(r"kindle: \d+ photo\(s\) re-encoded to fit 6\.0 MB", result.stdout)


def test_a_warm_build_encodes_nothing_and_gives_the_same_bytes(photos, src, budgeted):
    root, _ = budgeted
    before = (root / "out" / "book.kindle.epub").read_bytes()
    def objects() -> list[str]:  # the images kept, not the stamps of those checked
        return sorted(p.name for p in (root / "cache" / "objects").iterdir()
                      if not p.name.endswith(checked.SUFFIX))

    kept = objects()
    result, report = build(photos, src, root / "out2", root / "cache", "--device", "kindle",
                           "--max-size", "6MB", "--force")
    assert result.returncode == 0, result.stderr
    assert objects() == kept
    assert (root / "out2" / "book.kindle.epub").read_bytes() == before


def test_a_budget_under_the_floor_is_said_and_strict_fails(photos, src, tmp_path):
    result, report = build(photos, src, tmp_path / "out", tmp_path / "cache", "--device",
                           "kobo", "--max-size", "1MB")
    assert result.returncode == 0, result.stderr
    e = report["epubs"]["kobo"]
    assert e["at_floor"] and e["size"] > 1_000_000
    assert any("over its budget of 1.0 MB, with every photo at its floor" in w
               for w in report["warnings"])
    strict = build(photos, src, tmp_path / "out-strict", tmp_path / "cache", "--device", "kobo",
                   "--max-size", "1MB", "--strict")[0]
    assert strict.returncode == 1
    errors = [line for line in strict.stderr.splitlines() if line.startswith("builder:")]
    assert len(errors) == 1 and "--max-size" in errors[0] and "at its floor" in errors[0]
    assert "Traceback" not in strict.stderr
    assert not (tmp_path / "out-strict").exists() or not any((tmp_path / "out-strict").iterdir())


def test_series_metadata_in_both_forms(photos, src, tmp_path):
    config = tmp_path / "book.toml"
    config.write_text('[book]\nseries = "城市笔记"\nseries_index = 2\n', encoding="utf-8")
    result, _ = build(photos, src, tmp_path / "out", tmp_path / "cache", "--config", config,
                      "--device", "kobo")
    assert result.returncode == 0, result.stderr
    opf = etree.fromstring(entries(tmp_path / "out" / "book.kobo.kepub.epub")
                           ["EPUB/content.opf"])
    metas = opf.findall(".//opf:meta", NS)
    named = {m.get("name"): m.get("content") for m in metas if m.get("name")}
    assert named["calibre:series"] == "城市笔记" and named["calibre:series_index"] == "2"
    collection = next(m for m in metas if m.get("property") == "belongs-to-collection")
    assert collection.text == "城市笔记"
    refines = {m.get("property"): m.text for m in metas
               if m.get("refines") == "#" + collection.get("id")}
    assert refines == {"collection-type": "series", "group-position": "2"}


@pytest.mark.parametrize("device", list(NAMES))
def test_each_profile_is_the_same_bytes_when_built_again(every, photos, src, tmp_path,
                                                         device):
    result, _ = build(photos, src, tmp_path / "out", tmp_path / "cache", "--device", device)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / NAMES[device]).read_bytes() == \
        (every[0] / NAMES[device]).read_bytes()


def test_grayscale_photos_for_e_ink(photos, src, tmp_path):
    result, _ = build(photos, src, tmp_path / "out", tmp_path / "cache", "--device", "kobo",
                      "--grayscale")
    assert result.returncode == 0, result.stderr
    modes = {Image.open(io.BytesIO(d)).mode
             for n, d in entries(tmp_path / "out" / "book.kobo.kepub.epub").items()
             if n.startswith("EPUB/images/")}
    assert modes == {"L"}


def test_an_unknown_device_or_size_is_a_usage_error(photos, src, tmp_path):
    bad = build(photos, src, tmp_path / "out", tmp_path / "cache", "--device", "nook")[0]
    assert bad.returncode == 2 and "unknown device 'nook'" in bad.stderr
    assert "kindle" in bad.stderr
    size = build(photos, src, tmp_path / "out", tmp_path / "cache", "--max-size", "lots")[0]
    assert size.returncode == 2 and "--max-size" in size.stderr and "45MB" in size.stderr
    assert not (tmp_path / "out").exists()


def test_every_profile_of_the_seed_passes_epubcheck(image_server, tmp_path):
    """The real article, one book per device in one build, each checked."""
    from builder.check import run_epubcheck

    result = run_cli("build", SEEDS, "--out", tmp_path / "out", "--cache-dir",
                     tmp_path / "cache", "--name", "book", "--format", "epub", "--device", ALL,
                     *serve_args(image_server), env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.returncode == 0, result.stdout + result.stderr
    photos = len(seed_images())
    for device, name in NAMES.items():
        passed, lines = run_epubcheck(tmp_path / "out" / name)
        assert passed, (device, "\n".join(lines))
        held = [n for n in entries(tmp_path / "out" / name) if n.startswith("EPUB/images/")]
        assert len(held) >= photos, device


def test_dark_pages_keep_every_picture_and_caption_legible(every):
    """No forced colours on text, images on a light ground, nothing drawn transparent."""
    css = entries(every[0] / NAMES["generic"])["EPUB/styles/epub.css"].decode()
    colours = re.findall(r"(?<![-\w])(color|background(?:-color)?)\s*:\s*([^;}]+)", css)
    assert ("color", "inherit") in [(k, v.strip()) for k, v in colours]  # links
    assert all(v.strip() == "inherit" for k, v in colours if k == "color")
    assert re.search(r"(?m)^img \{ background-color: #fff; \}", css)
    for device in ("kindle", "kobo", "koreader"):
        for n, data in entries(every[0] / NAMES[device]).items():
            if n.startswith("EPUB/images/"):
                im = Image.open(io.BytesIO(data))
                assert im.mode in ("RGB", "L", "P") and "transparency" not in im.info, (n, im.mode)
