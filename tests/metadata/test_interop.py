"""Metadata written by zarr-python 3 / tensorstore parses, and ours is byte-identical to zarr-python's."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from cuzarr.metadata import V3_DATA_TYPES, ArrayMetadataV2, ArrayMetadataV3, GroupMetadataV2, GroupMetadataV3

zarr = pytest.importorskip("zarr")

V3_NAMES = list(V3_DATA_TYPES)
V2_DTYPES = [
    "|b1",
    "|i1",
    "|u1",
    "<i2",
    ">i2",
    "<i4",
    ">i8",
    "<u2",
    ">u4",
    "<u8",
    "<f2",
    ">f2",
    "<f4",
    ">f4",
    "<f8",
    ">f8",
    "<c8",
    ">c8",
    "<c16",
    ">c16",
]


def _fill_values(dtype: np.dtype) -> list:
    if dtype.kind == "f":
        return [None, 1.5, math.nan, math.inf, -math.inf, -0.0]
    if dtype.kind == "c":
        return [None, complex(1, -2), complex(math.nan, math.inf), complex(-math.inf, math.nan)]
    if dtype.kind == "b":
        return [None, True]
    info = np.iinfo(dtype)
    return [None, int(info.max), int(info.min)]


def _cases(dtypes):
    return [(d, fv) for d in dtypes for fv in _fill_values(np.dtype(d))]


def _zarr_documents(zarr_format: int, **kwargs) -> dict[str, bytes]:
    store: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.create_array(store=store, zarr_format=zarr_format, **kwargs)
    return {k: v.to_bytes() for k, v in store.items()}


@pytest.mark.parametrize("dtype,fill", _cases(V3_NAMES))
def test_v3_matches_zarr_python(dtype, fill):
    docs = _zarr_documents(
        3,
        shape=(10, 3),
        chunks=(4, 3),
        dtype=dtype,
        fill_value=fill,
        attributes={"k": [1, "x"]},
        dimension_names=["y", None],
    )
    raw = docs["zarr.json"]
    m = ArrayMetadataV3.from_json(raw, source="zarr.json")
    assert m.data_type == np.dtype(dtype) and m.shape == (10, 3) and m.chunk_shape == (4, 3)
    assert m.to_json() == json.loads(raw)
    assert m.to_bytes() == raw


@pytest.mark.parametrize("dtype,fill", _cases(V2_DTYPES))
def test_v2_matches_zarr_python(dtype, fill):
    docs = _zarr_documents(2, shape=(7,), chunks=(3,), dtype=dtype, fill_value=fill, attributes={"k": 1})
    raw = docs[".zarray"]
    m = ArrayMetadataV2.from_json(raw, docs[".zattrs"], source=".zarray")
    assert m.dtype == np.dtype(dtype) and m.dtype.str == dtype
    assert m.to_json() == json.loads(raw)
    assert m.to_bytes() == raw
    assert m.attributes_bytes() == docs[".zattrs"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shape": (), "dtype": "i4"},
        {"shape": (0, 5), "chunks": (2, 2), "dtype": "u2"},
        {"shape": (100, 100), "chunks": (10, 10), "dtype": "f8", "chunk_key_encoding": {"name": "v2"}},
        {
            "shape": (100,),
            "chunks": (10,),
            "dtype": "f4",
            "chunk_key_encoding": {"name": "default", "separator": "."},
        },
        {"shape": (64, 64), "chunks": (16, 16), "shards": (32, 32), "dtype": "i2"},
        {
            "shape": (10, 10),
            "dtype": "f4",
            "filters": [{"name": "transpose", "configuration": {"order": [1, 0]}}],
        },
        {"shape": (10,), "dtype": "u1", "compressors": [{"name": "gzip", "configuration": {"level": 3}}]},
        {"shape": (10,), "dtype": ">f8", "compressors": None},
    ],
)
def test_v3_layouts_match(kwargs):
    raw = _zarr_documents(3, **kwargs)["zarr.json"]
    m = ArrayMetadataV3.from_json(raw)
    assert m.to_bytes() == raw


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shape": (), "dtype": "i4"},
        {
            "shape": (5, 5),
            "chunks": (2, 2),
            "dtype": "f4",
            "order": "F",
            "chunk_key_encoding": {"name": "v2", "separator": "/"},
        },
        {"shape": (5,), "dtype": "<i8", "compressors": None},
    ],
)
def test_v2_layouts_match(kwargs):
    docs = _zarr_documents(2, **kwargs)
    m = ArrayMetadataV2.from_json(docs[".zarray"], docs.get(".zattrs"))
    assert m.to_bytes() == docs[".zarray"]


def test_groups_match():
    store: dict = {}
    zarr.create_group(store=store, attributes={"x": 1, "y": [None, 2.5]})
    raw = store["zarr.json"].to_bytes()
    assert GroupMetadataV3.from_json(raw).to_bytes() == raw

    store = {}
    zarr.create_group(store=store, zarr_format=2, attributes={"x": 1})
    g = GroupMetadataV2.from_json(store[".zgroup"].to_bytes(), store[".zattrs"].to_bytes())
    assert g.to_bytes() == store[".zgroup"].to_bytes()
    assert g.attributes_bytes() == store[".zattrs"].to_bytes()


def test_consolidated_group_round_trips():
    store: dict = {}
    g = zarr.create_group(store=store)
    g.create_array("a", shape=(3,), dtype="u1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(store)
    raw = store["zarr.json"].to_bytes()
    meta = GroupMetadataV3.from_json(raw)
    assert meta.consolidated_metadata["kind"] == "inline"
    assert meta.to_bytes() == raw
    ArrayMetadataV3.from_json(meta.consolidated_metadata["metadata"]["a"])


@pytest.mark.parametrize("fill", ["NaN", "0x7fc00001", "Infinity", 2.5])
def test_zarr_python_reads_ours(fill):
    doc = {
        "shape": [6, 4],
        "data_type": "float32",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [3, 2]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill,
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "zarr_format": 3,
        "node_type": "array",
    }
    ours = ArrayMetadataV3.from_json(doc)
    from zarr.core.buffer import default_buffer_prototype

    store = {"zarr.json": default_buffer_prototype().buffer.from_bytes(ours.to_bytes())}
    arr = zarr.open_array(store=store, mode="r")
    assert arr.shape == (6, 4) and arr.dtype == np.dtype("f4") and arr.chunks == (3, 2)
    expected = np.float32(ours.fill_value)
    got = arr[:]
    assert (np.isnan(got).all() and np.isnan(expected)) or (got == expected).all()


def test_zarr_python_reads_our_v2():
    ours = ArrayMetadataV2(
        shape=(5,), chunks=(2,), dtype=">f8", fill_value=np.nan, compressor=None, attributes={"a": 1}
    )
    from zarr.core.buffer import default_buffer_prototype

    buf = default_buffer_prototype().buffer.from_bytes
    store = {".zarray": buf(ours.to_bytes()), ".zattrs": buf(ours.attributes_bytes())}
    arr = zarr.open_array(store=store, mode="r", zarr_format=2)
    assert arr.dtype == np.dtype(">f8") and np.isnan(arr[:]).all() and arr.attrs["a"] == 1


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint64", "float16", "float64", "complex128"])
def test_tensorstore_v3_parses(tmp_path, dtype):
    ts = pytest.importorskip("tensorstore")
    spec = {
        "driver": "zarr3",
        "kvstore": {"driver": "file", "path": str(tmp_path)},
        "metadata": {
            "shape": [10, 4],
            "data_type": dtype,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5, 2]}},
            "dimension_names": ["a", "b"],
        },
    }
    ts.open(spec, create=True).result()
    raw = (tmp_path / "zarr.json").read_bytes()
    m = ArrayMetadataV3.from_json(raw, source=str(tmp_path / "zarr.json"))
    assert m.data_type == np.dtype(dtype) and m.chunk_shape == (5, 2) and m.dimension_names == ("a", "b")
    assert m.chunk_key_encoding.separator == "/"


@pytest.mark.parametrize(
    "dtype,fill", [(">f8", "NaN"), ("<i2", 3), ("|b1", True), ("<c8", [1.0, "-Infinity"])]
)
def test_tensorstore_v2_parses(tmp_path, dtype, fill):
    ts = pytest.importorskip("tensorstore")
    spec = {
        "driver": "zarr",
        "kvstore": {"driver": "file", "path": str(tmp_path)},
        "metadata": {"shape": [10, 4], "chunks": [5, 2], "dtype": dtype, "fill_value": fill},
    }
    ts.open(spec, create=True).result()
    m = ArrayMetadataV2.from_json((tmp_path / ".zarray").read_bytes())
    assert m.dtype.str == dtype and m.to_json()["fill_value"] == fill
