"""Hostile and odd inputs: each a case that once crashed, leaked or misbehaved. The books are
built by the CLI (all at once, in a pool of threads running subprocesses) from articles and
files written on the spot; the fetch stage and the loader are also run in-process. Nothing is
reached but 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import run_cli
from helpers_books import Books, BuiltBook, checked
from helpers_images import SVG_OK, jpeg
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import StreamObject
from pytest_httpserver import HTTPServer
from werkzeug import Response

import builder
from builder.fetch import Request, fetch_assets
from builder.load import load_article
from builder.model import REFUSED, ImageRef, asset_key
from builder.photos import ImageRejected, prepare
from builder.settings import FetchSettings

XHTML = "{http://www.w3.org/1999/xhtml}"
OPF = "{http://www.idpf.org/2007/opf}"
DC = "{http://purl.org/dc/elements/1.1/}"
EPOCH = "1661924079"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
              "all_proxy", "no_proxy")


def article(title: str, body: str, **meta: str) -> str:
    lines = [f"title: {title}"] + [f"{k}: '{v}'" for k, v in meta.items()]
    return "---\n" + "\n".join(lines) + "\n---\n" + body


def write(folder: Path, files: dict[str, str | bytes | None]) -> None:
    """``files`` under ``folder``: text, bytes, or ``None`` for a folder."""
    for rel, content in files.items():
        path = folder / rel
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, "utf-8")


# --- the inputs ------------------------------------------------------------------------------

PAGE = "https://site.example/dir/page.html"
SVG_PI = (b'<?xml version="1.0"?>\n<?xml-stylesheet href="https://evil.example/x.css"?>\n'
          b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">'
          b'<rect width="10" height="10"/></svg>')
SVG_SET = (b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><a>'
           b'<set attributeName="href" to="javascript:alert(1)"/>'
           b'<rect width="10" height="10"/></a></svg>')
REAL = jpeg(400, 300, color=(200, 30, 30))

#: The page URLs that must not reach the book, by file name.
BAD_PAGE_URLS = {"js.txt": "javascript:alert(1)", "file.txt": "file:///etc/passwd"}

URLS = {
    "js.txt": article("脚本网址", "<p>第一篇的正文。</p>", date="2022-08-01",
                      url=BAD_PAGE_URLS["js.txt"]),
    "file.txt": article("文件网址", "<p>第二篇的正文。</p>", date="2022-08-02",
                        url=BAD_PAGE_URLS["file.txt"]),
    "ok.txt": article("正常网址", "<p>第三篇的正文。</p>", date="2022-08-03", url=PAGE),
}

#: Local image paths that cannot be read, and SVGs that must not be embedded: caption → file.
ODD_IMAGES = {
    "odd.txt": article("奇怪的图片", """
<p>开头。</p>
<p><img src="a%00.jpg"></p><p>↑ 空字节的路径</p>
<p><img src="sub/"></p><p>↑ 一个文件夹</p>
<p><img src="pi.svg"></p><p>↑ 带样式表指令的SVG</p>
<p><img src="set.svg"></p><p>↑ 带脚本链接动画的SVG</p>
<p><img src="safe.svg"></p><p>↑ 安全的SVG</p>
<p><img src="real.jpg"></p><p>↑ 真的照片</p>
""", date="2022-08-04"),
    "sub": None, "pi.svg": SVG_PI, "set.svg": SVG_SET, "safe.svg": SVG_OK, "real.jpg": REAL,
}

LINKS = {
    "with-url.txt": article("有网址的链接", """
<p id="top">开头。<a href="/news/2.html">第二篇</a>和<a href="3.html">第三篇</a>。</p>
<p><a href="javascript:alert(1)">脚本链接</a>，<a href="#top">回到开头</a>。</p>
""", date="2022-08-05", url=PAGE),
    "without-url.txt": article("没有网址的链接", """
<p id="start">开头。<a href="/news/2.html">相对链接甲</a>和<a href="3.html">相对链接乙</a>。</p>
<p><a href="javascript:alert(1)">脚本链接二</a>，<a href="#start">回到开头二</a>。</p>
""", date="2022-08-06"),
}

#: Dates whose UTC time is outside the years 1–9999, by file name.
DATES = {"late.txt": "9999-12-31T23:30:00-05:00", "early.txt": "0001-01-01T00:30:00+05:00"}

HEADIMG = {"head.txt": article("脚本头图", "<p>正文。</p>", date="2022-08-07",
                               headimg="javascript:alert(1)")}


# --- the books -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Spec:
    files: dict[str, str | bytes | None]
    formats: str = "epub"
    epubcheck: bool = False
    title: str = "选集"


BOOKS = {
    "urls": Spec(URLS),
    "odd-images": Spec(ODD_IMAGES),
    "links": Spec(LINKS, epubcheck=True),
    "dates": Spec({name: article("日期" + name, "<p>正文。</p>", date=date)
                   for name, date in DATES.items()}),
    "headimg": Spec(HEADIMG, formats="epub,pdf"),
}


class Book(BuiltBook):
    def chapters(self) -> dict[str, etree._Element]:
        """Each chapter document's root, by its article's title."""
        out = {}
        for name, data in sorted(self.files().items()):
            if name.startswith("EPUB/chapter-") and name.endswith(".xhtml"):
                root = etree.fromstring(data)
                out[root.findtext(f".//{XHTML}h1")] = root
        return out

    def images(self) -> dict[str, dict]:
        """The report's images by the URL the article gave (its file name, for local ones)."""
        return {Path(i["url"]).name if i["url"].startswith("/") else i["url"]: i
                for i in self.report["images"]}


def _build(name: str, spec: Spec, root: Path) -> Book:
    src, out = root / "src", root / "out"
    write(src, spec.files)
    result = run_cli("build", src, "--out", out, "--cache-dir", root / "cache", "--name", name,
                     "--title", spec.title, "--format", spec.formats, "-v",
                     env={"SOURCE_DATE_EPOCH": EPOCH})
    return checked(Book(name, src, out, result), spec.epubcheck)


def _built(book: Book) -> None:
    assert book.result.returncode == 0, book.result.stderr
    assert_no_crash(book.result)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """Every book of :data:`BOOKS`, built at once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        root = tmp_path_factory.mktemp("hostile")
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {name: pool.submit(_build, name, spec, root / name)
                       for name, spec in BOOKS.items()}
            yield Books(futures, _built)
            for f in futures.values():
                f.cancel()


def assert_no_crash(result: subprocess.CompletedProcess) -> None:
    for text in (result.stdout, result.stderr):
        assert "Traceback" not in text and "internal error" not in text, text


def pdf_data(path: Path) -> bytes:
    """A PDF's bytes, and each of its streams decoded: everything it holds, to search."""
    reader = PdfReader(path)
    parts = [path.read_bytes()]
    for num in range(1, int(reader.trailer["/Size"])):
        obj = reader.get_object(num)
        if isinstance(obj, StreamObject):
            parts.append(obj.get_data())
    parts += [(page.extract_text() or "").encode("utf-8") for page in reader.pages]
    return b"\n".join(parts)


# --- 1. a page URL that is no web address ----------------------------------------------------

@pytest.mark.parametrize("name", sorted(BAD_PAGE_URLS))
def test_a_page_url_that_is_no_web_address_is_left_out_with_a_warning(books, name):
    book = books["urls"]
    warning = (f"{book.src / name}:4: the article's URL {BAD_PAGE_URLS[name]!r} is not an "
               "http(s) address; it is left out")
    assert warning in book.report["warnings"]
    assert f"warning: {warning}" in book.result.stderr
    assert len(book.report["articles"]) == 3  # the article is built all the same


@pytest.mark.parametrize("scheme", [b"javascript:", b"file:"])
def test_no_entry_of_the_epub_holds_the_refused_page_url(books, scheme):
    for entry, data in books["urls"].files().items():
        assert scheme not in data.lower(), entry


def test_only_the_web_address_is_linked_and_named_as_a_source(books):
    book = books["urls"]
    colophon = etree.fromstring(book.files()["EPUB/colophon.xhtml"])
    assert [a.get("href") for a in colophon.iter(f"{XHTML}a")] == [PAGE]
    assert [s.text for s in book.opf().iter(f"{DC}source")] == [PAGE]
    assert set(book.chapters()) == {"脚本网址", "文件网址", "正常网址"}


# --- 2. article text that looks like the sanitizer's image stand-in --------------------------

def test_text_that_looks_like_an_image_stand_in_stays_text(tmp_path):
    body = ('<p>src="https://image.invalid/0"</p>\n<p><img src="real.jpg"></p>\n'
            '<p>src="https://image.invalid/7"</p>\n')
    write(tmp_path, {"look-alike.txt": article("像占位符的文字", body, date="2022-08-08"),
                     "real.jpg": REAL})
    result = run_cli("inspect", tmp_path / "look-alike.txt")
    assert result.returncode == 0, result.stderr
    assert_no_crash(result)
    lines = result.stdout.splitlines()
    assert '<p>src="https://image.invalid/0"</p>' in lines
    assert '<p>src="https://image.invalid/7"</p>' in lines
    assert '<figure><img src="real.jpg" alt=""/></figure>' in lines
    assert result.stdout.count("real.jpg") == 1  # not put in place of the paragraph's text


# --- 3 and 5. local paths that are no image file, and unsafe SVGs ----------------------------

@pytest.mark.parametrize(("name", "reason"), [("a%00.jpg", "invalid path"),
                                              ("sub", "a folder, not an image file")])
def test_a_local_path_that_names_no_image_file_is_a_placeholder(books, name, reason):
    image = books["odd-images"].images()[name]
    assert image["status"] == "placeholder"
    assert image["reason"].startswith(reason), image["reason"]


def test_the_audit_gives_each_odd_image_its_reason(books):
    (entry,) = books["odd-images"].report["articles"]
    images = entry["audit"]["images"]
    reasons = {p["url"]: p["reason"] for p in images["placeholders"]}
    assert set(reasons) == {"a%00.jpg", "sub/", "pi.svg", "set.svg"}
    assert reasons["a%00.jpg"].startswith("invalid path")
    assert reasons["sub/"] == "a folder, not an image file"
    assert (images["in_source"], images["embedded"], images["unexplained"]) == (6, 2, 0)


@pytest.mark.parametrize("data", [SVG_PI, SVG_SET], ids=["xml-stylesheet", "set-href"])
def test_an_unsafe_svg_is_rejected(data):
    with pytest.raises(ImageRejected, match="unsafe SVG"):
        prepare(data, 80_000_000)


def test_a_safe_svg_passes():
    prepared = prepare(SVG_OK, 80_000_000)
    assert (prepared.media_type, prepared.width, prepared.height) == ("image/svg+xml", 120, 80)


@pytest.mark.parametrize("name", ["pi.svg", "set.svg"])
def test_an_unsafe_svg_is_a_placeholder_in_the_book(books, name):
    book = books["odd-images"]
    image = book.images()[name]
    assert image["status"] == "placeholder"
    assert image["reason"].startswith("unsafe SVG"), image["reason"]
    files = book.files()
    assert not any(b"evil.example" in data or b"javascript:" in data for data in files.values())


def test_a_safe_svg_and_a_photo_are_embedded_beside_them(books):
    book = books["odd-images"]
    images = book.images()
    assert images["safe.svg"]["status"] == images["real.jpg"]["status"] == "ok"
    svgs = [n for n in book.files() if n.endswith(".svg")]
    assert len(svgs) == 1 and book.files()[svgs[0]] == SVG_OK


# --- 4. the per-image deadline starts when the image has its slot ----------------------------

@pytest.fixture(scope="module")
def slow_server():
    """A threaded server on 127.0.0.1 whose photos each take 1.5 s; ``.spans`` records when
    each answer began and ended."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    server.spans = []
    lock = threading.Lock()

    def slow(request):
        start = time.monotonic()
        time.sleep(1.5)
        with lock:
            server.spans.append((start, time.monotonic()))
        return Response(jpeg(30, 20), content_type="image/jpeg")

    for n in (1, 2, 3):
        server.expect_request(f"/slow/{n}.jpg").respond_with_handler(slow)
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def test_waiting_for_a_slot_is_not_counted_in_an_images_deadline(slow_server, tmp_path):
    port = slow_server.port
    (tmp_path / "book.toml").write_text(
        f'[fetch]\nper_host = 1\ndeadline = 4\ntimeout = 4\nallow_hosts = ["127.0.0.1:{port}"]\n',
        "utf-8")
    settings = builder.load_settings(tmp_path / "book.toml", {"paths": [tmp_path]})
    assert (settings.fetch.per_host, settings.fetch.deadline, settings.fetch.timeout) == (1, 4, 4)
    urls = [f"http://127.0.0.1:{port}/slow/{n}.jpg" for n in (1, 2, 3)]
    assets = fetch_assets([Request(ImageRef(u), tmp_path) for u in urls], settings.fetch,
                          tmp_path / "cache")
    for url in urls:
        asset = assets[asset_key(url, tmp_path)]
        assert asset.status == "ok", (url, asset.reason)
    # One at a time: the third waited 3 s for its slot, within a deadline of 4 s.
    spans = sorted(slow_server.spans)
    assert len(spans) == 3
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:], strict=False))


# --- 6. links in the body --------------------------------------------------------------------

def links_of(root: etree._Element) -> dict[str, str | None]:
    return {"".join(a.itertext()): a.get("href") for a in root.iter(f"{XHTML}a")}


def test_relative_links_are_made_absolute_against_the_page_url(books):
    chapter = books["links"].chapters()["有网址的链接"]
    links = links_of(chapter)
    assert links["第二篇"] == "https://site.example/news/2.html"
    assert links["第三篇"] == "https://site.example/dir/3.html"
    assert links["脚本链接"] is None


def test_without_a_page_url_relative_links_lose_their_href_and_keep_their_text(books):
    chapter = books["links"].chapters()["没有网址的链接"]
    links = links_of(chapter)
    assert links["相对链接甲"] is None and links["相对链接乙"] is None
    assert links["脚本链接二"] is None
    assert "开头。相对链接甲和相对链接乙。" in ["".join(p.itertext())
                                              for p in chapter.iter(f"{XHTML}p")]


@pytest.mark.parametrize("title", ["有网址的链接", "没有网址的链接"])
def test_a_fragment_link_still_leads_to_its_kept_id(books, title):
    chapter = books["links"].chapters()[title]
    (href,) = [a.get("href") for a in chapter.iter(f"{XHTML}a")
               if (a.get("href") or "").startswith("#")]
    assert len(chapter.xpath("//*[@id=$id]", id=href[1:])) == 1


def test_no_link_leads_to_a_script_or_inside_the_epub(books):
    for title, chapter in books["links"].chapters().items():
        for a in chapter.iter(f"{XHTML}a"):
            href = a.get("href")
            assert href is None or href.startswith(("#", "https://site.example/")), (title, href)
    for entry, data in books["links"].files().items():
        assert b"javascript:" not in data, entry


def test_the_book_with_links_passes_epubcheck(books):
    ok, lines = books["links"].epubcheck
    assert ok, "\n".join(lines)
    assert lines[-1].startswith("Messages: 0 fatals / 0 errors / 0 warnings")


# --- 7. dates at the ends of the calendar ----------------------------------------------------

@pytest.mark.parametrize("name", sorted(DATES))
def test_a_date_outside_the_utc_calendar_is_left_unknown(books, name):
    book = books["dates"]
    (warning,) = [w for w in book.report["warnings"] if w.startswith(str(book.src / name))]
    assert DATES[name] in warning and warning.endswith("the date is left unknown"), warning
    assert len(book.report["articles"]) == 2


# --- 8. numbers too large for the fetch settings ---------------------------------------------

@pytest.mark.parametrize("setting", ["timeout = 1e300", "deadline = 1e300", "concurrency = 1000"])
def test_a_fetch_setting_too_large_is_an_error_naming_it(tmp_path, setting):
    write(tmp_path, {"a.txt": article("一篇", "<p>正文。</p>", date="2022-08-09"),
                     "book.toml": f"[fetch]\n{setting}\n"})
    result = run_cli("build", tmp_path, "--out", tmp_path / "out", "--cache-dir",
                     tmp_path / "cache", "--format", "epub")
    assert result.returncode == 1
    assert_no_crash(result)
    (line,) = result.stderr.strip().splitlines()
    key = setting.split(" ")[0]
    assert str(tmp_path / "book.toml") in line and f"fetch.{key}" in line
    assert "must be at most" in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# --- 9. inspecting an article beside a broken one --------------------------------------------

def test_inspect_is_not_stopped_by_a_broken_article_beside_it(tmp_path):
    broken = "---\ntitle: 坏的\ndate: [2022\nauthor: 某人\n---\n<p>读不到。</p>\n"
    write(tmp_path, {"good.txt": article("好的", "<p>好文章的正文。</p>", date="2022-08-10"),
                     "bad.txt": broken})
    result = run_cli("inspect", tmp_path / "good.txt")
    assert result.returncode == 0, result.stderr
    assert_no_crash(result)
    assert result.stdout.startswith("# 好的\n")
    assert "<p>好文章的正文。</p>" in result.stdout.splitlines()
    # The broken one is broken: inspecting it says so.
    bad = run_cli("inspect", tmp_path / "bad.txt")
    assert bad.returncode == 1 and "invalid front matter" in bad.stderr


# --- 10. a head image that names no image ----------------------------------------------------

def test_a_script_head_image_is_a_placeholder_under_a_stand_in_key(books):
    book = books["headimg"]
    (image,) = book.report["images"]
    assert image["status"] == "placeholder"
    assert image["url"].startswith(f"{REFUSED}javascript/")
    assert image["reason"].startswith("not an image URL (scheme javascript)"), image["reason"]
    (entry,) = book.report["articles"]
    head = entry["audit"]["head_image"]
    assert head["status"] == "placeholder" and head["url"] == image["url"]


def test_the_script_head_image_reaches_no_output(books):
    book = books["headimg"]
    for entry, data in book.files().items():
        assert b"javascript:" not in data.lower(), entry
    assert b"javascript:" not in pdf_data(book.path("pdf")).lower()
    assert "javascript:" not in book.report_path.read_text("utf-8").lower()
    assert set(book.report["outputs"]) >= {"epub", "pdf"}


# --- 11. a proxy of the environment does not lead inside the network -------------------------

def resolver_for(names: dict[str, str]):
    """A resolver that knows only ``names`` and records each call; System DNS is never asked."""
    calls: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append((host, port))
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [names[host]]

    resolve.calls = calls
    return resolve


@pytest.fixture
def proxy_server(monkeypatch):
    """A local HTTP server set as the only proxy of the environment."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    server.expect_request("/x.jpg").respond_with_data(jpeg(), content_type="image/jpeg")
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.mark.parametrize("url", ["http://localhost./x.jpg", "http://printer.local/x.jpg",
                                 "http://intranet.example/x.jpg"])
def test_a_name_inside_the_network_is_refused_before_the_proxy(proxy_server, tmp_path, url):
    settings = dataclasses.replace(FetchSettings(), timeout=1.0, deadline=3.0, retries=1)
    resolve = resolver_for({"intranet.example": "10.0.0.1"})
    assets = fetch_assets([Request(ImageRef(url), tmp_path)], settings, tmp_path / "cache",
                          resolver=resolve)
    asset = assets[asset_key(url, tmp_path)]
    assert asset.status == "placeholder"
    assert asset.reason.startswith("blocked address "), asset.reason
    assert proxy_server.log == []


def test_the_proxy_does_serve_a_name_that_does_not_lead_inside(proxy_server, tmp_path):
    """The control: the same proxy carries an outside name (one that does not resolve here)."""
    url = "http://photos.example/x.jpg"
    settings = dataclasses.replace(FetchSettings(), timeout=1.0, deadline=3.0, retries=1)
    assets = fetch_assets([Request(ImageRef(url), tmp_path)], settings, tmp_path / "cache",
                          resolver=resolver_for({}))
    assert assets[asset_key(url, tmp_path)].status == "ok"
    assert len(proxy_server.log) == 1


# --- 12. guessing the language of hostile markup ---------------------------------------------

ZH = "这是一段用中文写成的文章，讲述了城市里的生活和人们的故事。" * 5


def test_language_guess_of_many_unclosed_script_tags_returns(tmp_path):
    """An unclosed <script> holds the rest of the body, as a browser (and the cleaner) reads
    it: the guess comes from the title then, and it returns at once (it was quadratic)."""
    path = tmp_path / "scripts.txt"
    path.write_text(article("城市里的生活和人们的故事", "<script x>" * 20_000 + f"<p>{ZH}</p>",
                            date="2022-08-11"), "utf-8")
    loaded, _ = load_article(path)
    assert loaded.lang == "zh"
    closed = tmp_path / "closed.txt"
    closed.write_text(article("x", "<script x>" * 5_000 + f"</script><p>{ZH}</p>",
                              date="2022-08-11"), "utf-8")
    assert load_article(closed)[0].lang == "zh"


def test_language_guess_of_a_run_of_angle_brackets_returns(tmp_path):
    path = tmp_path / "brackets.txt"
    path.write_text(article("城市生活", "<" * 100_000, date="2022-08-11"), "utf-8")
    loaded, _ = load_article(path)
    assert loaded.lang == "zh"
