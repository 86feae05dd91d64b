"""zarr-python's ``Array`` members: ``open``, ``store_path``, ``config``, ``async_array`` and the
deprecated ``compressor`` and ``create``, compared with zarr-python where it has them."""

from __future__ import annotations

import warnings

import numcodecs
import numpy as np
import pytest

import cuzarr
from cuzarr.core.array_config import ArrayConfig
from cuzarr.errors import ArrayNotFoundError, NodeTypeValidationError, ZarrDeprecationWarning
from cuzarr.storage import MemoryStore, StorePath

zarr = pytest.importorskip("zarr")


# -- compressor (deprecated) -------------------------------------------------------------------


@pytest.mark.parametrize("compressors", [numcodecs.Zstd(level=1), None], ids=["zstd", "none"])
def test_v2_compressor_is_the_one_compressor_as_in_zarr(compressors):
    kwargs = dict(shape=(4,), chunks=(2,), dtype="i4", zarr_format=2, compressors=compressors)
    ours = cuzarr.create_array({}, **kwargs)
    theirs = zarr.create_array({}, **kwargs)
    with pytest.warns(ZarrDeprecationWarning, match="Array.compressors"):
        compressor = ours.compressor
    with pytest.warns(DeprecationWarning):
        expected = theirs.compressor
    assert compressor == expected
    assert compressor is None or compressor is ours.compressors[0]


def test_v3_compressor_is_a_type_error_as_in_zarr():
    ours = cuzarr.create_array({}, shape=(4,), dtype="i4")
    theirs = zarr.create_array({}, shape=(4,), dtype="i4")
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="Zarr format 3"):
        theirs.compressor  # noqa: B018
    with pytest.warns(ZarrDeprecationWarning), pytest.raises(TypeError, match="Zarr format 3 arrays") as info:
        ours.compressor  # noqa: B018
    assert f"'{ours.name}'" in str(info.value)


# -- open ----------------------------------------------------------------------------------------


def test_open_reads_the_array_at_a_store_a_path_or_a_store_path(tmp_path):
    data = np.arange(12).reshape(3, 4)
    store = MemoryStore()
    cuzarr.create_array(store, name="a/b", data=data, chunks=(2, 2))
    by_path = cuzarr.Array.open(store, path="a/b")
    by_store_path = cuzarr.Array.open(StorePath(store, "a") / "b")
    for opened in (by_path, by_store_path):
        assert opened.path == "a/b" and not opened.read_only
        np.testing.assert_array_equal(opened[...], data)
    assert cuzarr.Array.open(store, path="a/b", read_only=True).read_only


def test_open_a_v2_array_written_by_zarr(tmp_path):
    path = str(tmp_path / "v2.zarr")
    zarr.create_array(path, shape=(5,), chunks=(2,), dtype="f8", zarr_format=2)[...] = np.arange(5.0)
    opened = cuzarr.Array.open(path)
    assert opened.zarr_format == 2
    np.testing.assert_array_equal(opened[...], np.arange(5.0))
    with pytest.raises(ArrayNotFoundError):
        cuzarr.Array.open(path, zarr_format=3)


def test_open_refuses_groups_and_missing_nodes():
    store = MemoryStore()
    cuzarr.create_group(store, path="g")
    with pytest.raises(NodeTypeValidationError, match="path 'g'.*is a group"):
        cuzarr.Array.open(store, path="g")
    with pytest.raises(ArrayNotFoundError, match="path 'nothing'"):
        cuzarr.Array.open(store, path="nothing")


def test_open_takes_runtime_settings():
    store = MemoryStore()
    cuzarr.create_array(store, shape=(4,), chunks=(2,), dtype="i4", fill_value=0)
    opened = cuzarr.Array.open(store, config={"write_empty_chunks": True})
    opened[...] = 0
    assert opened.config.write_empty_chunks and opened.nchunks_initialized == 2


# -- create (deprecated) -------------------------------------------------------------------------


def test_create_warns_and_makes_a_v3_array_zarr_reads(tmp_path):
    path = str(tmp_path / "c.zarr")
    with pytest.warns(ZarrDeprecationWarning, match="cuzarr.create_array"):
        created = cuzarr.Array.create(path, shape=(6,), dtype="i2", chunk_shape=(4,), fill_value=3)
    assert isinstance(created, cuzarr.Array)
    theirs = zarr.open_array(path, mode="r")
    assert theirs.chunks == (4,) and theirs.fill_value == 3 and theirs.dtype == np.dtype("i2")


def test_create_v2_with_chunks_and_compressor_at_a_store_path():
    store = MemoryStore()
    compressor = numcodecs.Zlib(level=2)
    with pytest.warns(ZarrDeprecationWarning):
        created = cuzarr.Array.create(
            StorePath(store, "x"), shape=(5,), dtype="f4", zarr_format=2, chunks=(2,), compressor=compressor
        )
    assert created.path == "x" and created.chunks == (2,) and created.compressors == (compressor,)
    with pytest.warns(ZarrDeprecationWarning), pytest.raises(cuzarr.errors.ContainsArrayError):
        cuzarr.Array.create(StorePath(store, "x"), shape=(5,), dtype="f4", zarr_format=2)
    with pytest.warns(ZarrDeprecationWarning):
        replaced = cuzarr.Array.create(
            StorePath(store, "x"), shape=(2,), dtype="f4", zarr_format=2, overwrite=True
        )
    assert replaced.shape == (2,) and replaced.compressors != (compressor,)


# -- store_path, config, async_array ---------------------------------------------------------------


def test_store_path_of_arrays_and_groups():
    store = MemoryStore()
    group = cuzarr.group(store, path="g")
    array = group.create_array("x", shape=(1,), dtype="i4")
    assert array.store_path == StorePath(store, "g/x") == group.store_path / "x"
    assert array.store_path.store is store and array.store_path.path == array.path
    assert cuzarr.group(store).store_path == StorePath(store)


def test_config_holds_zarrs_fields_and_follows_the_settings():
    theirs = zarr.create_array({}, shape=(2,), dtype="i4").config
    ours = cuzarr.create_array({}, shape=(2,), dtype="i4")
    assert isinstance(ours.config, ArrayConfig)
    assert (ours.config.order, ours.config.write_empty_chunks) == (theirs.order, theirs.write_empty_chunks)
    assert ours.with_config({"write_empty_chunks": True}).config.write_empty_chunks
    assert ours.with_config(ArrayConfig(order="C", write_empty_chunks=True)).config.write_empty_chunks
    with cuzarr.config.set(write_empty_chunks=True):
        assert ours.config.write_empty_chunks  # unset per array: the global setting now
    assert not ours.config.write_empty_chunks


def test_config_order_is_the_order_reads_return():
    """As in zarr-python: a v2 array's stored order is the layout reads return, whatever the
    runtime config (which still says its own value)."""
    array = cuzarr.create_array({}, shape=(3, 4), chunks=(2, 2), dtype="i4", zarr_format=2, order="F")
    theirs = zarr.create_array({}, shape=(3, 4), chunks=(2, 2), dtype="i4", zarr_format=2, order="F")
    array[...] = np.arange(12).reshape(3, 4)
    assert (array.order, array.config.order) == (theirs.order, theirs.config.order) == ("F", "C")
    assert array[...].flags.f_contiguous


def test_async_array_wraps_the_same_array():
    array = cuzarr.create_array({}, shape=(4,), chunks=(2,), dtype="i4")
    wrapped = array.async_array
    assert isinstance(wrapped, cuzarr.AsyncArray)
    assert wrapped.store is array.store and wrapped.path == array.path and wrapped.shape == array.shape


def test_new_members_do_not_warn():
    array = cuzarr.create_array({}, shape=(4,), dtype="i4")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _ = array.config, array.store_path, array.async_array, array.compressors
