"""Interop with zarr-python 3, both directions, on real files: every dtype x codec x format."""

from __future__ import annotations

import json

import numpy as np
import pytest

import cuzarr

from .cases import (
    CHUNKS,
    DTYPES,
    SHAPE,
    V3_COMPRESSORS,
    assert_same,
    fill_value_for,
    sample_data,
    stored_files,
    v2_compressor,
)

zarr = pytest.importorskip("zarr")

CODEC_NAMES = list(V3_COMPRESSORS)


def _v3_kwargs(lib, dtype, endian, codec):
    serializer = {"name": "bytes", "configuration": {"endian": endian}} if dtype.itemsize > 1 else "auto"
    return dict(
        shape=SHAPE,
        chunks=CHUNKS,
        dtype=dtype,
        fill_value=fill_value_for(dtype),
        compressors=V3_COMPRESSORS[codec] or None,
        serializer=serializer,
        attributes={"case": f"{dtype}-{codec}"},
        dimension_names=["y", "x"],
    )


V3_CASES = [
    (dtype, codec, endian)
    for dtype in DTYPES
    for codec in CODEC_NAMES
    for endian in (["little", "big"] if np.dtype(dtype).itemsize > 1 else ["little"])
]
# byte order is meaningless for 1-byte types; memory order is independent of the compressor
V2_CASES = [
    (dtype, codec, byteorder, order)
    for dtype in DTYPES
    for codec in CODEC_NAMES
    for byteorder in (["<", ">"] if np.dtype(dtype).itemsize > 1 else ["|"])
    for order in (["C", "F"] if codec in ("none", "zstd") else ["C"])
]


@pytest.mark.parametrize("dtype,codec,endian", V3_CASES)
def test_v3_both_directions(tmp_path, dtype, codec, endian):
    dtype = np.dtype(dtype)
    fill = fill_value_for(dtype)
    data = sample_data(dtype, fill)
    theirs, ours = tmp_path / "theirs.zarr", tmp_path / "ours.zarr"

    z = zarr.create_array(store=str(theirs), **_v3_kwargs(zarr, dtype, endian, codec))
    z[...] = data
    a = cuzarr.open_array(str(theirs), mode="r")
    assert a.shape == SHAPE and a.chunks == CHUNKS and a.dtype == dtype
    assert a.attrs["case"] == f"{dtype}-{codec}"
    assert_same(a[...], data)
    assert_same(a[2:6, 1:4], data[2:6, 1:4])

    b = cuzarr.create_array(store=str(ours), **_v3_kwargs(cuzarr, dtype, endian, codec))
    b[...] = data
    assert_same(zarr.open_array(str(ours), mode="r")[...], data)

    # byte-for-byte: the same metadata document and the same chunk files
    ours_files, theirs_files = stored_files(ours), stored_files(theirs)
    assert json.loads(ours_files.pop("zarr.json")) == json.loads(theirs_files.pop("zarr.json"))
    assert ours_files.keys() == theirs_files.keys()
    for key in ours_files:
        assert ours_files[key] == theirs_files[key], key


@pytest.mark.parametrize("dtype,codec,byteorder,order", V2_CASES)
def test_v2_both_directions(tmp_path, dtype, codec, byteorder, order):
    dtype = np.dtype(dtype).newbyteorder(byteorder)
    fill = fill_value_for(dtype)
    data = sample_data(dtype, fill)
    theirs, ours = tmp_path / "theirs.zarr", tmp_path / "ours.zarr"
    kwargs = dict(
        shape=SHAPE,
        chunks=CHUNKS,
        dtype=dtype,
        fill_value=fill,
        zarr_format=2,
        compressors=v2_compressor(codec),
        order=order,
        attributes={"n": 1},
    )

    z = zarr.create_array(store=str(theirs), **kwargs)
    z[...] = data
    a = cuzarr.open_array(str(theirs), mode="r")
    assert a.zarr_format == 2 and a.dtype == dtype and a.order == order
    assert_same(a[...], data)

    b = cuzarr.create_array(store=str(ours), **kwargs)
    b[...] = data
    back = zarr.open_array(str(ours), mode="r")
    assert back.dtype == dtype
    assert_same(back[...], data)

    ours_files, theirs_files = stored_files(ours), stored_files(theirs)
    for doc in (".zarray", ".zattrs"):
        assert json.loads(ours_files.pop(doc)) == json.loads(theirs_files.pop(doc)), doc
    assert ours_files.keys() == theirs_files.keys()
    for key in ours_files:
        assert ours_files[key] == theirs_files[key], key


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("separator", ["/", "."])
def test_key_separators(tmp_path, zarr_format, separator):
    data = np.arange(35, dtype="i4").reshape(SHAPE)
    if zarr_format == 3:
        encoding = {"name": "default", "configuration": {"separator": separator}}
    else:
        encoding = {"name": "v2", "separator": separator}
    z = zarr.create_array(
        store=str(tmp_path / "t"),
        shape=SHAPE,
        chunks=CHUNKS,
        dtype="i4",
        zarr_format=zarr_format,
        chunk_key_encoding=encoding,
    )
    z[...] = data
    assert_same(cuzarr.open_array(str(tmp_path / "t"), mode="r")[...], data)
    b = cuzarr.create_array(
        store=str(tmp_path / "o"),
        shape=SHAPE,
        chunks=CHUNKS,
        dtype="i4",
        zarr_format=zarr_format,
        chunk_key_encoding=encoding,
    )
    b[...] = data
    assert stored_files(tmp_path / "o").keys() == stored_files(tmp_path / "t").keys()
    assert_same(zarr.open_array(str(tmp_path / "o"), mode="r")[...], data)


def test_transpose_filter_both_directions(tmp_path):
    data = np.arange(35, dtype="f4").reshape(SHAPE)
    kwargs = dict(
        shape=SHAPE,
        chunks=CHUNKS,
        dtype="f4",
        filters=[{"name": "transpose", "configuration": {"order": [1, 0]}}],
    )
    z = zarr.create_array(store=str(tmp_path / "t"), **kwargs)
    z[...] = data
    assert_same(cuzarr.open_array(str(tmp_path / "t"), mode="r")[...], data)
    b = cuzarr.create_array(store=str(tmp_path / "o"), **kwargs)
    b[...] = data
    assert_same(zarr.open_array(str(tmp_path / "o"), mode="r")[...], data)
    assert stored_files(tmp_path / "o") == stored_files(tmp_path / "t")


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_zero_dim_and_empty_arrays(tmp_path, zarr_format):
    z = zarr.create_array(store=str(tmp_path / "s"), shape=(), dtype="f8", zarr_format=zarr_format)
    z[...] = 3.5
    assert cuzarr.open_array(str(tmp_path / "s"), mode="r")[...] == 3.5
    b = cuzarr.create_array(store=str(tmp_path / "o"), shape=(), dtype="f8", zarr_format=zarr_format)
    b[...] = 4.5
    assert zarr.open_array(str(tmp_path / "o"), mode="r")[...] == 4.5
    cuzarr.create_array(
        store=str(tmp_path / "e"), shape=(0, 4), chunks=(2, 2), dtype="i2", zarr_format=zarr_format
    )
    assert zarr.open_array(str(tmp_path / "e"), mode="r")[...].shape == (0, 4)
