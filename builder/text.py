"""Small text helpers every stage shares: scrubbing untrusted text, slugs, CJK detection."""

from __future__ import annotations

import gc
import re
import sys
import unicodedata

# ESC-introduced terminal sequences (CSI, OSC, two-character escapes), then the characters that
# must never reach an output, a log line or the report: C0 controls but tab and newline, DEL,
# C1 controls, U+FFFE/U+FFFF and lone surrogates.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")

# The character classes of CJK text, for regular expressions; the one place they are written.
#: Han ideographs: the unified blocks, their extensions and the compatibility block.
HAN = "\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
#: Hiragana and katakana.
KANA = "\u3040-\u30ff"
#: Hangul syllables.
HANGUL = "\uac00-\ud7af"
#: Letters of CJK text as typography sees them: radicals, kana and Han.
CJK = "\u2e80-\u2fff" + KANA + HAN
#: Punctuation that CJK text sets full-width: CJK symbols, full-width forms, curly quotes,
#: the dash, the ellipsis and the middle dot.
CJK_PUNCT = "\u3000-\u303f\uff00-\uffef\u2018\u2019\u201c\u201d\u2014\u2026\u00b7"

_HAN = re.compile(f"[{HAN}]")
_KANA = re.compile(f"[{KANA}]")
_HANGUL = re.compile(f"[{HANGUL}]")


def scrub(text: str) -> str:
    """Remove control characters and terminal escapes; CR and CRLF become LF."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _FORBIDDEN.sub("", _ANSI.sub("", text))


def one_line(text: str) -> str:
    """Scrubbed text on one line, for titles, log lines and the report."""
    return " ".join(scrub(text).split())


def has_cjk(text: str) -> bool:
    return bool(_HAN.search(text))


#: ISO 639-1: the two-letter primary language subtags (what e-readers and Send-to-Kindle
#: know; a tag like "us" or "C" in an article's front matter is a mistake, not a language).
ISO_639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu
hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb
lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om
or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw
ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
""".split())
_TAG = re.compile(r"^([A-Za-z]{2,3})(?:-[A-Za-z0-9]{1,8})*$")


def language_tag(value: str) -> str | None:
    """``value`` as a BCP 47 tag (``zh``, ``zh-Hant-TW``, ``yue``), or None when it is not one
    (``C``, ``us``, ``zh_CN`` is mended to ``zh-CN``). Three-letter primary tags pass as they
    are: ISO 639-3 is too long a list to carry, and a typo there is rare."""
    tag = value.strip().replace("_", "-")
    m = _TAG.match(tag)
    if not m:
        return None
    primary = m.group(1).lower()
    if len(primary) == 2 and primary not in ISO_639_1:
        return None
    return primary + tag[len(primary):]


def detect_language(text: str) -> str:
    """A BCP 47 primary tag guessed from the letters of ``text``: zh, ja, ko or en."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "en"
    sample = "".join(letters[:5000])
    kana, hangul, han = (len(r.findall(sample)) for r in (_KANA, _HANGUL, _HAN))
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
    text = one_line(text)
    if has_cjk(text):  # pypinyin is loaded only for a name that needs it
        from pypinyin import lazy_pinyin

        parts = lazy_pinyin(text)
    else:
        parts = [text]  # other characters stay whole
    ascii_text = " ".join(parts)
    ascii_text = unicodedata.normalize("NFKD", ascii_text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0] or slug[:limit]
    return slug.strip("-") or fallback


def release_pinyin() -> None:
    """Let go of pypinyin once every slug is made: its dictionaries hold about 55 MB for as long
    as the module is loaded, which is the whole build otherwise. The next :func:`slugify`
    loads it again."""
    loaded = [n for n in sys.modules if n == "pypinyin" or n.startswith("pypinyin.")]
    for name in loaded:
        del sys.modules[name]
    if loaded:
        gc.collect()


def shown_url(url: str, limit: int = 300) -> str:
    """An image URL as the report and the console show it: one line, a ``data:`` URL by its
    header and size, anything else cut at ``limit`` characters."""
    url = one_line(url)
    if url.lower().startswith("data:"):
        header = url.split(",", 1)[0][:80]
        return f"{header},… ({len(url):,} characters)"
    return url if len(url) <= limit else url[:limit] + "…"


_LATIN_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u024f'’-]")


#: CJK punctuation by the side its blank is on: a closing mark's glyph stands left in its em
#: box, an opening mark's right.
CLOSING = "，。、；：”’）》〉」』】〕〗〙"
OPENING = "“‘（《〈「『【〔〖〘"


def halt_marks(text: str) -> list[tuple[str, bool]]:
    """``text`` in runs, each flagged True where it is a punctuation mark to set half-width
    (the font's ``halt``) because another mark meets it: a closing mark before another mark
    gives up the blank after it (``。“``, ``”，``), an opening mark after another opening mark
    the blank before it (``“「``). Two marks then take one and a half ems, not two."""
    halted = set()
    for i, c in enumerate(text):
        after = text[i + 1] if i + 1 < len(text) else ""
        if c in CLOSING and after and after in CLOSING + OPENING + "？！":
            halted.add(i)
        elif c in OPENING and i and text[i - 1] in OPENING:
            halted.add(i)
    runs: list[tuple[str, bool]] = []
    for i, c in enumerate(text):
        flag = i in halted
        if runs and runs[-1][1] == flag and not flag:
            runs[-1] = (runs[-1][0] + c, flag)
        else:
            runs.append((c, flag))
    return runs


def keep_end(text: str) -> tuple[str, str]:
    """``text`` split so that its end can be kept on one line: a heading then never leaves a
    single character (or a single word) alone on its last line. CJK: the last two characters
    that are not punctuation, with the punctuation after them; other text: the last two words.
    ``("", text)`` when the text is too short to split."""
    text = text.rstrip()
    if not text:
        return "", text
    if _LATIN_WORD.match(text[-1]) and " " in text:
        words = text.split(" ")
        return (" ".join(words[:-2]) + " ", " ".join(words[-2:])) if len(words) > 2 \
            else ("", text)
    letters, i = 0, len(text)
    while i > 0 and letters < 2:
        i -= 1
        if not re.match(f"[{CJK_PUNCT}\\s]", text[i]) and not unicodedata.category(
                text[i]).startswith("P"):
            letters += 1
    return (text[:i], text[i:]) if i > 0 else ("", text)
