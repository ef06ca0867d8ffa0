"""Unit tests for builder.config: defaults, book.toml, type checks, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.config import DEFAULTS, BookConfig, load_config, with_settings
from builder.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "book.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path, overrides=None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides)
    return str(info.value)


# --- defaults ------------------------------------------------------------------------------------

def test_defaults_without_a_file():
    config = load_config()
    assert config.config_file is None
    assert config.paths == (Path("seeds"),)
    assert config.out_dir == Path("dist")
    assert config.offline is False and config.strict is False and config.refresh is False
    assert config.formats == ("epub", "pdf", "booklet")
    assert config.get("book", "title") == ""
    assert config.get("fetch", "concurrency") == 8
    assert config.get("fetch", "per_host") == 4
    assert config.get("fetch", "timeout") == 10.0
    assert config.get("fetch", "rewrite") == {}
    assert config.get("fetch", "allow_hosts") == []
    assert config.get("images", "epub_max_edge") == 1600
    assert config.get("pdf", "page_size") == "A5"
    assert config.get("clean", "cjk_digit_spacing") == "remove"
    assert config.get("clean", "cjk_quotes") is True
    assert config.settings == {s: {k: d for k, (_, d) in keys.items()}
                               for s, keys in DEFAULTS.items()}


def test_each_config_gets_its_own_copy_of_mutable_defaults():
    first = load_config()
    first.get("fetch", "allow_hosts").append("evil.example")
    first.get("fetch", "rewrite")["http://a/"] = "http://b/"
    first.get("book", "formats").remove("pdf")
    second = load_config()
    assert second.get("fetch", "allow_hosts") == []
    assert second.get("fetch", "rewrite") == {}
    assert second.get("book", "formats") == ["epub", "pdf", "booklet"]
    assert DEFAULTS["fetch"]["allow_hosts"][1] == []


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

[clean]
cjk_digit_spacing = "add"
cjk_quotes = false
""")
    config = load_config(path)
    assert config.config_file == path
    assert config.get("book", "title") == "采集的文章"
    assert config.get("book", "author") == "Editor"
    assert config.get("book", "order") == ["b.txt", "a.txt"]
    assert config.get("fetch", "rewrite") == {"http://old.example/": "http://mirror.example/"}
    assert config.get("fetch", "allow_hosts") == ["localhost:8000"]
    assert config.get("fetch", "concurrency") == 2
    timeout = config.get("fetch", "timeout")
    assert timeout == 5.0 and isinstance(timeout, float)  # an int is accepted for a float
    assert config.get("fetch", "deadline") == 30.5
    assert config.get("fetch", "per_host") == 4  # untouched keys keep their defaults
    assert config.get("images", "max_pixels") == 1000
    assert config.get("pdf", "page_size") == "148x210"
    assert config.get("clean", "cjk_digit_spacing") == "add"
    assert config.get("clean", "cjk_quotes") is False
    assert config.formats == ("epub", "pdf")


def test_path_may_be_a_string(tmp_path):
    path = write(tmp_path, '[book]\ntitle = "T"\n')
    config = load_config(str(path))
    assert config.get("book", "title") == "T"
    assert config.config_file == path


def test_empty_file_gives_defaults(tmp_path):
    path = write(tmp_path, "")
    config = load_config(path)
    assert config.settings == load_config().settings
    assert config.config_file == path


# --- errors that name the key and the file -------------------------------------------------------

def test_unknown_section_names_section_and_file(tmp_path):
    path = write(tmp_path, '[bok]\ntitle = "x"\n')
    message = config_error(path)
    assert message.startswith(f"{path}: ")
    assert "[bok]" in message


def test_unknown_key_names_key_and_file(tmp_path):
    path = write(tmp_path, '[book]\ntitel = "x"\n')
    message = config_error(path)
    assert message.startswith(f"{path}: ")
    assert "'book.titel'" in message
    assert "title" in message  # the known keys are listed


def test_top_level_key_outside_a_section_is_refused(tmp_path):
    path = write(tmp_path, 'title = "x"\n')
    message = config_error(path)
    assert message.startswith(f"{path}: ")
    assert "title" in message


def test_section_that_is_not_a_table(tmp_path):
    path = write(tmp_path, "book = 3\n")
    message = config_error(path)
    assert message.startswith(f"{path}: ")
    assert "'book' must be a table" in message


@pytest.mark.parametrize(("toml", "key", "what"), [
    ('[fetch]\nconcurrency = "8"\n', "fetch.concurrency", "must be a int"),
    ("[fetch]\nconcurrency = 8.0\n", "fetch.concurrency", "must be a int"),
    ("[fetch]\nretries = true\n", "fetch.retries", "must be a int"),
    ('[fetch]\ntimeout = "10"\n', "fetch.timeout", "must be a float"),
    ("[book]\nformats = 3\n", "book.formats", "must be a list of strings"),
    ('[book]\nformats = ["epub", 3]\n', "book.formats", "must be a list of strings"),
    ("[book]\ntitle = 3\n", "book.title", "must be a str"),
    ("[book]\ntitle = []\n", "book.title", "must be a str"),
    ("[clean]\ncjk_quotes = 1\n", "clean.cjk_quotes", "must be a bool"),
    ('[clean]\ncjk_quotes = "yes"\n', "clean.cjk_quotes", "must be a bool"),
    ('[fetch]\nrewrite = "http://a/"\n', "fetch.rewrite", "must be a table of strings"),
    ("[fetch]\nrewrite = { a = 1 }\n", "fetch.rewrite", "must be a table of strings"),
    ("[fetch]\nallow_hosts = [1]\n", "fetch.allow_hosts", "must be a list of strings"),
    ("[fetch]\nper_host = 0\n", "fetch.per_host", "must be positive"),
    ("[fetch]\nconcurrency = -1\n", "fetch.concurrency", "must be positive"),
    ("[fetch]\ntimeout = -0.5\n", "fetch.timeout", "must be positive"),
    ("[fetch]\ntimeout = nan\n", "fetch.timeout", "must be a finite number"),
    ("[fetch]\ndeadline = inf\n", "fetch.deadline", "must be a finite number"),
    ('[clean]\ncjk_digit_spacing = "maybe"\n', "clean.cjk_digit_spacing",
     "must be one of add, keep, remove"),
    ('[book]\nformats = ["epub", "mobi"]\n', "book.formats", "unknown format 'mobi'"),
])
def test_wrong_value_names_key_and_file(tmp_path, toml, key, what):
    path = write(tmp_path, toml)
    message = config_error(path)
    assert message.startswith(f"{path}: ")
    assert f"'{key}'" in message
    assert what in message


def test_invalid_toml_names_file(tmp_path):
    path = write(tmp_path, '[book]\ntitle = "unclosed\n')
    message = config_error(path)
    assert message.startswith(f"{path}: invalid TOML: ")
    assert "line 2" in message


def test_toml_that_is_not_utf8_names_file(tmp_path):
    path = tmp_path / "book.toml"
    path.write_bytes('[book]\ntitle = "中文"\n'.encode("gbk"))
    assert config_error(path).startswith(f"{path}: ")


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    assert config_error(path) == f"{path}: config file not found"


def test_directory_as_file(tmp_path):
    assert config_error(tmp_path).startswith(f"{tmp_path}: cannot read config")


# --- formats -------------------------------------------------------------------------------------

def test_formats_property_keeps_the_canonical_order(tmp_path):
    path = write(tmp_path, '[book]\nformats = ["booklet", "pdf", "epub", "booklet"]\n')
    assert load_config(path).formats == ("epub", "pdf", "booklet")
    path = write(tmp_path, '[book]\nformats = ["booklet", "epub"]\n')
    assert load_config(path).formats == ("epub", "booklet")


def test_formats_may_be_one_string(tmp_path):
    path = write(tmp_path, '[book]\nformats = "pdf"\n')
    config = load_config(path)
    assert config.get("book", "formats") == ["pdf"]
    assert config.formats == ("pdf",)


# --- overrides -----------------------------------------------------------------------------------

def test_overrides_win_over_the_file(tmp_path):
    path = write(tmp_path, '[book]\ntitle = "From file"\nformats = ["epub"]\n'
                           '[fetch]\nconcurrency = 2\n')
    config = load_config(path, {"book.title": "From flag", "fetch.concurrency": 16,
                                "book.formats": ["pdf"]})
    assert config.get("book", "title") == "From flag"
    assert config.get("fetch", "concurrency") == 16
    assert config.formats == ("pdf",)  # a formats override replaces, it does not add
    assert config.config_file == path


def test_override_none_leaves_the_file_value(tmp_path):
    path = write(tmp_path, '[book]\ntitle = "From file"\n')
    config = load_config(path, {"book.title": None, "out_dir": None})
    assert config.get("book", "title") == "From file"
    assert config.out_dir == Path("dist")


def test_overrides_set_build_fields(tmp_path):
    config = load_config(None, {"paths": (tmp_path,), "out_dir": tmp_path / "out",
                                "offline": True, "strict": True})
    assert config.paths == (tmp_path,)
    assert config.out_dir == tmp_path / "out"
    assert config.offline is True and config.strict is True


def test_allow_hosts_override_adds_to_the_file_list(tmp_path):
    path = write(tmp_path, '[fetch]\nallow_hosts = ["a.local", "b.local"]\n')
    config = load_config(path, {"fetch.allow_hosts": ["b.local", "c.local:8080"]})
    assert config.get("fetch", "allow_hosts") == ["a.local", "b.local", "c.local:8080"]


def test_allow_hosts_override_as_one_string(tmp_path):
    config = load_config(None, {"fetch.allow_hosts": "127.0.0.1:9000"})
    assert config.get("fetch", "allow_hosts") == ["127.0.0.1:9000"]


def test_rewrite_override_merges_into_the_file_table(tmp_path):
    path = write(tmp_path, '[fetch.rewrite]\n"http://a/" = "http://a-mirror/"\n'
                           '"http://b/" = "http://b-mirror/"\n')
    config = load_config(path, {"fetch.rewrite": {"http://b/": "http://b-new/",
                                                  "http://c/": "http://c-mirror/"}})
    assert config.get("fetch", "rewrite") == {
        "http://a/": "http://a-mirror/",
        "http://b/": "http://b-new/",
        "http://c/": "http://c-mirror/",
    }


def test_override_with_wrong_type_names_the_flag():
    with pytest.raises(ConfigError) as info:
        load_config(None, {"fetch.concurrency": "many"})
    assert str(info.value).startswith("--concurrency: ")
    assert "'fetch.concurrency'" in str(info.value)


def test_override_with_bad_format_is_refused():
    with pytest.raises(ConfigError) as info:
        load_config(None, {"book.formats": ["epub", "docx"]})
    assert "unknown format 'docx'" in str(info.value)


@pytest.mark.parametrize("name", ["fetch.nope", "nope.title", "bogus_field", "settings"])
def test_unknown_override_is_a_config_error(name):
    with pytest.raises(ConfigError) as info:
        load_config(None, {name: 1})
    assert f"'{name}'" in str(info.value)


def test_with_settings_changes_a_copy():
    config = load_config()
    changed = with_settings(config, fetch__concurrency=1, book__title="X")
    assert changed.get("fetch", "concurrency") == 1
    assert changed.get("book", "title") == "X"
    assert config.get("fetch", "concurrency") == 8
    assert config.get("book", "title") == ""
    assert isinstance(changed, BookConfig)
