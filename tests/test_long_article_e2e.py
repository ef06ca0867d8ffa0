"""A long article from the user's side: its EPUB chapter goes on in several files, none much
over 300 KB, with its text, its sections in the contents and its links all where they were."""

from __future__ import annotations

import re
import zipfile

import pytest
from conftest import run_cli
from lxml import etree

from builder.render import MAX_DOC_BYTES

XHTML = "{http://www.w3.org/1999/xhtml}"
PARAGRAPHS = 3000


@pytest.fixture(scope="module")
def long_epub(tmp_path_factory):
    root = tmp_path_factory.mktemp("long-article")
    src = root / "src"
    src.mkdir()
    blocks = ['<p>见<a href="#note">文末的注</a>。</p>']
    for k in range(1, PARAGRAPHS + 1):
        if k % 500 == 1:
            blocks.append(f"<h2>第{k // 500 + 1}部分</h2>")
        blocks.append(f"<p>第{k}段。" + "长长的河流穿过城市，两岸的灯一盏一盏亮起来。" * 3 + "</p>")
    blocks.append('<p id="note">注：这是文末的注。</p>')
    (src / "long.txt").write_text("---\ntitle: 很长的一篇\ndate: 2022-08-31\n---\n"
                                  + "\n".join(blocks) + "\n", "utf-8")
    out = root / "dist"
    result = run_cli("build", src, "--out", out, "--cache-dir", root / "cache", "--name",
                     "long", "--format", "epub", "--check", env={"SOURCE_DATE_EPOCH": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(out / "long.epub") as z:
        return {n: z.read(n) for n in z.namelist()}


def chapter_files(files: dict[str, bytes]) -> list[str]:
    return sorted((n for n in files if re.search(r"chapter-001(-\d+)?\.xhtml$", n)),
                  key=lambda n: int(m.group(1)) if (m := re.search(r"-(\d+)\.xhtml$", n))
                  and "chapter-001-" in n else 1)


def test_a_long_chapter_goes_on_in_files_of_about_300_kb(long_epub):
    names = chapter_files(long_epub)
    assert len(names) >= 3
    for name in names:
        assert len(long_epub[name]) <= MAX_DOC_BYTES + 5_000, (name, len(long_epub[name]))
    spine = re.findall(rb'<itemref idref="([^"]+)"', long_epub["EPUB/content.opf"])
    ids = [n.rsplit("/", 1)[-1].rsplit(".", 1)[0].encode() for n in names]
    assert [i for i in spine if i in ids] == ids  # read in order


def test_its_text_is_all_there_in_order(long_epub):
    text = "".join("".join(etree.fromstring(long_epub[n]).itertext())
                   for n in chapter_files(long_epub))
    numbers = [int(n) for n in re.findall(r"第(\d+)段", text)]
    assert numbers == list(range(1, PARAGRAPHS + 1))
    assert text.count("很长的一篇") >= 1 and "注：这是文末的注。" in text


def test_sections_and_links_point_into_the_right_file(long_epub):
    nav = etree.fromstring(long_epub["EPUB/nav.xhtml"])
    targets = [a.get("href") for a in nav.iter(f"{XHTML}a") if "#" in a.get("href", "")]
    assert len(targets) == PARAGRAPHS // 500
    links = [a.get("href") for n in chapter_files(long_epub)
             for a in etree.fromstring(long_epub[n]).iter(f"{XHTML}a") if a.get("href")]
    assert any(h.endswith("#" + h.rsplit("#", 1)[-1]) and ".xhtml#" in h for h in links)
    for href in targets + [h for h in links if ".xhtml#" in h]:
        file_name, fragment = href.split("#")
        doc = etree.fromstring(long_epub[f"EPUB/{file_name}"])
        assert doc.xpath(f"//*[@id='{fragment}']"), href


@pytest.fixture(scope="module")
def long_pdf(tmp_path_factory):
    """A text article of about 0.7 MB, as the PDF: laid out in pieces (builder.pieces)."""
    root = tmp_path_factory.mktemp("long-pdf")
    src = root / "src"
    src.mkdir()
    blocks = []
    for k in range(1, 1801):
        if k % 300 == 1:
            blocks.append(f"<h2>第{k // 300 + 1}部分</h2>")
        blocks.append(f"<p>第{k}段。" + "夜里的风带着水汽，河边的灯一盏一盏亮起来。" * 3 + "</p>")
    (src / "long.txt").write_text("---\ntitle: 很长的一篇\ndate: 2022-08-31\n---\n"
                                  + "\n".join(blocks) + "\n", "utf-8")
    out = root / "dist"
    result = run_cli("build", src, "--out", out, "--cache-dir", root / "cache", "--name",
                     "long", "--format", "pdf", env={"SOURCE_DATE_EPOCH": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_a_long_article_is_laid_out_in_pieces_with_nothing_lost(long_pdf):
    import json

    from pypdf import PdfReader

    report = json.loads((long_pdf / "long.report.json").read_text("utf-8"))
    assert report["work"]["PDF parts"]["done"] >= 3  # the pieces, each a part of its own
    assert report["layout"]["disagreement_count"] == 0
    pages = [page.extract_text() for page in PdfReader(long_pdf / "long.pdf").pages]
    numbers = [int(n) for text in pages for n in re.findall(r"第(\d+)段", text)]
    assert numbers == list(range(1, 1801))
    body = [text for text in pages if "段。" in text]
    assert len(body) > 60
    assert all("很长的一篇" in text for text in body[1:])  # the running head, piece after piece


def test_the_outline_keeps_every_section_under_its_article(long_pdf):
    import pikepdf

    with pikepdf.open(long_pdf / "long.pdf") as pdf, pdf.open_outline() as outline:
        def titles(items):
            return [(i.title, titles(i.children)) for i in items]

        tree = titles(outline.root)
    (book, (article,)), = tree  # the book, holding the one article
    assert article[0] == "很长的一篇"
    assert [t for t, _ in article[1]] == [f"第{n}部分" for n in range(1, 7)]
