"""The benchmark harness (bench/run.py) runs end to end on a tiny corpus and writes its results.

Nothing here is timed: the figures themselves are only checked to be there and well formed.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

SCENARIOS = {"cold", "warm", "rebuild", "epub", "pdf"}
TARGET_IDS = {"epub_vs_pandoc", "pdf_vs_weasyprint", "cold_fetch_vs_ideal", "rebuild_vs_warm",
              "epub_size_vs_images", "pdf_rss_vs_weasyprint"}


def test_bench_quick_writes_json_and_markdown(tmp_path):
    results, work = tmp_path / "results", tmp_path / "work"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--articles", "2",
         "--photos", "3-3", "--runs", "1", "--no-peers", "--inputs", "corpus",
         "--work", str(work), "--results", str(results)],
        cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    data = json.loads((results / "latest.json").read_text(encoding="utf-8"))
    assert set(data) >= {"meta", "inputs", "scenarios", "peers", "runs", "comparisons",
                         "fetch_ideal", "targets", "dominant_stage", "errors"}
    assert data["errors"] == []
    assert data["inputs"]["corpus"]["articles"] == 2
    assert data["inputs"]["corpus"]["images"] == 6

    scenarios = data["scenarios"]["corpus"]
    assert set(scenarios) == SCENARIOS
    for name, s in scenarios.items():
        assert s["runs"] == 1
        assert {"wall_s", "cpu_s", "peak_rss_mb", "timings", "outputs", "pages",
                "embedded_images", "dominant_stage", "size_vs_images"} <= set(s), name
        assert s["wall_s"] > 0 and s["cpu_s"] > 0 and s["peak_rss_mb"] > 0
        assert {"load", "clean", "fetch", "render"} <= set(s["timings"])
    assert set(scenarios["cold"]["outputs"]) == {"epub", "pdf", "booklet"}
    assert set(scenarios["epub"]["outputs"]) == {"epub"}
    assert set(scenarios["pdf"]["outputs"]) == {"pdf"} and scenarios["pdf"]["pages"]["pdf"] > 0
    assert scenarios["epub"]["embedded_images"]["epub"] == 6

    run = data["runs"]["corpus"]["cold"][0]
    assert run["images"] == {"ok": 6, "cached": 0, "placeholder": 0}
    assert run["server"]["requests"] == 6 and run["server"]["misses"] == 0
    assert data["runs"]["corpus"]["warm"][0]["images"]["cached"] == 6

    ideal = data["fetch_ideal"]["corpus"]
    assert ideal["requests"] == 6 and ideal["ideal_s"] > 0 and ideal["ratio"] > 0
    assert {t["id"] for t in data["targets"]} == TARGET_IDS
    assert "rebuild_vs_warm" in data["comparisons"]["corpus"]
    assert data["peers"]["corpus"] == {}

    md = (results / "latest.md").read_text(encoding="utf-8")
    for heading in ("## Targets", "## Dominant stage", "## corpus"):
        assert heading in md
    assert len(list(results.glob("bench-*.json"))) == 1
    assert len(list(results.glob("bench-*.md"))) == 1
