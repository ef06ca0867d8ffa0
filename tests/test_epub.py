"""The EPUB's package document, navigation and NCX, inspected item by item."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import pytest
from conftest import SEED, run_cli
from lxml import etree

NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "ncx": "http://www.daiss.org/z3986/2005/ncx/".replace("daiss", "daisy")}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SECTIONED = """---
title: 分节文章
date: 2022-01-01
categories: [专题]
url: https://example.org/a
---
<p>导语。</p><h2>第一节</h2><p>正文一。</p><h2>第二节</h2><p>正文二。</p>
"""


@pytest.fixture(scope="module")
def anthology(tmp_path_factory):
    """The seed (its images offline: placeholders) and a sectioned article, as one book."""
    root = tmp_path_factory.mktemp("anthology")
    src = root / "src"
    src.mkdir()
    (src / "sec.md").write_text(SECTIONED, "utf-8")
    (src / SEED.name).write_bytes(SEED.read_bytes())
    out = root / "out"
    result = run_cli("build", src, "--out", out, "--cache-dir", root / "cache", "--offline",
                     "--title", "合集", "--name", "anth", "--format", "epub",
                     env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stderr
    return out / "anth.epub"


def read(epub, name):
    with zipfile.ZipFile(epub) as z:
        return etree.fromstring(z.read(name))


def test_package_metadata(anthology):
    opf = read(anthology, "EPUB/content.opf")
    assert opf.get("version") == "3.0"
    md = opf.find("opf:metadata", NS)
    one = lambda path: md.findtext(path, namespaces=NS)  # noqa: E731
    assert one("dc:title") == "合集" and one("dc:language") == "zh"
    ident = one("dc:identifier")
    assert ident.startswith("urn:uuid:") and len(ident) == 45
    assert one("opf:meta[@property='dcterms:modified']") == dt.datetime.fromtimestamp(
        1700000000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert one("dc:date") == "2022-08-31T05:34:39Z"
    assert sorted(s.text for s in md.findall("dc:subject", NS)) == sorted(
        ["专题", "新媒体", "ZAKER", "source"])
    assert one("dc:source") == "https://example.org/a"
    props = {}
    for meta in md.findall("opf:meta[@property]", NS):
        props.setdefault(meta.get("property"), []).append(meta.text)
    assert props["schema:accessMode"] == ["textual", "visual"]
    # The seed's photos have no alt of their own and two have no caption either: the book
    # does not claim that its text alone suffices, nor that it has text alternatives.
    assert props["schema:accessModeSufficient"] == ["textual,visual"]
    features = set(props["schema:accessibilityFeature"])
    assert {"tableOfContents", "structuralNavigation"} <= features
    assert "alternativeText" not in features
    assert props["schema:accessibilityHazard"] == ["none"]
    summary = props["schema:accessibilitySummary"][0]
    assert "Of its 19 photos, 0 have a text alternative" in summary
    assert "17 more are described by their caption only; 2 have no description" in summary
    cover = opf.find("opf:manifest/opf:item[@properties='cover-image']", NS)
    assert cover is not None and cover.get("media-type") == "image/png"  # a placeholder
    spine = [i.get("idref") for i in opf.findall("opf:spine/opf:itemref", NS)]
    assert spine[:1] == ["cover"] and spine[-1] == "colophon"
    assert opf.find("opf:spine", NS).get("toc") == "ncx"


def test_navigation_nests_sections_and_has_landmarks(anthology):
    nav = read(anthology, "EPUB/nav.xhtml")
    toc = nav.find(".//x:nav[@epub:type='toc']", NS)
    top = toc.findall("x:ol/x:li", NS)
    assert [li.findtext("x:a", namespaces=NS) for li in top] == [
        "分节文章", "总书记挂念的_关键小事_丨做好社区工作"]  # date order
    subs = top[0].findall("x:ol/x:li/x:a", NS)
    assert [(a.text, a.get("href")) for a in subs] == [
        ("第一节", "chapter-001.xhtml#a001-s1"), ("第二节", "chapter-001.xhtml#a001-s2")]
    chapter = read(anthology, "EPUB/chapter-001.xhtml")
    assert [h.get("id") for h in chapter.findall(".//x:h2", NS)] == ["a001-s1", "a001-s2"]
    marks = nav.findall(".//x:nav[@epub:type='landmarks']//x:a", NS)
    assert [(a.get("{http://www.idpf.org/2007/ops}type"), a.get("href")) for a in marks] == [
        ("cover", "cover.xhtml"), ("toc", "nav.xhtml"), ("bodymatter", "chapter-001.xhtml")]
    ncx = read(anthology, "EPUB/toc.ncx")
    labels = [t.text for t in ncx.iterfind(".//ncx:navPoint/ncx:navLabel/ncx:text", NS)]
    assert labels == ["分节文章", "第一节", "第二节", "总书记挂念的_关键小事_丨做好社区工作"]


def test_every_document_has_a_language_and_every_image_an_alt(anthology):
    with zipfile.ZipFile(anthology) as z:
        docs = [n for n in z.namelist() if n.endswith(".xhtml")]
    assert len(docs) >= 5
    for name in docs:
        doc = read(anthology, name)
        assert doc.get(XML_LANG) and doc.get("lang"), name
        for img in doc.iter("{http://www.w3.org/1999/xhtml}img"):
            assert img.get("alt") is not None, name  # empty where the source says nothing
    cover = read(anthology, "EPUB/cover.xhtml")
    assert all(img.get("alt") == "合集" for img in cover.iter("{http://www.w3.org/1999/xhtml}img"))


def test_anthology_with_placeholders_passes_epubcheck(anthology):
    result = run_cli("check", anthology)
    assert result.returncode == 0, result.stdout
    assert "0 fatals / 0 errors / 0 warnings" in result.stdout


def test_cover_page_shows_the_cover_image_whole(anthology):
    opf = read(anthology, "EPUB/content.opf")
    cover_img = opf.find("opf:manifest/opf:item[@properties='cover-image']", NS).get("href")
    page = read(anthology, "EPUB/cover.xhtml")
    section = page.find(".//x:section[@epub:type='cover']", NS)
    img = section.find("x:img", NS)
    assert img.get("src") == cover_img and img.get("alt") == "合集"
    assert page.findtext(".//x:title", namespaces=NS) == "封面"
    assert page.find(".//x:link[@rel='stylesheet']", NS) is not None


def test_a_book_without_photos_gets_a_typographic_cover(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.md").write_text("---\ntitle: 没有照片的文章\ndate: 2022-03-04\n---\n正文。\n",
                              "utf-8")
    out = tmp_path / "out"
    result = run_cli("build", src, "--out", out, "--cache-dir", tmp_path / "c", "--name", "b",
                     "--format", "epub,pdf", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 fatals / 0 errors / 0 warnings" in result.stdout
    opf = read(out / "b.epub", "EPUB/content.opf")
    item = opf.find("opf:manifest/opf:item[@properties='cover-image']", NS)
    assert item is not None and item.get("media-type") == "image/png"
    with zipfile.ZipFile(out / "b.epub") as z:
        from io import BytesIO

        from PIL import Image
        cover = Image.open(BytesIO(z.read("EPUB/" + item.get("href"))))
    assert cover.size == (1200, 1600)
    report = json.loads((out / "b.report.json").read_text())
    assert report["images"] == [] and report["print"] == []  # the PDF sets its own cover
    second = run_cli("build", src, "--out", tmp_path / "again", "--cache-dir", tmp_path / "c2",
                     "--name", "b", "--format", "epub")
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "again" / "b.epub").read_bytes() == (out / "b.epub").read_bytes()


def test_an_epub_only_build_imports_no_pdf_library_and_stores_photos_as_they_are(tmp_path):
    """The EPUB is written once: its photos are the files of the image store, stored; and an
    EPUB-only build never loads WeasyPrint (``-X importtime`` lists every module imported)."""
    import subprocess
    import sys

    from helpers_images import jpeg

    src = tmp_path / "src"
    src.mkdir()
    (src / "photo.jpg").write_bytes(jpeg(400, 300))
    (src / "a.md").write_text("---\ntitle: 一篇\n---\n正文。\n\n![](photo.jpg)\n", "utf-8")
    out = tmp_path / "out"
    # EPUB-only by the command line, and by the book's settings file: no process of the
    # build imports them (the print process is forked early only when it may be wanted).
    for flags in (["--format", "epub"], ["--config", str(tmp_path / "book.toml")]):
        (tmp_path / "book.toml").write_text('[book]\nformats = ["epub"]\n', "utf-8")
        result = subprocess.run([sys.executable, "-X", "importtime", "-m", "builder", "build",
                                 str(src), "--out", str(out), *flags, "--name", "b",
                                 "--cache-dir", str(tmp_path / "cache"), "--force"],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                    if line.startswith("import time:")}
        assert "builder.epub" in imported
        assert not {m for m in imported if m.split(".")[0] in ("weasyprint", "pypdf")}
        assert not (out / "b.pdf").exists()
    with zipfile.ZipFile(out / "b.epub") as z:
        (photo,) = [i for i in z.infolist() if i.filename.endswith(".jpg")]
        assert photo.compress_type == zipfile.ZIP_STORED
        assert z.read(photo) == (src / "photo.jpg").read_bytes()


def test_the_size_of_an_epub_is_known_to_the_byte_before_it_is_written(tmp_path):
    """What the size budget counts on: :func:`builder.epub.zip_size` of a package is the size
    of the file written from it."""
    from helpers_corpus import photo_jpeg

    from builder.epub import package, write_epub, zip_size
    from builder.pipeline import assemble, fetch_images, modified_time, prepare_articles
    from builder.render import render_epub
    from builder.report import BuildReport
    from builder.settings import load_settings
    from builder.theme import Theme

    src = tmp_path / "src"
    src.mkdir()
    (src / "photo.jpg").write_bytes(photo_jpeg(500, 300))
    (src / "a.md").write_text("---\ntitle: 一篇\n---\n正文。\n\n![图](photo.jpg)\n\n" + "字" * 5000,
                              "utf-8")
    settings = load_settings(None, {"paths": (src,), "cache_dir": tmp_path / "cache",
                                    "book.formats": ["epub"]})
    report = BuildReport()
    articles = prepare_articles(settings, report)
    book = assemble(settings, articles[0].title, articles,
                    fetch_images(settings, articles, report))
    rendition = render_epub(book, Theme(None), modified_time(book.date))
    assert write_epub(rendition, tmp_path / "b.epub") == zip_size(package(rendition))
