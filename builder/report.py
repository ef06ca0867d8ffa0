"""The build report: what was built, every image's outcome, warnings and timings. A warning
is logged once, when it is added (the policy is in :mod:`builder.log`)."""

from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from .audit import Tally, article_audit, summary_line, tally
from .model import Article, Asset
from .text import one_line, shown_url

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    name: str = ""
    title: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    articles: list[dict] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    placed: list[dict] = field(default_factory=list)  # photos in the PDF: page, size, dpi
    skipped: list[dict] = field(default_factory=list)  # articles left out: source, error
    layout: dict = field(default_factory=dict)  # the print pages: see layout.check
    up_to_date: bool = False  # nothing changed since the last build: nothing was done
    #: What was done again and what was kept from an earlier build, by kind of work:
    #: ``{"cleaned articles": {"done": 1, "kept": 19}, "PDF parts": …}``.
    work: dict[str, dict[str, int]] = field(default_factory=dict)
    #: The booklet: its sheet sides, pages per signature, creep, and how to print and bind it.
    imposition: dict = field(default_factory=dict)
    #: The preflight of the PDF (and of its separate cover): its profile, problems, warnings.
    preflight: dict[str, dict] = field(default_factory=dict)
    #: Each device's EPUB: its size, its budget and the photos re-encoded to meet it.
    epubs: dict[str, dict] = field(default_factory=dict)

    def count(self, kind: str, kept: bool) -> None:
        tally = self.work.setdefault(kind, {"done": 0, "kept": 0})
        tally["kept" if kept else "done"] += 1

    def warn(self, message: str) -> None:
        message = one_line(message)
        if message not in self.warnings:
            self.warnings.append(message)
            log.warning("%s", message)

    def absorb(self, other: BuildReport) -> None:
        """Take in the report of work done in another process (the print outputs): its
        timings, counts and warnings (logged there already), the print's layout, photos,
        preflight and booklet."""
        for stage, took in other.timings.items():
            self.timings[stage] = round(self.timings.get(stage, 0.0) + took, 4)
        for kind, counted in other.work.items():
            mine = self.work.setdefault(kind, {"done": 0, "kept": 0})
            for what in ("done", "kept"):
                mine[what] += counted.get(what, 0)
        self.warnings += [w for w in other.warnings if w not in self.warnings]
        self.placed += other.placed
        self.layout = other.layout or self.layout
        self.imposition = other.imposition or self.imposition
        self.preflight.update(other.preflight)

    @contextmanager
    def timed(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = round(self.timings.get(stage, 0.0)
                                        + time.perf_counter() - start, 4)

    def add_article(self, article: Article) -> None:
        self.articles.append({
            "source": str(article.source), "title": article.title,
            "figures": len(article.figures),
            "images": [shown_url(ref.url) for ref in article.images],
            "cleaning": dict(article.stats),
        })

    def add_audits(self, articles: list[Article], assets: dict[str, Asset]) -> None:
        """Each article's audit, once its images were fetched."""
        by_source = {entry["source"]: entry for entry in self.articles}
        for article in articles:
            by_source[str(article.source)]["audit"] = article_audit(article, assets)

    def add_epub(self, made) -> None:
        """What :func:`builder.ereader.make` made for a device (its budget's work)."""
        self.epubs[made.device.name] = {
            "device": made.device.name, "size": made.size, "budget": made.budget,
            "at_floor": made.floor, "reduced": [
                {**r, "url": shown_url(r["url"])} for r in made.reduced]}

    def tally(self) -> Tally:
        return tally(self.articles)

    def add_images(self, assets: dict[str, Asset]) -> None:
        seen = set()
        for url in sorted(assets):
            asset = assets[url]
            if asset.url in seen:
                continue
            seen.add(asset.url)
            self.images.append({
                "url": shown_url(asset.url), "status": asset.status,
                "reason": one_line(asset.reason) if asset.reason else None,
                "bytes": asset.bytes, "width": asset.width, "height": asset.height,
                "media_type": asset.media_type,
            })

    def counts(self) -> dict[str, int]:
        out = {"ok": 0, "cached": 0, "placeholder": 0}
        for image in self.images:
            out[image["status"]] += 1
        return out

    def to_json(self) -> str:
        data = {"name": self.name, "title": self.title, "outputs": self.outputs,
                "articles": self.articles, "images": self.images, "warnings": self.warnings,
                "timings": self.timings, "print": self.placed, "skipped": self.skipped,
                "layout": self.layout, "work": self.work, "epubs": self.epubs,
                "imposition": self.imposition, "preflight": self.preflight}
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    def summary(self, listed: bool = False) -> list[str]:
        """The lines a person reads at the end; ``listed``: the warnings were shown."""
        if self.up_to_date:
            return ["up to date: nothing changed since the last build (--force rebuilds)"] + \
                [f"{kind:8} {path}" for kind, path in self.outputs.items()]
        c = self.counts()
        lines = [f"{len(self.articles)} article(s), {len(self.images)} image(s): "
                 f"{c['ok']} fetched, {c['cached']} cached, {c['placeholder']} failed"]
        for entry in self.skipped:
            lines.append(f"left out {entry['source']}: {entry['error']}")
        for kind, path in self.outputs.items():
            lines.append(f"{kind:8} {path}")
        if self.warnings:
            where = "above and in the report" if listed else "see the report, or run with -v"
            lines.append(f"{len(self.warnings)} warning(s); {where}")
        for kind, result in self.preflight.items():
            if result["profile"] != "home" or result["problems"]:
                lines.append(f"preflight of the {kind} for {result['profile']}: "
                             f"{'passed' if result['passed'] else 'FAILED'}, "
                             f"{len(result['warnings'])} warning(s)")
        if self.imposition:
            lines.append("booklet: " + self.imposition["how"])
        if any("audit" in entry for entry in self.articles):
            lines.append(summary_line(self.tally()))
        for name, e in self.epubs.items():
            if e["reduced"]:
                saved = sum(r["before"] - r["after"] for r in e["reduced"])
                lines.append(f"{name}: {len(e['reduced'])} photo(s) re-encoded to fit "
                             f"{e['budget'] / 1e6:.1f} MB: {(e['size'] + saved) / 1e6:.1f} → "
                             f"{e['size'] / 1e6:.1f} MB")
        kept = [f"{t['kept']} of {t['kept'] + t['done']} {kind}"
                for kind, t in self.work.items() if t["kept"]]
        if kept:
            lines.append("kept from an earlier build: " + ", ".join(kept))
        return lines
