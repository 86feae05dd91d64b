"""resize, append, *_like, from_array, save/load against a NumPy model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cuzarr
from cuzarr.storage import MemoryStore


def _model_resize(model: np.ndarray, shape, fill):
    grown = np.full(shape, fill, dtype=model.dtype)
    common = tuple(slice(0, min(a, b)) for a, b in zip(model.shape, shape))
    grown[common] = model[common]
    return grown


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=4),
    st.tuples(st.integers(1, 4), st.integers(1, 4)),
    st.sampled_from([2, 3]),
)
def test_resize_sequences_match_numpy(shapes, chunks, zarr_format):
    z = cuzarr.create_array(
        store=MemoryStore(), shape=(6, 7), chunks=chunks, dtype="i4", fill_value=-1, zarr_format=zarr_format
    )
    model = np.arange(42, dtype="i4").reshape(6, 7)
    z[...] = model
    for shape in shapes:
        z.resize(shape)
        model = _model_resize(model, shape, -1)
        assert z.shape == shape
        np.testing.assert_array_equal(z[...], model)
    reopened = cuzarr.open_array(z.store, mode="r")
    np.testing.assert_array_equal(reopened[...], model)


def test_resize_deletes_chunks_outside_and_accepts_tuple():
    store = MemoryStore()
    z = cuzarr.create_array(store=store, shape=(8, 8), chunks=(4, 4), dtype="u1", fill_value=0)
    z[...] = 1
    assert z.nchunks_initialized == 4
    z.resize((4, 4))
    assert sorted(k for k in store.list() if k.startswith("c/")) == ["c/0/0"]
    z.resize(8, 8)
    assert z[...].sum() == 16


def test_append_along_axes():
    z = cuzarr.create_array(store=MemoryStore(), shape=(2, 3), chunks=(2, 2), dtype="i4")
    z[...] = 1
    assert z.append(np.full((3, 3), 2)) == (5, 3)
    assert z.append(np.full((5, 1), 3), axis=1) == (5, 4)
    expected = np.ones((5, 4), "i4")
    expected[2:, :3] = 2
    expected[:, 3] = 3
    np.testing.assert_array_equal(z[...], expected)
    with pytest.raises(ValueError, match="axis 1 differs"):
        z.append(np.zeros((1, 2)))


def test_like_functions_copy_layout():
    src = cuzarr.create_array(
        store=MemoryStore(),
        shape=(10, 4),
        chunks=(3, 2),
        dtype="f8",
        compressors=cuzarr.codecs.GzipCodec(level=2),
    )
    for fn, expected in (
        (cuzarr.zeros_like, 0),
        (cuzarr.ones_like, 1),
        (lambda a, **k: cuzarr.full_like(a, 5, **k), 5),
    ):
        b = fn(src, store=MemoryStore())
        assert b.shape == src.shape and b.chunks == src.chunks and b.dtype == src.dtype
        assert b.compressors == src.compressors
        np.testing.assert_array_equal(b[...], np.full((10, 4), expected))
    c = cuzarr.zeros_like(np.zeros((3, 3), "i2"), store=MemoryStore())
    assert c.shape == (3, 3) and c.dtype == np.int16
    store = MemoryStore()
    d = cuzarr.open_like(src, store)
    assert d.chunks == (3, 2)


@pytest.mark.parametrize("source_format,target_format", [(3, 3), (2, 2), (3, 2), (2, 3)])
def test_from_array_keeps_or_changes_settings(source_format, target_format):
    data = np.arange(60, dtype="i2").reshape(6, 10)
    src = cuzarr.create_array(
        store=MemoryStore(),
        shape=data.shape,
        chunks=(4, 4),
        dtype="i2",
        fill_value=3,
        zarr_format=source_format,
        attributes={"a": 1},
    )
    src[...] = data
    b = cuzarr.from_array(MemoryStore(), data=src, zarr_format=target_format)
    assert b.chunks == (4, 4) and b.fill_value == 3 and b.attrs["a"] == 1 and b.zarr_format == target_format
    np.testing.assert_array_equal(b[...], data)
    c = cuzarr.from_array(MemoryStore(), data=src, chunks=(5, 5), compressors=None)
    assert c.chunks == (5, 5) and c.compressors == ()
    np.testing.assert_array_equal(c[...], data)
    d = cuzarr.from_array(MemoryStore(), data=data)
    np.testing.assert_array_equal(d[...], data)


def test_from_array_copies_in_bounded_slabs():
    data = np.arange(1000 * 10, dtype="f8").reshape(1000, 10)
    with cuzarr.config.set(batch_bytes=8 * 10 * 64):
        b = cuzarr.from_array(MemoryStore(), data=data, chunks=(30, 10))
    np.testing.assert_array_equal(b[...], data)


def test_save_and_load(tmp_path):
    data = np.arange(12).reshape(3, 4)
    cuzarr.save(str(tmp_path / "s.zarr"), data)
    np.testing.assert_array_equal(cuzarr.load(str(tmp_path / "s.zarr")), data)
    cuzarr.save_array(str(tmp_path / "s2.zarr"), data * 2, path="x", zarr_format=2)
    np.testing.assert_array_equal(cuzarr.load(str(tmp_path / "s2.zarr"), path="x"), data * 2)
    cuzarr.save(str(tmp_path / "g.zarr"), data, b=data * 3)  # several arrays: a group
    loaded = cuzarr.load(str(tmp_path / "g.zarr"))
    assert sorted(loaded) == ["arr_0", "b"]
    np.testing.assert_array_equal(loaded["b"], data * 3)
