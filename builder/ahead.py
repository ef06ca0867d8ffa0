"""A process forked before its work is ready, so that it loads what the work needs while the
build goes on: the print outputs need WeasyPrint and the PDF libraries, some 0.4 s of imports,
which the build would otherwise wait for after it has cleaned the articles and written the
EPUB. The process imports a module (``prepare``), then waits for its work: a function of an
imported module, named, and its arguments, pickled. Work known when the process is forked
(:meth:`Ahead.run`: the booklet and the preflight beside the join) is not sent at all: the
new process has it in the memory it was forked with. Its result (or what it raised) comes
back pickled, and the process ends.

It ignores Ctrl-C, which is the build's to handle; the build ends it when it is interrupted
(SIGTERM: the process unwinds, ending the workers it forked) or when its work is not wanted
(before the work is handed over, at once).
"""

from __future__ import annotations

import gc
import importlib
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from . import signals
from .errors import OutputError, Terminated
from .libraries import keep_in
from .memo import Memo
from .workers import fork_with_pipes


def possible() -> bool:
    return hasattr(os, "fork")


def for_print(settings) -> Ahead | None:
    """The process ahead that writes the print outputs of a build of ``settings``, forked now:
    when the build prints and has more than one job (and the system can fork). Whichever
    process then loads WeasyPrint takes its libraries' declarations from the cache folder
    (:func:`~builder.libraries.keep_in`)."""
    if not settings.prints:
        return None
    keep_in(Memo.of(settings, "libraries"))
    return Ahead("builder.printing") if settings.jobs > 1 and possible() else None


class Ahead:
    """A forked process that imports the module ``prepare`` now and does the work it is
    handed later (:meth:`hand`, :meth:`result`); :meth:`close` ends it."""

    def __init__(self, prepare: str, work: tuple[Callable, tuple, bool] | None = None):
        """``work``: what the process is to do when it is known at the fork (:meth:`run`)."""
        # What this process holds is left out of the new one's garbage collections: a
        # collection there would write to every object it inherited and copy their pages (a
        # process forked late in a build inherits the whole book's documents).
        gc.freeze()
        try:
            pid, read, write = fork_with_pipes("a print process")
        except BaseException:
            gc.unfreeze()
            raise
        if pid:
            gc.unfreeze()  # here they are collected as before; there they stay left out
        if pid == 0:  # the process ahead: it never returns
            code = 0
            try:
                _serve(prepare, read, write, work)
            except BaseException:  # noqa: BLE001 - ended (SIGTERM) or its build gone
                code = 1
            finally:
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except (OSError, ValueError):
                        pass
                os._exit(code)
        self.pid = pid
        self._jobs = os.fdopen(write, "wb")
        self._results = os.fdopen(read, "rb")
        self._handed, self._ended, self._answered = work is not None, False, False
        self.status: int | None = None  # how it ended (os.waitpid's), once waited for
        self._sending: threading.Thread | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()  # what the thread sends
        if work is not None and not work[2]:
            self._jobs.close()  # nothing is to follow

    @classmethod
    def run(cls, function: Callable, *args: Any, follows: bool = False) -> Ahead:
        """A process forked now to do ``function(*args)``: what it needs is in this process's
        memory, and so in the new one's, so nothing of it is pickled or sent (the booklet and
        the preflight beside the join start at once, where the join's pages were megabytes
        down a pipe whose thread waited for the join to let go of the interpreter). With
        ``follows``, as :meth:`hand`'s."""
        return cls("", (function, args, follows))

    def hand(self, module: str, function: str, *args: Any, follows: bool = False) -> None:
        """Give the process its work: ``module.function(*args)``. The work (megabytes of
        document) goes down the pipe from a thread: the process reads it only when its imports
        are done, and this one goes on meanwhile. With ``follows``, work that can start before
        all it needs is there: the function is given one more argument, a function that
        returns what :meth:`follow` sends (waiting for it)."""
        self._handed = True
        self._send(pickle.dumps((module, function, args, follows),
                                protocol=pickle.HIGHEST_PROTOCOL))
        if not follows:
            self._send(None)

    def follow(self, value: Any) -> None:
        """Send ``value`` to the work handed with ``follows``."""
        self._send(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        self._send(None)

    def _send(self, data: bytes | None) -> None:
        """Queue ``data`` for the process (None: nothing more, the pipe is closed)."""
        if self._sending is None:
            def send() -> None:
                try:
                    while (item := self._queue.get()) is not None:
                        self._jobs.write(item)
                        self._jobs.flush()
                    self._jobs.close()
                except (BrokenPipeError, ValueError):
                    pass  # it is gone (or ended): result() says so

            self._sending = threading.Thread(target=send, name="builder-hand", daemon=True)
            self._sending.start()
        self._queue.put(data)

    def result(self) -> Any:
        """What the work returned; what it raised is raised here. A process that died (out
        of memory, say) is an :class:`OutputError` that suggests ``--jobs 1``. The process,
        which ends once it has answered, is waited for by :meth:`close`: its memory is given
        back while the build goes on."""
        try:
            ok, value = pickle.load(self._results)  # noqa: S301 - our own forked process
        except (EOFError, pickle.UnpicklingError, OSError):
            self.close()
            raise OutputError("the print process ended abruptly (out of memory?); run again "
                              "with --jobs 1", "--jobs") from None
        self._answered = True
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """End the process if it has not ended: at once if it has no work yet, else with
        SIGTERM (it ends the workers it forked), unless it has answered and ends by itself;
        then wait for it."""
        if self._ended:
            return
        if not self._answered:
            try:
                os.kill(self.pid, signal.SIGTERM if self._handed else signal.SIGKILL)
            except OSError:
                pass
        self._reap()

    def _reap(self) -> None:
        if self._ended:
            return
        self._ended = True
        if self._sending is not None:
            self._queue.put(None)  # (work that was to follow and did not: nothing more)
            self._sending.join()  # ends once the process has read its work or is gone
        for stream in (self._jobs, self._results):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.status = os.waitpid(self.pid, 0)[1]
        except ChildProcessError:
            pass


def _serve(prepare: str, jobs: int, results: int,
           work: tuple[Callable, tuple, bool] | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle
    signals.unwind_on_terminate()
    if prepare:
        importlib.import_module(prepare)
    with os.fdopen(jobs, "rb") as fh:
        if work is None:
            try:
                module, name, args, follows = pickle.load(fh)  # noqa: S301 - from our build
            except EOFError:
                return  # the work was not wanted
            function = getattr(importlib.import_module(module), name)
        else:
            function, args, follows = work
        if follows:
            args = (*args, lambda: pickle.load(fh))  # noqa: S301 - from the build too
        try:
            message = (True, function(*args))
        except Terminated:
            raise
        except BaseException as exc:  # noqa: BLE001 - raised again in the build
            message = (False, exc)
    try:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - an exception that cannot be pickled
        data = pickle.dumps((False, RuntimeError(f"{message[1]!r} ({exc})")))
    with os.fdopen(results, "wb") as out:
        out.write(data)

