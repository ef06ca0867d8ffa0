"""Small text helpers every stage shares: scrubbing untrusted text, slugs, CJK detection."""

from __future__ import annotations

import re
import unicodedata

# ESC-introduced terminal sequences (CSI, OSC, two-character escapes), then the characters that
# must never reach an output, a log line or the report: C0 controls but tab and newline, DEL,
# C1 controls, U+FFFE/U+FFFF and lone surrogates.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")


def scrub(text: str) -> str:
    """Remove control characters and terminal escapes; CR and CRLF become LF."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _FORBIDDEN.sub("", _ANSI.sub("", text))


def one_line(text: str) -> str:
    """Scrubbed text on one line, for titles, log lines and the report."""
    return " ".join(scrub(text).split())


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def detect_language(text: str) -> str:
    """A BCP 47 primary tag guessed from the letters of ``text``: zh, ja, ko or en."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "en"
    sample = "".join(letters[:5000])
    kana, hangul, han = (len(r.findall(sample)) for r in (_KANA, _HANGUL, _CJK))
    if kana > len(sample) * 0.05:
        return "ja"
    if hangul > len(sample) * 0.2:
        return "ko"
    if han > len(sample) * 0.2:
        return "zh"
    return "en"


def slugify(text: str, fallback: str = "book", limit: int = 60) -> str:
    """A filesystem-safe ASCII name: Chinese becomes pinyin, anything else its ASCII letters.

    Only ``[a-z0-9-]`` survive, so no path separator, dot or ``..`` can reach a file name.
    """
    from pypinyin import lazy_pinyin

    text = one_line(text)
    parts = lazy_pinyin(text) if has_cjk(text) else [text]  # other characters stay whole
    ascii_text = " ".join(parts)
    ascii_text = unicodedata.normalize("NFKD", ascii_text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0] or slug[:limit]
    return slug.strip("-") or fallback
