"""The CLI contract: exit codes, one-line errors, hostile titles, the installed theme."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT, run_cli

ARTICLE = """---
title: {title}
date: {date}
author: 记者
---
<p>正文{n}。</p>
<p><img src="images/p{n}.png" alt="图片"></p>
<p>↑ 图片说明{n}</p>
"""


def write_article(folder: Path, n: int, title: str, date: str = "2022-08-01") -> Path:
    from PIL import Image

    (folder / "images").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (300, 200), (n * 40 % 256, 90, 120)).save(folder / "images" / f"p{n}.png")
    path = folder / f"a{n}.txt"
    path.write_text(ARTICLE.format(title=title, date=date, n=n), encoding="utf-8")
    return path


def test_version_and_help():
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("builder ")
    helptext = run_cli("build", "--help")
    assert helptext.returncode == 0
    for flag in ("--out", "--name", "--title", "--format", "--config", "--theme", "--cache-dir",
                 "--offline", "--strict", "--rewrite", "--allow-host"):
        assert flag in helptext.stdout


def test_usage_errors_exit_2(tmp_path):
    assert run_cli("build", "--format", "mobi").returncode == 2
    assert run_cli("build", "--no-such-flag").returncode == 2
    assert run_cli().returncode == 2
    bad_size = run_cli("build", "--page-size", "B99", "--out", tmp_path)
    assert bad_size.returncode == 2 and "page size" in bad_size.stderr


def test_bad_front_matter_is_one_line_naming_file_and_line(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "x.txt").write_text("---\ntitle: ok\ndate: [unclosed\n---\n<p>t</p>\n", "utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.pdf").write_bytes(b"old")
    result = run_cli("build", src, "--out", out, "--offline", "--cache-dir", tmp_path / "c")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert f"{src / 'x.txt'}:" in lines[0] and "invalid front matter" in lines[0]
    assert [p.name for p in out.iterdir()] == ["old.pdf"]


def test_missing_paths_and_bad_config_are_one_line_errors(tmp_path):
    missing = run_cli("build", tmp_path / "nope", "--out", tmp_path / "o")
    assert missing.returncode == 1 and "no such file or folder" in missing.stderr
    src = tmp_path / "src"
    src.mkdir()
    write_article(src, 1, "一")
    (src / "book.toml").write_text("[book]\ntitel = 'x'\n", "utf-8")
    bad = run_cli("build", src, "--out", tmp_path / "o", "--offline")
    assert bad.returncode == 1
    assert "book.toml" in bad.stderr and "book.titel" in bad.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_hostile_titles_are_text_everywhere_and_write_nothing_outside_out(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_article(src, 1, "'{{ 7*7 }} <b>bold</b>'", "2022-08-02")
    write_article(src, 2, "'../../etc/x'", "2022-08-01")
    out = tmp_path / "deep" / "out"
    result = run_cli("build", src, "--out", out, "--title", "../../etc/x", "--cache-dir",
                     tmp_path / "c", "--format", "epub", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 fatals / 0 errors / 0 warnings" in result.stdout
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")
                     if p.is_file() and "c" != p.relative_to(tmp_path).parts[0]
                     and p.relative_to(tmp_path).parts[0] != "src")
    assert written == [Path("deep/out/.builder-state.json"), Path("deep/out/etc-x.epub"),
                       Path("deep/out/etc-x.report.json")]
    with zipfile.ZipFile(out / "etc-x.epub") as z:
        ch1 = z.read("EPUB/chapter-001.xhtml").decode()
        ch2 = z.read("EPUB/chapter-002.xhtml").decode()
        opf = z.read("EPUB/content.opf").decode()
    # In date order: a2 (08-01) first. The titles are shown literally and escaped.
    assert "../../etc/x" in ch1
    assert "{{ 7*7 }} &lt;b&gt;bold&lt;/b&gt;" in ch2 and "49" not in ch2
    assert "<b>" not in ch2
    assert "<dc:title>../../etc/x</dc:title>" in opf


def test_anthology_order_from_config(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for n, date in ((1, "2022-01-03"), (2, "2022-01-01"), (3, "2022-01-02")):
        write_article(src, n, f"第{n}篇", date)
    (src / "book.toml").write_text('[book]\ntitle = "合集"\norder = ["a3.txt"]\n', "utf-8")
    out = tmp_path / "out"
    result = run_cli("build", src, "--out", out, "--cache-dir", tmp_path / "c",
                     "--format", "epub", "--name", "anthology")
    assert result.returncode == 0, result.stderr
    check = run_cli("check", out / "anthology.epub")
    assert check.returncode == 0, check.stdout
    report = json.loads((out / "anthology.report.json").read_text())
    assert [a["title"] for a in report["articles"]] == ["第3篇", "第2篇", "第1篇"]
    assert all(i["status"] == "ok" for i in report["images"])  # local files beside the articles


def test_several_articles_without_a_title_is_an_error(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_article(src, 1, "一")
    write_article(src, 2, "二")
    result = run_cli("build", src, "--out", tmp_path / "o", "--offline")
    assert result.returncode == 1 and "--title" in result.stderr


def test_file_reference_in_an_article_is_refused(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "files").mkdir()
    (src / "files" / "secret.txt").write_text("root:x:0:0 secret", "utf-8")
    (src / "a.txt").write_text('---\ntitle: t\n---\n<p>x</p><img src="file:///etc/passwd">'
                               '<img src="../../../../etc/hostname">'
                               '<p><a rel="attachment" href="files/secret.txt">a</a>'
                               '<a rel="attachment" href="file:///dev/urandom">b</a></p>'
                               '<link rel="attachment" href="files/secret.txt">', "utf-8")
    out = tmp_path / "out"
    result = run_cli("build", src, "--out", out, "--cache-dir", tmp_path / "c")
    assert result.returncode == 0, result.stderr
    report = json.loads(next(out.glob("*.report.json")).read_text())
    reasons = sorted(i["reason"] for i in report["images"])
    assert reasons == ["blocked scheme file:", "blocked: path outside the article's folder"]
    pdf = next(p for p in out.glob("*.pdf") if "booklet" not in p.name).read_bytes()
    assert b"/etc/passwd" not in pdf and b"root:x:" not in pdf
    assert b"/EmbeddedFile" not in pdf and b"/FileAttachment" not in pdf and b"secret" not in pdf


def test_installed_wheel_carries_the_default_theme(tmp_path):
    """A plain (non-editable) install finds templates/ and styles/ from any directory."""
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("builder-*.whl"))
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert "builder/_theme/templates/epub/chapter.xhtml.j2" in names
        assert "builder/_theme/styles/print.css" in names
        z.extractall(target)
    probe = subprocess.run(
        [sys.executable, "-I", "-c",
         f"import sys; sys.path.insert(0, {str(target)!r}); "
         "from builder.theme import default_theme_dir; print(default_theme_dir())"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    assert Path(probe.stdout.strip()) == target / "builder" / "_theme"


def _pdf_images(path: Path) -> set[bytes]:
    """The distinct image streams a PDF places, by content."""
    from pypdf import PdfReader

    found = set()
    for page in PdfReader(path).pages:
        for image in page.images:
            found.add(image.data)
    return found


def test_every_photo_of_an_anthology_reaches_epub_and_pdf(tmp_path):
    from PIL import Image

    src = tmp_path / "src"
    src.mkdir()
    for n in (1, 2, 3):
        write_article(src, n, f"第{n}篇", f"2022-01-0{n}")
        Image.new("RGB", (400, 300), (10, n * 60, 200)).save(src / "images" / f"c{n}.png")
        path = src / f"a{n}.txt"
        path.write_text(path.read_text("utf-8").replace(
            "author: 记者", f"author: 记者\nheadimg: images/c{n}.png"), "utf-8")
    out = tmp_path / "out"
    result = run_cli("build", src, "--out", out, "--cache-dir", tmp_path / "c",
                     "--title", "合集", "--name", "book", "--format", "epub,pdf")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "book.report.json").read_text())
    assert len(report["images"]) == 6 and all(i["status"] == "ok" for i in report["images"])
    with zipfile.ZipFile(out / "book.epub") as z:
        chapters = "".join(z.read(f"EPUB/chapter-00{n}.xhtml").decode() for n in (1, 2, 3))
    assert chapters.count("<img") == 6  # each chapter: its lead photo and its body photo
    assert len(_pdf_images(out / "book.pdf")) == 6


def test_quiet_prints_nothing_and_plain_progress_otherwise(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_article(src, 1, "一")
    (src / "a1.txt").write_text((src / "a1.txt").read_text("utf-8") +
                                '<img src="http://127.0.0.1:9/none.jpg">', "utf-8")
    args = ("build", src, "--out", tmp_path / "o", "--cache-dir", tmp_path / "c",
            "--format", "epub", "--offline")
    quiet = run_cli(*args, "-q")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    loud = run_cli(*args)
    assert loud.returncode == 0
    # Not a terminal: plain lines, one per failed image and one at the end, no bar.
    lines = loud.stderr.splitlines()
    assert lines[0] == "fetching 2 image(s)" and len(lines) in (2, 3) and "\x1b" not in loud.stderr
    assert any(line.endswith("placeholder http://127.0.0.1:9/none.jpg: offline: not in the cache")
               for line in lines[1:])
    assert "1 fetched, 0 cached, 1 failed" in loud.stdout



def test_the_command_ends_with_its_code_after_the_exit_handlers(tmp_path):
    import subprocess
    import sys

    script = f"""
import atexit, pathlib
from builder import cli
atexit.register(pathlib.Path({str(tmp_path / "ran")!r}).write_text, "yes")
cli.main = lambda: print("written", end="") or 3
cli.run()
print("not reached")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 3
    assert done.stdout == "written"  # flushed, and nothing after run()
    assert (tmp_path / "ran").read_text() == "yes"  # the exit handlers ran
