"""The named destinations and outline a part gives the join: read from its file once, then
kept by the part's key, so that a rebuild opens only the parts laid out anew; a kept record
of another shape is read again from the file, never used."""

from __future__ import annotations

import json

import pikepdf
import pytest
from weasyprint import HTML

from builder.join import Piece, join, marks
from builder.memo import Memo

DOC = """<html><head><style>@page {{ size: A6 }} h2 {{ break-before: page }}</style></head>
<body><h1 id="{p}">Part {p}</h1><p id="{p}-b1">one</p>
<h2 id="{p}-s1">First</h2><p id="{p}-b2">two</p><a href="#{p}-s2">on</a>
<h2 id="{p}-s2">Second</h2><p id="{p}-b3">three</p></body></html>"""


@pytest.fixture()
def parts(tmp_path):
    out = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.pdf"
        HTML(string=DOC.format(p=name)).write_pdf(path)
        with pikepdf.open(path) as pdf:
            out.append(Piece(path, 0, len(pdf.pages), key=f"part-{name}"))
    return out


def test_a_parts_marks_are_kept_and_read_back_the_same(parts, tmp_path):
    memo = Memo(tmp_path / "memo")
    read = marks(parts[0])
    assert {n for n, _, _ in read[0]} >= {"a", "a-b1", "a-s1", "a-s2"}
    assert [t for t, *_ in read[1]] == ["Part a"] and \
        [t for t, *_ in read[1][0][4]] == ["First", "Second"]
    assert marks(parts[0], memo) == read  # read from the file, and kept
    parts[0].path.write_bytes(b"")  # the file is not read again: the record is
    assert marks(parts[0], memo) == read


def test_marks_read_where_the_part_was_laid_out_are_used_without_its_file(parts, tmp_path):
    """A part's marks read as it was laid out (builder.parts keeps them in its record) go
    with its piece: the join reads neither its file nor the memo for them (a build with
    --force reads no memo), and a piece whose marks are not of that shape is read again."""
    from dataclasses import replace

    from builder.join import marks_record, read_marks

    read = marks(parts[0])
    carried = replace(parts[0], marks=marks_record(*read_marks(parts[0].path)))
    original = parts[0].path.read_bytes()
    parts[0].path.write_bytes(b"")
    assert marks(carried, Memo(tmp_path / "memo", reuse=False)) == read
    parts[0].path.write_bytes(original)
    assert marks(replace(carried, marks={"names": 1}), None) == read


def test_a_book_joined_from_kept_marks_is_the_same_bytes(parts, tmp_path):
    join(parts, tmp_path / "plain.pdf")
    memo = Memo(tmp_path / "memo")
    join(parts, tmp_path / "first.pdf", kept=memo)
    join(parts, tmp_path / "again.pdf", kept=memo)  # from the records
    plain = (tmp_path / "plain.pdf").read_bytes()
    assert (tmp_path / "first.pdf").read_bytes() == plain
    assert (tmp_path / "again.pdf").read_bytes() == plain
    with pikepdf.open(tmp_path / "again.pdf") as pdf, pdf.open_outline() as outline:
        def titles(items):
            return [t for i in items for t in (i.title, *titles(i.children))]
        assert titles(outline.root) == ["Part a", "First", "Second", "Part b", "First",
                                        "Second"]
        names = pdf.Root.Names.Dests.Names
        assert {str(names[i]) for i in range(0, len(names), 2)} >= {"a-s2", "b-s2"}


@pytest.mark.parametrize("damage", [
    lambda r: r.update(names="x"),
    lambda r: r["names"][0].__setitem__(1, "2"),
    lambda r: r["names"][0][2].append({"name": "XYZ"}),
    lambda r: r["names"][0][2].append({"real": 1.5}),
    lambda r: r["outline"][0].__setitem__(2, True),
    lambda r: r["outline"][0].pop(),
])
def test_a_damaged_record_is_read_again_from_the_file(parts, tmp_path, damage):
    memo = Memo(tmp_path / "memo")
    read = marks(parts[0], memo)
    [record] = list((tmp_path / "memo").rglob("*.json"))
    data = json.loads(record.read_text(encoding="utf-8"))
    damage(data)
    record.write_text(json.dumps(data), encoding="utf-8")
    assert marks(parts[0], memo) == read
    assert json.loads(record.read_text(encoding="utf-8")) != data  # kept again
