"""fork_map: the items' results in order, from forked processes or from this one."""

from __future__ import annotations

import gc
import os

import pytest

from builder.workers import fork_map


def where(shared, item):
    return shared + item, os.getpid()


def test_results_come_in_order_from_other_processes():
    results = fork_map(where, list(range(6)), 2, 100)
    assert [r for r, _ in results] == list(range(100, 106))
    assert os.getpid() not in {pid for _, pid in results}


def test_one_worker_or_one_item_stays_in_this_process():
    assert fork_map(where, [1, 2], 1, 0) == [(1, os.getpid()), (2, os.getpid())]
    assert fork_map(where, [7], 4, 0) == [(7, os.getpid())]


WARMED: list[int] = []


def warmed(shared, item):
    return list(WARMED)


def test_the_warm_up_is_done_here_once_before_the_workers_are_forked_and_they_have_it():
    WARMED.clear()
    results = fork_map(warmed, [1, 2, 3], 2, None, lambda: WARMED.append(os.getpid()))
    assert WARMED == [os.getpid()]
    assert results == [[os.getpid()]] * 3  # what it did is in every worker's memory
    WARMED.clear()
    fork_map(warmed, [1, 2], 1, None, lambda: WARMED.append(os.getpid()))
    assert WARMED == []  # nothing forked: nothing to warm


def fail(shared, item):
    if item == 3:
        raise ValueError("three")
    return item


def test_an_error_in_a_worker_is_raised_here():
    with pytest.raises(ValueError, match="three"):
        fork_map(fail, [1, 2, 3, 4], 2, None)


def frozen(shared, item):
    return gc.get_freeze_count()


def test_the_build_is_frozen_out_of_the_workers_collections_and_thawed_after():
    kept = [object() for _ in range(1000)]  # objects of the build, inherited by the workers
    counts = fork_map(frozen, [1, 2, 3], 2, kept)
    assert all(n >= len(kept) for n in counts)  # a worker's collections leave them alone
    assert gc.get_freeze_count() == 0  # and this process collects them again
    with pytest.raises(ValueError):
        fork_map(fail, [1, 2, 3, 4], 2, None)
    assert gc.get_freeze_count() == 0


_HELD: list[bytes] = []


def hold(shared, item):
    """Keeps 12 MB of its own for good, written page by page."""
    _HELD.append(b"\x01" * (12 << 20))
    return item, os.getpid()


def test_a_worker_that_holds_too_much_of_its_own_is_replaced_by_a_fresh_one():
    from builder import workers

    items = list(range(2 * (workers.RETIRE_MB // 12 + 2)))  # more than two workers can hold
    results = fork_map(hold, items, 2, None)
    assert [r for r, _ in results] == items
    pids = {pid for _, pid in results}
    assert os.getpid() not in pids
    # 12 MB more after each item: a worker goes past RETIRE_MB in a few items and retires
    assert len(pids) > 2
    assert max(sum(1 for _, p in results if p == pid) for pid in pids) <= \
        workers.RETIRE_MB // 12 + 2
    assert _HELD == []  # nothing of it in this process


def steady(shared, item):
    return item, os.getpid()


def test_a_worker_that_holds_little_goes_on():
    results = fork_map(steady, list(range(10)), 2, None)
    assert len({pid for _, pid in results}) == 2


def die(shared, item):
    if item == 2:
        os._exit(3)  # as when the system ends a process that ran out of memory
    return item


def test_a_worker_that_dies_is_a_one_line_error_and_no_worker_is_left():
    from builder.errors import OutputError

    with pytest.raises(OutputError, match="--jobs 1"):
        fork_map(die, list(range(6)), 2, None)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child of this process left, not even a zombie


class Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("not this one")


def odd(shared, item):
    raise Unpicklable("odd")


def test_an_error_that_cannot_travel_is_told_all_the_same():
    with pytest.raises(RuntimeError, match="odd"):
        fork_map(odd, [1, 2], 2, None)
