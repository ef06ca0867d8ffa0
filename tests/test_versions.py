"""The installed distributions' versions, read from their folders' names: what
importlib.metadata says, without its imports."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest

from builder import versions
from builder.memo import LIBRARIES


@pytest.mark.parametrize("name", [*LIBRARIES, "builder", "Python_Frontmatter", "pytest"])
def test_as_importlib_metadata_says(name):
    assert versions.version(name) == importlib.metadata.version(name)


def test_one_not_installed_is_none():
    assert versions.version("no-such-distribution-here") is None


def test_a_build_that_starts_imports_no_metadata_reader():
    code = ("import sys, builder.cli, builder.state, builder.memo; builder.memo.code_version(); "
            "print(sorted(m for m in sys.modules if m.startswith(('importlib.metadata', "
            "'email'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
