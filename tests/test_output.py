"""How outputs land (builder.output): each swapped with the file it replaces, and the staging
folder, with the replaced files, removed — past a size, without the build waiting for it."""

from __future__ import annotations

import os
import sys
import time

import pytest

from builder import output
from builder.errors import OutputError
from builder.output import STAGING_PREFIX, staged

linux = pytest.mark.skipif(not sys.platform.startswith("linux") or output._exchange() is None,
                           reason="renameat2 is Linux's")


def stagings(out):
    return sorted(p.name for p in out.iterdir() if p.name.startswith(STAGING_PREFIX))


def gone(path, seconds=10.0) -> bool:
    deadline = time.monotonic() + seconds
    while path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@linux
def test_an_output_is_swapped_with_the_file_it_replaces(tmp_path):
    new, target = tmp_path / "new.pdf", tmp_path / "book.pdf"
    new.write_bytes(b"new")
    target.write_bytes(b"old")
    inode = new.stat().st_ino
    output._land(new, target)
    assert target.read_bytes() == b"new" and target.stat().st_ino == inode
    assert new.read_bytes() == b"old"  # left where the new one was, to be removed with it


def test_an_output_with_nothing_to_replace_is_moved(tmp_path):
    new, target = tmp_path / "new.pdf", tmp_path / "book.pdf"
    new.write_bytes(b"new")
    output._land(new, target)
    assert target.read_bytes() == b"new" and not new.exists()


def test_a_folder_in_the_way_is_neither_swapped_nor_lost(tmp_path):
    out = tmp_path / "out"
    (out / "book.pdf").mkdir(parents=True)
    (out / "book.pdf" / "mine.txt").write_text("mine")
    with pytest.raises(OutputError, match="book.pdf"):
        with staged(out) as tmp:
            (tmp / "book.pdf").write_bytes(b"new")
    assert (out / "book.pdf" / "mine.txt").read_text() == "mine"
    assert stagings(out) == []


def test_a_small_staging_folder_is_removed_before_the_build_returns(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "book.epub").write_bytes(b"old")
    with staged(out) as tmp:
        (tmp / "book.epub").write_bytes(b"new")
        (tmp / "book.pdf").write_bytes(b"pdf")
    assert stagings(out) == []
    assert sorted(p.name for p in out.iterdir()) == ["book.epub", "book.pdf"]
    assert (out / "book.epub").read_bytes() == b"new"


def test_a_large_staging_folder_is_removed_without_waiting(tmp_path, monkeypatch):
    monkeypatch.setattr(output, "BACKGROUND_BYTES", 1000)

    def here(*args, **kwargs):
        raise AssertionError("removed by the build itself")

    monkeypatch.setattr(output.shutil, "rmtree", here)
    out = tmp_path / "out"
    out.mkdir()
    (out / "book.pdf").write_bytes(b"o" * 5000)
    old = os.stat(out / "book.pdf")
    with staged(out) as tmp:
        (tmp / "book.pdf").write_bytes(b"n" * 3000)
        (tmp / "book.epub").write_bytes(b"e" * 3000)
    assert (out / "book.pdf").read_bytes() == b"n" * 3000  # landed before it returned
    assert gone(tmp), "the staging folder was not removed"
    assert sorted(p.name for p in out.iterdir()) == ["book.epub", "book.pdf"]
    assert os.stat(out / "book.pdf").st_ino != old.st_ino


def test_without_a_shell_a_large_folder_is_removed_here(tmp_path, monkeypatch):
    monkeypatch.setattr(output, "BACKGROUND_BYTES", 10)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    out = tmp_path / "out"
    with staged(out) as tmp:
        (tmp / "book.pdf").write_bytes(b"n" * 3000)
    assert not tmp.exists() and stagings(out) == []
