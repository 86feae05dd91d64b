"""Strings, bytes, datetimes and records on real files, with zarr-python 3.1 both ways (and tensorstore
for records, the one non-numeric type it shares).

For every case zarr-python writes an array; cuzarr must parse its metadata to identical bytes, decode
every stored chunk with ``CodecChain``/``V2CodecChain`` and re-encode it to identical bytes. cuzarr
then writes the same array by hand (metadata + codecs, no ``core/``): the files must be identical
to zarr-python's, and zarr-python must read them. The ``cuzarr.create_array`` / ``open_array`` tests
at the end go through ``core/``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cuzarr
from cuzarr.codecs import CodecChain, V2CodecChain, default_serializer, default_v2_filters
from cuzarr.codecs.base import ChunkSpec
from cuzarr.metadata import (
    STRING_DTYPE,
    ArrayMetadataV2,
    ArrayMetadataV3,
    ChunkKeyEncoding,
    RegularChunkGrid,
    cast_fill_value,
)

zarr = pytest.importorskip("zarr")
numcodecs = pytest.importorskip("numcodecs")

SHAPE, CHUNK = (7,), 3  # chunks [0:3], [3:6] (left at the fill value: never stored), [6:7] + padding
REC = np.dtype([("a", "<i4"), ("b", "<f8")])


def _data(dtype: np.dtype, values: list, fill: Any) -> np.ndarray:
    """``values`` at 0..2 and 6, the fill value at 3..5."""
    out = np.empty(SHAPE, dtype=dtype)
    for i, v in zip((0, 1, 2, 6), values):
        out[i] = v
    for i in (3, 4, 5):
        out[i] = fill
    return out


# id: (dtype, four values, fill value, zarr formats)
CASES: dict[str, tuple[Any, list, Any, tuple[int, ...]]] = {
    "string": (STRING_DTYPE, ["a", "héllo", "", "日本語" * 30], "fill", (2, 3)),
    "string-default-fill": (STRING_DTYPE, ["a", "b", "c", "d"], None, (2, 3)),
    "vlen-bytes": (np.dtype(object), [b"ab", b"", b"\x00\xff", b"z" * 100], b"zz", (2, 3)),
    "S5": (np.dtype("S5"), [b"ab", b"abcde", b"", b"\x01"], b"xy", (2, 3)),
    "U4": (np.dtype("<U4"), ["ab", "xyzé", "", "q"], "ff", (2, 3)),
    "U4-big": (np.dtype(">U4"), ["ab", "xyzé", "", "q"], "", (2,)),
    "V3": (np.dtype("V3"), [b"ab\x00", b"123", b"\x00\x00\x01", b"zzz"], None, (2, 3)),
    "M8[ns]": (np.dtype("M8[ns]"), ["2020-01-01", "NaT", "1970-01-02", "2262-01-01"], 0, (2, 3)),
    "M8[10s]": (np.dtype("M8[10s]"), [0, 1, -5, 2**40], 7, (2, 3)),
    "m8[D]-NaT": (np.dtype("m8[D]"), [1, "NaT", -3, 4], "NaT", (2, 3)),
    "record": (REC, [(1, 2.5), (3, -1.0), (0, np.nan), (-7, 1e300)], (5, 1.5), (2, 3)),
    "record-big": (
        np.dtype([("a", ">i4"), ("b", "S2")]),
        [(1, b"a"), (2, b"bb"), (3, b""), (4, b"z")],
        (9, b"q"),
        (2,),
    ),
    "record-nested": (
        np.dtype([("p", "<u2"), ("q", [("r", "<f4"), ("s", "S3")])]),
        [(1, (2.0, b"a")), (2, (3.0, b"bc")), (3, (4.0, b"")), (4, (5.0, b"xyz"))],
        None,
        (2, 3),
    ),
}
# zarr-python 3.1.6 writes nested v2 records but cannot read them back (its v2 dtype parser is flat)
ZARR_CANNOT_READ = {("record-nested", 2)}
PARAMS = [pytest.param(name, fmt, id=f"{name}-v{fmt}") for name, c in CASES.items() for fmt in c[3]]


def _case(name: str):
    dtype, values, fill, _ = CASES[name]
    used_fill = fill if fill is not None else cuzarr.metadata.default_fill_value(dtype)
    return dtype, _data(dtype, values, used_fill), fill


def _zarr_dtype(dtype: np.dtype) -> Any:
    return zarr.dtype.VariableLengthBytes() if dtype == np.dtype(object) else dtype


def _zarr_write(path: Path, dtype: np.dtype, data: np.ndarray, fill: Any, fmt: int) -> Any:
    kwargs: dict[str, Any] = {"fill_value": fill} if fill is not None else {}
    if fmt == 3:
        kwargs["compressors"] = [{"name": "zstd", "configuration": {"level": 1, "checksum": False}}]
    else:
        kwargs["compressors"] = numcodecs.Zstd(level=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no Zarr v3 specification" warnings
        z = zarr.create_array(
            str(path), shape=SHAPE, chunks=(CHUNK,), dtype=_zarr_dtype(dtype), zarr_format=fmt, **kwargs
        )
        z[...] = data
    return z


def _files(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values and dtypes (bytes for fixed-size types, so NaN/NaT compare equal)."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return a.tolist() == b.tolist() if a.dtype.hasobject else a.tobytes() == b.tobytes()


def _metadata(path: Path, fmt: int):
    if fmt == 3:
        raw = (path / "zarr.json").read_bytes()
        return ArrayMetadataV3.from_json(raw), raw
    raw = (path / ".zarray").read_bytes()
    return ArrayMetadataV2.from_json(raw), raw


def _chain(meta) -> CodecChain | V2CodecChain:
    fill = meta.fill_value if meta.fill_value is not None else cuzarr.metadata.default_fill_value(meta.dtype)
    if isinstance(meta, ArrayMetadataV3):
        return CodecChain(meta.codecs, ChunkSpec((CHUNK,), meta.dtype, fill))
    return V2CodecChain(meta.compressor, meta.filters, ChunkSpec((CHUNK,), meta.dtype, fill, meta.order))


def _chunk_key(fmt: int, i: int) -> str:
    return f"c/{i}" if fmt == 3 else str(i)


def _padded(data: np.ndarray, i: int, fill: Any) -> np.ndarray:
    chunk = np.empty((CHUNK,), dtype=data.dtype)
    chunk[...] = fill
    part = data[i * CHUNK : (i + 1) * CHUNK]
    chunk[: part.size] = part
    return chunk


@pytest.mark.parametrize("name,fmt", PARAMS)
def test_read_what_zarr_python_writes(tmp_path, name, fmt):
    dtype, data, fill = _case(name)
    z = _zarr_write(tmp_path / "a", dtype, data, fill, fmt)
    meta, raw = _metadata(tmp_path / "a", fmt)
    assert meta.to_bytes() == raw  # byte-identical metadata
    assert meta.dtype == z.dtype
    chain = _chain(meta)
    stored = 0
    for i in range(3):
        key = tmp_path / "a" / _chunk_key(fmt, i)
        if not key.exists():
            continue
        stored += 1
        decoded = chain.decode(key.read_bytes(), key=key.name)
        assert _same(decoded, _padded(z[...], i, z.fill_value))
        assert bytes(chain.encode(decoded)) == key.read_bytes()  # byte-identical chunks
    assert stored == 2  # the middle chunk holds only the fill value
    got = cuzarr.open_array(str(tmp_path / "a"), mode="r")[...]  # reading needs no core change
    assert _same(got, z[...])


def _write_by_hand(path: Path, dtype: np.dtype, data: np.ndarray, fill: Any, fmt: int) -> None:
    """What cuzarr's write path must produce, built from metadata and codecs only."""
    path.mkdir()
    fill_value = (
        cast_fill_value(fill, dtype) if fill is not None else cuzarr.metadata.default_fill_value(dtype)
    )
    if fmt == 3:
        meta = ArrayMetadataV3(
            shape=SHAPE,
            data_type=dtype,
            chunk_grid=RegularChunkGrid((CHUNK,)),
            chunk_key_encoding=ChunkKeyEncoding("default", "/"),
            fill_value=fill_value,
            codecs=tuple(
                CodecChain(
                    [default_serializer(dtype), {"name": "zstd", "configuration": {"level": 1}}],
                    ChunkSpec((CHUNK,), dtype, fill_value),
                ).to_json()
            ),
        )
        (path / "zarr.json").write_bytes(meta.to_bytes())
    else:
        filters = default_v2_filters(dtype)
        meta = ArrayMetadataV2(
            shape=SHAPE,
            chunks=(CHUNK,),
            dtype=dtype,
            compressor={"id": "zstd", "level": 1},
            filters=tuple(filters) if filters else None,
            fill_value=fill_value,
        )
        (path / ".zarray").write_bytes(meta.to_bytes())
        (path / ".zattrs").write_bytes(meta.attributes_bytes())
    chain = _chain(meta)
    empty = _padded(data[:0], 0, fill_value)
    for i in range(3):
        chunk = _padded(data, i, fill_value)
        if _same(chunk, empty):
            continue
        key = path / _chunk_key(fmt, i)
        key.parent.mkdir(exist_ok=True)
        key.write_bytes(bytes(chain.encode(chunk)))


@pytest.mark.parametrize("name,fmt", PARAMS)
def test_zarr_python_reads_what_cuzarr_writes(tmp_path, name, fmt):
    dtype, data, fill = _case(name)
    z = _zarr_write(tmp_path / "theirs", dtype, data, fill, fmt)
    _write_by_hand(tmp_path / "ours", dtype, data, fill, fmt)
    ours, theirs = _files(tmp_path / "ours"), _files(tmp_path / "theirs")
    if ".zattrs" not in theirs:
        ours.pop(".zattrs", None)
    assert ours == theirs  # identical files, metadata and chunks
    if (name, fmt) in ZARR_CANNOT_READ:
        return
    back = zarr.open_array(str(tmp_path / "ours"), mode="r")
    assert _same(back[...], z[...]) and back.dtype == z.dtype


# -- through cuzarr.create_array / open_array (core/) ------------------------------------------


@pytest.mark.parametrize("name,fmt", PARAMS)
def test_create_array_round_trip(tmp_path, name, fmt):
    dtype, data, fill = _case(name)
    z = _zarr_write(tmp_path / "theirs", dtype, data, fill, fmt)
    user_dtype = "variable_length_bytes" if dtype == np.dtype(object) else dtype
    compressors = {"id": "zstd", "level": 1} if fmt == 2 else {"name": "zstd", "configuration": {"level": 1}}
    kwargs = {"fill_value": fill} if fill is not None else {}
    a = cuzarr.create_array(
        str(tmp_path / "ours"),
        shape=SHAPE,
        chunks=(CHUNK,),
        dtype=user_dtype,
        zarr_format=fmt,
        compressors=compressors,
        **kwargs,
    )
    a[...] = data
    assert _same(a[...], z[...])
    assert _same(cuzarr.open_array(str(tmp_path / "ours"), mode="r")[...], z[...])
    if (name, fmt) not in ZARR_CANNOT_READ:
        assert _same(zarr.open_array(str(tmp_path / "ours"), mode="r")[...], z[...])
    ours, theirs = _files(tmp_path / "ours"), _files(tmp_path / "theirs")
    for key in (".zattrs", ".zarray", "zarr.json"):  # metadata compared above, key order may differ
        ours.pop(key, None), theirs.pop(key, None)
    assert ours == theirs


# -- tensorstore: records (v2 both ways, v3 written by cuzarr) ------------------------------------


@pytest.mark.parametrize("fmt", [2, 3])
def test_tensorstore_reads_cuzarr_records(tmp_path, fmt):
    ts = pytest.importorskip("tensorstore")
    _, data, fill = _case("record")
    _write_by_hand(tmp_path / "a", REC, data, fill, fmt)
    driver = "zarr" if fmt == 2 else "zarr3"
    for field in ("a", "b"):
        t = ts.open(
            {"driver": driver, "kvstore": {"driver": "file", "path": str(tmp_path / "a")}, "field": field}
        ).result()
        assert t.read().result().tobytes() == np.ascontiguousarray(data[field]).tobytes()


def test_cuzarr_reads_tensorstore_v2_records(tmp_path):
    ts = pytest.importorskip("tensorstore")
    dtype = np.dtype([("a", "<i4"), ("b", ">f8")])
    spec = {"driver": "zarr", "kvstore": {"driver": "file", "path": str(tmp_path / "t")}}
    meta = {"shape": [7], "chunks": [3], "dtype": [["a", "<i4"], ["b", ">f8"]], "fill_value": None}
    written = np.zeros(SHAPE, dtype)
    written["a"], written["b"] = np.arange(7), np.linspace(0, 1, 7)
    for i, field in enumerate(dtype.names):
        extra = {"metadata": meta, "create": True} if i == 0 else {}
        t = ts.open({**spec, "field": field, **extra}).result()
        t[...].write(written[field].astype(dtype[field].newbyteorder("="))).result()
    got = cuzarr.open_array(str(tmp_path / "t"), mode="r")
    assert got.dtype == dtype and got.fill_value is None
    assert got[...].tobytes() == written.tobytes()
