"""The user's side: the CLI on the real seed article, with its images served from a local
server, and the EPUB, PDF, booklet and report it writes, opened and inspected."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from conftest import SEEDS, run_cli, seed_images, serve_args
from lxml import etree
from pypdf import PdfReader

XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def seed_build(tmp_path_factory, image_server):
    out = tmp_path_factory.mktemp("dist")
    cache = tmp_path_factory.mktemp("cache")
    result = run_cli("build", SEEDS, "--out", out, "--cache-dir", cache,
                     *serve_args(image_server), env={"SOURCE_DATE_EPOCH": "1661924079"})
    assert result.returncode == 0, result.stderr
    report = json.loads(next(out.glob("*.report.json")).read_text())
    return out, cache, report, result


def outputs(report) -> dict[str, Path]:
    return {k: Path(v) for k, v in report["outputs"].items()}


def test_build_writes_every_output(seed_build):
    out, _, report, result = seed_build
    paths = outputs(report)
    assert set(paths) == {"epub", "pdf", "booklet", "report"}
    for path in paths.values():
        assert path.parent == out and path.is_file() and path.stat().st_size > 0
    assert paths["epub"].name == "zong-shu-ji-gua-nian-de-guan-jian-xiao-shi-gun-zuo-hao-she.epub"
    assert "19 image(s): 19 fetched, 0 cached, 0 failed" in result.stdout
    assert not list(out.glob(".builder-tmp-*"))


def test_report_lists_every_image_fetched(seed_build, image_server):
    _, _, report, _ = seed_build
    assert {i["url"] for i in report["images"]} == set(image_server.images)
    for image in report["images"]:
        assert image["status"] == "ok" and image["reason"] is None
        assert image["bytes"] == len(image_server.images[image["url"]])
        assert (image["width"], image["height"]) == seed_images()[image["url"]]
    (article,) = report["articles"]
    # The head image opens the body: it is both the cover and the first of 15 figures.
    assert article["figures"] == 15 and len(article["images"]) == 20
    assert len(set(article["images"])) == 19
    assert article["cleaning"]["captions attached"] == 13
    audit = article["audit"]
    assert audit["images"] == {"in_source": 19, "embedded": 19, "placeholders": [],
                               "dropped": {}, "repeated": 0, "unexplained": 0}
    assert audit["captions"] == {"in_source": 13, "attached": 13, "stranded": 0}
    assert audit["head_image"]["opens_body"] is True
    assert audit["text"]["after"] <= audit["text"]["before"]
    assert set(report["timings"]) >= {"load", "clean", "fetch", "render", "epub", "pdf",
                                      "impose"}
    # One warning only: the 1000 px cover photo printed across a whole A5 page.
    (warning,) = report["warnings"]
    assert warning.startswith("print: http://zkres1.myzaker.com/202208/630f4fce8e9f09475345ec48_"
                              "1024.jpg on page 1 is ") and "below 150 dpi" in warning


def test_epub_holds_every_photo_and_caption(seed_build, image_server):
    _, _, report, _ = seed_build
    with zipfile.ZipFile(outputs(report)["epub"]) as z:
        infos = z.infolist()
        assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
        images = {n: z.read(n) for n in z.namelist() if n.endswith(".jpg")}
        served = {hashlib.sha256(d).hexdigest() for d in image_server.images.values()}
        assert {hashlib.sha256(d).hexdigest() for d in images.values()} == served
        for info in infos:
            if info.filename.endswith(".jpg"):
                assert info.compress_type == zipfile.ZIP_STORED
        chapter = etree.fromstring(z.read("EPUB/chapter-001.xhtml"))
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    assert chapter.get("lang") == "zh" or chapter.get(xml_lang) == "zh"
    figures = chapter.findall(f".//{XHTML}figure")
    imgs = chapter.findall(f".//{XHTML}figure/{XHTML}img")
    # The chapter opens with its first photo (also the book's cover), then the 18 others.
    assert len(figures) == 15 and len(imgs) == 19
    head = image_server.images[
        "http://zkres1.myzaker.com/202208/630f4fce8e9f09475345ec48_1024.jpg"]
    cover_name = next(n for n, data in images.items() if data == head)
    assert imgs[0].get("src") == cover_name.removeprefix("EPUB/")
    captions = [f.findtext(f"{XHTML}figcaption") for f in figures]
    assert captions[0] is None  # the source gives the first photo no caption
    assert captions[1].startswith("2022年8月17日，习近平在辽宁省沈阳市")
    assert all(c and "↑" not in c for c in captions[1:14])
    assert captions[14] is None
    # No alt is made up: the source has none, and the captions describe the photos.
    assert all(img.get("alt") == "" for img in imgs)
    text = etree.tostring(chapter, encoding="unicode")
    for bad in ("onclick", "data-original", "cors.zfour", "<script", "img_box"):
        assert bad not in text
    credits = chapter.find(f".//{XHTML}section[@class='credits']")
    assert credits is not None and credits.findtext(f".//{XHTML}dd") == "袁炳忠"


def test_epub_passes_epubcheck(seed_build):
    _, _, report, _ = seed_build
    result = run_cli("check", outputs(report)["epub"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 fatals / 0 errors / 0 warnings" in result.stdout
    assert result.stdout.strip().endswith("passed")


def test_fetch_fills_the_cache_for_an_offline_build(image_server, tmp_path):
    cache = tmp_path / "cache"
    fetched = run_cli("fetch", SEEDS, "--cache-dir", cache, *serve_args(image_server))
    assert fetched.returncode == 0, fetched.stderr
    assert "19 fetched, 0 cached, 0 failed" in fetched.stdout
    built = run_cli("build", SEEDS, "--out", tmp_path / "out", "--cache-dir", cache,
                    "--offline", "--format", "epub")
    assert built.returncode == 0, built.stderr
    assert "0 fetched, 19 cached, 0 failed" in built.stdout


def test_inspect_explains_the_cleaning():
    result = run_cli("inspect", SEEDS / "000_dc99e8bd12c8b5f6.txt")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "#   figures made: 15" in out and "#   captions attached: 13" in out
    assert "#   images found: 19" in out and "#   credit lines: 8" in out
    assert "# audit: 19 image(s) in the source, 19 kept" in out
    assert "# head image opens the body" in out
    assert out.count("<figure>") == 15 and "↑" not in out.split("# figures")[0]


def test_pdf_has_chinese_text_in_an_embedded_cjk_font(seed_build):
    _, _, report, _ = seed_build
    reader = PdfReader(outputs(report)["pdf"])
    text = "".join(page.extract_text() for page in reader.pages)
    compact = "".join(text.split())
    assert "总书记挂念的" in compact
    assert "社区虽小，却连着千家万户。" in compact
    assert "新华社第一工作室出品" in compact
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            for desc in font.get("/DescendantFonts", []):
                fd = desc.get_object()["/FontDescriptor"].get_object()
                if "/FontFile3" in fd or "/FontFile2" in fd:
                    fonts.add(str(font["/BaseFont"]))
    assert any("CJK" in f for f in fonts), fonts
    assert reader.metadata.title == "总书记挂念的_关键小事_丨做好社区工作"


def test_booklet_is_imposed_two_up(seed_build):
    _, _, report, _ = seed_build
    pdf = PdfReader(outputs(report)["pdf"])
    booklet = PdfReader(outputs(report)["booklet"])
    pages = len(pdf.pages)
    assert len(booklet.pages) == -(-pages // 4) * 2
    w, h = float(pdf.pages[0].mediabox.width), float(pdf.pages[0].mediabox.height)
    assert float(booklet.pages[0].mediabox.width) == pytest.approx(2 * w)
    assert float(booklet.pages[0].mediabox.height) == pytest.approx(h)


def test_rebuild_gives_identical_bytes(seed_build, image_server, tmp_path):
    out, cache, report, _ = seed_build
    result = run_cli("build", SEEDS, "--out", tmp_path, "--cache-dir", cache,
                     *serve_args(image_server), env={"SOURCE_DATE_EPOCH": "1661924079"})
    assert result.returncode == 0, result.stderr
    assert "0 fetched, 19 cached" in result.stdout
    for kind in ("epub", "pdf", "booklet"):
        first = outputs(report)[kind]
        assert (tmp_path / first.name).read_bytes() == first.read_bytes(), kind


def test_images_come_through_the_http_proxy_of_the_environment(image_server, tmp_path):
    out = tmp_path / "out"
    proxy = f"http://127.0.0.1:{image_server.port}"
    result = run_cli("build", SEEDS, "--out", out, "--cache-dir", tmp_path / "cache",
                     "--format", "epub", env={"HTTP_PROXY": proxy, "http_proxy": proxy,
                                              "NO_PROXY": "", "no_proxy": ""})
    assert result.returncode == 0, result.stderr
    report = json.loads(next(out.glob("*.report.json")).read_text())
    assert [i["status"] for i in report["images"]] == ["ok"] * 19
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        served = {hashlib.sha256(d).hexdigest() for d in image_server.images.values()}
        inside = {hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()
                  if n.endswith(".jpg")}
    assert inside == served


def test_unreachable_images_become_placeholders(tmp_path):
    out = tmp_path / "out"
    result = run_cli("build", SEEDS, "--out", out, "--cache-dir", tmp_path / "cache",
                     "--offline", "--format", "epub")
    assert result.returncode == 0, result.stderr
    report = json.loads(next(out.glob("*.report.json")).read_text())
    assert len(report["images"]) == 19
    assert all(i["status"] == "placeholder" and "offline" in i["reason"]
               for i in report["images"])
    assert len(report["warnings"]) == 19
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        chapter = z.read("EPUB/chapter-001.xhtml").decode()
        assert chapter.count("<img") == 19 and chapter.count("<figcaption>") == 13


def test_strict_build_fails_and_leaves_out_dir_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.epub").write_bytes(b"previous build")
    result = run_cli("build", SEEDS, "--out", out, "--cache-dir", tmp_path / "cache",
                     "--offline", "--strict")
    assert result.returncode == 1
    assert "could not be fetched" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.epub"]
    assert (out / "keep.epub").read_bytes() == b"previous build"
