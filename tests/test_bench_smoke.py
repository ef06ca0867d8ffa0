"""The benchmark harness (bench/run.py) runs end to end on a tiny corpus and writes its results.

Nothing here is timed: the figures themselves are only checked to be there and well formed; the
scaling verdicts are checked on made-up figures.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

from bench.run import scaling_md, scaling_summary

SCENARIOS = {"cold", "warm", "rebuild", "noop", "grown", "epub", "pdf", "pdf-1", "kindle", "pdfx"}
TARGET_IDS = {"epub_vs_pandoc", "pdf_vs_weasyprint", "cold_fetch_vs_ideal", "rebuild_vs_warm",
              "noop_vs_warm", "epub_size_vs_images", "pdf_rss_vs_weasyprint", "kindle_vs_epub",
              "kindle_mb"}


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
        assert s["runs"] == 1 and s["memory_runs"] == 1
        assert s["wall_s"] > 0 and s["cpu_s"] > 0 and s["peak_rss_mb"] > 0 and s["peak_tree_mb"] > 0
        # A timed run is not slowed by sampling its memory: that comes from a run of its own.
        timed, sampled = data["runs"]["corpus"][name][0], data["memory_runs"]["corpus"][name][0]
        assert timed["peak_tree_mb"] is None and timed["peak_rss_mb"] > 0
        assert sampled["peak_tree_mb"] == s["peak_tree_mb"] and sampled["run"] != timed["run"]
        if name == "noop":  # nothing done: no stage, no output written
            assert "timings" not in s and s["outputs"] == {}
            continue
        assert {"wall_s", "cpu_s", "peak_rss_mb", "timings", "outputs", "pages",
                "embedded_images", "dominant_stage", "size_vs_images"} <= set(s), name
        assert {"load", "clean", "fetch", "render"} <= set(s["timings"])
    assert set(scenarios["cold"]["outputs"]) == {"epub", "pdf", "booklet"}
    assert set(scenarios["epub"]["outputs"]) == {"epub"}
    assert set(scenarios["pdf"]["outputs"]) == {"pdf"} and scenarios["pdf"]["pages"]["pdf"] > 0
    assert scenarios["epub"]["embedded_images"]["epub"] == 6
    assert set(scenarios["kindle"]["outputs"]) == {"epub-kindle"}
    assert scenarios["kindle"]["embedded_images"]["epub-kindle"] == 6

    run = data["runs"]["corpus"]["cold"][0]
    assert run["images"] == {"ok": 6, "cached": 0, "placeholder": 0}
    assert run["server"]["requests"] == 6 and run["server"]["misses"] == 0
    assert data["runs"]["corpus"]["warm"][0]["images"]["cached"] == 6

    ideal = data["fetch_ideal"]["corpus"]
    assert ideal["requests"] == 6 and ideal["ideal_s"] > 0 and ideal["ratio"] > 0
    assert {t["id"] for t in data["targets"]} == TARGET_IDS
    assert "rebuild_vs_warm" in data["comparisons"]["corpus"]
    assert "kindle_vs_epub" in data["comparisons"]["corpus"]
    assert set(scenarios["pdfx"]["outputs"]) == {"pdf"}
    assert "pdfx_vs_pdf" in data["comparisons"]["corpus"]
    kindle_mb = next(t for t in data["targets"] if t["id"] == "kindle_mb")
    assert 0 < kindle_mb["value"] <= 45 and kindle_mb["met"]
    assert data["comparisons"]["corpus"]["noop_vs_warm"]["median"] < 1
    assert data["peers"]["corpus"] == {}

    scaling = data["scaling"]
    assert [p["articles"] for p in scaling["points"]] == [2, 4]
    assert [p["photos"] for p in scaling["points"]] == [6, 12]
    assert scaling["skipped"] == []
    for p in scaling["points"]:
        assert p["runs"] == 1 and p["memory_runs"] == 1
        assert p["wall_s"] > 0 and p["peak_tree_mb"] > 0
        assert p["pages"]["pdf"] > 0 and p["pages"]["booklet"] > 0 and p["image_mb"] > 0
        assert {"load", "clean", "fetch", "render", "epub", "pdf"} <= set(p["timings"])
        assert p["s_per_article"] == round(p["wall_s"] / p["articles"], 4)
    for key, n in (("scale-2", 6), ("scale-4", 12)):
        runs = scaling["runs"][key]
        assert runs["fill"][0]["images"]["ok"] == n  # the cache filled once, then warm builds
        assert runs["warm"][0]["images"] == {"ok": 0, "cached": n, "placeholder": 0}
        assert runs["warm"][0]["peak_tree_mb"] is None
        assert scaling["memory_runs"][key]["warm"][0]["peak_tree_mb"] > 0
        assert set(runs["warm"][0]["outputs"]) == {"epub", "pdf", "booklet"}
    assert scaling["verdicts"]["time"]["ratio"] > 0
    assert scaling["verdicts"]["rss"]["verdict"] == "n/a: needs 3 sizes"

    md = (results / "latest.md").read_text(encoding="utf-8")
    for heading in ("## Targets", "## Dominant stage", "## corpus", "## Scaling"):
        assert heading in md
    assert len(list(results.glob("bench-*.json"))) == 1
    assert len(list(results.glob("bench-*.md"))) == 1


def point(articles: int, wall: float, rss: float) -> dict:
    return {"articles": articles, "photos": 20 * articles, "runs": 1, "wall_s": wall,
            "cpu_s": wall, "peak_tree_mb": rss, "pages": {"pdf": 15 * articles}, "timings": {}}


def test_scaling_verdicts_from_the_figures():
    linear = scaling_summary([point(60, 63.0, 900.0), point(5, 8.0, 240.0),
                              point(20, 23.0, 420.0)], [])
    rows = linear["points"]
    assert [r["articles"] for r in rows] == [5, 20, 60]
    assert [r["s_per_article"] for r in rows] == [1.6, 1.15, 1.05]
    assert [r["mb_per_article"] for r in rows] == [None, 12.0, 12.0]
    assert {"ratio": 0.66, "verdict": "linear", "from_articles": 5,
            "to_articles": 60}.items() <= linear["verdicts"]["time"].items()
    assert {"ratio": 1.0, "verdict": "linear", "from_articles": 20,
            "to_articles": 60}.items() <= linear["verdicts"]["rss"].items()

    faster = scaling_summary([point(5, 5.0, 200.0), point(20, 20.0, 260.0),
                              point(60, 96.0, 596.0)], [])
    assert faster["verdicts"]["time"]["verdict"] == "grows faster than linear (×1.60)"
    assert faster["verdicts"]["rss"]["verdict"] == "grows faster than linear (×1.80)"

    flat = scaling_summary([point(5, 5.0, 300.0), point(20, 20.0, 290.0),
                            point(60, 60.0, 500.0)], [])
    assert flat["verdicts"]["rss"]["ratio"] is None
    assert flat["verdicts"]["rss"]["verdict"].startswith("n/a: no increase at 20 articles")
    one = scaling_summary([point(5, 5.0, 300.0)], [])
    assert one["verdicts"]["time"]["verdict"] == "n/a: needs 2 sizes"


def test_scaling_markdown_names_every_size_and_verdict():
    summary = scaling_summary([point(5, 8.0, 240.0), point(20, 23.0, 420.0)],
                              [{"articles": 60, "reason": "estimated 69 s, 10 s left"}])
    md = "\n".join(scaling_md(summary))
    assert "## Scaling" in md
    assert "| 5 | 100 | 1 | 75 | 8.00 | 1.600 | 240 | – |" in md
    assert "| 20 | 400 | 1 | 300 | 23.00 | 1.150 | 420 | 12.00 |" in md
    assert "1.600 s at 5 articles, 1.150 s at 20 → ×0.72: **linear**" in md
    assert "peak memory added per article: n/a: needs 3 sizes" in md
    assert "- 60 articles: skipped, estimated 69 s, 10 s left" in md
    assert scaling_md(scaling_summary([], [])) == []
