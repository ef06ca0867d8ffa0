"""What fontconfig knows of the installed fonts: the one place that asks it."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache


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
