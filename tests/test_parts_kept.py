"""Kept parts of the PDF (builder.parts._Writer): found in the memo, their files checked against
their SHA-256, and a damaged or missing one not used."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

from builder.memo import Memo
from builder.model import BookMeta, PrintRendition
from builder.parts import Part, _Writer

PDF = b"%PDF-1.7\n" + b"x" * 4000 + b"\n%%EOF\n"


def writer(tmp_path) -> _Writer:
    when = dt.datetime(2022, 8, 31, tzinfo=dt.UTC)
    meta = BookMeta("urn:uuid:0", "t", "zh", "", "", when, "2022-08-31", "", (), (), when)
    rendition = PrintRendition(meta, "<html><body></body></html>", {}, {}, "", "", "")
    (tmp_path / "scratch").mkdir()
    return _Writer(rendition, Memo(tmp_path / "memo"), tmp_path / "scratch",
                   lambda kind, kept: None, None)


def keep(w: _Writer, html: str, data: bytes = PDF):
    job = w.job(_part(html), 0, {})
    source = w.scratch / f"{job.key}.pdf"
    source.write_bytes(data)
    w.kept.put_copy(job.key, ".pdf", source)
    w.kept.put_record(job.key, {"pages": 3, "boxes": {}, "refused": [], "placed": [],
                                "sha256": hashlib.sha256(PDF).hexdigest(), "faces": [], "stubs": [],
                                "frames": [[False, "", 13, 12, 15, 17, 148, 210]] * 3})
    return job


def _part(html: str) -> Part:
    return Part(f"<!DOCTYPE html><html><body>{html}</body></html>", ("a1",), frozenset())


def test_a_kept_part_is_checked_and_found(tmp_path):
    w = writer(tmp_path)
    job = keep(w, "<p>一</p>")
    laid = w.found(job)
    assert laid is not None and laid.pages == 3 and laid.path.read_bytes() == PDF


def test_a_damaged_or_missing_kept_part_is_not_used(tmp_path):
    w = writer(tmp_path)
    sound = keep(w, "<p>一</p>")
    damaged = keep(w, "<p>二</p>", PDF.replace(b"x", b"y", 1))
    missing = w.job(_part("<p>三</p>"), 0, {})
    assert w.found(missing) is None
    assert w.found(sound) is not None
    assert w.found(damaged) is None


def test_a_part_has_a_lead_page_after_an_odd_count_and_none_after_an_even_one(tmp_path):
    """Its last lead page on the side of the book's page before it: after an even count the
    part's first page is a right-hand one, as its document's first page is, and needs none
    — unless a stylesheet styles a document's first page: then two."""
    from builder.parts import first_page_styled

    w = writer(tmp_path)
    assert [w.job(_part("<p>一</p>"), after, {}).lead for after in (0, 3, 4)] == [0, 1, 0]
    assert not first_page_styled({"print.css": "@page :left { margin: 1mm }"})
    for css in ("@page :first { margin: 1mm }", "@page cover:first{}", "@page :nth(1) {}",
                "@page\n:FIRST { }"):
        assert first_page_styled({"print.css": css}), css
    assert not first_page_styled({"print.css": "/* @page :first {} */ p:first-child {}"})
    styled = _Writer(replace(w.rendition, stylesheets={"print.css": "@page :first {}"}),
                     w.kept, w.scratch, lambda kind, kept: None, None)
    assert [styled.job(_part("<p>一</p>"), after, {}).lead for after in (0, 3, 4)] == [0, 1, 2]
