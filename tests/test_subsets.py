"""builder.subsets: a font subset once for the whole book, its glyph ids kept; the stubs the
parts carry until the join."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zlib
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from builder import subsets


def system_face(family: str = "Noto Sans CJK SC") -> tuple[Path, int]:
    found = subprocess.run(["fc-match", "-f", "%{file}:%{index}", family], capture_output=True,
                           text=True, check=True).stdout
    path, index = found.rsplit(":", 1)
    return Path(path), int(index)


def test_a_subset_keeps_the_glyph_ids_and_only_the_glyphs_asked_for():
    path, index = system_face()
    face = TTFont(path, fontNumber=index)
    cmap = face.getBestCmap()
    wanted = sorted(face.getGlyphID(cmap[ord(c)]) for c in "国A")
    program = subsets.subset(path.read_bytes(), index, wanted, notdef=False, hinting=True)
    cut = TTFont(io.BytesIO(program))
    assert program[:4] == b"OTTO"  # a CFF face stays CFF: WeasyPrint's /FontFile3
    assert cut["maxp"].numGlyphs == max(wanted) + 1  # ids kept: nothing renumbered
    charstrings = cut["CFF "].cff.topDictIndex[0].CharStrings
    order = cut.getGlyphOrder()
    drawn = {gid for gid in range(len(order))
             if len(charstrings[order[gid]].bytecode or b"") > 2}
    assert set(wanted) <= drawn
    assert len(drawn - {0}) == len(wanted)  # and nothing else drawn
    assert len(program) < 1_000_000  # not the whole face (16 MB and more)


def test_a_mapped_file_gives_the_same_subset_as_its_bytes(tmp_path):
    import mmap

    path, index = system_face()
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        from_map = subsets.subset(mapped, index, [100, 2000], False, True)
    assert from_map == subsets.subset(path.read_bytes(), index, [100, 2000], False, True)


def test_a_stub_is_told_from_a_font_program():
    named = {"face": "ab" * 32, "index": 2, "glyphs": [1, 5, 9], "notdef": False,
             "hinting": True}
    data = b"OTTO" + subsets.MARK + json.dumps(named).encode()
    assert subsets.stub(data) == named
    path, _ = system_face()
    assert subsets.stub(path.read_bytes()[:4096]) is None
    assert subsets.stub(b"OTTO" + subsets.MARK + b"{not json") is None
    assert subsets.stub(b"OTTO" + subsets.MARK + json.dumps(
        {**named, "glyphs": [1, -4]}).encode()) is None
    assert subsets.stub(b"OTTO" + subsets.MARK + json.dumps(
        {**named, "glyphs": [70000]}).encode()) is None
    assert subsets.stub(b"OTTO" + subsets.MARK + json.dumps(
        {**named, "face": "../../etc/passwd"}).encode()) is None  # only a name in the folder


def test_a_kept_face_is_checked_against_its_name(tmp_path):
    data = b"a face" * 100
    sha = hashlib.sha256(data).hexdigest()
    subsets.face_path(tmp_path, sha).write_bytes(data)
    assert subsets.intact(tmp_path, sha)
    other = hashlib.sha256(b"other").hexdigest()
    subsets.face_path(tmp_path, other).write_bytes(b"not the other")
    assert not subsets.intact(tmp_path, other)
    assert not subsets.intact(tmp_path, "0" * 64)


def test_a_font_file_read_once_is_known_by_its_stamp_until_it_changes(tmp_path, monkeypatch):
    from contextlib import contextmanager

    from builder import checked

    monkeypatch.setattr(checked, "SETTLED", -1.0)  # a file just written counts as settled
    monkeypatch.setattr(subsets, "_known", {})
    font, faces, reads = tmp_path / "face.ttc", tmp_path / "faces", []
    font.write_bytes(b"first face " * 500)

    @contextmanager
    def content():
        reads.append(1)
        yield memoryview(font.read_bytes())

    sha = subsets._keep(faces, content, ("A", 1, 0), lambda: font)
    assert sha == hashlib.sha256(font.read_bytes()).hexdigest()
    assert subsets.face_path(faces, sha).read_bytes() == font.read_bytes()
    assert len(reads) == 2  # hashed, then copied into the folder
    subsets._known.clear()  # another process: it knows the face by the file's stamp
    assert subsets._keep(faces, content, ("B", 1, 0), lambda: font) == sha
    assert len(reads) == 2
    font.write_bytes(b"other face " * 500)  # the file changed: it is read again
    subsets._known.clear()
    changed = subsets._keep(faces, content, ("C", 1, 0), lambda: font)
    assert changed == hashlib.sha256(font.read_bytes()).hexdigest() != sha
    assert len(reads) == 4
    for record in faces.glob("*.origin"):  # a damaged record is no answer: the file is read
        record.write_text('["not", "a record"]')
    subsets._known.clear()
    assert subsets._keep(faces, content, ("D", 1, 0), lambda: font) == changed
    assert len(reads) == 5
    subsets._known.clear()  # nor is a file that cannot be told (not mapped whole, say)
    assert subsets._keep(faces, content, ("E", 1, 0), lambda: None) == changed
    assert len(reads) == 6


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="Linux's /proc only")
def test_a_font_file_is_told_only_from_a_read_only_mapping_of_it(tmp_path):
    import mmap

    from cffi import FFI

    ffi = FFI()
    font = tmp_path / "face.ttc"
    font.write_bytes(b"x" * 3 * mmap.PAGESIZE)
    with font.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        address = int(ffi.cast("uintptr_t", ffi.from_buffer(mapped)))
        assert subsets._mapping(address, address + 1) == (address, 0, font.stat().st_ino, font)
        heap = ffi.new("char[]", 4 * mmap.PAGESIZE)
        at = int(ffi.cast("uintptr_t", heap))
        assert subsets._mapping(at, at + 1) is None


def test_without_a_folder_weasyprint_subsets_as_usual(tmp_path):
    from weasyprint import HTML
    from weasyprint.pdf import fonts

    before = fonts.Font.clean
    with subsets.deferred(None) as used:
        assert fonts.Font.clean is before
        HTML(string="<p style='font-family: Noto Sans CJK SC'>国</p>").write_pdf(
            tmp_path / "a.pdf")
    assert used == set()
    assert subsets.MARK not in (tmp_path / "a.pdf").read_bytes()


def test_while_deferred_a_font_is_a_stub_and_weasyprint_is_left_as_it_was(tmp_path):
    import pikepdf
    from weasyprint import HTML
    from weasyprint.pdf import fonts

    before = fonts.Font.clean, fonts.get_hb_object_data
    with subsets.deferred(tmp_path / "faces") as used:
        HTML(string="<p style='font-family: Noto Sans CJK SC'>国</p>").write_pdf(
            tmp_path / "a.pdf")
    assert (fonts.Font.clean, fonts.get_hb_object_data) == before
    assert "file_content" not in fonts.Font.__dict__
    (sha,) = used
    assert subsets.intact(tmp_path / "faces", sha)
    with pikepdf.open(tmp_path / "a.pdf") as pdf:
        files = [o.FontFile3 for o in pdf.objects if isinstance(o, pikepdf.Dictionary)
                 and o.get("/Type") == "/FontDescriptor"]
        named = subsets.stub(files[0].read_bytes())
        assert named is not None and named["face"] == sha and named["glyphs"]
        subsets.embed(pdf, tmp_path / "faces")
        program = [o.FontFile3 for o in pdf.objects if isinstance(o, pikepdf.Dictionary)
                   and o.get("/Type") == "/FontDescriptor"][0].read_bytes()
        pdf.save(tmp_path / "b.pdf")
    assert program[:4] == b"OTTO" and subsets.stub(program) is None
    text = subprocess.run(["pdftotext", str(tmp_path / "b.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "国" in text


def test_a_document_thrown_away_keeps_no_face_and_the_next_one_keeps_its_own(tmp_path):
    """The warm-up's document (builder.parts.warm_up) names its faces in its stubs but keeps
    none: a face the book does not use is not left in the cache; a face known so is still kept
    when a document that is kept uses it."""
    from weasyprint import HTML

    faces = tmp_path / "faces"
    with subsets.deferred(faces, keep=False) as used:
        HTML(string="<p style='font-family: Noto Sans CJK SC'>国</p>").write_pdf(
            tmp_path / "a.pdf")
    (sha,) = used
    assert not subsets.intact(faces, sha) and not list(faces.glob("*.font"))
    with subsets.deferred(faces) as again:
        HTML(string="<p style='font-family: Noto Sans CJK SC'>国</p>").write_pdf(
            tmp_path / "b.pdf")
    assert again == {sha} and subsets.intact(faces, sha)


def test_a_subset_made_once_is_kept_and_a_damaged_one_made_again(tmp_path, monkeypatch):
    import pikepdf
    from weasyprint import HTML

    from builder.memo import Memo

    with subsets.deferred(tmp_path / "faces"):
        HTML(string="<p style='font-family: Noto Sans CJK SC'>国</p>").write_pdf(
            tmp_path / "a.pdf")
    made = []
    real = subsets.subset
    monkeypatch.setattr(subsets, "subset", lambda *a: made.append(1) or real(*a))

    def embedded(kept) -> bytes:
        with pikepdf.open(tmp_path / "a.pdf") as pdf:
            subsets.embed(pdf, tmp_path / "faces", kept)
            return [o.FontFile3 for o in pdf.objects if isinstance(o, pikepdf.Dictionary)
                    and o.get("/Type") == "/FontDescriptor"][0].read_bytes()

    kept = Memo(tmp_path / "kept")
    first = embedded(kept)
    assert made == [1] and first[:4] == b"OTTO"
    assert embedded(kept) == first and made == [1]  # the same glyphs: the kept subset
    assert embedded(Memo(tmp_path / "kept", reuse=False)) == first and made == [1, 1]
    (font,) = (tmp_path / "kept").glob("*.flate")  # kept deflated, as it is embedded
    assert zlib.decompress(font.read_bytes()) == first
    font.write_bytes(zlib.compress(b"OTTO damaged"))  # a damaged entry is made again
    assert embedded(kept) == first and made == [1, 1, 1]


def test_the_fonts_subset_early_are_the_books_when_its_stubs_ask_for_the_same(tmp_path,
                                                                          monkeypatch):
    """builder.join subsets the fonts from what the parts' stubs said while it copies their
    pages (subsets.Early): what the book's stubs ask for gets those programs when it asks for
    the same subsets, and programs made anew, the book's, when it does not."""
    import pikepdf
    from weasyprint import HTML

    named: list = []
    with subsets.deferred(tmp_path / "faces", named=named):
        HTML(string="<p style='font-family: Noto Sans CJK SC'>国文</p>").write_pdf(
            tmp_path / "a.pdf")
    ((face, index, glyphs, notdef, hinting),) = named
    assert len(glyphs) == 2
    made = []
    real = subsets.subset
    monkeypatch.setattr(subsets, "subset", lambda *a: made.append(a[2]) or real(*a))
    with pikepdf.open(tmp_path / "a.pdf") as pdf:
        found = subsets.stubs(pdf, tmp_path / "faces")
    early = subsets.Early(tmp_path / "faces", None, subsets.said(named))
    assert early.programs(found) == subsets.programs(tmp_path / "faces", None, found)
    assert made == [glyphs, glyphs]  # once early, once for the comparison: not again
    fewer = subsets.Early(tmp_path / "faces", None, subsets.said(
        [[face, index, glyphs[:1], notdef, hinting]]))
    del made[:]
    assert fewer.programs(found) == subsets.programs(tmp_path / "faces", None, found)
    assert made == [glyphs[:1], glyphs, glyphs]  # the guess, then the book's (twice: compared)


def test_a_stub_whose_face_is_gone_is_an_error_not_a_broken_font(tmp_path):
    import pikepdf
    from weasyprint import HTML

    from builder.errors import OutputError

    with subsets.deferred(tmp_path / "faces") as used:
        HTML(string="<p style='font-family: Noto Sans CJK SC'>国</p>").write_pdf(
            tmp_path / "a.pdf")
    (sha,) = used
    subsets.face_path(tmp_path / "faces", sha).rename(tmp_path / "moved")
    subsets._kept.discard((tmp_path / "faces", sha))
    with pikepdf.open(tmp_path / "a.pdf") as pdf, pytest.raises(OutputError, match="font"):
        subsets.embed(pdf, tmp_path / "faces")
    with pikepdf.open(tmp_path / "a.pdf") as pdf:  # a stub cut short: an error too
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                obj.FontFile3.write(obj.FontFile3.read_bytes()[:40])
        with pytest.raises(OutputError, match="damaged"):
            subsets.embed(pdf, tmp_path / "faces")



_KEEP_ONE = """
import sys
from pathlib import Path
from weasyprint import HTML
from builder import subsets

font, faces, out = map(Path, sys.argv[1:])
with subsets.deferred(faces) as used:
    HTML(string="<p style='font-family: Noto Sans CJK SC'>国</p>").write_pdf(out)
resident, inside = 0, False
for line in Path("/proc/self/smaps").read_text().splitlines():
    head = line.split()
    if head and "-" in head[0] and ":" not in head[0]:
        inside = len(head) > 5 and head[5] == str(font)
    elif inside and head[0] == "Rss:":
        resident += int(head[1])
print(*used, resident * 1024)
"""


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="Linux's /proc only")
def test_keeping_a_face_reads_its_file_without_holding_it(tmp_path):
    import sys

    path, _ = system_face()
    found = subprocess.run([sys.executable, "-c", _KEEP_ONE, str(path), str(tmp_path / "faces"),
                            str(tmp_path / "a.pdf")], capture_output=True, text=True,
                           check=True, cwd=Path(__file__).parent.parent).stdout.split()
    sha, resident = found[0], int(found[1])
    # the face was read whole: it is named by the hash of all its bytes, and kept whole
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    assert subsets.face_path(tmp_path / "faces", sha).stat().st_size == path.stat().st_size
    # and the next process knows the face by its file's stamp, without reading it again
    records = [json.loads(p.read_text()) for p in (tmp_path / "faces").glob("*.origin")]
    assert [r[:2] for r in records] == [[str(path), sha]]
    # and the process does not go on holding the pages it read (20 MB and more of a CJK file)
    assert resident < path.stat().st_size / 4
