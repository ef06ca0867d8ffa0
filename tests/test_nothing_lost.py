"""Nothing the article had is lost silently: one book per article shape, built by the CLI with
its photos served by a local server on 127.0.0.1 (or from the article's folder), and the EPUB,
PDF, booklet, report and console summary it writes opened and inspected.

Every book of this module is built once, all at the same time (each build, then its EPUBCheck
run, in a pool of threads running subprocesses); a test waits for the books it reads.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import subprocess
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import tinycss2
from conftest import SEEDS, run_cli, serve_args
from helpers_books import Books, BuiltBook, checked
from helpers_images import encode, jpeg, png
from lxml import etree
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import StreamObject
from pytest_httpserver import HTTPServer
from werkzeug import Response

import builder
from builder.check import run_epubcheck
from builder.clean import clean_article, sites
from builder.clean.sites import SiteRule
from builder.clean.urls import largest_candidate, srcset_candidates, unwrap_proxy
from builder.model import REFUSED, Article, refused_url

XHTML = "{http://www.w3.org/1999/xhtml}"
OPF = "{http://www.idpf.org/2007/opf}"
MARKERS = ("↑", "▲", "△")
GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"

# --- the photos the server serves ------------------------------------------------------------


def _color(name: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(name.encode()).digest()
    return digest[0], digest[1], digest[2]


#: name → (width, height): each a JPEG of its own colour, served at /p/NAME.
JPEGS = {
    "s1-head.jpg": (800, 600), "s1-b.jpg": (640, 480),
    "s2-head.jpg": (800, 500), "s2-a.jpg": (640, 400),
    "s3-same.jpg": (700, 500),
    "s4-ok.jpg": (600, 400),
    "s6-meaningful.jpg": (600, 400), "s6-filename.jpg": (600, 401), "s6-same.jpg": (600, 402),
    "s6-altonly.jpg": (600, 403),
    "s7-a.jpg": (500, 400), "s7-b.jpg": (500, 401),
    "s8-w100.jpg": (100, 75), "s8-w200.jpg": (200, 150), "s8-v100.jpg": (100, 76),
    "s8-v200.jpg": (200, 151), "s8-x1.jpg": (100, 77), "s8-x2.jpg": (200, 152),
    "s8-tracked.jpg": (300, 200), "s8-proxied.jpg": (300, 201), "s8-pixel.gif": (1, 1),
    "s8-noscript.jpg": (300, 202),
    "s9-a.jpg": (600, 400),
    "s11-a.jpg": (600, 400),
    "rule-real.jpg": (320, 240),
}
BIG_PNG = png(2000, 1200, mode="RGB", color=(30, 90, 160))  # opaque, over epub_max_edge
BIG_PNG_DATA = png(2000, 1200, mode="RGB", color=(160, 90, 30))


def photo(name: str) -> bytes:
    width, height = JPEGS[name]
    if name.endswith(".gif"):
        return encode(Image.new("RGB", (width, height), _color(name)), "GIF")
    return jpeg(width, height, color=_color(name))


@pytest.fixture(scope="module")
def server():
    """A threaded HTTP server on 127.0.0.1 serving every photo of this module under /p/, and a
    proxy path that answers 404 (so that a proxy not unwrapped shows as a placeholder)."""
    s = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    s.start()
    for name in JPEGS:
        kind = "image/gif" if name.endswith(".gif") else "image/jpeg"
        s.expect_request(f"/p/{name}").respond_with_data(photo(name), content_type=kind)
    s.expect_request("/p/s5-big.png").respond_with_data(BIG_PNG, content_type="image/png")
    for path in ("/proxy", "/resize"):
        s.expect_request(path).respond_with_response(Response("no", status=404))
    yield s
    s.clear()
    if s.is_running():
        s.stop()


def requests_for(server: HTTPServer, path: str) -> list:
    """The requests the server was sent for ``path`` (any query)."""
    return [request for request, _ in server.log if request.path == path]


# --- the articles ----------------------------------------------------------------------------

#: An unbroken Latin word and a URL far wider than a page, for the wrapping checks.
LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3
LONG_URL = ("https://www.example.com/photos/2022/08/31/" + "x7Kq9ZpWm3" * 14 + ".jpg?t="
            + "ab12" * 10)


def article(title: str, body: str, **meta: str) -> str:
    lines = [f"title: {title}"] + [f"{k}: '{v}'" for k, v in meta.items()]
    return "---\n" + "\n".join(lines) + "\n---\n" + body


def head_first(b: str) -> str:
    """The head image is the body's first photo, with a ↑ caption."""
    return article("头图在前", f"""
<p><img src="{b}s1-head.jpg" width="800" height="600"></p>
<p>↑ 清晨，社区广场上的老人们</p>
<p>第一段正文。</p>
<img src="{b}s1-b.jpg"><p>▲ 第二张照片的说明</p>
<p>结尾。</p>
""", date="2022-08-01", author="记者甲", headimg=f"{b}s1-head.jpg")


S1_CAPTION = "清晨，社区广场上的老人们"


def head_elsewhere(b: str) -> str:
    """The head image is further down the body, with a caption there."""
    return article("头图在后", f"""
<p>导语。</p>
<img src="{b}s2-a.jpg"><p>△ 第一张：街道</p>
<p>中间的正文。</p>
<img src="{b}s2-head.jpg"><p>↑ 头图在正文中的说明</p>
<p>结尾。</p>
""", date="2022-08-02", headimg=f"{b}s2-head.jpg")


S2_CAPTION = "头图在正文中的说明"


def alt_texts(b: str) -> str:
    return article("替代文字", f"""
<p>替代文字。</p>
<img src="{b}s6-meaningful.jpg" alt="一位老人在院子里读报"><p>↑ 2022年8月3日，社区里</p>
<img src="{b}s6-filename.jpg" alt="IMG_1234.jpg"><p>↑ 文件名不是替代文字</p>
<img src="{b}s6-same.jpg" alt="与说明相同的文字"><p>↑ 与说明相同的文字</p>
<p>正文。</p>
<img src="{b}s6-altonly.jpg" alt="只有替代文字的照片"><p>后面是普通段落。</p>
""", date="2022-08-03")


def srcsets(b: str, port: int) -> str:
    """srcset in both orders and without spaces, a URL with a tracking parameter, a proxy, a
    tracking pixel and a lazy-load stand-in with its <noscript> photo."""
    proxied = f"http://127.0.0.1:{port}/proxy?url={quote(b + 's8-proxied.jpg', safe='')}"
    return article("响应式图片", f"""
<p>响应式图片。</p>
<img srcset="{b}s8-w100.jpg 100w,{b}s8-w200.jpg 200w"><p>↑ 宽度升序，逗号后无空格</p>
<img srcset="{b}s8-v200.jpg 200w, {b}s8-v100.jpg 100w" src="{b}s8-v100.jpg"><p>↑ 宽度降序</p>
<img srcset="{b}s8-x2.jpg 2x,{b}s8-x1.jpg 1x"><p>↑ 按密度</p>
<img src="{b}s8-tracked.jpg?ref=https://news.example/a.html"><p>↑ 带跟踪参数</p>
<img src="{proxied}"><p>↑ 经过代理</p>
<p>统计<img src="{b}s8-pixel.gif" width="1" height="1">像素。</p>
<img class="lazy" src="{GIF}"><noscript><img src="{b}s8-noscript.jpg"></noscript>
<p>↑ 懒加载的照片</p>
""", date="2022-08-04")


def repeated(b: str) -> str:
    return article("一张照片三次", f"""
<p>开头。</p>
<img src="{b}s3-same.jpg"><p>↑ 第一次出现</p>
<p>中间。</p>
<img src="{b}s3-same.jpg"><p>↑ 第二次出现</p>
<p>再往后。</p>
<img src="{b}s3-same.jpg#again"><p>↑ 第三次出现</p>
""", date="2022-08-05")


BAD_DATA_PNG = "data:image/png;base64," + base64.b64encode(b"no image here; " * 40).decode()
SVG_SCRIPT = "data:image/svg+xml;base64," + base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200">'
    + b'<rect width="300" height="200" fill="#ccc"/>' * 8
    + b"<script>alert(document.cookie)</script></svg>").decode()
#: caption → the reason the report must give
REFUSED_CAPTIONS = {
    "脚本地址的照片": "not an image URL (scheme javascript); refused while cleaning",
    "无法解析的地址": "invalid URL",
    "不是图片的数据": "not an image",
    "带脚本的SVG": "unsafe SVG: <script>",
}


def refused(b: str) -> str:
    assert len(BAD_DATA_PNG) >= 400 and len(SVG_SCRIPT) >= 400  # not taken for lazy stand-ins
    return article("拒绝的图片", f"""
<p>开头。</p>
<img src="javascript:alert(document.cookie)"><p>↑ 脚本地址的照片</p>
<img src="http://[::1"><p>↑ 无法解析的地址</p>
<img src="{BAD_DATA_PNG}"><p>↑ 不是图片的数据</p>
<img src="{SVG_SCRIPT}"><p>↑ 带脚本的SVG</p>
<img src="{b}s4-ok.jpg"><p>↑ 正常的照片</p>
""", date="2022-08-06")


def big_png(b: str) -> str:
    data = "data:image/png;base64," + base64.b64encode(BIG_PNG_DATA).decode()
    return article("大图", f"""
<p>大图。</p>
<img src="{b}s5-big.png"><p>↑ 两千像素宽的PNG</p>
<img src="{data}"><p>↑ 同样大小的PNG数据</p>
""", date="2022-08-07")


def all_alt(b: str) -> str:
    return article("每张都有替代文字", f"""
<p>开头。</p>
<img src="{b}s7-a.jpg" alt="河边的柳树"><p>↑ 春天的河边</p>
<img src="{b}s7-b.jpg" alt="孩子们在操场上踢球">
<p>结尾。</p>
""", date="2022-08-08")


def long_words(b: str) -> str:
    return article("长词", f"""
<p>这是一个很长的词：{LONG_WORD}，还有一个很长的网址：{LONG_URL}。</p>
<h2>{LONG_WORD} {LONG_URL}</h2>
<p><a href="{LONG_URL}">{LONG_URL}</a></p>
<img src="{b}s9-a.jpg"><p>↑ 说明里的长词{LONG_WORD}和网址{LONG_URL}</p>
<p>结尾。</p>
""", date="2022-08-09", lang="zh")


STRANDED = "这张照片在源文中不见了"


def stranded(b: str) -> str:
    return article("说明没有照片", f"""
<p>导语。</p>
<p>↑ {STRANDED}</p>
<img src="{b}s11-a.jpg"><p>↑ 有照片的说明</p>
<p>结尾。</p>
""", date="2022-08-10")


def readable(title: str, day: int) -> str:
    return article(title, f'<p>{title}的正文。</p><img src="img/{day}.jpg"><p>↑ {title}的照片</p>',
                   date=f"2022-08-{day:02d}")


#: Front matter YAML cannot read: the flow list opened on line 3 meets a key on line 4.
BROKEN = "---\ntitle: 坏的\ndate: [2022\nauthor: 某人\n---\n<p>读不到。</p>\n"


def keep_going_files(extra: dict | None = None) -> Callable[[str, int], dict]:
    def files(b: str, port: int) -> dict:
        return {"a.txt": readable("第一篇", 1), "b.txt": BROKEN, "c.txt": readable("第三篇", 3),
                "img/1.jpg": jpeg(400, 300, color=(200, 10, 10)),
                "img/3.jpg": jpeg(400, 300, color=(10, 10, 200)), **(extra or {})}
    return files


# --- the books -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    files: Callable[[str, int], dict[str, str | bytes]]  # (photo base URL, port) → files
    args: tuple[str, ...] = ()
    formats: str = "epub"
    epubcheck: bool = True  # run EPUBCheck on the EPUB (when the build succeeds)
    seed: bool = False  # build seeds/ with the seed's image server instead


def one(fn) -> Callable[[str, int], dict]:
    name = fn.__name__.replace("_", "-") + ".txt"
    return lambda b, port: {name: fn(b)}


ANTHOLOGY = ("--title", "选集")
BOOKS = {
    "single": Spec(one(head_first), formats="epub,pdf"),
    "anthology": Spec(lambda b, port: {"head-first.txt": head_first(b),
                                       "head-elsewhere.txt": head_elsewhere(b),
                                       "alt-texts.txt": alt_texts(b),
                                       "srcsets.txt": srcsets(b, port)},
                      ANTHOLOGY, formats="epub,pdf"),
    "repeated": Spec(one(repeated)),
    "refused": Spec(one(refused), formats="epub,pdf,booklet"),
    "big": Spec(one(big_png)),
    "all-alt": Spec(one(all_alt)),
    "long": Spec(one(long_words), formats="epub,pdf"),
    # The control of the wrapping check: the same book without the overflow-wrap rule.
    "long-unwrapped": Spec(lambda b, port: {"long.txt": long_words(b)},
                           ("--theme", "{src}/../theme"), formats="pdf", epubcheck=False),
    "stranded": Spec(one(stranded)),
    "stranded-strict": Spec(one(stranded), ("--strict",), epubcheck=False),
    "keep-going": Spec(keep_going_files(), ("--keep-going", *ANTHOLOGY)),
    "keep-going-config": Spec(keep_going_files(
        {"book.toml": '[book]\ntitle = "选集"\nkeep_going = true\n'}), epubcheck=False),
    "keep-going-strict": Spec(keep_going_files(), ("--keep-going", "--strict", *ANTHOLOGY),
                              epubcheck=False),
    "no-keep-going": Spec(keep_going_files(), ANTHOLOGY, epubcheck=False),
    "none-readable": Spec(lambda b, port: {"x.txt": BROKEN, "y.txt": BROKEN, "z.txt": BROKEN},
                          ("--keep-going", *ANTHOLOGY), epubcheck=False),
    "seed": Spec(lambda b, port: {}, seed=True),
}


@dataclass
class Book(BuiltBook):
    port: int = 0

    def url(self, photo_name: str) -> str:
        """The URL the server serves ``photo_name`` at."""
        return f"http://127.0.0.1:{self.port}/p/{photo_name}"

    @property
    def summary(self) -> str:
        """The last line the build printed: the audit's."""
        return self.result.stdout.strip().splitlines()[-1]

    def chapters(self) -> dict[str, etree._Element]:
        """Each chapter's <section>, by the article's title."""
        out = {}
        for name, data in sorted(self.files().items()):
            if re.match(r"EPUB/chapter-\d+\.xhtml$", name):
                section = etree.fromstring(data).find(f".//{XHTML}section")
                out[section.findtext(f".//{XHTML}h1")] = section
        return out

    def image_named(self, src: str) -> bytes:
        return self.files()["EPUB/" + src]

    def pdf_pages(self, kind: str = "pdf") -> list[str]:
        return [page.extract_text() or "" for page in PdfReader(self.path(kind)).pages]


def _theme_without_wrapping(folder: Path) -> None:
    """A theme whose print.css is the default one without its overflow-wrap rule."""
    css = (Path(builder.__file__).parent.parent / "styles" / "print.css").read_text("utf-8")
    stripped = re.sub(r"overflow-wrap:\s*anywhere;", "", css)
    assert stripped != css
    (folder / "styles").mkdir(parents=True)
    (folder / "styles" / "print.css").write_text(stripped, "utf-8")


def _build(name: str, spec: Spec, root: Path, server: HTTPServer, seed_server) -> Book:
    src, out, cache = root / "src", root / "out", root / "cache"
    src.mkdir(parents=True)
    base = f"http://127.0.0.1:{server.port}/p/"
    for rel, content in spec.files(base, server.port).items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, "utf-8")
    if any("{src}" in a for a in spec.args):
        _theme_without_wrapping(root / "theme")
    args = [a.replace("{src}", str(src)) for a in spec.args]
    if spec.seed:
        paths, hosts = [SEEDS], serve_args(seed_server)
    else:
        paths, hosts = [src], ["--allow-host", f"127.0.0.1:{server.port}"]
    result = run_cli("build", *paths, "--out", out, "--cache-dir", cache, "--name", name,
                     "--format", spec.formats, *hosts, *args,
                     env={"SOURCE_DATE_EPOCH": "1661924079"})
    return checked(Book(name, src, out, result, port=server.port), spec.epubcheck)


@pytest.fixture(scope="module")
def books(tmp_path_factory, server, image_server):
    """Every book of :data:`BOOKS`, built at once."""
    # EPUBCheck is a short run of the JVM: with the client compiler only it takes half the
    # time, and checks the same.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        root = tmp_path_factory.mktemp("books")
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {name: pool.submit(_build, name, spec, root / name, server, image_server)
                       for name, spec in BOOKS.items()}
            yield Books(futures)
            for f in futures.values():
                f.cancel()


def built(*kinds: str) -> list[str]:
    """The books of :data:`BOOKS` that are built and write every one of ``kinds``."""
    failing = {"stranded-strict", "keep-going-strict", "no-keep-going", "none-readable"}
    return [name for name, spec in BOOKS.items() if name not in failing
            and all(k in spec.formats.split(",") for k in kinds)]


def xhtml_docs(book: Book) -> dict[str, str]:
    return {n: d.decode("utf-8") for n, d in book.files().items() if n.endswith(".xhtml")}


def figures(section: etree._Element) -> list[tuple[str, str, str | None]]:
    """(src, alt, caption) of each image of a chapter's figures, in order."""
    return [(img.get("src"), img.get("alt"), fig.findtext(f"{XHTML}figcaption"))
            for fig in section.iter(f"{XHTML}figure") for img in fig.iter(f"{XHTML}img")]


def body_start(section: etree._Element) -> etree._Element:
    """The first element of a chapter after its header."""
    return [el for el in section if el.tag != f"{XHTML}header"][0]


def src_of(book: Book, served: bytes) -> str:
    """The EPUB name of the image whose bytes are ``served`` (kept byte for byte)."""
    (name,) = [n for n, d in book.files().items() if d == served]
    return name.removeprefix("EPUB/")


def manifest_images(book: Book) -> list[etree._Element]:
    return [item for item in book.opf().iter(f"{OPF}item")
            if item.get("media-type", "").startswith("image/")]


def features(book: Book) -> list[str]:
    return [m.text for m in book.opf().iter(f"{OPF}meta")
            if m.get("property") == "schema:accessibilityFeature"]


def pdf_data(path: Path) -> bytes:
    """A PDF's bytes, and each of its streams decoded: everything it holds, to search."""
    reader = PdfReader(path)
    parts = [path.read_bytes()]
    for num in range(1, int(reader.trailer["/Size"])):
        obj = reader.get_object(num)
        if isinstance(obj, StreamObject):
            parts.append(obj.get_data())
    return b"".join(parts)


# --- the head image ----------------------------------------------------------------------------

def test_head_image_first_in_body_opens_the_chapter_of_a_one_article_book(books):
    book = books["single"]
    (section,) = book.chapters().values()
    head = src_of(book, photo("s1-head.jpg"))
    start = body_start(section)
    assert start.tag == f"{XHTML}figure"
    assert start.find(f"{XHTML}img").get("src") == head
    assert start.findtext(f"{XHTML}figcaption") == S1_CAPTION
    # The head image is shown once in the chapter (and on the book's cover page).
    assert [src for src, _, _ in figures(section)].count(head) == 1
    assert len(section.findall(f".//{XHTML}figure")) == 2
    cover = etree.fromstring(book.files()["EPUB/cover.xhtml"])
    assert cover.find(f".//{XHTML}img").get("src") == head


def test_head_image_first_in_body_opens_its_chapter_in_an_anthology(books):
    book = books["anthology"]
    section = book.chapters()["头图在前"]
    head = src_of(book, photo("s1-head.jpg"))
    start = body_start(section)
    assert (start.find(f"{XHTML}img").get("src"), start.findtext(f"{XHTML}figcaption")) == \
        (head, S1_CAPTION)
    assert [src for src, _, _ in figures(section)].count(head) == 1
    on = {p["page"] for p in book.report["print"] if p["url"] == book.url("s1-head.jpg")}
    with_caption = {n for n, text in enumerate(book.pdf_pages(), 1) if S1_CAPTION in text}
    assert len(with_caption) == 1 and with_caption <= on


def test_head_image_caption_is_printed_on_the_page_of_its_photo(books):
    book = books["single"]
    pages = book.pdf_pages()
    on = {p["page"] for p in book.report["print"] if p["url"] == book.url("s1-head.jpg")}
    with_caption = {n for n, text in enumerate(pages, 1) if S1_CAPTION in text}
    assert len(with_caption) == 1 and with_caption <= on
    assert len(on) == 2  # the book's cover, and the chapter's lead photo


def test_head_image_elsewhere_leads_the_chapter_with_its_caption(books):
    book = books["anthology"]
    section = book.chapters()["头图在后"]
    head, first = src_of(book, photo("s2-head.jpg")), src_of(book, photo("s2-a.jpg"))
    start = body_start(section)
    assert start.tag == f"{XHTML}figure" and start.get("class") == "lead"
    assert start.find(f"{XHTML}img").get("src") == head
    assert start.findtext(f"{XHTML}figcaption") == S2_CAPTION
    # The body's figure of the head image keeps its place, after the first photo.
    assert [(src, cap) for src, _, cap in figures(section)] == [
        (head, S2_CAPTION), (first, "第一张：街道"), (head, S2_CAPTION)]
    entry = next(a for a in book.report["articles"] if a["title"] == "头图在后")
    assert entry["audit"]["head_image"] == {
        "url": book.url("s2-head.jpg"), "status": "ok",
        "in_body": True, "opens_body": False, "caption": True}


def test_head_image_elsewhere_lead_caption_is_printed_with_its_photo(books):
    book = books["anthology"]
    on = {p["page"] for p in book.report["print"] if p["url"] == book.url("s2-head.jpg")}
    with_caption = {n for n, text in enumerate(book.pdf_pages(), 1) if S2_CAPTION in text}
    assert with_caption and with_caption <= on


def test_seed_head_image_opens_the_body_once(books):
    book = books["seed"]
    (section,) = book.chapters().values()
    srcs = [src for src, _, _ in figures(section)]
    assert len(srcs) == 19 and len(set(srcs)) == 19
    assert section.find(f".//{XHTML}figure[@class='lead']") is None
    cover = etree.fromstring(book.files()["EPUB/cover.xhtml"]).find(f".//{XHTML}img")
    assert srcs[0] == cover.get("src")


# --- one photo, three times --------------------------------------------------------------------

def test_repeated_photo_keeps_every_place_and_caption_with_one_download(books, server):
    book = books["repeated"]
    (section,) = book.chapters().values()
    shown = figures(section)
    assert [cap for _, _, cap in shown] == ["第一次出现", "第二次出现", "第三次出现"]
    assert len({src for src, _, _ in shown}) == 1
    assert len(requests_for(server, "/p/s3-same.jpg")) == 1
    # One image file in the EPUB besides the drawn cover, and it is the photo.
    photos = [i for i in manifest_images(book) if i.get("properties") != "cover-image"]
    assert [i.get("href") for i in photos] == [shown[0][0]]
    assert book.image_named(shown[0][0]) == photo("s3-same.jpg")
    (entry,) = book.report["articles"]
    assert entry["audit"]["images"]["repeated"] == 2
    assert entry["audit"]["images"]["embedded"] == 3
    assert [i["url"] for i in book.report["images"]].count(
        f"http://127.0.0.1:{server.port}/p/s3-same.jpg") == 1


# --- images whose URL names no image, or no usable one ------------------------------------------

def test_refused_images_are_placeholders_with_their_caption_and_reason(books):
    book = books["refused"]
    (section,) = book.chapters().values()
    shown = figures(section)
    assert [cap for _, _, cap in shown] == [*REFUSED_CAPTIONS, "正常的照片"]
    stand_ins = {src for src, _, _ in shown[:4]}
    assert len(stand_ins) == 1  # the one drawn placeholder
    assert Image.open(io.BytesIO(book.image_named(stand_ins.pop()))).format == "PNG"
    assert book.image_named(shown[4][0]) == photo("s4-ok.jpg")
    (entry,) = book.report["articles"]
    placeholders = entry["audit"]["images"]["placeholders"]
    assert len(placeholders) == 4
    for found, expected in zip(placeholders, REFUSED_CAPTIONS.values(), strict=True):
        assert expected in found["reason"]
    assert placeholders[0]["url"].startswith(f"{REFUSED}javascript/")
    reasons = {i["url"]: i["reason"] for i in book.report["images"] if i["status"] == "placeholder"}
    assert len(reasons) == 4
    assert reasons[refused_url("javascript:alert(document.cookie)", "javascript")] == \
        REFUSED_CAPTIONS["脚本地址的照片"]
    assert reasons["http://[::1"].startswith("invalid URL")
    assert "4 failed" in book.result.stdout
    assert book.summary.endswith("all accounted for (4 shown as placeholders)")


def test_no_javascript_url_reaches_any_output(books):
    book = books["refused"]
    for name, data in book.files().items():
        assert b"javascript:" not in data.lower(), name
    for kind in ("pdf", "booklet"):
        assert b"javascript:" not in pdf_data(book.path(kind)).lower(), kind
        assert "javascript:" not in "".join(book.pdf_pages(kind)).lower()
    report = (book.out / "refused.report.json").read_text("utf-8")
    assert "javascript:" not in report and "alert(" not in report
    assert "javascript:" not in book.result.stdout + book.result.stderr


def test_refused_captions_are_printed(books):
    text = "".join(books["refused"].pdf_pages())
    for caption in [*REFUSED_CAPTIONS, "正常的照片"]:
        assert caption in text


# --- a photo over the EPUB's pixel box ----------------------------------------------------------

def test_opaque_big_png_becomes_a_jpeg_in_the_epub(books):
    book = books["big"]
    (section,) = book.chapters().values()
    srcs = [src for src, _, _ in figures(section)]
    assert len(srcs) == 2 and len(set(srcs)) == 2
    types = {i.get("href"): i.get("media-type") for i in manifest_images(book)}
    for src in srcs:
        assert src.endswith(".jpg") and types[src] == "image/jpeg"
        data = book.image_named(src)
        assert data[:3] == b"\xff\xd8\xff"
        im = Image.open(io.BytesIO(data))
        assert (im.format, im.size) == ("JPEG", (1600, 960))
    photos = [i for i in manifest_images(book) if i.get("properties") != "cover-image"]
    assert sorted(i.get("href") for i in photos) == sorted(srcs)  # the drawn cover aside
    ok, lines = book.epubcheck
    assert ok, lines
    assert not any("OPF-029" in line or "PKG-022" in line for line in lines)
    # The report describes the photo as it was fetched, full size.
    sizes = {(i["width"], i["height"], i["media_type"]) for i in book.report["images"]}
    assert sizes == {(2000, 1200, "image/png")}


# --- alt text ------------------------------------------------------------------------------------

def test_alt_text_is_the_sources_own_when_it_says_something(books):
    book = books["anthology"]
    section = book.chapters()["替代文字"]
    assert [(alt, cap) for _, alt, cap in figures(section)] == [
        ("一位老人在院子里读报", "2022年8月3日，社区里"),
        ("", "文件名不是替代文字"),
        ("", "与说明相同的文字"),
        ("只有替代文字的照片", None),  # an alt alone makes no caption
    ]
    last = section.findall(f".//{XHTML}figure")[-1]
    assert last.find(f"{XHTML}figcaption") is None
    assert "IMG_1234" not in etree.tostring(section, encoding="unicode")


def test_alternative_text_is_claimed_only_when_every_image_has_one(books):
    anthology = books["anthology"]
    assert "alternativeText" not in features(anthology)
    assert "alternativeText" not in features(books["single"])
    every = books["all-alt"]
    assert "alternativeText" in features(every)
    (section,) = every.chapters().values()
    assert [(alt, cap) for _, alt, cap in figures(section)] == [
        ("河边的柳树", "春天的河边"), ("孩子们在操场上踢球", None)]
    summary = [m.text for m in every.opf().iter(f"{OPF}meta")
               if m.get("property") == "schema:accessibilitySummary"]
    assert summary and "Each of its 2 photos has a text alternative." in summary[0]
    other = [m.text for m in anthology.opf().iter(f"{OPF}meta")
             if m.get("property") == "schema:accessibilitySummary"][0]
    assert "Every photo has a text alternative" not in other
    assert re.search(r"Of its \d+ photos, 2 have a text alternative from the source", other)


# --- srcset and proxies --------------------------------------------------------------------------

@pytest.mark.parametrize("srcset, expected", [
    ("a.jpg 100w,b.jpg 200w", "b.jpg"),
    ("b.jpg 200w,a.jpg 100w", "b.jpg"),
    ("b.jpg 200w, a.jpg 100w", "b.jpg"),
    ("a.jpg 1x,b.jpg 2x", "b.jpg"),
    ("b.jpg 2x,a.jpg", "b.jpg"),
    ("a.jpg, b.jpg 1.5x", "b.jpg"),
    ("http://a.example/x.jpg?a=1,2 100w,http://a.example/y.jpg 50w", "http://a.example/x.jpg?a=1,2"),
])
def test_largest_srcset_candidate_whatever_the_order(srcset, expected):
    assert largest_candidate(srcset) == expected


def test_srcset_is_read_as_the_standard_reads_it():
    # A descriptor ends at a comma; a URL runs to white space, commas inside it stay and
    # trailing ones end it.
    assert srcset_candidates("a.jpg 100w,b.jpg 200w") == [("a.jpg", "100w"), ("b.jpg", "200w")]
    assert srcset_candidates("a.jpg, b.jpg 2x") == [("a.jpg", None), ("b.jpg", "2x")]
    assert srcset_candidates("a.jpg,b.jpg 2x") == [("a.jpg,b.jpg", "2x")]
    assert srcset_candidates("x.jpg?a=1,2 100w") == [("x.jpg?a=1,2", "100w")]


def test_srcset_fetches_only_the_largest_candidate(books, server):
    book = books["anthology"]
    for fetched, never in (("s8-w200.jpg", "s8-w100.jpg"), ("s8-v200.jpg", "s8-v100.jpg"),
                           ("s8-x2.jpg", "s8-x1.jpg")):
        assert len(requests_for(server, f"/p/{fetched}")) == 1
        assert requests_for(server, f"/p/{never}") == []
    section = book.chapters()["响应式图片"]
    srcs = [src for src, _, _ in figures(section)]
    for name in ("s8-w200.jpg", "s8-v200.jpg", "s8-x2.jpg"):
        assert src_of(book, photo(name)) in srcs


@pytest.mark.parametrize("url", [
    "https://news.example/photo.jpg?ref=https://news.example/a.html",
    "https://news.example/pic?ref=https%3A%2F%2Fnews.example%2Fa.html",
    "https://news.example/pic?id=7&url=https%3A%2F%2Fother.example%2Fa.jpg",
    "https://cdn.example/img.php?src=https://other.example/a.jpg&w=640",
])
def test_a_url_merely_containing_a_url_is_no_proxy(url):
    assert unwrap_proxy(url) == url


@pytest.mark.parametrize("url, expected", [
    ("https://proxy.example/fetch?url=https%3A%2F%2Freal.example%2Fa.jpg",
     "https://real.example/a.jpg"),
    ("https://proxy.example/?http://real.example/a.jpg", "http://real.example/a.jpg"),
    ("https://proxy.example/fetch/https://real.example/a.jpg", "https://real.example/a.jpg"),
])
def test_a_url_in_a_proxys_shape_is_unwrapped(url, expected):
    assert unwrap_proxy(url) == expected


def test_tracking_parameter_kept_and_proxy_unwrapped_when_fetching(books, server):
    book = books["anthology"]
    (tracked,) = requests_for(server, "/p/s8-tracked.jpg")
    assert tracked.args.get("ref") == "https://news.example/a.html"
    assert len(requests_for(server, "/p/s8-proxied.jpg")) == 1
    assert requests_for(server, "/proxy") == []
    urls = {i["url"]: i["status"] for i in book.report["images"]}
    base = f"http://127.0.0.1:{server.port}/p/"
    assert urls[f"{base}s8-tracked.jpg?ref=https://news.example/a.html"] == "ok"
    assert urls[f"{base}s8-proxied.jpg"] == "ok"
    assert all(status == "ok" for status in urls.values())


def test_tracking_pixel_and_lazy_stand_in_are_the_only_drops(books, server):
    book = books["anthology"]
    assert requests_for(server, "/p/s8-pixel.gif") == []
    entry = next(a for a in book.report["articles"] if a["title"] == "响应式图片")
    assert entry["audit"]["images"]["dropped"] == {
        "tracking pixel": 1, "lazy-load placeholder (its <noscript> image stands in)": 1}
    section = book.chapters()["响应式图片"]
    assert (src_of(book, photo("s8-noscript.jpg")), "", "懒加载的照片") in figures(section)
    assert "2 left out: 1 lazy-load placeholder (its <noscript> image stands in), 1 tracking " \
        "pixel" in book.summary


PREFIX_PROXY = "https://img.example/resize?w=800&src="


def test_site_rule_proxy_prefix_unwraps_what_the_generic_rule_leaves():
    rule = SiteRule(name="imgproxy", hosts=("img.example",), hints=(), proxies=(PREFIX_PROXY,))
    url = PREFIX_PROXY + quote("https://real.example/a.jpg", safe="")
    assert unwrap_proxy(url) == url  # two parameters: not a proxy's shape
    assert unwrap_proxy(url, rule.proxies) == "https://real.example/a.jpg"
    assert unwrap_proxy(PREFIX_PROXY + "https://real.example/b.jpg", rule.proxies) == \
        "https://real.example/b.jpg"
    assert unwrap_proxy("https://img.example/resize?w=800&src=a.jpg", rule.proxies) == \
        "https://img.example/resize?w=800&src=a.jpg"


@pytest.fixture(scope="module")
def rule_book(tmp_path_factory, server):
    """A book built in-process with a site rule whose proxy only its prefix describes."""
    tmp = tmp_path_factory.mktemp("rule")
    prefix = f"http://127.0.0.1:{server.port}/resize?w=800&src="
    real = f"http://127.0.0.1:{server.port}/p/rule-real.jpg"
    rule = SiteRule(name="local-proxy", hosts=("127.0.0.1",), hints=(), proxies=(prefix,))
    (tmp / "src").mkdir()
    (tmp / "src" / "rule.txt").write_text(article("代理前缀", f"""
<p>站点规则。</p><img src="{prefix}{quote(real, safe='')}"><p>↑ 经站点代理</p>
""", date="2022-08-11"), "utf-8")
    settings = builder.load_settings(None, {
        "paths": [tmp / "src"], "out_dir": tmp / "out", "cache_dir": tmp / "cache",
        "book.formats": ["epub"], "fetch.allow_hosts": [f"127.0.0.1:{server.port}"]})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sites, "RULES", (*sites.RULES, rule))
        report = builder.build(settings)
    return tmp, report, real


def test_site_rule_proxy_prefix_in_a_build(rule_book, server):
    tmp, report, real = rule_book
    assert [i["url"] for i in report.images] == [real]
    assert report.images[0]["status"] == "ok"
    assert requests_for(server, "/resize") == []
    assert len(requests_for(server, "/p/rule-real.jpg")) == 1
    (entry,) = report.articles
    assert entry["cleaning"]["site rule local-proxy"] == 1
    assert entry["cleaning"]["proxy URLs unwrapped"] == 1
    assert entry["images"] == [real]
    assert_accounted(entry["audit"])
    with zipfile.ZipFile(report.outputs["epub"]) as z:
        assert photo("rule-real.jpg") in [z.read(n) for n in z.namelist()]
        chapter = z.read("EPUB/chapter-001.xhtml").decode("utf-8")
    assert "经站点代理" in chapter and not any(mark in chapter for mark in MARKERS)
    assert report.summary()[-1] == "1 photo(s) and 1 caption(s), all accounted for"
    ok, lines = run_epubcheck(Path(report.outputs["epub"]))
    assert ok, lines


def test_site_rule_proxy_prefix_only_for_its_site(monkeypatch):
    prefix = "https://img.example/resize?w=800&src="
    monkeypatch.setattr(sites, "RULES", (*sites.RULES, SiteRule(
        name="imgproxy", hosts=("img.example",), hints=(), proxies=(prefix,))))
    body = f'<img src="{prefix}{quote("https://real.example/a.jpg", safe="")}"><p>↑ 说明</p>'
    a = clean_article(Article(source=Path("x.html"), slug="x", title="T", date=None,
                              author=None, categories=(), lang="zh", cover=None, body=body))
    assert [r.url for r in a.images] == ["https://real.example/a.jpg"]
    # The same proxy URL on a page of another site, with no rule: left as it is.
    monkeypatch.setattr(sites, "RULES", tuple(r for r in sites.RULES if r.name != "imgproxy"))
    b = clean_article(Article(source=Path("x.html"), slug="x", title="T", date=None,
                              author=None, categories=(), lang="zh", cover=None, body=body))
    assert [r.url for r in b.images] == [prefix + quote("https://real.example/a.jpg", safe="")]


# --- long unbreakable strings ------------------------------------------------------------------

def word_boxes(pdf: Path) -> list[tuple[int, float, float, float, str]]:
    """(page, page width, xMin, xMax, text) of every word pdftotext finds in ``pdf``."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True,
                         check=True).stdout
    root = etree.fromstring(xml, etree.XMLParser(recover=True, no_network=True))
    boxes = []
    for n, page in enumerate(root.iter(f"{XHTML}page"), 1):
        width = float(page.get("width"))
        for word in page.iter(f"{XHTML}word"):
            boxes.append((n, width, float(word.get("xMin")), float(word.get("xMax")),
                          word.text or ""))
    return boxes


def test_long_words_and_urls_wrap_inside_the_page(books):
    boxes = word_boxes(books["long"].path("pdf"))
    text = "".join(t for *_, t in boxes)
    assert LONG_WORD[:40] in text and "x7Kq9ZpWm3x7Kq9ZpWm3" in text
    outside = [(n, round(x1), round(w), t[:30]) for n, w, x0, x1, t in boxes
               if x1 > w + 0.5 or x0 < -0.5]
    assert outside == []


def test_wrapping_check_sees_an_overflow(books):
    """The control: without the overflow-wrap rule, the same words run off the page."""
    boxes = word_boxes(books["long-unwrapped"].path("pdf"))
    assert any(x1 > w + 0.5 for _, w, _, x1, _ in boxes)


def test_epub_stylesheet_wraps_long_words(books):
    css = books["long"].files()["EPUB/styles/epub.css"].decode("utf-8")
    wrapping = set()
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "qualified-rule":
            continue
        declarations = tinycss2.parse_declaration_list(rule.content, skip_comments=True,
                                                       skip_whitespace=True)
        if any(d.type == "declaration" and d.lower_name == "overflow-wrap"
               and tinycss2.serialize(d.value).strip() in ("break-word", "anywhere")
               for d in declarations):
            wrapping |= {s.strip() for s in tinycss2.serialize(rule.prelude).split(",")}
    # overflow-wrap is inherited: on body it reaches every paragraph, caption and heading.
    assert "body" in wrapping or {"p", "figcaption", "h2"} <= wrapping


def test_long_words_are_kept_whole_in_the_epub(books):
    (section,) = books["long"].chapters().values()
    text = "".join(section.itertext())
    assert text.count(LONG_WORD) == 3 and text.count(LONG_URL) == 4


# --- articles that cannot be read --------------------------------------------------------------

def test_keep_going_leaves_out_the_unreadable_article(books):
    book = books["keep-going"]
    assert book.result.returncode == 0, book.result.stderr
    assert list(book.chapters()) == ["第一篇", "第三篇"]
    bad = book.src / "b.txt"
    assert f"warning: left out {bad}:4: invalid front matter" in book.result.stderr
    (skipped,) = book.report["skipped"]
    assert skipped["source"] == str(bad) and skipped["where"] == f"{bad}:4"
    assert skipped["error"].startswith("invalid front matter")
    assert f"left out {bad}" in book.result.stdout
    assert [a["title"] for a in book.report["articles"]] == ["第一篇", "第三篇"]


def test_keep_going_from_book_toml(books):
    book = books["keep-going-config"]
    assert book.result.returncode == 0, book.result.stderr
    assert list(book.chapters()) == ["第一篇", "第三篇"]
    assert f"warning: left out {book.src / 'b.txt'}:4:" in book.result.stderr
    assert len(book.report["skipped"]) == 1


def test_keep_going_with_strict_fails(books):
    result = books["keep-going-strict"].result
    assert result.returncode == 1
    assert "1 article(s) could not be read (--strict)" in result.stderr
    assert not books["keep-going-strict"].out.exists() or \
        not any(books["keep-going-strict"].out.iterdir())


def test_without_keep_going_the_unreadable_article_fails_the_build(books):
    book = books["no-keep-going"]
    assert book.result.returncode == 1
    assert f"{book.src / 'b.txt'}:4: invalid front matter" in book.result.stderr
    assert not book.out.exists() or not any(book.out.iterdir())


def test_a_book_left_with_no_article_is_an_error(books):
    result = books["none-readable"].result
    assert result.returncode == 1
    assert "no article could be read" in result.stderr


def test_a_book_left_with_no_article_names_each_unreadable_file(books):
    book = books["none-readable"]
    for name in ("x.txt", "y.txt", "z.txt"):
        assert str(book.src / name) in book.result.stderr


# --- the audit -------------------------------------------------------------------------------

def assert_accounted(audit: dict) -> None:
    images, captions = audit["images"], audit["captions"]
    assert images["in_source"] == images["embedded"] + len(images["placeholders"]) + \
        sum(images["dropped"].values())
    assert images["unexplained"] == 0
    assert captions["in_source"] == captions["attached"] + captions["stranded"]
    assert set(images["dropped"]) <= {"tracking pixel", "lazy-load placeholder without a real "
                                      "URL", "lazy-load placeholder (its <noscript> image "
                                      "stands in)", "<noscript> copy of an image shown"}


@pytest.mark.parametrize("name", built())
def test_every_image_and_caption_is_accounted_for(books, name):
    book = books[name]
    assert book.result.returncode == 0, book.result.stderr
    report = book.report
    assert report["articles"]
    photos = captions = 0
    for entry in report["articles"]:
        audit = entry["audit"]
        assert_accounted(audit)
        head = audit["head_image"]
        photos += audit["images"]["in_source"] + (1 if head and not head["in_body"] else 0)
        captions += audit["captions"]["in_source"]
    assert book.summary.startswith(f"{photos} photo(s) and {captions} caption(s), ")
    if name.startswith("stranded"):
        assert ", not all accounted for: 1 caption(s) without their photo, kept as text in " \
            f"{book.src / 'stranded.txt'}" in book.summary
    else:
        assert ", all accounted for" in book.summary and "not all" not in book.summary


def test_seed_audit(books):
    book = books["seed"]
    (entry,) = book.report["articles"]
    audit = entry["audit"]
    assert audit["images"] == {"in_source": 19, "embedded": 19, "placeholders": [],
                               "dropped": {}, "repeated": 0, "unexplained": 0}
    assert audit["captions"] == {"in_source": 13, "attached": 13, "stranded": 0}
    assert audit["head_image"]["in_body"] and audit["head_image"]["opens_body"]
    assert book.summary == "19 photo(s) and 13 caption(s), all accounted for"


def test_stranded_caption_is_kept_as_text_without_its_mark(books):
    book = books["stranded"]
    (section,) = book.chapters().values()
    paragraphs = ["".join(p.itertext()) for p in section.iter(f"{XHTML}p")]
    assert STRANDED in paragraphs
    assert [cap for _, _, cap in figures(section)] == ["有照片的说明"]
    (entry,) = book.report["articles"]
    assert entry["audit"]["captions"] == {"in_source": 2, "attached": 1, "stranded": 1}


def test_strict_fails_on_a_stranded_caption(books):
    book = books["stranded-strict"]
    assert book.result.returncode == 1
    assert "1 caption(s) without their photo (--strict)" in book.result.stderr
    assert not book.out.exists() or not any(book.out.iterdir())


@pytest.mark.parametrize("name", built("epub"))
def test_no_caption_marker_in_the_epub(books, name):
    for doc, text in xhtml_docs(books[name]).items():
        for mark in MARKERS:
            assert mark not in text, (doc, mark)


@pytest.mark.parametrize("name", built("pdf"))
def test_no_caption_marker_in_the_pdf(books, name):
    text = "".join(books[name].pdf_pages())
    assert text.strip()
    for mark in MARKERS:
        assert mark not in text


@pytest.mark.parametrize("name", [n for n in built("epub") if BOOKS[n].epubcheck])
def test_epubcheck_passes(books, name):
    ok, lines = books[name].epubcheck
    assert ok, "\n".join(lines)
    assert lines[-1].startswith("Messages: 0 fatals / 0 errors / 0 warnings")


# --- the in-process pipeline, with the images in the article's folder -------------------------

def test_in_process_build_keeps_the_head_image_and_its_caption(tmp_path):
    src = tmp_path / "src"
    (src / "img").mkdir(parents=True)
    (src / "img" / "h.jpg").write_bytes(jpeg(640, 480, color=(90, 10, 10)))
    (src / "img" / "o.jpg").write_bytes(jpeg(640, 480, color=(10, 90, 10)))
    (src / "a.txt").write_text(article("进程内", """
<p>导语。</p><img src="img/o.jpg"><p>↑ 另一张</p><img src="img/h.jpg"><p>↑ 头图的说明</p>
""", headimg="img/h.jpg", date="2022-08-12"), "utf-8")
    settings = builder.load_settings(None, {"paths": [src], "out_dir": tmp_path / "out",
                                            "cache_dir": tmp_path / "cache",
                                            "book.formats": ["epub"]})
    report = builder.build(settings)
    (entry,) = report.articles
    assert_accounted(entry["audit"])
    assert entry["audit"]["head_image"]["caption"] and not entry["audit"]["head_image"][
        "opens_body"]
    with zipfile.ZipFile(report.outputs["epub"]) as z:
        section = etree.fromstring(z.read("EPUB/chapter-001.xhtml")).find(f".//{XHTML}section")
    lead = body_start(section)
    assert lead.get("class") == "lead" and lead.findtext(f"{XHTML}figcaption") == "头图的说明"
    assert [cap for _, _, cap in figures(section)] == ["头图的说明", "另一张", "头图的说明"]
    assert report.summary()[-1] == "2 photo(s) and 2 caption(s), all accounted for"

