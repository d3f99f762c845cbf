"""The public facade is explicit and documented (STYLE 14)."""

import inspect

import synapse_async
from synapse_async import errors


def test_all_is_exact_and_importable() -> None:
    public = {n for n in dir(synapse_async) if not n.startswith("_")}
    modules = {n for n in public if inspect.ismodule(getattr(synapse_async, n))}
    assert set(synapse_async.__all__) - {"__version__"} == public - modules
    for name in synapse_async.__all__:
        assert getattr(synapse_async, name) is not None


def test_every_public_name_has_a_docstring() -> None:
    for name in synapse_async.__all__:
        obj = getattr(synapse_async, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and inspect.isfunction(member):
                    assert inspect.getdoc(member), f"{name}.{attr}"


def test_error_tree_has_one_root() -> None:
    for name in errors.__all__:
        obj = getattr(errors, name)
        if inspect.isclass(obj):
            assert issubclass(obj, errors.SynapseError), name


def test_sync_package_has_the_same_version() -> None:
    import synapse_sync

    assert synapse_sync.__version__ == synapse_async.__version__
    assert "__version__" in synapse_sync.__all__
