"""builder.ahead: a process forked before its work, which imports what the work needs, does
the work it is handed later, and hands back the result or what it raised."""

from __future__ import annotations

import os
import sys
import time
import uuid

import pytest

from builder.ahead import Ahead
from builder.errors import OutputError

PROBE = '''
import os, time
LOADED_IN = os.getpid()

def work(x):
    return os.getpid(), LOADED_IN, x * 2

def fail(message):
    raise ValueError(message)

def die():
    os._exit(3)

def sleep(seconds):
    time.sleep(seconds)

def unpicklable():
    return lambda: None

def begun(x, rest):
    started = time.monotonic()
    return x, rest(), time.monotonic() - started
'''


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A module of its own, not imported here: only the process ahead imports it."""
    name = f"ahead_probe_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_work_that_starts_before_all_it_needs_is_sent_waits_for_the_rest(probe):
    """Work handed with ``follows`` starts with what it has, and is given a function that
    waits for what :meth:`Ahead.follow` sends later (the booklet, made before its fonts are
    subset)."""
    ahead = Ahead(probe)
    try:
        ahead.hand(probe, "begun", "pages", follows=True)
        time.sleep(0.3)
        ahead.follow({"fonts": b"\x00" * 70_000})  # more than a pipe holds at once
        first, rest, waited = ahead.result()
    finally:
        ahead.close()
    assert first == "pages" and rest == {"fonts": b"\x00" * 70_000}
    assert waited > 0.1  # the work was under way before the rest came


def test_work_whose_rest_never_comes_is_ended_without_waiting(probe):
    ahead = Ahead(probe)
    ahead.hand(probe, "begun", "pages", follows=True)
    started = time.monotonic()
    ahead.close()  # (the join failed before the fonts were subset, say)
    assert time.monotonic() - started < 5
    assert ahead.status is not None


def test_the_work_is_done_in_the_process_that_loaded_its_module(probe):
    ahead = Ahead(probe)
    try:
        ahead.hand(probe, "work", 21)
        pid, loaded_in, value = ahead.result()
    finally:
        ahead.close()
    assert value == 42
    assert pid == loaded_in == ahead.pid != os.getpid()
    assert probe not in sys.modules  # loaded there, not here
    with pytest.raises(ChildProcessError):
        os.waitpid(ahead.pid, os.WNOHANG)  # ended and reaped


def test_what_the_work_raises_is_raised_here(probe):
    ahead = Ahead(probe)
    ahead.hand(probe, "fail", "no such photo")
    with pytest.raises(ValueError, match="no such photo"):
        ahead.result()
    ahead.close()


def test_a_result_that_cannot_be_pickled_is_an_error_not_a_hang(probe):
    ahead = Ahead(probe)
    ahead.hand(probe, "unpicklable")
    with pytest.raises(RuntimeError):
        ahead.result()
    ahead.close()


def test_a_process_that_dies_is_an_error_that_suggests_one_job(probe):
    ahead = Ahead(probe)
    ahead.hand(probe, "die")
    with pytest.raises(OutputError, match="--jobs 1"):
        ahead.result()


def test_closed_before_or_during_its_work_it_ends_at_once(probe):
    idle = Ahead(probe)
    idle.close()  # no work handed over: killed, and reaped
    with pytest.raises(ChildProcessError):
        os.waitpid(idle.pid, os.WNOHANG)
    busy = Ahead(probe)
    busy.hand(probe, "sleep", 60)
    started = time.monotonic()
    busy.close()  # interrupted: SIGTERM, and reaped
    assert time.monotonic() - started < 30
    with pytest.raises(ChildProcessError):
        os.waitpid(busy.pid, os.WNOHANG)
    busy.close()  # twice is harmless


def test_a_process_that_has_answered_ends_by_itself_and_is_waited_for_at_close(probe):
    ahead = Ahead(probe)
    ahead.hand(probe, "work", 2)
    assert ahead.result()[2] == 4
    assert ahead.status is None  # not waited for yet: the build goes on meanwhile
    ahead.close()
    assert ahead.status == 0  # it ended by itself, not by a signal



class Unpicklable:
    """Work arguments that could not be sent down a pipe: a lock is not picklable."""

    def __init__(self):
        import threading

        self.lock = threading.Lock()
        self.pages = list(range(1000))


def counted(held: Unpicklable, extra: int) -> tuple[int, int]:
    return os.getpid(), sum(held.pages) + extra


def test_work_known_at_the_fork_is_done_with_what_the_process_was_forked_with():
    """:meth:`Ahead.run`: nothing is pickled to the process (its arguments need not even be
    picklable); its result comes back as any work's."""
    ahead = Ahead.run(counted, Unpicklable(), 5)
    try:
        pid, total = ahead.result()
    finally:
        ahead.close()
    assert pid != os.getpid() and total == sum(range(1000)) + 5
    assert ahead.status == 0


def waits(held: Unpicklable, rest) -> tuple[int, object]:
    return len(held.pages), rest()


def test_work_known_at_the_fork_takes_what_follows():
    ahead = Ahead.run(waits, Unpicklable(), follows=True)
    try:
        ahead.follow({"fonts": b"\x01" * 70_000})
        count, rest = ahead.result()
    finally:
        ahead.close()
    assert count == 1000 and rest == {"fonts": b"\x01" * 70_000}


def test_work_known_at_the_fork_that_is_not_wanted_is_ended():
    ahead = Ahead.run(waits, Unpicklable(), follows=True)  # what follows never comes
    started = time.monotonic()
    ahead.close()
    assert time.monotonic() - started < 5 and ahead.status is not None
