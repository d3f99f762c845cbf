"""The generator: checked-in output is current, signatures match, rules are explicit."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from synapse_sync import _codegen
from synapse_sync._codegen import ClassPlan, CodegenError, Renderer, discover


def test_checked_in_facade_is_current() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "synapse_sync._codegen", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
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
            expected_ret = (
                plan.sync_name
                if name == "__aenter__"
                else _expected_return(renderer, a_sig.return_annotation)
            )
            assert s_sig == a_sig.replace(return_annotation=expected_ret), (
                f"{plan.sync_name}.{sync_name}: {s_sig} != {a_sig}"
            )
            if raw.__doc__:  # kept, rewritten for sync callers
                where = f"{plan.cls.__name__}.{name}"
                doc = inspect.getdoc(raw)
                assert doc is not None
                assert inspect.getdoc(sync_raw) == renderer.sync_doc(doc, where)
            checked += 1
        if plan.is_root:
            assert inspect.signature(sync_cls.__init__) == inspect.signature(
                inspect.getattr_static(plan.cls, "__init__")
            )
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
    plans = [
        ClassPlan(a.AsyncWidget, "Widget", "synapse_sync._fake_a"),
        ClassPlan(b.AsyncWidget, "Widget", "synapse_sync._fake_b"),
    ]
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


def test_unused_or_wrong_chunked_iteration_rules_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_codegen.CHUNKED_ITERATION, "AsyncNoSuchThing", "_chunks")
    with pytest.raises(CodegenError, match=r"unused mapping rules.*AsyncNoSuchThing"):
        Renderer(discover()).render()
    monkeypatch.delitem(_codegen.CHUNKED_ITERATION, "AsyncNoSuchThing")
    monkeypatch.setitem(_codegen.CHUNKED_ITERATION, "AsyncPaginator", "page")
    with pytest.raises(CodegenError, match=r"AsyncPaginator\.page: CHUNKED_ITERATION needs"):
        Renderer(discover()).render()


def test_result_without_a_rule_fails() -> None:
    async def make(self: Any) -> dict[str, Any]:  # pragma: no cover - never awaited
        return {}

    make.__annotations__ = {"return": "dict[str, AsyncFrob]"}
    frob = _fake_module("synapse_async._fake_d", AsyncFrob=type("F", (), {})).AsyncFrob
    holder = _fake_module("synapse_async._fake_e", AsyncHolder=type("H", (), {"make": make}))
    make.__globals__["AsyncFrob"] = frob
    plans = {
        holder.AsyncHolder: ClassPlan(holder.AsyncHolder, "Holder", "synapse_sync._fake_e"),
        frob: ClassPlan(frob, "Frob", "synapse_sync._fake_d"),
    }
    with pytest.raises(CodegenError, match=r"AsyncHolder\.make: no rule maps the result"):
        Renderer(plans).render_class(
            _codegen.ModuleOut("synapse_sync._fake_e"), plans[holder.AsyncHolder]
        )


@pytest.mark.parametrize(
    ("annotation", "rule"),
    [
        ("Task", "as_is"),
        ("list[Task] | None", "as_is"),
        ("AsyncTasks", "wrap"),
        ("AsyncPaginator[Task]", "wrap"),
        ("dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]", "list_all"),
        ("tuple[AsyncIterator[Task], int] | AsyncTasks", None),  # two conversions: no rule
        ("tuple[AsyncIterator[Task], str] | None", None),
        ("list[AsyncTasks]", None),
        ("AsyncIteratorish", "as_is"),  # a name that merely starts like a rule's is not one
    ],
)
def test_result_rules_match_the_annotation_tree(annotation: str, rule: str | None) -> None:
    renderer = Renderer(discover())
    if rule is None:
        with pytest.raises(CodegenError, match="no rule maps the result"):
            renderer.result_rule(annotation)
    else:
        assert renderer.result_rule(annotation)[0] == rule


def test_docstrings_are_rewritten_for_sync_callers() -> None:
    from synapse_sync.client import Client
    from synapse_sync.compat import BackendClient
    from synapse_sync.pagination import Paginator

    doc = inspect.getdoc(Client) or ""
    assert doc.startswith("The Synapse client for blocking code: a context manager")
    assert 'with Client("https://api.synapse.sh"' in doc
    assert "    for task in client.tasks.list(project=12):" in doc
    assert "project = client.get_project(123)" in (inspect.getdoc(BackendClient) or "")
    assert inspect.getdoc(Client.close) == "Close the HTTP session (also done by ``with``)."
    for cls in (Client, BackendClient, Paginator):
        for text in [inspect.getdoc(cls) or ""] + [
            inspect.getdoc(m) or "" for m in vars(cls).values() if callable(m)
        ]:
            assert not re.search(_codegen.ASYNC_WORDING, text), (cls, text)


def test_async_wording_without_a_rule_fails_generation() -> None:
    renderer = Renderer(discover())
    with pytest.raises(CodegenError, match=r"X\.y: 'async' still reads as async code"):
        renderer.sync_doc("Runs an async job.", "X.y")
    assert (
        renderer.sync_doc("Cache in ~/.cache/synapse-async/ (synapse_async).", "X.y")
        == "Cache in ~/.cache/synapse-async/ (synapse_async)."
    )
    assert (
        renderer.sync_doc("See ``AsyncTasks.get``; ``await t.aclose()``.", "X.y")
        == "See ``Tasks.get``; ``t.close()``."
    )


def test_unused_doc_or_result_rules_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_codegen, "DOC_REWRITES", (*_codegen.DOC_REWRITES, (r"\bzzqx\b", "x")))
    with pytest.raises(CodegenError, match=r"unused mapping rules.*zzqx"):
        Renderer(discover()).render()
    monkeypatch.undo()
    monkeypatch.setitem(_codegen.RESULT_RULES, "spare", "return {value}")
    with pytest.raises(CodegenError, match=r"unused mapping rules.*spare"):
        Renderer(discover()).render()


def test_generation_fails_when_ruff_check_fails(tmp_path: Path) -> None:
    bad = {
        _codegen.PACKAGE_DIR / "resources" / "tasks.py": _codegen.HEADER
        + '"""Doc."""\n\nimport os\n\nx = 1\n'
    }
    with pytest.raises(CodegenError, match="ruff check fails on generated"):
        _codegen._format({**bad, tmp_path / "unused.py": "import os\n"})
    good = {tmp_path / "ok.py": '"""Doc."""\n\nx = 1\n'}
    assert _codegen._format(good) == good


def test_reprs_name_the_sync_class() -> None:
    from synapse_sync.client import Client

    client = Client("http://127.0.0.1:9/", access_token="secret-token")
    assert repr(client) == "Client(base_url='http://127.0.0.1:9/')"
    assert repr(client.tasks) == "Tasks()"
    assert repr(client.tasks.list(project=1)).startswith("Paginator(path='sdk/tasks/'")
    assert "secret-token" not in repr(client)


def test_fill_packs_items_and_breaks_an_overlong_annotation() -> None:
    union = " | ".join(f"VeryLongTypeName{i}[int]" for i in range(6))
    params = ["self", "a: int", f"b: {union}", "*", "c: str = 'x'", "**kw: Any"]
    line = f"    def f({_codegen.SEP.join(params)}) -> dict[str, int]:"
    text = _codegen._fill(line)
    assert max(len(row) for row in text.splitlines()) <= _codegen.LINE_LENGTH
    assert len(text.splitlines()) < len(params)  # packed, not one parameter per line
    tree = ast.parse(textwrap.dedent(text) + "\n    pass\n")
    assert ast.unparse(tree) == ast.unparse(
        ast.parse(line.replace(_codegen.SEP, ", ").strip() + " pass")
    )
