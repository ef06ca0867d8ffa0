#!/usr/bin/env bash
# Set up everything `make demo` and `make test` need: a virtual environment with the project
# and its test extras, the CJK fonts, and (for tests) Java for EPUBCheck.
# Usage: scripts/setup.sh [demo|test|bench]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-demo}"
PY="${PYTHON:-python3}"

need_apt=()
if ! fc-list :lang=zh family 2>/dev/null | grep -qi "noto"; then
  need_apt+=(fonts-noto-cjk)
fi
# WeasyPrint subsets fonts with HarfBuzz; without it, subsetting a CJK font takes ~10 s a face.
if ! ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset; then
  need_apt+=(libharfbuzz-subset0)
fi
# PDF/X takes its CMYK output intent from Ghostscript's profile (Artifex CMYK SWOP).
if [ ! -f /usr/share/color/icc/ghostscript/default_cmyk.icc ]; then
  need_apt+=(libgs-common)
fi
if [ "$what" = bench ]; then
  # The benchmark compares against pandoc when it is there (calibre too, if installed by hand).
  command -v pandoc >/dev/null 2>&1 || need_apt+=(pandoc)
fi
if [ "$what" != demo ]; then
  command -v java >/dev/null 2>&1 || need_apt+=(default-jre-headless)
  command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need_apt[*]} with apt-get"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${need_apt[*]}" >&2
    echo "setup: install them with: sudo apt-get install ${need_apt[*]}" >&2
    echo "setup: (fonts-noto-cjk gives the Chinese text a real font; Java runs EPUBCheck;" >&2
    echo "setup: libgs-common holds the CMYK profile of PDF/X)" >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$what
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  if [ "$what" != demo ]; then
    .venv/bin/python -m pip install -q -e ".[test]"
  else
    .venv/bin/python -m pip install -q -e .
  fi
  touch "$stamp"
fi
# The builder's own bytecode, compiled here (again only for a changed source): pip compiles
# what it installs, but no one an editable install, and where Python writes none
# (PYTHONDONTWRITEBYTECODE) every build would compile its modules anew (a tenth of a build
# with nothing to do).
.venv/bin/python -m compileall -q builder >/dev/null
