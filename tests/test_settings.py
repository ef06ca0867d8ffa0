"""Unit tests for builder.settings: defaults, book.toml, type checks, overrides, and what
``load_settings`` checks beyond the values (page size, bleed, theme folder, fonts)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from builder.errors import ConfigError
from builder.settings import (
    FORMATS,
    SECTIONS,
    BookSettings,
    CleanSettings,
    FetchSettings,
    ImagesSettings,
    PdfSettings,
    Settings,
    default_cache_dir,
    defaults,
    load_settings,
)

#: A family fontconfig certainly does not know.
NO_SUCH_FONT = "No Such Font 123"


def write(tmp_path: Path, text: str, name: str = "book.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path=None, overrides=None, flags=None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_settings(path, overrides, flags)
    return info.value


def assert_names(error: ConfigError, location, *parts: str) -> None:
    """``error`` is located at ``location`` and its message holds each of ``parts``."""
    assert error.location == str(location)
    assert str(error).startswith(f"{location}: ")
    for part in parts:
        assert part in error.message, (part, error.message)


# --- defaults ------------------------------------------------------------------------------------

def test_defaults_without_a_file():
    s = load_settings()
    assert isinstance(s, Settings)
    assert s.config_file is None
    assert s.paths == (Path("seeds"),)
    assert s.out_dir == Path("dist")
    assert s.cache_dir == default_cache_dir()
    assert s.theme_dir is None
    assert s.offline is False and s.strict is False and s.refresh is False
    assert s.formats == ("epub", "pdf", "booklet") == FORMATS
    assert s.prints is True
    assert s.book.title == ""
    assert s.fetch.concurrency == 8
    assert s.fetch.per_host == 4
    assert s.fetch.timeout == 10.0
    assert s.fetch.rewrite == {}
    assert s.fetch.allow_hosts == ()
    assert s.images.epub_max_edge == 1600
    assert s.pdf.page_size == "A5"
    assert s.pdf.size_mm == (148.0, 210.0)
    assert s.pdf.bleed_mm == 0.0
    assert s.clean.cjk_digit_spacing == "remove"
    assert s.clean.cjk_quotes is True
    # Every section is its table of defaults, and nothing else.
    assert {name: dataclasses.asdict(getattr(s, name)) for name in SECTIONS} == \
        {name: defaults(name) for name in SECTIONS}
    assert (s.book, s.fetch, s.images, s.pdf, s.clean) == \
        (BookSettings(), FetchSettings(), ImagesSettings(), PdfSettings(), CleanSettings())


def test_each_settings_gets_its_own_copy_of_mutable_defaults():
    first = load_settings()
    first.fetch.rewrite["http://a/"] = "http://b/"  # the one mutable value: a table
    second = load_settings()
    assert second.fetch.rewrite == {}
    assert FetchSettings().rewrite == {}
    assert defaults("fetch")["rewrite"] == {}
    # Lists are tuples: they cannot be changed in place at all.
    assert isinstance(second.fetch.allow_hosts, tuple)
    assert isinstance(second.book.formats, tuple)
    assert isinstance(second.book.order, tuple)


def test_settings_are_frozen_and_replace_changes_a_copy():
    s = load_settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.book.title = "X"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.out_dir = Path("elsewhere")  # type: ignore[misc]
    changed = dataclasses.replace(s, fetch=dataclasses.replace(s.fetch, concurrency=1),
                                  book=dataclasses.replace(s.book, title="X"))
    assert changed.fetch.concurrency == 1
    assert changed.book.title == "X"
    assert s.fetch.concurrency == 8
    assert s.book.title == ""
    assert isinstance(changed, Settings)


# --- a valid book.toml ---------------------------------------------------------------------------

def test_valid_book_toml(tmp_path):
    path = write(tmp_path, """
[book]
title = "采集的文章"
author = "Editor"
language = "zh"
order = ["b.txt", "a.txt"]
formats = ["pdf", "epub"]

[fetch]
rewrite = { "http://old.example/" = "http://mirror.example/" }
allow_hosts = ["localhost:8000"]
concurrency = 2
timeout = 5
deadline = 30.5

[images]
max_pixels = 1000

[pdf]
page_size = "148x210"
bleed = "3mm"

[clean]
cjk_digit_spacing = "add"
cjk_quotes = false
""")
    s = load_settings(path)
    assert s.config_file == path
    assert s.book.title == "采集的文章"
    assert s.book.author == "Editor"
    assert s.book.order == ("b.txt", "a.txt")
    assert s.fetch.rewrite == {"http://old.example/": "http://mirror.example/"}
    assert s.fetch.allow_hosts == ("localhost:8000",)
    assert s.fetch.concurrency == 2
    timeout = s.fetch.timeout
    assert timeout == 5.0 and isinstance(timeout, float)  # an int is accepted for a float
    assert s.fetch.deadline == 30.5
    assert s.fetch.per_host == 4  # untouched keys keep their defaults
    assert s.images.max_pixels == 1000
    assert s.pdf.page_size == "148x210"
    assert s.pdf.size_mm == (148.0, 210.0)
    assert s.pdf.bleed_mm == 3.0
    assert s.clean.cjk_digit_spacing == "add"
    assert s.clean.cjk_quotes is False
    assert s.formats == ("epub", "pdf")


def test_path_may_be_a_string(tmp_path):
    path = write(tmp_path, '[book]\ntitle = "T"\n')
    s = load_settings(str(path))
    assert s.book.title == "T"
    assert s.config_file == path


def test_empty_file_gives_defaults(tmp_path):
    path = write(tmp_path, "")
    s = load_settings(path)
    assert dataclasses.replace(s, config_file=None) == load_settings()
    assert s.config_file == path


# --- errors that name the key and the file -------------------------------------------------------

def test_unknown_section_names_section_and_file(tmp_path):
    path = write(tmp_path, '[bok]\ntitle = "x"\n')
    error = config_error(path)
    assert_names(error, path, "[bok]", "unknown section")
    assert "book" in error.message  # the known sections are listed


def test_unknown_key_names_key_and_file(tmp_path):
    path = write(tmp_path, '[book]\ntitel = "x"\n')
    error = config_error(path)
    assert_names(error, path, "'book.titel'", "unknown key")
    assert "title" in error.message  # the known keys are listed


def test_top_level_key_outside_a_section_is_refused(tmp_path):
    path = write(tmp_path, 'title = "x"\n')
    assert_names(config_error(path), path, "title")


def test_section_that_is_not_a_table(tmp_path):
    path = write(tmp_path, "book = 3\n")
    assert_names(config_error(path), path, "'book' must be a table")


@pytest.mark.parametrize(("toml", "key", "what"), [
    ('[fetch]\nconcurrency = "8"\n', "fetch.concurrency", "must be a whole number"),
    ("[fetch]\nconcurrency = 8.0\n", "fetch.concurrency", "must be a whole number"),
    ("[fetch]\nretries = true\n", "fetch.retries", "must be a whole number"),
    ('[fetch]\ntimeout = "10"\n', "fetch.timeout", "must be a number"),
    ("[book]\nformats = 3\n", "book.formats", "must be a list of text"),
    ('[book]\nformats = ["epub", 3]\n', "book.formats", "must be a list of text"),
    ("[book]\ntitle = 3\n", "book.title", "must be text"),
    ("[book]\ntitle = []\n", "book.title", "must be text"),
    ("[clean]\ncjk_quotes = 1\n", "clean.cjk_quotes", "must be true or false"),
    ('[clean]\ncjk_quotes = "yes"\n', "clean.cjk_quotes", "must be true or false"),
    ('[fetch]\nrewrite = "http://a/"\n', "fetch.rewrite", "must be a table of text"),
    ("[fetch]\nrewrite = { a = 1 }\n", "fetch.rewrite", "must be a table of text"),
    ("[fetch]\nallow_hosts = [1]\n", "fetch.allow_hosts", "must be a list of text"),
    ("[fetch]\nper_host = 0\n", "fetch.per_host", "must be positive"),
    ("[fetch]\nconcurrency = -1\n", "fetch.concurrency", "must be positive"),
    ("[fetch]\ntimeout = -0.5\n", "fetch.timeout", "must be positive"),
    ("[fetch]\ntimeout = nan\n", "fetch.timeout", "must be a finite number"),
    ("[fetch]\ndeadline = inf\n", "fetch.deadline", "must be a finite number"),
    ('[clean]\ncjk_digit_spacing = "maybe"\n', "clean.cjk_digit_spacing",
     "must be one of remove, keep, add"),
    ('[pdf]\nvariant = "pdf/x"\n', "pdf.variant", "must be one of"),
    ('[book]\nformats = ["epub", "mobi"]\n', "book.formats", "unknown value 'mobi'"),
    ("[book]\nformats = []\n", "book.formats", "is empty"),
])
def test_wrong_value_names_key_and_file(tmp_path, toml, key, what):
    path = write(tmp_path, toml)
    assert_names(config_error(path), path, f"'{key}'", what)


def test_invalid_toml_names_file(tmp_path):
    path = write(tmp_path, '[book]\ntitle = "unclosed\n')
    error = config_error(path)
    assert str(error).startswith(f"{path}: invalid TOML: ")
    assert "line 2" in error.message


def test_toml_that_is_not_utf8_names_file(tmp_path):
    path = tmp_path / "book.toml"
    path.write_bytes('[book]\ntitle = "中文"\n'.encode("gbk"))
    assert config_error(path).location == str(path)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    assert str(config_error(path)) == f"{path}: config file not found"


def test_directory_as_file(tmp_path):
    assert str(config_error(tmp_path)).startswith(f"{tmp_path}: cannot read config")


# --- formats -------------------------------------------------------------------------------------

def test_formats_property_keeps_the_canonical_order(tmp_path):
    path = write(tmp_path, '[book]\nformats = ["booklet", "pdf", "epub", "booklet"]\n')
    assert load_settings(path).formats == ("epub", "pdf", "booklet")
    path = write(tmp_path, '[book]\nformats = ["booklet", "epub"]\n')
    s = load_settings(path)
    assert s.formats == ("epub", "booklet")
    assert s.prints is True  # the booklet is imposed from the PDF


def test_formats_may_be_one_string(tmp_path):
    path = write(tmp_path, '[book]\nformats = "pdf"\n')
    s = load_settings(path)
    assert s.book.formats == ("pdf",)
    assert s.formats == ("pdf",)


def test_epub_only_does_not_print(tmp_path):
    assert load_settings(None, {"book.formats": ["epub"]}).prints is False


# --- overrides -----------------------------------------------------------------------------------

def test_overrides_win_over_the_file(tmp_path):
    path = write(tmp_path, '[book]\ntitle = "From file"\nformats = ["epub"]\n'
                           '[fetch]\nconcurrency = 2\n[pdf]\npage_size = "A4"\n')
    s = load_settings(path, {"book.title": "From flag", "fetch.concurrency": 16,
                             "book.formats": ["pdf"], "pdf.page_size": "letter"})
    assert s.book.title == "From flag"
    assert s.fetch.concurrency == 16
    assert s.formats == ("pdf",)  # a formats override replaces, it does not add
    assert s.pdf.page_size == "letter"
    assert s.config_file == path


def test_override_none_leaves_the_file_value(tmp_path):
    path = write(tmp_path, '[book]\ntitle = "From file"\n')
    s = load_settings(path, {"book.title": None, "out_dir": None})
    assert s.book.title == "From file"
    assert s.out_dir == Path("dist")


def test_overrides_set_run_fields(tmp_path):
    theme = tmp_path / "theme"
    (theme / "styles").mkdir(parents=True)
    s = load_settings(None, {"paths": (tmp_path,), "out_dir": tmp_path / "out",
                             "cache_dir": str(tmp_path / "cache"), "theme_dir": theme,
                             "offline": True, "strict": True, "refresh": True})
    assert s.paths == (tmp_path,)
    assert s.out_dir == tmp_path / "out"
    assert s.cache_dir == tmp_path / "cache" and isinstance(s.cache_dir, Path)
    assert s.theme_dir == theme
    assert s.offline is True and s.strict is True and s.refresh is True


def test_out_dir_that_is_a_file_is_refused_naming_the_flag(tmp_path):
    file = tmp_path / "dist"
    file.write_text("x")
    error = config_error(None, {"out_dir": file}, {"out_dir": "--out"})
    assert_names(error, "--out", "is a file")


def test_allow_hosts_override_adds_to_the_file_list(tmp_path):
    path = write(tmp_path, '[fetch]\nallow_hosts = ["a.local", "b.local"]\n')
    s = load_settings(path, {"fetch.allow_hosts": ["b.local", "c.local:8080"]})
    assert s.fetch.allow_hosts == ("a.local", "b.local", "c.local:8080")


def test_allow_hosts_override_as_one_string(tmp_path):
    s = load_settings(None, {"fetch.allow_hosts": "127.0.0.1:9000"})
    assert s.fetch.allow_hosts == ("127.0.0.1:9000",)


def test_rewrite_override_merges_into_the_file_table(tmp_path):
    path = write(tmp_path, '[fetch.rewrite]\n"http://a/" = "http://a-mirror/"\n'
                           '"http://b/" = "http://b-mirror/"\n')
    s = load_settings(path, {"fetch.rewrite": {"http://b/": "http://b-new/",
                                               "http://c/": "http://c-mirror/"}})
    assert s.fetch.rewrite == {
        "http://a/": "http://a-mirror/",
        "http://b/": "http://b-new/",
        "http://c/": "http://c-mirror/",
    }


def test_override_with_wrong_type_names_the_flag():
    error = config_error(None, {"fetch.concurrency": "many"},
                         {"fetch.concurrency": "--concurrency"})
    assert_names(error, "--concurrency", "'fetch.concurrency'", "must be a whole number")


def test_override_without_a_flag_is_located_at_overrides():
    error = config_error(None, {"fetch.concurrency": "many"})
    assert_names(error, "overrides", "'fetch.concurrency'")


def test_override_with_bad_format_is_refused():
    error = config_error(None, {"book.formats": ["epub", "docx"]},
                         {"book.formats": "--format"})
    assert_names(error, "--format", "'book.formats'", "unknown value 'docx'")


@pytest.mark.parametrize("name", ["fetch.nope", "nope.title", "bogus_field", "settings"])
def test_unknown_override_is_a_config_error(name):
    error = config_error(None, {name: 1})
    assert f"'{name}'" in error.message
    assert "unknown setting" in error.message


# --- page size and bleed -------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "size"), [
    ("A5", (148.0, 210.0)), ("a4", (210.0, 297.0)), ("Letter", (215.9, 279.4)),
    ("square210", (210.0, 210.0)), ("148x210", (148.0, 210.0)), ("170×240mm", (170.0, 240.0)),
    ("120.5 x 180", (120.5, 180.0)),
])
def test_page_sizes_accepted(value, size):
    assert load_settings(None, {"pdf.page_size": value}).pdf.size_mm == size


@pytest.mark.parametrize("value", ["B9", "", "A5x", "10x10", "2000x2000", "148", "axb"])
def test_bad_page_size_in_the_file_names_key_and_file(tmp_path, value):
    path = write(tmp_path, f'[pdf]\npage_size = "{value}"\n')
    assert_names(config_error(path), path, "'pdf.page_size'", "unknown page size")


def test_bad_page_size_flag_names_the_flag():
    error = config_error(None, {"pdf.page_size": "B9"}, {"pdf.page_size": "--page-size"})
    assert_names(error, "--page-size", "'pdf.page_size'", "'B9'", "A5")


def test_page_size_of_the_wrong_type(tmp_path):
    path = write(tmp_path, "[pdf]\npage_size = 5\n")
    assert_names(config_error(path), path, "'pdf.page_size'", "must be text")


@pytest.mark.parametrize(("value", "mm"), [("0mm", 0.0), ("3mm", 3.0), ("3", 3.0),
                                           (" 2.5 mm ", 2.5), ("10mm", 10.0)])
def test_bleeds_accepted(value, mm):
    assert load_settings(None, {"pdf.bleed": value}).pdf.bleed_mm == mm


@pytest.mark.parametrize("value", ["11mm", "3cm", "-1mm", "lots", "", "3 mm mm"])
def test_bad_bleed_in_the_file_names_key_and_file(tmp_path, value):
    path = write(tmp_path, f'[pdf]\nbleed = "{value}"\n')
    assert_names(config_error(path), path, "'pdf.bleed'", "unknown bleed")


def test_bad_bleed_flag_names_the_flag():
    error = config_error(None, {"pdf.bleed": "20mm"}, {"pdf.bleed": "--bleed"})
    assert_names(error, "--bleed", "'pdf.bleed'", "'20mm'", "10")


# --- signatures and creep -----------------------------------------------------------------------

def test_signature_and_creep_defaults():
    s = load_settings(None)
    assert (s.pdf.signature, s.pdf.creep_mm) == (-1, 0.0)


@pytest.mark.parametrize("value", [0, 4, 16, 32, 256])
def test_signatures_accepted(value):
    assert load_settings(None, {"pdf.signature": value}).pdf.signature == value


@pytest.mark.parametrize(("value", "words"), [(6, "multiple of 4"), (260, "multiple of 4"),
                                              (-4, "0 or more")])
def test_bad_signature_flag_names_the_flag(value, words):
    error = config_error(None, {"pdf.signature": value}, {"pdf.signature": "--signature"})
    assert_names(error, "--signature", words)


def test_signature_of_the_wrong_type(tmp_path):
    path = write(tmp_path, '[pdf]\nsignature = "16"\n')
    assert_names(config_error(path), path, "'pdf.signature'", "whole number")


@pytest.mark.parametrize(("value", "mm"), [("0mm", 0.0), ("0.5mm", 0.5), ("1", 1.0),
                                           ("5 mm", 5.0)])
def test_creeps_accepted(value, mm):
    assert load_settings(None, {"pdf.creep": value}).pdf.creep_mm == mm


@pytest.mark.parametrize("value", ["6mm", "-1mm", "0.5in", "", "some"])
def test_bad_creep_in_the_file_names_key_and_file(tmp_path, value):
    path = write(tmp_path, f'[pdf]\ncreep = "{value}"\n')
    assert_names(config_error(path), path, "'pdf.creep'", "unknown creep")


@pytest.mark.parametrize("value", ["pdf/x-4", "pdf/x-1a", "pdf/a-3b", ""])
def test_pdf_variants_accepted(value):
    assert load_settings(None, {"pdf.variant": value}).pdf.variant == value


def test_pdfx_without_its_cmyk_profile_says_what_to_install(monkeypatch, tmp_path):
    from builder import profiles

    monkeypatch.setattr(profiles, "CMYK_PROFILE", tmp_path / "missing.icc")
    error = config_error(None, {"pdf.variant": "pdf/x-1a"}, {"pdf.variant": "--pdf-variant"})
    assert_names(error, "--pdf-variant", "missing.icc", "apt-get install libgs-common")
    assert load_settings(None, {"pdf.variant": "pdf/a-3b"}).pdf.variant == "pdf/a-3b"


# --- the theme folder ----------------------------------------------------------------------------

def theme_error(theme: Path) -> ConfigError:
    return config_error(None, {"theme_dir": theme}, {"theme_dir": "--theme"})


def test_missing_theme_folder_is_refused(tmp_path):
    missing = tmp_path / "no-theme"
    assert_names(theme_error(missing), "--theme", str(missing), "not found")


def test_theme_that_is_a_file_is_refused(tmp_path):
    file = tmp_path / "theme.css"
    file.write_text("p {}")
    assert_names(theme_error(file), "--theme", str(file))


def test_theme_folder_with_neither_templates_nor_styles_is_refused(tmp_path):
    theme = tmp_path / "theme"
    (theme / "css").mkdir(parents=True)
    assert_names(theme_error(theme), "--theme", str(theme), "templates/", "styles/")


def test_theme_template_with_a_syntax_error_names_the_template_and_line(tmp_path):
    theme = tmp_path / "theme"
    (theme / "templates" / "epub").mkdir(parents=True)
    (theme / "templates" / "epub" / "chapter.xhtml.j2").write_text(
        "<section>\n<h1>{{ article.title }}</h1>\n{% if article.byline %}\n</section>\n",
        encoding="utf-8")
    error = theme_error(theme)
    # The unclosed {% if %} is noticed where the template ends.
    assert_names(error, "--theme", "epub/chapter.xhtml.j2", "line 4", "endif")


def test_theme_stylesheet_that_is_not_utf8_is_refused(tmp_path):
    theme = tmp_path / "theme"
    (theme / "styles").mkdir(parents=True)
    (theme / "styles" / "epub.css").write_bytes("p { content: '中文' }".encode("gbk"))
    assert_names(theme_error(theme), "--theme", "epub.css", "UTF-8")


def test_theme_without_a_flag_is_located_at_overrides(tmp_path):
    error = config_error(None, {"theme_dir": tmp_path / "nope"})
    assert error.location == "overrides"


def test_a_good_theme_folder_is_accepted(tmp_path):
    theme = tmp_path / "theme"
    (theme / "templates" / "epub").mkdir(parents=True)
    (theme / "templates" / "epub" / "chapter.xhtml.j2").write_text(
        '{% extends "default/epub/chapter.xhtml.j2" %}', encoding="utf-8")
    (theme / "styles").mkdir()
    (theme / "styles" / "epub.css").write_text("p { margin: 0 }", encoding="utf-8")
    assert load_settings(None, {"theme_dir": theme}).theme_dir == theme


# --- fonts ---------------------------------------------------------------------------------------

def _fontconfig() -> bool:
    from builder import fonts

    return bool(fonts.families())


needs_fontconfig = pytest.mark.skipif(not _fontconfig(), reason="fontconfig is not installed")


@needs_fontconfig
@pytest.mark.parametrize("key", ["serif_font", "sans_font"])
def test_unknown_font_in_the_file_names_key_and_file(tmp_path, key):
    path = write(tmp_path, f'[pdf]\n{key} = "{NO_SUCH_FONT}"\n')
    assert_names(config_error(path), path, f"'pdf.{key}'", NO_SUCH_FONT, "not installed")


@needs_fontconfig
def test_unknown_font_is_no_error_when_nothing_is_printed(tmp_path):
    path = write(tmp_path, f'[book]\nformats = ["epub"]\n[pdf]\nserif_font = "{NO_SUCH_FONT}"\n')
    assert load_settings(path).pdf.serif_font == NO_SUCH_FONT


@needs_fontconfig
def test_unknown_font_override_is_located_at_the_override():
    error = config_error(None, {"pdf.sans_font": NO_SUCH_FONT})
    assert_names(error, "overrides", "'pdf.sans_font'")


@needs_fontconfig
def test_installed_font_is_accepted_whatever_its_case(tmp_path):
    from builder import fonts

    family = fonts.families()[0]
    path = write(tmp_path, f'[pdf]\nserif_font = "{family.upper()}"\n')
    assert load_settings(path).pdf.serif_font == family.upper()
