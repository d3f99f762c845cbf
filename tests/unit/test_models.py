from datetime import datetime, timezone

import pytest

from synapse_async import Task, UnexpectedResponseError
from synapse_async.models import structure


def test_unknown_fields_kept_reachable() -> None:
    t = structure(
        {"id": 1, "project": 2, "priority": "high", "created": "2024-05-01T10:00:00Z"}, Task
    )
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


def test_field_types_are_checked_and_named() -> None:
    with pytest.raises(UnexpectedResponseError, match=r"Task\.project: expected int, got True"):
        structure({"id": 1, "project": True}, Task)
    with pytest.raises(UnexpectedResponseError, match=r"Task\.tags: expected a JSON array"):
        structure({"id": 1, "project": 2, "tags": {"a": 1}}, Task)
    with pytest.raises(UnexpectedResponseError, match=r"Task\.created"):
        structure({"id": 1, "project": 2, "created": "yesterday"}, Task)
    with pytest.raises(UnexpectedResponseError, match=r"missing required fields \['id'\]"):
        structure({"project": 2}, Task)


def test_defaults_are_fresh_and_optional_fields_accept_null() -> None:
    a = structure({"id": 1, "project": 2, "data": None, "created": None}, Task)
    b = structure({"id": 2, "project": 2}, Task)
    assert (a.status, a.data, a.created, a.extra) == ("pending", None, None, {})
    assert a.tags == [] and a.tags is not b.tags  # factories run per instance
    assert b.extra is not a.extra


def test_nested_models_dict_subclasses_and_instances() -> None:
    from collections import OrderedDict

    t = structure(OrderedDict(id=1, project=2, expanded_data_unit={"id": 7, "files": {}}), Task)
    assert t.expanded_data_unit is not None and t.expanded_data_unit.id == 7
    assert structure(t, Task) is t
    with pytest.raises(UnexpectedResponseError, match=r"Task\.expanded_data_unit"):
        structure({"id": 1, "project": 2, "expanded_data_unit": {"files": {}}}, Task)


def test_converting_fields_and_classes_with_converters() -> None:
    from decimal import Decimal

    from synapse_async.models import Deposit, Storage

    d = structure({"project": 1, "amount": 12.5, "breakdown": {"fee": "0.10"}}, Deposit)
    assert d.amount == Decimal("12.5") and d.breakdown == {"fee": Decimal("0.10")}
    s = structure({"id": 3, "configuration": {"secret_key": "hunter2"}}, Storage)
    assert s.configuration is not None and s.configuration["secret_key"] == "hunter2"
    assert "hunter2" not in repr(s)  # the class's own converter ran
