"""Sharded arrays with zarr-python and tensorstore, both directions, on real files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import cuzarr

from .cases import stored_files

zarr = pytest.importorskip("zarr")
ts = pytest.importorskip("tensorstore")

SHAPE, CHUNKS, SHARDS = (21, 17), (3, 4), (6, 8)  # edge shards are partial


def _data(dtype="f4"):
    data = np.arange(np.prod(SHAPE), dtype=dtype).reshape(SHAPE)
    data[0:6, 0:8] = 0  # one shard entirely at the fill value: not stored
    data[6:9, 8:12] = 0  # one inner chunk at the fill value: omitted from its shard
    return data


@pytest.mark.parametrize("location", ["start", "end"])
@pytest.mark.parametrize("compressors", [None, "zstd", "blosc"])
def test_zarr_python_both_directions_byte_identical(tmp_path, location, compressors):
    comp = {
        None: None,
        "zstd": {"name": "zstd", "configuration": {"level": 1, "checksum": False}},
        "blosc": {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle"}},
    }
    kwargs = dict(
        shape=SHAPE,
        chunks=CHUNKS,
        shards={"shape": SHARDS, "index_location": location},
        dtype="f4",
        compressors=comp[compressors],
    )
    data = _data()
    z = zarr.create_array(store=str(tmp_path / "theirs"), **kwargs)
    z[...] = data
    a = cuzarr.open_array(str(tmp_path / "theirs"), mode="r")
    assert a.chunks == CHUNKS and a.shards == SHARDS
    np.testing.assert_array_equal(a[...], data)
    np.testing.assert_array_equal(a[5:19:2, 3:], data[5:19:2, 3:])

    b = cuzarr.create_array(store=str(tmp_path / "ours"), **kwargs)
    b[...] = data
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "ours"), mode="r")[...], data)
    ours, theirs = stored_files(tmp_path / "ours"), stored_files(tmp_path / "theirs")
    assert json.loads(ours.pop("zarr.json")) == json.loads(theirs.pop("zarr.json"))
    assert ours == theirs


def test_zarr_python_reads_our_partial_shard_updates(tmp_path):
    kwargs = dict(shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="i2", fill_value=-1)
    b = cuzarr.create_array(store=str(tmp_path / "ours"), **kwargs)
    model = np.full(SHAPE, -1, dtype="i2")
    for i, sel in enumerate([(slice(2, 15), slice(1, 9)), (slice(None), 16), (slice(20, 21), slice(None))]):
        b[sel] = i + 1
        model[sel] = i + 1
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "ours"), mode="r")[...], model)


@pytest.mark.parametrize("location", ["start", "end"])
def test_tensorstore_both_directions(tmp_path, location):
    data = _data("i4")
    metadata = {
        "shape": list(SHAPE),
        "data_type": "int32",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(SHARDS)}},
        "codecs": [
            {
                "name": "sharding_indexed",
                "configuration": {
                    "chunk_shape": list(CHUNKS),
                    "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd"}],
                    "index_codecs": [
                        {"name": "bytes", "configuration": {"endian": "little"}},
                        {"name": "crc32c"},
                    ],
                    "index_location": location,
                },
            }
        ],
    }
    t = ts.open(
        {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(tmp_path / "t")}, "metadata": metadata},
        create=True,
    ).result()
    t[...].write(data).result()
    a = cuzarr.open_array(str(tmp_path / "t"), mode="r")
    np.testing.assert_array_equal(a[...], data)
    np.testing.assert_array_equal(a.vindex[[0, 20, 7], [16, 0, 9]], data[[0, 20, 7], [16, 0, 9]])

    b = cuzarr.create_array(
        store=str(tmp_path / "o"),
        shape=SHAPE,
        chunks=CHUNKS,
        dtype="i4",
        shards={"shape": SHARDS, "index_location": location},
    )
    b[...] = data
    b[3:5, 2:14] = -9
    data[3:5, 2:14] = -9
    back = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(tmp_path / "o")}}).result()
    np.testing.assert_array_equal(back.read().result(), data)


def _vlen_data(kind: str) -> np.ndarray:
    """Strings of varied lengths; one shard and one inner chunk entirely at the fill value."""
    text = np.array(
        [[f"é{i}日{j}" * ((i * 7 + j) % 5) for j in range(SHAPE[1])] for i in range(SHAPE[0])],
        dtype=object,
    )
    text[0:6, 0:8] = ""
    text[6:9, 8:12] = ""
    if kind == "bytes":
        return np.vectorize(lambda s: s.encode(), otypes=[object])(text)
    return text


@pytest.mark.parametrize("location", ["start", "end"])
@pytest.mark.parametrize("kind", ["str", "bytes"])
def test_zarr_python_vlen_shards_both_directions_byte_identical(tmp_path, kind, location):
    data = _vlen_data(kind)
    kwargs = dict(
        shape=SHAPE,
        chunks=CHUNKS,
        shards={"shape": SHARDS, "index_location": location},
        compressors={"name": "zstd", "configuration": {"level": 1, "checksum": False}},
    )
    z = zarr.create_array(
        store=str(tmp_path / "theirs"),
        dtype=str if kind == "str" else zarr.dtype.VariableLengthBytes(),
        **kwargs,
    )
    z[...] = data
    a = cuzarr.open_array(str(tmp_path / "theirs"), mode="r")
    assert (np.asarray(a[...], dtype=object) == data).all()
    assert (np.asarray(a[7:9, 9:11], dtype=object) == data[7:9, 9:11]).all()  # ranged inner reads

    b = cuzarr.create_array(
        store=str(tmp_path / "ours"), dtype=str if kind == "str" else "variable_length_bytes", **kwargs
    )
    b[...] = data
    ours, theirs = stored_files(tmp_path / "ours"), stored_files(tmp_path / "theirs")
    assert json.loads(ours.pop("zarr.json")) == json.loads(theirs.pop("zarr.json"))
    assert ours == theirs  # same shards: inner chunk bytes, Morton order, empty entries
    back = zarr.open_array(str(tmp_path / "ours"), mode="r")
    assert (np.asarray(back[...], dtype=object) == data).all()

    # partial shard updates on both sides keep them identical, and each reads the other's
    empty = "" if kind == "str" else b""
    longer = "a much longer replacement " * 4 if kind == "str" else b"\x00\xff" * 50
    updates = [
        ((slice(2, 4), slice(9, 15)), longer),
        ((slice(12, 18), slice(0, 8)), empty),  # a whole shard back to the fill value: deleted
        ((slice(20, 21), slice(16, 17)), longer),
    ]
    for selection, value in updates:
        block = np.full(
            data[selection].shape, value, dtype=object
        )  # zarr-python 3.1.6 cannot broadcast bytes scalars
        z[selection], b[selection], data[selection] = block, block, block
    ours, theirs = stored_files(tmp_path / "ours"), stored_files(tmp_path / "theirs")
    assert json.loads(ours.pop("zarr.json")) == json.loads(theirs.pop("zarr.json"))
    assert ours == theirs and "c/2/0" not in ours
    assert (np.asarray(zarr.open_array(str(tmp_path / "ours"), mode="r")[...], dtype=object) == data).all()
    assert (
        np.asarray(cuzarr.open_array(str(tmp_path / "theirs"), mode="r")[...], dtype=object) == data
    ).all()
