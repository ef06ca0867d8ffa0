"""Image faults seen from the user's side: one article whose photos hit every kind of bad
server, built with the CLI; each outcome is asserted in the report and in the EPUB."""

from __future__ import annotations

import io
import json
import threading
import zipfile

import helpers_images as H
import pytest
from conftest import run_cli
from lxml import etree
from PIL import Image
from pytest_httpserver import HTTPServer
from werkzeug import Response

from builder.drawn import placeholder

XHTML = "{http://www.w3.org/1999/xhtml}"
SVG_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" ' \
             b'onload="alert(1)"><script>alert(2)</script></svg>'

#: name → (how the server answers, expected status, expected reason or format and size)
CASES = {
    "ok": ("jpeg", "ok", ("JPEG", (40, 30))),
    "missing": ("404", "placeholder", "http 404"),
    "flaky": ("500 then jpeg", "ok", ("JPEG", (40, 30))),
    "page": ("html", "placeholder", "not an image"),
    "mislabelled": ("png as jpeg", "ok", ("PNG", (40, 30))),
    "loop": ("redirect loop", "placeholder", "too many redirects"),
    "tofile": ("redirect to file", "placeholder", "blocked scheme file:"),
    "cmyk": ("cmyk", "ok", ("JPEG", (40, 30))),
    "rotated": ("exif 6", "ok", ("JPEG", (30, 40))),
    "webp": ("webp", "ok", ("JPEG", (40, 30))),
    "animated": ("gif", "ok", ("GIF", (20, 20))),
    "svgscript": ("svg", "placeholder", "unsafe SVG"),
    "bomb": ("bomb", "placeholder", "too large"),
    "cut": ("truncated JPEG, honest length", "placeholder", "broken image"),
    "huge": ("over the size cap", "placeholder", "too large"),
    "hang": ("hang", "placeholder", "timeout"),
}


@pytest.fixture(scope="module")
def server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    release = threading.Event()
    jpeg = H.jpeg(40, 30)
    answers = {
        "ok": Response(jpeg, content_type="image/jpeg"),
        "missing": Response("no", status=404),
        "page": Response(b"<html><body>hello</body></html>", content_type="image/jpeg"),
        "mislabelled": Response(H.png(40, 30), content_type="image/jpeg"),
        "loop": Response(status=302, headers={"Location": "/loop"}),
        "tofile": Response(status=302, headers={"Location": "file:///etc/passwd"}),
        "cmyk": Response(H.cmyk_jpeg(40, 30), content_type="image/jpeg"),
        "rotated": Response(H.rotated_jpeg(40, 30, 6), content_type="image/jpeg"),
        "webp": Response(H.webp(40, 30), content_type="image/webp"),
        "animated": Response(H.animated_gif(20, 20), content_type="image/gif"),
        "svgscript": Response(SVG_SCRIPT, content_type="image/svg+xml"),
        "bomb": Response(H.png_declaring(30000, 30000), content_type="image/png"),
        "huge": Response(b"\xff" * 300_000, content_type="image/jpeg"),
        "cut": Response(H.jpeg(400, 300)[:-300], content_type="image/jpeg"),
    }
    for name, response in answers.items():
        server.expect_request(f"/{name}").respond_with_response(response)
    # Oneshot handlers answer first: the first request fails, the retry gets the photo.
    server.expect_oneshot_request("/flaky").respond_with_response(Response("x", status=500))
    server.expect_request("/flaky").respond_with_response(
        Response(jpeg, content_type="image/jpeg"))

    def hang(request):
        release.wait(10)
        return Response(jpeg, content_type="image/jpeg")

    server.expect_request("/hang").respond_with_handler(hang)
    yield server
    release.set()
    server.clear()
    server.stop()


def test_every_fault_is_reported_and_shown(server, tmp_path):
    base = f"http://127.0.0.1:{server.port}"
    src = tmp_path / "src"
    src.mkdir()
    body = "".join(f'<p>段落{name}。</p><img src="{base}/{name}"><p>↑ 说明{name}</p>'
                   for name in CASES)
    (src / "faults.txt").write_text(f"---\ntitle: 故障\n---\n{body}", "utf-8")
    (src / "book.toml").write_text(
        "[fetch]\ntimeout = 1.0\ndeadline = 2.0\nretries = 2\nmax_bytes = 200000\n"
        f'allow_hosts = ["127.0.0.1:{server.port}"]\n', "utf-8")
    out = tmp_path / "out"
    result = run_cli("build", src, "--out", out, "--cache-dir", tmp_path / "cache",
                     "--format", "epub", "--name", "faults", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 fatals / 0 errors / 0 warnings" in result.stdout  # --check ran EPUBCheck
    report = json.loads((out / "faults.report.json").read_text())
    by_url = {i["url"]: i for i in report["images"]}

    with zipfile.ZipFile(out / "faults.epub") as z:
        chapter = etree.fromstring(z.read("EPUB/chapter-001.xhtml"))
        figures = chapter.findall(f".//{XHTML}figure")
        assert len(figures) == len(CASES)
        for (name, (_, status, expected)), figure in zip(CASES.items(), figures, strict=True):
            image = by_url[f"{base}/{name}"]
            assert image["status"] == status, (name, image)
            assert figure.findtext(f"{XHTML}figcaption") == f"说明{name}"
            data = z.read("EPUB/" + figure.find(f"{XHTML}img").get("src"))
            shown = Image.open(io.BytesIO(data))
            if status == "ok":
                assert image["reason"] is None
                assert (shown.format, shown.size) == expected, name
            else:
                assert expected in image["reason"], (name, image["reason"])
                assert f"image {base}/{name}: {image['reason']}" in " ".join(report["warnings"])
                assert shown.format == "PNG"
                assert data == placeholder(None, None, "").data  # the grey stand-in
    assert result.stdout.count("failed") == 1 and "FAILED" not in result.stdout
    failed = sum(1 for _, s, _ in CASES.values() if s == "placeholder")
    assert f"{len(CASES) - failed} fetched, 0 cached, {failed} failed" in result.stdout


def test_strict_turns_any_placeholder_into_a_failure(server, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    base = f"http://127.0.0.1:{server.port}"
    (src / "a.txt").write_text(f'---\ntitle: t\n---\n<p>x</p><img src="{base}/ok">'
                               f'<img src="{base}/missing">', "utf-8")
    out = tmp_path / "out"
    result = run_cli("build", src, "--out", out, "--cache-dir", tmp_path / "cache", "--strict",
                     "--allow-host", f"127.0.0.1:{server.port}", "--format", "epub")
    assert result.returncode == 1 and "1 image(s) could not be fetched" in result.stderr
    assert not out.exists() or not any(out.iterdir())
