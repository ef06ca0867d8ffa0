"""A kept file is hashed once, then known by its stamp until it changes in any way."""

from __future__ import annotations

import hashlib
import os

import pytest

from builder import checked


@pytest.fixture
def settled(monkeypatch):
    """Files count as settled at once (in a build they must be SETTLED seconds old)."""
    monkeypatch.setattr(checked, "SETTLED", -1.0)


def _file(tmp_path, data=b"photo bytes " * 1000):
    path = tmp_path / "object"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def test_a_file_checked_once_is_not_read_again(tmp_path, settled, monkeypatch):
    path, sha = _file(tmp_path)
    assert checked.check(path, sha)
    assert checked.stamp_path(path).is_file()
    monkeypatch.setattr(checked, "sha256", lambda p: pytest.fail("read again"))
    assert checked.check(path, sha)
    assert checked.stamped(path, sha) is not None


def test_a_changed_file_is_read_again_even_with_its_times_put_back(tmp_path, settled):
    path, sha = _file(tmp_path)
    assert checked.check(path, sha)
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF  # same length, other bytes, the same modification time
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_mtime_ns == st.st_mtime_ns
    assert checked.stamped(path, sha) is None  # its change time moved
    assert not checked.check(path, sha)


def test_a_file_replaced_by_another_is_read_again(tmp_path, settled):
    path, sha = _file(tmp_path)
    assert checked.check(path, sha)
    other = tmp_path / "other"
    other.write_bytes(b"x" * path.stat().st_size)
    os.replace(other, path)
    assert not checked.check(path, sha)


def test_a_wrong_file_gets_no_stamp(tmp_path, settled):
    path, _ = _file(tmp_path)
    assert not checked.check(path, "0" * 64)
    assert not checked.stamp_path(path).exists()
    assert not checked.check(tmp_path / "gone", "0" * 64)


def test_a_file_changed_just_now_is_not_stamped(tmp_path):
    path, sha = _file(tmp_path)
    assert checked.check(path, sha)  # sound, but changed within the time resolution's reach
    assert not checked.stamp_path(path).exists()


def test_a_stamp_for_another_hash_or_a_damaged_stamp_is_no_stamp(tmp_path, settled):
    path, sha = _file(tmp_path)
    assert checked.check(path, sha)
    assert checked.stamped(path, "f" * 64) is None
    checked.stamp_path(path).write_text("{not json", encoding="utf-8")
    assert checked.stamped(path, sha) is None
    assert checked.check(path, sha)  # read and stamped again
    assert checked.stamped(path, sha) is not None


def test_a_stamp_that_cannot_be_written_only_costs_a_read(tmp_path, settled):
    path, sha = _file(tmp_path)
    checked.stamp_path(path).mkdir()  # where the stamp goes, a folder: it cannot be written
    assert checked.check(path, sha)
    assert checked.stamped(path, sha) is None
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


def test_a_file_the_build_wrote_is_stamped_at_once_without_being_read(tmp_path, monkeypatch):
    """No wait for it to settle: its bytes are known. Stamped as it is once its other name is
    gone; changed after that, it is read again."""
    scratch, sha = _file(tmp_path)
    kept = tmp_path / "kept"
    os.link(scratch, kept)  # the kept entry: a second name of the scratch copy
    checked.written(kept, sha)
    checked.written(None, sha)  # nothing kept: nothing to stamp
    checked.written(tmp_path / "gone", sha)  # removed since: skipped
    scratch.unlink()  # which moves the kept file's change time
    monkeypatch.setattr(checked, "sha256", lambda p: pytest.fail("read"))
    checked.stamp_written()
    assert not checked.stamp_path(tmp_path / "gone").exists()
    assert checked.stamped(kept, sha) is not None
    assert checked.check(kept, sha)
    checked.stamp_written()  # noted once, stamped once
    data = bytearray(kept.read_bytes())
    data[0] ^= 0xFF
    kept.write_bytes(bytes(data))
    assert checked.stamped(kept, sha) is None

