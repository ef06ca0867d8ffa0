"""Loading WeasyPrint's C libraries without a search of the system for each name, and without
parsing their declarations again in every build.

WeasyPrint tries several names for each of its libraries (Pango, HarfBuzz, fontconfig, …),
those of Windows and macOS before the Linux file name; cffi asks ``ctypes.util.find_library``
about every name it cannot load as it is, and on Linux that runs ``ldconfig`` (and then a
compiler and the linker) in a process of its own: 22 of them, about 0.19 s of every build
that writes a PDF. On Linux the file name it ends with (``libpango-1.0.so.0``) is loaded as
it is, as the system's loader finds it, so the search is left out while WeasyPrint loads.

WeasyPrint also declares those libraries' functions to cffi in C (``ffi.cdef``), which cffi
parses with pycparser on every import: some 0.1 s of each print process's start, on the way
to a rebuild's first layout. With :func:`keep_in`, what cffi makes of them is kept (cffi's own
tables for an out-of-line module, as data in a JSON record, keyed by WeasyPrint's file, cffi's
version and the machine) and later imports get cffi's compiled ``FFI`` made from them, which
has the same API. Nothing kept is run: the record holds bytes, numbers and strings. The
builder's own declarations (HarfBuzz's subsetter, :mod:`builder.subsets`) are kept the same way
(:func:`declared`).
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .memo import Memo, digest

#: The module whose declarations are kept: WeasyPrint's bindings of Pango, HarfBuzz, fontconfig.
DECLARING = "weasyprint.text.ffi"

_kept: Memo | None = None


def keep_in(memo: Memo | None) -> None:
    """Keep the declarations of the next imports of WeasyPrint in ``memo`` (None: not)."""
    global _kept  # noqa: PLW0603 - one setting for the process, read while WeasyPrint loads
    _kept = memo


@contextmanager
def by_soname() -> Iterator[None]:
    """While WeasyPrint is imported: on Linux, the libraries are found by their file names
    only (``find_library`` finds none); elsewhere, as usual. Its declarations come from
    the memo of :func:`keep_in`, when there is one."""
    import ctypes.util

    search = ctypes.util.find_library
    linux = sys.platform.startswith("linux")
    if linux:
        ctypes.util.find_library = lambda name: None
    cffi = _cffi() if _kept is not None else None
    made = cffi.FFI if cffi is not None else None
    if cffi is not None:
        cffi.FFI = _maker(made, _kept)
    try:
        yield
    finally:
        if linux:
            ctypes.util.find_library = search
        if cffi is not None:
            cffi.FFI = made


def _cffi():
    try:
        import cffi

        return cffi
    except ImportError:
        return None


def _maker(made, memo: Memo):
    """What ``cffi.FFI()`` returns while WeasyPrint loads: for its declaring module, an FFI
    made from what was kept (or one that keeps what it is given); for anyone else, cffi's."""
    def make(*args, **kwargs):
        caller = sys._getframe(1).f_globals  # noqa: SLF001 - which module asks
        if args or kwargs or caller.get("__name__") != DECLARING:
            return made(*args, **kwargs)
        return _declared(caller.get("__file__"), made, memo)
    return make


def declared(csource: str, name: str):
    """A cffi ``FFI`` with the C declarations ``csource``: cffi's compiled one made from the
    tables kept in the memo of :func:`keep_in` (``name``: what the tables are called there),
    else one that parses them (and keeps their tables, when there is a memo). Raises what
    cffi raises for declarations it cannot parse, or ImportError without cffi."""
    import cffi

    if _kept is None:
        made = cffi.FFI()
    else:
        made = _declared(csource.encode(), cffi.FFI, _kept, name)
    made.cdef(csource)
    return made


def _declared(source: str | bytes | None, made, memo: Memo, name: str = "weasyprint_ffi"):
    """What declares ``source`` (a declaring module's file name, or the declarations): an
    FFI from the tables kept by its key, or ``made``'s that keeps them once declared."""
    import platform

    import cffi

    try:
        text = source if isinstance(source, bytes) else Path(source).read_bytes()
        key = digest(text, cffi.__version__, platform.machine(),
                     sys.implementation.cache_tag or "")
    except (OSError, TypeError):
        return made()
    record = memo.get_record(key, {"source": str, "name": str, "tables": dict})
    if record is not None:
        try:
            return _compiled(record)
        except (TypeError, ValueError, KeyError, ImportError):
            pass  # not tables this cffi takes: parsed again, and kept again
    return _keeping(made)(memo, key, name)


def _compiled(record: dict):
    import _cffi_backend

    class Kept(_cffi_backend.FFI):
        """cffi's compiled FFI, made from kept tables; declaring again what it was made of
        does nothing, declaring anything else is an error."""

        def cdef(self, csource: str, *args, **kwargs) -> None:
            if digest(csource) != self.source:
                raise ValueError("declarations other than those kept")

    tables = {name: _decoded(value) for name, value in record["tables"].items()}
    made = Kept(record["name"], **tables)
    made.source = record["source"]
    return made


def _keeping(made):
    class Keeping(made):
        """cffi's FFI, which keeps the tables of what it is declared once it is."""

        def __init__(self, memo: Memo, key: str, name: str):
            super().__init__()
            self._memo, self._key, self._name = memo, key, name

        def cdef(self, csource: str, *args, **kwargs) -> None:
            super().cdef(csource, *args, **kwargs)
            try:
                self._memo.put_record(self._key, {"source": digest(csource),
                                                  "name": self._name,
                                                  "tables": tables(self, self._name)})
            except Exception:  # noqa: BLE001, S110 - keeping them only saves time
                pass

    return Keeping


def tables(ffi, name: str) -> dict[str, Any]:
    """The tables of the out-of-line module cffi would write for ``ffi``, named ``name``:
    the arguments of its ``_cffi_backend.FFI(...)`` call, encoded for JSON."""
    import ast
    import tempfile

    from cffi import recompiler

    with tempfile.TemporaryDirectory() as folder:
        module = Path(folder) / f"{name}.py"
        recompiler.make_py_source(ffi, name, str(module))
        tree = ast.parse(module.read_text(encoding="utf-8"))
    call = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call))
    return {k.arg: _encoded(ast.literal_eval(k.value)) for k in call.keywords}


def _encoded(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"b": base64.b64encode(value).decode()}
    if isinstance(value, tuple):
        return [_encoded(v) for v in value]
    if isinstance(value, int | str):
        return value
    raise TypeError(f"not a table: {type(value).__name__}")


def _decoded(value: Any) -> Any:
    if isinstance(value, dict):
        return base64.b64decode(value["b"], validate=True)
    if isinstance(value, list):
        return tuple(_decoded(v) for v in value)
    if isinstance(value, int | str):
        return value
    raise TypeError(f"not a table: {type(value).__name__}")
