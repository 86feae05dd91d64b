"""``device="cuda"`` end to end without a GPU: the real ``CUDABackend`` and ``CudaOps`` over
stand-ins for CuPy (``fake_cupy``: keeps CuPy's host/device border) and nvCOMP (``fake_nvcomp``),
with the kernel sources compiled for the host. A host/device mix-up, a wrong nvCOMP call or a
kernel bug in the CUDA path fails here, in the CPU suite; the GPU suite repeats the checks on a GPU.
"""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest

import cuzarr
from tests.buffer.test_emulated_backend import SELECTIONS, V2_CASES, V3_CASES, make_data

from . import fake_cupy


@pytest.fixture
def cupy(monkeypatch):
    return fake_cupy.install(monkeypatch)


def test_fake_cupy_refuses_what_cupy_refuses(cupy):
    device = cupy.asarray(np.arange(6.0))
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(device)
    with pytest.raises(TypeError, match="Unsupported type"):
        device + np.arange(6.0)
    host = np.zeros(6)
    with pytest.raises(TypeError):
        host[...] = device
    device[...] = np.ones(6)  # host to device on assignment is allowed, as in CuPy
    np.testing.assert_array_equal(device.get(), np.ones(6))
    assert isinstance(device[1:3], cupy.ndarray) and bool((device == 1).all())


def _check(tmp_path, cupy, data, **kwargs):
    """Write with device='cuda' (from a CuPy array) and the CPU; read both back on the device."""
    for writer in ("cuda", "cpu"):
        path = str(tmp_path / writer)
        z = cuzarr.create_array(
            store=path, shape=data.shape, chunks=(8, 12), dtype=data.dtype, device=writer, **kwargs
        )
        z[...] = cupy.asarray(data) if writer == "cuda" else data
        z[2:5, 3:4] = cupy.asarray(data[2:5, 3:4]) if writer == "cuda" else data[2:5, 3:4]
        z = cuzarr.open_array(path, device="cuda")
        for sel in SELECTIONS:
            got = z[sel]
            assert isinstance(got, cupy.ndarray), (sel, type(got))
            np.testing.assert_array_equal(got.get(), data[sel])
        np.testing.assert_array_equal(cuzarr.open_array(path, device="cpu")[...], data)


@pytest.mark.parametrize("case", list(V3_CASES))
def test_v3(tmp_path, cupy, case):
    _check(tmp_path, cupy, make_data("<f4"), **V3_CASES[case])


@pytest.mark.parametrize("case", list(V2_CASES))
def test_v2(tmp_path, cupy, case):
    _check(tmp_path, cupy, make_data("<i2"), zarr_format=2, **V2_CASES[case])


@pytest.mark.parametrize("dtype", ["|b1", "<c16", "<u8", "|i1"])
def test_more_dtypes(tmp_path, cupy, dtype):
    _check(tmp_path, cupy, make_data(dtype), compressors=cuzarr.codecs.ZstdCodec())


def test_fallback_codec(tmp_path, cupy):
    kwargs = dict(zarr_format=2, compressors=numcodecs.Zstd(), filters=[numcodecs.Delta(dtype="<i4")])
    _check(tmp_path, cupy, make_data("<i4"), **kwargs)


def test_sharded(tmp_path, cupy):
    data = make_data("<f8", (48, 40))
    for writer in ("cuda", "cpu"):
        path = str(tmp_path / writer)
        z = cuzarr.create_array(
            store=path, shape=data.shape, chunks=(8, 8), shards=(16, 24), dtype="f8", device=writer
        )
        z[...] = cupy.asarray(data) if writer == "cuda" else data
        got = cuzarr.open_array(path, device="cuda")[5:40, 3:]
        np.testing.assert_array_equal(got.get(), data[5:40, 3:])


def test_index_arrays_and_fill_values(tmp_path, cupy):
    data = make_data("<f4", (40, 30))
    z = cuzarr.create_array(store=str(tmp_path), shape=(50, 30), chunks=(8, 8), dtype="f4", fill_value=-1)
    z[:40] = data
    z = cuzarr.open_array(str(tmp_path), device="cuda")
    expected = np.full((50, 30), -1, np.float32)
    expected[:40] = data
    rows, cols = np.array([0, 7, 8, 45, 3]), np.array([1, 29, 2, 2, 0])
    np.testing.assert_array_equal(z.vindex[rows, cols].get(), expected[rows, cols])
    np.testing.assert_array_equal(
        z.vindex[cupy.asarray(rows), cupy.asarray(cols)].get(), expected[rows, cols]
    )
    np.testing.assert_array_equal(z.oindex[rows, 4:9].get(), expected[rows, 4:9])
    np.testing.assert_array_equal(z[42:48].get(), expected[42:48])  # never written: the fill value
    z.vindex[cupy.asarray(rows), cupy.asarray(cols)] = cupy.asarray(np.arange(5, dtype="f4"))
    expected[rows, cols] = np.arange(5)
    np.testing.assert_array_equal(cuzarr.open_array(str(tmp_path))[...], expected)


def test_nvcomp_sees_one_batch_per_codec_step(tmp_path, cupy):
    data = make_data("<f4", (64, 48))
    z = cuzarr.create_array(
        store=str(tmp_path),
        shape=data.shape,
        chunks=(16, 16),
        dtype="f4",
        compressors=cuzarr.codecs.ZstdCodec(),
    )
    z[...] = data
    cupy.nvcomp_calls.clear()
    np.testing.assert_array_equal(cuzarr.open_array(str(tmp_path), device="cuda")[...].get(), data)
    decodes = [args for name, args, _ in cupy.nvcomp_calls if name == "Codec.decode"]
    assert len(decodes) == 1 and len(decodes[0][0]) == 12  # all 12 chunks in one call


def test_every_selection_kind_takes_device_index_arrays(tmp_path, cupy):
    check_device_index_arrays(tmp_path, cupy)


def check_device_index_arrays(tmp_path, cupy):
    """Index arrays may live on the device (``z.vindex[idx_gpu, :]``): they are planned on the host.
    (``test_cuda_backend`` runs this with the real CuPy.)"""
    data = make_data("<i4", (20, 16))
    z = cuzarr.create_array(store=str(tmp_path), shape=data.shape, chunks=(8, 6), dtype="i4", device="cuda")
    z[...] = cupy.asarray(data)
    rows, cols = np.array([3, 19, 0, 8]), np.array([15, 2, 2, 7])
    mask = (data % 3) == 0
    picks = np.zeros(16, bool)
    picks[[1, 5, 6, 12]] = True
    d_rows, d_cols, d_mask, d_picks = map(cupy.asarray, (rows, cols, mask, picks))
    reads = [
        (z.vindex[d_rows, d_cols], data[rows, cols]),
        (z.vindex[d_mask], data[mask]),
        (z[d_mask], data[mask]),
        (z.oindex[d_rows, d_picks], data[np.ix_(rows, picks)]),
        (z.oindex[d_rows, 2:9], data[rows, 2:9]),
        (z[d_rows], data[rows]),
        (z.get_coordinate_selection((d_rows, d_cols)), data[rows, cols]),
    ]
    for got, expected in reads:
        assert isinstance(got, cupy.ndarray)
        np.testing.assert_array_equal(got.get(), expected)
    expected = data.copy()
    z.oindex[d_rows, d_picks] = cupy.asarray(-np.ones((4, 4), "i4"))
    expected[np.ix_(rows, picks)] = -1
    z.vindex[d_mask] = cupy.asarray(np.full(int(mask.sum()), 7, "i4"))
    expected[mask] = 7
    np.testing.assert_array_equal(cuzarr.open_array(str(tmp_path))[...], expected)


def check_f_order_reads(tmp_path, cupy, zarr_format):
    """Reads return the array's memory order on the device too (CuPy allocates the output F)."""
    data = make_data("<f4")
    order = {"order": "F"} if zarr_format == 2 else {"config": {"order": "F"}}
    path = str(tmp_path / "f")
    writer = cuzarr.create_array(
        store=path, shape=data.shape, chunks=(8, 12), dtype="<f4", zarr_format=zarr_format, **order
    )
    writer[...] = data
    z = cuzarr.open_array(path, device="cuda", config={"order": "F"})
    for sel in SELECTIONS:
        got = z[sel]
        assert isinstance(got, cupy.ndarray)
        np.testing.assert_array_equal(got.get(), data[sel])
    assert z[...].flags.f_contiguous


def check_signed_zero(tmp_path, cupy, fill, written):
    """CUDABackend.all_equal: a device chunk of -0.0 is not the fill 0.0 (and back)."""
    z = cuzarr.create_array(
        store=str(tmp_path / "z"), shape=(4,), chunks=(2,), dtype="f8", fill_value=fill, device="cuda"
    )
    z[:] = cupy.asarray(np.full(4, written))
    assert z.nchunks_initialized == 2
    assert np.signbit(z[:].get()).tolist() == [bool(np.signbit(written))] * 4
    z[:] = cupy.asarray(np.full(4, fill))
    assert z.nchunks_initialized == 0


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_f_order_reads_on_the_device(tmp_path, cupy, zarr_format):
    check_f_order_reads(tmp_path, cupy, zarr_format)


@pytest.mark.parametrize(("fill", "written"), [(0.0, -0.0), (-0.0, 0.0)])
def test_signed_zero_chunks_are_written_from_the_device(tmp_path, cupy, fill, written):
    check_signed_zero(tmp_path, cupy, fill, written)
