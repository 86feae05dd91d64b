"""Interop with tensorstore (drivers zarr3 and zarr), both directions, on real files."""

from __future__ import annotations

import numpy as np
import pytest

import cuzarr

from .cases import CHUNKS, DTYPES, SHAPE, V3_COMPRESSORS, assert_same, fill_value_for, sample_data

ts = pytest.importorskip("tensorstore")

TS_V3_TYPES = {
    "bool": "bool",
    "i1": "int8",
    "i2": "int16",
    "i4": "int32",
    "i8": "int64",
    "u1": "uint8",
    "u2": "uint16",
    "u4": "uint32",
    "u8": "uint64",
    "f2": "float16",
    "f4": "float32",
    "f8": "float64",
    "c8": "complex64",
    "c16": "complex128",
}


def _ts_fill(dtype: np.dtype, fill):
    if dtype.kind == "c":
        return [fill.real if not np.isnan(fill.real) else "NaN", fill.imag]
    if dtype.kind == "f" and np.isnan(fill):
        return "NaN"
    return fill.item() if hasattr(fill, "item") else fill


def _open_ts(path, driver="zarr3", **kwargs):
    return ts.open({"driver": driver, "kvstore": {"driver": "file", "path": str(path)}}, **kwargs).result()


@pytest.mark.parametrize("codec", list(V3_COMPRESSORS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_zarr3_both_directions(tmp_path, dtype, codec):
    dtype = np.dtype(dtype)
    fill = fill_value_for(dtype)
    data = sample_data(dtype, fill)
    serializer = (
        [{"name": "bytes", "configuration": {"endian": "little"}}]
        if dtype.itemsize > 1
        else [{"name": "bytes"}]
    )
    metadata = {
        "shape": list(SHAPE),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(CHUNKS)}},
        "data_type": TS_V3_TYPES[dtype.str[1:] if dtype.kind != "b" else "bool"],
        "fill_value": _ts_fill(dtype, fill),
        "codecs": serializer + V3_COMPRESSORS[codec],
    }
    t = ts.open(
        {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(tmp_path / "t")}, "metadata": metadata},
        create=True,
    ).result()
    t[...].write(data).result()
    assert_same(cuzarr.open_array(str(tmp_path / "t"), mode="r")[...], data)

    ours = cuzarr.create_array(
        store=str(tmp_path / "o"),
        shape=SHAPE,
        chunks=CHUNKS,
        dtype=dtype,
        fill_value=fill,
        compressors=V3_COMPRESSORS[codec] or None,
    )
    ours[...] = data
    back = _open_ts(tmp_path / "o").read().result()
    assert_same(np.asarray(back), data)


@pytest.mark.parametrize("dtype", ["<i2", ">i2", "<f4", ">f8", "|b1", "<c8", ">u4"])
@pytest.mark.parametrize(
    "compressor",
    [None, {"id": "zstd", "level": 1}, {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}],
)
def test_zarr2_both_directions(tmp_path, dtype, compressor):
    dtype = np.dtype(dtype)
    fill = fill_value_for(dtype)
    data = sample_data(dtype, fill)
    t = ts.open(
        {
            "driver": "zarr",
            "kvstore": {"driver": "file", "path": str(tmp_path / "t")},
            "metadata": {
                "shape": list(SHAPE),
                "chunks": list(CHUNKS),
                "dtype": dtype.str,
                "compressor": compressor,
                "fill_value": _ts_fill(dtype, fill),
            },
        },
        create=True,
    ).result()
    t[...].write(data).result()
    got = cuzarr.open_array(str(tmp_path / "t"), mode="r")
    assert got.dtype == dtype
    assert_same(got[...], data)

    ours = cuzarr.create_array(
        store=str(tmp_path / "o"),
        shape=SHAPE,
        chunks=CHUNKS,
        dtype=dtype,
        fill_value=fill,
        zarr_format=2,
        compressors=compressor,
    )
    ours[...] = data
    assert_same(np.asarray(_open_ts(tmp_path / "o", driver="zarr").read().result()), data)


def test_partial_reads_of_tensorstore_file(tmp_path):
    data = np.arange(40 * 30, dtype="f4").reshape(40, 30)
    metadata = {
        "shape": [40, 30],
        "data_type": "float32",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [7, 11]}},
    }
    t = ts.open(
        {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(tmp_path / "t")}, "metadata": metadata},
        create=True,
    ).result()
    t[...].write(data).result()
    a = cuzarr.open_array(str(tmp_path / "t"), mode="r")
    for sel in [(slice(3, 33, 4), slice(None, None, 3)), (5,), (Ellipsis, 29), (slice(None, None, -2), 3)]:
        assert_same(a[sel], data[sel])
