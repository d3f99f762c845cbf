"""The generator: checked-in output is current, signatures match, rules are explicit."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import types
from typing import Any

import pytest

from synapse_sync import _codegen
from synapse_sync._codegen import ClassPlan, CodegenError, Renderer, discover


def test_checked_in_facade_is_current() -> None:
    result = subprocess.run([sys.executable, "-m", "synapse_sync._codegen", "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


def _members(cls: type) -> dict[str, Any]:
    return dict(_codegen._public_members(cls))


def _expected_return(renderer: Renderer, ret: str) -> str:
    return renderer.map_type(ret)


def test_every_method_signature_matches_the_async_one() -> None:
    plans = discover()
    renderer = Renderer(plans)
    checked = 0
    for plan in plans.values():
        sync_cls = getattr(importlib.import_module(plan.sync_module), plan.sync_name)
        for name, raw in _members(plan.cls).items():
            sync_name = _codegen.METHOD_RENAMES.get(name, name)
            sync_raw = inspect.getattr_static(sync_cls, sync_name)
            if isinstance(raw, property):
                assert isinstance(sync_raw, property), (plan.sync_name, name)
                continue
            if isinstance(raw, classmethod):  # alternative constructors: same arguments
                assert isinstance(sync_raw, classmethod), (plan.sync_name, name)
                raw, sync_raw = raw.__func__, sync_raw.__func__
            a_sig = inspect.signature(raw)
            s_sig = inspect.signature(sync_raw)
            expected_ret = (plan.sync_name if name == "__aenter__"
                            else _expected_return(renderer, a_sig.return_annotation))
            assert s_sig == a_sig.replace(return_annotation=expected_ret), \
                f"{plan.sync_name}.{sync_name}: {s_sig} != {a_sig}"
            assert inspect.getdoc(sync_raw) == inspect.getdoc(raw) or not raw.__doc__
            checked += 1
        if plan.is_root:
            assert inspect.signature(sync_cls.__init__) == inspect.signature(plan.cls.__init__)
    assert checked > 120  # every method of every wrapped class (135 when written)


def test_return_types_are_mapped() -> None:
    from synapse_sync.client import Client
    from synapse_sync.resources.jobs import Jobs
    from synapse_sync.resources.tasks import Tasks

    assert inspect.signature(Tasks.list).return_annotation == "Paginator[Task]"
    assert inspect.signature(Jobs.tail_console_logs).return_annotation == "Iterator[str]"
    assert inspect.signature(Client.__enter__).return_annotation == "Client"
    assert inspect.signature(Client.with_options).return_annotation == "Client"


def _fake_module(name: str, **classes: type) -> types.ModuleType:
    mod = types.ModuleType(name)
    for cls_name, cls in classes.items():
        cls.__module__ = name
        cls.__name__ = cls.__qualname__ = cls_name
        setattr(mod, cls_name, cls)
    sys.modules[name] = mod
    return mod


def test_colliding_names_fail_generation() -> None:
    a = _fake_module("synapse_async._fake_a", AsyncWidget=type("X", (), {}))
    b = _fake_module("synapse_async._fake_b", AsyncWidget=type("Y", (), {}))
    plans = [ClassPlan(a.AsyncWidget, "Widget", "synapse_sync._fake_a"),
             ClassPlan(b.AsyncWidget, "Widget", "synapse_sync._fake_b")]
    with pytest.raises(CodegenError, match="both map to 'Widget'"):
        _codegen._check_collisions(plans)


@pytest.mark.parametrize("bad", ["Widget", "Asyncwidget", "Async", "SyncWidget"])
def test_names_need_the_explicit_prefix(bad: str) -> None:
    with pytest.raises(CodegenError, match="Async<Name>"):
        _codegen.sync_class_name(bad)


def test_a_runtime_name_cannot_be_shadowed() -> None:
    mod = _fake_module("synapse_async._fake_c", AsyncPortal=type("Z", (), {}))
    with pytest.raises(CodegenError, match="facade runtime"):
        _codegen._check_collisions([ClassPlan(mod.AsyncPortal, "Portal", "synapse_sync._fake_c")])


def test_unused_rules_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_codegen.METHOD_RENAMES, "__anext__", "__next__")
    with pytest.raises(CodegenError, match=r"unused mapping rules.*__anext__"):
        Renderer(discover()).render()


def test_unused_or_wrong_flat_iteration_rules_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_codegen.FLAT_ITERATION, "AsyncNoSuchThing", ("pages", "items"))
    with pytest.raises(CodegenError, match=r"unused mapping rules.*AsyncNoSuchThing"):
        Renderer(discover()).render()
    monkeypatch.delitem(_codegen.FLAT_ITERATION, "AsyncNoSuchThing")
    monkeypatch.setitem(_codegen.FLAT_ITERATION, "AsyncPaginator", ("page", "items"))
    with pytest.raises(CodegenError, match=r"AsyncPaginator\.page: FLAT_ITERATION needs"):
        Renderer(discover()).render()


def test_result_without_a_rule_fails() -> None:
    async def make(self: Any) -> dict[str, Any]:  # pragma: no cover - never awaited
        return {}

    make.__annotations__ = {"return": "dict[str, AsyncFrob]"}
    frob = _fake_module("synapse_async._fake_d", AsyncFrob=type("F", (), {})).AsyncFrob
    holder = _fake_module("synapse_async._fake_e", AsyncHolder=type("H", (), {"make": make}))
    make.__globals__["AsyncFrob"] = frob  # type: ignore[index]
    plans = {holder.AsyncHolder: ClassPlan(holder.AsyncHolder, "Holder", "synapse_sync._fake_e"),
             frob: ClassPlan(frob, "Frob", "synapse_sync._fake_d")}
    with pytest.raises(CodegenError, match="no rule maps the result"):
        Renderer(plans).render_class(_codegen.ModuleOut("synapse_sync._fake_e"),
                                     plans[holder.AsyncHolder])
