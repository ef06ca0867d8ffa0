"""CJK typography on text nodes, by Chinese publishing practice unless configured otherwise."""

from __future__ import annotations

import re

from ..text import CJK, CJK_PUNCT

_DOUBLE = re.compile(r'"[ \t\u00a0\u3000]*([^"\n]{0,200}?)[ \t\u00a0\u3000]*"')
_SINGLE = re.compile(r"(?<![A-Za-z0-9])'[ \t\u00a0\u3000]*([^'\n]{0,200}?)[ \t\u00a0\u3000]*'")
_HAS_CJK = re.compile(f"[{CJK}]")
_SPACE_CJK_DIGIT = re.compile(f"(?<=[{CJK}])[ \u00a0]+(?=[0-9])|(?<=[0-9])[ \u00a0]+(?=[{CJK}])")
_TIGHT_CJK_DIGIT = re.compile(f"(?<=[{CJK}])(?=[0-9])|(?<=[0-9])(?=[{CJK}])")
_SPACE_PUNCT = re.compile(
    f"(?<=[{CJK_PUNCT}])[ \u00a0]+(?=[{CJK}{CJK_PUNCT}0-9])|"
    f"(?<=[{CJK}0-9])[ \u00a0]+(?=[{CJK_PUNCT}])")


def _quote(pattern: re.Pattern, left: str, right: str, text: str) -> tuple[str, int]:
    count = 0

    def repl(m: re.Match) -> str:
        nonlocal count
        if not _HAS_CJK.search(m.group(1)):
            return m.group(0)
        count += 1
        return f"{left}{m.group(1)}{right}"

    return pattern.sub(repl, text), count


def tidy(text: str, quotes: bool = True, digit_spacing: str = "remove") -> tuple[str, int]:
    """``text`` with CJK quotes and spacing fixed, and how many fixes were made."""
    fixes = 0
    if quotes and ('"' in text or "'" in text):
        text, n1 = _quote(_DOUBLE, "\u201c", "\u201d", text)
        text, n2 = _quote(_SINGLE, "\u2018", "\u2019", text)
        fixes += n1 + n2
    if digit_spacing == "remove":
        text, n = _SPACE_CJK_DIGIT.subn("", text)
        fixes += n
    elif digit_spacing == "add":
        text, n = _TIGHT_CJK_DIGIT.subn(" ", text)
        fixes += n
    text, n = _SPACE_PUNCT.subn("", text)
    return text, fixes + n
