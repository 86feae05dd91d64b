"""``AsyncGroup`` and ``Group.update_attributes_async``: real awaits compared with the synchronous
``Group``; members come back as ``AsyncArray`` / ``AsyncGroup``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

import cuzarr
from cuzarr import AsyncArray, AsyncGroup
from cuzarr.errors import ContainsGroupError, GroupNotFoundError, ZarrDeprecationWarning
from cuzarr.storage import MemoryStore, StorePath


@pytest.fixture
def root() -> cuzarr.Group:
    """``/`` holding arrays ``x`` (with data) and ``y`` and groups ``g`` and ``g/h``."""
    root = cuzarr.group(MemoryStore(), attributes={"title": "t"})
    root.create_array("x", data=np.arange(6), chunks=(2,))
    root.create_array("y", shape=(3,), dtype="f4")
    root.create_group("g").create_group("h")
    return root


async def _collect(iterator: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in iterator]


def test_properties_are_the_groups(root):
    wrapped = AsyncGroup(root)
    for name in ("metadata", "zarr_format", "store", "store_path", "path", "name", "basename", "read_only"):
        assert getattr(wrapped, name) == getattr(root, name), name
    assert wrapped.attrs == {"title": "t"} and wrapped.synchronizer is None
    assert repr(wrapped).startswith("<AsyncGroup ")


def test_lookups(root):
    async def look() -> list[Any]:
        wrapped = AsyncGroup(root)
        return [
            await wrapped.getitem("x"),
            await wrapped.getitem("g/h"),
            await wrapped.get("missing", "default"),
            await wrapped.contains("g"),
            await wrapped.contains("nope"),
        ]

    x, h, default, has_g, has_nope = asyncio.run(look())
    assert isinstance(x, AsyncArray) and isinstance(h, AsyncGroup) and h.path == "g/h"
    assert default == "default" and has_g and not has_nope
    np.testing.assert_array_equal(asyncio.run(x.getitem(slice(None))), np.arange(6))
    with pytest.raises(KeyError, match="missing"):
        asyncio.run(AsyncGroup(root).getitem("missing"))


def test_member_iterators_equal_the_sync_ones(root):
    wrapped = AsyncGroup(root)
    members = asyncio.run(_collect(wrapped.members()))
    assert [k for k, _ in members] == [k for k, _ in root.members()]
    assert all(isinstance(n, AsyncArray | AsyncGroup) for _, n in members)
    deep = asyncio.run(_collect(wrapped.members(max_depth=None)))
    assert [k for k, _ in deep] == [k for k, _ in root.members(max_depth=None)]
    assert asyncio.run(_collect(wrapped.keys())) == list(root.keys())
    assert asyncio.run(_collect(wrapped.array_keys())) == list(root.array_keys()) == ["x", "y"]
    assert asyncio.run(_collect(wrapped.group_keys())) == list(root.group_keys()) == ["g"]
    assert [k for k, _ in asyncio.run(_collect(wrapped.arrays()))] == ["x", "y"]
    assert [g.path for g in asyncio.run(_collect(wrapped.group_values()))] == ["g"]
    assert [a.path for a in asyncio.run(_collect(wrapped.array_values()))] == ["x", "y"]
    assert [k for k, _ in asyncio.run(_collect(wrapped.groups()))] == ["g"]
    assert asyncio.run(wrapped.nmembers()) == root.nmembers() == 3
    assert asyncio.run(wrapped.nmembers(max_depth=None)) == 4
    assert repr(asyncio.run(wrapped.tree())) == repr(root.tree())
    assert repr(asyncio.run(wrapped.info_complete())) == repr(root.info_complete())


def test_creation(root):
    async def create() -> list[Any]:
        wrapped = AsyncGroup(root)
        x = await wrapped.getitem("x")
        return [
            await wrapped.create_array("a", shape=(4,), dtype="i2", fill_value=5),
            await wrapped.create_group("k", attributes={"n": 1}),
            await wrapped.require_group("k"),
            await wrapped.require_groups("k", "m"),
            await wrapped.require_array("a", shape=(4,), dtype="i2"),
            await wrapped.zeros(name="z", shape=(2,)),
            await wrapped.ones(name="o", shape=(2,)),
            await wrapped.full(name="f", shape=(2,), fill_value=9),
            await wrapped.empty(name="e", shape=(2,)),
            await wrapped.zeros_like(name="zl", data=x),
            await wrapped.ones_like(name="ol", data=x),
            await wrapped.full_like(name="fl", data=x, fill_value=2),
            await wrapped.empty_like(name="el", data=x),
        ]

    a, k, k_again, (k3, m), a_again, z, o, f, e, zl, ol, fl, el = asyncio.run(create())
    assert isinstance(a, AsyncArray) and root["a"][...].tolist() == [5, 5, 5, 5]
    assert isinstance(k, AsyncGroup) and k.attrs == {"n": 1}
    assert k_again.path == k3.path == "k" and m.path == "m" and a_again.path == "a"
    assert [root[n][...].tolist() for n in ("z", "o", "f")] == [[0, 0], [1, 1], [9, 9]]
    assert e.shape == (2,)
    assert zl.shape == ol.shape == fl.shape == el.shape == (6,) and zl.chunks == (2,)
    assert root["ol"][...].tolist() == [1] * 6 and root["fl"][...].tolist() == [2] * 6
    with pytest.raises(ContainsGroupError):
        asyncio.run(AsyncGroup(root).create_group("k"))


def test_setitem_delitem_move_and_datasets(root):
    async def change() -> Any:
        wrapped = AsyncGroup(root)
        await wrapped.setitem("s", np.arange(3))
        await wrapped.delitem("y")
        await wrapped.move("g", "moved")
        await wrapped.create_dataset("d", data=np.ones(2))
        return await wrapped.require_dataset("d", shape=(2,))

    required = asyncio.run(change())
    assert root["s"][...].tolist() == [0, 1, 2]
    assert "y" not in root and "g" not in root and "moved/h" in root
    assert isinstance(required, AsyncArray) and required.path == "d"


def test_create_hierarchy_is_an_async_generator(root):
    nodes = {
        "p": cuzarr.metadata.GroupMetadataV3(),
        "p/q": root["x"].metadata,
    }
    created = asyncio.run(_collect(AsyncGroup(root).create_hierarchy(nodes)))
    assert [(path, type(node)) for path, node in created] == [("p", AsyncGroup), ("p/q", AsyncArray)]
    assert root["p/q"].shape == (6,)


def test_update_attributes_persists(root):
    wrapped = AsyncGroup(root)
    assert asyncio.run(wrapped.update_attributes({"more": [1, 2]})) is wrapped
    assert cuzarr.open_group(root.store, mode="r").attrs.asdict() == {"title": "t", "more": [1, 2]}
    assert wrapped.attrs == {"title": "t", "more": [1, 2]}


def test_open_and_from_store():
    store = MemoryStore()
    created = asyncio.run(AsyncGroup.from_store(StorePath(store, "a"), attributes={"k": "v"}))
    assert isinstance(created, AsyncGroup) and created.path == "a"
    opened = asyncio.run(AsyncGroup.open(store, path="a"))
    assert opened.attrs == {"k": "v"} and opened.store_path == StorePath(store, "a")
    assert asyncio.run(AsyncGroup.open(StorePath(store, "a"), read_only=True)).read_only
    with pytest.raises(GroupNotFoundError):
        asyncio.run(AsyncGroup.open(store, path="missing"))


def test_group_update_attributes_async_merges_and_returns_the_group(root):
    assert asyncio.run(root.update_attributes_async({"extra": 1})) is root
    assert root.attrs.asdict() == {"title": "t", "extra": 1}
    assert cuzarr.open_group(root.store, mode="r").attrs.asdict() == {"title": "t", "extra": 1}


def test_group_array_is_a_deprecated_create_array(root):
    with pytest.warns(ZarrDeprecationWarning, match="Group.create_array"):
        created = root.array("arr", shape=(3,), dtype="i4", data=np.array([4, 5, 6]))
    assert isinstance(created, cuzarr.Array) and root["arr"][...].tolist() == [4, 5, 6]
