"""Work spread over processes: the PDF's parts and the print blocks' measurements are laid
out by WeasyPrint, which holds the GIL, so two of them at once need two processes.

The processes are forked from the build, so that they inherit what it has loaded (the
rendition, its assets, WeasyPrint and the fonts it found) instead of receiving it pickled;
only each item and its result cross between processes. Each process holds the pages of the
one document it lays out, so the memory of the build grows with the number of workers, not
with the book. The build's objects are frozen out of the garbage collector while the workers
run: a collection in a worker would otherwise write to every object it inherited, and copy
the pages they are on (about 45 MB of the corpus's build with two workers).
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .errors import OutputError

_SHARED: Any = None  # what the forked workers inherit: set only while a pool runs


def fork_map(fn: Callable[[Any, Any], Any], items: Sequence[Any], workers: int,
             shared: Any) -> list[Any]:
    """``[fn(shared, item) for item in items]``, in ``workers`` forked processes at most
    (here, in this process, when that is one, there is one item, or the system cannot fork).
    An exception in ``fn`` is raised here; a worker that dies (out of memory, say) is an
    :class:`OutputError` that suggests ``--jobs 1``. Ctrl-C stops the build, not the workers
    one by one: they ignore it, and the build ends them."""
    if workers < 2 or len(items) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [fn(shared, item) for item in items]
    global _SHARED
    _SHARED = shared
    gc.collect()
    gc.freeze()  # the build's objects left out of the workers' collections: their pages stay shared
    pool = ProcessPoolExecutor(max_workers=min(workers, len(items)),
                               mp_context=multiprocessing.get_context("fork"),
                               initializer=_ignore_interrupts)
    try:
        results = list(pool.map(_call, [fn] * len(items), items))
    except BrokenProcessPool:
        pool.shutdown(wait=True)
        raise OutputError(f"a layout process ended abruptly (out of memory?); run again with "
                          f"--jobs 1 (it was {workers})", "--jobs") from None
    except BaseException:  # an error, Ctrl-C or SIGTERM: the workers stop now, not later
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        _SHARED = None
        gc.unfreeze()
    pool.shutdown(wait=True)
    return results


def _ignore_interrupts() -> None:
    """A worker leaves Ctrl-C and SIGTERM to the build, which stops it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _call(fn: Callable[[Any, Any], Any], item: Any) -> Any:
    return fn(_SHARED, item)
