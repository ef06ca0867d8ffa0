"""The pieces that keep a build calm under faults: the store's checks, the sweep of orphan
staging folders, the theme's variables, the signal shield."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import helpers_images as H
import pytest

from builder import signals
from builder.output import STAGING_PREFIX, sweep
from builder.photos import Prepared
from builder.store import Store
from builder.theme import Theme, default_theme_dir


def stored(tmp_path, data: bytes, media: str, size: tuple[int, int]) -> tuple[Store, str]:
    store = Store(tmp_path / "cache")
    store.put("http://x/a", Prepared(data, media, *size))
    return store, "http://x/a"


def record_of(store: Store, url: str):
    return store.root / "urls" / (hashlib.sha256(url.encode()).hexdigest() + ".json")


def test_a_sound_entry_is_served(tmp_path):
    store, url = stored(tmp_path, H.jpeg(40, 30), "image/jpeg", (40, 30))
    asset = store.get(url)
    assert asset is not None and (asset.width, asset.height) == (40, 30)
    assert store.corrupt == set()


@pytest.mark.parametrize(("change", "field"), [
    ({"width": True}, "a bool is no width"), ({"width": "40"}, "text"),
    ({"height": None}, "none"), ({"sha256": "../../etc/passwd"}, "a path"),
    ({"media_type": "image/png"}, "another format"), ({"width": 41}, "another size"),
])
def test_a_damaged_record_is_deleted_and_named(tmp_path, change, field):
    store, url = stored(tmp_path, H.jpeg(40, 30), "image/jpeg", (40, 30))
    entry = json.loads(record_of(store, url).read_text())
    entry.update(change)
    record_of(store, url).write_text(json.dumps(entry))
    assert store.get(url) is None, field
    assert store.corrupt == {url} and not record_of(store, url).exists()


def test_bytes_that_hash_right_but_are_another_image(tmp_path):
    store, url = stored(tmp_path, H.jpeg(40, 30), "image/jpeg", (40, 30))
    other = H.png(40, 30)
    sha = hashlib.sha256(other).hexdigest()
    store.object_path(sha).write_bytes(other)
    entry = json.loads(record_of(store, url).read_text())
    entry["sha256"] = sha
    record_of(store, url).write_text(json.dumps(entry))
    assert store.get(url) is None and url in store.corrupt


def test_a_store_that_cannot_be_written_keeps_images_elsewhere(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    store = Store(blocker)
    assert "cannot be written" in store.degraded
    asset = store.put("http://x/a", Prepared(H.jpeg(40, 30), "image/jpeg", 40, 30))
    assert asset.path.read_bytes() == H.jpeg(40, 30) and blocker not in asset.path.parents


def test_sweep_removes_only_orphans(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    old = time.time() - 3600
    made = {}
    for name in (f"{dead}-abc", f"{os.getpid()}-live", "legacy123", f"{dead}-young"):
        made[name] = tmp_path / f"{STAGING_PREFIX}{name}"
        made[name].mkdir()
        if name != f"{dead}-young":
            os.utime(made[name], (old, old))
    (tmp_path / f"{STAGING_PREFIX}file").write_text("x")
    (tmp_path / "book.epub").write_text("x")
    very_old = tmp_path / f"{STAGING_PREFIX}{os.getpid()}-ancient"
    very_old.mkdir()
    os.utime(very_old, (old - 2 * 86400, old - 2 * 86400))
    removed = sweep(tmp_path)
    assert sorted(p.name for p in removed) == sorted(
        [made[f"{dead}-abc"].name, made["legacy123"].name])  # ours never, however old
    assert made[f"{os.getpid()}-live"].is_dir() and made[f"{dead}-young"].is_dir()
    assert (tmp_path / f"{STAGING_PREFIX}file").is_file() and (tmp_path / "book.epub").is_file()


def test_the_default_templates_use_only_what_they_are_given(tmp_path):
    theme = tmp_path / "theme"
    shutil.copytree(default_theme_dir() / "templates", theme / "templates")
    Theme(theme).check()


def test_a_signal_inside_a_shielded_block_waits_for_its_end():
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    signals.install()
    try:
        done = []
        with pytest.raises(KeyboardInterrupt):
            with signals.shielded():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                done.append("the block ran to its end")
        assert done
    finally:
        signal.signal(signal.SIGINT, saved[0])
        signal.signal(signal.SIGTERM, saved[1])
        signals._state.update(depth=0, pending=None, raised=False)


def test_a_long_article_is_cut_into_pieces_between_blocks(monkeypatch):
    import lxml.html

    from builder import pieces

    monkeypatch.setattr(pieces, "PIECE_WEIGHT", 250)
    paragraphs = "".join(f"<p>第{k}段，一些文字。</p>\n" for k in range(12))
    root = lxml.html.document_fromstring(
        '<html><body><article id="a001" class="article" lang="zh">'
        '<header class="opener"><h1>题 "引号"</h1></header>'
        f"{paragraphs}<h2>下半</h2>{paragraphs}</article>\n<article id=\"a002\"><p>短</p>"
        "</article></body></html>")
    found = pieces.cut_long_articles([a for a in root.iter("article")])
    ids = [a.get("id") for a in found]
    assert ids[0] == "a001" and ids[-1] == "a002" and len(ids) > 3
    assert ids[1:-1] == [f"a001-{n}" for n in range(2, len(ids) - 1 + 1)]
    body = root.find("body")
    assert [a.get("id") for a in body if a.tag == "article"] == ids  # in document order
    for piece in found[1:-1]:
        assert piece.get("class") == "article any-page continued" and piece.get("lang") == "zh"
        assert piece.get("style") == 'string-set: running "题 \\"引号\\""'
    text = "".join("".join(a.itertext()) for a in found)
    assert [int(n) for n in __import__("re").findall(r"第(\d+)段", text)] == \
        list(range(12)) + list(range(12))
    assert any(p[0].tag == "h2" for p in found[1:-1])  # cut at the heading
