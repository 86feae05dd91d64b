"""``cuzarr.api.asynchronous``: the top-level functions as coroutines returning ``AsyncArray`` /
``AsyncGroup``, compared with the synchronous API; ``cuzarr.print_debug_info``."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import numpy as np
import pytest

import cuzarr
import cuzarr.api.asynchronous as async_api
from cuzarr import AsyncArray, AsyncGroup
from cuzarr.storage import MemoryStore, StorePath

DATA = np.arange(20, dtype="f8").reshape(4, 5)


def test_every_function_is_a_coroutine_function_with_the_sync_signature():
    for name in async_api.__all__:
        ours = getattr(async_api, name)
        assert inspect.iscoroutinefunction(ours) or inspect.isasyncgenfunction(ours), name
        if name not in ("create_hierarchy", "load"):
            sync = getattr(cuzarr, name)
            assert list(inspect.signature(ours).parameters) == list(inspect.signature(sync).parameters)
    assert inspect.signature(async_api.open).return_annotation == "AsyncArray | AsyncGroup"


def test_create_open_and_read_back():
    store = MemoryStore()

    async def run() -> tuple[Any, ...]:
        created = await async_api.create_array(store, name="a", data=DATA, chunks=(2, 2))
        opened = await async_api.open_array(store, path="a", mode="r")
        either = await async_api.open(store, path="a")
        root = await async_api.open_group(store, mode="r")
        return created, opened, either, root, await opened.getitem(slice(None))

    created, opened, either, root, data = asyncio.run(run())
    assert (
        isinstance(created, AsyncArray) and isinstance(opened, AsyncArray) and isinstance(either, AsyncArray)
    )
    assert isinstance(root, AsyncGroup) and opened.read_only
    np.testing.assert_array_equal(data, DATA)
    np.testing.assert_array_equal(data, cuzarr.open_array(store, path="a")[...])


def test_constructors_match_the_sync_ones():
    async def run() -> list[Any]:
        return [
            await async_api.zeros((3,), chunks=(2,)),
            await async_api.ones((3,)),
            await async_api.full((3,), 4),
            await async_api.empty((3,), fill_value=8),
            await async_api.array(np.arange(3)),
            await async_api.create((3,), fill_value=2, dtype="i4"),
        ]

    arrays = asyncio.run(run())
    assert all(isinstance(a, AsyncArray) for a in arrays)
    values = [asyncio.run(a.getitem(slice(None))).tolist() for a in arrays]
    assert values == [[0, 0, 0], [1, 1, 1], [4, 4, 4], [8, 8, 8], [0, 1, 2], [2, 2, 2]]


def test_like_functions_take_async_arrays():
    source = cuzarr.create_array({}, data=DATA, chunks=(2, 5))

    async def run() -> list[Any]:
        wrapped = source.async_array
        return [
            await async_api.zeros_like(wrapped),
            await async_api.ones_like(wrapped),
            await async_api.full_like(wrapped, 6.0),
            await async_api.empty_like(wrapped),
            await async_api.from_array({}, data=wrapped),
        ]

    zeros, ones, full, empty, copied = asyncio.run(run())
    assert all(a.shape == DATA.shape and a.chunks == (2, 5) for a in (zeros, ones, full, empty, copied))
    assert asyncio.run(full.getitem(0)).tolist() == [6.0] * 5
    np.testing.assert_array_equal(asyncio.run(copied.getitem(slice(None))), DATA)


def test_open_like(tmp_path):
    source = cuzarr.create_array({}, data=DATA, chunks=(2, 5))
    opened = asyncio.run(async_api.open_like(source.async_array, str(tmp_path / "like.zarr")))
    assert isinstance(opened, AsyncArray) and opened.shape == DATA.shape


def test_groups_and_hierarchies():
    store = MemoryStore()

    async def run() -> tuple[Any, ...]:
        root = await async_api.group(store, attributes={"a": 1})
        child = await async_api.create_group(store, path="child")
        array_metadata = cuzarr.create_array({}, shape=(2,), dtype="i4").metadata
        nodes = {"h": cuzarr.metadata.GroupMetadataV3(), "h/arr": array_metadata}
        created = [item async for item in async_api.create_hierarchy(store=StorePath(store), nodes=nodes)]
        consolidated = await async_api.consolidate_metadata(store)
        reopened = await async_api.open_consolidated(store)
        return root, child, created, consolidated, reopened

    root, child, created, consolidated, reopened = asyncio.run(run())
    assert isinstance(root, AsyncGroup) and root.attrs == {"a": 1} and child.path == "child"
    assert [(p, type(n)) for p, n in created] == [("h", AsyncGroup), ("h/arr", AsyncArray)]
    assert isinstance(consolidated, AsyncGroup) and isinstance(reopened, AsyncGroup)
    assert reopened.consolidated_metadata is not None
    assert repr(asyncio.run(async_api.tree(reopened))) == repr(cuzarr.open_group(store).tree())


def test_save_and_load(tmp_path):
    path = str(tmp_path / "saved.zarr")

    async def run() -> tuple[Any, Any]:
        await async_api.save(path, DATA, other=np.ones(2))
        loaded_group = await async_api.load(path)
        await async_api.save_array(path + "2", DATA)
        return loaded_group, await async_api.load(path + "2")

    loaded_group, loaded_array = asyncio.run(run())
    assert isinstance(loaded_group, dict) and sorted(loaded_group) == ["arr_0", "other"]
    np.testing.assert_array_equal(loaded_group["arr_0"], DATA)
    np.testing.assert_array_equal(loaded_array, cuzarr.load(path + "2"))
    asyncio.run(async_api.save_group(path + "3", a=DATA))
    np.testing.assert_array_equal(cuzarr.load(path + "3")["a"], DATA)


def test_copies():
    source = cuzarr.group(MemoryStore())
    source.create_array("x", data=DATA)

    # copy / copy_all take async nodes as well as sync ones
    destination = cuzarr.group(MemoryStore())
    counts = asyncio.run(async_api.copy(AsyncGroup(source), AsyncGroup(destination), name="copied"))
    assert counts == cuzarr.copy(source, cuzarr.group(MemoryStore()), name="copied")
    np.testing.assert_array_equal(destination["copied/x"][...], DATA)
    all_counts = asyncio.run(async_api.copy_all(AsyncGroup(source), AsyncGroup(cuzarr.group(MemoryStore()))))
    assert all_counts[0] >= 1
    target = MemoryStore()
    asyncio.run(async_api.copy_store(source.store, target))
    assert sorted(target.list()) == sorted(source.store.list())


def test_print_debug_info(capsys):
    cuzarr.print_debug_info()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("platform: ") and lines[1].startswith("python: ")
    assert f"cuzarr: {cuzarr.__version__}" in lines
    assert f"numpy: {np.__version__}" in lines
    for name in ("numcodecs", "crc32c", "fsspec"):
        assert any(line.startswith(f"{name}: ") for line in lines), name
    zarr = pytest.importorskip("zarr")
    assert f"zarr: {zarr.__version__}" in lines
    assert "**Required dependencies:**" in lines and "**Optional dependencies:**" in lines
