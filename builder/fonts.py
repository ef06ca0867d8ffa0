"""What fontconfig knows of the installed fonts: the one place that asks it."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

#: Where fontconfig looks for fonts on a Debian-like system and for the user.
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")


@cache
def fingerprint() -> str:
    """What changes when a font is installed or removed: every folder under the font folders,
    with its modification time (adding or removing a file changes its folder's), and
    ``FONTCONFIG_FILE``. Cheap: no font is read."""
    parts = [os.environ.get("FONTCONFIG_FILE", "")]
    for top in FONT_DIRS:
        for folder, dirs, _ in os.walk(Path(top).expanduser()):
            dirs.sort()
            try:
                parts.append(f"{folder}\0{os.stat(folder).st_mtime_ns}")
            except OSError:
                continue
    return "\n".join(parts)


@cache
def families(lang: str = "") -> tuple[str, ...]:
    """The font families installed (covering ``lang``, e.g. ``zh``, when given), sorted;
    empty when fontconfig is not installed."""
    if not shutil.which("fc-list"):
        return ()
    pattern = f":lang={lang}" if lang else ":"
    out = subprocess.run(["fc-list", pattern, "family"], capture_output=True, text=True,
                         check=False).stdout
    names = set()
    for line in out.splitlines():
        names.update(name.strip() for name in line.split(",") if name.strip())
    return tuple(sorted(names))


def cjk_families() -> tuple[str, ...]:
    """The installed families that cover Chinese."""
    return families("zh")


def installed(family: str) -> bool:
    """Whether fontconfig has a font of ``family`` (any of the names it goes by)."""
    return family.strip().lower() in {name.lower() for name in families()}


@cache
def font_file(pattern: str) -> tuple[str, int] | None:
    """The font file and face index fontconfig picks for ``pattern`` (``Family:bold``)."""
    if not shutil.which("fc-match"):
        return None
    out = subprocess.run(["fc-match", "-f", "%{file}\n%{index}", pattern], capture_output=True,
                         text=True, check=False).stdout.split("\n")
    return (out[0], int(out[1] or 0)) if len(out) == 2 and out[0] else None
