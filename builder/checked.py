"""A kept file checked against its SHA-256 once, not read again at every build.

When a file of a cache (a photo, a part of the PDF, a font face) has been read and found to
be what its record says, a stamp beside it (``FILE.checked``) records that SHA-256 with the
file's size, modification and change times, inode and device. While all of them are the same,
the file is taken as checked without reading it: any write to a file sets its change time, which
no program can set back, so a file damaged since is read again, found wrong and made again.
A stamp is written only for a file last changed more than :data:`SETTLED` seconds before, so that
a change within the file system's time resolution cannot hide behind it (git's index does the
same). A stamp that cannot be written only costs the next build a read.

A file the build has written itself (a part of the PDF) is stamped without that wait and
without a read (:func:`written`, :func:`stamp_written`): its bytes are those the build hashed
in the private copy it wrote them to, which the kept file is a second name of (or a copy
of), and the cache's writers replace a file, never write into one. It is stamped when the
build no longer changes it (its other name removed, which sets its change time too), so that
the next build does not read what this one wrote (some 65 ms for a 95 MB book's parts).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

#: How long ago a file must have changed for its stamp to be trusted (s).
SETTLED = 2.0
SUFFIX = ".checked"


def sha256(path: Path) -> str:
    """The SHA-256 of the file at ``path``, read in blocks."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def facts(st: os.stat_result) -> list[int]:
    """What a stamp records of a file's status."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def stamp_path(path: Path) -> Path:
    return path.with_name(path.name + SUFFIX)


def stamped(path: Path, sha: str) -> os.stat_result | None:
    """The file's status when its stamp says it was checked as ``sha`` and it has not changed
    since; None otherwise."""
    try:
        st = path.stat()
        stamp = json.loads(stamp_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return st if stamp == [sha, *facts(st)] else None


def settled(st: os.stat_result) -> bool:
    """Whether the file of status ``st`` last changed long enough ago (:data:`SETTLED`) for a
    stamp of it to be trusted."""
    return time.time() - st.st_ctime >= SETTLED


def stamp(path: Path, sha: str, st: os.stat_result) -> None:
    """Record that ``path``, whose status was ``st`` before it was read, was found to be
    ``sha`` (not for a file changed in the last :data:`SETTLED` seconds)."""
    if settled(st):
        _put_stamp(path, sha, st)


_written: dict[Path, str] = {}  # the files this process wrote, to be stamped: SHA-256 by path


def written(path: Path | None, sha: str) -> None:
    """Note that this process has written ``path`` with the bytes of ``sha`` (hashed as they
    were written), to be stamped by :func:`stamp_written` (None: nothing was written)."""
    if path is not None:
        _written[path] = sha


def stamp_written() -> None:
    """Stamp the files noted by :func:`written` as they are now, without reading them: to be
    called once nothing more is done to them (not even removing another name of theirs)."""
    while _written:
        path, sha = _written.popitem()
        try:
            st = path.stat()
        except OSError:
            continue
        _put_stamp(path, sha, st)


def _put_stamp(path: Path, sha: str, st: os.stat_result) -> None:
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump([sha, *facts(st)], fh)
        os.replace(tmp, stamp_path(path))
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def check(path: Path, sha: str) -> bool:
    """Whether the file at ``path`` holds the bytes of ``sha``: by its stamp, or read, hashed
    and then stamped."""
    if stamped(path, sha) is not None:
        return True
    try:
        st = path.stat()
        if sha256(path) != sha:
            return False
    except OSError:
        return False
    stamp(path, sha, st)
    return True
