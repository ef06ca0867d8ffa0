"""The stages in-process, with real parts: settings, loading, cleaning, fetching (from the
article's folder or a server on 127.0.0.1), rendering, the writers and the atomic output."""

from __future__ import annotations

import datetime as dt
import importlib.util
import inspect as pyinspect
import os
import re
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import run_cli
from helpers_corpus import photo_jpeg
from helpers_images import jpeg, png
from lxml import etree
from lxml import html as lxml_html
from pytest_httpserver import HTTPServer

import builder
import builder.pdf
from builder.clean import clean_article
from builder.clean.sites import rules_for
from builder.errors import ConfigError, OutputError
from builder.model import EPUB_IMAGES, PRINT_BASE, Article, ImageRef
from builder.output import STAGING_PREFIX
from builder.pdf import StoreFetcher
from builder.pipeline import assemble, fetch_images, prepare_articles, unique_slugs
from builder.render import render
from builder.report import BuildReport
from builder.settings import Settings, default_cache_dir, load_settings
from builder.theme import Theme

XHTML = "{http://www.w3.org/1999/xhtml}"
EPOCH = "1661924079"
MODIFIED = dt.datetime.fromtimestamp(int(EPOCH), dt.UTC)
ZAKER_IMG = "http://zkres1.myzaker.com/202208/a_1024.jpg"


# --- helpers -----------------------------------------------------------------------------------

def write_article(folder: Path, name: str, body: str, title: str = "一篇文章", **meta) -> Path:
    """An article file: YAML front matter and an HTML body."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"title: {title}"] + [f"{k}: {v}" for k, v in meta.items()]
    path = folder / name
    path.write_text("---\n" + "\n".join(lines) + "\n---\n" + body, encoding="utf-8")
    return path


#: Two photos under one ↑ caption, a third alone, two sections. The images are files beside
#: the article (relative paths are read from the article's folder; no front-matter URL, so
#: they are not made absolute against a web page).
BODY = """
<p>第一段文字。</p>
<h2>第一节</h2>
<p><img src="img/a.jpg"><img src="img/b.png"></p>
<p>↑ 图为两张照片</p>
<h2>第二节</h2>
<p>第二段。</p>
<p><img src="img/c.jpg"></p>
<p>结尾。</p>
"""


def photo_folder(folder: Path, name: str = "one.txt", body: str = BODY, **meta) -> Path:
    """A folder with one article and the three images it shows."""
    (folder / "img").mkdir(parents=True, exist_ok=True)
    (folder / "img" / "a.jpg").write_bytes(jpeg(800, 600, color=(200, 30, 30)))
    (folder / "img" / "b.png").write_bytes(png(600, 400, color=(0, 90, 0)))
    (folder / "img" / "c.jpg").write_bytes(jpeg(640, 480, color=(20, 30, 200)))
    meta.setdefault("date", "2022-08-31")
    meta.setdefault("author", "记者")
    return write_article(folder, name, body, **meta)


def settings_for(tmp_path: Path, *paths: Path, **overrides) -> Settings:
    """Settings for ``paths`` whose cache and output are in ``tmp_path``; ``overrides`` uses
    ``__`` for the dot (``book__formats``)."""
    base = {"paths": paths, "cache_dir": tmp_path / "cache", "out_dir": tmp_path / "out"}
    base.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_settings(None, base)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) and its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def epub_docs(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.fixture(scope="module")
def _server():
    s = HTTPServer(host="127.0.0.1", port=0)
    s.start()
    yield s
    if s.is_running():
        s.stop()


@pytest.fixture()
def server(_server):
    """A real HTTP server on 127.0.0.1, with no handlers and an empty log for each test."""
    _server.clear()
    yield _server
    _server.clear()


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    """A book of one real article, through the real stages up to its rendition."""
    tmp = tmp_path_factory.mktemp("small-book")
    source = photo_folder(tmp / "articles")
    settings = settings_for(tmp, source.parent)
    report = BuildReport()
    articles = prepare_articles(settings, report)
    assets = fetch_images(settings, articles, report)
    book = assemble(settings, articles[0].title, articles, assets)
    rendition = render(book, Theme(settings.theme_dir), MODIFIED)
    return settings, report, book, rendition


# --- 1. render in-process ----------------------------------------------------------------------

def test_stages_fetch_every_image_from_the_articles_folder(small_book):
    _, report, book, _ = small_book
    assert report.warnings == []
    assert report.counts() == {"ok": 3, "cached": 0, "placeholder": 0}
    (article,) = book.articles
    assert [len(f.images) for f in article.figures] == [2, 1]
    assert article.figures[0].caption == "图为两张照片"
    for ref in article.images:
        asset = book.asset(ref.url, article.source.parent)
        assert asset.status == "ok" and asset.path.is_file()


def test_epub_rendition_documents_and_images(small_book):
    _, _, book, rendition = small_book
    epub = rendition.epub
    assert [(d.file_name, d.kind) for d in epub.docs] == [
        ("cover.xhtml", "cover"), ("title.xhtml", "title"),
        ("chapter-001.xhtml", "chapter"), ("colophon.xhtml", "colophon")]
    # No photo opens the book: a typographic cover is drawn, and it is the EPUB's cover image.
    (cover,) = [i for i in epub.images if i.cover]
    assert cover.path.is_file() and cover.media_type == "image/png"
    (chapter,) = [d for d in epub.docs if d.kind == "chapter"]
    assert chapter.sections == (("a001-s1", "第一节"), ("a001-s2", "第二节"))
    root = lxml_html.fragment_fromstring(chapter.body, create_parent="div")
    srcs = [img.get("src") for img in root.iter("img")]
    article = book.articles[0]
    expected = [EPUB_IMAGES + book.asset(ref.url, article.source.parent).name
                for ref in article.images]
    assert srcs == expected and len(srcs) == 3
    names = {i.file_name for i in epub.images}
    assert set(srcs) <= names
    assert names == set(srcs) | {cover.file_name}  # nothing unused is packed
    for image in epub.images:
        assert image.file_name == EPUB_IMAGES + image.path.name[:16] + \
            {"image/jpeg": ".jpg", "image/png": ".png"}[image.media_type]
    assert [h.get("id") for h in root.iter("h2")] == ["a001-s1", "a001-s2"]


def test_print_rendition_loads_only_its_own_assets(small_book):
    _, _, book, rendition = small_book
    printed = rendition.print
    for name, asset in printed.assets.items():
        assert asset.name == name and asset.path.is_file()
    doc = lxml_html.document_fromstring(printed.html)
    urls = [el.get(attr) for el in doc.iter() if isinstance(el.tag, str)
            for attr in ("src", "href") if el.get(attr)]
    assert urls, printed.html
    article = book.articles[0]
    images = [f"{PRINT_BASE}assets/" + book.asset(ref.url, article.source.parent).name
              for ref in article.images]
    assert [u for u in urls if u.startswith(f"{PRINT_BASE}assets/")] == images
    for url in urls:
        assert url.startswith(PRINT_BASE), url
        kind, _, name = url[len(PRINT_BASE):].partition("/")
        assert (kind == "assets" and name in printed.assets) or \
            (kind == "theme" and name in printed.stylesheets), url
    # Every URL the document names anywhere (a style attribute or block too) is one of those.
    for url in re.findall(r"https?://[^\s\"'<>)]+|file:[^\s\"'<>)]+", printed.html):
        assert url in urls, url
    assert [f.get("class") for f in doc.iter("figure")] == ["figure-2", "figure-1"]
    assert [h.get("id") for h in doc.iter("h2")] == ["a001-s1", "a001-s2"]
    assert set(printed.stylesheets) >= {"print.css", "epub.css"}


# --- 2. a theme override -----------------------------------------------------------------------

def test_theme_overrides_one_template_and_one_stylesheet(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    source = photo_folder(tmp_path / "articles")
    theme = tmp_path / "theme"
    (theme / "templates" / "epub").mkdir(parents=True)
    (theme / "templates" / "epub" / "chapter.xhtml.j2").write_text(
        '<p class="theme-marker">THEMED {{ article.id }}</p>\n'
        '{% include "default/epub/chapter.xhtml.j2" %}', encoding="utf-8")
    (theme / "styles").mkdir()
    css = "/* the override */\n.theme-marker { color: #c00; }\n"
    (theme / "styles" / "epub.css").write_text(css, encoding="utf-8")

    themed = builder.build(settings_for(tmp_path / "a", source.parent, theme_dir=theme,
                                        book__formats=["epub"]))
    plain = builder.build(settings_for(tmp_path / "b", source.parent, book__formats=["epub"]))
    new, old = epub_docs(Path(themed.outputs["epub"])), epub_docs(Path(plain.outputs["epub"]))
    chapter = new["EPUB/chapter-001.xhtml"].decode()
    assert '<p class="theme-marker">THEMED a001</p>' in chapter
    assert "theme-marker" not in old["EPUB/chapter-001.xhtml"].decode()
    # The included default is all there: the heading, the body and its photos.
    assert 'id="a001-title"' in chapter and chapter.count("<img") == 3
    assert new["EPUB/styles/epub.css"].decode() == css
    assert old["EPUB/styles/epub.css"].decode() == Theme().stylesheet("epub.css")
    # What the theme does not override is the default's, to the byte.
    for name in ("EPUB/title.xhtml", "EPUB/cover.xhtml", "EPUB/colophon.xhtml"):
        assert new[name] == old[name], name


# --- 3. the PDF's URL fetcher ------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://127.0.0.1/x.png",
    "http://127.0.0.1:8000/assets/x.png",
    "https://example.com/font.woff",
    "data:image/png;base64,iVBORw0KGgo=",
    "data:text/css,body{color:red}",
    f"{PRINT_BASE}assets/0123456789abcdef.jpg",
    f"{PRINT_BASE}assets/",
    f"{PRINT_BASE}theme/../x",
    f"{PRINT_BASE}theme/../../etc/passwd",
    f"{PRINT_BASE}theme/nope.css",
    f"{PRINT_BASE}x",
    "https://builder.invalid.example.com/assets/x.jpg",
])
def test_store_fetcher_refuses_and_remembers(small_book, url):
    fetcher = StoreFetcher(small_book[3].print)
    with pytest.raises(ValueError):
        fetcher.fetch(url)
    with pytest.raises(ValueError):
        fetcher(url)  # how WeasyPrint calls it
    assert fetcher.refused == [url[:200], url[:200]]


def test_store_fetcher_serves_its_assets_and_the_themes_stylesheets(small_book):
    printed = small_book[3].print
    fetcher = StoreFetcher(printed)
    for name, asset in printed.assets.items():
        response = fetcher.fetch(f"{PRINT_BASE}assets/{name}")
        assert response.read() == asset.path.read_bytes()
        assert response.content_type == asset.media_type
    response = fetcher.fetch(f"{PRINT_BASE}theme/print.css")
    assert response.read().decode("utf-8") == printed.stylesheets["print.css"]
    assert response.content_type == "text/css"
    assert fetcher.refused == []


def test_a_hostile_print_stylesheet_loads_nothing_and_is_reported(tmp_path):
    source = photo_folder(tmp_path / "articles")
    # A JPEG would be embedded in the PDF as it is: its scan data (the tail) would show.
    secret = photo_jpeg(64, 48, seed=4242)
    secret_file = tmp_path / "secret.jpg"
    secret_file.write_bytes(secret)
    theme = tmp_path / "theme"
    (theme / "styles").mkdir(parents=True)
    hostile = ('@import url("https://example.com/evil.css");\n'
               + Theme().stylesheet("print.css")
               + "\nbody { background: url(file:///etc/passwd); }\n"
               + f".article {{ background-image: url({secret_file.as_uri()}); }}\n")
    (theme / "styles" / "print.css").write_text(hostile, encoding="utf-8")

    report = builder.build(settings_for(tmp_path, source.parent, theme_dir=theme,
                                        book__formats=["pdf"]))
    refused = [w for w in report.warnings if w.startswith("PDF: refused to load ")]
    assert "PDF: refused to load file:///etc/passwd" in refused
    assert "PDF: refused to load https://example.com/evil.css" in refused
    assert f"PDF: refused to load {secret_file.as_uri()}" in refused
    pdf = Path(report.outputs["pdf"]).read_bytes()
    assert pdf.startswith(b"%PDF")
    passwd = Path("/etc/passwd").read_bytes()
    for line in passwd.splitlines()[:3]:
        assert line not in pdf
    assert secret[-200:-2] not in pdf
    # The method can see an embedded photo: the article's own JPEG is there.
    own = (source.parent / "img" / "c.jpg").read_bytes()
    assert own[-200:-2] in pdf


# --- 4. rollback -------------------------------------------------------------------------------

def test_a_writer_failing_half_way_leaves_the_out_dir_as_it_was(tmp_path, monkeypatch):
    source = photo_folder(tmp_path / "articles")
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.epub").write_bytes(b"the old book")
    (out / "x.report.json").write_text('{"old": true}\n')
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)

    written: list[Path] = []

    def failing_write_pdf(rendition, path, *args):
        written.append(path)
        path.write_bytes(b"%PDF-1.7\n% half a PDF")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(builder.pdf, "write_pdf", failing_write_pdf)
    # in this process (the parts laid out in workers would write where this list is not)
    settings = settings_for(tmp_path, source.parent, book__name="x",
                            book__formats=["epub", "pdf"], jobs=1)
    with pytest.raises(OutputError, match="no space left on device") as failed:
        builder.build(settings)
    assert str(failed.value).startswith(f"cannot write {out / 'x.pdf'}: no space left on device")
    (path,) = written
    # written inside the staging folder of the output folder (a part, in a folder of its own)
    assert any(p.parent == out and p.name.startswith(STAGING_PREFIX) for p in path.parents)
    assert snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "x.epub", "x.report.json"]
    assert not list(out.glob(f"{STAGING_PREFIX}*"))


def test_the_same_build_without_the_failure_replaces_the_old_outputs(tmp_path):
    source = photo_folder(tmp_path / "articles")
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.epub").write_bytes(b"the old book")
    report = builder.build(settings_for(tmp_path, source.parent, book__name="x",
                                        book__formats=["epub"]))
    assert Path(report.outputs["epub"]) == out / "x.epub"
    assert (out / "x.epub").read_bytes().startswith(b"PK")
    assert not list(out.glob(f"{STAGING_PREFIX}*"))


# --- 5. colliding slugs ------------------------------------------------------------------------

def test_unique_slugs_in_book_order():
    def art(slug):
        return Article(source=Path(f"{slug}.txt"), slug=slug, title=slug, date=None,
                       author=None, categories=(), lang="en", cover=None, body="")

    got = [a.slug for a in unique_slugs([art("a"), art("a"), art("a-2"), art("a"), art("b")])]
    assert got == ["a", "a-3", "a-2", "a-4", "b"]
    assert [a.slug for a in unique_slugs([art("a")] * 3)] == ["a", "a-2", "a-3"]


def test_articles_with_colliding_slugs_make_one_book_with_unique_ids(tmp_path):
    body = ('<h2 id="intro">开头</h2><p id="note">注释<a href="#intro">回到开头</a></p>'
            '<h2>其次</h2><p>正文{n}。</p>')
    first, second = tmp_path / "one", tmp_path / "two"
    write_article(first, "a.txt", body.format(n=1), title="第一篇", date="2022-08-01")
    write_article(second, "a.txt", body.format(n=2), title="第二篇", date="2022-08-02")
    write_article(second, "a-2.txt", body.format(n=3), title="第三篇", date="2022-08-03")
    settings = settings_for(tmp_path, first, second, book__title="合集",
                            book__formats=["epub"])

    articles = prepare_articles(settings, BuildReport())
    slugs = [a.slug for a in articles]
    assert len(slugs) == 3 and len(set(slugs)) == 3, slugs
    assert sorted(slugs) == ["a", "a-2", "a-3"]

    report = builder.build(settings)
    docs = epub_docs(Path(report.outputs["epub"]))
    chapters = sorted(n for n in docs if re.fullmatch(r"EPUB/chapter-\d{3}\.xhtml", n))
    assert chapters == ["EPUB/chapter-001.xhtml", "EPUB/chapter-002.xhtml",
                        "EPUB/chapter-003.xhtml"]
    titles = [etree.fromstring(docs[c]).findtext(f".//{XHTML}h1") for c in chapters]
    assert titles == ["第一篇", "第二篇", "第三篇"]  # in date order
    ids: list[str] = []
    for name, data in docs.items():
        if name.endswith(".xhtml"):
            root = etree.fromstring(data)
            here = [el.get("id") for el in root.iter() if el.get("id")]
            ids += here
            # Every in-document link still lands on an id of its own chapter.
            for a in root.iter(f"{XHTML}a"):
                href = a.get("href", "")
                if href.startswith("#"):
                    assert href[1:] in here, (name, href)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert sum(i.endswith("intro") for i in ids) == 3


# --- 6. site rules -----------------------------------------------------------------------------

def plain_article(body: str = "<p>x</p>", **kw) -> Article:
    fields = dict(source=Path("x.txt"), slug="x", title="T", date=None, author=None,
                  categories=(), lang="zh", cover=None, body=body)
    return Article(**{**fields, **kw})


def rule_names(article: Article) -> list[str]:
    return [r.name for r in rules_for(article, BeautifulSoup(article.body, "lxml"))]


@pytest.mark.parametrize("article", [
    plain_article(base_url="https://www.myzaker.com/article/630f4fce"),
    plain_article(base_url="http://myzaker.com/a"),
    plain_article(base_url="https://app.zaker.cn/x"),
    plain_article(body=f'<img src="{ZAKER_IMG}">'),
    plain_article(body=f'<img src="data:," data-original="{ZAKER_IMG}">'),
    plain_article(body=f'<img src="https://cors.zfour.workers.dev/?{ZAKER_IMG}">'),
    plain_article(cover=ImageRef(ZAKER_IMG)),
    plain_article(author="ZAKER"),
    plain_article(author="zaker"),
    plain_article(categories=("新媒体", "ZAKER")),
], ids=["article-host", "bare-host", "other-domain", "img-host", "img-data-original",
        "img-behind-proxy", "cover-host", "author-hint", "hint-any-case", "category-hint"])
def test_the_zaker_rule_is_chosen(article):
    assert rule_names(article) == ["zaker"]


@pytest.mark.parametrize("article", [
    plain_article(),
    plain_article(base_url="https://news.example/a", author="记者",
                  body='<img src="https://img.example/a.jpg">'),
    plain_article(base_url="https://notmyzaker.com/a"),
    plain_article(base_url="https://myzaker.com.evil.example/a"),
    plain_article(body='<img src="img/myzaker.com.jpg">'),
    plain_article(author="ZAKER fan"),
], ids=["nothing", "unrelated", "suffix-without-dot", "name-inside-host", "relative-path",
        "hint-in-a-longer-name"])
def test_no_rule_for_an_unrelated_article(article):
    assert rule_names(article) == []


def test_img_box_is_unwrapped_only_when_the_rule_applies():
    body = ('<div class="img_box"><div class="content_img_div"><img src="http://a.example/1.jpg">'
            '</div></div><div class="img_box"><div class="content_img_div">'
            '<img src="http://a.example/2.jpg"></div></div><p>↑ 两张照片</p>'
            '<div class="share_box">分享到微信</div><p>正文。</p>')
    ruled = clean_article(plain_article(body, author="ZAKER"))
    stats = dict(ruled.stats)
    assert stats["site rule zaker"] == 1
    assert stats["site zaker: unwrapped div.img_box"] == 2
    assert stats["site zaker: unwrapped div.content_img_div"] == 2
    assert stats["site zaker: removed div.share_box"] == 1
    assert "分享到微信" not in ruled.body
    # Unwrapped, the neighbouring photos are one group under the caption.
    assert [len(f.images) for f in ruled.figures] == [2]

    plain = clean_article(plain_article(body))
    assert not [k for k, _ in plain.stats if k.startswith("site")]


# --- 7. the public API -------------------------------------------------------------------------

def test_build_twice_in_one_process_writes_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    source = photo_folder(tmp_path / "articles")
    settings = settings_for(tmp_path, source.parent, book__formats=["epub", "pdf"])
    first = builder.build(settings)
    outputs = {k: Path(v).read_bytes() for k, v in first.outputs.items() if k != "report"}
    second = builder.build(replace(settings, force=True))  # not a no-op: built again
    assert isinstance(second, BuildReport)
    assert second.outputs == first.outputs
    assert {k: Path(v).read_bytes() for k, v in second.outputs.items() if k != "report"} == \
        outputs
    assert set(outputs) == {"epub", "pdf"}
    # The photos beside the article are read again, not taken from the cache.
    assert second.counts() == first.counts() == {"ok": 3, "cached": 0, "placeholder": 0}
    assert not list(settings.out_dir.glob(f"{STAGING_PREFIX}*"))


def test_the_public_api_is_three_functions():
    for name in ("build", "inspect", "load_settings"):
        assert pyinspect.isfunction(getattr(builder, name)), name
    assert builder.build is builder.pipeline.build
    assert builder.inspect is builder.pipeline.inspect
    assert builder.load_settings is builder.settings.load_settings
    # No module of that name shadows the function, now or after an import.
    assert importlib.util.find_spec("builder.build") is None
    assert importlib.util.find_spec("builder.config") is None
    assert "builder.build" not in sys.modules
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("builder.build")
    assert pyinspect.isfunction(builder.build)
    assert set(builder.__all__) >= {"build", "inspect", "load_settings", "Settings"}


# --- 8. bad settings stop everything before it starts ------------------------------------------

@pytest.fixture()
def served_article(tmp_path, server):
    """A folder whose one article shows an image of ``server``."""
    server.expect_request("/photo.jpg").respond_with_data(jpeg(), content_type="image/jpeg")
    folder = tmp_path / "articles"
    write_article(folder, "a.txt", f'<p>正文。</p><img src="{server.url_for("/photo.jpg")}">')
    return folder, f"127.0.0.1:{server.port}"


@pytest.mark.parametrize("bad", [
    {"theme_dir": "missing-theme"}, {"theme_dir": "a-file"}, {"theme_dir": "empty-theme"},
    {"pdf.page_size": "B9"}, {"pdf.bleed": "12mm"}])
def test_bad_settings_are_refused_before_anything_is_read_or_fetched(tmp_path, server,
                                                                     served_article, bad):
    folder, host = served_article
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "empty-theme").mkdir()
    if "theme_dir" in bad:
        bad = {"theme_dir": tmp_path / bad["theme_dir"]}
    overrides = {"paths": (folder,), "cache_dir": tmp_path / "cache",
                 "out_dir": tmp_path / "out", "fetch.allow_hosts": [host], **bad}
    with pytest.raises(ConfigError):
        load_settings(None, overrides)
    assert server.log == []
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()
    # The same settings without the bad value do fetch: the server would have seen a request.
    good = {k: v for k, v in overrides.items() if k not in bad}
    settings = load_settings(None, good)
    fetch_images(settings, prepare_articles(settings, BuildReport()), BuildReport())
    assert [entry[0].path for entry in server.log] == ["/photo.jpg"]


def test_a_bad_page_size_flag_is_a_usage_error_naming_the_flag(tmp_path, server,
                                                               served_article):
    folder, host = served_article
    result = run_cli("build", folder, "--page-size", "B9", "--allow-host", host,
                     "--out", tmp_path / "out", "--cache-dir", tmp_path / "cache")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("builder: config error: --page-size: ")
    assert "'B9'" in line
    assert server.log == []
    assert not (tmp_path / "out").exists()


def test_a_bad_page_size_in_book_toml_is_an_error_naming_the_file(tmp_path, server,
                                                                  served_article):
    folder, host = served_article
    toml = folder / "book.toml"
    toml.write_text(f'[pdf]\npage_size = "B9"\n[fetch]\nallow_hosts = ["{host}"]\n')
    result = run_cli("build", folder, "--out", tmp_path / "out",
                     "--cache-dir", tmp_path / "cache")
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"builder: config error: {toml}: 'pdf.page_size'")
    assert server.log == []


# --- 9. inspect agrees with the build ----------------------------------------------------------

CLEAN_TOML = '[book]\ntitle = "合集"\n[clean]\ncjk_quotes = false\ncjk_digit_spacing = "keep"\n'


def test_inspect_cleans_as_the_build_does(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    folder = tmp_path / "articles"
    write_article(folder, "a.txt", "<p>第一篇。</p>", title="第一篇", date="2022-08-01")
    path = write_article(folder, "b.txt",
                         '<h2 id="top">标题</h2><p>他说"中文"很好，2022 年 8 月。</p>'
                         '<p><a href="#top">回到顶部</a></p>', title="第二篇", date="2022-08-02")
    (folder / "book.toml").write_text(CLEAN_TOML, encoding="utf-8")

    found = builder.inspect(path)
    body = found.article.body
    assert '"中文"' in body and "2022 年 8 月" in body
    assert 'id="a002-top"' in body  # at its place in the book: the second article

    settings = load_settings(folder / "book.toml", {"paths": (folder,),
                                                    "cache_dir": tmp_path / "cache",
                                                    "out_dir": tmp_path / "out",
                                                    "book.formats": ["epub"]})
    built = {a.source: a for a in prepare_articles(settings, BuildReport())}
    assert built[path].body == body
    assert builder.inspect(path, settings).article.body == body

    defaults = builder.inspect(path, load_settings(None, {"paths": (folder,)}))
    assert defaults.article.body != body
    assert "“中文”" in defaults.article.body and "2022年8月" in defaults.article.body

    report = builder.build(settings)
    chapter = epub_docs(Path(report.outputs["epub"]))["EPUB/chapter-002.xhtml"].decode()
    assert '"中文"' in chapter or "&quot;中文&quot;" in chapter
    assert "2022 年 8 月" in chapter and 'id="a002-top"' in chapter

    result = run_cli("inspect", path)
    assert result.returncode == 0, result.stderr
    assert "2022 年 8 月" in result.stdout and '"中文"' in result.stdout
    assert f"# settings: {folder / 'book.toml'}" in result.stdout
    assert body in result.stdout.replace("\n", "")


# --- 10. -v shows each warning once ------------------------------------------------------------

def test_verbose_shows_a_failed_image_once(tmp_path, server):
    server.expect_request("/ok.jpg").respond_with_data(jpeg(), content_type="image/jpeg")
    server.expect_request("/gone.jpg").respond_with_data("not here", status=404)
    gone = server.url_for("/gone.jpg")
    folder = tmp_path / "articles"
    write_article(folder, "a.txt", f'<p>正文。</p><img src="{server.url_for("/ok.jpg")}">'
                                   f'<p>中间。</p><img src="{gone}">')
    result = run_cli("build", folder, "--format", "epub", "--allow-host",
                     f"127.0.0.1:{server.port}", "--out", tmp_path / "out",
                     "--cache-dir", tmp_path / "cache", "-v")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines()
                if line.startswith(f"warning: image {gone}")]
    assert len(warnings) == 1, result.stderr
    assert "404" in warnings[0] and "placeholder" in warnings[0]
    assert sum(line.startswith("warning:") for line in result.stderr.splitlines()) == 1
    assert "1 warning(s); above and in the report" in result.stdout


# --- 11. the cache stays in the sandbox --------------------------------------------------------

def test_the_default_cache_is_inside_the_sandbox():
    sandbox = Path(os.environ["XDG_CACHE_HOME"])
    real = Path.home() / ".cache"
    assert sandbox.resolve() != real.resolve()
    cache = default_cache_dir()
    assert cache.is_relative_to(sandbox)
    assert not cache.resolve().is_relative_to(real.resolve())
    assert load_settings().cache_dir == cache
    assert load_settings(None, {"paths": (Path("x"),)}).cache_dir == cache


# --- 12. the fonts the settings name reach the PDF ---------------------------------------------

def _pdf_fonts(path: Path) -> set[str]:
    from pypdf import PdfReader

    found = set()
    for page in PdfReader(path).pages:
        for font in (page.get("/Resources", {}).get("/Font") or {}).values():
            found.add(str(font.get_object().get("/BaseFont")))
    return found


def test_a_serif_font_from_the_settings_is_the_one_embedded(tmp_path):
    from builder import fonts

    if not fonts.installed("DejaVu Serif"):
        pytest.skip("DejaVu Serif is not installed")
    folder = tmp_path / "articles"
    write_article(folder, "en.txt", "<p>Plain English words, set in the body font.</p>",
                  title="An English article", lang="en")
    chosen = builder.build(settings_for(tmp_path / "a", folder, book__formats=["pdf"],
                                        pdf__serif_font="DejaVu Serif"))
    default = builder.build(settings_for(tmp_path / "b", folder, book__formats=["pdf"]))
    assert any("DejaVu-Serif" in f for f in _pdf_fonts(Path(chosen.outputs["pdf"])))
    assert not any("DejaVu-Serif" in f for f in _pdf_fonts(Path(default.outputs["pdf"])))


@pytest.mark.parametrize(("overrides", "what"), [
    ({"paths": 3}, "'paths' must be a path"),
    ({"out_dir": 3}, "'out_dir' must be a path"),
    ({"offline": "yes"}, "'offline' must be true or false"),
])
def test_run_fields_of_the_wrong_type_are_config_errors(overrides, what):
    with pytest.raises(ConfigError) as info:
        load_settings(None, overrides)
    assert what in str(info.value)


def test_paths_may_be_one_path_or_a_string(tmp_path):
    assert load_settings(None, {"paths": str(tmp_path)}).paths == (tmp_path,)
    assert load_settings(None, {"paths": tmp_path}).paths == (tmp_path,)


# --- 13. the writers know the model, not the renderer ------------------------------------------

@pytest.mark.parametrize("module", ["epub", "pdf", "impose"])
def test_writers_import_no_renderer(module):
    """A writer imports ``model``, ``errors``, ``output`` (how a file is written),
    ``pdfsave`` (how a PDF is saved), ``documents`` (how a document goes to WeasyPrint),
    ``subsets`` (the PDF's fonts), ``furniture`` (the running heads and folios drawn on a
    PDF's pages), ``join`` (the book's pages copied from its parts), ``lines`` (a text's lines
    counted in a laid-out document) and its own libraries: never ``render``, ``pipeline``,
    ``settings`` or ``theme``."""
    import ast

    tree = ast.parse((Path(builder.__file__).parent / f"{module}.py").read_text())
    ours = {node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1}
    assert ours <= {"model", "errors", "output", "pdfsave", "libraries", "documents",
                    "subsets", "furniture", "join", "lines"}, ours


# --- 14. the print outputs written in a process of their own ------------------------------------

def test_a_report_takes_in_the_report_of_the_print_process(caplog):
    mine, theirs = BuildReport(), BuildReport()
    mine.timings["epub"] = 0.5
    mine.warn("epub: one")
    mine.count("cleaned articles", True)
    theirs.timings.update({"layout": 1.0, "pdf": 2.0})
    theirs.count("PDF parts", False)
    theirs.count("PDF parts", True)
    theirs.warnings += ["epub: one", "print: two"]
    theirs.layout, theirs.placed = {"pages": 12}, [{"page": 3}]
    theirs.preflight["pdf"] = {"passed": True}
    theirs.imposition = {"sheet_sides": 6}
    caplog.clear()
    mine.absorb(theirs)
    assert mine.timings == {"epub": 0.5, "layout": 1.0, "pdf": 2.0}
    assert mine.work == {"cleaned articles": {"done": 0, "kept": 1},
                         "PDF parts": {"done": 1, "kept": 1}}
    assert mine.warnings == ["epub: one", "print: two"]
    assert not caplog.records  # logged where they were found, not again
    assert (mine.layout, mine.placed, mine.preflight, mine.imposition) == (
        {"pages": 12}, [{"page": 3}], {"pdf": {"passed": True}}, {"sheet_sides": 6})


def test_the_print_work_is_handed_over_before_the_epubs_are_made(tmp_path, monkeypatch):
    from builder import pipeline
    from builder.model import Rendition

    events = []

    class Printer:  # what write_outputs asks of the process ahead
        def hand(self, module, function, *args):
            events.append(("hand", module, function))

        def result(self):
            events.append("result")
            return {"pdf": tmp_path / "book.pdf"}, BuildReport()

        def close(self):
            events.append("close")

    def made(*args):
        events.append("epubs made")
        return []

    monkeypatch.setattr(pipeline, "make_epubs", made)
    settings = Settings()
    assert "epub" in settings.formats and settings.prints
    rendition = Rendition(epub=None, print=object())
    written = pipeline.write_outputs(None, None, MODIFIED, rendition, settings, "book",
                                     tmp_path, BuildReport(), Printer())
    assert events == [("hand", "builder.printing", "print_apart"), "epubs made", "result"]
    assert written == {"pdf": tmp_path / "book.pdf"}

    def failed(*args):
        raise OutputError("the EPUB went wrong")

    events.clear()
    monkeypatch.setattr(pipeline, "make_epubs", failed)
    with pytest.raises(OutputError):
        pipeline.write_outputs(None, None, MODIFIED, rendition, settings, "book", tmp_path,
                               BuildReport(), Printer())
    assert events == [("hand", "builder.printing", "print_apart"), "close"]  # before tmp goes
