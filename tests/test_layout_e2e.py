"""The page planner from the user's side: small articles whose photo mixes used to leave holes
on A5, built by the CLI against photos served from 127.0.0.1, and the page each photo and
caption lands on read back from the PDF."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest import run_cli
from helpers_corpus import photo_jpeg
from pypdf import PdfReader
from pypdf.generic import ContentStream
from pytest_httpserver import HTTPServer

from bench import layout as bench_layout
from builder.pdfimages import placed_images
from builder.text import CLOSING, halt_marks

A5_AREA = 148 * 210  # mm²
MM = 72 / 25.4


def caption(n: int) -> str:
    """A two-line caption, unique by its number."""
    return (f"↑ 图{n}：2022年8月17日，辽宁省沈阳市皇姑区三台子街道牡丹社区，"
            f"居民群众在社区广场上参加活动，志愿者为老人们提供便民服务。编号{n:02d}")


def img(port: int, w: int, h: int) -> str:
    return (f'<div class="img_box" onclick><img class="lazy" data-original='
            f'"http://127.0.0.1:{port}/p/{w}x{h}.jpg" src="x.gif"></div>')


PARAGRAPH = ("社区是党和政府联系、服务居民群众的“最后一公里”。各地坚持人往基层走、钱往基层投、"
             "政策向基层倾斜，着力增强社区党组织为民、便民、安民功能，让社区成为群众最放心、"
             "最安心的港湾。")

#: Each article: its body, from (port) -> html. Every photo has its own pixel size, so that the
#: PDF's images tell which photo they are.
ARTICLES = {
    # four landscapes, each with its caption: two share each A5 page
    "landscapes": lambda p: "".join(
        (f"<p>{PARAGRAPH}</p>" if i == 0 else "") + f"{img(p, 1000, 660 + i)}{caption(i)}<p></p>"
        for i in range(5)),
    # a group of two photos sharing one caption fills a page; a landscape follows
    "group": lambda p: (f"<p>{PARAGRAPH}</p>{img(p, 1000, 1270)}{caption(1)}<p></p>"
                        f"{img(p, 1000, 702)}{img(p, 1000, 703)}{caption(2)}<p></p>"
                        f"{img(p, 1000, 704)}{caption(3)}<p></p>"),
    # a long text, then a tall portrait that does not fit below it, then more text
    "portrait": lambda p: ("".join(f"<p>{PARAGRAPH * 2}</p>" for _ in range(7))
                           + f"{img(p, 1000, 1500)}{caption(1)}<p></p>"
                           + "".join(f"<p>{PARAGRAPH}</p>" for _ in range(3))
                           + f"<h2>小标题</h2><p>{PARAGRAPH}</p>"),
}
#: Meeting marks (a closing mark before another mark, two opening marks) in every position of
#: a line, and commas that fall wherever the line may end.
PAIRS = "他说：“好。”“走，”她说（“引文”）。"
TYPOGRAPHY = "".join(f"<p>{'社区' * k}{PAIRS}{'服务居民' * (k % 5)}，群众，放心，安心。</p>"
                     for k in range(1, 24))
ARTICLES["typography"] = lambda p: TYPOGRAPHY + f"{img(p, 1000, 705)}{caption(9)}<p></p>"
#: Blocks taller than a page, that are not paragraphs, headings in a row and at the end.
ARTICLES["tall"] = lambda p: (
    "<p>开头。</p><table>" + "".join(f"<tr><td>第{i}行</td><td>{'内容' * 10}</td></tr>"
                                   for i in range(60)) + "</table>"
    + "<ul>" + "".join(f"<li>条目{i}：{'文字' * 30}</li>" for i in range(40)) + "</ul>"
    + "<pre>" + "\n".join(f"line {i} " + "x" * 40 for i in range(80)) + "</pre>"
    + f"<blockquote>{'引用' * 600}</blockquote><h2>小标题</h2><h3>又一个</h3>"
    + f"<p>{'长段落' * 900}</p>{img(p, 1000, 706)}{caption(8)}<p></p><h2>结尾的标题</h2>")
#: Ids the source gives that the layout would give too, twice the same id, a caption longer
#: than a page, and a long first paragraph under the title.
ARTICLES["ids"] = lambda p: (
    f"<p>{PARAGRAPH * 6}</p><p>短的一段。</p><p>one</p><p>two TWO</p><p id=\"b3\">three</p>"
    f"<p id=\"dup\">d1</p><p id=\"dup\">d2</p>{img(p, 1000, 707)}↑ 很长的说明{'文字' * 1500}"
    f"<p></p><p>说明之后的一段。</p>")

SIZES = [(1000, h) for h in (660, 661, 662, 663, 664, 1270, 702, 703, 704, 1500, 705, 706,
                             707)]


@pytest.fixture(scope="module")
def server():
    s = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    s.start()
    for w, h in SIZES:
        s.expect_request(f"/p/{w}x{h}.jpg").respond_with_data(
            photo_jpeg(w, h, seed=w * h), content_type="image/jpeg")
    yield s
    s.clear()
    if s.is_running():
        s.stop()


class Laid:
    """One article's PDF: each photo's page and drawn size by its pixel height, each page's
    text."""

    def __init__(self, out, name):
        self.pdf = out / f"{name}.pdf"
        self.report = json.loads((out / f"{name}.report.json").read_text("utf-8"))
        reader = PdfReader(str(self.pdf))
        self.pages = len(reader.pages)
        self.photos = {p.height_px: p for p in placed_images(self.pdf) if p.width_px == 1000}
        self.text = [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), "-layout",
                                     str(self.pdf), "-"], capture_output=True, text=True,
                                    check=True).stdout.replace(" ", "")
                     for i in range(1, self.pages + 1)]

    def page_of(self, height_px: int) -> int:
        return self.photos[height_px].page

    def caption_page(self, n: int) -> int:
        pages = [i + 1 for i, t in enumerate(self.text) if f"编号{n:02d}" in t]
        assert len(pages) == 1, (n, pages)
        return pages[0]

    def area_share(self, height_px: int) -> float:
        p = self.photos[height_px]
        return (p.width_pt / MM) * (p.height_pt / MM) / A5_AREA


@pytest.fixture(scope="module")
def laid(tmp_path_factory, server):
    root = tmp_path_factory.mktemp("layout")
    out = {}
    for name, body in ARTICLES.items():
        src = root / name
        src.mkdir()
        (src / f"{name}.txt").write_text(
            f"---\ntitle: 排版测试 {name}\ndate: 2022-08-31\n---\n<div>{body(server.port)}</div>",
            "utf-8")
        result = run_cli("build", src, "--out", root / "out", "--cache-dir", root / "cache",
                         "--name", name, "--format", "pdf", "--allow-host",
                         f"127.0.0.1:{server.port}", env={"SOURCE_DATE_EPOCH": "1661924079"})
        assert result.returncode == 0, result.stderr
        out[name] = Laid(root / "out", name)
    return out


def test_two_landscapes_share_each_page(laid):
    book = laid["landscapes"]
    pages = [book.page_of(660 + i) for i in range(5)]
    # the opener holds the title, the text and the first photo; then two photos a page
    assert pages[1] == pages[2] == pages[0] + 1
    assert pages[3] == pages[4] == pages[0] + 2
    for i in range(5):
        assert book.caption_page(i) == pages[i], f"caption {i} is away from its photo"
        assert book.area_share(660 + i) >= 0.10
        assert book.photos[660 + i].dpi >= 150


def test_a_group_fills_a_page_and_stays_together(laid):
    book = laid["group"]
    group = (book.page_of(702), book.page_of(703))
    assert group[0] == group[1] == book.caption_page(2)
    assert book.page_of(1270) < group[0] < book.page_of(704)
    on_its_page = [h for h, p in book.photos.items() if p.page == group[0]]
    assert sorted(on_its_page) == [702, 703]
    # set at no less than the floor: 3 in 4 of the text width, or more
    for h in (702, 703):
        assert book.photos[h].width_pt / MM >= 0.75 * 119 - 0.5


def test_text_moves_ahead_of_a_tall_portrait(laid):
    book = laid["portrait"]
    layout = book.report["layout"]
    page = book.page_of(1500)
    assert book.caption_page(1) == page
    assert 0 < layout["moved_paragraphs"] <= 3
    # the text that moved ahead fills the page before the portrait: no hole behind it
    assert layout["gap_pages"] == 0
    before = book.text[page - 2]
    assert before.count("最安心的港湾") >= 3
    # never past the heading: the section still follows every paragraph before it
    heading_page = next(i + 1 for i, t in enumerate(book.text) if "小标题" in t)
    assert heading_page >= page
    assert book.area_share(1500) >= 0.3


@pytest.mark.parametrize("name", [n for n in ARTICLES if n != "ids"])
def test_the_plan_and_the_pdf_agree(laid, name):
    layout = laid[name].report["layout"]
    assert layout["disagreement_count"] == 0, layout["disagreements"]
    assert layout["pages"] == laid[name].pages
    assert layout["smallest_scale"] >= 0.75
    assert layout["blank_pages"] == 1  # the left page after the cover: open_right asks for it
    assert sum(layout["photos_per_page"].values()) >= 1
    figures = bench_layout.figures(laid[name].pdf)
    assert figures["off_page"] == 0  # these books have no cover photo to run into a bleed
    assert figures["small"] == 0


def test_blocks_taller_than_a_page_run_on_as_planned(laid):
    book = laid["tall"]
    assert book.pages > 12
    last = book.text[-1] if book.text[-1].strip() else book.text[-2]
    assert "结尾的标题" in last  # the heading that ends the article stays at its end


def test_no_line_starts_with_closing_punctuation(laid):
    for name, book in laid.items():
        for number, page in enumerate(book.text, 1):
            for line in page.splitlines():
                assert not line or line[0] not in CLOSING + "？！", (name, number, line)


def test_meeting_marks_are_set_half_width(laid):
    """The font's ``halt`` gives back half an em after each mark that meets another: in the
    PDF, a punctuation mark that advances by 500 thousandths of an em, not 1000 (its width in
    the font's widths, less what the glyph run moves the next glyph back)."""
    book = laid["typography"]
    marks = set(PAIRS) - set("他说好走她引文")
    halves = sum(1 for char, advance in advances(book.pdf) if char in marks
                 and 480 <= advance <= 520)
    wanted = sum(flag for _, flag in halt_marks(PAIRS)) * 23
    assert halves >= wanted
    assert any(char in marks and advance >= 900 for char, advance in advances(book.pdf))


def advances(pdf) -> list[tuple[str, float]]:
    """Each glyph drawn in ``pdf`` (fonts with two-byte codes, as WeasyPrint writes them):
    its character and how far it moves the pen, in thousandths of an em."""
    reader = PdfReader(str(pdf))
    out = []
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font", {})  # (the page furniture: forms, not read)
        widths, chars = {}, {}
        for op_args, op in ContentStream(page.get_contents(), reader).operations:
            if op == b"Tf":
                font = fonts[op_args[0]].get_object()
                widths, chars = _widths(font), _to_unicode(font)
            elif op == b"TJ":
                for item in op_args[0]:
                    if isinstance(item, (str, bytes)):
                        data = item if isinstance(item, bytes) else item.original_bytes
                        for i in range(0, len(data) - 1, 2):
                            code = int.from_bytes(data[i:i + 2], "big")
                            out.append([chars.get(code, ""), widths.get(code, 1000)])
                    elif out:
                        out[-1][1] -= float(item)
    return [(c, a) for c, a in out]


def _widths(font) -> dict[int, float]:
    descendant = font["/DescendantFonts"][0].get_object()
    found, w = {}, list(descendant.get("/W", []))
    i = 0
    while i < len(w):
        first = int(w[i])
        if isinstance(w[i + 1], list) or hasattr(w[i + 1], "__iter__"):
            for k, width in enumerate(w[i + 1]):
                found[first + k] = float(width)
            i += 2
        else:
            for code in range(first, int(w[i + 1]) + 1):
                found[code] = float(w[i + 2])
            i += 3
    return found


def _to_unicode(font) -> dict[int, str]:
    data = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    found = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", data, re.S):
        for code, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            found[int(code, 16)] = bytes.fromhex(text).decode("utf-16-be", "replace")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, start in re.findall(
                r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = int.from_bytes(bytes.fromhex(start), "big")
            for k, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                found[code] = chr(first + k)
    return found


def test_a_photo_alone_on_a_page_grows_into_the_margins_within_its_pixels(laid):
    alone = []
    for book in laid.values():
        per_page: dict[int, list] = {}
        for p in book.photos.values():
            per_page.setdefault(p.page, []).append(p)
        alone += [ps[0] for ps in per_page.values() if len(ps) == 1]
    assert alone
    for p in alone:
        assert p.width_pt / MM <= 148 - 2 * 6 + 0.1  # 6 mm from the page's edges at least
        assert p.dpi >= 150 - 0.5
    assert any(p.width_pt / MM > 119 + 1 for p in alone)


def test_blocks_with_the_same_id_and_a_caption_longer_than_a_page_all_print(laid):
    book = laid["ids"]
    text = "".join(book.text)
    for words in ("短的一段", "one", "twoTWO", "three", "d1", "d2", "说明之后的一段"):
        assert words in text, words
    assert text.count("文字") >= 1400  # the whole caption
    photo = book.photos[707]
    assert 0 < photo.width_pt / MM <= 148
