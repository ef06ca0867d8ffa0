"""The user's side of printing: a long book imposed in signatures that fold into the book's
page order, the seed as one saddle-stitched booklet with creep, read back from the PDFs the CLI
wrote."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pikepdf
import pytest
from conftest import SEEDS, run_cli, serve_args
from pypdf import PdfReader
from test_impose import draws, folded, marks

from builder.impose import PT_PER_MM

EPOCH = "1661924079"
LONG = """---
title: 第{n}章：河边的日子
date: 2022-08-{n:02d}
---
{paragraphs}
"""


def write_long_corpus(folder: Path, articles: int = 6) -> Path:
    """Text-only articles, long enough together for a book of well over 64 pages."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, articles + 1):
        paragraphs = "\n".join(
            f"<p>第{n}章第{k}段。河边的早晨总是安静的，老人们在柳树下下棋，孩子们追着风筝跑过"
            "堤岸，卖豆浆的小车一路响着铃铛。" * 3 + "</p>" for k in range(1, 41))
        (folder / f"c{n}.txt").write_text(LONG.format(n=n, paragraphs=paragraphs), "utf-8")
    return folder


def page_texts(path: Path, halves: bool) -> list[str]:
    """Each page's text (or each half sheet's, left then right), whitespace dropped."""
    reader = PdfReader(path)
    out = []
    for number, page in enumerate(reader.pages, 1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        regions = [(0, width / 2), (width / 2, width / 2)] if halves else [(0, width)]
        for x, w in regions:
            text = subprocess.run(
                ["pdftotext", "-f", str(number), "-l", str(number), "-r", "72", "-x",
                 str(round(x)), "-y", "0", "-W", str(round(w)), "-H", str(round(height)),
                 str(path), "-"], capture_output=True, text=True, check=True).stdout
            out.append(re.sub(r"\s+", "", text))
    return out


@pytest.fixture(scope="module")
def long_book(tmp_path_factory):
    root = tmp_path_factory.mktemp("long")
    src, out = write_long_corpus(root / "src"), root / "dist"
    result = run_cli("build", src, "--out", out, "--cache-dir", root / "cache", "--name",
                     "long", "--title", "河边", "--format", "pdf,booklet",
                     env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.returncode == 0, result.stderr
    return out, result, json.loads((out / "long.report.json").read_text("utf-8"))


def test_a_long_book_is_imposed_in_signatures_of_16(long_book):
    out, result, report = long_book
    pages = len(PdfReader(out / "long.pdf").pages)
    assert pages > 64
    imposition = report["imposition"]
    signatures = imposition["signatures"]
    assert signatures[:-1] == [16] * (len(signatures) - 1) and 0 < signatures[-1] <= 16
    assert sum(signatures) == -(-pages // 4) * 4
    assert f"{len(signatures)} signatures of 16 pages" in imposition["how"]
    assert "booklet: print long-booklet.pdf double-sided" in result.stdout + result.stderr


def test_the_printed_and_folded_signatures_read_in_page_order(long_book):
    """Each half sheet's text, taken in the order the folded, stacked signatures are read,
    is the book's pages' text in order (blank pages pad the last signature)."""
    out, _, report = long_book
    book = page_texts(out / "long.pdf", halves=False)
    halves = page_texts(out / "long-booklet.pdf", halves=True)
    sides = [(halves[i], halves[i + 1]) for i in range(0, len(halves), 2)]
    read = folded(sides, tuple(report["imposition"]["signatures"]))
    assert read == book + [""] * (len(read) - len(book))
    assert sum(1 for text in book if text) > 60  # the pages are told apart by their text


def test_each_signature_carries_its_collation_mark(long_book):
    out, _, report = long_book
    found = marks(out / "long-booklet.pdf")
    starts, at = [], 0
    for pages in report["imposition"]["signatures"]:
        starts.append(at)
        at += pages // 2
    assert [side for side, _, _ in found] == starts
    tops = [top for _, _, top in found]
    assert tops == sorted(tops, reverse=True)


def test_the_seed_is_one_booklet_with_creep(tmp_path, image_server):
    out = tmp_path / "dist"
    result = run_cli("build", SEEDS, "--out", out, "--cache-dir", tmp_path / "cache",
                     "--name", "seed", "--creep", "0.6mm", *serve_args(image_server),
                     env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "seed.report.json").read_text("utf-8"))
    pages = len(PdfReader(out / "seed.pdf").pages)
    assert pages <= 64
    assert report["imposition"]["signatures"] == [-(-pages // 4) * 4]
    assert report["imposition"]["creep_mm"] == 0.6
    sides = draws(out / "seed-booklet.pdf")
    sheets = len(sides) // 2
    width = float(PdfReader(out / "seed.pdf").pages[0].mediabox.width)
    for n, side in enumerate(sides):
        shift = 0.6 * PT_PER_MM * (n // 2) / (sheets - 1)
        for index, x, clip in side:
            assert x == pytest.approx(clip + (shift if clip == 0 else -shift), abs=1e-3), index
    assert sides[-1][0][1] == pytest.approx(0.6 * PT_PER_MM, abs=1e-3)  # innermost: all of it
    assert all(x == clip for side in sides[:2] for _, x, clip in side)  # outermost: none
    assert sorted({clip for side in sides for _, _, clip in side}) == [0, pytest.approx(width)]
    assert marks(out / "seed-booklet.pdf") == []


# --- PDF/X for a print shop, and the preflight -------------------------------------------------

def images(path: Path) -> list[tuple[str, bool, str]]:
    """(colour space, has a soft mask, filter) of every image; an ICC-based space as
    "ICCBased N"."""
    def space(value) -> str:
        if isinstance(value, pikepdf.Array) and value[0] == "/ICCBased":
            return f"ICCBased {int(value[1].N)}"
        return str(value)

    with pikepdf.open(path) as pdf:
        return [(space(o.get("/ColorSpace")), "/SMask" in o, str(o.get("/Filter")))
                for o in pdf.objects if isinstance(o, pikepdf.Stream)
                and o.get("/Subtype") == "/Image"]


def colour_operators(path: Path) -> dict[str, list]:
    """Every colour-setting operator of every page's content and form, with its operands."""
    found: dict[str, list] = {}
    with pikepdf.open(path) as pdf:
        streams = [p.obj for p in pdf.pages] + [o for o in pdf.objects if isinstance(
            o, pikepdf.Stream) and o.get("/Subtype") == "/Form"]
        for holder in streams:
            for operands, operator in pikepdf.parse_content_stream(holder):
                if str(operator) in ("rg", "RG", "k", "K", "g", "G", "cs", "CS", "sc", "scn"):
                    found.setdefault(str(operator), []).append([float(v) if not isinstance(
                        v, pikepdf.Name) else str(v) for v in operands])
    return found


def preflight_cli(path: Path, profile: str) -> subprocess.CompletedProcess:
    return run_cli("preflight", path, "--for", profile)


@pytest.fixture(scope="module")
def shop_builds(tmp_path_factory, image_server):
    """The seed as PDF/X-1a (with bleed and the separate cover), as PDF/X-4, and plain."""
    root = tmp_path_factory.mktemp("shop")
    cache = root / "cache"
    built = {}
    for variant, extra in (("pdf/x-1a", ["--bleed", "3mm", "--cover-separate"]),
                           ("pdf/x-4", ["--bleed", "3mm"]), ("", [])):
        out = root / (variant.replace("/", "-") or "plain")
        args = ["--pdf-variant", variant] if variant else []
        result = run_cli("build", SEEDS, "--out", out, "--cache-dir", cache, "--name", "seed",
                         "--format", "pdf,booklet", *args, *extra, *serve_args(image_server),
                         env={"SOURCE_DATE_EPOCH": EPOCH})
        assert result.returncode == 0, result.stderr
        built[variant] = out
    return built


def test_pdfx1a_is_cmyk_through_and_through(shop_builds):
    book = shop_builds["pdf/x-1a"] / "seed.pdf"
    found = images(book)
    assert len(found) >= 19
    assert all(space == "/DeviceCMYK" and not smask and f == "/DCTDecode"
               for space, smask, f in found), found
    colours = colour_operators(book)
    assert "rg" not in colours and "RG" not in colours
    assert not any(ops and ops[0] == "/DeviceRGB" for ops in colours.get("cs", []))
    blacks = [ops for ops in colours["k"] if ops[3] > 0.8]
    assert blacks and all(ops[:3] == [0, 0, 0] for ops in blacks)  # dark text: K alone
    with pikepdf.open(book) as pdf:
        assert pdf.pdf_version == "1.4"
        assert str(pdf.trailer.Info.GTS_PDFXVersion) == "PDF/X-1a:2003"
        intent = pdf.Root.OutputIntents[0]
        assert intent.S == "/GTS_PDFX"
        assert intent.DestOutputProfile.read_bytes() == Path(
            "/usr/share/color/icc/ghostscript/default_cmyk.icc").read_bytes()
        for page in pdf.pages:
            assert "/TrimBox" in page.obj and "/BleedBox" in page.obj
            for state in page.Resources.get("/ExtGState", {}).values():
                assert float(state.get("/ca", 1)) == 1 and float(state.get("/CA", 1)) == 1
            assert "/Group" not in page.obj
    result = preflight_cli(book, "pdf/x-1a")
    assert result.returncode == 0, result.stdout
    assert "passed" in result.stdout


def test_pdfx1a_photos_are_made_cmyk_part_by_part(shop_builds):
    """The photos of a PDF/X-1a are converted in each part as it is laid out (so that the
    book's conversions are never held at once): the parts kept in the cache for it are CMYK
    already, beside the RGB parts of the PDF/X-4 and of the plain book."""
    kinds = set()
    for part in sorted((shop_builds["pdf/x-1a"].parent / "cache" / "parts").glob("*.pdf")):
        spaces = {space for space, _, _ in images(part)}
        if spaces:
            kinds.add(frozenset(spaces))
    assert frozenset({"/DeviceCMYK"}) in kinds
    assert any("/DeviceRGB" in k for k in kinds)
    assert not any("/DeviceCMYK" in k and "/DeviceRGB" in k for k in kinds)


def test_an_rgb_file_fails_the_x1a_preflight_page_by_page(shop_builds):
    result = preflight_cli(shop_builds[""] / "seed.pdf", "pdf/x-1a")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(re.match(r"problem: page \d+: image /\S+ in DeviceRGB", line) for line in lines)
    assert any("transparency" in line for line in lines)  # the cover's see-through box
    assert "problem: no PDF/X output intent (the press's colour profile)" in lines
    problems = sum(line.startswith("problem:") for line in lines)
    assert lines[-1].endswith(f"FAILED ({problems} problem(s))")


def test_pdfx4_keeps_rgb_photos_tagged_with_a_profile(shop_builds):
    book = shop_builds["pdf/x-4"] / "seed.pdf"
    found = images(book)
    assert found and all(space == "ICCBased 3" for space, _, _ in found), found
    assert "rg" not in colour_operators(book)
    with pikepdf.open(book) as pdf:
        assert pdf.pdf_version == "1.6"
        with pdf.open_metadata() as meta:
            assert meta["pdfxid:GTS_PDFXVersion"] == "PDF/X-4"
            assert meta["xmp:CreateDate"].startswith("2022-08-31")
        assert pdf.Root.OutputIntents[0].DestOutputProfile.N == 4
    assert preflight_cli(book, "pdf/x-4").returncode == 0
    plain = preflight_cli(shop_builds[""] / "seed.pdf", "pdf/x-4")
    assert plain.returncode == 1 and "in DeviceRGB" in plain.stdout
    assert preflight_cli(book, "pdf/x-1a").returncode == 1  # RGB, even tagged, is not X-1a


def test_the_report_carries_the_preflight_of_every_build(shop_builds):
    for variant, profile in (("pdf/x-1a", "pdf/x-1a"), ("", "home")):
        report = json.loads((shop_builds[variant] / "seed.report.json").read_text("utf-8"))
        assert report["preflight"]["pdf"]["profile"] == profile
        assert report["preflight"]["pdf"]["passed"] is True
        assert any("dpi where placed" in w for w in report["preflight"]["pdf"]["warnings"])


def test_a_book_preflighted_from_its_pages_during_the_join_is_preflighted_as_written(
        shop_builds):
    """A plain book is preflighted from the pages the join copies first, beside the rest of
    the join: what the report says is what the preflight of the written book says."""
    from builder.preflight import preflight

    out = shop_builds[""]
    report = json.loads((out / "seed.report.json").read_text("utf-8"))
    assert report["preflight"]["pdf"] == preflight(out / "seed.pdf", "home",
                                                   booklet=True).to_json()
    assert sorted(p.name for p in out.iterdir()) == [
        ".builder-state.json", "seed-booklet.pdf", "seed.pdf", "seed.report.json"]


def test_the_separate_cover_has_both_spreads_with_bleed(shop_builds):
    cover, book = shop_builds["pdf/x-1a"] / "seed-cover.pdf", shop_builds["pdf/x-1a"] / "seed.pdf"
    reader, pages = PdfReader(cover), PdfReader(book).pages
    assert len(reader.pages) == 2
    trim = pages[0].trimbox
    bleed = float(trim.left) - float(pages[0].mediabox.left)
    assert bleed == pytest.approx(3 * PT_PER_MM, abs=0.01)
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(2 * float(trim.width) + 2 * bleed)
        assert float(page.trimbox.width) == pytest.approx(2 * float(trim.width))
        assert float(page.trimbox.left) == pytest.approx(bleed)
    front = re.sub(r"\s+", "", reader.pages[0].extract_text())
    assert re.sub(r"\s+", "", pages[0].extract_text()) in front  # the front cover's title
    assert cover.stat().st_size < book.stat().st_size / 3  # the cover's photo, not the book's
    assert preflight_cli(cover, "pdf/x-1a").returncode == 0


def test_a_shop_build_is_byte_identical_when_built_again(shop_builds, image_server, tmp_path):
    out = tmp_path / "again"
    result = run_cli("build", SEEDS, "--out", out, "--cache-dir", tmp_path / "cache", "--name",
                     "seed", "--format", "pdf,booklet", "--pdf-variant", "pdf/x-1a", "--bleed",
                     "3mm", "--cover-separate", *serve_args(image_server),
                     env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.returncode == 0, result.stderr
    for name in ("seed.pdf", "seed-cover.pdf", "seed-booklet.pdf"):
        assert (out / name).read_bytes() == (shop_builds["pdf/x-1a"] / name).read_bytes(), name


def test_preflight_of_a_file_that_is_no_pdf(tmp_path):
    bad = tmp_path / "not.pdf"
    bad.write_text("hello")
    result = preflight_cli(bad, "home")
    assert result.returncode == 1
    assert result.stderr.startswith(f"builder: source error: {bad}: cannot be read as a PDF")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
