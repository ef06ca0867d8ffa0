"""The EPUB for each e-reader (:mod:`builder.devices`): its photos scaled into the device's box,
its markup and stylesheet as the device reads them best, and — with a size budget — photos
re-encoded until the book fits.

The budget is met a step at a time. Each photo has a ladder of encodings, each smaller than the
one before: JPEG quality 80, 72, 66 and 60 at its size on the device, then quality 60 at 85 %
of that size and smaller, never under 1000 pixels on the long edge (:data:`FLOOR_EDGE`; a
photo already smaller stays as large as it is). A round encodes the next step of every photo
still on its ladder; the steps are then taken in the order of what they save, largest first,
until the book fits. Every encoding is kept in the image store by (photo, box, quality), and
the steps taken by (photos, device, budget) in the build's memo, so a warm build encodes
nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from . import kepub
from .devices import Device, box
from .epub import package, zip_size
from .fetch import Store
from .memo import Memo, code_version, digest
from .model import Asset, Book, EpubDoc, EpubRendition
from .photos import Screen, fit, fitted, for_screen
from .render import render_epub
from .theme import Theme
from .workers import fork_map

QUALITIES = (80, 72, 66, 60)
FLOOR_QUALITY = QUALITIES[-1]
FLOOR_EDGE = 1000
SHRINK = 0.85
#: Bytes kept free under a budget: the text deflates a few bytes differently once the photos'
#: names change.
SLACK = 4096


@dataclass(frozen=True)
class Made:
    """One device's EPUB, ready to write, and what its budget did."""

    device: Device
    rendition: EpubRendition
    budget: int  # bytes; 0: none
    size: int  # the size the EPUB will have, in bytes (to a few bytes, once photos changed)
    reduced: tuple[dict, ...] = ()  # the photos re-encoded for the budget, largest saving first
    floor: bool = False  # every photo reached its floor before the book fitted


def screen(dev: Device, settings) -> Screen:
    return Screen(box(dev, settings.images.epub_max_edge), flatten=dev.flatten,
                  photo_jpeg=dev.photos_as_jpeg, gray=settings.epub.grayscale)


def device_assets(settings, book: Book, dev: Device, store: Store) -> dict[str, Asset]:
    """The book's photos as ``dev`` holds them, each made once and kept in ``store``."""
    plain = dev.name == "generic" and not settings.epub.grayscale
    shape = screen(dev, settings)
    held: dict[str, Asset] = {}
    for key, asset in book.assets.items():
        if asset.media_type == "image/svg+xml":
            held[key] = asset
            continue
        if plain:  # the generic book: only photos over the box change (as it always was)
            edge = shape.box[0]
            if max(asset.width, asset.height) <= edge:
                held[key] = asset
                continue
            derived = f"builder:fit/{edge}/{asset.sha256}"
            made = store.derived(derived, lambda a=asset, e=edge: fit(a.path.read_bytes(),
                                                                       a.media_type, e))
        elif asset.media_type == "image/jpeg" and not shape.gray and \
                fitted(asset.width, asset.height, shape.box) == (asset.width, asset.height):
            held[key] = asset  # nothing a device does changes a JPEG that fits its box
            continue
        else:
            made = _encoded(store, asset, shape)
        held[key] = _as(made, asset)
    return held


def _derived(asset: Asset, shape: Screen) -> str:
    return f"builder:screen/{shape.key}/{asset.sha256}"


def _encoded(store: Store, asset: Asset, shape: Screen) -> Asset:
    derived = _derived(asset, shape)
    return store.derived(derived, lambda: for_screen(asset.path.read_bytes(),
                                                     asset.media_type, shape))


def _as(made: Asset, original: Asset) -> Asset:
    """``made`` standing for ``original`` in the report: its URL, outcome and bytes fetched."""
    return replace(made, url=original.url, status=original.status, reason=original.reason,
                   bytes=original.bytes)


def _device_docs(rendition: EpubRendition, dev: Device) -> EpubRendition:
    """The rendition as ``dev`` reads it: a kepub's spans and wrappers and Kobo's rule; the
    language by its primary subtag."""
    def lang(tag: str) -> str:
        return tag.split("-")[0] if dev.primary_language else tag

    meta = replace(rendition.meta, lang=lang(rendition.meta.lang))
    docs = tuple(EpubDoc(d.file_name, d.title, lang(d.lang),
                         kepub.convert(d.body) if dev.kepub else d.body, d.kind, d.sections)
                 for d in rendition.docs)
    css = rendition.stylesheet + (kepub.STYLE if dev.kepub else "")
    return replace(rendition, meta=meta, docs=docs, stylesheet=css, device=dev.name)


def make(settings, book: Book, theme: Theme, modified: dt.datetime, dev: Device,
         budget: int, store: Store, kept: Memo, workers: int = 1) -> Made:
    """The EPUB of ``book`` for ``dev``, its photos re-encoded to fit ``budget`` bytes (0:
    none)."""
    assets = device_assets(settings, book, dev, store)
    rendition = _device_docs(render_epub(replace(book, epub_assets=assets), theme, modified), dev)
    entries = package(rendition)
    size = zip_size(entries)
    if not budget or size <= budget:
        return Made(dev, rendition, budget, size)
    photos = _shown(book, assets, rendition)
    fixed = size - sum(a.path.stat().st_size for a in photos.values())
    room = budget - fixed - SLACK
    steps, floor = _fit(settings, book, dev, room, photos, store, kept, workers)
    reduced = dict(assets)
    report = []
    for key, (made, level) in steps.items():
        before = photos[key]
        for same in (k for k, a in assets.items() if a.name == before.name):  # one file, all keys
            reduced[same] = _as(made, assets[same])
        report.append({"url": before.url, "before": before.path.stat().st_size,
                       "after": made.path.stat().st_size, "quality": level[1],
                       "width": made.width, "height": made.height})
    report.sort(key=lambda r: (r["after"] - r["before"], r["url"]))
    rendition = _device_docs(render_epub(replace(book, epub_assets=reduced), theme, modified),
                             dev)
    size = fixed + sum(reduced[k].path.stat().st_size for k in photos)
    return Made(dev, rendition, budget, size, tuple(report), floor)


def _shown(book: Book, assets: dict[str, Asset], rendition: EpubRendition) -> dict[str, Asset]:
    """The JPEG photos the rendition holds, by asset key (once each: the first key of a file;
    :func:`make` gives the others what the first gets)."""
    names = {image.file_name.rsplit("/", 1)[-1] for image in rendition.images}
    out: dict[str, Asset] = {}
    taken = set()
    for key in sorted(assets):
        a = assets[key]
        if a.media_type == "image/jpeg" and a.name in names and a.name not in taken:
            taken.add(a.name)
            out[key] = a
    return out


def ladder(width: int, height: int) -> list[tuple[tuple[int, int], int]]:
    """A photo's steps: (pixel box, JPEG quality), each smaller than the one before."""
    steps = [((width, height), q) for q in QUALITIES]
    long = max(width, height)
    while long > FLOOR_EDGE:
        long = max(FLOOR_EDGE, int(long * SHRINK))
        scale = long / max(width, height)
        steps.append(((max(1, round(width * scale)), max(1, round(height * scale))),
                      FLOOR_QUALITY))
    return steps


@dataclass(frozen=True)
class _Job:
    key: str
    original: Asset
    shape: Screen


def _encode(store_root, job: _Job) -> Asset:
    return _encoded(Store(store_root), job.original, job.shape)


def _fit(settings, book: Book, dev: Device, room: int, photos: dict[str, Asset], store: Store,
         kept: Memo, workers: int) -> tuple[dict[str, tuple[Asset, tuple]], bool]:
    """The steps that bring the photos' bytes under ``room``: ``{key: (encoding, (box,
    quality))}``; and whether every photo reached its floor first."""
    base = screen(dev, settings)
    plan_key = digest(code_version(), "budget", dev.name, base.key, str(room),
                      *(f"{k}\0{a.sha256}" for k, a in sorted(photos.items())))
    found_plan = kept.get_value(plan_key, tuple[tuple[str, int], ...])
    planned = dict(found_plan) if found_plan is not None else None
    ladders = {k: ladder(a.width, a.height) for k, a in photos.items()}

    def shape(key: str, level: int) -> Screen:
        (w, h), q = ladders[key][level]
        return replace(base, box=(w, h), quality=q)

    if planned is not None and all(0 <= v < len(ladders.get(k, ())) for k, v in planned.items()):
        found = {k: store.get(_derived(book.assets[k], shape(k, v)))
                 for k, v in planned.items()}
        if all(found.values()):
            total = sum(found[k].path.stat().st_size if k in found else a.path.stat().st_size
                        for k, a in photos.items())
            return {k: (found[k], ladders[k][v]) for k, v in planned.items()}, total > room
    size = {k: a.path.stat().st_size for k, a in photos.items()}
    at: dict[str, int] = {}  # the step each reduced photo is at
    made: dict[str, Asset] = {}
    level = {k: 0 for k in photos}  # the next step to try
    total = sum(size.values())
    while total > room:
        todo = [k for k in sorted(photos) if level[k] < len(ladders[k])]
        if not todo:
            break
        jobs = [_Job(k, book.assets[k], shape(k, level[k])) for k in todo]
        looked = [store.get(_derived(j.original, j.shape), verify=False) for j in jobs]
        missing = [j for j, found in zip(jobs, looked, strict=True) if found is None]
        encoded = iter(fork_map(_encode, missing, workers, store.root))
        results = [found or next(encoded) for found in looked]
        offers = []
        for job, result in zip(jobs, results, strict=True):
            saving = size[job.key] - result.path.stat().st_size
            if saving > 0:
                offers.append((-saving, job.key, result))
            else:
                level[job.key] += 1  # no gain at this step: the next one may
        if not offers and not any(level[k] < len(ladders[k]) for k in todo):
            break
        for neg, key, result in sorted(offers, key=lambda o: (o[0], o[1])):
            if total <= room:
                break
            total += neg
            size[key] -= -neg
            made[key], at[key] = result, level[key]
            level[key] += 1
    kept.put_value(plan_key, tuple(sorted(at.items())))
    chosen = {k: store.get(_derived(book.assets[k], shape(k, at[k]))) for k in made}
    if not all(chosen.values()):  # damaged since it was looked at: made again
        chosen = {k: a or _encoded(store, book.assets[k], shape(k, at[k]))
                  for k, a in chosen.items()}
    return {k: (chosen[k], ladders[k][at[k]]) for k in made}, total > room
