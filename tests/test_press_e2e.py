"""The user's side of printing: a long book imposed in signatures that fold into the book's
page order, the seed as one saddle-stitched booklet with creep, read back from the PDFs the CLI
wrote."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

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
