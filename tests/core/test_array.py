"""Array reads and writes against a NumPy model; fill values, empty chunks, batching."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cuzarr
from cuzarr.storage import MemoryStore
from cuzarr.storage.wrappers import CountingStore

from .read_paths import host_read_path  # noqa: F401 - autouse: both CPU read paths
from .test_plan import array_and_selection


def _make(shape, chunks, dtype="i4", fill=-1, store=None, **kwargs):
    return cuzarr.create_array(
        store=store if store is not None else MemoryStore(),
        shape=shape,
        chunks=chunks,
        dtype=dtype,
        fill_value=fill,
        **kwargs,
    )


@settings(max_examples=150, deadline=None)
@given(array_and_selection(), st.sampled_from([2, 3]), st.booleans())
def test_basic_selection_read_write_matches_numpy(case, zarr_format, scalar):
    shape, chunks, selection = case
    model = np.full(shape, -1, dtype="i4")
    z = _make(shape, chunks, zarr_format=zarr_format)
    initial = np.arange(model.size, dtype="i4").reshape(shape)
    z[...] = initial
    model[...] = initial
    value = (
        np.int32(99)
        if scalar
        else -np.arange(model[selection].size, dtype="i4").reshape(model[selection].shape)
    )
    z[selection] = value
    model[selection] = value
    np.testing.assert_array_equal(z[...], model)
    np.testing.assert_array_equal(z[selection], model[selection])


def test_integer_index_returns_scalar_and_0d():
    z = _make((4, 5), (2, 2))
    z[...] = np.arange(20).reshape(4, 5)
    assert z[1, 2] == 7 and np.ndim(z[1, 2]) == 0
    s = cuzarr.create_array(store={}, shape=(), dtype="f8", fill_value=1.5)
    assert s[()] == 1.5
    s[...] = 2.5
    assert s[...] == 2.5


def test_missing_chunks_read_as_fill_value_and_fill_chunks_are_not_written():
    store = MemoryStore()
    z = _make((10, 10), (5, 5), dtype="f8", fill=np.nan, store=store)
    assert np.isnan(z[...]).all()
    z[0:5, 0:5] = 1.0
    z[5:10, 5:10] = np.nan
    assert sorted(k for k in store.list() if "/c/" in k or k.startswith("c/")) == ["c/0/0"]
    z[0:5, 0:5] = np.nan  # overwriting with the fill value deletes the chunk
    assert z.nchunks_initialized == 0


def test_write_empty_chunks_true_keeps_fill_chunks():
    store = MemoryStore()
    z = _make((4,), (2,), store=store, config={"write_empty_chunks": True})
    z[...] = -1
    assert z.nchunks_initialized == 2


def test_edge_chunks_are_padded_with_fill_value():
    store = MemoryStore()
    z = _make((5,), (4,), dtype="u1", fill=9, store=store, compressors=None)
    z[...] = np.arange(5, dtype="u1")
    assert store.get("c/1") == bytes([4, 9, 9, 9])
    z[4] = 7
    assert store.get("c/1") == bytes([7, 9, 9, 9])


def test_broadcasting_and_casting_on_write():
    z = _make((3, 4), (2, 3))
    z[:, 1] = 5
    z[0] = np.arange(4, dtype="f8")
    z[1:, :] = np.array([1, 2, 3, 4])
    expected = np.full((3, 4), -1)
    expected[:, 1] = 5
    expected[0] = np.arange(4)
    expected[1:, :] = [1, 2, 3, 4]
    np.testing.assert_array_equal(z[...], expected)
    with pytest.raises(ValueError, match="broadcast"):
        z[0:2, 0:2] = np.zeros((3, 3))


def test_out_parameter_and_negative_steps():
    z = _make((6, 6), (4, 4))
    data = np.arange(36, dtype="i4").reshape(6, 6)
    z[...] = data
    out = np.empty((3, 6), dtype="i4")
    assert z.get_basic_selection((slice(None, None, -2), slice(None)), out=out) is out
    np.testing.assert_array_equal(out, data[::-2])
    with pytest.raises(ValueError, match="out="):
        z.get_basic_selection(..., out=np.empty((2, 2), dtype="i4"))


@pytest.mark.parametrize("selection", [(6,), (0, 6), (-7,), (slice(None), slice(None), 0)])
def test_out_of_range_raises_index_error(selection):
    with pytest.raises(IndexError):
        _make((6, 6), (4, 4))[selection]


def test_batches_bound_memory_and_group_requests():
    store = CountingStore(MemoryStore())
    z = _make((64, 64), (8, 8), store=store, compressors=None)
    data = np.arange(64 * 64, dtype="i4").reshape(64, 64)
    z[...] = data
    for threads, requests in [(1, 64 // 16), (2, 64 // 8)]:  # with prefetching, batches of half size
        store.reset()
        with cuzarr.config.set(batch_bytes=16 * 8 * 8 * 4, threads=threads):  # 16 chunks per batch
            np.testing.assert_array_equal(z[...], data)
        assert store.counts["get_many"] == requests
    store.reset()
    np.testing.assert_array_equal(z[...], data)
    assert store.counts["get_many"] == 1
    assert store.counts["get_many_keys"] == 64


def test_read_only_array_refuses_writes_and_changes_nothing(tmp_path):
    z = _make((4, 4), (2, 2), store=str(tmp_path / "a"))
    z[...] = 1
    before = {p: p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    r = cuzarr.open_array(str(tmp_path / "a"), mode="r")
    assert r.read_only
    for write in (lambda: r.__setitem__((0, 0), 5), lambda: r.attrs.__setitem__("a", 1)):
        with pytest.raises(cuzarr.errors.ReadOnlyError):
            write()
    after = {p: p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    assert before == after


def test_failed_write_leaves_previous_chunks_readable(tmp_path, monkeypatch):
    z = _make((8,), (2,), store=str(tmp_path / "a"))
    z[...] = np.arange(8)
    import cuzarr.codecs.chain as chain_module

    original = chain_module.CodecChain.encode

    def failing(self, chunk, *, key=None):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(chain_module.CodecChain, "encode", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        z[...] = 100
    monkeypatch.setattr(chain_module.CodecChain, "encode", original)
    np.testing.assert_array_equal(cuzarr.open_array(str(tmp_path / "a"), mode="r")[...], np.arange(8))


def test_a_write_failing_on_one_chunk_leaves_every_chunk_old_or_new(tmp_path, monkeypatch):
    z = _make((40,), (2,), store=str(tmp_path / "a"))
    z[...] = np.arange(40)
    import cuzarr.codecs.chain as chain_module

    original = chain_module.CodecChain.encode

    def failing_on_c7(self, chunk, *, key=None):
        if key is not None and key.endswith("c/7"):
            raise RuntimeError("disk on fire")
        return original(self, chunk, key=key)

    monkeypatch.setattr(chain_module.CodecChain, "encode", failing_on_c7)
    with pytest.raises(RuntimeError, match="disk on fire"):
        z[...] = np.arange(40) + 100
    after = cuzarr.open_array(str(tmp_path / "a"), mode="r")[...].reshape(20, 2)
    old = np.arange(40).reshape(20, 2)
    assert np.array_equal(after[7], old[7])
    assert all(np.array_equal(a, o) or np.array_equal(a, o + 100) for a, o in zip(after, old))


def test_corrupt_chunk_raises_codec_error_naming_key():
    store = MemoryStore()
    z = _make((4,), (2,), store=store)
    z[...] = np.arange(4)
    store.set("c/1", b"\x28\xb5\x2f\xfd garbage")
    with pytest.raises(cuzarr.errors.CodecError, match="c/1"):
        z[...]
    np.testing.assert_array_equal(z[0:2], [0, 1])


def test_attributes_persist_and_reject_non_json():
    store = MemoryStore()
    z = _make((2,), (1,), store=store)
    z.attrs["units"] = "K"
    z.attrs.update({"scale": 2.5, "tags": ["a", "b"]})
    assert dict(cuzarr.open_array(store, mode="r").attrs) == {"units": "K", "scale": 2.5, "tags": ["a", "b"]}
    with pytest.raises(TypeError, match="'bad'"):
        z.attrs["bad"] = object()
    del z.attrs["units"]
    assert "units" not in cuzarr.open_array(store, mode="r").attrs


def test_properties_and_info():
    z = _make((10, 7), (4, 3), dtype="f4", fill=0)
    assert (z.ndim, z.size, z.nbytes, z.cdata_shape, z.nchunks) == (2, 70, 280, (3, 3), 9)
    assert z.order == "C" and z.zarr_format == 3 and z.shards is None
    text = repr(z.info)
    assert "Chunk shape" in text and "(4, 3)" in text and "Zstd" in text
    assert np.asarray(z).shape == (10, 7)
    assert len(z) == 10


def test_info_complete_iteration_and_dimension_names():
    z = cuzarr.create_array(
        store=MemoryStore(),
        shape=(10, 4),
        chunks=(3, 4),
        dtype="i2",
        fill_value=0,
        dimension_names=["t", None],
    )
    z[0:6] = np.arange(24).reshape(6, 4)
    info = z.info_complete()
    assert info["Chunks Initialized"] == "2/4"
    assert "Storage ratio" in repr(info) and "Chunk shape" in repr(z.info)
    assert z.dimension_names == ("t", None)
    rows = list(z)
    assert len(rows) == 10
    np.testing.assert_array_equal(np.stack(rows), z[...])


def test_with_config_changes_write_empty_chunks():
    store = MemoryStore()
    z = cuzarr.create_array(store=store, shape=(4,), chunks=(2,), dtype="i4", fill_value=0)
    z.with_config({"write_empty_chunks": True})[...] = 0
    assert z.nchunks_initialized == 2


def test_with_device_reads_the_same_array_elsewhere(tmp_path):
    z = cuzarr.create_array(store=str(tmp_path), shape=(10, 6), chunks=(4, 4), dtype="i4", fill_value=-1)
    z[2:8] = np.arange(36).reshape(6, 6)
    moved = z.with_device("emulated")
    assert moved.device == "emulated" and z.device == "cpu"
    assert moved.metadata == z.metadata and moved.read_only == z.read_only
    np.testing.assert_array_equal(moved[...], z[...])
