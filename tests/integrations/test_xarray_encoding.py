"""to_zarr's variable encodings against xarray's own ``to_zarr`` on the same dataset: which keys
are refused (from ``encoding=``) or dropped (from a variable's own ``.encoding``), and which
codecs, chunks, shards and fill values a new array gets, including datasets read back from Zarr
with either engine and written again."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cuzarr

xr = pytest.importorskip("xarray")
zarr = pytest.importorskip("zarr")
numcodecs = pytest.importorskip("numcodecs")

from cuzarr.integrations.xarray_write import to_zarr  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # zarr-python: v3 consolidated metadata

FORMATS = pytest.mark.parametrize("zarr_format", [2, 3])
METADATA = {".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json"}


def make_dataset() -> xr.Dataset:
    """One 4x6 float variable (no coordinates, so the store holds that array only), one chunk of
    it all NaN so that ``write_empty_chunks`` shows."""
    values = np.arange(24, dtype="f8").reshape(4, 6)
    values[:2, :3] = np.nan
    return xr.Dataset({"a": (("y", "x"), values, {"units": "K"})})


def stored(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Every metadata document of a local store (JSON, so key order does not matter) and the
    sorted keys of its chunk objects."""
    documents, chunks = {}, []
    for folder, _, files in os.walk(path):
        for name in files:
            key = os.path.relpath(os.path.join(folder, name), path).replace(os.sep, "/")
            if name in METADATA:
                documents[key] = json.loads(Path(folder, name).read_text())
            else:
                chunks.append(key)
    return documents, sorted(chunks)


def write_both(tmp_path: Path, ds: xr.Dataset, **kwargs: Any) -> tuple[Path, Path]:
    """``ds`` written by xarray and by cuzarr with the same arguments; each variable's
    ``.encoding`` is restored before the second write (xarray's encoders must not leak)."""
    paths = tmp_path / "xarray.zarr", tmp_path / "cuzarr.zarr"
    encodings = {name: dict(var.encoding) for name, var in ds.variables.items()}
    ds.to_zarr(paths[0], consolidated=False, **kwargs)
    for name, encoding in encodings.items():
        ds[name].encoding = encoding
    to_zarr(ds, paths[1], consolidated=False, **kwargs)
    return paths


def assert_same_store(tmp_path: Path, ds: xr.Dataset, **kwargs: Any) -> dict[str, Any]:
    """cuzarr's store has xarray's metadata documents and chunk keys, and reads the same; returns
    the documents."""
    expected, got = write_both(tmp_path, ds, **kwargs)
    assert stored(got) == stored(expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xr.testing.assert_identical(xr.open_zarr(got).load(), xr.open_zarr(expected).load())
    return stored(got)[0]


def array_document(documents: dict[str, Any], name: str = "a") -> dict[str, Any]:
    """The array metadata of ``name``: v3 ``zarr.json`` or v2 ``.zarray``."""
    return documents.get(f"{name}/zarr.json") or documents[f"{name}/.zarray"]


def codecs(zarr_format: int) -> dict[str, Any]:
    """Non-default codecs, as the zarr-python and numcodecs objects xarray users pass."""
    if zarr_format == 2:
        return {"compressors": [numcodecs.Zlib(level=3)], "filters": [numcodecs.Delta(dtype="<f8")]}
    return {
        "compressors": [zarr.codecs.GzipCodec(level=3)],
        "serializer": zarr.codecs.BytesCodec(endian="big"),
    }


# -- encoding= -------------------------------------------------------------------------------------

#: Encodings for 'a' that both formats take; v2 cases get explicit compressors (xarray's v2 default
#: compressor, Blosc, is not cuzarr's, zstd).
ENCODINGS = {
    "chunks": {"chunks": (2, 3)},
    "chunks-int": {"chunks": 2},
    "chunks-wrong-length-ignored": {"chunks": (2,)},
    "source-keys-dropped": {
        "chunks": (2, 3),
        "source": "in.nc",
        "original_shape": (4, 6),
        "preferred_chunks": {},
    },
    "no-compressor": {"compressors": None},
    "empty-codecs": {"compressors": (), "filters": None},
    "write-empty-chunks": {"chunks": (2, 3), "write_empty_chunks": True},
    "cf-packing": {"dtype": "i2", "scale_factor": 0.5, "_FillValue": -1, "chunks": (2, 6)},
    "cache-metadata": {"cache_metadata": True},
}


@FORMATS
@pytest.mark.parametrize("case", sorted(ENCODINGS))
def test_encoding_argument_like_xarray(tmp_path, zarr_format, case):
    encoding = dict(ENCODINGS[case])
    if zarr_format == 2 and "compressors" not in encoding:
        encoding["compressors"] = [numcodecs.Zlib(level=1)]
    if case == "cache-metadata":  # xarray accepts the key, then zarr-python 3 refuses it
        to_zarr(make_dataset(), tmp_path / "c.zarr", zarr_format=zarr_format, encoding={"a": encoding})
        del encoding["cache_metadata"]
        assert_same_store(tmp_path, make_dataset(), zarr_format=zarr_format, encoding={"a": encoding})
        return
    documents = assert_same_store(tmp_path, make_dataset(), zarr_format=zarr_format, encoding={"a": encoding})
    if case == "chunks-wrong-length-ignored":
        assert array_document(documents).get("chunks", [4, 6]) == [4, 6]


@FORMATS
def test_codecs_in_encoding_argument_like_xarray(tmp_path, zarr_format):
    documents = assert_same_store(
        tmp_path,
        make_dataset(),
        zarr_format=zarr_format,
        encoding={"a": {**codecs(zarr_format), "chunks": (2, 3)}},
    )
    document = array_document(documents)
    if zarr_format == 2:
        assert (
            document["compressor"] == {"id": "zlib", "level": 3} and document["filters"][0]["id"] == "delta"
        )
    else:
        assert [c["name"] for c in document["codecs"]] == ["bytes", "gzip"]


@pytest.mark.parametrize(
    "encoding",
    [
        {"shards": 4, "chunks": 2},
        {"fill_value": 7.0, "chunks": (2, 3)},
        {"chunk_key_encoding": {"name": "v2", "separator": "."}},
        {"compressors": [{"name": "zstd", "configuration": {"level": 5, "checksum": True}}], "filters": []},
    ],
    ids=["shards-int", "fill-value", "chunk-key-encoding", "codec-dicts"],
)
def test_v3_only_encodings_like_xarray(tmp_path, encoding):
    assert_same_store(tmp_path, make_dataset(), zarr_format=3, encoding={"a": encoding})


def test_v2_compressor_key_is_the_single_compressor(tmp_path):
    """xarray took ``compressor`` with zarr-python 2 (and recorded it when reading); xarray with
    zarr-python 3 refuses it. cuzarr still takes it for v2 arrays: the same array as
    ``compressors=[...]``."""
    ds = make_dataset()
    expected = tmp_path / "expected.zarr"
    ds.to_zarr(
        expected,
        zarr_format=2,
        consolidated=False,
        encoding={"a": {"compressors": [numcodecs.Zlib(level=2)]}},
    )
    to_zarr(
        ds,
        tmp_path / "got.zarr",
        zarr_format=2,
        consolidated=False,
        encoding={"a": {"compressor": numcodecs.Zlib(level=2)}},
    )
    assert stored(tmp_path / "got.zarr") == stored(expected)
    ds["a"].encoding = {"compressor": numcodecs.Zlib(level=2)}  # as xarray with zarr-python 2 read it
    to_zarr(ds, tmp_path / "own.zarr", zarr_format=2, consolidated=False)
    assert stored(tmp_path / "own.zarr") == stored(expected)


# -- refused keys ------------------------------------------------------------------------------------

REFUSED = [
    (3, {"foo": 1, "bar": 2}, ValueError, ["'foo'", "'bar'"]),
    (2, {"foo": 1, "chunks": (2, 3)}, ValueError, ["'foo'"]),
    (3, {"units": "m"}, ValueError, ["'units'"]),  # not a time variable: the CF encoder leaves it
    (2, {"zlib": True, "complevel": 4}, ValueError, ["'zlib'", "'complevel'"]),  # netCDF options
    (3, {"compressor": None}, ValueError, ["'compressor'"]),
    (2, {"fill_value": 1.0}, ValueError, ["'fill_value'", "_FillValue"]),
    (3, {"chunks": (2.0, 3)}, TypeError, ["(2.0, 3)"]),
]


@pytest.mark.parametrize(("zarr_format", "encoding", "error", "words"), REFUSED)
def test_unexpected_encoding_refused_like_xarray(tmp_path, zarr_format, encoding, error, words):
    ds = make_dataset()
    with pytest.raises(error):
        ds.to_zarr(tmp_path / "xarray.zarr", zarr_format=zarr_format, encoding={"a": encoding})
    with pytest.raises(error) as raised:
        to_zarr(ds, tmp_path / "cuzarr.zarr", zarr_format=zarr_format, encoding={"a": encoding})
    message = str(raised.value)
    assert "'a'" in message and all(word in message for word in words), message
    assert not (tmp_path / "cuzarr.zarr" / "a").exists()  # refused before anything was written


def test_unexpected_encoding_refused_in_a_tree_node(tmp_path):
    tree = xr.DataTree.from_dict({"/": xr.Dataset(), "/child": make_dataset()})
    with pytest.raises(ValueError, match="unexpected encoding parameters"):
        tree.to_zarr(tmp_path / "xarray.zarr", encoding={"/child": {"a": {"foo": 1}}})
    with pytest.raises(ValueError, match=r"unexpected encoding parameters.*'foo'.*'a'"):
        to_zarr(tree, tmp_path / "cuzarr.zarr", encoding={"/child": {"a": {"foo": 1}}})


@FORMATS
def test_unknown_keys_in_own_encoding_are_dropped_like_xarray(tmp_path, zarr_format):
    ds = make_dataset()
    ds["a"].encoding = {
        "chunks": (2, 3),
        "compressors": [numcodecs.Zlib(level=1)] if zarr_format == 2 else [zarr.codecs.GzipCodec(level=1)],
        "foo": 1,
        "zlib": True,
        "contiguous": False,
        "source": "in.nc",
        "original_shape": (4, 6),
        "preferred_chunks": {"y": 2},
        "fill_value": 5.0,  # a v3 encoding: dropped for v2
        "compressor": None,  # zarr-python 2's key: dropped for v3 (cuzarr honours it for v2)
    }
    if zarr_format == 2:
        del ds["a"].encoding["compressor"]
    assert_same_store(tmp_path, ds, zarr_format=zarr_format)


@FORMATS
def test_write_empty_chunks_from_own_encoding_like_xarray(tmp_path, zarr_format):
    ds = make_dataset()
    ds["a"].encoding = {"chunks": (2, 3), "write_empty_chunks": True, "compressors": None}
    assert_same_store(tmp_path, ds, zarr_format=zarr_format)
    assert len(stored(tmp_path / "cuzarr.zarr")[1]) == 4  # the all-NaN chunk too
    with pytest.raises(ValueError, match="write_empty_chunks"):
        to_zarr(ds, tmp_path / "refused.zarr", zarr_format=zarr_format, write_empty_chunks=False)


# -- read, then write again ----------------------------------------------------------------------------


def write_source(path: Path, zarr_format: int) -> dict[str, Any]:
    """A store written by xarray with non-default codecs, chunks (and v3 shards and fill value);
    returns its array document."""
    encoding = {**codecs(zarr_format), "chunks": (2, 3)}
    if zarr_format == 3:
        encoding.update(shards=(4, 3), fill_value=-1.5)
    make_dataset().to_zarr(path, zarr_format=zarr_format, consolidated=False, encoding={"a": encoding})
    return array_document(stored(path)[0])


def open_source(path: Path, engine: str, chunks: dict | None) -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xr.open_dataset(path, engine=engine, chunks=chunks)


@FORMATS
@pytest.mark.parametrize("chunks", [None, {}], ids=["numpy", "dask"])
@pytest.mark.parametrize("encoding", [None, {}], ids=["no-encoding", "empty-encoding"])
def test_zarr_engine_round_trip_keeps_codecs_like_xarray(tmp_path, zarr_format, chunks, encoding):
    source = write_source(tmp_path / "source.zarr", zarr_format)
    ds = open_source(tmp_path / "source.zarr", "zarr", chunks)
    # dask chunks follow the inner chunks; xarray only writes them into shards when aligning
    align = {"align_chunks": True} if chunks is not None else {}
    documents = assert_same_store(tmp_path, ds, zarr_format=zarr_format, encoding=encoding, **align)
    assert array_document(documents) == source


@FORMATS
def test_encoding_argument_replaces_own_encoding_like_xarray(tmp_path, zarr_format):
    """xarray swaps a variable's ``.encoding`` for the one in ``encoding=``: the source's codecs
    (and shards) are not merged in."""
    write_source(tmp_path / "source.zarr", zarr_format)
    ds = open_source(tmp_path / "source.zarr", "zarr", None)
    replacement = {"chunks": (1, 6)}
    if zarr_format == 2:
        replacement["compressors"] = [numcodecs.Zlib(level=1)]  # the default compressors differ
    document = array_document(
        assert_same_store(tmp_path, ds, zarr_format=zarr_format, encoding={"a": replacement})
    )
    assert "gzip" not in json.dumps(document) and "delta" not in json.dumps(document)


def layout(document: dict[str, Any]) -> dict[str, Any]:
    """An array document without its codecs, but with the shard's inner chunk shape."""
    kept = {k: v for k, v in document.items() if k not in ("codecs", "compressor", "filters")}
    for codec in document.get("codecs", []):
        if codec["name"] == "sharding_indexed":
            kept["inner_chunks"] = codec["configuration"]["chunk_shape"]
    return kept


@FORMATS
def test_cuzarr_engine_round_trip_keeps_layout_like_xarray(tmp_path, zarr_format):
    """Chunks, shards, fill value, dtype and dimension names survive ``engine="cuzarr"``."""
    source = write_source(tmp_path / "source.zarr", zarr_format)
    ds = open_source(tmp_path / "source.zarr", "cuzarr", None)
    expected, got = write_both(tmp_path, ds, zarr_format=zarr_format)
    assert (
        layout(array_document(stored(got)[0]))
        == layout(array_document(stored(expected)[0]))
        == layout(source)
    )


@FORMATS
def test_cuzarr_engine_round_trip_keeps_codecs(tmp_path, zarr_format):
    source = write_source(tmp_path / "source.zarr", zarr_format)
    to_zarr(
        open_source(tmp_path / "source.zarr", "cuzarr", None), tmp_path / "got.zarr", zarr_format=zarr_format
    )
    assert array_document(stored(tmp_path / "got.zarr")[0]) == source


@FORMATS
def test_codecs_recorded_as_json_or_cuzarr_objects_are_kept(tmp_path, zarr_format):
    """Codecs in ``.encoding`` as JSON (v3) or numcodecs objects (v2), the forms that both writers
    take, and as cuzarr's own codec objects (what ``cuzarr.Array`` returns)."""
    source = write_source(tmp_path / "source.zarr", zarr_format)
    array = cuzarr.open_array(str(tmp_path / "source.zarr"), path="a", mode="r")
    ds = open_source(tmp_path / "source.zarr", "cuzarr", None)
    as_json = {"compressors": list(array.compressors), "filters": list(array.filters)}
    if zarr_format == 3:
        as_json = {key: [c.to_json() for c in value] for key, value in as_json.items()}
        as_json["serializer"] = array.serializer.to_json()
    ds["a"].encoding.update(as_json)
    documents = assert_same_store(tmp_path, ds, zarr_format=zarr_format)
    assert array_document(documents) == source
    if zarr_format == 3:
        ds["a"].encoding.update(
            compressors=array.compressors, filters=array.filters, serializer=array.serializer
        )
        to_zarr(ds, tmp_path / "objects.zarr", consolidated=False)
        assert array_document(stored(tmp_path / "objects.zarr")[0]) == source


def test_new_variable_in_mode_a_keeps_its_codecs_like_xarray(tmp_path):
    base = xr.Dataset({"b": (("y", "x"), np.ones((4, 6)))})
    extra = make_dataset()
    extra["a"].encoding = {"compressors": [zarr.codecs.GzipCodec(level=2)], "chunks": (4, 3)}
    paths = tmp_path / "xarray.zarr", tmp_path / "cuzarr.zarr"
    for path in paths:
        base.to_zarr(path, consolidated=False)
    extra.to_zarr(paths[0], mode="a", consolidated=False)
    extra["a"].encoding = {"compressors": [zarr.codecs.GzipCodec(level=2)], "chunks": (4, 3)}
    to_zarr(extra, paths[1], mode="a", consolidated=False)
    assert stored(paths[1]) == stored(paths[0])


def test_codecs_of_another_format_fail_before_writing_like_xarray(tmp_path):
    """A v3 dataset's recorded ``serializer`` written as v2 fails in xarray (zarr-python); cuzarr
    fails the same way, before the store is touched."""
    write_source(tmp_path / "source.zarr", 3)
    ds = open_source(tmp_path / "source.zarr", "zarr", None)
    ds["a"].encoding.pop("shards")  # v2 has no shards either; the serializer is what is left
    ds.attrs["title"] = "not written"
    with pytest.raises(ValueError):
        ds.to_zarr(tmp_path / "xarray.zarr", zarr_format=2)
    with pytest.raises(ValueError, match="serializer"):
        to_zarr(ds, tmp_path / "cuzarr.zarr", zarr_format=2)
    documents, chunks = stored(tmp_path / "cuzarr.zarr")
    assert set(documents) <= {".zgroup", ".zattrs"} and not chunks
    assert documents.get(".zattrs", {}) == {}  # not even the group attributes
