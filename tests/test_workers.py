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
