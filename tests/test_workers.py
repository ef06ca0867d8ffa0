"""fork_map: the items' results in order, from forked processes or from this one."""

from __future__ import annotations

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
