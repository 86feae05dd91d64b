"""Orthogonal, coordinate, mask and block selections, read and write, against a NumPy model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cuzarr
from cuzarr.storage import MemoryStore
from cuzarr.storage.wrappers import CountingStore

from .read_paths import host_read_path  # noqa: F401 - autouse: both CPU read paths


@st.composite
def shapes_and_chunks(draw, max_ndim=4):
    ndim = draw(st.integers(1, max_ndim))
    shape = tuple(draw(st.integers(0 if ndim < 3 else 1, 9 if ndim < 3 else 5)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, 4)) for _ in shape)
    return shape, chunks


def _axis_item(draw, n):
    kinds = ["slice", "ints", "bools"] + (["int"] if n else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "int":
        return draw(st.integers(-n, n - 1))
    if kind == "slice":
        return slice(
            draw(st.none() | st.integers(-n - 1, n + 1)),
            draw(st.none() | st.integers(-n - 1, n + 1)),
            draw(st.none() | st.integers(1, 3)),
        )
    if kind == "ints":
        values = draw(st.lists(st.integers(-n, n - 1), max_size=6)) if n else []
        return np.array(values, dtype=np.int64)
    return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)


@st.composite
def orthogonal_case(draw):
    shape, chunks = draw(shapes_and_chunks())
    return shape, chunks, tuple(_axis_item(draw, n) for n in shape)


def model_orthogonal_positions(shape, selection):
    """Per axis: the selected positions, and whether the axis is dropped."""
    positions, dropped = [], []
    for item, n in zip(selection, shape):
        if isinstance(item, (int, np.integer)):
            positions.append(np.array([item % n]))
            dropped.append(True)
        elif isinstance(item, slice):
            positions.append(np.arange(n)[item])
            dropped.append(False)
        elif item.dtype == bool:
            positions.append(np.flatnonzero(item))
            dropped.append(False)
        else:
            positions.append(np.where(item < 0, item + n, item))
            dropped.append(False)
    return positions, dropped


def model_oindex_get(a, selection):
    positions, dropped = model_orthogonal_positions(a.shape, selection)
    full = a[np.ix_(*positions)] if positions else a
    return full.reshape([len(p) for p, d in zip(positions, dropped) if not d])


def model_oindex_set(a, selection, value):
    positions, dropped = model_orthogonal_positions(a.shape, selection)
    full_shape = [len(p) for p in positions]
    value = np.broadcast_to(value, [n for n, d in zip(full_shape, dropped) if not d]).reshape(full_shape)
    for index in np.ndindex(*full_shape):  # explicit loop: repeats resolve last-wins, C order
        a[tuple(p[i] for p, i in zip(positions, index))] = value[index]


def _array(shape, chunks, zarr_format=3, store=None):
    z = cuzarr.create_array(
        store=store if store is not None else MemoryStore(),
        shape=shape,
        chunks=chunks,
        dtype="i4",
        fill_value=-1,
        zarr_format=zarr_format,
    )
    data = np.arange(int(np.prod(shape)), dtype="i4").reshape(shape)
    z[...] = data
    return z, data


@settings(max_examples=150, deadline=None)
@given(orthogonal_case())
def test_oindex_read(case):
    shape, chunks, selection = case
    z, data = _array(shape, chunks)
    np.testing.assert_array_equal(z.oindex[selection], model_oindex_get(data, selection))
    np.testing.assert_array_equal(z.get_orthogonal_selection(selection), model_oindex_get(data, selection))


@settings(max_examples=150, deadline=None)
@given(orthogonal_case(), st.booleans(), st.sampled_from([2, 3]))
def test_oindex_write(case, scalar, zarr_format):
    shape, chunks, selection = case
    z, data = _array(shape, chunks, zarr_format)
    target_shape = model_oindex_get(data, selection).shape
    value = np.int32(-7) if scalar else (1000 + np.arange(int(np.prod(target_shape)))).reshape(target_shape)
    z.oindex[selection] = value
    model_oindex_set(data, selection, value)
    np.testing.assert_array_equal(z[...], data)


@st.composite
def coordinate_case(draw):
    shape, chunks = draw(shapes_and_chunks())
    if 0 in shape:
        shape = tuple(max(n, 1) for n in shape)
    n_points = draw(st.integers(0, 12))
    points = tuple(
        np.array(draw(st.lists(st.integers(-n, n - 1), min_size=n_points, max_size=n_points)), dtype=np.int64)
        for n in shape
    )
    if draw(st.booleans()) and n_points:  # a 2-d coordinate layout that broadcasts
        points = tuple(p.reshape(1, -1) if i % 2 else p.reshape(-1, 1)[:1] for i, p in enumerate(points))
    return shape, chunks, points


@settings(max_examples=150, deadline=None)
@given(coordinate_case())
def test_vindex_read(case):
    shape, chunks, points = case
    z, data = _array(shape, chunks)
    np.testing.assert_array_equal(z.vindex[points], data[points])
    np.testing.assert_array_equal(z.get_coordinate_selection(points), data[points])


@settings(max_examples=150, deadline=None)
@given(coordinate_case())
def test_vindex_write_last_duplicate_wins(case):
    shape, chunks, points = case
    z, data = _array(shape, chunks)
    broadcast = np.broadcast_arrays(*points)
    value = (5000 + np.arange(broadcast[0].size)).reshape(broadcast[0].shape)
    z.vindex[points] = value
    for index in np.ndindex(*broadcast[0].shape):
        data[tuple(b[index] for b in broadcast)] = value[index]
    np.testing.assert_array_equal(z[...], data)


@settings(max_examples=100, deadline=None)
@given(shapes_and_chunks(), st.data())
def test_mask_read_write(case, draw):
    shape, chunks = case
    z, data = _array(shape, chunks)
    mask = np.array(
        draw.draw(st.lists(st.booleans(), min_size=data.size, max_size=data.size)), dtype=bool
    ).reshape(shape)
    np.testing.assert_array_equal(z.vindex[mask], data[mask])
    np.testing.assert_array_equal(z.get_mask_selection(mask), data[mask])
    z.set_mask_selection(mask, -5)
    data[mask] = -5
    np.testing.assert_array_equal(z[...], data)


@settings(max_examples=100, deadline=None)
@given(shapes_and_chunks(max_ndim=3), st.data())
def test_blocks_read_write(case, draw):
    shape, chunks = case
    z, data = _array(shape, chunks)
    grid = [-(-n // c) for n, c in zip(shape, chunks)]
    selection, region = [], []
    for g, c, n in zip(grid, chunks, shape):
        if g and draw.draw(st.booleans()):
            b = draw.draw(st.integers(-g, g - 1))
            selection.append(b)
            b %= g
            region.append(slice(b * c, min((b + 1) * c, n)))
        else:
            start, stop = sorted(draw.draw(st.lists(st.integers(0, g), min_size=2, max_size=2)))
            selection.append(slice(start, stop))
            region.append(slice(start * c, min(stop * c, n)))
    selection, region = tuple(selection), tuple(region)
    np.testing.assert_array_equal(z.blocks[selection], data[region])
    z.blocks[selection] = 77
    data[region] = 77
    np.testing.assert_array_equal(z[...], data)


def test_getitem_routes_like_zarr_python():
    z, data = _array((6, 7), (4, 3))
    np.testing.assert_array_equal(z[[0, 5], [1, 6]], data[[0, 5], [1, 6]])  # coordinates
    np.testing.assert_array_equal(z[[0, 5, 2], :], data[[0, 5, 2], :])  # orthogonal
    np.testing.assert_array_equal(z[:, [3, 1]], data[:, [3, 1]])
    np.testing.assert_array_equal(z[data > 20], data[data > 20])  # mask
    np.testing.assert_array_equal(z[np.array([4, 1, 1])], data[np.array([4, 1, 1])])
    z1, data1 = _array((10,), (3,))
    np.testing.assert_array_equal(z1[np.array([9, 0, 3])], data1[[9, 0, 3]])
    np.testing.assert_array_equal(z1[data1 % 2 == 0], data1[data1 % 2 == 0])
    np.testing.assert_array_equal(z[..., [1, 2]], data[..., [1, 2]])
    z[[0, 1], [0, 0]] = -3
    data[[0, 1], [0, 0]] = -3
    np.testing.assert_array_equal(z[...], data)


def test_one_fetch_and_decode_for_many_points():
    store = CountingStore(MemoryStore())
    z, data = _array((100, 100), (10, 10), store=store)
    rng = np.random.default_rng(1)
    points = (rng.integers(0, 100, 5000), rng.integers(0, 100, 5000))
    store.reset()
    np.testing.assert_array_equal(z.vindex[points], data[points])
    assert store.counts["get_many"] == 1 and store.counts["get_many_keys"] == 100


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda z: z.vindex[[0, 6], [0, 0]], IndexError, "out of bounds for axis 0 with size 6"),
        (lambda z: z.oindex[:, [7]], IndexError, "axis 1 with size 7"),
        (lambda z: z.vindex[np.ones((2, 2), bool)], IndexError, "mask shape"),
        (lambda z: z.oindex[np.ones(5, bool)], IndexError, "length 6"),
        (lambda z: z.vindex[[0.5], [1]], IndexError, "integer"),
        (lambda z: z.vindex[[0, 1], [0, 1, 2]], IndexError, "broadcast"),
        (lambda z: z.blocks[0:2:2], IndexError, "step 1"),
        (lambda z: z.blocks[5], IndexError, "block index 5"),
        (lambda z: z.get_basic_selection([0, 1]), IndexError, "basic"),
    ],
)
def test_bad_selections_raise_with_reason(call, error, match):
    z, _ = _array((6, 7), (4, 3))
    with pytest.raises(error, match=match):
        call(z)


def test_unbroadcastable_write_touches_nothing():
    store = CountingStore(MemoryStore())
    z, data = _array((6, 7), (4, 3), store=store)
    store.reset()
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 2\)"):
        z.oindex[[0, 1], [0, 1]] = np.arange(3)
    with pytest.raises(ValueError, match="broadcast"):
        z.vindex[[0, 1], [0, 1]] = np.arange(3)
    assert sum(store.counts.values()) == 0
    np.testing.assert_array_equal(z[...], data)
