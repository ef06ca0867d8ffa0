"""A book the CLI built in a test, and what the tests read of it: the report, the output
files, the EPUB's entries and package document."""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

SUFFIXES = {"epub": ".epub", "pdf": ".pdf", "booklet": "-booklet.pdf", "report": ".report.json"}


@dataclass
class BuiltBook:
    name: str
    src: Path
    out: Path
    result: subprocess.CompletedProcess
    epubcheck: tuple[bool, list[str]] | None = None

    def path(self, kind: str) -> Path:
        return self.out / f"{self.name}{SUFFIXES[kind]}"

    @property
    def report_path(self) -> Path:
        return self.path("report")

    @property
    def report(self) -> dict:
        return json.loads(self.report_path.read_text("utf-8"))

    def files(self) -> dict[str, bytes]:
        """Every entry of the EPUB, by name."""
        with zipfile.ZipFile(self.path("epub")) as z:
            return {n: z.read(n) for n in z.namelist()}

    def opf(self) -> etree._Element:
        return etree.fromstring(self.files()["EPUB/content.opf"])


def checked(book: BuiltBook, epubcheck: bool) -> BuiltBook:
    """``book``, with EPUBCheck's verdict on its EPUB when ``epubcheck`` and the build passed."""
    if epubcheck and book.result.returncode == 0:
        from builder.check import run_epubcheck

        book.epubcheck = run_epubcheck(book.path("epub"))
    return book


class Books:
    """Books built in the background, by name; ``check`` runs on each when it is taken."""

    def __init__(self, futures: dict[str, Future], check: Callable | None = None):
        self.futures = futures
        self.check = check

    def __getitem__(self, name: str):
        book = self.futures[name].result()
        if self.check is not None:
            self.check(book)
        return book
