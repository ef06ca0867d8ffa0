"""Loading WeasyPrint's C libraries without a search of the system for each name.

WeasyPrint tries several names for each of its libraries (Pango, HarfBuzz, fontconfig, …),
those of Windows and macOS before the Linux file name; cffi asks ``ctypes.util.find_library``
about every name it cannot load as it is, and on Linux that runs ``ldconfig`` (and then a
compiler and the linker) in a process of its own: 22 of them, about 0.19 s of every build
that writes a PDF. On Linux the file name it ends with (``libpango-1.0.so.0``) is loaded as
it is, as the system's loader finds it, so the search is left out while WeasyPrint loads.
"""

from __future__ import annotations

import ctypes.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def by_soname() -> Iterator[None]:
    """While WeasyPrint is imported: on Linux, the libraries are found by their file names
    only (``find_library`` finds none); elsewhere, as usual."""
    if not sys.platform.startswith("linux"):
        yield
        return
    search = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        yield
    finally:
        ctypes.util.find_library = search
