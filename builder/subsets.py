"""Fonts subset once per book, not once per part.

WeasyPrint subsets every font of every document it writes; a CJK face costs about 0.1 s and
140 KB each time, so a book written in parts (:mod:`builder.parts`) would pay for three faces'
subsets in every part and carry as many copies. Instead, while a part is written
(:func:`deferred`), each font is embedded as a *stub*: a few bytes that name its face (kept in
a folder of faces by the SHA-256 of its bytes) and the glyphs the part uses. The join
(:func:`embed`) subsets each face once, to the glyphs of every part, and points every part's
font at that one program (kept by the glyphs it holds: a rebuild that uses no new glyph makes
none). WeasyPrint subsets with the glyph ids kept as they are, and so does this, so each part's
text, widths and Unicode map hold for the book's subset. A face is named by the SHA-256 of its
bytes, read once and then known by the stamp of its font file.

The subset is made by HarfBuzz with the flags WeasyPrint uses. A font that WeasyPrint would not
simply subset (a bitmap, variable or colour font, one used in an SVG) or a face that cannot be
kept is left to WeasyPrint, as is everything when HarfBuzz's subsetter cannot be loaded.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import mmap
import os
import re
import sys
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import checked
from .errors import OutputError

#: What follows a stub's first four bytes (those of the font program it stands for, which
#: tell WeasyPrint whether it is CFF or TrueType).
MARK = b"%builder-font-stub\n"
_SHA = re.compile(r"[0-9a-f]{64}")  # a face's name: what the join reads from the folder
_CFF = b"OTTO"
_TRUETYPE = b"\x00\x01\x00\x00"
#: The tables WeasyPrint drops from a subset.
_DROPPED = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF", b"LTSH",
            b"PCLT", b"SVG ")

_CDEF = """
typedef struct _hb_blob_t hb_blob_t;
typedef struct _hb_face_t hb_face_t;
typedef struct _hb_set_t hb_set_t;
typedef struct _hb_subset_input_t hb_subset_input_t;
typedef uint32_t hb_tag_t;
typedef uint32_t hb_codepoint_t;
hb_blob_t *hb_blob_create(const char *data, unsigned int length, int mode, void *user_data,
                          void *destroy);
void hb_blob_destroy(hb_blob_t *blob);
const char *hb_blob_get_data(hb_blob_t *blob, unsigned int *length);
hb_face_t *hb_face_create(hb_blob_t *blob, unsigned int index);
hb_blob_t *hb_face_reference_blob(hb_face_t *face);
void hb_face_destroy(hb_face_t *face);
hb_tag_t hb_tag_from_string(const char *str, int len);
void hb_set_add_sorted_array(hb_set_t *set, const hb_codepoint_t *sorted, unsigned int n);
hb_subset_input_t *hb_subset_input_create_or_fail(void);
void hb_subset_input_destroy(hb_subset_input_t *input);
hb_set_t *hb_subset_input_glyph_set(hb_subset_input_t *input);
hb_set_t *hb_subset_input_set(hb_subset_input_t *input, int set_type);
void hb_subset_input_set_flags(hb_subset_input_t *input, unsigned int value);
hb_face_t *hb_subset_or_fail(hb_face_t *source, const hb_subset_input_t *input);
const char *hb_version_string(void);
"""
_READONLY = 1  # HB_MEMORY_MODE_READONLY
_DROP_TABLE = 3  # HB_SUBSET_SETS_DROP_TABLE_TAG
_NO_HINTING, _RETAIN_GIDS, _DESUBROUTINIZE = 0x1, 0x2, 0x4
_PASSTHROUGH, _NOTDEF_OUTLINE = 0x20, 0x40


@functools.cache
def _harfbuzz():
    """(ffi, harfbuzz, harfbuzz-subset), or None when the libraries cannot be loaded."""
    try:
        from .libraries import declared

        ffi = declared(_CDEF, "builder_harfbuzz")  # kept: pycparser is not even imported
        found = []
        for names in (("libharfbuzz.so.0", "libharfbuzz.0.dylib", "harfbuzz"),
                      ("libharfbuzz-subset.so.0", "libharfbuzz-subset.0.dylib",
                       "harfbuzz-subset")):
            for name in names:
                try:
                    found.append(ffi.dlopen(name))
                    break
                except OSError:
                    continue
            else:
                return None
        return ffi, found[0], found[1]
    except Exception:  # noqa: BLE001 - no subsetter: WeasyPrint subsets each part itself
        return None


def available() -> bool:
    return _harfbuzz() is not None


# -- while a part is written --------------------------------------------------------------------

_known: dict[tuple, str] = {}  # (WeasyPrint's font hash, length, index) -> the face's SHA-256
_kept: set[tuple[Path, str]] = set()  # (folder, face) known whole there, in this process


def face_path(faces: Path, sha: str) -> Path:
    return faces / f"{sha}.font"


def _keep(faces: Path, content: Callable[[], AbstractContextManager[memoryview]],
          key: tuple, origin: Callable[[], Path | None] = lambda: None,
          keep: bool = True) -> str | None:
    """The SHA-256 of the face whose bytes ``content()`` gives (known by ``key``), kept in
    ``faces`` (unless not ``keep``); None if it cannot be kept. Its bytes are read once a
    process, and not at all while the font file ``origin()`` says holds exactly those bytes
    (if it can tell) is unchanged since another process read them (:func:`_origin_sha`)."""
    sha = _known.get(key)
    source = origin() if sha is None else None
    if sha is None and source is not None:
        sha = _origin_sha(faces, source)
    if sha is None:
        st = _stat(source)
        with content() as data:
            sha = hashlib.sha256(data).hexdigest()
        if st is not None:
            _record_origin(faces, source, sha, st)
    _known[key] = sha
    if not keep or intact(faces, sha):
        return sha
    try:
        faces.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=faces, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh, content() as data:
                fh.write(data)
            os.replace(tmp, face_path(faces, sha))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return None
    _kept.add((faces, sha))
    return sha


# -- which face a font file holds, known by the file's stamp --------------------------------------

def _origin_path(faces: Path, origin: Path) -> Path:
    name = hashlib.sha256(os.fsencode(origin)).hexdigest()[:32]
    return faces / f"{name}.origin"


def _stat(path: Path | None) -> os.stat_result | None:
    try:
        return path.stat() if path is not None else None
    except OSError:
        return None


def _origin_sha(faces: Path, origin: Path) -> str | None:
    """The SHA-256 recorded for the font file ``origin`` while it is unchanged since it was
    read (its size, times, inode and device, as :mod:`builder.checked` trusts a kept file):
    each process that writes a part would otherwise read and hash every face it uses."""
    st = _stat(origin)
    try:
        found = json.loads(_origin_path(faces, origin).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if st is None or not isinstance(found, list) or len(found) != 7:
        return None
    path, sha, *facts = found
    ok = path == os.fsdecode(origin) and isinstance(sha, str) and _SHA.fullmatch(sha) and \
        facts == checked.facts(st)
    return sha if ok else None


def _record_origin(faces: Path, origin: Path, sha: str, st: os.stat_result) -> None:
    """Record that the font file ``origin``, whose status was ``st`` before it was read, holds
    the face ``sha`` (not for a file changed too lately to tell: :data:`checked.SETTLED`)."""
    if not checked.settled(st):
        return
    tmp = None
    try:
        faces.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=faces, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump([os.fsdecode(origin), sha, *checked.facts(st)], fh)
        os.replace(tmp, _origin_path(faces, origin))
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


@contextmanager
def _face_bytes(hb_face) -> Iterator[memoryview]:
    """The bytes of the font file HarfBuzz holds ``hb_face`` in, read where they are (a CJK
    file is 20–26 MB: no copy is made); afterwards the pages read are given back, so that the
    process does not go on holding a whole font file it needs a few tables of."""
    from weasyprint.text.ffi import ffi, harfbuzz

    blob = harfbuzz.hb_face_reference_blob(hb_face)
    try:
        size = ffi.new("unsigned int *")
        start = harfbuzz.hb_blob_get_data(blob, size)
        view = memoryview(ffi.buffer(start, size[0]))
        try:
            yield view
        finally:
            view.release()
            give_back(int(ffi.cast("uintptr_t", start)), size[0])
    finally:
        harfbuzz.hb_blob_destroy(blob)


_DONTNEED = 4  # Linux's MADV_DONTNEED


@functools.cache
def _madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "madvise", None)
    except OSError:
        return None


def give_back(address: int, length: int) -> None:
    """Let go of the pages of the ``length`` bytes from ``address`` that this process has in
    memory, when they are a file mapped read-only: they are read from the file again if they
    are used again. Memory of any other kind is left as it is, as it is on a system that
    cannot tell (not Linux)."""
    madvise = _madvise()
    page = mmap.PAGESIZE
    first, end = -(-address // page) * page, (address + length) // page * page
    if madvise is None or end <= first or not _read_only_file(first, end):
        return
    madvise(ctypes.c_void_p(first), ctypes.c_size_t(end - first), _DONTNEED)


def _read_only_file(first: int, end: int) -> bool:
    """Whether the addresses ``first``..``end`` lie in one mapping of a file that this
    process cannot write to."""
    return _mapping(first, end) is not None


def _mapping(first: int, end: int) -> tuple[int, int, int, Path] | None:
    """(start, offset, inode, file) of the read-only mapping of a file that holds the addresses
    ``first``..``end``; None when they lie in memory of any other kind (or /proc cannot
    tell)."""
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                fields = line.split(maxsplit=5)
                low, high = (int(x, 16) for x in fields[0].split("-"))
                if low <= first and end <= high:
                    if "w" in fields[1] or fields[4] == "0" or len(fields) < 6 \
                            or not fields[5].startswith("/"):
                        return None
                    return low, int(fields[2], 16), int(fields[4]), \
                        Path(fields[5].rstrip("\n"))
    except (OSError, ValueError, IndexError):
        pass
    return None


def _origin(hb_face) -> Path | None:
    """The font file whose bytes, all of them, HarfBuzz holds ``hb_face`` in (mapped from its
    start, read-only); None when they are anything else (a copy in memory, part of a file)."""
    from weasyprint.text.ffi import ffi, harfbuzz

    blob = harfbuzz.hb_face_reference_blob(hb_face)
    try:
        size = ffi.new("unsigned int *")
        start = int(ffi.cast("uintptr_t", harfbuzz.hb_blob_get_data(blob, size)))
    finally:
        harfbuzz.hb_blob_destroy(blob)
    page = mmap.PAGESIZE
    found = _mapping(start, start + 1) if size[0] and start % page == 0 else None
    if found is None or found[0] != start or found[1] != 0:
        return None
    st = _stat(found[3])
    same = st is not None and st.st_ino == found[2] and st.st_size == size[0]
    return found[3] if same else None


def intact(faces: Path, sha: str) -> bool:
    """Whether the face ``sha`` is in ``faces`` with the bytes it is named by (read and
    hashed once, then known by its stamp: :mod:`builder.checked`)."""
    if (faces, sha) in _kept:
        return True
    if not checked.check(face_path(faces, sha), sha):
        return False
    _kept.add((faces, sha))
    return True


class _Lazy:
    """What WeasyPrint's font gets instead of a copy of its face's bytes (20–26 MB for a CJK
    face, three of them in a book): the bytes are copied only when something reads them."""


_LAZY = _Lazy()


@contextmanager
def deferred(faces: Path | None, keep: bool = True,
             named: list | None = None) -> Iterator[set[str]]:
    """While WeasyPrint writes a document, embed each font it would subset as a stub, its face
    kept in ``faces`` (not with ``keep`` false: a document written to be thrown away, whose
    faces the book may not use); yields the set of the faces the stubs name (filled as it
    writes), and adds what each stub says to ``named`` (a list, when given: the stub's
    ``[face, index, glyphs, notdef, hinting]``). With ``faces`` None, or no subsetter,
    WeasyPrint subsets as usual."""
    used: set[str] = set()
    if faces is None or not available():
        yield used
        return
    from weasyprint.pdf import fonts
    from weasyprint.text.ffi import harfbuzz

    original_clean, original_data = fonts.Font.clean, fonts.get_hb_object_data

    def data(hb_object, ot_color=None, glyph=None):
        if ot_color is None and glyph is None:
            return _LAZY  # the face's bytes, as Font.__init__ asks for them
        return original_data(hb_object, ot_color, glyph)

    def get(font):
        content = font.__dict__.get("_builder_content", _LAZY)
        if content is _LAZY:
            content = font.__dict__["_builder_content"] = original_data(font.hb_face)
        return content

    def put(font, value):
        font.__dict__["_builder_content"] = value

    def length(font) -> int:
        blob = harfbuzz.hb_face_reference_blob(font.hb_face)
        try:
            return harfbuzz.hb_blob_get_length(blob)
        finally:
            harfbuzz.hb_blob_destroy(blob)

    def clean(font, to_unicode, hinting):
        simple = to_unicode and not (font.bitmap or font.png or font.svg or font.colr
                                     or "fvar" in font.tables)
        sha = _keep(faces, lambda: _face_bytes(font.hb_face),
                    (font.hash, length(font), font.index), lambda: _origin(font.hb_face),
                    keep) \
            if simple else None
        if sha is None:
            return original_clean(font, to_unicode, hinting)
        used.add(sha)
        cff = "CFF " in font.tables or "CFF2" in font.tables
        says = {"face": sha, "index": font.index, "glyphs": sorted(to_unicode),
                "notdef": bool(font.missing), "hinting": bool(hinting)}
        if named is not None:
            named.append([sha, font.index, says["glyphs"], says["notdef"], says["hinting"]])
        font.file_content = (_CFF if cff else _TRUETYPE) + MARK + json.dumps(
            says, separators=(",", ":")).encode()
        return None

    fonts.get_hb_object_data, fonts.Font.clean = data, clean
    fonts.Font.file_content = property(get, put)
    try:
        yield used
    finally:
        fonts.get_hb_object_data, fonts.Font.clean = original_data, original_clean
        del fonts.Font.file_content


def stub(data: bytes) -> dict | None:
    """What the stub ``data`` names, or None when it is a font program."""
    if data[4:4 + len(MARK)] != MARK:
        return None
    try:
        found = json.loads(data[4 + len(MARK):])
    except ValueError:
        return None
    ok = isinstance(found, dict) and isinstance(found.get("face"), str) and \
        _SHA.fullmatch(found["face"]) is not None and \
        isinstance(found.get("index"), int) and isinstance(found.get("glyphs"), list) and \
        all(isinstance(g, int) and 0 <= g < 1 << 16 for g in found["glyphs"])
    return found if ok else None


# -- at the join ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Program:
    """A face's subset as it is embedded: deflated once (``flate``, the stream's bytes), with
    the length of the font program (``length``), so that no file that embeds it compresses it
    again (the book, and a booklet imposed beside the join: some 25 ms each for the corpus's
    2.5 MB of subsets)."""

    flate: bytes
    length: int


def embed(book, faces: Path, kept=None) -> dict[tuple[str, int], Program]:
    """Replace every stub of the pikepdf ``book`` by the subset of its face to the glyphs all
    stubs of that face use: one font program per face, shared by every part's font. With
    ``kept`` (a :class:`~builder.memo.Memo`), a subset made before to the same glyphs is taken
    from it, and a new one kept there. Returns the programs, as :func:`programs` does."""
    found = stubs(book, faces)
    made = programs(faces, kept, found)
    put(book, made, found)
    return made


def wanted(found: dict) -> list[tuple[str, int, list[int], bool, bool]]:
    """The subsets the stubs ``found`` (:func:`stubs` of a book, or what the stubs of its
    parts said, by face: ``{(face, index): [(…, what a stub says), …]}``) ask for: each face
    cut to the glyphs all its stubs use, ``(face, index, glyphs, notdef, hinting)``."""
    out = []
    for (sha, index), uses in sorted(found.items()):
        glyphs = sorted({g for *_, named in uses for g in named["glyphs"]})
        notdef = any(named.get("notdef") for *_, named in uses)
        hinting = all(named.get("hinting", True) for *_, named in uses)
        out.append((sha, index, glyphs, notdef, hinting))
    return out


def said(stubs_named: list) -> dict:
    """What the stubs of parts said (:func:`deferred`'s ``named``, each ``[face, index,
    glyphs, notdef, hinting]``), by face as :func:`wanted` takes it."""
    found: dict = {}
    for face, index, glyphs, notdef, hinting in stubs_named:
        found.setdefault((face, index), []).append(
            ({"glyphs": glyphs, "notdef": notdef, "hinting": hinting},))
    return found


class Early:
    """The programs of the subsets that the stubs of a book's parts ask for (:func:`said`),
    made in a thread of their own while the book's pages are copied; :meth:`programs` gives
    them for the stubs the book was found to have when those ask for the same subsets (as
    they do but where a part's font is only on pages the book leaves out), or makes them."""

    def __init__(self, faces: Path, kept, found: dict):
        self.faces, self.kept, self.asked = faces, kept, wanted(found)
        self.made: dict | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._make, daemon=True)
        self.thread.start()

    def _make(self) -> None:
        try:
            self.made = _programs(self.faces, self.kept, self.asked)
        except BaseException as exc:  # noqa: BLE001 - raised by programs() if it is wanted
            self.error = exc

    def programs(self, found: dict) -> dict[tuple[str, int], Program]:
        """:func:`programs` of ``found``: those made early when they are the same subsets."""
        self.thread.join()
        if wanted(found) != self.asked:
            return programs(self.faces, self.kept, found)
        if self.error is not None:
            raise self.error
        return self.made


def programs(faces: Path, kept, found: dict) -> dict[tuple[str, int], Program]:
    """The font program of each face the stubs ``found`` (:func:`stubs` of a book) name, cut
    to the glyphs all its stubs use, by (face, index): what :func:`put` embeds in the book, or
    in another file of the same pages (a booklet imposed beside the join)."""
    return _programs(faces, kept, wanted(found))


def _programs(faces: Path, kept, wanted: list) -> dict[tuple[str, int], Program]:
    for sha, *_ in wanted:
        if not intact(faces, sha):
            raise OutputError(f"a font face kept for the PDF ({sha[:12]}…) is missing or "
                              "damaged; build again with --force", str(faces))

    def one(w: tuple) -> Program:
        return _subset_of(faces, *w, kept)

    if len(wanted) > 1:
        _harfbuzz()  # loaded once, before the threads
        # Side by side: HarfBuzz and zlib let go of the GIL (some 40 ms a CJK face, on the
        # way to the book's writing, and to the booklet's beside it).
        with ThreadPoolExecutor(min(len(wanted), os.cpu_count() or 1)) as pool:
            made = list(pool.map(one, wanted))
    else:
        made = [one(w) for w in wanted]
    return {(w[0], w[1]): m for w, m in zip(wanted, made, strict=True)}


def put(book, made: dict[tuple[str, int], Program], found: dict | None = None) -> None:
    """Each stub of ``book`` replaced by its face's program in ``made`` (from
    :func:`programs`): one stream per face, shared by every font that uses it. ``found``:
    :func:`stubs` of ``book``, when it was asked already."""
    import pikepdf

    for face, uses in sorted((found if found is not None else stubs(book, None)).items()):
        if face not in made:
            raise OutputError("a font of the PDF's parts has no subset; build again with "
                              "--force", face[0][:12])
        _, key, first, _ = uses[0]
        shared = pikepdf.Stream(book, b"")
        shared.write(made[face].flate, filter=pikepdf.Name.FlateDecode)  # written as it is
        if key == "/FontFile3" and "/Subtype" in first:
            shared.Subtype = first.Subtype
        if key == "/FontFile2":
            shared.Length1 = made[face].length
        for descriptor, key, _, _ in uses:
            descriptor[key] = shared


def stubs(book, faces: Path | None) -> dict[tuple[str, int], list]:
    """The font descriptors of ``book`` whose program is a stub, by the face it names:
    (descriptor, its key, the stub's stream, what the stub says)."""
    import pikepdf

    found: dict[tuple[str, int], list] = {}
    for obj in book.objects:
        if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/FontDescriptor":
            continue
        for key in ("/FontFile2", "/FontFile3"):
            stream = obj.get(key)
            data = stream.read_bytes() if isinstance(stream, pikepdf.Stream) else b""
            named = stub(data)
            if named is None and data[4:4 + len(MARK)] == MARK:
                raise OutputError("a font stub of the PDF's parts is damaged; build again with "
                                  "--force", str(faces or ""))
            if named is not None:
                found.setdefault((named["face"], named["index"]), []).append(
                    (obj, key, stream, named))
    return found


def _subset_of(faces: Path, sha: str, index: int, glyphs: list[int], notdef: bool,
               hinting: bool, kept) -> Program:
    """The subset of the kept face ``sha``, deflated: from ``kept`` when it was made before
    with the same glyphs, flags and HarfBuzz (a CJK face costs some 50 ms), else made (and
    kept)."""
    from .memo import code_version, digest

    ffi, hb, _ = _harfbuzz()
    key = digest(code_version(), "subset", sha, str(index), json.dumps(glyphs),
                 str(notdef), str(hinting), ffi.string(hb.hb_version_string()).decode())
    if kept is not None:
        record = kept.get_record(key, {"sha256": str, "length": int})
        path = kept.file(key, ".flate")
        if record is not None and path is not None and checked.check(path, record["sha256"]):
            return Program(path.read_bytes(), record["length"])
    with face_path(faces, sha).open("rb") as fh, \
            mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as face:
        # mapped, not read: HarfBuzz reads the tables and glyphs it keeps, not 20 MB
        program = subset(face, index, glyphs, notdef, hinting)
    made = Program(zlib.compress(program, 6), len(program))
    if kept is not None:
        kept.put_bytes(key, ".flate", made.flate)
        kept.put_record(key, {"sha256": hashlib.sha256(made.flate).hexdigest(),
                              "length": made.length})
    return made


def subset(face, index: int, glyphs: list[int], notdef: bool, hinting: bool) -> bytes:
    """The face ``index`` of the font file ``face`` (bytes, or a buffer such as a mapped file)
    cut to ``glyphs``, their ids kept, as WeasyPrint cuts a font."""
    ffi, hb, hbs = _harfbuzz()
    buffer = ffi.from_buffer(face)
    blob = hb.hb_blob_create(buffer, len(face), _READONLY, ffi.NULL, ffi.NULL)
    source = hb.hb_face_create(blob, index)
    out = []
    try:
        extra = _NOTDEF_OUTLINE if notdef else 0
        first = _cut(ffi, hb, hbs, source, glyphs,
                     _RETAIN_GIDS | _PASSTHROUGH | _DESUBROUTINIZE | extra, _DROPPED)
        if first == ffi.NULL:
            raise ValueError("HarfBuzz could not subset a font")
        out.append(first)
        keep = list(range(max(glyphs) + 1)) if glyphs else [0]
        second = _cut(ffi, hb, hbs, first, keep, _PASSTHROUGH | _DESUBROUTINIZE | extra |
                      (0 if hinting else _NO_HINTING), ())
        if second == ffi.NULL:
            raise ValueError("HarfBuzz could not subset a font")
        out.append(second)
        data_blob = hb.hb_face_reference_blob(second)
        length = ffi.new("unsigned int *")
        data = ffi.unpack(hb.hb_blob_get_data(data_blob, length), length[0])
        hb.hb_blob_destroy(data_blob)
        return data
    finally:
        for made in out:
            hb.hb_face_destroy(made)
        hb.hb_face_destroy(source)
        hb.hb_blob_destroy(blob)


def _cut(ffi, hb, hbs, face, glyphs: list[int], flags: int, dropped: tuple[bytes, ...]):
    request = hbs.hb_subset_input_create_or_fail()
    if request == ffi.NULL:
        return ffi.NULL
    try:
        hb.hb_set_add_sorted_array(hbs.hb_subset_input_glyph_set(request),
                                   ffi.new("hb_codepoint_t[]", glyphs), len(glyphs))
        hbs.hb_subset_input_set_flags(request, flags)
        if dropped:
            tags = sorted(hb.hb_tag_from_string(t, -1) for t in dropped)
            hb.hb_set_add_sorted_array(hbs.hb_subset_input_set(request, _DROP_TABLE),
                                       ffi.new("hb_codepoint_t[]", tags), len(tags))
        return hbs.hb_subset_or_fail(face, request)
    finally:
        hbs.hb_subset_input_destroy(request)
