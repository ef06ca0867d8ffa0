#!/usr/bin/env python3
"""Benchmark the builder against its targets, and against its peers on the same inputs.

Inputs: the seed article (its images made up at their declared sizes) and a generated corpus
(:mod:`bench.corpus`, 20 articles and about 400 photos by default), their images served from
127.0.0.1 by :mod:`bench.server` through ``--rewrite``; nothing else is contacted.

Scenarios, each a ``python -m builder build`` child process:

- ``cold``: empty image cache, every image fetched with ``--latency`` (100 ms) before each
  response; all three formats;
- ``warm``: every image cached and nothing else (``--force``: no kept work, no up-to-date
  check); all three formats;
- ``rebuild``: one article changed since the last build into the same folder (one paragraph
  added), the work of the others kept; all formats;
- ``noop``: nothing changed since the last build into the same folder ("up to date");
- ``epub``: EPUB only, ``pdf``: PDF only, each with ``--force`` and the images cached.

Peers (:mod:`bench.peers`), when installed: pandoc HTML → EPUB3, pandoc → PDF through
WeasyPrint, bare WeasyPrint, calibre's ebook-convert.

For each run: wall time, CPU time (user + system) and peak RSS of the child (``os.wait4``),
the stages of the report's ``timings``, output sizes against the image bytes, PDF page counts.
The peak memory of its process tree (summed PSS, sampled every 20 ms) comes from runs of their
own, *memory runs*: sampling slows what it watches (10-30 %), so no timed run is sampled. Every
scenario and peer runs once timed, then once sampled; then more runs (up to ``--runs``) are
added, cheapest first, while the estimated total stays within ``--budget`` seconds: timed
ones, and sampled ones for the memory target (the PDF-only build and bare WeasyPrint). Medians
are reported.

Scaling (``--scale``, 5, 20, 60 and 100 articles): after those runs, a corpus of each size
(the corpus's photos range and seed), its cache filled once by a cold build without latency
(not reported), then warm builds of all three formats (timed, and one memory run each);
how time and peak memory per
article grow from the smallest size to the largest. A size is skipped when its time,
extrapolated linearly from the size before, would end after the budget.

Results: ``bench/results/bench-<UTC time>.{json,md}`` and ``latest.{json,md}``.

    python bench/run.py                      # what `make bench` runs
    python bench/run.py --articles 20 --runs 3
    python bench/run.py --quick --no-peers   # a tiny corpus, one run: the smoke test
    python bench/run.py --inputs corpus --scenarios warm --no-peers --scale 5,20,60
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import corpus as corpus_mod  # noqa: E402
from bench import layout as layout_mod  # noqa: E402
from bench import peers as peers_mod  # noqa: E402
from bench.server import ImageServer  # noqa: E402

SEED = ROOT / "seeds" / "000_dc99e8bd12c8b5f6.txt"
EPOCH = "1661924079"
STAGES = ("load", "clean", "fetch", "epub images", "render", "epub", "layout", "pdf", "press",
          "preflight", "impose")
SCENARIOS = {  # name: (formats, flags, what it measures)
    "cold": ("epub,pdf,booklet", (), "empty cache, every image fetched (latency per request)"),
    "warm": ("epub,pdf,booklet", ("--force",), "every image cached and nothing else, all "
             "three formats"),
    "rebuild": ("epub,pdf,booklet", (), "one article changed since the last build"),
    "noop": ("epub,pdf,booklet", (), "nothing changed since the last build"),
    "grown": ("epub,pdf,booklet", (), "one article grown by some pages since the last build "
              "(every page after it moves)"),
    "epub": ("epub", ("--force",), "EPUB only, images cached and nothing else"),
    "pdf": ("pdf", ("--force",), "PDF only, images cached and nothing else"),
    "pdf-1": ("pdf", ("--force", "--jobs", "1"), "PDF only, as pdf, laid out in one process"),
    "kindle": ("epub", ("--force", "--device", "kindle"), "the Kindle EPUB only (45 MB budget), "
               "images and their re-encodings cached and nothing else"),
    "pdfx": ("pdf", ("--force", "--bleed", "3mm", "--pdf-variant", "pdf/x-1a"),
             "PDF/X-1a for a print shop (3 mm bleed), images and their CMYK conversions cached "
             "and nothing else"),
}
#: The scenarios whose first run is preceded by one not measured: what a warm build has
#: cached (re-encoded or converted photos) is made once.
PRIMED = ("kindle", "pdfx")
#: The scenarios that build into the folder of the warm build, after it.
AFTER_WARM = ("rebuild", "noop", "grown")
#: The jobs whose memory is a target: as many memory runs as timed ones (the others get one).
MEMORY_TARGET = ("pdf", "weasyprint")
#: How many paragraphs the grown scenario adds to its article (some three A5 pages).
GROWN_PARAGRAPHS = 30
TARGETS = (
    # id, text, limit
    ("epub_vs_pandoc", "EPUB-only build (--force) ≤ 0.3× pandoc HTML→EPUB (wall)", 0.3),
    ("pdf_vs_weasyprint", "PDF-only build (--force) ≤ 1.0× bare WeasyPrint (wall)", 1.0),
    ("cold_fetch_vs_ideal", "cold fetch stage within 1.3× of the ideal", 1.3),
    ("rebuild_vs_warm", "rebuild after one article changed ≤ 0.25× full warm build (wall)", 0.25),
    ("noop_vs_warm", "no-op build (up to date) ≤ 0.05× full warm build (wall)", 0.05),
    ("epub_size_vs_images", "EPUB size ≤ 1.03× the sum of image bytes", 1.03),
    ("pdf_rss_vs_weasyprint", "PDF-only build's peak memory (process tree) ≤ 1.2× bare "
     "WeasyPrint's", 1.2),
    ("kindle_vs_epub", "Kindle EPUB (--device kindle --force) ≤ 1.5× the EPUB-only build "
     "(wall)", 1.5),
    ("kindle_mb", "Kindle EPUB ≤ 45 MB", 45.0),
)
LINEAR = 1.25  # per-article growth, smallest --scale size to largest, that is still linear


class BenchError(Exception):
    pass


# -- measuring one child process ----------------------------------------------------------------

def child_env() -> dict[str, str]:
    """The environment of every child: reproducible dates, and a safety net: any URL that was not
    rewritten to the local server goes to a proxy on a closed local port, never out."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update({"SOURCE_DATE_EPOCH": EPOCH, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
                "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
                "ALL_PROXY": "http://127.0.0.1:9",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"})
    return env


def measure(cmd: list[str], log: Path, timeout: float, cwd: Path = ROOT,
            tree: bool = True) -> dict:
    """Run ``cmd`` through the small launcher :mod:`bench.measure`; its wall time, CPU time and
    peak RSS (of it and the children it waited for), from ``os.wait4``, and with ``tree`` the
    peak memory of its process tree, sampled (which slows it: not for a timed run). (Not from
    this process: see bench/measure.py for why the peak RSS would be wrong.)

    What earlier runs wrote is flushed to the disk first (``sync``): a run after one that wrote
    some 400 MB (a build of all formats) otherwise shares the cores with the kernel's writing
    of that back, and its figure depends on what ran before it."""
    os.sync()
    launcher = [sys.executable, "-I", "-S", str(HERE / "measure.py"), str(timeout), str(log),
                *(() if tree else ("--no-tree",)), "--", *cmd]
    proc = subprocess.run(launcher, cwd=cwd, env=child_env(), capture_output=True, text=True,
                          timeout=timeout + 60, stdin=subprocess.DEVNULL)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise BenchError(f"measuring {cmd[0]} failed: {proc.stderr.strip()[-400:]}") from None


def pdf_info(path: Path) -> dict:
    """Pages of a PDF and how many distinct images it embeds (image XObjects, found through
    pages and the form XObjects that imposition wraps pages in)."""
    try:
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        images, seen = set(), set()

        def walk(resources) -> None:
            xobjects = (resources or {}).get("/XObject") or {}
            for ref in xobjects.values():
                key = getattr(ref, "idnum", None) or id(ref)
                if key in seen:
                    continue
                seen.add(key)
                obj = ref.get_object()
                if obj.get("/Subtype") == "/Image":
                    images.add(key)
                elif obj.get("/Subtype") == "/Form":
                    walk(obj.get("/Resources"))

        for page in reader.pages:
            walk(page.get("/Resources"))
        return {"pages": len(reader.pages), "images": len(images)}
    except Exception:  # noqa: BLE001 - a nicety, never a reason to fail the run
        return {"pages": None, "images": None}


def epub_images(path: Path) -> int | None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return sum(1 for n in z.namelist()
                       if n.lower().rsplit(".", 1)[-1] in ("jpg", "jpeg", "png", "gif", "webp",
                                                           "svg"))
    except (OSError, zipfile.BadZipFile):
        return None


def output_info(kind: str, path: Path) -> dict:
    if kind in ("pdf", "booklet"):
        return pdf_info(path)
    if kind.startswith("epub"):
        return {"images": epub_images(path)}
    return {}


def tail(path: Path, n: int = 600) -> str:
    try:
        return path.read_text(errors="replace")[-n:].strip()
    except OSError:
        return ""


# -- inputs -------------------------------------------------------------------------------------

@dataclass
class Input:
    key: str
    root: Path
    manifest: dict
    title: str | None
    name: str
    changed: Path          # the article the rebuild scenario changes
    rewrite: list[str] = field(default_factory=list)
    runs: dict[str, list[dict]] = field(default_factory=dict)  # timed, not sampled
    #: Runs of their own whose process tree's memory was sampled (the sampling slows a run).
    memory: dict[str, list[dict]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    peer_specs: dict[str, dict] = field(default_factory=dict)
    html: Path | None = None
    layout: dict[str, dict] = field(default_factory=dict)  # layout figures of each PDF
    figures: bool = True   # measure the layout of its first warm PDF

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def count(self, job: str) -> int:
        """How many runs of ``job`` were made, timed or sampled."""
        return len(self.runs.get(job, [])) + len(self.memory.get(job, []))

    def out(self, scenario: str) -> Path:
        return self.root / f"out-{scenario}"

    @property
    def images(self) -> int:
        return len(self.manifest["images"])

    @property
    def image_bytes(self) -> int:
        return self.manifest["image_bytes"]

    def describe(self) -> dict:
        sizes = sorted(i["bytes"] for i in self.manifest["images"])
        return {"articles": len(self.manifest["articles"]), "images": self.images,
                "image_bytes": self.image_bytes, "hosts": self.manifest["hosts"],
                "median_image_bytes": sizes[len(sizes) // 2] if sizes else 0,
                "params": self.manifest["params"]}


def local_rewrite(root: Path, hosts: list[str], work: Path, server: ImageServer) -> list[str]:
    """The builder's options that send every image host of the corpus under ``root`` to its own
    port of the local server, and allow those ports."""
    rel = root.relative_to(work).as_posix()
    out = []
    for i, host in enumerate(hosts):
        out += ["--rewrite", f"http://{host}/={server.base(i)}/{rel}/images/{host}/"]
    for port in server.ports:
        out += ["--allow-host", f"127.0.0.1:{port}"]
    return out


def make_inputs(args, work: Path) -> list[Input]:
    inputs = []
    for key in args.inputs:
        if key == "seed":
            root = work / "seed"
            manifest = corpus_mod.prepare_seed(SEED, root)
            inputs.append(Input("seed", root, manifest, None, "seed",
                                root / "articles" / SEED.name))
        else:
            lo, hi = args.photos
            root = work / f"corpus-a{args.articles}-p{lo}-{hi}-s{args.corpus_seed}"
            t = time.perf_counter()
            manifest = corpus_mod.generate(root, args.articles, (lo, hi), args.corpus_seed)
            say(f"corpus: {len(manifest['articles'])} articles, {len(manifest['images'])} photos, "
                f"{manifest['image_bytes'] / 1e6:.1f} MB ({time.perf_counter() - t:.1f} s)")
            names = sorted(manifest["articles"])
            inputs.append(Input("corpus", root, manifest, f"基准测试合集（{len(names)} 篇）",
                                "corpus", root / "articles" / names[len(names) // 2]))
    return inputs


# -- the runs -----------------------------------------------------------------------------------

_T0 = time.perf_counter()


def say(msg: str) -> None:
    print(f"[{time.perf_counter() - _T0:6.1f}s] {msg}", flush=True)


class Bench:
    def __init__(self, args, work: Path, server: ImageServer, inputs: list[Input]):
        self.args, self.work, self.server, self.inputs = args, work, server, inputs
        self.cold_count: dict[str, int] = {}
        self.scaled: list[Input] = []        # the corpora of the --scale sizes that ran
        self.scale_skipped: list[dict] = []  # the sizes the budget left out, and why
        for inp in inputs:
            inp.rewrite = local_rewrite(inp.root, inp.manifest["hosts"], work, server)

    # builder ---------------------------------------------------------------------------------
    def builder(self, inp: Input, scenario: str, sampled: bool = False) -> dict:
        formats, flags, _ = SCENARIOS[scenario]
        k = inp.count(scenario) + 1
        cache, out = inp.cache, inp.out(scenario)
        if scenario == "cold":
            n = self.cold_count[inp.key] = self.cold_count.get(inp.key, 0) + 1
            cache = inp.root / f"cache-cold-{n}"
            shutil.rmtree(cache, ignore_errors=True)
        elif scenario in AFTER_WARM:
            out = inp.out("warm")
            if not (out / f"{inp.name}.report.json").is_file():
                raise BenchError(f"{scenario} needs a warm build first")
        if scenario not in AFTER_WARM:
            shutil.rmtree(out, ignore_errors=True)
        cmd = [sys.executable, "-m", "builder", "build", str(inp.root / "articles"),
               "--out", str(out), "--cache-dir", str(cache), *inp.rewrite,
               "--format", formats, "--name", inp.name, "-q", *flags]
        if inp.title:
            cmd += ["--title", inp.title]
        report_file = out / f"{inp.name}.report.json"
        if scenario in PRIMED and k == 1:
            log = inp.root / f"log-{scenario}-prime.txt"
            primed = measure(cmd, log, self.args.timeout)
            log.unlink(missing_ok=True)
            if primed["returncode"] != 0:
                raise BenchError(f"{inp.key} {scenario}: the first build failed")
        if scenario == "noop":  # the folder in step with the articles as they are, first
            synced = measure(cmd, inp.root / f"log-noop-sync-{k}.txt", self.args.timeout)
            (inp.root / f"log-noop-sync-{k}.txt").unlink(missing_ok=True)
            if synced["returncode"] != 0:
                raise BenchError(f"{inp.key} noop: the build before it failed")
        before = report_file.stat().st_mtime_ns if report_file.is_file() else None
        original = inp.changed.read_bytes()
        if scenario in ("rebuild", "grown"):
            inp.changed.write_text(corpus_mod.changed_text(
                original.decode("utf-8"), k, GROWN_PARAGRAPHS if scenario == "grown" else 1),
                encoding="utf-8")
        self.server.reset_stats()
        log = inp.root / f"log-{scenario}-{k}.txt"
        try:
            rec = measure(cmd, log, self.args.timeout, tree=sampled)
        finally:
            inp.changed.write_bytes(original)
        served = self.server.stats()
        if rec["returncode"] != 0:
            raise BenchError(f"{inp.key} {scenario}: builder exited {rec['returncode']}: "
                             f"{tail(log)}")
        if scenario == "noop":
            if report_file.stat().st_mtime_ns != before or served["requests"]:
                raise BenchError(f"{inp.key} noop: the build wrote or fetched something")
            rec.update(run=k, timings={}, other_s=rec["wall_s"], outputs={}, pages={},
                       embedded_images={}, server=served)
            log.unlink(missing_ok=True)
            return rec
        report = json.loads(report_file.read_text(encoding="utf-8"))
        rec["run"] = k
        rec["timings"] = report["timings"]
        rec["other_s"] = round(rec["wall_s"] - sum(report["timings"].values()), 3)
        counts = {"ok": 0, "cached": 0, "placeholder": 0}
        for image in report["images"]:
            counts[image["status"]] += 1
        rec["images"] = counts
        rec["image_bytes"] = sum(i["bytes"] or 0 for i in report["images"])
        rec["server"] = served
        known = {i["url"] for i in inp.manifest["images"]}
        stray = [i["url"] for i in report["images"] if i["url"] not in known]
        if stray or counts["placeholder"]:
            raise BenchError(f"{inp.key} {scenario}: {counts['placeholder']} placeholder(s), "
                             f"unexpected URLs {stray[:3]}; see {out}")
        expect = "ok" if scenario == "cold" else "cached"
        if counts[expect] != len(report["images"]):
            raise BenchError(f"{inp.key} {scenario}: expected every image {expect}: {counts}")
        rec["outputs"], rec["pages"], rec["embedded_images"] = {}, {}, {}
        for kind, path in report["outputs"].items():
            if kind == "report":
                continue
            rec["outputs"][kind] = Path(path).stat().st_size
            info = output_info(kind, Path(path))
            if info.get("pages") is not None:
                rec["pages"][kind] = info["pages"]
            rec["embedded_images"][kind] = info.get("images")
        if scenario == "warm" and k == 1 and inp.figures and "pdf" in report["outputs"]:
            inp.layout["builder"] = layout_mod.figures(Path(report["outputs"]["pdf"]),
                                                       [inp.root / "articles"])
        if scenario == "cold":
            if n > 1:
                shutil.rmtree(cache, ignore_errors=True)
            elif not inp.cache.exists():
                cache.rename(inp.cache)  # the first cold run fills the warm cache
        if scenario not in ("warm", *AFTER_WARM) and not self.args.keep:
            shutil.rmtree(out, ignore_errors=True)
        log.unlink(missing_ok=True)
        return rec

    # peers -----------------------------------------------------------------------------------
    def peer(self, inp: Input, name: str, sampled: bool = False) -> dict:
        spec = inp.peer_specs[name]
        k = inp.count(name) + 1
        out = Path(spec["output"])
        out.unlink(missing_ok=True)
        log = inp.root / f"log-{name}-{k}.txt"
        rec = measure(spec["cmd"], log, self.args.timeout, cwd=inp.root, tree=sampled)
        if rec["returncode"] != 0 or not out.is_file():
            raise BenchError(f"{inp.key} {name}: exited {rec['returncode']}: {tail(log)}")
        rec["run"] = k
        rec["outputs"] = {spec["kind"]: out.stat().st_size}
        info = output_info(spec["kind"], out)
        rec["pages"] = {spec["kind"]: info["pages"]} if info.get("pages") is not None else {}
        rec["embedded_images"] = {spec["kind"]: info.get("images")}
        if spec["kind"] == "pdf" and k == 1:
            inp.layout[name] = layout_mod.figures(out, [inp.root / "articles"])
        if not self.args.keep:
            out.unlink(missing_ok=True)
        log.unlink(missing_ok=True)
        return rec

    # scheduling ------------------------------------------------------------------------------
    def jobs(self) -> list[tuple[Input, str]]:
        out = []
        for inp in self.inputs:
            out += [(inp, s) for s in self.args.scenarios]
            out += [(inp, p) for p, spec in inp.peer_specs.items() if "skipped" not in spec]
        return out

    def do(self, inp: Input, job: str, sampled: bool = False) -> None:
        """One run of ``job``: timed, or (``sampled``) with its memory sampled."""
        try:
            rec = self.builder(inp, job, sampled) if job in SCENARIOS else \
                self.peer(inp, job, sampled)
        except BenchError as exc:
            inp.errors.append(str(exc))
            say(f"ERROR {exc}")
            return
        (inp.memory if sampled else inp.runs).setdefault(job, []).append(rec)
        extra = f", fetch {rec['timings']['fetch']:.2f} s" if job == "cold" else ""
        what = f"{rec['peak_tree_mb']:.0f} MB (memory sampled)" if sampled else \
            f"{rec['peak_rss_mb']:.0f} MB largest process"
        say(f"{inp.key} {job} #{rec['run']}: {rec['wall_s']:.2f} s wall, {rec['cpu_s']:.2f} s "
            f"CPU, {what}{extra}")

    def estimate(self, inp: Input, job: str) -> float:
        walls = [r["wall_s"] for r in inp.runs.get(job, [])]
        return max(walls) * 1.1 + 1.0 if walls else float("inf")

    def layout_builds(self) -> None:
        """The builder's PDF of the corpus on A4, and of corpora of other seeds on A5 and A4:
        the planner must not be tuned to one corpus or one page."""
        for inp in self.inputs:
            if inp.key != "corpus" or self.args.quick:
                continue
            variants = [("A4", inp, "A4")]
            for seed in self.args.layout_seeds:
                lo, hi = self.args.photos
                root = self.work / f"corpus-a{self.args.articles}-p{lo}-{hi}-s{seed}"
                manifest = corpus_mod.generate(root, self.args.articles, (lo, hi), seed)
                other = Input(f"corpus-s{seed}", root, manifest, inp.title, "corpus",
                              root / "articles",
                              local_rewrite(root, manifest["hosts"], self.work, self.server))
                variants += [(f"A5, corpus seed {seed}", other, "A5"),
                             (f"A4, corpus seed {seed}", other, "A4")]
            for label, source, size in variants:
                out = source.root / f"out-layout-{size}"
                cache = source.root / "cache-layout"
                shutil.rmtree(out, ignore_errors=True)
                cmd = [sys.executable, "-m", "builder", "build", str(source.root / "articles"),
                       "--out", str(out), "--cache-dir", str(cache),
                       *source.rewrite, "--format", "pdf", "--name", "layout", "-q",
                       "--page-size", size, "--title", inp.title or "benchmark"]
                log = source.root / "log-layout.txt"
                rec = measure(cmd, log, self.args.timeout)
                if rec["returncode"] != 0:
                    inp.errors.append(f"layout build {label}: {tail(log)}")
                    continue
                inp.layout[f"builder ({label})"] = layout_mod.figures(
                    out / "layout.pdf", [source.root / "articles"])
                say(f"layout {label}: {inp.layout[f'builder ({label})']}")
                if not self.args.keep:
                    shutil.rmtree(out, ignore_errors=True)
            if not self.args.keep:
                for _, source, _ in variants:
                    shutil.rmtree(source.root / "cache-layout", ignore_errors=True)

    # scaling ---------------------------------------------------------------------------------
    def scale_input(self, articles: int) -> Input:
        """The corpus of ``articles`` articles, the corpus's photos range and seed."""
        lo, hi = self.args.photos
        root = self.work / f"scale-a{articles}-p{lo}-{hi}-s{self.args.corpus_seed}"
        manifest = corpus_mod.generate(root, articles, (lo, hi), self.args.corpus_seed)
        names = sorted(manifest["articles"])
        return Input(f"scale-{articles}", root, manifest, f"基准测试合集（{articles} 篇）",
                     "corpus", root / "articles" / names[len(names) // 2],
                     local_rewrite(root, manifest["hosts"], self.work, self.server),
                     figures=False)

    def fill(self, inp: Input) -> bool:
        """Fill the cache of ``inp`` (photos and the page planner's measurements): a cold build,
        the server without latency."""
        latency, self.server.latency = self.server.latency, 0.0
        try:
            rec = self.builder(inp, "cold")
        except BenchError as exc:
            inp.errors.append(str(exc))
            say(f"ERROR {exc}")
            return False
        finally:
            self.server.latency = latency
        inp.runs["fill"] = [rec]
        say(f"{inp.key}: cache filled, {rec['wall_s']:.2f} s")
        return True

    def first_rate(self) -> float | None:
        """Seconds per article of the corpus's cold and warm builds (a cache filled, then a
        warm build): what the first --scale size is extrapolated from."""
        corpus = next((i for i in self.inputs if i.key == "corpus"), None)
        if corpus is None:
            return None
        walls = [corpus.runs[s][0]["wall_s"] for s in ("cold", "warm") if corpus.runs.get(s)]
        return sum(walls) / len(corpus.manifest["articles"]) if walls else None

    def scaling(self) -> None:
        """A corpus of each --scale size: its cache filled, then one warm build of every format;
        then more warm builds, smallest size first, while the budget allows. A size is not
        started if its time, extrapolated linearly from the size before, would end after the
        budget."""
        rate = self.first_rate()
        for n in self.args.scale:
            left = self.args.budget - elapsed()
            if rate is not None and rate * n > left:
                reason = (f"estimated {rate * n:.0f} s ({rate:.2f} s per article), "
                          f"{max(left, 0):.0f} s of the budget left")
                self.scale_skipped.append({"articles": n, "reason": reason})
                say(f"scale {n} articles skipped: {reason}")
                continue
            t = time.perf_counter()
            inp = self.scale_input(n)
            self.scaled.append(inp)
            if self.fill(inp):
                self.do(inp, "warm")
                self.do(inp, "warm", sampled=True)
            rate = (time.perf_counter() - t) / n
        for _round in range(2, self.args.runs + 1):
            for inp in self.scaled:
                if not inp.runs.get("warm") or len(inp.runs["warm"]) >= _round:
                    continue
                if elapsed() + self.estimate(inp, "warm") > self.args.budget:
                    continue
                self.do(inp, "warm")

    def run(self) -> None:
        jobs = self.jobs()
        for inp, job in jobs:  # every job once, in order: cold first fills the cache
            if job in AFTER_WARM and not inp.runs.get("warm"):
                self.do(inp, "warm")
            self.do(inp, job)
        for inp, job in jobs:  # and once more with its memory sampled (after its warm build)
            self.do(inp, job, sampled=True)
        self.layout_builds()
        self.scaling()
        for _round in range(2, self.args.runs + 1):
            for inp, job in sorted(jobs, key=lambda j: self.estimate(*j)):
                if len(inp.runs.get(job, [])) >= _round:
                    continue
                if elapsed() + self.estimate(inp, job) > self.args.budget:
                    continue
                if job in AFTER_WARM and len(inp.runs.get("warm", [])) < _round:
                    continue  # after its warm build of the same round, below
                self.do(inp, job)
                if job == "warm":
                    for after in AFTER_WARM:
                        if after in self.args.scenarios and \
                                len(inp.runs.get(after, [])) < _round:
                            self.do(inp, after)
            for inp, job in jobs:  # the memory target's medians: as many sampled runs
                if job in MEMORY_TARGET and len(inp.memory.get(job, [])) < _round and \
                        elapsed() + self.estimate(inp, job) <= self.args.budget:
                    self.do(inp, job, sampled=True)


def elapsed() -> float:
    return time.perf_counter() - _T0


# -- summaries ----------------------------------------------------------------------------------

def med(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 4) if values else None


def summarise(runs: list[dict], memory: list[dict] | None = None) -> dict:
    """Medians of the timed ``runs``, and the peak memory of the process tree from the runs
    whose memory was sampled (``memory``)."""
    if not runs:
        return {}
    s = {"runs": len(runs), "memory_runs": len(memory or [])}
    for key in ("wall_s", "cpu_s", "peak_rss_mb", "other_s"):
        if key in runs[0]:
            s[key] = med([r[key] for r in runs])
    s["peak_tree_mb"] = med([r.get("peak_tree_mb") for r in memory or []])
    if runs[0].get("timings"):  # a no-op build has none
        stages = [st for st in STAGES if any(st in r["timings"] for r in runs)]
        stages += sorted({st for r in runs for st in r["timings"]} - set(stages))
        s["timings"] = {st: med([r["timings"].get(st, 0.0) for r in runs]) for st in stages}
        top = max(s["timings"], key=s["timings"].get)
        s["dominant_stage"] = {"stage": top, "seconds": s["timings"][top],
                               "share_of_wall": round(s["timings"][top] / s["wall_s"], 3),
                               # time outside every stage: interpreter start-up, imports, exit
                               "untimed_s": s.get("other_s"),
                               "untimed_exceeds": (s.get("other_s") or 0) > s["timings"][top]}
    s["outputs"] = runs[-1]["outputs"]
    s["pages"] = runs[-1]["pages"]
    s["embedded_images"] = runs[-1].get("embedded_images", {})
    return s


def size_ratios(summary: dict, image_bytes: int) -> dict:
    return {k: round(v / image_bytes, 4) for k, v in summary.get("outputs", {}).items()
            if image_bytes}


def ratio(a_runs: list[dict], b_runs: list[dict], key: str = "wall_s") -> dict | None:
    if not a_runs or not b_runs:
        return None
    pairs = [round(a[key] / b[key], 4) for a, b in zip(a_runs, b_runs, strict=False) if b[key]]
    return {"measure": key, "per_run": pairs, "median": med(pairs),
            "of_medians": round(med([a[key] for a in a_runs]) / med([b[key] for b in b_runs]), 4)}


def fetch_ideal(inp: Input, args) -> dict | None:
    from builder.settings import FetchSettings

    conc, per_host = FetchSettings().concurrency, FetchSettings().per_host
    hosts = len(inp.manifest["hosts"])
    effective = min(conc, per_host * hosts)
    n, total = inp.images, inp.image_bytes
    latency_term = n * args.latency / effective
    transfer_term = total / (args.bandwidth * effective) if args.bandwidth else 0.0
    biggest = max((i["bytes"] for i in inp.manifest["images"]), default=0)
    floor = args.latency + (biggest / args.bandwidth if args.bandwidth else 0.0)
    ideal = max(latency_term + transfer_term, floor)
    out = {"requests": n, "bytes": total, "latency_s": args.latency,
           "bandwidth_Bps_per_response": args.bandwidth or None,
           "concurrency": conc, "per_host": per_host, "hosts": hosts,
           "effective_concurrency": effective,
           "latency_term_s": round(latency_term, 4), "transfer_term_s": round(transfer_term, 4),
           "ideal_s": round(ideal, 4)}
    cold = inp.runs.get("cold") or []
    if cold:
        fetches = [r["timings"]["fetch"] for r in cold]
        out["measured_fetch_s"] = fetches
        out["measured_median_s"] = med(fetches)
        out["ratio"] = round(med(fetches) / ideal, 3) if ideal else None
    return out


def comparisons(inp: Input) -> dict:
    out = {}
    for name, a, b, key in (
        ("epub_vs_pandoc-epub", "epub", "pandoc-epub", "wall_s"),
        ("epub_vs_calibre-epub", "epub", "calibre-epub", "wall_s"),
        ("pdf_vs_weasyprint", "pdf", "weasyprint", "wall_s"),
        ("pdf_vs_weasyprint_rss", "pdf", "weasyprint", "peak_tree_mb"),
        ("pdf_vs_weasyprint_cpu", "pdf", "weasyprint", "cpu_s"),
        ("pdf_vs_pandoc-pdf", "pdf", "pandoc-pdf", "wall_s"),
        ("pdf_vs_calibre-pdf", "pdf", "calibre-pdf", "wall_s"),
        ("rebuild_vs_warm", "rebuild", "warm", "wall_s"),
        ("grown_vs_warm", "grown", "warm", "wall_s"),
        ("noop_vs_warm", "noop", "warm", "wall_s"),
        ("warm_vs_cold", "warm", "cold", "wall_s"),
        ("kindle_vs_epub", "kindle", "epub", "wall_s"),
        ("pdfx_vs_pdf", "pdfx", "pdf", "wall_s"),
    ):
        r = inp.memory if key == "peak_tree_mb" else inp.runs
        value = ratio(r.get(a, []), r.get(b, []), key)
        if value is not None:
            out[name] = {"builder": a, "against": b, **value}
    return out


def targets(inp: Input, comps: dict, ideal: dict | None, summary: dict) -> list[dict]:
    values = {
        "epub_vs_pandoc": (comps.get("epub_vs_pandoc-epub") or {}).get("median"),
        "pdf_vs_weasyprint": (comps.get("pdf_vs_weasyprint") or {}).get("median"),
        "cold_fetch_vs_ideal": (ideal or {}).get("ratio"),
        "rebuild_vs_warm": (comps.get("rebuild_vs_warm") or {}).get("median"),
        "noop_vs_warm": (comps.get("noop_vs_warm") or {}).get("median"),
        "epub_size_vs_images": None,
        "pdf_rss_vs_weasyprint": (comps.get("pdf_vs_weasyprint_rss") or {}).get("median"),
        "kindle_vs_epub": (comps.get("kindle_vs_epub") or {}).get("median"),
        "kindle_mb": None,
    }
    kindle_size = ((summary.get("kindle") or {}).get("outputs") or {}).get("epub-kindle")
    if kindle_size:
        values["kindle_mb"] = round(kindle_size / 1e6, 2)
    epub_size = ((summary.get("epub") or {}).get("outputs") or {}).get("epub") or \
        ((summary.get("warm") or {}).get("outputs") or {}).get("epub")
    if epub_size and inp.image_bytes:
        values["epub_size_vs_images"] = round(epub_size / inp.image_bytes, 4)
    out = []
    for tid, text, limit in TARGETS:
        v = values[tid]
        out.append({"id": tid, "target": text, "input": inp.key, "value": v, "limit": limit,
                    "met": None if v is None else v <= limit})
    return out


def scale_point(inp: Input) -> dict:
    """The medians of the warm builds of one --scale corpus, and what it holds."""
    warm = inp.runs["warm"]
    s = summarise(warm, inp.memory.get("warm"))
    return {"articles": len(inp.manifest["articles"]), "photos": inp.images,
            "image_mb": round(warm[-1]["image_bytes"] / 1e6, 1), "runs": s["runs"],
            "memory_runs": s["memory_runs"],
            "wall_s": s["wall_s"], "cpu_s": s["cpu_s"], "peak_tree_mb": s["peak_tree_mb"],
            "pages": s["pages"], "timings": s["timings"],
            "fill_s": inp.runs["fill"][0]["wall_s"]}


def growth(measure: str, unit: str, rows: list[dict], key: str, ref: int) -> dict:
    """How ``key`` of the largest size compares with that of ``rows[ref]``: "linear" within
    LINEAR×, else "grows faster than linear"."""
    out = {"measure": measure, "unit": unit, "ratio": None}
    if len(rows) < ref + 2:
        return {**out, "verdict": f"n/a: needs {ref + 2} sizes"}
    small, large = rows[ref], rows[-1]
    out.update({"from_articles": small["articles"], "from": small[key],
                "to_articles": large["articles"], "to": large[key]})
    if (small[key] or 0) <= 0:
        return {**out, "verdict": f"n/a: no increase at {small['articles']} articles to "
                                  "compare with"}
    r = round(large[key] / small[key], 2)
    return {**out, "ratio": r,
            "verdict": "linear" if r <= LINEAR else f"grows faster than linear (×{r:.2f})"}


def scaling_summary(points: list[dict], skipped: list[dict]) -> dict:
    """The --scale sizes, smallest first, each with its wall time per article and the peak RSS
    it adds per article beyond the smallest size; and a verdict per measure: time per article
    at the largest size against the smallest, RSS added per article at the largest size against
    the second smallest (the first size that has an increment)."""
    rows = []
    for p in sorted(points, key=lambda p: p["articles"]):
        row = {**p, "s_per_article": round(p["wall_s"] / p["articles"], 4),
               "mb_per_article": None}
        if rows and p["peak_tree_mb"] is not None and rows[0]["peak_tree_mb"] is not None:
            first = rows[0]
            row["mb_per_article"] = round((p["peak_tree_mb"] - first["peak_tree_mb"])
                                          / (p["articles"] - first["articles"]), 3)
        rows.append(row)
    return {"points": rows, "skipped": skipped, "linear_within": LINEAR,
            "verdicts": {"time": growth("wall time per article", "s", rows, "s_per_article", 0),
                         "rss": growth("peak memory added per article", "MB", rows,
                                       "mb_per_article", 1)}}


# -- report -------------------------------------------------------------------------------------

def f(v, digits=2, suffix=""):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}{suffix}"
    return f"{v}{suffix}"


def mb(n):
    return "–" if n is None else f"{n / 1e6:.1f} MB"


def _output_cells(s: dict, inp: dict) -> tuple[str, str, str]:
    """The outputs (size and × the image bytes), page counts and embedded photos of a run."""
    outs = ", ".join(f"{k} {mb(v)} ({v / inp['image_bytes']:.3f}×)"
                     for k, v in s["outputs"].items())
    pages = ", ".join(f"{k} {v}" for k, v in s["pages"].items()) or "–"
    photos = ", ".join(f"{k} {v}/{inp['images']}" for k, v in s["embedded_images"].items()) or "–"
    return outs, pages, photos


def markdown(data: dict) -> str:
    m = data["meta"]
    lines = [f"# builder benchmark — {m['date']}", "",
             f"Command: `{m['command']}`  ",
             f"Machine: {m['machine']['cpus']} CPU(s), {m['machine']['platform']}, "
             f"Python {m['machine']['python']}  ",
             f"builder {m['versions']['builder']}; peers: "
             + ", ".join(f"{k} {v or 'not installed'}" for k, v in m["versions"].items()
                         if k != "builder") + "  ",
             f"Cold runs: {m['options']['latency']*1000:.0f} ms latency per request, "
             + (f"{m['options']['bandwidth']:.0f} B/s per response"
                if m['options']['bandwidth'] else "no bandwidth cap")
             + f"; budget {m['options']['budget']:.0f} s, up to {m['options']['runs']} run(s) "
             f"each; took {m['elapsed_s']:.0f} s.", ""]
    lines += ["## Targets", "", "| target | input | measured | limit | status |",
              "|---|---|---:|---:|---|"]
    for t in data["targets"]:
        status = "n/a (peer missing or not run)" if t["met"] is None else \
            ("met" if t["met"] else "**not met**")
        lines.append(f"| {t['target']} | {t['input']} | {f(t['value'])}× | {t['limit']}× | "
                     f"{status} |")
    lines += ["", "## Dominant stage", ""]
    for key, per in data["dominant_stage"].items():
        for scen, d in per.items():
            note = (f"; untimed start-up/imports {d['untimed_s']:.2f} s is larger"
                    if d.get("untimed_exceeds") else "")
            lines.append(f"- {key} {scen}: **{d['stage']}** {d['seconds']:.2f} s "
                         f"({d['share_of_wall'] * 100:.0f}% of wall){note}")
    lines += ["", "Columns: medians over the runs; stage columns are the report's `timings` "
              "(s); *other* = wall − sum of stages (interpreter start-up, imports, exit); "
              "outputs: size (× the sum of image bytes); photos in: distinct images embedded "
              "in each output / photos of the input (an EPUB counts its image files, a PDF "
              "its image objects); peak memory: the sum of the PSS of the child's process tree "
              "(its parallel workers included), sampled every 20 ms in runs of their own "
              "(*memory runs*: the sampling slows a run 10-30 %, so the timed runs are not "
              "sampled; the JSON also has `peak_rss_mb`, the largest single process's RSS, "
              "of every run).", ""]
    for key, inp in data["inputs"].items():
        lines += [f"## {key}: {inp['articles']} article(s), {inp['images']} photos, "
                  f"{mb(inp['image_bytes'])} of images", ""]
        lines += ["| scenario | runs (+ memory) | wall (s) | CPU (s) | peak memory (MB) | "
                  + " | ".join(STAGES) + " | other | outputs | pages | photos in |",
                  "|---|---:|---:|---:|---:|" + "---:|" * len(STAGES) + "---:|---|---|---|"]
        for name, s in data["scenarios"][key].items():
            if not s:
                continue
            t = s.get("timings", {})
            outs, pages, photos = _output_cells(s, inp)
            lines.append(f"| {name} | {s['runs']} (+{s['memory_runs']}) | {f(s['wall_s'])} | "
                         f"{f(s['cpu_s'])} | {f(s['peak_tree_mb'], 0)} | "
                         + " | ".join(f(t.get(st)) for st in STAGES)
                         + f" | {f(s['other_s'])} | {outs} | {pages} | {photos} |")
        peers = data["peers"][key]
        if peers:
            lines += ["", "| peer | runs (+ memory) | wall (s) | CPU (s) | peak memory (MB) "
                      "| output | pages | photos in |", "|---|---:|---:|---:|---:|---|---|---|"]
            for name, s in peers.items():
                if "skipped" in s:
                    lines.append(f"| {name} | – | skipped: {s['skipped']} | | | | | |")
                    continue
                if not s:
                    lines.append(f"| {name} | 0 | failed | | | | | |")
                    continue
                outs, pages, photos = _output_cells(s, inp)
                lines.append(f"| {name} | {s['runs']} (+{s['memory_runs']}) | {f(s['wall_s'])} | "
                             f"{f(s['cpu_s'])} | {f(s['peak_tree_mb'], 0)} | {outs} | {pages} | "
                             f"{photos} |")
        comps = data["comparisons"][key]
        if comps:
            lines += ["", "| ratio | measure | per run pair | median | of medians |",
                      "|---|---|---|---:|---:|"]
            for c in comps.values():
                lines.append(f"| {c['builder']} / {c['against']} | {c['measure']} | "
                             + ", ".join(f"{x:.2f}" for x in c["per_run"])
                             + f" | {f(c['median'])} | {f(c['of_medians'])} |")
        ideal = data["fetch_ideal"].get(key)
        if ideal:
            lines += ["", f"Cold-fetch ideal: {ideal['requests']} requests × "
                      f"{ideal['latency_s'] * 1000:.0f} ms ÷ {ideal['effective_concurrency']} "
                      f"+ bytes ÷ bandwidth ({f(ideal['transfer_term_s'])} s) = "
                      f"**{f(ideal['ideal_s'])} s**; measured fetch stage (median) "
                      f"**{f(ideal.get('measured_median_s'))} s**, ratio "
                      f"**{f(ideal.get('ratio'))}**."]
        lines.append("")
    lines += layout_md(data.get("layout", {}))
    lines += scaling_md(data.get("scaling") or {})
    if data["errors"]:
        lines += ["", "## Errors", ""] + [f"- {e}" for e in data["errors"]]
    return "\n".join(lines) + "\n"


def layout_md(layout: dict) -> list[str]:
    """The layout figures of every PDF (bench/layout.py), one table per input."""
    lines = []
    for key, pdfs in layout.items():
        if not pdfs:
            continue
        lines += ["", f"## Layout: {key}", "", "| PDF | pages | blank | gap pages | fill | "
                  "photo share | small | off page | captions with photo | parted |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for who, m in pdfs.items():
            c = m.get("captions", {})
            lines.append(f"| {who} | {m['pages']} | {m['blank']} | {m['gaps']} "
                         f"({m['gap_pct']} %) | {m['fill']} | {m['photo_share']} | "
                         f"{m['small']} | {m['off_page']} | {c.get('with_photo', '–')} of "
                         f"{c.get('found', '–')} | {c.get('parted', '–')} |")
    return lines + ([""] if lines else [])


def scaling_md(scaling: dict) -> list[str]:
    """The --scale table, the verdict per measure and the sizes the budget left out."""
    points, skipped = scaling.get("points") or [], scaling.get("skipped") or []
    if not points and not skipped:
        return []
    lines = ["", "## Scaling", "", "Warm builds of all three formats, one corpus per size (the "
             "corpus's photos range and seed); medians over the runs; pages of the PDF; peak "
             "memory of the process tree. *s per article* includes each build's fixed start-up, so "
             "it falls with size while the growth is linear.", "",
             "| articles | photos | runs | pages | wall (s) | s per article | peak memory (MB) | "
             "MB per article beyond the smallest |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for p in points:
        lines.append(f"| {p['articles']} | {p['photos']} | {p['runs']} | "
                     f"{f(p['pages'].get('pdf'))} | {f(p['wall_s'])} | "
                     f"{f(p['s_per_article'], 3)} | {f(p['peak_tree_mb'], 0)} | "
                     f"{f(p['mb_per_article'], 2)} |")
    lines.append("")
    for v in (scaling.get("verdicts") or {}).values():
        if v["ratio"] is None:
            lines.append(f"- {v['measure']}: {v['verdict']}")
            continue
        lines.append(f"- {v['measure']}: {v['from']:.3f} {v['unit']} at {v['from_articles']} "
                     f"articles, {v['to']:.3f} {v['unit']} at {v['to_articles']} → "
                     f"×{v['ratio']:.2f}: **{v['verdict']}**")
    lines += [f"- {s['articles']} articles: skipped, {s['reason']}" for s in skipped]
    return lines + [""]


# -- main ---------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Benchmark the builder (issue 7).",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--articles", type=int, default=None, help="corpus articles (default 20)")
    p.add_argument("--photos", default=None, help="photos per article, MIN-MAX (default 10-30)")
    p.add_argument("--corpus-seed", type=int, default=7, help="random seed of the corpus")
    p.add_argument("--runs", type=int, default=None, help="runs of each scenario at most "
                   "(default 3); the budget may allow fewer for the expensive ones")
    p.add_argument("--budget", type=float, default=900.0,
                   help="seconds: no extra run is started that would end after this")
    p.add_argument("--inputs", default=None, help="seed,corpus (default: both; --quick: corpus)")
    p.add_argument("--scenarios", default=",".join(SCENARIOS),
                   help="which builder scenarios: " + ",".join(SCENARIOS))
    p.add_argument("--latency", type=float, default=0.1, help="seconds per request, cold runs")
    p.add_argument("--bandwidth", type=float, default=0.0,
                   help="bytes/s per response in cold runs (0: no cap)")
    p.add_argument("--no-peers", action="store_true", help="do not run the peers")
    p.add_argument("--quick", action="store_true",
                   help="a tiny corpus (2 articles × 3 photos), one run, corpus only, "
                        "--scale 2,4")
    p.add_argument("--scale", default=None,
                   help="article counts of the scaling builds (default 5,20,60,100; "
                        "--quick: 2,4; '' for none)")
    p.add_argument("--work", type=Path, default=HERE / "results" / "work",
                   help="where the corpus, caches and outputs go (kept between runs)")
    p.add_argument("--results", type=Path, default=HERE / "results",
                   help="where the JSON and markdown results go")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds one child may take")
    p.add_argument("--keep", action="store_true", help="keep every output file")
    p.add_argument("--layout-seeds", default="11,23",
                   help="corpus seeds whose A5 and A4 PDFs are laid out and measured too "
                        "('' for none)")
    a = p.parse_args(argv)
    a.articles = a.articles if a.articles is not None else (2 if a.quick else 20)
    photos = a.photos or ("3-3" if a.quick else "10-30")
    lo, _, hi = photos.partition("-")
    a.photos = (int(lo), int(hi or lo))
    a.runs = a.runs if a.runs is not None else (1 if a.quick else 3)
    a.inputs = [s.strip() for s in (a.inputs or ("corpus" if a.quick else "seed,corpus"))
                .split(",") if s.strip()]
    a.scenarios = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    bad = [s for s in a.scenarios if s not in SCENARIOS] + \
        [s for s in a.inputs if s not in ("seed", "corpus")]
    if bad or a.runs < 1 or a.articles < 1 or not (1 <= a.photos[0] <= a.photos[1]):
        p.error(f"bad option value {bad[0] if bad else ''}".strip())
    for after in AFTER_WARM:
        if after in a.scenarios and "warm" not in a.scenarios:
            a.scenarios.insert(a.scenarios.index(after), "warm")
    if "cold" in a.scenarios:  # the first cold run fills the cache of the warm ones
        a.scenarios.remove("cold")
    a.scenarios.insert(0, "cold")
    try:
        a.layout_seeds = [int(x) for x in a.layout_seeds.split(",") if x.strip()]
    except ValueError:
        p.error(f"bad option value --layout-seeds {a.layout_seeds}")
    scale = a.scale if a.scale is not None else ("2,4" if a.quick else "5,20,60,100")
    try:
        a.scale = sorted({int(x) for x in scale.split(",") if x.strip()})
    except ValueError:
        p.error(f"bad option value --scale {scale}")
    if any(n < 1 for n in a.scale):
        p.error(f"bad option value --scale {scale}")
    return a


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    args = parse_args(raw)
    from builder import __version__

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    inputs = make_inputs(args, work)
    versions = {"builder": __version__, **peers_mod.versions()}
    if not args.no_peers:
        for inp in inputs:
            peer_dir = inp.root / "peers"
            peer_dir.mkdir(exist_ok=True)
            inp.html = peers_mod.write_html(inp.root, inp.manifest,
                                            inp.title or "benchmark", inp.root / "book.html")
            inp.peer_specs = peers_mod.peers(inp.html, peer_dir, inp.title or "benchmark")
            for name, spec in inp.peer_specs.items():
                if "skipped" in spec:
                    say(f"{inp.key}: peer {name} skipped: {spec['skipped']}")

    with ImageServer(work, ports=max(len(i.manifest["hosts"]) for i in inputs),
                     latency=args.latency, bandwidth=args.bandwidth or None,
                     max_seconds=max(args.budget, 60) + 2 * args.timeout) as server:
        say(f"image server on 127.0.0.1 ports {server.ports}")
        bench = Bench(args, work, server, inputs)
        try:
            bench.run()
        finally:
            if not args.keep:
                for inp in inputs + bench.scaled:
                    for path in inp.root.glob("out-*"):
                        shutil.rmtree(path, ignore_errors=True)
                    for path in inp.root.glob("cache-cold-*"):
                        shutil.rmtree(path, ignore_errors=True)
                    shutil.rmtree(inp.cache, ignore_errors=True)

    command = "python bench/run.py" + ("" if not raw else " " + " ".join(raw))
    if os.environ.get("MAKELEVEL"):
        command = f"make bench  ({command})"
    data = {
        "meta": {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                 "command": command, "elapsed_s": round(elapsed(), 1),
                 "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                             "python": platform.python_version()},
                 "versions": versions,
                 "options": {"runs": args.runs, "budget": args.budget,
                             "latency": args.latency, "bandwidth": args.bandwidth,
                             "articles": args.articles, "photos": list(args.photos),
                             "corpus_seed": args.corpus_seed, "quick": args.quick,
                             "peers": not args.no_peers, "scenarios": args.scenarios,
                             "scale": args.scale}},
        "inputs": {}, "scenarios": {}, "peers": {}, "runs": {}, "memory_runs": {},
        "comparisons": {},
        "fetch_ideal": {}, "targets": [], "dominant_stage": {}, "errors": [], "layout": {},
    }
    for inp in inputs:
        data["inputs"][inp.key] = inp.describe()
        data["runs"][inp.key] = inp.runs
        data["memory_runs"][inp.key] = inp.memory
        summary = {s: summarise(inp.runs.get(s, []), inp.memory.get(s))
                   for s in args.scenarios}
        for value in summary.values():
            if value:
                value["size_vs_images"] = size_ratios(value, inp.image_bytes)
        data["scenarios"][inp.key] = summary
        data["peers"][inp.key] = {
            name: ({"skipped": spec["skipped"]} if "skipped" in spec
                   else summarise(inp.runs.get(name, []), inp.memory.get(name)))
            for name, spec in inp.peer_specs.items()}
        comps = comparisons(inp)
        data["comparisons"][inp.key] = comps
        ideal = fetch_ideal(inp, args)
        data["fetch_ideal"][inp.key] = ideal
        data["targets"] += targets(inp, comps, ideal, summary)
        data["dominant_stage"][inp.key] = {s: v["dominant_stage"] for s, v in summary.items()
                                           if v.get("dominant_stage")}
        data["errors"] += inp.errors
        data["layout"][inp.key] = inp.layout
    data["scaling"] = {**scaling_summary([scale_point(i) for i in bench.scaled
                                          if i.runs.get("warm")], bench.scale_skipped),
                       "runs": {i.key: i.runs for i in bench.scaled},
                       "memory_runs": {i.key: i.memory for i in bench.scaled}}
    for inp in bench.scaled:
        data["errors"] += inp.errors

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    text = json.dumps(data, ensure_ascii=False, indent=1)
    md = markdown(data)
    for name in (f"bench-{stamp}", "latest"):
        (args.results / f"{name}.json").write_text(text + "\n", encoding="utf-8")
        (args.results / f"{name}.md").write_text(md, encoding="utf-8")
    say(f"results: {args.results / f'bench-{stamp}.md'} (and latest.md, latest.json)")
    print()
    print(md)
    return 1 if data["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
