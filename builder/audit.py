"""The proof that nothing was lost: for each article, every image of the source is embedded,
a placeholder (with the reason), or dropped for a counted reason (a tracking pixel, a lazy-load
spinner …); every caption is attached to its photos or kept as text (stranded); and the text
before and after cleaning is counted. The report holds one audit per article; the console
summary says whether it all adds up."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Article, Asset, asset_key, without_fragment
from .text import shown_url


@dataclass(frozen=True)
class Tally:
    """What the audits of a book add up to."""

    photos: int = 0
    captions: int = 0
    placeholders: int = 0
    dropped: int = 0
    dropped_why: tuple[str, ...] = ()  # the reasons, as counted
    stranded: int = 0
    unexplained: int = 0
    stranded_in: tuple[str, ...] = ()  # the articles with a stranded caption
    unexplained_in: tuple[str, ...] = ()

    @property
    def accounted(self) -> bool:
        return not self.stranded and not self.unexplained


def article_audit(article: Article, assets: dict[str, Asset]) -> dict:
    """The audit of a cleaned ``article`` once its images were fetched (``assets``)."""
    a = article.audit
    folder = article.source.parent
    placeholders, embedded = [], 0
    for fig in article.figures:
        for ref in fig.images:
            asset = assets.get(asset_key(ref.url, folder))
            if asset is not None and asset.status == "placeholder":
                placeholders.append({"url": shown_url(ref.url), "reason": asset.reason})
            else:
                embedded += 1
    head = None
    if article.cover is not None:
        asset = assets.get(asset_key(article.cover.url, folder))
        head = {"url": shown_url(article.cover.url),
                "status": asset.status if asset else "missing",
                "in_body": any(without_fragment(r.url) == without_fragment(article.cover.url)
                               for fig in article.figures for r in fig.images),
                "opens_body": article.cover_in_body, "caption": bool(article.cover_caption)}
    return {
        "images": {"in_source": a.images_in_source, "embedded": embedded,
                   "placeholders": placeholders, "dropped": dict(a.dropped),
                   "repeated": a.repeated, "unexplained": a.unexplained},
        "head_image": head,
        "captions": {"in_source": a.captions_in_source, "attached": a.captions_attached,
                     "stranded": a.captions_stranded},
        "text": {"before": a.text_before, "after": a.text_after},
    }


def tally(articles: list[dict]) -> Tally:
    """The sum of the audits of the report's ``articles`` entries."""
    photos = captions = placeholders = dropped = stranded = unexplained = 0
    stranded_in, unexplained_in, why = [], [], {}
    for entry in articles:
        audit = entry.get("audit")
        if audit is None:
            continue
        images, caps, head = audit["images"], audit["captions"], audit["head_image"]
        photos += images["in_source"] + (1 if head and not head["in_body"] else 0)
        captions += caps["in_source"]
        placeholders += len(images["placeholders"]) + (
            1 if head and not head["in_body"] and head["status"] == "placeholder" else 0)
        dropped += sum(images["dropped"].values())
        for reason, n in images["dropped"].items():
            why[reason] = why.get(reason, 0) + n
        stranded += caps["stranded"]
        unexplained += images["unexplained"]
        if caps["stranded"]:
            stranded_in.append(entry["source"])
        if images["unexplained"]:
            unexplained_in.append(entry["source"])
    return Tally(photos, captions, placeholders, dropped,
                 tuple(f"{n} {reason}" for reason, n in sorted(why.items())), stranded,
                 unexplained, tuple(stranded_in), tuple(unexplained_in))


def summary_line(t: Tally) -> str:
    """``N photos and M captions, all accounted for`` — or what is not."""
    head = f"{t.photos} photo(s) and {t.captions} caption(s)"
    details = []
    if t.placeholders:
        details.append(f"{t.placeholders} shown as placeholders")
    if t.dropped:
        details.append(f"{t.dropped} left out: " + ", ".join(t.dropped_why))
    if t.accounted:
        return f"{head}, all accounted for" + (f" ({'; '.join(details)})" if details else "")
    problems = []
    if t.stranded:
        problems.append(f"{t.stranded} caption(s) without their photo, kept as text in "
                        + ", ".join(t.stranded_in))
    if t.unexplained:
        problems.append(f"{t.unexplained} photo(s) lost for no counted reason in "
                        + ", ".join(t.unexplained_in))
    return f"{head}, not all accounted for: " + "; ".join(problems + details)
