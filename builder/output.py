"""Atomic output: everything is written into a temporary folder inside the output folder and
moved into place only when the whole build succeeded, so that a failed or interrupted build
leaves the previous outputs as they were."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError

STAGING_PREFIX = ".builder-tmp-"


@contextmanager
def staged(out_dir: Path):
    """A temporary folder inside ``out_dir`` whose files replace those of ``out_dir`` only when
    the block ends without an error; otherwise ``out_dir`` stays as it was."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder: {exc.strerror or exc}",
                          str(out_dir)) from None
    try:
        yield tmp
        for path in sorted(tmp.iterdir()):
            os.replace(path, out_dir / path.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
