"""device='cuda' reads and writes equal the CPU backend and return CuPy arrays (needs a GPU)."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest

import cuzarr
from tests.buffer.test_emulated_backend import SELECTIONS, V2_CASES, V3_CASES, make_data

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
