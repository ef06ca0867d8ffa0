"""Work spread over processes: the PDF's parts and the print blocks' measurements are laid
out by WeasyPrint, which holds the GIL, so two of them at once need two processes.

The processes are forked from the build, so that they inherit what it has loaded (the
rendition, its assets, WeasyPrint and the fonts it found) instead of receiving it pickled;
only each item's number goes to a process and its result comes back. Each process holds the
pages of the one document it lays out, so the memory of the build grows with the number of
workers, not with the book. A forked process's memory creeps up with every item all the same
(about 4 MB a part of the corpus): each page of the build's that it writes to, if only to
count a reference, becomes its own copy. A process that has come to hold more than
:data:`RETIRE_MB` of its own after an item ends, and a fresh one is forked in its place.

The build's objects are frozen out of the garbage collector while the workers run: a
collection in a worker would otherwise write to every object it inherited, and copy the pages
they are on (about 45 MB of the corpus's build with two workers).
"""

from __future__ import annotations

import gc
import os
import pickle
import selectors
import signal
import struct
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from .errors import OutputError

#: A worker that holds more memory of its own than this after an item is replaced. A fresh
#: one costs: its first item copies the pages of the build's that it writes to (some 20 MB,
#: 5,000 page faults, 40-60 ms of CPU for a part of the bench corpus). Measured on that
#: corpus, PDF only: 32 MB, 11 of 18 parts laid out in a fresh process, peak 188-195 MB;
#: 40 MB, 6-7 of 18, 205-210 MB and 0.3 s less CPU; 48 MB, 227-231 MB (bare WeasyPrint on
#: the same photos, 194 MB; the limit set for the build, 1.2 times that).
RETIRE_MB = 40
#: Where the system cannot tell a process's own memory: a worker does this many items.
RETIRE_ITEMS = 4


@dataclass
class _Worker:
    pid: int
    tasks: int  # the file descriptor the worker reads item numbers from
    results: BinaryIO  # what the worker writes its results to


def fork_map(fn: Callable[[Any, Any], Any], items: Sequence[Any], workers: int,
             shared: Any, warm: Callable[[], None] | None = None) -> list[Any]:
    """``[fn(shared, item) for item in items]``, in ``workers`` forked processes at most
    (here, in this process, when that is one, there is one item, or the system cannot fork).
    ``warm``: done here before the workers are forked, what each would otherwise do first
    for itself (WeasyPrint's first document in a process: :func:`builder.parts.warm_up`).
    An exception in ``fn`` is raised here; a worker that dies (out of memory, say) is an
    :class:`OutputError` that suggests ``--jobs 1``. Ctrl-C stops the build, not the workers
    one by one: they ignore it, and the build ends them."""
    if workers < 2 or len(items) < 2 or not hasattr(os, "fork"):
        return [fn(shared, item) for item in items]
    if warm is not None:
        warm()
    gc.collect()
    gc.freeze()  # the build's objects left out of the workers' collections: their pages stay shared
    running: dict[int, _Worker] = {}  # by the descriptor of its results
    results: list[Any] = [None] * len(items)
    given = done = 0
    try:
        with selectors.DefaultSelector() as ready:
            def start() -> None:
                worker = _fork(fn, items, shared, running.values())
                running[worker.results.fileno()] = worker
                ready.register(worker.results, selectors.EVENT_READ)
                give(worker)

            def give(worker: _Worker) -> None:
                nonlocal given
                index, given = (given, given + 1) if given < len(items) else (-1, given)
                os.write(worker.tasks, struct.pack("<q", index))
                if index < 0:
                    stop(worker)

            def stop(worker: _Worker) -> None:
                ready.unregister(worker.results)
                del running[worker.results.fileno()]
                _close(worker)
                os.waitpid(worker.pid, 0)

            for _ in range(min(workers, len(items))):
                start()
            while done < len(items):
                for key, _ in ready.select():
                    worker = running[key.fd]
                    try:
                        # from a process of our own, forked by this one
                        index, ok, value, retiring = pickle.load(worker.results)  # noqa: S301
                    except (EOFError, pickle.UnpicklingError):
                        raise OutputError(
                            f"a layout process ended abruptly (out of memory?); run again with "
                            f"--jobs 1 (it was {workers})", "--jobs") from None
                    if not ok:
                        raise value
                    results[index], done = value, done + 1
                    if retiring:
                        stop(worker)
                        if given < len(items):
                            start()
                    else:
                        give(worker)
    except BaseException:  # an error, Ctrl-C or SIGTERM: the workers stop now, not later
        for worker in list(running.values()):
            try:
                os.kill(worker.pid, signal.SIGKILL)
            except OSError:
                pass
            _close(worker)
            os.waitpid(worker.pid, 0)
        raise
    finally:
        gc.unfreeze()
    return results


def fork_with_pipes(what: str) -> tuple[int, int, int]:
    """Fork, with a pipe to the new process and one back: ``(pid, read end, write end)``, in
    the new process (pid 0) its ends, here the build's; each side's other ends are closed.
    A fork that fails is an :class:`OutputError` that names ``what`` could not be started."""
    tasks_in, tasks_out = os.pipe()
    results_in, results_out = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:
        for fd in (tasks_in, tasks_out, results_in, results_out):
            os.close(fd)
        raise OutputError(f"could not start {what} ({exc.strerror}); run again with "
                          "--jobs 1", "--jobs") from None
    if pid == 0:
        os.close(tasks_out)
        os.close(results_in)
        return pid, tasks_in, results_out
    os.close(tasks_in)
    os.close(results_out)
    return pid, results_in, tasks_out


def _fork(fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any,
          others: Any) -> _Worker:
    pid, read, write = fork_with_pipes("a layout process")
    if pid == 0:  # the worker: it never returns
        try:
            for other in others:  # the build's ends of the other workers' pipes
                _close(other)
            _serve(fn, items, shared, read, write)
        finally:
            os._exit(0)
    return _Worker(pid, write, os.fdopen(read, "rb"))


def _close(worker: _Worker) -> None:
    try:
        os.close(worker.tasks)
    except OSError:
        pass
    worker.results.close()


def _serve(fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any, tasks: int,
           results: int) -> None:
    """The worker's loop: an item's number in, ``(number, ok, result or exception,
    retiring)`` out, until told -1, the build is gone, or the worker retires."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    out = os.fdopen(results, "wb")
    served = 0
    while True:
        got = os.read(tasks, 8)
        if len(got) < 8:
            return
        (index,) = struct.unpack("<q", got)
        if index < 0:
            return
        try:
            message = [index, True, fn(shared, items[index])]
        except BaseException as exc:  # noqa: BLE001 - raised again in the build
            message = [index, False, exc]
        served += 1
        retiring = _retiring(served)
        try:
            data = pickle.dumps((*message, retiring))
        except Exception as exc:  # noqa: BLE001 - an exception that cannot be pickled
            data = pickle.dumps((index, False, RuntimeError(f"{message[2]!r} ({exc})"),
                                 retiring))
        out.write(data)
        out.flush()
        if retiring:
            return


def _retiring(served: int) -> bool:
    """Whether this worker holds too much of its own to go on (see :data:`RETIRE_MB`)."""
    own = _own_mb()
    return served >= RETIRE_ITEMS if own is None else own > RETIRE_MB


def _own_mb() -> float | None:
    """The memory only this process holds (its private pages), in MB; None where the system
    does not say."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open("/proc/self/smaps_rollup", "rb") as fh:
            rows = fh.read().split(b"\n")
    except OSError:
        return None
    kb = sum(int(row.split()[1]) for row in rows if row.startswith((b"Private_Clean:",
                                                                     b"Private_Dirty:")))
    return kb / 1024
