"""What Send-to-Kindle needs to accept a book, checked on a real ``--device kindle`` build: one
test per cause of its rejections (E999 and kin) reported against other EPUB makers, with the
guard the builder keeps against it.

The book has what tends to go wrong: an animated GIF as the cover, a WebP photo, a
transparent PNG, a language tag with a region, links, captions, a credits block.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import run_cli
from helpers_corpus import photo_jpeg
from helpers_images import animated_gif, encode, webp
from lxml import etree
from PIL import Image
from pytest_httpserver import HTTPServer

EPOCH = "1661924079"
NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "x": "http://www.w3.org/1999/xhtml", "ncx": "http://www.daisy.org/z3986/2005/ncx/"}
ARTICLE = """---
title: 山里的学校
date: 2022-09-01
lang: zh-Hans-CN
headimg: http://photos.example/cover.gif
---
<p>开学第一天。<a href="https://example.org/more">更多</a></p>
<div onclick="x()"><img data-original="http://photos.example/big.jpg"></div>
↑ 操场上的孩子们。
<img data-original="http://photos.example/photo.webp">
<p>中间的一段。</p>
<img data-original="http://photos.example/logo.png">
<h2>第二部分</h2>
<p>最后一段。</p>
"""


def transparent_png() -> bytes:
    im = Image.new("RGBA", (600, 300), (0, 0, 0, 0))
    for x in range(50, 550):
        for y in (140, 150, 160):
            im.putpixel((x, y), (0, 0, 0, 255))  # black lines on nothing
    return encode(im, "PNG")


@pytest.fixture(scope="module")
def kindle(tmp_path_factory):
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    served = {"/cover.gif": (animated_gif(300, 400), "image/gif"),
              "/big.jpg": (photo_jpeg(2600, 1950, seed=3), "image/jpeg"),
              "/photo.webp": (webp(800, 600), "image/webp"),
              "/logo.png": (transparent_png(), "image/png")}
    for path, (data, kind) in served.items():
        server.expect_request(path).respond_with_data(data, content_type=kind)
    root = tmp_path_factory.mktemp("kindle")
    (root / "src").mkdir()
    (root / "src" / "school.txt").write_text(ARTICLE, encoding="utf-8")
    result = run_cli("build", root / "src", "--out", root / "out", "--cache-dir", root / "cache",
                     "--name", "book", "--format", "epub", "--device", "kindle",
                     "--rewrite", f"http://photos.example/={server.url_for('/')}",
                     "--allow-host", f"127.0.0.1:{server.port}", env={"SOURCE_DATE_EPOCH": EPOCH})
    server.clear()
    server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    book = root / "out" / "book.kindle.epub"
    with zipfile.ZipFile(book) as z:
        infos = z.infolist()
        files = {i.filename: z.read(i) for i in infos}
    report = json.loads((root / "out" / "book.report.json").read_text(encoding="utf-8"))
    return {"path": book, "infos": infos, "files": files, "report": report,
            "opf": etree.fromstring(files["EPUB/content.opf"])}


def xhtml(kindle) -> dict[str, bytes]:
    return {n: d for n, d in kindle["files"].items() if n.endswith(".xhtml")}


def manifest(kindle) -> dict[str, etree._Element]:
    return {i.get("id"): i for i in kindle["opf"].findall(".//opf:manifest/opf:item", NS)}


def test_the_language_is_one_kindle_knows(kindle):
    """Missing or unknown dc:language (E999; kindlegen E23005)."""
    langs = kindle["opf"].findall(".//dc:language", NS)
    assert [x.text for x in langs] == ["zh"]
    for data in xhtml(kindle).values():
        root = etree.fromstring(data)
        assert root.get("lang") in (None, "zh")


def test_the_unique_identifier_names_a_dc_identifier(kindle):
    """package@unique-identifier that matches no dc:identifier."""
    opf = kindle["opf"]
    ids = {e.get("id") for e in opf.findall(".//dc:identifier", NS)}
    assert opf.get("unique-identifier") in ids


def test_the_cover_is_a_still_jpeg_or_png_named_twice(kindle):
    """A cover only Kindle's converter cannot find: cover-image property and meta name=cover
    pointing at the manifest id, a raster image (an animated GIF became its first frame)."""
    items = manifest(kindle)
    covers = [i for i in items.values() if "cover-image" in (i.get("properties") or "")]
    assert len(covers) == 1 and covers[0].get("media-type") in ("image/jpeg", "image/png")
    meta = kindle["opf"].find(".//opf:meta[@name='cover']", NS)
    assert meta is not None and meta.get("content") == covers[0].get("id")
    data = kindle["files"]["EPUB/" + covers[0].get("href")]
    assert Image.open(io.BytesIO(data)).format in ("JPEG", "PNG")


def test_every_file_is_in_the_manifest_and_every_item_in_the_zip(kindle):
    """Files referenced but missing (Previewer E1005), or present but not declared."""
    hrefs = {"EPUB/" + unquote(i.get("href")) for i in manifest(kindle).values()}
    assert all(h in kindle["files"] for h in hrefs)
    rest = set(kindle["files"]) - hrefs - {"mimetype", "META-INF/container.xml",
                                           "EPUB/content.opf"}
    assert not rest


def test_every_link_and_image_resolves_and_none_targets_a_body(kindle):
    """Broken links, links to a body's id, an <img> without src."""
    docs = xhtml(kindle)
    ids = {}
    for name, data in docs.items():
        root = etree.fromstring(data)
        ids[name] = {e.get("id") for e in root.iter() if e.get("id")}
        body = root.find("x:body", NS)
        assert body.get("id") is None
    declared = {"EPUB/" + unquote(i.get("href")) for i in manifest(kindle).values()}
    for name, data in docs.items():
        root = etree.fromstring(data)
        folder = name.rsplit("/", 1)[0]
        for img in root.iter(f"{{{NS['x']}}}img"):
            assert img.get("src"), name
            assert f"{folder}/{unquote(img.get('src'))}" in declared
        for a in root.iter(f"{{{NS['x']}}}a"):
            href = a.get("href") or ""
            if re.match(r"^[a-z]+:", href):
                assert href.startswith(("http://", "https://", "mailto:")), href
                continue
            target, _, fragment = href.partition("#")
            target = f"{folder}/{unquote(target)}" if target else name
            assert target in declared, href
            if fragment:
                assert fragment in ids.get(target, set()), href


def test_the_zip_starts_with_a_stored_mimetype_without_extra_fields(kindle):
    """mimetype not first, compressed, or with extended fields."""
    first = kindle["infos"][0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert kindle["files"]["mimetype"] == b"application/epub+zip"
    assert all(not i.extra for i in kindle["infos"])


def test_the_ncx_is_numbered_and_in_the_spine_order(kindle):
    """Blank navPoint ids, playOrder out of sequence, NCX and spine disagreeing."""
    ncx_name = next(n for n in kindle["files"] if n.endswith(".ncx"))
    ncx = etree.fromstring(kindle["files"][ncx_name])
    points = ncx.findall(".//ncx:navPoint", NS)
    assert points and all(p.get("id") for p in points)
    assert len({p.get("id") for p in points}) == len(points)
    orders = [p.get("playOrder") for p in points]
    if any(orders):
        assert [int(o) for o in orders] == list(range(1, len(points) + 1))
    items = manifest(kindle)
    spine = [items[r.get("idref")].get("href") for r in kindle["opf"].findall(
        ".//opf:spine/opf:itemref", NS)]
    targets = [p.find("ncx:content", NS).get("src").split("#")[0] for p in points]
    chapters = [t for t in dict.fromkeys(targets)]
    assert chapters == [h for h in spine if h in chapters]


def test_the_guide_points_at_xhtml(kindle):
    """A guide reference that points at the NCX."""
    for ref in kindle["opf"].findall(".//opf:guide/opf:reference", NS):
        assert ref.get("href").split("#")[0].endswith(".xhtml")


def test_every_document_is_well_formed_utf8_xml_without_comments(kindle):
    """Not well-formed XHTML ("--" in a comment), no encoding declaration (Latin-1 assumed)."""
    for name, data in kindle["files"].items():
        if name.endswith((".xhtml", ".opf", ".ncx")):
            assert re.match(rb"<\?xml version=.1\.0. encoding=.utf-8.\?>", data, re.I), name
            root = etree.fromstring(data)
            assert not list(root.iter(etree.Comment)), name


def test_no_script_hidden_text_or_transforms(kindle):
    """Scripts; large blocks hidden with display:none (E3013); CSS transforms that make the
    Previewer fail."""
    for data in xhtml(kindle).values():
        root = etree.fromstring(data)
        assert not list(root.iter(f"{{{NS['x']}}}script"))
        assert not [a for e in root.iter() for a in e.attrib if a.startswith("on")]
        assert b"display:none" not in data.replace(b" ", b"")
    css = b"".join(d for n, d in kindle["files"].items() if n.endswith(".css")).decode()
    assert not re.search(r"display\s*:\s*none", css)
    assert not re.search(r"\btransform\s*:|\bperspective\s*:", css)


def test_photos_are_jpeg_png_or_gif_and_within_the_screen(kindle):
    """WebP (unsupported), images over 1920 px tall, transparent images on a dark page."""
    images = {n: Image.open(io.BytesIO(d)) for n, d in kindle["files"].items()
              if n.startswith("EPUB/images/")}
    # The cover's still, the GIF itself (the chapter's lead, animated), the photo, the WebP
    # one (now a JPEG), the PNG.
    assert len(images) == 5
    assert sorted(im.format for im in images.values()) == ["GIF", "JPEG", "JPEG", "JPEG", "PNG"]
    for name, im in images.items():
        assert im.format in ("JPEG", "PNG", "GIF"), name
        assert im.width <= 1272 and im.height <= 1696, (name, im.size)
        assert im.mode not in ("RGBA", "LA", "PA"), name  # set on white
        assert "transparency" not in im.info, name
    big = max(images.values(), key=lambda im: im.width * im.height)
    assert big.size == (1272, 954)


def test_the_book_fits_the_e_mail_limit_with_room(kindle):
    """Over 50 MB by e-mail (and E999 seen on a 134 MB web upload)."""
    assert kindle["report"]["epubs"]["kindle"]["budget"] == 45_000_000
    assert kindle["path"].stat().st_size <= 45_000_000


def one_article(tmp_path: Path, front: str, body: str, *flags):
    """A Kindle book of one article without photos: the build's result and its package."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(f"---\n{front}\n---\n{body}\n", encoding="utf-8")
    result = run_cli("build", src, "--out", tmp_path / "out", "--cache-dir", tmp_path / "cache",
                     "--name", "book", "--format", "epub", "--device", "kindle", *flags)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "out" / "book.kindle.epub") as z:
        return result, etree.fromstring(z.read("EPUB/content.opf"))


def test_a_right_to_left_book_says_so_where_kindle_looks(tmp_path):
    _, opf = one_article(tmp_path, "title: مرحبا\nlang: ar", "<p>نص عربي قصير.</p>")
    meta = opf.find(".//opf:meta[@name='primary-writing-mode']", NS)
    assert meta is not None and meta.get("content") == "horizontal-rl"
    assert opf.find(".//opf:spine", NS).get("page-progression-direction") == "rtl"


def test_a_left_to_right_book_names_no_writing_mode(kindle):
    assert kindle["opf"].find(".//opf:meta[@name='primary-writing-mode']", NS) is None
    assert kindle["opf"].find(".//opf:spine", NS).get("page-progression-direction") is None


def test_a_front_matter_language_that_is_no_language_is_guessed_instead(tmp_path):
    result, opf = one_article(tmp_path, "title: 标题\nlang: C", "<p>中文的正文。</p>", "-v")
    assert "field 'lang': 'C' is not a language tag" in result.stderr
    assert opf.findtext(".//dc:language", namespaces=NS) == "zh"


def test_the_kindle_book_passes_epubcheck(kindle):
    from builder.check import run_epubcheck

    passed, lines = run_epubcheck(kindle["path"])
    assert passed, "\n".join(lines)


@pytest.mark.parametrize("value", ["C", "us", "zh_CN!"])
def test_a_bad_book_language_setting_is_refused_before_work(tmp_path, value):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("---\ntitle: t\n---\n<p>x</p>\n", encoding="utf-8")
    config = tmp_path / "book.toml"
    config.write_text(f'[book]\nlanguage = "{value}"\n', encoding="utf-8")
    result = run_cli("build", src, "--config", config, "--out", tmp_path / "out")
    assert result.returncode == 1  # a file's mistake (a flag's is a usage error, 2)
    assert "is not a language tag" in result.stderr and str(config) in result.stderr
    assert not Path(tmp_path / "out").exists()
