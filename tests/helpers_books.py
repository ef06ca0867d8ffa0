"""A book the CLI built in a test, and what the tests read of it: the report, the output
files, the EPUB's entries and package document."""

from __future__ import annotations

import json
import subprocess
import zipfile
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
