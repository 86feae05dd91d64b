"""Every public name of zarr-python 3 exists in cuzarr (``import cuzarr as zarr`` finds it), except
the short allowlist below, each entry with its reason; and members that are properties,
coroutines or async generators in zarr-python are the same kind here."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import cuzarr
import cuzarr.api.asynchronous
import cuzarr.api.synchronous

zarr = pytest.importorskip("zarr")  # its submodules (errors, storage, api.*) load with it

#: (namespace, name) -> why cuzarr does not have it.
ALLOWLIST: dict[tuple[str, str], str] = {
    ("zarr.storage", "GpuMemoryStore"): (
        "cuzarr keeps chunk bytes on the host and decodes them onto the device in batches "
        "(device='cuda'); a store of device buffers would bypass that pipeline"
    ),
    ("zarr.storage", "ObjectStore"): (
        "needs the obstore package; cuzarr reaches object stores through FsspecStore"
    ),
}


def _public(names: Any) -> list[str]:
    return sorted(n for n in names if not n.startswith("_"))


def _error_names() -> list[str]:
    """Classes defined in ``zarr.errors`` (its ``__all__`` omits some, e.g. ``ZarrUserWarning``)."""
    return _public(
        n
        for n, obj in vars(zarr.errors).items()
        if isinstance(obj, type) and obj.__module__ == zarr.errors.__name__
    )


NAMESPACES = [
    ("zarr", lambda: zarr.__all__, cuzarr),
    ("zarr.errors", _error_names, cuzarr.errors),
    ("zarr.storage", lambda: zarr.storage.__all__, cuzarr.storage),
    ("zarr.api.asynchronous", lambda: zarr.api.asynchronous.__all__, cuzarr.api.asynchronous),
    ("zarr.api.synchronous", lambda: zarr.api.synchronous.__all__, cuzarr.api.synchronous),
    ("zarr.Array", lambda: _public(dir(zarr.Array)), cuzarr.Array),
    ("zarr.Group", lambda: _public(dir(zarr.Group)), cuzarr.Group),
    ("zarr.AsyncArray", lambda: _public(dir(zarr.AsyncArray)), cuzarr.AsyncArray),
    ("zarr.AsyncGroup", lambda: _public(dir(zarr.AsyncGroup)), cuzarr.AsyncGroup),
]


@pytest.mark.parametrize("namespace,names,ours", NAMESPACES, ids=[n for n, _, _ in NAMESPACES])
def test_every_public_zarr_name_exists(namespace: str, names: Any, ours: Any) -> None:
    missing = [n for n in names() if not hasattr(ours, n) and (namespace, n) not in ALLOWLIST]
    assert not missing, f"{namespace} names missing from cuzarr: {missing}"


def test_allowlist_is_needed_and_explained() -> None:
    """An entry that cuzarr has gained, or that zarr-python dropped, must leave the allowlist."""
    for (namespace, name), reason in ALLOWLIST.items():
        theirs, ours = dict((n, (names, o)) for n, names, o in NAMESPACES)[namespace]
        assert name in theirs(), f"{namespace}.{name} is no longer in zarr-python"
        assert not hasattr(ours, name), f"cuzarr now has {namespace}.{name}: drop it from the allowlist"
        assert len(reason) > 20


def _kind(cls: type, name: str) -> str:
    member = inspect.getattr_static(cls, name)
    if isinstance(member, property):
        return "property"
    prefix, function = ("class ", member.__func__) if isinstance(member, classmethod) else ("", member)
    if inspect.iscoroutinefunction(function):
        return prefix + "coroutine"
    if inspect.isasyncgenfunction(function):
        return prefix + "async generator"
    return prefix + "other"


@pytest.mark.parametrize(
    "theirs,ours",
    [
        (zarr.Array, cuzarr.Array),
        (zarr.Group, cuzarr.Group),
        (zarr.AsyncArray, cuzarr.AsyncArray),
        (zarr.AsyncGroup, cuzarr.AsyncGroup),
    ],
    ids=lambda cls: cls.__name__,
)
def test_member_kinds_match(theirs: type, ours: type) -> None:
    """``await group.getitem(...)`` / ``async for ... in group.members()`` / ``a.shape`` (not
    ``a.shape()``) work the same way (zarr's deprecated wrappers hide kinds, so "other" is skipped)."""
    mismatched = {
        name: (_kind(theirs, name), _kind(ours, name))
        for name in _public(dir(theirs))
        if hasattr(ours, name) and _kind(theirs, name) != "other" and _kind(theirs, name) != _kind(ours, name)
    }
    assert not mismatched


def test_async_api_functions_are_coroutines_like_zarrs() -> None:
    """Coroutines stay coroutines, async generators async generators (zarr's deprecated ``tree``
    is a plain function returning a coroutine; ours is a coroutine function, awaited the same way)."""
    for name in zarr.api.asynchronous.__all__:
        theirs = getattr(zarr.api.asynchronous, name)
        ours = getattr(cuzarr.api.asynchronous, name)
        if inspect.isasyncgenfunction(theirs):
            assert inspect.isasyncgenfunction(ours), name
        else:
            assert inspect.iscoroutinefunction(ours), name


def test_synchronous_module_is_the_top_level_api() -> None:
    for name in cuzarr.api.synchronous.__all__:
        assert getattr(cuzarr.api.synchronous, name) is getattr(cuzarr, name), name
