"""Ctrl-C and SIGTERM in a build: raised in the main thread as exceptions
(:class:`KeyboardInterrupt`, :class:`~builder.errors.Terminated`), so that the build unwinds
(the staging folder removed, the downloads cancelled) — but never in the middle of importing a
library with a native part, whose initialisation an exception can crash: there the signal waits
until the import is done (:func:`shielded`). A second signal while one waits ends the process
at once."""

from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager

from .errors import Terminated

CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
_state = {"depth": 0, "pending": None}


def _raise(signum: int) -> None:
    _state["raised"] = True
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _handler(signum: int, frame) -> None:
    if _state.get("raised") or (_state["depth"] and _state["pending"] is not None):
        sys.stderr.write("builder: stopped\n")  # asked twice: now, whatever is left
        sys.stderr.flush()
        os._exit(CODES.get(signum, 130))
    if _state["depth"]:
        _state["pending"] = signum
        return
    _raise(signum)


def install() -> None:
    """Take Ctrl-C and SIGTERM (in the main thread only, where Python runs handlers)."""
    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)


def unwind_on_terminate() -> None:
    """In a process the build forked to work for it: SIGTERM raised as in the build (the
    process unwinds, ending what it started), but never in the middle of a native import."""
    signal.signal(signal.SIGTERM, _handler)


@contextmanager
def shielded():
    """A block a signal does not interrupt: it is raised when the block ends."""
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1
        pending = _state["pending"]
        if not _state["depth"] and pending is not None:
            _state["pending"] = None
            _raise(pending)
