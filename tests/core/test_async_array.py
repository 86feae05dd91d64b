"""``AsyncArray``: real awaits (``asyncio.run``) compared with the synchronous ``Array``, NumPy and
zarr-python's ``AsyncArray``; reads run in worker threads, so the event loop keeps running and
concurrent reads overlap."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numcodecs
import numpy as np
import pytest

import cuzarr
from cuzarr import AsyncArray
from cuzarr.errors import ArrayNotFoundError, ZarrDeprecationWarning
from cuzarr.storage import MemoryStore, StorePath

DATA = np.arange(6 * 8, dtype="i4").reshape(6, 8)
MASK = DATA % 3 == 0


@pytest.fixture
def array() -> cuzarr.Array:
    array = cuzarr.create_array(MemoryStore(), name="a", shape=DATA.shape, chunks=(2, 4), dtype="i4")
    array[...] = DATA
    array.attrs["units"] = "m"
    return array


PROPERTIES = [
    "metadata",
    "zarr_format",
    "shape",
    "chunks",
    "shards",
    "dtype",
    "fill_value",
    "order",
    "ndim",
    "size",
    "nbytes",
    "cdata_shape",
    "nchunks",
    "nshards",
    "dimension_names",
    "compressors",
    "filters",
    "serializer",
    "store",
    "store_path",
    "path",
    "name",
    "basename",
    "read_only",
    "device",
    "synchronizer",
    "config",
]


def test_properties_are_the_arrays(array):
    wrapped = array.async_array
    for name in PROPERTIES:
        assert getattr(wrapped, name) == getattr(array, name), name
    assert wrapped.attrs == {"units": "m"}
    wrapped.attrs["units"] = "changed"  # a copy, as zarr-python's dict: changes go through update_attributes
    assert array.attrs["units"] == "m"
    assert repr(wrapped.info) == repr(array.info)
    assert repr(wrapped).startswith("<AsyncArray ")


SELECTIONS: list[tuple[str, Any, Any]] = [
    ("getitem", (slice(1, 5), slice(None, None, 3)), DATA[1:5, ::3]),
    ("getitem", 3, DATA[3]),
    ("getitem", (2, 5), DATA[2, 5]),
    ("get_basic_selection", (slice(None), 1), DATA[:, 1]),
    ("get_orthogonal_selection", ([0, 4, 5], slice(2, 7)), DATA[[0, 4, 5], 2:7]),
    ("get_coordinate_selection", ([0, 5, 2], [7, 0, 3]), DATA[[0, 5, 2], [7, 0, 3]]),
    ("get_mask_selection", MASK, DATA[MASK]),
    ("get_block_selection", (1, slice(0, 2)), DATA[2:4, 0:8]),
]


@pytest.mark.parametrize("method,selection,expected", SELECTIONS, ids=[s[0] for s in SELECTIONS])
def test_reads_equal_numpy_and_the_sync_api(array, method, selection, expected):
    sync_method = "__getitem__" if method == "getitem" else method
    result = asyncio.run(getattr(array.async_array, method)(selection))
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(result, getattr(array, sync_method)(selection))


def test_oindex_and_vindex_getitem(array):
    async def read() -> list[Any]:
        wrapped = array.async_array
        return [
            await wrapped.oindex.getitem(([1, 3], [0, 2, 4])),
            await wrapped.vindex.getitem(([1, 3], [0, 2])),
            await wrapped.vindex.getitem(MASK),
        ]

    ortho, points, masked = asyncio.run(read())
    np.testing.assert_array_equal(ortho, array.oindex[[1, 3], [0, 2, 4]])
    np.testing.assert_array_equal(points, DATA[[1, 3], [0, 2]])
    np.testing.assert_array_equal(masked, DATA[MASK])


def test_fields_and_out_are_passed_through():
    dtype = np.dtype([("x", "i4"), ("y", "f8")])
    array = cuzarr.create_array({}, shape=(4,), chunks=(2,), dtype=dtype)
    array[...] = np.array([(i, i / 2) for i in range(4)], dtype=dtype)
    out = np.empty((2,), dtype=dtype)

    async def read() -> tuple[Any, Any]:
        wrapped = array.async_array
        return await wrapped.get_basic_selection(slice(0, 2), fields="y"), await wrapped.get_basic_selection(
            slice(2, 4), out=out
        )

    ys, returned = asyncio.run(read())
    np.testing.assert_array_equal(ys, [0.0, 0.5])
    assert returned is out and out["x"].tolist() == [2, 3]


def test_concurrent_reads_of_one_array_equal_the_sync_ones(array):
    selections = [(slice(i, i + 2), slice(None)) for i in range(5)] + [(slice(None), j) for j in range(8)]

    async def read_all() -> list[Any]:
        wrapped = array.async_array
        return await asyncio.gather(*(wrapped.getitem(s) for s in selections))

    for selection, result in zip(selections, asyncio.run(read_all())):
        np.testing.assert_array_equal(result, DATA[selection])
        np.testing.assert_array_equal(result, array[selection])


def test_concurrent_writes_to_distinct_chunks(array):
    async def write_all() -> None:
        wrapped = array.async_array
        await asyncio.gather(*(wrapped.setitem((slice(r, r + 2), slice(None)), -r) for r in range(0, 6, 2)))

    asyncio.run(write_all())
    expected = np.repeat([0, -2, -4], 2)[:, None] * np.ones((1, 8), dtype="i4")
    np.testing.assert_array_equal(array[...], expected)


class SlowStore(MemoryStore):
    """A MemoryStore whose reads of chunks take ``delay`` seconds (sleeping, the GIL released)."""

    delay = 0.25

    def _get_many(self, keys, byte_ranges):
        if any(not key.endswith("zarr.json") for key in keys):
            time.sleep(self.delay)
        return super()._get_many(keys, byte_ranges)


def _slow_array() -> cuzarr.Array:
    array = cuzarr.create_array(SlowStore(), shape=(4, 4), chunks=(1, 4), dtype="i4")
    array[...] = np.arange(16).reshape(4, 4)
    return array


def test_reads_do_not_block_the_event_loop():
    array = _slow_array()

    async def read_while_ticking() -> tuple[int, Any]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        result = await array.async_array.getitem(0)
        ticker.cancel()
        return ticks, result

    ticks, result = asyncio.run(read_while_ticking())
    assert ticks >= 5, "the event loop stood still during the read"
    np.testing.assert_array_equal(result, [0, 1, 2, 3])


def test_gathered_reads_overlap():
    array = _slow_array()

    async def read_rows() -> list[Any]:
        return await asyncio.gather(*(array.async_array.getitem(row) for row in range(4)))

    start = time.perf_counter()
    rows = asyncio.run(read_rows())
    elapsed = time.perf_counter() - start
    assert elapsed < 3 * SlowStore.delay, f"4 reads of {SlowStore.delay} s each took {elapsed:.2f} s"
    np.testing.assert_array_equal(np.stack(rows), np.arange(16).reshape(4, 4))


def test_shape_changes_attributes_and_listings(array):
    async def change() -> tuple[Any, ...]:
        wrapped = array.async_array
        new_shape = await wrapped.append(np.full((2, 8), 7, dtype="i4"))
        await wrapped.resize((7, 8))
        updated = await wrapped.update_attributes({"kind": "test"})
        return new_shape, updated, await wrapped.nchunks_initialized(), await wrapped.nbytes_stored()

    new_shape, updated, initialized, stored = asyncio.run(change())
    assert new_shape == (8, 8) and array.shape == (7, 8)
    assert updated.attrs == {"units": "m", "kind": "test"}
    assert cuzarr.open_array(array.store, path="a", mode="r").attrs["kind"] == "test"
    assert initialized == array.nchunks_initialized and stored == array.nbytes_stored()
    assert repr(asyncio.run(array.async_array.info_complete())) == repr(array.info_complete())


def test_open(array):
    opened = asyncio.run(AsyncArray.open(StorePath(array.store, "a")))
    assert isinstance(opened, AsyncArray) and opened.path == "a"
    np.testing.assert_array_equal(asyncio.run(opened.getitem(slice(None))), DATA)
    assert asyncio.run(AsyncArray.open(array.store, path="a", read_only=True)).read_only
    with pytest.raises(ArrayNotFoundError):
        asyncio.run(AsyncArray.open(array.store, path="missing"))


def test_with_config_is_synchronous(array):
    changed = array.async_array.with_config({"write_empty_chunks": True})
    assert isinstance(changed, AsyncArray) and changed.config.write_empty_chunks


def test_deprecated_create_and_compressor():
    with pytest.warns(ZarrDeprecationWarning, match="create_array"):
        pending = AsyncArray.create(
            {}, shape=(4,), dtype="u1", zarr_format=2, chunks=(2,), compressor=numcodecs.Zstd()
        )
    created = asyncio.run(pending)
    assert isinstance(created, AsyncArray) and created.chunks == (2,)
    with pytest.warns(ZarrDeprecationWarning, match="AsyncArray.compressors"):
        assert created.compressor == numcodecs.Zstd()


def test_results_equal_zarr_pythons_async_array(tmp_path):
    zarr = pytest.importorskip("zarr")
    path = str(tmp_path / "a.zarr")
    cuzarr.create_array(path, data=DATA, chunks=(4, 3))
    selections = [(slice(1, 6), slice(2, 8, 2)), 4]

    async def both() -> list[tuple[Any, Any]]:
        ours = await AsyncArray.open(path)
        theirs = await zarr.AsyncArray.open(path)
        return [(await ours.getitem(s), await theirs.getitem(s)) for s in selections] + [
            (
                await ours.get_orthogonal_selection(([0, 5], [1, 7])),
                await theirs.get_orthogonal_selection(([0, 5], [1, 7])),
            )
        ]

    for ours, theirs in asyncio.run(both()):
        np.testing.assert_array_equal(ours, theirs)


def test_array_of_async_array_is_the_same_array(array):
    """zarr-python's ``Array(async_array)``: the synchronous view of the same array, so a resize
    through one is seen by the other."""
    wrapped = AsyncArray(array)
    sync = cuzarr.Array(wrapped)
    assert sync is array
    np.testing.assert_array_equal(sync[...], DATA)
    sync.resize((8, 8))
    assert asyncio.run(_shape_after_open(wrapped)) == (8, 8)
    with pytest.raises(TypeError, match="open_array"):
        cuzarr.Array(MemoryStore())


async def _shape_after_open(wrapped: AsyncArray) -> tuple[int, ...]:
    return wrapped.shape
