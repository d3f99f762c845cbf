"""The one cattrs converter: server JSON <-> attrs models.

Lenient by default: fields the SDK does not know yet are kept in the model's ``extra`` dict
(forward compatible). Strict mode (``strict=True``) rejects them; the SDK's own tests use it
so the emulator and the models cannot drift apart unnoticed.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn

from synapse_async.errors import UnexpectedResponseError

__all__ = ["Model", "converter", "make_converter", "parse_datetime", "structure"]

T = TypeVar("T")


def parse_datetime(value: Any) -> datetime:
    """Parse an ISO 8601 timestamp (``Z`` suffix accepted, Python 3.10 too) or unix seconds."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    text = str(value)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


@attrs.frozen
class Model:
    """Base of every API model: frozen, slotted attrs classes.

    Attributes:
        extra: fields the server sent that this SDK version does not model (never compared).
    """

    extra: dict[str, Any] = attrs.field(factory=dict, kw_only=True, eq=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The model as JSON-ready data, unknown server fields included."""
        data: dict[str, Any] = converter.unstructure(self)
        data.pop("extra", None)
        data.update(self.extra)
        return data


def make_converter(*, strict: bool = False) -> cattrs.Converter:
    """Build a converter for ``Model`` subclasses (lenient, or strict about unknown fields)."""
    conv = cattrs.Converter()
    conv.register_structure_hook(datetime, lambda v, _t: parse_datetime(v))
    conv.register_unstructure_hook(datetime, lambda v: v.isoformat())

    def is_model(cls: Any) -> bool:
        return isinstance(cls, type) and issubclass(cls, Model) and attrs.has(cls)

    def make_hook(cls: type[Model]) -> Any:
        names = {a.name for a in attrs.fields(cls)} - {"extra"}
        base = make_dict_structure_fn(cls, conv, _cattrs_forbid_extra_keys=False)
        cls_name = cls.__name__

        def structure_model(data: Any, _t: Any) -> Model:
            if isinstance(data, cls):
                return data
            if not isinstance(data, dict):
                raise UnexpectedResponseError(
                    f"expected a JSON object for {cls_name}, got {type(data).__name__}",
                    status_code=200)
            known = {k: v for k, v in data.items() if k in names}
            unknown = {k: v for k, v in data.items() if k not in names}
            if unknown and strict:
                raise UnexpectedResponseError(
                    f"{cls_name} got unknown fields {sorted(unknown)} (strict decoding)",
                    status_code=200)
            known["extra"] = unknown
            obj: Model = base(known, cls)
            return obj

        return structure_model

    conv.register_structure_hook_factory(is_model, make_hook)
    return conv


converter = make_converter()
strict_converter = make_converter(strict=True)


def structure(data: Any, cls: type[T], *, strict: bool = False) -> T:
    """Structure server JSON into ``cls`` with the lenient (or strict) converter."""
    conv = strict_converter if strict else converter
    try:
        return conv.structure(data, cls)
    except UnexpectedResponseError:
        raise
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        msgs = "; ".join(cattrs.transform_error(exc)) if isinstance(
            exc, cattrs.BaseValidationError) else str(exc)
        raise UnexpectedResponseError(
            f"cannot read the server's {getattr(cls, '__name__', cls)}: {msgs}",
            status_code=200) from exc
