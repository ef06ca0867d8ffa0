"""The peers the builder is measured against, on the same inputs.

A minimal pre-step (:func:`write_html`) turns the articles into one HTML file, an ``<h1>`` per
article followed by its body as scraped, with every ``<img>`` pointing at the local file of
its photo; then each peer is a command line:

- ``pandoc-epub``: pandoc HTML → EPUB3;
- ``pandoc-pdf``: pandoc HTML → PDF with ``--pdf-engine=weasyprint``;
- ``weasyprint``: bare WeasyPrint (the venv's ``weasyprint`` command) on the HTML with only
  ``img{max-width:100%}`` and the builder's page size (A5) as style;
- ``calibre-epub`` / ``calibre-pdf``: calibre's ``ebook-convert``.

A peer whose program is not installed is skipped, with the reason.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import frontmatter

MINIMAL_CSS = "@page { size: A5; } img { max-width: 100%; }"


def write_html(root: Path, manifest: dict, title: str, out: Path, css: str = MINIMAL_CSS) -> Path:
    """One HTML of all articles under ``root/articles`` (file-name order, which is date order in
    the corpus), images pointing at the files of ``manifest`` by absolute path, written to
    ``out``."""
    local = {i["url"]: str((root / i["path"]).resolve()) for i in manifest["images"]}
    parts = []
    for path in sorted((root / "articles").glob("*.txt")):
        post = frontmatter.loads(path.read_text(encoding="utf-8"))

        def img(m: re.Match) -> str:
            url = re.search(r'data-original="([^"]+)"', m.group(0))
            src = local.get(url.group(1)) if url else None
            return f'<img src="{html.escape(src)}" alt="">' if src else ""

        body = re.sub(r"<img\b[^>]*>", img, post.content)
        parts.append(f"<h1>{html.escape(str(post.get('title', path.stem)))}</h1>\n{body}\n")
    doc = ("<!DOCTYPE html>\n<html lang=\"zh\">\n<head>\n<meta charset=\"utf-8\">\n"
           f"<title>{html.escape(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n"
           + "\n".join(parts) + "</body>\n</html>\n")
    out.write_text(doc, encoding="utf-8")
    return out


def venv_bin(name: str) -> str | None:
    """``name`` from the running interpreter's bin folder, else from PATH."""
    import sys

    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.is_file() else shutil.which(name)


def version(cmd: list[str]) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0] if out.strip() else None


def peers(html_file: Path, out_dir: Path, title: str) -> dict[str, dict]:
    """Each peer: ``{"kind": "epub"|"pdf", "cmd": [...], "output": Path}`` or
    ``{"kind": ..., "skipped": reason}``."""
    pandoc = shutil.which("pandoc")
    weasy = venv_bin("weasyprint")
    calibre = shutil.which("ebook-convert")
    meta = ["--metadata", f"title={title}", "--metadata", "lang=zh"]
    found: dict[str, dict] = {}
    if pandoc:
        found["pandoc-epub"] = {"kind": "epub", "output": out_dir / "pandoc.epub",
                                "cmd": [pandoc, "-f", "html", "-t", "epub3", *meta,
                                        "--resource-path", str(html_file.parent),
                                        "-o", str(out_dir / "pandoc.epub"), str(html_file)]}
        if weasy:
            found["pandoc-pdf"] = {"kind": "pdf", "output": out_dir / "pandoc.pdf",
                                   "cmd": [pandoc, "-f", "html", *meta,
                                           "--pdf-engine", weasy,
                                           "--resource-path", str(html_file.parent),
                                           "-o", str(out_dir / "pandoc.pdf"), str(html_file)]}
        else:
            found["pandoc-pdf"] = {"kind": "pdf", "skipped": "weasyprint not installed"}
    else:
        reason = "pandoc not installed (apt-get install pandoc)"
        found["pandoc-epub"] = {"kind": "epub", "skipped": reason}
        found["pandoc-pdf"] = {"kind": "pdf", "skipped": reason}
    if weasy:
        found["weasyprint"] = {"kind": "pdf", "output": out_dir / "weasyprint.pdf",
                               "cmd": [weasy, "--base-url", str(html_file.parent) + "/",
                                       str(html_file), str(out_dir / "weasyprint.pdf")]}
    else:
        found["weasyprint"] = {"kind": "pdf", "skipped": "weasyprint not installed"}
    if calibre:
        found["calibre-epub"] = {"kind": "epub", "output": out_dir / "calibre.epub",
                                 "cmd": [calibre, str(html_file), str(out_dir / "calibre.epub"),
                                         "--title", title, "--language", "zh"]}
        found["calibre-pdf"] = {"kind": "pdf", "output": out_dir / "calibre.pdf",
                                "cmd": [calibre, str(html_file), str(out_dir / "calibre.pdf"),
                                        "--title", title, "--paper-size", "a5"]}
    else:
        reason = "calibre not installed (ebook-convert not found)"
        found["calibre-epub"] = {"kind": "epub", "skipped": reason}
        found["calibre-pdf"] = {"kind": "pdf", "skipped": reason}
    return found


def versions() -> dict[str, str | None]:
    pandoc = shutil.which("pandoc")
    weasy = venv_bin("weasyprint")
    calibre = shutil.which("ebook-convert")
    return {"pandoc": version([pandoc, "--version"]) if pandoc else None,
            "weasyprint": version([weasy, "--version"]) if weasy else None,
            "calibre": version([calibre, "--version"]) if calibre else None}
