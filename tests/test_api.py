"""Top-level functions: creation, open modes, zarr-python-style constructors, clear errors."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import zarr

import cuzarr
from cuzarr.errors import (
    ContainsArrayError,
    InvalidKeyError,
    MetadataError,
    NodeNotFoundError,
    ReadOnlyError,
    UnknownCodecError,
    UnknownDataTypeError,
    ZarrUserWarning,
)


def test_readme_example(tmp_path):
    path = str(tmp_path / "a.zarr")
    z = cuzarr.create_array(store=path, shape=(100, 100), chunks=(10, 10), dtype="f4")
    data = np.random.default_rng(0).random((100, 100))
    z[:, :] = data
    np.testing.assert_array_equal(z[0:10, 0:10], data[0:10, 0:10].astype("f4"))
    r = cuzarr.open_array(path, mode="r")
    assert isinstance(r[0:10, 0:10], np.ndarray)
    assert r.shape == (100, 100) and r.chunks == (10, 10) and r.dtype == np.float32


@pytest.mark.parametrize(
    "factory,expected",
    [
        (lambda s: cuzarr.zeros((3, 3), store=s, chunks=(2, 2)), 0),
        (lambda s: cuzarr.ones((3, 3), store=s, chunks=(2, 2)), 1),
        (lambda s: cuzarr.full((3, 3), 7, store=s, chunks=(2, 2), dtype="i2"), 7),
        (lambda s: cuzarr.empty((3, 3), store=s, chunks=(2, 2), fill_value=4), 4),
    ],
)
def test_constructors(factory, expected):
    store = {}
    z = factory(store)
    np.testing.assert_array_equal(z[...], np.full((3, 3), expected))
    assert not [k for k in store if k.startswith("c/")]


def test_array_copies_data_and_auto_chunks():
    data = np.arange(3_000_000, dtype="f8").reshape(1000, 3000)
    z = cuzarr.array(data)
    np.testing.assert_array_equal(z[...], data)
    assert z.chunks == zarr.zeros((1000, 3000), dtype="f8").chunks == (125, 750)  # zarr-python's choice


@pytest.mark.parametrize("shards", [(1000, 1000), (4096, 4096), "auto"])
def test_auto_chunks_in_shards(shards):
    """zarr-python guesses inner chunks ignoring explicit shards, then refuses its own guess when
    it does not divide them ((10000, 10000) f4 in 1000-shards: chunks (313, 625)); cuzarr shrinks
    such axes to divisors, and keeps zarr-python's guess where it works."""
    shape = (10000, 10000) if shards != (4096, 4096) else (8192, 8192)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZarrUserWarning)
        z = cuzarr.create_array({}, shape=shape, dtype="f4", shards=shards)
    if shards == (1000, 1000):
        assert (z.shards, z.chunks) == ((1000, 1000), (250, 500))
        with pytest.raises(ValueError, match="divisible"):
            zarr.create_array(zarr.storage.MemoryStore(), shape=shape, dtype="f4", shards=shards)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = zarr.create_array(zarr.storage.MemoryStore(), shape=shape, dtype="f4", shards=shards)
    assert (z.shards, z.chunks) == (expected.shards, expected.chunks)


def test_auto_shards_warn_as_experimental():
    with pytest.warns(ZarrUserWarning, match="experimental"):
        cuzarr.create_array({}, shape=(100,), dtype="f4", shards="auto")


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [(False, (100, 50)), ((10,), (10, 50)), (((10, 10, 5), (20, 20, 10)), (10, 20)), (-1, (100, 50))],
)
def test_legacy_chunk_forms(chunks, expected):
    assert cuzarr.create((100, 50), chunks=chunks).chunks == expected
    assert zarr.create((100, 50), chunks=chunks).chunks == expected


def test_bad_chunk_forms_name_the_argument():
    with pytest.raises(ValueError, match="irregular chunks"):
        cuzarr.create((100,), chunks=((10, 20, 10),))
    with pytest.raises(ValueError, match="more dimensions"):
        cuzarr.create((100,), chunks=(10, 10))
    with pytest.raises(TypeError, match="integers"):
        cuzarr.create((100,), chunks=(2.5,))


def test_open_modes(tmp_path):
    path = str(tmp_path / "m.zarr")
    with pytest.raises(NodeNotFoundError):
        cuzarr.open_array(path, mode="r")
    with pytest.raises(NodeNotFoundError):
        cuzarr.open_array(path, mode="r+")
    z = cuzarr.open_array(path, mode="a", shape=(4,), chunks=(2,), dtype="i4")
    z[...] = [1, 2, 3, 4]
    assert cuzarr.open_array(path, mode="a")[...].tolist() == [1, 2, 3, 4]
    with pytest.raises(ContainsArrayError):
        cuzarr.open_array(path, mode="w-", shape=(4,), dtype="i4")
    w = cuzarr.open_array(path, mode="w", shape=(2,), dtype="u1")
    assert w[...].tolist() == [0, 0]
    assert cuzarr.open(path, mode="r").shape == (2,)
    r = cuzarr.open_array(path, mode="r")
    with pytest.raises(ReadOnlyError):
        r[0] = 1
    with pytest.raises(ValueError, match="mode"):
        cuzarr.open_array(path, mode="x")


def test_create_refuses_existing_unless_overwrite(tmp_path):
    path = str(tmp_path / "o.zarr")
    cuzarr.create_array(store=path, shape=(2,), dtype="i4")[...] = 5
    with pytest.raises(ContainsArrayError):
        cuzarr.create_array(store=path, shape=(2,), dtype="i4")
    z = cuzarr.create_array(store=path, shape=(3,), dtype="i4", overwrite=True)
    assert z[...].tolist() == [0, 0, 0]


def test_named_arrays_share_a_store():
    store = {}
    a = cuzarr.create_array(store=store, name="x/a", shape=(2,), dtype="i4")
    b = cuzarr.create_array(store=store, name="x/b", shape=(2,), dtype="i4")
    a[...] = 1
    b[...] = 2
    assert "x/a/zarr.json" in store and "x/a/c/0" in store
    assert cuzarr.open_array(store, path="x/a")[...].tolist() == [1, 1]
    assert a.path == "x/a" and a.name == "/x/a" and a.basename == "a"


def test_legacy_create_with_v2_arguments(tmp_path):
    import numcodecs

    z = cuzarr.create(
        (10, 10),
        chunks=(5, 5),
        dtype="i2",
        compressor=numcodecs.Zlib(level=1),
        store=str(tmp_path / "v2"),
        zarr_format=2,
        dimension_separator="/",
        fill_value=3,
    )
    z[0, 0] = 1
    meta = json.loads((tmp_path / "v2" / ".zarray").read_text())
    assert meta["compressor"] == {"id": "zlib", "level": 1} and meta["dimension_separator"] == "/"
    assert (tmp_path / "v2" / "0" / "0").exists()


def test_unknown_dtype_and_codec_errors_list_supported():
    with pytest.raises(UnknownDataTypeError, match="float32"):
        cuzarr.create_array(store={}, shape=(2,), dtype="O")
    with pytest.raises(UnknownCodecError, match="zstd"):
        cuzarr.create_array(store={}, shape=(2,), dtype="i4", compressors={"name": "nope"})


def test_bad_metadata_names_file_and_field(tmp_path):
    store = {"zarr.json": b"{not json"}
    with pytest.raises(MetadataError, match="zarr.json"):
        cuzarr.open_array(store, mode="r")
    doc = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": [-1],
        "data_type": "int32",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1]}},
        "chunk_key_encoding": {"name": "default"},
        "fill_value": 0,
        "codecs": [{"name": "bytes"}],
    }
    with pytest.raises(MetadataError, match="shape"):
        cuzarr.open_array({"zarr.json": json.dumps(doc).encode()}, mode="r")
    doc["shape"], doc["codecs"] = [4], [{"name": "bytes"}, {"name": "lzma9000"}]
    with pytest.raises(UnknownCodecError, match="lzma9000"):
        cuzarr.open_array({"zarr.json": json.dumps(doc).encode()}, mode="r")


@pytest.mark.parametrize("name", ["../evil", "a\\b", "a/../../b", "x/./y"])
def test_malicious_paths_refused_before_io(tmp_path, name):
    root = tmp_path / "root"
    with pytest.raises(InvalidKeyError):
        cuzarr.create_array(store=str(root), name=name, shape=(2,), dtype="i4")
    assert not (tmp_path / "evil").exists() and not (tmp_path / "b").exists()


def test_invalid_shapes_and_chunks():
    with pytest.raises(ValueError, match="shape"):
        cuzarr.create_array(store={}, shape=(-1, 2), dtype="i4")
    with pytest.raises(ValueError, match="chunk"):
        cuzarr.create_array(store={}, shape=(4,), chunks=(0,), dtype="i4")
    with pytest.raises(ValueError, match="fill_value"):
        cuzarr.create_array(store={}, shape=(4,), dtype="u1", fill_value=300)


def test_import_cuzarr_as_zarr_runs_zarr_python_code(tmp_path):
    import cuzarr as zarr

    z = zarr.create_array(
        store=str(tmp_path / "d.zarr"),
        shape=(20, 20),
        chunks=(5, 5),
        dtype="i4",
        compressors=zarr.codecs.BloscCodec(cname="zstd", clevel=3, shuffle=zarr.codecs.BloscShuffle.shuffle),
    )
    z[:] = 1
    assert zarr.open_array(str(tmp_path / "d.zarr"), mode="r")[5:7, 5:7].sum() == 4


@pytest.mark.parametrize("kwargs,expected", [({}, 0), ({"fill_value": None}, None), ({"fill_value": 5}, 5)])
def test_v2_fill_value_none_is_null_like_zarr_python(kwargs, expected):
    store = {}
    z = cuzarr.create_array(store=store, shape=(2,), dtype="i4", zarr_format=2, **kwargs)
    assert json.loads(store[".zarray"])["fill_value"] == expected
    assert z.fill_value == expected
    assert z[...].tolist() == [expected or 0] * 2
    v3 = cuzarr.create_array(store={}, shape=(2,), dtype="i4", **kwargs)
    assert v3.fill_value == (expected or 0)
