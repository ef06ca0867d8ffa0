#!/usr/bin/env python3
"""Benchmark one long article: its EPUB and its PDF built alone, at several lengths, to see
that time grows in proportion to the length and memory stays bounded.

The article is generated: Chinese paragraphs of 120 characters, a heading every 400
paragraphs, no photos (their cost is the corpus benchmark's). Each build is a whole
``python -m builder build … --force --jobs 1`` child measured by :mod:`bench.measure` (wall
time, CPU time, peak memory of the process tree).

    python bench/long_article.py                 # 0.5, 1 and 2 MB
    python bench/long_article.py --sizes 1,2,10  # up to 10 MB: about 5 minutes for that one
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.run import measure  # noqa: E402

PARAGRAPH = "<p>" + "长长的河流穿过城市，两岸的灯一盏一盏亮起来，夜里的风带着水汽。" * 4 + "</p>\n"


def article(folder: Path, megabytes: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    count = int(megabytes * 1e6 / len(PARAGRAPH.encode("utf-8")))
    body = "".join((f"<h2>第{k // 400 + 1}部分</h2>\n" if k % 400 == 0 else "") + PARAGRAPH
                   for k in range(count))
    (folder / "long.txt").write_text("---\ntitle: 长文\ndate: 2022-08-31\n---\n" + body,
                                     encoding="utf-8")
    return folder


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="0.5,1,2", help="article sizes in MB, comma-separated")
    p.add_argument("--work", type=Path, default=HERE / "results" / "work" / "long-article")
    p.add_argument("--timeout", type=float, default=1800.0)
    args = p.parse_args()
    sizes = [float(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    for mb in sizes:
        src = article(args.work / f"src-{mb:g}", mb)
        for fmt in ("epub", "pdf"):
            out = args.work / f"out-{mb:g}-{fmt}"
            shutil.rmtree(out, ignore_errors=True)
            cmd = [sys.executable, "-m", "builder", "build", str(src), "--out", str(out),
                   "--cache-dir", str(args.work / "cache"), "--format", fmt, "--force",
                   "--jobs", "1", "-q", "--name", "long"]
            got = measure(cmd, args.work / f"log-{mb:g}-{fmt}.txt", args.timeout)
            report = json.loads((out / "long.report.json").read_text("utf-8")) \
                if (out / "long.report.json").is_file() else {}
            rows.append({"mb": mb, "format": fmt, **got,
                         "pages": (report.get("layout") or {}).get("pages")})
            print(f"{mb:g} MB {fmt}: {got['wall_s']:.1f} s wall, "
                  f"{got.get('peak_tree_mb', 0):.0f} MB peak (tree), "
                  f"{rows[-1]['pages'] or '-'} pages", flush=True)
    pdf = [r for r in rows if r["format"] == "pdf"]
    for a, b in zip(pdf, pdf[1:], strict=False):
        print(f"PDF {a['mb']:g} → {b['mb']:g} MB: time ×{b['wall_s'] / a['wall_s']:.2f}, "
              f"memory ×{b.get('peak_tree_mb', 0) / max(a.get('peak_tree_mb', 1), 1):.2f} "
              f"for ×{b['mb'] / a['mb']:.2f} the text")
    (args.work / "results.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
