"""Values kept in the memo: what encode gives, decode gives back, and data of another shape
is refused (a damaged or older record is then made again, never used)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from builder.memo import decode, encode
from builder.plan import ArticlePlan


@dataclass(frozen=True)
class Inner:
    name: str
    size: float
    flag: bool


@dataclass(frozen=True)
class Outer:
    path: Path
    when: dt.datetime
    inners: tuple[Inner, ...]
    pair: tuple[int, str]
    maybe: Inner | None
    count: int


VALUE = Outer(Path("a/b.txt"), dt.datetime(2026, 12, 7, 13, 46, tzinfo=dt.UTC),
              (Inner("x", 1.5, True), Inner("y", 2, False)), (3, "three"), None, 4)


def test_a_value_comes_back_as_it_was_kept():
    assert decode(Outer, encode(VALUE)) == VALUE
    other = Outer(VALUE.path, VALUE.when, (), (0, ""), Inner("z", 0.0, False), 0)
    assert decode(Outer, encode(other)) == other


@pytest.mark.parametrize("damage", [
    lambda d: d.pop("count"),                            # a field missing
    lambda d: d.update(extra=1),                         # a field too many
    lambda d: d.update(count="4"),                       # a string for an int
    lambda d: d.update(count=True),                      # a bool is not an int
    lambda d: d["inners"][0].update(flag=1),             # nor an int a bool
    lambda d: d.update(pair=[3]),                        # a tuple of the wrong length
    lambda d: d.update(inners={"name": "x"}),            # an object for a tuple
    lambda d: d.update(maybe=[1]),                       # a list for an object
    lambda d: d.update(path=3),                          # a number for a path
    lambda d: d.update(when=None),                       # nothing for a date
])
def test_data_of_another_shape_is_refused(damage):
    data = encode(VALUE)
    damage(data)
    with pytest.raises(ValueError):
        decode(Outer, data)


def test_a_union_of_two_kinds_is_not_guessed():
    with pytest.raises(ValueError):
        decode(int | str, 3)
    assert decode(int | None, None) is None and decode(int | None, 3) == 3


def test_a_page_plan_is_read_as_it_was_planned():
    from test_plan import A5, figure, text

    from builder.plan import plan_article

    blocks = [text("t1", 12), figure("f1"), text("t2", 30), figure("f2", ((800, 1200),) * 2),
              text("t3", 8), figure("f3", ((1000, 667),) * 3)]
    plan = plan_article(blocks, A5)
    assert isinstance(plan, ArticlePlan) and len(plan.pages) > 1
    assert decode(ArticlePlan, encode(plan)) == plan
