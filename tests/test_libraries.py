"""builder.libraries: WeasyPrint's declarations of its C libraries kept, and what a process
that loads WeasyPrint from them writes. Each case imports WeasyPrint in a process of its own
(an import is once per process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from builder import libraries

#: Imports WeasyPrint (with the kept declarations in argv[1], or none), says which FFI it got,
#: and writes a one-page PDF with Chinese text to argv[2].
LOAD = """
import sys
from pathlib import Path
from builder.libraries import keep_in
from builder.memo import Memo
if sys.argv[1] != "-":
    keep_in(Memo(Path(sys.argv[1])))
from builder import pdf  # noqa: F401 - WeasyPrint loaded as the build loads it
import weasyprint.text.ffi as bindings
from weasyprint import HTML
HTML(string="<p style='font-family: Noto Sans CJK SC'>中文排版 text</p>").write_pdf(
    sys.argv[2], pdf_identifier=b"0" * 32)
print(type(bindings.ffi).__name__)
"""


def load(kept: Path | None, out: Path) -> str:
    done = subprocess.run([sys.executable, "-c", LOAD, str(kept) if kept else "-", str(out)],
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


def test_the_declarations_are_kept_once_and_then_loaded_from_what_was_kept(tmp_path):
    kept = tmp_path / "libraries"
    assert load(None, tmp_path / "plain.pdf") == "FFI"  # nothing asked: cffi's own
    assert not kept.exists()
    assert load(kept, tmp_path / "first.pdf") == "Keeping"  # parsed, and kept
    (record,) = kept.glob("*.json")
    assert set(json.loads(record.read_text())) == {"source", "name", "tables"}
    assert load(kept, tmp_path / "second.pdf") == "Kept"  # made from what was kept
    plain = (tmp_path / "plain.pdf").read_bytes()
    assert (tmp_path / "first.pdf").read_bytes() == plain
    assert (tmp_path / "second.pdf").read_bytes() == plain


@pytest.mark.parametrize("damage", [
    lambda r: r.write_text("{not json"),
    lambda r: r.write_text(json.dumps({**json.loads(r.read_text()), "tables": {"_version": 1}})),
    lambda r: r.write_text(json.dumps({**json.loads(r.read_text()),
                                       "tables": {"_types": {"b": "!!"}}})),
])
def test_a_damaged_record_is_parsed_again_and_kept_again(tmp_path, damage):
    kept = tmp_path / "libraries"
    load(kept, tmp_path / "first.pdf")
    (record,) = kept.glob("*.json")
    good = record.read_text()
    damage(record)
    assert load(kept, tmp_path / "again.pdf") == "Keeping"
    assert record.read_text() == good
    assert (tmp_path / "again.pdf").read_bytes() == (tmp_path / "first.pdf").read_bytes()


def test_other_declarations_than_those_kept_are_refused():
    import cffi

    ffi = cffi.FFI()
    ffi.cdef("int abs(int);")
    record = {"source": libraries.digest("int abs(int);"), "name": "probe",
              "tables": libraries.tables(ffi, "probe")}
    made = libraries._compiled(json.loads(json.dumps(record)))  # as read back from the file
    made.cdef("int abs(int);")  # what it was made of: nothing to do
    assert made.dlopen(None).abs(-3) == 3
    with pytest.raises(ValueError, match="other than those kept"):
        made.cdef("int labs(long);")


def test_tables_are_data_only():
    with pytest.raises(TypeError):
        libraries._decoded([1.5])
    assert libraries._decoded(libraries._encoded((b"\x00\x01", 7, ("x", b"")))) == \
        (b"\x00\x01", 7, ("x", b""))


#: Subsets a face (argv[2], index argv[3]) to the glyphs of "国A" with HarfBuzz declared as the
#: builder declares it (kept in argv[1], or not), writes the subset to argv[4], and says which
#: FFI it got and whether cffi's C parser was imported.
SUBSET = """
import sys
from pathlib import Path
from builder.libraries import keep_in
from builder.memo import Memo
if sys.argv[1] != "-":
    keep_in(Memo(Path(sys.argv[1])))
from builder import subsets
ffi = subsets._harfbuzz()[0]
data = Path(sys.argv[2]).read_bytes()
Path(sys.argv[4]).write_bytes(subsets.subset(data, int(sys.argv[3]), [0, 5, 900], False, True))
print(type(ffi).__name__, "pycparser" in sys.modules)
"""


def test_the_builders_own_declarations_are_kept_and_give_the_same_subset(tmp_path):
    found = subprocess.run(["fc-match", "-f", "%{file}:%{index}", "Noto Sans CJK SC"],
                           capture_output=True, text=True, check=True).stdout
    face, index = found.rsplit(":", 1)
    kept = tmp_path / "libraries"

    def run(memo: Path | None, out: str) -> str:
        return subprocess.run([sys.executable, "-c", SUBSET, str(memo) if memo else "-",
                               str(face), str(index), str(tmp_path / out)], capture_output=True,
                              text=True, timeout=120, check=True).stdout.strip()

    assert run(None, "plain.font") == "FFI True"
    assert run(kept, "first.font") == "Keeping True"  # parsed once, and kept
    assert run(kept, "second.font") == "Kept False"  # made from the tables: nothing parsed
    plain = (tmp_path / "plain.font").read_bytes()
    assert plain[:4] == b"OTTO"
    assert (tmp_path / "first.font").read_bytes() == plain
    assert (tmp_path / "second.font").read_bytes() == plain
