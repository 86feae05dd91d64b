"""Dask reads and chunk-aligned parallel writes, threaded and on a process-based cluster."""

from __future__ import annotations

import numpy as np
import pytest

import cuzarr

da = pytest.importorskip("dask.array")
from cuzarr.integrations.dask import aligned_chunks, from_dask, to_dask  # noqa: E402


def test_to_dask_defaults_to_array_chunks(local_array, data):
    x = to_dask(local_array)
    assert x.chunksize == local_array.chunks and x.dtype == data.dtype
    assert isinstance(x._meta, np.ndarray)
    np.testing.assert_array_equal(x.compute(), data)
    np.testing.assert_allclose(x[5:37, ::3].sum().compute(), data[5:37, ::3].sum(), rtol=1e-5)


def test_to_dask_with_multiples_of_chunks(local_array, data):
    x = to_dask(local_array, chunks=(20, 16))
    assert x.chunks[0] == (20, 20, 20) and x.chunks[1] == (16, 8)
    np.testing.assert_array_equal(x.compute(), data)


def test_dask_from_array_and_store_accept_cuzarr_arrays(tmp_path, local_array, data):
    x = da.from_array(local_array, chunks=local_array.chunks)
    target = cuzarr.create_array(str(tmp_path / "t.zarr"), shape=data.shape, chunks=(10, 8), dtype="f4")
    da.store(x * 2, target)
    np.testing.assert_array_equal(target[...], data * 2)


def test_aligned_chunks():
    assert aligned_chunks(((10, 10, 5), (8,)), (5, 8)) is None
    assert aligned_chunks(((7, 7, 7), (8,)), (5, 8)) == (5, (8,))
    assert aligned_chunks(((16, 4),), (5,)) == (15,)


def test_from_dask_creates_and_aligns(tmp_path, data):
    darr = da.from_array(data, chunks=(7, 9))  # misaligned with the target's (10, 8) chunks
    z = from_dask(darr, str(tmp_path / "n.zarr"), chunks=(10, 8))
    assert isinstance(z, cuzarr.Array) and z.chunks == (10, 8)
    np.testing.assert_array_equal(cuzarr.open_array(str(tmp_path / "n.zarr"), mode="r")[...], data)


def test_from_dask_defaults_chunks_to_dask_chunksize(data):
    z = from_dask(da.from_array(data, chunks=(20, 12)), None)
    assert z.chunks == (20, 12)
    np.testing.assert_array_equal(z[...], data)


def test_from_dask_into_existing_sharded_array(data):
    z = cuzarr.create_array(None, shape=data.shape, chunks=(5, 4), shards=(20, 8), dtype="f4")
    from_dask(da.from_array(data, chunks=(10, 12)), z)  # rechunked to whole shards
    np.testing.assert_array_equal(z[...], data)
    with pytest.raises(ValueError, match="does not match"):
        from_dask(da.from_array(data[:5]), z)
    with pytest.raises(TypeError):
        from_dask(da.from_array(data), z, chunks=(5, 5))


def test_emulated_device_reads_and_writes(tmp_path, local_array, data):
    z = cuzarr.open_array(local_array.store, mode="r", device="emulated")
    np.testing.assert_array_equal(to_dask(z).compute(scheduler="threads"), data)
    out = from_dask(to_dask(z) + 1, str(tmp_path / "e.zarr"), chunks=(10, 8), device="emulated")
    np.testing.assert_array_equal(out[...], data + 1)


def test_local_cluster_processes_read_and_write(tmp_path, data):
    distributed = pytest.importorskip("dask.distributed")
    source = cuzarr.create_array(str(tmp_path / "s.zarr"), shape=data.shape, chunks=(10, 8), dtype="f4")
    source[...] = data
    with (
        distributed.LocalCluster(
            processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        x = to_dask(source)
        assert float(x.sum().compute()) == pytest.approx(float(data.sum()), rel=1e-5)
        out = from_dask(x * 3, str(tmp_path / "out.zarr"), chunks=(10, 8))
        emulated = cuzarr.open_array(str(tmp_path / "s.zarr"), mode="r", device="emulated")
        np.testing.assert_array_equal(to_dask(emulated).compute(), data)
    np.testing.assert_array_equal(cuzarr.open_array(out.store, mode="r")[...], data * 3)


@pytest.mark.gpu
def test_cuda_arrays_give_cupy_meta_and_chunks(local_array, data):
    import cupy

    z = cuzarr.open_array(local_array.store, mode="r", device="cuda")
    x = to_dask(z)
    assert isinstance(x._meta, cupy.ndarray)
    result = x.compute()
    assert isinstance(result, cupy.ndarray)
    np.testing.assert_array_equal(cupy.asnumpy(result), data)
    out = from_dask(x * 2, None, chunks=(10, 8), device="cuda")
    np.testing.assert_array_equal(cupy.asnumpy(out[...]), data * 2)
