from datetime import datetime, timezone

import pytest

from synapse_async import Task, UnexpectedResponseError
from synapse_async.models import structure


def test_unknown_fields_kept_reachable() -> None:
    t = structure({"id": 1, "project": 2, "priority": "high", "created": "2024-05-01T10:00:00Z"},
                  Task)
    assert t.extra == {"priority": "high"}
    assert t.created == datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    assert t.to_dict()["priority"] == "high"


def test_strict_mode_rejects_unknown_fields() -> None:
    with pytest.raises(UnexpectedResponseError, match="priority"):
        structure({"id": 1, "project": 2, "priority": "high"}, Task, strict=True)


def test_models_are_frozen_and_slotted() -> None:
    t = structure({"id": 1, "project": 2}, Task)
    with pytest.raises(AttributeError):
        t.id = 5  # type: ignore[misc]
    assert not hasattr(t, "__dict__")


def test_wrong_shape_is_a_typed_error() -> None:
    with pytest.raises(UnexpectedResponseError, match="Task"):
        structure({"project": 2}, Task)
    with pytest.raises(UnexpectedResponseError, match="JSON object"):
        structure([1, 2], Task)
