"""Atomic output: everything is written into a temporary folder inside the output folder and
moved into place only when the whole build succeeded, so that a failed or interrupted build
leaves the previous outputs as they were.

The output folder is created only when the build gets to write (and removed again, with the
parents it needed, when the build fails before anything landed in it). A staging folder is
named after the process that made it (``.builder-tmp-<pid>-…``): a build that starts removes
those an earlier build left when it was killed — their process gone and the folder a minute
old, or any such folder a day old — and nothing else.

An output lands by swapping it with the file it replaces (Linux's ``renameat2`` with
``RENAME_EXCHANGE``; elsewhere, or where there is nothing to replace, ``os.replace``): in one
step, as a rename, but without what ext4 does on a rename over a file, which is to start
writing the new file out and wait while its blocks are allocated (some 45 ms for a 95 MB PDF).
The replaced files are then in the staging folder, with the scratch the build no longer needs;
freeing a large file's blocks takes a while too (some 25 ms for 95 MB on a disk that discards
them), which the user need not wait for: a landed folder past :data:`BACKGROUND_BYTES` is
removed by ``rm`` in a session of its own, which the build does not wait for (were it killed,
the next build sweeps what it left).

A write that fails (a full disk, an I/O error) is an :class:`~builder.errors.OutputError`
naming the output it was for.
"""

from __future__ import annotations

import errno
import functools
import io
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError
from .signals import shielded

STAGING_PREFIX = ".builder-tmp-"
_STAGING = re.compile(rf"^{re.escape(STAGING_PREFIX)}(?:(\d+)-)?[\w-]+$")
#: A staging folder whose process is gone is left alone this long (its build may be ending).
ORPHAN_AGE_S = 60
#: Any staging folder this old is an orphan, whatever process has its number now.
STALE_AGE_S = 24 * 3600
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
MB = 1_000_000
#: A landed build's staging folder holding more than this is removed without waiting for it.
BACKGROUND_BYTES = 32 * MB
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


@contextmanager
def staged(out_dir: Path, needs: int = 0):
    """A temporary folder inside ``out_dir`` whose files replace those of ``out_dir`` only when
    the block ends without an error; otherwise ``out_dir`` stays as it was. ``needs``: about
    how many bytes the outputs take, for the message when the disk is full."""
    created = _missing(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out_dir))
    except OSError as exc:
        _remove_empty(created)
        raise OutputError(f"cannot write to the output folder: {exc.strerror or exc}",
                          str(out_dir)) from None
    landed = False
    try:
        try:
            yield tmp
            with shielded():  # all of the outputs land, or (before the first) none
                for path in sorted(tmp.iterdir()):
                    _land(path, out_dir / path.name)
                    landed = True
        except OSError as exc:
            raise write_error(exc, out_dir, tmp, needs) from None
    finally:
        if landed:
            remove_later(tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            _remove_empty(created)


def _land(path: Path, target: Path) -> None:
    """``path`` moved to ``target``, in one step: swapped with the regular file there, if any
    (which is left at ``path``), else as ``os.replace`` does."""
    exchange = _exchange()
    try:
        regular = exchange is not None and stat.S_ISREG(target.lstat().st_mode)
    except OSError:
        regular = False
    if regular and exchange(_AT_FDCWD, os.fsencode(path), _AT_FDCWD, os.fsencode(target),
                            _RENAME_EXCHANGE) == 0:
        return
    os.replace(path, target)  # (also where the swap failed: this says why, if it fails too)


@functools.cache
def _exchange():
    """The C library's ``renameat2``, where there is one."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    call.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                     ctypes.c_uint)
    call.restype = ctypes.c_int
    return call


def remove_later(folder: Path) -> None:
    """Remove ``folder``, a staging folder whose outputs have landed: past
    :data:`BACKGROUND_BYTES`, by ``rm`` in a session of its own that this process does not wait
    for (nor has to reap: the shell that starts it ends at once); else, or without a shell,
    here."""
    try:
        size = sum(entry.stat(follow_symlinks=False).st_size for entry in os.scandir(folder))
    except OSError:
        size = 0
    if size > BACKGROUND_BYTES:
        try:
            subprocess.run(["sh", "-c", 'rm -rf -- "$0" </dev/null >/dev/null 2>&1 &',
                            str(folder)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True, check=True,
                           timeout=10)
            return
        except (OSError, subprocess.SubprocessError):
            pass
    shutil.rmtree(folder, ignore_errors=True)


def check_writable(out_dir: Path) -> None:
    """Before any work: the output folder (or the folder it will be made in) can be
    written."""
    missing = _missing(out_dir)
    folder = missing[-1].parent if missing else out_dir
    if not folder.is_dir():
        raise OutputError(f"{folder} is a file, not a folder: give --out a folder",
                          str(out_dir))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError("cannot write to the output folder: permission denied (or a "
                          "read-only file system)", str(out_dir))


@contextmanager
def writing(path: Path):
    """Around the making of the output ``path``: a failed write in it is said to be for
    ``path``, wherever the bytes were going (a part of the PDF, a scratch file)."""
    try:
        yield path
    except OSError as exc:
        if not hasattr(exc, "builder_output"):
            exc.builder_output = path
        raise


def write_error(exc: OSError, out_dir: Path, tmp: Path, needs: int) -> OutputError:
    """The user's error for a write into ``tmp`` that failed: the output it was for, why,
    and for a full disk about how much room the build needs."""
    output = getattr(exc, "builder_output", None)
    name = output.name if isinstance(output, Path) else \
        Path(exc.filename).name if isinstance(exc.filename, str) and \
        Path(exc.filename).parent == tmp else _newest(tmp)
    target = out_dir / name if name else out_dir
    reason = (exc.strerror or str(exc)).lower()
    if isinstance(exc.filename, str) and output is None and Path(exc.filename).parent != tmp:
        reason += f": {exc.filename}"  # not a write: what could not be read
    if exc.errno in _FULL:
        reason = "no space left on device"
        if needs:
            reason += f" (needs about {max(1, round(needs / MB))} MB)"
    return OutputError(f"cannot write {target}: {reason}")


def _newest(folder: Path) -> str | None:
    """The name of the file last written in ``folder``: the one a failed write was for."""
    try:
        files = [(p.stat().st_mtime_ns, p.name) for p in folder.iterdir() if p.is_file()]
    except OSError:
        return None
    return max(files)[1] if files else None


def sweep(out_dir: Path) -> list[Path]:
    """Remove the staging folders that earlier builds, killed, left in ``out_dir``; return
    them."""
    removed = []
    now = time.time()
    try:
        entries = list(out_dir.iterdir())
    except OSError:
        return removed
    for path in entries:
        m = _STAGING.match(path.name)
        if not m or not path.is_dir() or path.is_symlink():
            continue
        try:
            age = now - path.stat().st_mtime
        except OSError:
            continue
        pid = int(m.group(1)) if m.group(1) else None
        orphan = age > STALE_AGE_S or (age > ORPHAN_AGE_S and (pid is None or not _alive(pid)))
        if orphan and pid != os.getpid():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True


def _missing(path: Path) -> list[Path]:
    """The folders ``path.mkdir(parents=True)`` would create, deepest first."""
    out = []
    while not path.exists() and path != path.parent:
        out.append(path)
        path = path.parent
    return out


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


class _Sink(io.RawIOBase):
    """A file that takes every write and keeps the first error for later (see :func:`sink`)."""

    def __init__(self, fh):
        super().__init__()
        self.fh, self.error = fh, None

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.fh.seek(offset, whence)

    def tell(self) -> int:
        return self.fh.tell()

    def write(self, data) -> int:
        if self.error is None:
            try:
                self.fh.write(data)
            except OSError as exc:
                self.error = exc
        return len(data)

    def flush(self) -> None:
        if self.error is None:
            try:
                self.fh.flush()
            except OSError as exc:
                self.error = exc


@contextmanager
def sink(path: Path):
    """A file to write ``path`` through for a C++ writer (qpdf, through pikepdf): a write that
    fails (a full disk) does not fail inside it — qpdf can abort the whole process when an
    error reaches it at the wrong moment — but is raised here, as the OSError it was, once the
    writer is done."""
    with path.open("wb") as fh:
        out = _Sink(fh)
        yield out
        out.flush()
    if out.error is not None:
        raise out.error
