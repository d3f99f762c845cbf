"""Decoding 10k tasks: the generated structure functions vs cattrs' ``make_dict_structure_fn``.

Decides whether the hand compiler in ``models/_converter.py`` stays (issue: it stays only if
it is more than 1.3x faster). Both build the same ``Task`` objects, unknown fields in
``extra``; best of 7 passes, 3 rounds alternating, in this process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn

from synapse_async.models import Task
from synapse_async.models._converter import make_converter, structurer


def _items(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "project": 1,
            "data_unit": None,
            "data": {"n": i, "url": f"https://x/{i}.jpg"},
            "status": "pending",
            "tags": [1, 2],
            "created": "2026-12-06T10:00:00Z",
            "modified": "2026-12-06T10:00:00+00:00",
        }
        for i in range(n)
    ]


def _via_cattrs() -> Callable[[dict[str, Any]], Task]:
    fn = make_dict_structure_fn(
        Task, make_converter(), _cattrs_detailed_validation=False, extra=cattrs.override(omit=True)
    )
    known = frozenset(a.name for a in attrs.fields(Task) if a.name != "extra")

    def decode(data: dict[str, Any]) -> Task:
        obj = fn(data, Task)
        if len(known & data.keys()) != len(data):
            obj = attrs.evolve(obj, extra={k: v for k, v in data.items() if k not in known})
        return obj

    return decode


def _best(decode: Callable[[dict[str, Any]], Any], items: list[dict[str, Any]]) -> float:
    times = []
    for _ in range(7):
        started = time.perf_counter()
        for item in items:
            decode(item)
        times.append(time.perf_counter() - started)
    return min(times)


def run(*, smoke: bool = False) -> str:
    """Run the comparison and return a markdown report."""
    items = _items(300 if smoke else 10_000)
    hand, other = structurer(Task), _via_cattrs()
    assert hand(items[0]) == other(items[0])
    ours, theirs = [], []
    for _ in range(1 if smoke else 3):
        ours.append(_best(hand, items))
        theirs.append(_best(other, items))
    a, b = min(ours), min(theirs)
    return (
        f"| decoder | ms per {len(items):,} tasks (best) |\n|---|---|\n"
        f"| generated (models/_converter.py) | {a * 1e3:.1f} |\n"
        f"| cattrs make_dict_structure_fn | {b * 1e3:.1f} |\n\n"
        f"The generated functions are **{b / a:.2f}x** faster."
    )
