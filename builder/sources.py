"""Which files are the articles of a book: the suffixes, the size limit, the search of folders.

Kept apart from :mod:`builder.load` (which parses them) so that the up-to-date check finds the
articles without importing the parsers.
"""

from __future__ import annotations

from pathlib import Path

from .errors import SourceError

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
MARKDOWN_SUFFIXES = (".md", ".markdown")
MAX_FILE_BYTES = 20_000_000


def find_sources(paths: list[Path]) -> list[Path]:
    """The article files named by ``paths`` (files, or folders searched one level deep)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir()
                            if p.is_file() and p.suffix.lower() in SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            raise SourceError("no such file or folder", str(path))
    if not found:
        raise SourceError(f"no articles found (looked for {', '.join(SUFFIXES)})",
                          ", ".join(str(p) for p in paths))
    return found
