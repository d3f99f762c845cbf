"""Generated structure functions show their source in tracebacks."""

from __future__ import annotations

import traceback
from typing import Any

import attrs
import pytest

from synapse_async import UnexpectedResponseError
from synapse_async.models import Task
from synapse_async.models._converter import Model, make_converter, structurer


def test_a_traceback_through_a_generated_structure_function_shows_its_line() -> None:
    with pytest.raises(UnexpectedResponseError) as info:
        structurer(Task)({"id": "x", "project": 1})
    text = "".join(traceback.format_exception(info.value))
    frame = text[text.index('File "<structure synapse_async.models.annotation.Task') :]
    line = frame.splitlines()[1].strip()  # the generated line itself
    assert line and not line.startswith(("File ", "^", "synapse_async.")), frame


def test_generated_structure_functions_build_objects_through_the_attrs_init() -> None:
    @attrs.frozen
    class Probe(Model):
        id: int
        name: str = ""

    calls: list[tuple[Any, ...]] = []
    generated_init = Probe.__init__

    def counting_init(self: Probe, *args: Any, **kwargs: Any) -> None:
        calls.append(args)
        generated_init(self, *args, **kwargs)

    Probe.__init__ = counting_init  # type: ignore[method-assign]
    probe = make_converter().structure({"id": 3, "name": "x", "new": 1}, Probe)
    assert (probe.id, probe.name, probe.extra) == (3, "x", {"new": 1})
    assert len(calls) == 1  # not slots written behind attrs' back


def test_a_field_attrs_sets_itself_is_not_read_from_the_json() -> None:
    @attrs.frozen
    class WithDerived(Model):
        id: int
        derived: int = attrs.field(init=False, default=5)

    got = make_converter().structure({"id": 1, "derived": 9}, WithDerived)
    assert (got.id, got.derived, got.extra) == (1, 5, {"derived": 9})
