"""Generated structure functions show their source in tracebacks."""

from __future__ import annotations

import traceback

import pytest

from synapse_async import UnexpectedResponseError
from synapse_async.models import Task
from synapse_async.models._converter import structurer


def test_a_traceback_through_a_generated_structure_function_shows_its_line() -> None:
    with pytest.raises(UnexpectedResponseError) as info:
        structurer(Task)({"id": "x", "project": 1})
    text = "".join(traceback.format_exception(info.value))
    frame = text[text.index('File "<structure synapse_async.models.annotation.Task') :]
    line = frame.splitlines()[1].strip()  # the generated line itself
    assert line and not line.startswith(("File ", "^", "synapse_async.")), frame
