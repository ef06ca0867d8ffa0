"""Logging: the one place its policy is written and its output configured.

- Library modules log to ``logging.getLogger(__name__)``, all below the ``builder`` logger, which
  has only a NullHandler until :func:`configure` is called: a program that imports builder
  decides for itself what it shows.
- Whatever degrades the result (an image that failed, a refused URL, a soft print) is a
  warning: :meth:`builder.report.BuildReport.warn` logs it exactly once, on ``builder.report``,
  and keeps it in the report, so that nothing is only in a log line.
- The command line calls :func:`configure` once: ``-q`` shows errors only; the default shows no
  single warning (the summary counts them and names the report); ``-v`` shows each warning
  once, and what the stages say at INFO; ``--debug`` adds DEBUG. Messages go to stderr as
  ``warning: …``.
- The libraries below (WeasyPrint, fontTools, httpx, httpcore, Pillow) speak of inputs the
  build already reports in its own words; they are shown at ERROR only.
"""

from __future__ import annotations

import logging
import sys

ROOT = "builder"
QUIET_LIBRARIES = ("weasyprint", "fontTools", "httpx", "httpcore", "hpack", "PIL")

logging.getLogger(ROOT).addHandler(logging.NullHandler())


class _Format(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def configure(quiet: bool = False, verbose: bool = False, debug: bool = False) -> None:
    """Show the package's messages on stderr at the level the user asked for."""
    root = logging.getLogger(ROOT)
    for handler in list(root.handlers):
        if getattr(handler, "_builder_console", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._builder_console = True  # type: ignore[attr-defined]
    handler.setFormatter(_Format())
    root.addHandler(handler)
    root.propagate = False
    if quiet:
        root.setLevel(logging.ERROR)
    elif debug:
        root.setLevel(logging.DEBUG)
    elif verbose:
        root.setLevel(logging.INFO)
    else:
        root.setLevel(logging.ERROR)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
