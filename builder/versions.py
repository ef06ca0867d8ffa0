"""The versions of installed distributions, from the names of their ``.dist-info`` folders.

Every build asks for them (the builder's own version, and the libraries' in the key of what a
build keeps: :func:`builder.memo.code_version`), a build with nothing to do as well.
``importlib.metadata`` would cost some 45 ms of imports for it (an e-mail parser, to read a
file this needs only the name of): a quarter of a build that is up to date, and of the time
before a rebuild starts its print process. An installer names the folder
``NAME-VERSION.dist-info``; a distribution not found so (an egg, say) is asked of
``importlib.metadata``.
"""

from __future__ import annotations

import functools
import os
import re
import sys


def version(name: str) -> str | None:
    """The version of the distribution ``name`` the interpreter would import; None if it
    is not installed."""
    found = _installed().get(_normal(name))
    if found is not None:
        return found
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as metadata_version

    try:
        return metadata_version(name)
    except PackageNotFoundError:
        return None


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _installed() -> dict[str, str]:
    """Each distribution's version by its normalized name, the first along ``sys.path``."""
    out: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in sorted(names):
            if folder.endswith(".dist-info") and "-" in folder:
                name, _, rest = folder[:-len(".dist-info")].partition("-")
                out.setdefault(_normal(name), rest)
    return out
