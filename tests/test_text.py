"""Unit tests for builder.text: scrubbing untrusted text, one-line text, slugs, language."""

from __future__ import annotations

import re

import pytest

from builder.text import detect_language, has_cjk, one_line, scrub, slugify

SAFE_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


# --- scrub ---------------------------------------------------------------------------------------

def test_scrub_keeps_ordinary_text_tab_and_newline():
    assert scrub("Hello,\tworld\n世界 — “quotes” é") == "Hello,\tworld\n世界 — “quotes” é"


def test_scrub_normalises_crlf_and_lone_cr_to_lf():
    assert scrub("a\r\nb\rc\n") == "a\nb\nc\n"


def test_scrub_removes_c0_controls_del_and_c1_controls():
    assert scrub("a\x00b\x07c\x08d\x0be\x0cf\x1fg\x7fh\x85i\x9fj") == "abcdefghij"


def test_scrub_removes_csi_colour_and_cursor_sequences_whole():
    assert scrub("\x1b[31mred\x1b[0m \x1b[1;32mgreen\x1b[m \x1b[2J\x1b[Hclear") == \
        "red green clear"


def test_scrub_removes_osc_sequences_with_bel_or_st_terminator():
    assert scrub("a\x1b]0;window title\x07b") == "ab"
    assert scrub("a\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\b") == "alinkb"


def test_scrub_removes_two_character_escapes_and_any_other_esc():
    assert scrub("x\x1bMy\x1b\\z") == "xyz"  # ESC M (reverse index), ESC \ (string terminator)
    assert scrub("a\x1bcb\x1b") == "acb"  # ESC c: the ESC goes, which makes the rest plain text


def test_scrub_removes_noncharacters_fffe_ffff_and_lone_surrogates():
    assert scrub("a\ufffeb\uffffc\ud800d\udfffe") == "abcde"


def test_scrub_keeps_replacement_character_and_astral_characters():
    assert scrub("\ufffd\U00020000😀") == "\ufffd\U00020000😀"


# --- one_line ------------------------------------------------------------------------------------

def test_one_line_collapses_all_whitespace_and_trims():
    assert one_line("  The\n  title\t\r\nhere  ") == "The title here"


def test_one_line_scrubs_escapes_and_controls():
    assert one_line("\x1b[31mRed\x1b[0m\x00 \x07title\uffff") == "Red title"


def test_one_line_of_only_controls_is_empty():
    assert one_line("\x1b[0m\x00\n\t ") == ""


# --- slugify -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Hello, World!", "hello-world"),
    ("中文标题", "zhong-wen-biao-ti"),
    ("做好社区工作", "zuo-hao-she-qu-gong-zuo"),
    ("中文 and English 123", "zhong-wen-and-english-123"),
    ("第3章abc", "di-3-zhang-abc"),
    ("Café Crème brûlée", "cafe-creme-brulee"),
    ("ＡＢＣ１２３", "abc123"),
    ("../../etc/x", "etc-x"),
    ("..\\..\\windows\\system32", "windows-system32"),
    ("{{ 7*7 }}", "7-7"),
    ("<b>", "b"),
    ("<script>alert(1)</script>", "script-alert-1-script"),
    ("a/b\\c", "a-b-c"),
    ("\x1b[31mred\x1b[0m", "red"),
])
def test_slugify_exact(text, expected):
    assert slugify(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "!!!", "...", "..", "/", "\\", "《》。，！",
                                  "\x00\x1b[0m", "😀🎉", "\ufffe"])
def test_slugify_empty_result_uses_fallback(text):
    assert slugify(text) == "book"
    assert slugify(text, fallback="article") == "article"


@pytest.mark.parametrize("text", [
    "../../etc/x", "{{ 7*7 }}", "<b>", "", "?!#%&*", "..", "../", "C:\\Windows\\..\\x",
    "a..b", "-leading-and-trailing-", "__init__", " .hidden", "中文/../路径", "x" * 500,
    "Ünïcödé ŝtrîng", "\u202eevil\u202d", "tab\tnew\nline",
])
def test_slugify_hostile_titles_give_safe_names(text):
    slug = slugify(text)
    assert "/" not in slug and "\\" not in slug and ".." not in slug
    assert SAFE_SLUG.match(slug), slug
    assert len(slug) <= 60


def test_slugify_cuts_long_text_at_a_word_boundary():
    text = " ".join(["word"] * 30)  # "word-word-…" is 149 characters
    slug = slugify(text)
    assert slug == "-".join(["word"] * 12)  # 59 characters; a 13th word would pass 60
    assert slugify(text, limit=10) == "word-word"


def test_slugify_cuts_one_long_word_hard():
    assert slugify("a" * 100, limit=20) == "a" * 20


# --- language ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "lang"), [
    ("这是一篇关于社区工作的中文文章。", "zh"),
    ("社区是党和政府联系群众的最后一公里 (the last mile)", "zh"),
    ("This is an English article about community work.", "en"),
    ("English text with a couple of 中文 words in the middle of it", "en"),
    ("これは日本語の文章です。", "ja"),
    ("이것은 한국어 문장입니다", "ko"),
    ("", "en"),
    ("1234 !!! ...", "en"),
])
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_has_cjk():
    assert has_cjk("abc 中 def")
    assert has_cjk("\U00020000")  # CJK extension B
    assert not has_cjk("abc ÉÈ ñ")


@pytest.mark.parametrize(("title", "head", "tail"), [
    ("总书记挂念的_关键小事_丨做好社区工作", "总书记挂念的_关键小事_丨做好社区", "工作"),
    ("你好吗？", "你", "好吗？"),
    ("标题：“测试”。", "标题：“", "测试”。"),
    ("短", "", "短"),
    ("An English title here", "An English ", "title here"),
    ("Two words", "", "Two words"),
    ("", "", ""),
])
def test_keep_end_keeps_two_characters_or_words_together(title, head, tail):
    from builder.text import keep_end

    assert keep_end(title) == (head, tail)


def test_meeting_marks_are_halted_on_the_side_of_their_blank():
    from builder.text import halt_marks

    def halted(text):
        return [run for run, flag in halt_marks(text) if flag]

    assert halted("他说：“好。”“走，”") == ["：", "。", "”", "，"]
    assert halted("（“引文”）") == ["“", "”"]  # the second opening mark, the first closing one
    assert halted("好。") == [] and halted("abc “quoted.”") == []
    assert "".join(run for run, _ in halt_marks("他说：“好。”")) == "他说：“好。”"
