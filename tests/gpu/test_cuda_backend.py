"""device='cuda' reads and writes equal the CPU backend and return CuPy arrays (needs a GPU)."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest

import cuzarr
from tests.buffer.test_emulated_backend import SELECTIONS, V2_CASES, V3_CASES, make_data

from .test_cuda_backend_on_host import check_device_index_arrays, check_f_order_reads, check_signed_zero

pytestmark = pytest.mark.gpu
cupy = pytest.importorskip("cupy")


def _check(tmp_path, data, **kwargs):
    for writer in ("cuda", "cpu"):
        path = str(tmp_path / writer)
        z = cuzarr.create_array(
            store=path, shape=data.shape, chunks=(8, 12), dtype=data.dtype, device=writer, **kwargs
        )
        z[...] = cupy.asarray(data) if writer == "cuda" else data
        z = cuzarr.open_array(path, device="cuda")
        for sel in SELECTIONS:
            got = z[sel]
            assert isinstance(got, cupy.ndarray)
            np.testing.assert_array_equal(got.get(), data[sel])
        np.testing.assert_array_equal(cuzarr.open_array(path, device="cpu")[...], data)


@pytest.mark.parametrize("case", list(V3_CASES))
@pytest.mark.parametrize("dtype", ["<f4", "<i2", "<u8"])
def test_v3(tmp_path, case, dtype):
    _check(tmp_path, make_data(dtype), **V3_CASES[case])


@pytest.mark.parametrize("case", list(V2_CASES))
def test_v2(tmp_path, case):
    _check(tmp_path, make_data("<f4"), zarr_format=2, **V2_CASES[case])


def test_fallback_codec(tmp_path):
    _check(
        tmp_path,
        make_data("<i4"),
        zarr_format=2,
        compressors=numcodecs.Zstd(),
        filters=[numcodecs.Delta(dtype="<i4")],
    )


@pytest.mark.parametrize("compressors", [cuzarr.codecs.ZstdCodec(), cuzarr.codecs.GzipCodec(), None])
def test_cupy_writes_read_back_by_zarr_python(tmp_path, compressors):
    zarr = pytest.importorskip("zarr")
    data = make_data("<f4", (64, 48))
    z = cuzarr.create_array(
        store=str(tmp_path),
        shape=data.shape,
        chunks=(16, 16),
        dtype="f4",
        compressors=compressors,
        device="cuda",
    )
    z[...] = cupy.asarray(data)
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path), mode="r")[...], data)


def _large(tmp_path, compressors):
    """A 1024 x 1024 float32 array of 64 chunks: batches big enough for decodes to take time."""
    data = make_data("<f4", (1024, 1024))
    z = cuzarr.create_array(
        store=str(tmp_path), shape=data.shape, chunks=(128, 128), dtype="f4", compressors=compressors
    )
    z[...] = data
    return data, cuzarr.open_array(str(tmp_path), device="cuda")


@pytest.mark.parametrize("compressors", [cuzarr.codecs.ZstdCodec(), cuzarr.codecs.BloscCodec(cname="lz4")])
def test_reads_on_a_non_blocking_stream(tmp_path, compressors):
    """Decodes run on the caller's current stream: results are complete when read on it."""
    data, z = _large(tmp_path, compressors)
    with cupy.cuda.Stream(non_blocking=True) as stream:
        for _ in range(3):
            got = z[...]
            stream.synchronize()
            np.testing.assert_array_equal(got.get(), data)


def test_concurrent_reads_from_threads(tmp_path):
    """nvCOMP codecs are thread-local: four threads reading at once all get the right data."""
    from concurrent.futures import ThreadPoolExecutor

    data, z = _large(tmp_path, cuzarr.codecs.ZstdCodec())
    windows = [(slice(i * 128, i * 128 + 384), slice(None)) for i in range(6)]

    def read(window):
        return [z[window].get() for _ in range(3)]

    with ThreadPoolExecutor(4) as pool:
        for window, results in zip(windows, pool.map(read, windows)):
            for got in results:
                np.testing.assert_array_equal(got, data[window])


def test_every_selection_kind_takes_device_index_arrays(tmp_path):
    check_device_index_arrays(tmp_path, cupy)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_f_order_reads(tmp_path, zarr_format):
    check_f_order_reads(tmp_path, cupy, zarr_format)


@pytest.mark.parametrize(("fill", "written"), [(0.0, -0.0), (-0.0, 0.0)])
def test_signed_zero_is_not_the_fill(tmp_path, fill, written):
    check_signed_zero(tmp_path, cupy, fill, written)
