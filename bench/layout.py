"""Layout figures of any photo PDF (the builder's or a peer's), from the boxes poppler's
``pdftohtml -xml`` reports, so that they compare side by side.

- ``pages``; ``blank``: pages with nothing but a running head or a folio;
- ``gaps``: pages whose content stops with ``GAP`` (35 %) or more of the usable height free
  while the next page opens with a photo (a photo did not fit and left a hole); ``gap_pct`` of
  the pages that are not blank;
- ``fill``: the mean share of the usable height that content reaches, pages not blank;
- ``photo_share``: the photos' mean share of the page area (a full-page cover aside);
- ``small``: photos under 10 % of the page although over 300 ppi as placed;
- ``off_page``: boxes past the page's edges;
- with caption texts: ``captions`` found, ``with_photo`` (on a page with a photo) and
  ``parted`` (opening a page above any photo).

The usable height is the document's own: from the 5th percentile of where content starts on a
page to the 95th percentile of where it ends.

    python bench/layout.py BOOK.pdf [--captions ARTICLES_DIR]
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

GAP = 0.35
ZOOM = 1.5  # pdftohtml's scale: 1.5 px per point
CAPTION = re.compile(r"[↑▲]\s*([^<↑▲]{12,})")
PROBE = 14  # a caption is found by its first characters


def _jpeg_width(data: bytes) -> int:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return int.from_bytes(data[16:20], "big")
    i = 2
    while data[:2] == b"\xff\xd8" and i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker, size = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[i + 7:i + 9], "big")
        i += 2 + size
    return 0


def read_pages(pdf: Path) -> list[dict]:
    """Each page's size, images (box and ppi as placed) and text lines (box and text)."""
    with tempfile.TemporaryDirectory(prefix="bench-layout-") as tmp:
        subprocess.run(["pdftohtml", "-xml", "-q", "-nodrm", str(pdf), f"{tmp}/doc"],
                       check=True, timeout=1800)
        xml = Path(f"{tmp}/doc.xml").read_text(encoding="utf-8", errors="replace")
        widths = {}
        for src in set(re.findall(r'<image [^>]*src="([^"]+)"', xml)):
            try:
                widths[src] = _jpeg_width(Path(src).read_bytes())
            except OSError:
                widths[src] = 0
    pages = []
    for m in re.finditer(r'<page number="\d+"[^>]*height="(\d+)" width="(\d+)">(.*?)</page>',
                         xml, re.S):
        height, width, body = int(m.group(1)), int(m.group(2)), m.group(3)
        images = []
        for im in re.finditer(r'<image top="(-?\d+)" left="(-?\d+)" width="(\d+)" '
                              r'height="(\d+)"(?: src="([^"]+)")?', body):
            top, left, w, h = map(int, im.groups()[:4])
            inches = w / ZOOM / 72
            images.append((top, left, w, h, widths.get(im.group(5), 0) / inches if inches else 0))
        texts = []
        for tm in re.finditer(r'<text top="(-?\d+)" left="(-?\d+)" width="(\d+)" '
                              r'height="(\d+)"[^>]*>(.*?)</text>', body, re.S):
            words = html.unescape(re.sub(r"<[^>]+>", "", tm.group(5)))
            if words.strip():
                texts.append((*map(int, tm.groups()[:4]), words))
        pages.append({"height": height, "width": width, "images": images, "texts": texts})
    return pages


def _furniture(pages: list[dict]) -> set:
    """(page, line) of running heads (a line near the top repeated at one height on three or
    more pages) and folios (a number alone near the top or bottom edge)."""
    near_top: dict = {}
    for i, page in enumerate(pages):
        for j, (top, _, _, _, words) in enumerate(page["texts"]):
            if top < 0.10 * page["height"]:
                near_top.setdefault((top, words.strip()), []).append((i, j))
    out = {key for found in near_top.values() if len(found) >= 3 for key in found}
    for i, page in enumerate(pages):
        for j, (top, _, _, h, words) in enumerate(page["texts"]):
            edge = top < 0.10 * page["height"] or top + h > 0.90 * page["height"]
            if edge and re.fullmatch(r"\s*[\divxlcIVXLC]+\s*", words):
                out.add((i, j))
    return out


def _quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(q * (len(values) - 1))))] if values else 0


def _probes(paths: list[Path]) -> list[str]:
    """The first characters of each ↑ caption in the articles, where they occur once."""
    files = [f for p in paths for f in (sorted(p.glob("*.txt")) if p.is_dir() else [p])]
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    probes, everything = [], []
    for f in files:
        body = f.read_text(encoding="utf-8", errors="replace")
        everything.append(squash(html.unescape(re.sub(r"<[^>]+>", "", body))))
        for m in CAPTION.finditer(body):
            caption = re.sub(r"[\"“”'‘’]", "", squash(html.unescape(m.group(1))))
            if len(caption) >= PROBE + 2:
                probes.append(caption[:PROBE])
    joined = "\n".join(everything)
    return [p for p in probes if joined.count(p) == 1]


def figures(pdf: Path, captions: list[Path] | None = None) -> dict:
    pages = read_pages(pdf)
    furniture = _furniture(pages)
    content, off, small = [], 0, 0
    for i, page in enumerate(pages):
        h, w = page["height"], page["width"]
        items = []
        for top, left, iw, ih, ppi in page["images"]:
            if left < -2 or top < -2 or left + iw > w + 2 or top + ih > h + 2:
                off += 1
            elif iw * ih < 0.10 * w * h and ppi > 300:
                small += 1
            items.append((max(top, 0), min(top + ih, h), True))
        for j, (top, left, tw, th, _) in enumerate(page["texts"]):
            if left < -2 or left + tw > w + 2:
                off += 1
            if (i, j) not in furniture:
                items.append((top, top + th, False))
        content.append(sorted(items))
    used = [c for c in content if c]
    lo = _quantile([c[0][0] for c in used], 0.05)
    hi = _quantile([max(b for _, b, _ in c) for c in used], 0.95)
    gaps, fills = 0, []
    for i, c in enumerate(content):
        if not c:
            continue
        free = (hi - min(max(b for _, b, _ in c), hi)) / max(1, hi - lo)
        fills.append(1 - max(0.0, free))
        following = content[i + 1] if i + 1 < len(content) else None
        gaps += free >= GAP and bool(following) and following[0][2]
    shares = [iw * ih / (p["width"] * p["height"]) for p in pages
              for _, _, iw, ih, _ in p["images"] if iw * ih < 0.9 * p["width"] * p["height"]]
    out = {"pages": len(pages), "blank": len(pages) - len(used), "gaps": gaps,
           "gap_pct": round(100 * gaps / max(1, len(used)), 1),
           "fill": round(statistics.fmean(fills), 3) if fills else 0.0,
           "photos": len(shares),
           "photo_share": round(statistics.fmean(shares), 3) if shares else 0.0,
           "small": small, "off_page": off}
    if captions:
        out["captions"] = _captions(pages, content, furniture, _probes(captions))
    return out


def _captions(pages, content, furniture, probes) -> dict:
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    texts = [[t for j, t in enumerate(p["texts"]) if (i, j) not in furniture]
             for i, p in enumerate(pages)]
    joined = [squash("".join(t[4] for t in ts)) for ts in texts]
    found = with_photo = parted = 0
    for probe in probes:
        hits = [i for i, s in enumerate(joined) if probe in s]
        if not hits:
            continue
        found += 1
        i = hits[0]
        with_photo += bool(pages[i]["images"])
        c = content[i]
        if c and not c[0][2]:
            first_photo = min((top for top, _, is_photo in c if is_photo), default=10 ** 9)
            band = [t for t in texts[i]
                    if t[0] < min(c[0][0] + 0.06 * pages[i]["height"], first_photo)]
            parted += probe in squash("".join(t[4] for t in band))
    return {"probes": len(probes), "found": found, "with_photo": with_photo, "parted": parted}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdf", nargs="+", type=Path)
    ap.add_argument("--captions", nargs="*", type=Path)
    args = ap.parse_args()
    for pdf in args.pdf:
        print(pdf.name, figures(pdf, args.captions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
