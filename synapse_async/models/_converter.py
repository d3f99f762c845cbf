"""The one cattrs converter: server JSON <-> attrs models.

Lenient by default: fields the SDK does not know yet are kept in the model's ``extra`` dict
(forward compatible). Strict mode (``strict=True``) rejects them; the SDK's own tests use it
so the emulator and the models cannot drift apart unnoticed.
"""

from __future__ import annotations

import linecache
import sys
import types
import typing
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.strategies import configure_union_passthrough

from synapse_async.errors import UnexpectedResponseError

__all__ = ["Model", "converter", "make_converter", "parse_datetime", "structure", "structurer"]

T = TypeVar("T")

_FROMISO_Z = sys.version_info >= (3, 11)  # fromisoformat accepts a trailing Z from 3.11


def parse_datetime(value: Any) -> datetime:
    """Parse an ISO 8601 timestamp (``Z`` suffix accepted, Python 3.10 too) or unix seconds."""
    if isinstance(value, str):
        if value[-1:] in ("Z", "z") and not _FROMISO_Z:
            value = value[:-1] + "+00:00"
        return datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    raise ValueError(f"not a timestamp: {value!r}")


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


def _parse_decimal(value: Any) -> Decimal:
    """Money amounts: decimal strings or JSON numbers (never via binary float rounding)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise TypeError(f"expected a decimal number, got {value!r}")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite decimal number: {value!r}")
    return result


_SCALARS: tuple[type, ...] = (str, int, float, bool)
FieldFn = Callable[[Any], Any]


def _scalar_fn(t: type) -> FieldFn:
    def check(value: Any) -> Any:
        if type(value) is t or (isinstance(value, t) and t is not int):
            return value
        if t is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        raise TypeError(f"expected {t.__name__}, got {value!r}")

    return check


def _container_fn(kind: type) -> FieldFn:
    def check(value: Any) -> Any:
        if isinstance(value, kind):
            return value
        raise TypeError(
            f"expected a JSON {'object' if kind is dict else 'array'}, got {type(value).__name__}"
        )

    return check


def _is_plain(t: Any) -> bool:
    """A type whose JSON value is already the Python value (no conversion inside)."""
    if t is Any or t in _SCALARS:
        return True
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is dict:
        return args[0] is str and _is_plain(args[1])
    if origin is list:
        return _is_plain(args[0])
    return False


class _Source:
    """Python source of one generated structure function, and the names it refers to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ns: dict[str, Any] = {}

    def ref(self, value: Any, hint: str) -> str:
        """A global name in the generated module bound to ``value``."""
        name = f"_{hint}_{len(self.ns)}"
        self.ns[name] = value
        return name

    def add(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)


def _emit_conversion(src: _Source, depth: int, t: Any, conv: cattrs.Converter) -> None:
    """Lines that check or convert the local ``v`` in place for a field of type ``t``.

    The common case (the JSON value already has the field's exact type) costs one class
    comparison; anything else goes through the field function, which converts or raises.
    """
    if t is Any:
        return
    if t in _SCALARS:
        fn = src.ref(_scalar_fn(t), "check")
        src.add(depth, f"if v.__class__ is not {src.ref(t, 'type')}:")
        src.add(depth + 1, f"v = {fn}(v)")
        return
    if t is datetime:
        fn = src.ref(parse_datetime, "parse_datetime")
        if _FROMISO_Z:
            iso = src.ref(datetime.fromisoformat, "fromiso")
            src.add(depth, f"v = {iso}(v) if v.__class__ is str else {fn}(v)")
        else:
            src.add(depth, f"v = {fn}(v)")
        return
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        inner = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]
        body = _Source()
        body.ns = src.ns
        _emit_conversion(body, depth + 1, inner, conv)
        if body.lines:
            src.add(depth, "if v is not None:")
            src.lines.extend(body.lines)
        return
    if origin in (dict, list) and _is_plain(t):
        # Shallow check only: JSON containers of JSON values are used as they come.
        fn = src.ref(_container_fn(origin), "check")
        src.add(depth, f"if v.__class__ is not {src.ref(origin, 'type')}:")
        src.add(depth + 1, f"v = {fn}(v)")
        return
    # Nested models and anything else: the converter, looked up at call time (so a model
    # may refer to itself).
    src.add(depth, f"v = {src.ref(conv.structure, 'structure')}(v, {src.ref(t, 'type')})")


def _compile_structure(
    cls: type[Model], conv: cattrs.Converter, *, strict: bool
) -> Callable[[Any, Any], Model]:
    """Generate, compile and return the structure hook of one model class.

    The function reads each field straight from the JSON dict, checks or converts it
    inline, fills defaults, and builds the object through the class's attrs ``__init__``
    (validators, converters and post-init hooks run as for any other caller). Its source
    is registered with ``linecache``, so tracebacks through it show its lines.

    Why not ``cattrs.gen.make_dict_structure_fn``: decoding a page of tasks costs about
    1.7 us per item here against 3.4-3.8 us with cattrs' generated function (same machine,
    same run; ``Task`` from the emulator), and the listing decodes every item it yields.
    """
    hints = typing.get_type_hints(cls)
    # fields with init=False are set by attrs itself, never from the JSON
    fields = [a for a in attrs.fields(cls) if a.name != "extra" and a.init]
    field_names = frozenset(a.name for a in fields)
    name = cls.__name__
    src = _Source()
    missing_sentinel = src.ref(object(), "missing")
    cls_ref = src.ref(cls, "cls")
    err = src.ref(UnexpectedResponseError, "error")
    src.add(0, "def structure(data, _t):")
    src.add(1, "if data.__class__ is not dict:")
    src.add(2, f"return {src.ref(_structure_other, 'other')}(data, {cls_ref}, structure)")
    src.add(1, "found = 0")
    src.add(1, "key = None")
    src.add(1, "try:")
    for i, a in enumerate(fields):
        local = f"a{i}"
        src.add(2, f"key = {a.name!r}")
        src.add(2, f"v = data.get({a.name!r}, {missing_sentinel})")
        src.add(2, f"if v is {missing_sentinel}:")
        if a.default is attrs.NOTHING:
            missing = src.ref(_missing_error(cls, fields), "missing_error")
            src.add(3, f"raise {missing}(data)")
        elif isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            if a.default.takes_self:
                raise TypeError(f"{name}.{a.name}: self-taking factories are not supported")
            src.add(3, f"{local} = {src.ref(a.default.factory, 'factory')}()")
        else:
            src.add(3, f"{local} = {src.ref(a.default, 'default')}")
        src.add(2, "else:")
        src.add(3, "found += 1")
        _emit_conversion(src, 3, hints[a.name], conv)
        src.add(3, f"{local} = v")
    src.add(1, f"except (TypeError, ValueError, {err}) as exc:")  # nested models name the path
    src.add(2, f"raise {err}(f'{name}.{{key}}: {{exc}}', status_code=200) from exc")
    src.add(1, "if found != len(data):")
    known = src.ref(field_names, "known")
    src.add(2, f"extra = {{k: x for k, x in data.items() if k not in {known}}}")
    if strict:
        src.add(
            2,
            f"raise {err}(f'{name} got unknown fields {{sorted(extra)}} "
            "(strict decoding)', status_code=200)",
        )
    src.add(1, "else:")
    src.add(2, "extra = {}")
    args = "".join(f"a{i}, " for i, a in enumerate(fields) if not a.kw_only)
    kwargs = "".join(f"{a.name}=a{i}, " for i, a in enumerate(fields) if a.kw_only)
    src.add(1, f"return {cls_ref}({args}{kwargs}extra=extra)")
    text = "\n".join(src.lines) + "\n"
    filename = f"<structure {cls.__module__}.{name} {'strict' if strict else 'lenient'}>"
    # tracebacks through the generated function show its lines
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    code = compile(text, filename, "exec")
    exec(code, src.ns)  # the source is built above from the class's own field names
    fn: Callable[[Any, Any], Model] = src.ns["structure"]
    return fn


def _missing_error(cls: type, fields: list[attrs.Attribute[Any]]) -> Callable[[Any], Exception]:
    required = [a.name for a in fields if a.default is attrs.NOTHING]

    def missing(data: dict[str, Any]) -> Exception:
        absent = [name for name in required if name not in data]
        return UnexpectedResponseError(
            f"{cls.__name__} is missing required fields {absent}", status_code=200
        )

    return missing


def _structure_other(data: Any, cls: type[Model], fast: Callable[[Any, Any], Model]) -> Model:
    """The rare inputs: an instance already, a dict subclass, or not an object at all."""
    if isinstance(data, cls):
        return data
    if isinstance(data, dict):
        return fast(dict(data), cls)
    raise UnexpectedResponseError(
        f"expected a JSON object for {cls.__name__}, got {type(data).__name__}", status_code=200
    )


def _str_or_list(value: Any, optional: bool) -> str | list[str] | None:
    if (value is None and optional) or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError(f"expected a string or a list of strings, got {value!r:.80}")


def _labels(value: Any) -> list[str] | dict[str, list[str]]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
        for k, v in value.items()
    ):
        return {k: list(v) for k, v in value.items()}
    raise ValueError(f"expected a list of labels or {{type: [labels]}}, got {value!r:.80}")


def make_converter(*, strict: bool = False) -> cattrs.Converter:
    """Build a converter for ``Model`` subclasses (lenient, or strict about unknown fields).

    Each model class gets a structure function generated for it on first use (see
    ``_compile_structure``): JSON scalars and containers are type-checked and used as they
    are, timestamps parsed, nested models and other types structured by cattrs.
    """
    conv = cattrs.Converter()
    conv.register_structure_hook(datetime, lambda v, _t: parse_datetime(v))
    conv.register_unstructure_hook(datetime, lambda v: v.isoformat())
    conv.register_structure_hook(Decimal, lambda v, _t: _parse_decimal(v))
    conv.register_unstructure_hook(Decimal, str)
    # Unions of JSON scalars (e.g. ``int | str``) pass through when the value has a member type.
    configure_union_passthrough(int | float | str | bool | None, conv)
    # Multi-type projects: ``annotation_type`` is a name or a list of names, ``labels`` a
    # list or ``{annotation type: [labels]}``. JSON containers of strings, checked as such.
    conv.register_structure_hook_func(
        lambda t: t == (str | list[str] | None), lambda v, _t: _str_or_list(v, True)
    )
    conv.register_structure_hook_func(
        lambda t: t == (list[str] | dict[str, list[str]]), lambda v, _t: _labels(v)
    )

    def is_model(cls: Any) -> bool:
        return isinstance(cls, type) and issubclass(cls, Model) and attrs.has(cls)

    conv.register_structure_hook_factory(
        is_model, lambda cls: _compile_structure(cls, conv, strict=strict)
    )
    return conv


converter = make_converter()
strict_converter = make_converter(strict=True)


def structurer(cls: type[T], *, strict: bool = False) -> Callable[[Any], T]:
    """A one-argument function structuring server JSON into ``cls`` (for hot loops).

    The converter's hook for ``cls`` is looked up once, here; errors are mapped as in
    :func:`structure`.
    """
    hook = (strict_converter if strict else converter).get_structure_hook(cls)

    def decode(data: Any) -> T:
        try:
            return hook(data, cls)  # type: ignore[no-any-return]
        except UnexpectedResponseError:
            raise
        except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
            raise _read_error(exc, cls) from exc

    return decode


def structure(data: Any, cls: type[T], *, strict: bool = False) -> T:
    """Structure server JSON into ``cls`` with the lenient (or strict) converter."""
    return structurer(cls, strict=strict)(data)


def _read_error(exc: Exception, cls: Any) -> UnexpectedResponseError:
    msgs = (
        "; ".join(cattrs.transform_error(exc))
        if isinstance(exc, cattrs.BaseValidationError)
        else str(exc)
    )
    return UnexpectedResponseError(
        f"cannot read the server's {getattr(cls, '__name__', cls)}: {msgs}", status_code=200
    )
