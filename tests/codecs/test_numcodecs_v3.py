"""The non-spec ``numcodecs.<id>`` v3 codecs: byte for byte like zarr-python 3.1's ``zarr.codecs.numcodecs``."""

from __future__ import annotations

import json
import lzma
import warnings
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest
import zarr
import zarr.codecs.numcodecs as znc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from zarr.storage import LocalStore

import cuzarr
import cuzarr.codecs.numcodecs as cnc
from cuzarr.codecs import CodecChain, codec_from_json, registered_codecs
from cuzarr.codecs.base import ChunkSpec
from cuzarr.errors import CodecError, MetadataError, UnknownCodecError
from cuzarr.gpu.chain_plan import plan_chain

# constructing either library's codecs warns on purpose; the warning itself is tested below
pytestmark = [
    pytest.mark.filterwarnings("ignore:Numcodecs codecs are not in the Zarr version 3:UserWarning"),
    pytest.mark.filterwarnings("ignore::zarr.errors.ZarrUserWarning"),
]

SHAPE, CHUNKS = (23, 17), (5, 6)  # partial chunks at both edges
SELECTIONS = [
    (Ellipsis,),
    (slice(3, 17), slice(2, 9)),
    (slice(None, None, 4), slice(16, None)),
    (22, slice(None)),
    (slice(20, 23), 5),
]


def field(dtype: Any) -> np.ndarray:
    """Realistic data: a 2-m temperature field (floats), running counts (ints), a land mask (bool)."""
    rng = np.random.default_rng(42)
    y, x = np.mgrid[: SHAPE[0], : SHAPE[1]]
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return np.sin(y / 3) * np.cos(x / 4) + rng.normal(0, 0.2, SHAPE) > 0.3
    if dtype.kind == "f":
        t2m = 273.15 + 15 * np.sin(y / 7) + 5 * np.cos(x / 5) + rng.normal(0, 0.5, SHAPE)
        return np.round(t2m, 2).astype(dtype)
    return (1000 + np.cumsum(rng.integers(0, 50, SHAPE), axis=1)).astype(dtype)


# name -> (dtype, create_array keywords built from a codec module (zarr's or cuzarr's), marks)
CASES: dict[str, tuple[str, Any, tuple[str, ...]]] = {
    "delta": ("<i4", lambda m: {"filters": [m.Delta(dtype="<i4")]}, ()),
    "delta-astype": (
        "<i8",
        lambda m: {"filters": [m.Delta(dtype="<i8", astype="<i2")], "compressors": [m.Zlib(level=1)]},
        (),
    ),
    "bitround": ("<f4", lambda m: {"filters": [m.BitRound(keepbits=8)]}, ()),
    "quantize": ("<f8", lambda m: {"filters": [m.Quantize(digits=2)]}, ()),
    "fixedscaleoffset": ("<f8", lambda m: {"filters": [m.FixedScaleOffset(offset=273.15, scale=100)]}, ()),
    "fso-astype-i4": (
        "<f8",
        lambda m: {
            "filters": [m.FixedScaleOffset(offset=273.15, scale=100, dtype="<f8", astype="<i4")],
            "compressors": [m.BZ2(level=9)],
        },
        (),
    ),
    "fso-astype-u1": (
        "<f8",
        lambda m: {
            "filters": [m.FixedScaleOffset(offset=250, scale=5, dtype="<f8", astype="|u1")],
            "fill_value": 273.15,
        },
        (),
    ),
    "astype": ("<f8", lambda m: {"filters": [m.AsType(encode_dtype="<f4", decode_dtype="<f8")]}, ()),
    "astype-default": ("<f8", lambda m: {"filters": [m.AsType(encode_dtype="<f4")]}, ()),
    "astype+shuffle": (
        "<f8",
        lambda m: {
            "filters": [m.AsType(encode_dtype="<f4")],
            "compressors": [m.Shuffle(), m.LZ4(acceleration=1)],
        },
        (),
    ),
    "packbits": ("bool", lambda m: {"filters": [m.PackBits()]}, ()),
    "shuffle+zlib": ("<i4", lambda m: {"compressors": [m.Shuffle(), m.Zlib(level=1)]}, ()),
    "zlib": ("<i4", lambda m: {"compressors": [m.Zlib(level=5)]}, ()),
    "zlib-default": ("<i4", lambda m: {"compressors": [m.Zlib()]}, ()),
    "gzip": ("<f8", lambda m: {"compressors": [m.GZip(level=3)]}, ()),
    "bz2": ("<i4", lambda m: {"compressors": [m.BZ2(level=9)]}, ()),
    "lzma": ("<f4", lambda m: {"compressors": [m.LZMA(preset=1)]}, ()),
    "lzma-raw": (
        "<i4",
        lambda m: {
            "compressors": [
                m.LZMA(
                    format=lzma.FORMAT_RAW,
                    filters=[{"id": lzma.FILTER_DELTA, "dist": 4}, {"id": lzma.FILTER_LZMA2, "preset": 1}],
                )
            ]
        },
        (),
    ),
    "lz4": ("<i4", lambda m: {"compressors": [m.LZ4(acceleration=2)]}, ()),
    "lz4-default": ("<f8", lambda m: {"compressors": [m.LZ4()]}, ()),
    "blosc": ("<f4", lambda m: {"compressors": [m.Blosc(cname="zstd", clevel=3, shuffle=2)]}, ()),
    "blosc-default": ("<i4", lambda m: {"compressors": [m.Blosc()]}, ()),
    "zstd": ("<f8", lambda m: {"compressors": [m.Zstd(level=3)]}, ()),
    "zstd-checksum": ("<i4", lambda m: {"compressors": [m.Zstd(level=1, checksum=True)]}, ()),
    "zlib+crc32-start": ("<i4", lambda m: {"compressors": [m.Zlib(level=1), m.CRC32(location="start")]}, ()),
    "checksums-default": (
        "<i4",
        lambda m: {"compressors": [m.CRC32(), m.CRC32C(), m.Adler32(), m.Fletcher32(), m.JenkinsLookup3()]},
        (),
    ),
    "jenkins": ("<i4", lambda m: {"compressors": [m.JenkinsLookup3(initval=7)]}, ()),
    "climate-chain": (
        "<f4",
        lambda m: {
            "filters": [
                m.FixedScaleOffset(offset=273.15, scale=100, dtype="<f4", astype="<i4"),
                m.Delta(dtype="<i4"),
            ],
            "compressors": [m.Shuffle(elementsize=4), m.Zlib(level=6), m.Adler32(location="end")],
            "fill_value": 273.15,
        },
        (),
    ),
    "sharded": (
        "<f8",
        lambda m: {"shards": (10, 12), "filters": [m.Quantize(digits=2)], "compressors": [m.Zlib(level=1)]},
        (),
    ),
    "pcodec": ("<f8", lambda m: {"serializer": m.PCodec(level=4), "compressors": None}, ("pcodec",)),
    "zfpy": ("<f8", lambda m: {"serializer": m.ZFPY(mode=4, tolerance=0.01), "compressors": None}, ("zfpy",)),
}


def _needs(marks: tuple[str, ...]) -> None:
    for codec_id in ("pcodec", "zfpy"):
        if codec_id in marks and codec_id not in numcodecs.registry.codec_registry:
            pytest.skip(f"numcodecs' {codec_id} codec is not installed")


def _create(lib: Any, path: Path, name: str) -> tuple[Any, np.ndarray]:
    dtype, kwargs, marks = CASES[name]
    _needs(marks)
    data = field(dtype)
    module = znc if lib is zarr else cnc
    store = LocalStore(path) if lib is zarr else str(path)
    array = lib.create_array(store, shape=SHAPE, chunks=CHUNKS, dtype=dtype, **kwargs(module))
    array[...] = data
    return array, data


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- zarr-python <-> cuzarr --------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_reads_what_zarr_python_writes(tmp_path, name):
    theirs, _ = _create(zarr, tmp_path / "z", name)
    expected = [theirs[sel] for sel in SELECTIONS]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # reading existing metadata never warns
        ours = cuzarr.open_array(str(tmp_path / "z"), mode="r")
        got = [ours[sel] for sel in SELECTIONS]
    for want, have in zip(expected, got):
        np.testing.assert_array_equal(have, want)


@pytest.mark.parametrize("name", list(CASES))
def test_chunks_byte_identical_to_zarr_python(tmp_path, name):
    _create(zarr, tmp_path / "z", name)
    _create(cuzarr, tmp_path / "c", name)
    theirs, ours = _files(tmp_path / "z"), _files(tmp_path / "c")
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        if key != "zarr.json":
            assert _stable(name, ours[key]) == _stable(name, theirs[key]), key


def _stable(name: str, chunk: bytes) -> bytes:
    """gzip headers stamp the second they were written (bytes 4-8): mask it, not the rest."""
    return chunk[:4] + bytes(4) + chunk[8:] if name == "gzip" else chunk


@pytest.mark.parametrize("name", list(CASES))
def test_metadata_identical_to_zarr_python(tmp_path, name):
    _create(zarr, tmp_path / "z", name)
    _create(cuzarr, tmp_path / "c", name)
    assert (tmp_path / "c" / "zarr.json").read_text() == (tmp_path / "z" / "zarr.json").read_text()


@pytest.mark.parametrize("name", list(CASES))
def test_zarr_python_reads_what_cuzarr_writes(tmp_path, name):
    ours, data = _create(cuzarr, tmp_path / "c", name)
    back = zarr.open_array(LocalStore(tmp_path / "c"), mode="r")
    for sel in SELECTIONS:
        np.testing.assert_array_equal(back[sel], ours[sel])
    if name in ("delta", "delta-astype", "zlib", "lz4", "gzip", "bz2", "lzma-raw", "jenkins"):
        np.testing.assert_array_equal(back[...], data)  # lossless


def _zarr_spec(dtype: Any) -> Any:
    from zarr.core.array_spec import ArrayConfig, ArraySpec
    from zarr.core.buffer import default_buffer_prototype
    from zarr.dtype import parse_dtype

    dtype = parse_dtype(np.dtype(dtype), zarr_format=3)
    return ArraySpec((5,), dtype, 0, ArrayConfig.from_dict({}), default_buffer_prototype())


EVOLVE_CASES = [
    ("Shuffle", {}, "<f8"),
    ("Shuffle", {"elementsize": 2}, "<f8"),
    ("FixedScaleOffset", {"offset": 1.5, "scale": 10}, "<f4"),
    ("FixedScaleOffset", {"offset": 0, "scale": 2, "dtype": None, "astype": "<i2"}, "<f8"),
    ("Quantize", {"digits": 3}, "<f8"),
    ("AsType", {"encode_dtype": "<f2"}, "<f4"),
    ("Delta", {"dtype": "<i2"}, "<i2"),
    ("PackBits", {}, "bool"),
    ("BitRound", {"keepbits": 4}, "<f4"),
    ("CRC32", {}, "<i4"),
    ("CRC32C", {"location": "start"}, "<i4"),
    ("Adler32", {}, "<i4"),
    ("Fletcher32", {}, "<i4"),
    ("JenkinsLookup3", {"initval": 3}, "<i4"),
    ("Blosc", {}, "<i4"),
    ("Blosc", {"cname": "lz4", "clevel": 1, "shuffle": -1, "blocksize": 0, "typesize": 4}, "<i4"),
    ("LZ4", {"acceleration": 3}, "<i4"),
    ("Zstd", {"level": -1, "checksum": False}, "<i4"),
    ("Zlib", {}, "<i4"),
    ("GZip", {"level": 9}, "<i4"),
    ("BZ2", {"level": 1}, "<i4"),
    ("LZMA", {"format": 1, "check": 0, "preset": 6, "filters": None}, "<i4"),
]


@pytest.mark.parametrize(("cls", "config", "dtype"), EVOLVE_CASES)
def test_codec_json_like_zarr_python(cls, config, dtype):
    """Configuration always present, defaults filled from the array, keys in zarr-python's order."""
    theirs = getattr(znc, cls)(**config).evolve_from_array_spec(_zarr_spec(dtype)).to_dict()
    ours = getattr(cnc, cls)(**config).evolve(ChunkSpec((5,), np.dtype(dtype)))
    assert json.dumps(ours.to_json()) == json.dumps(theirs)
    assert json.dumps(ours.to_dict()) == json.dumps(theirs)
    assert codec_from_json(theirs) == ours
    assert codec_from_json(getattr(znc, cls)(**config)) == getattr(cnc, cls)(**config)


# -- filters that change dtype or shape ----------------------------------------------------------

ROUND_TRIPS = {
    "packbits": ("bool", True, lambda: [cnc.PackBits()]),
    "astype": ("<f8", -0.5, lambda: [cnc.AsType(encode_dtype="<f4")]),
    "fso-astype": ("<f8", 2.5, lambda: [cnc.FixedScaleOffset(offset=1000, scale=4, astype="<i2")]),
    "delta-astype": ("<i8", -7, lambda: [cnc.Delta(dtype="<i8", astype="<i2")]),
    "fso+delta": (
        "<f4",
        0.25,
        lambda: [cnc.FixedScaleOffset(offset=0, scale=4, astype="<i4"), cnc.Delta(dtype="<i4")],
    ),
}


def _exact(dtype: str) -> np.ndarray:
    """Values every filter above keeps exactly (quarters, small integers)."""
    data = field(dtype)
    return data if data.dtype.kind in "biu" else (np.round(data * 4) / 4).astype(dtype)


@pytest.mark.parametrize("name", list(ROUND_TRIPS))
@pytest.mark.parametrize("compressors", ["auto", None])
def test_dtype_and_shape_changing_filters_round_trip(tmp_path, name, compressors):
    dtype, fill, filters = ROUND_TRIPS[name]
    data = _exact(dtype)
    kwargs = {} if compressors == "auto" else {"compressors": None}
    path = str(tmp_path / "a")
    array = cuzarr.create_array(
        path, shape=SHAPE, chunks=CHUNKS, dtype=dtype, fill_value=fill, filters=filters(), **kwargs
    )
    assert not np.any(array[...] != np.full(SHAPE, fill, dtype))  # no chunk yet: all fill
    region = (slice(7, 23), slice(4, 17))  # partial chunks inside and at both edges
    array[region] = data[region]
    expected = np.full(SHAPE, fill, dtype)
    expected[region] = data[region]
    reopened = cuzarr.open_array(path, mode="r")
    for sel in SELECTIONS:
        np.testing.assert_array_equal(reopened[sel], expected[sel])
    assert not (tmp_path / "a" / "c" / "0" / "0").exists()  # untouched chunks stay unwritten
    array[0:2, 0:3] = np.asarray(fill, dtype)  # a chunk of fill values only is not stored
    assert not (tmp_path / "a" / "c" / "0" / "0").exists()
    np.testing.assert_array_equal(zarr.open_array(LocalStore(tmp_path / "a"), mode="r")[...], expected)


def test_packbits_resolves_shape_and_dtype():
    chain = CodecChain(
        [{"name": "numcodecs.packbits", "configuration": {}}, {"name": "bytes"}],
        ChunkSpec((3, 7), np.dtype(bool)),
    )
    data = field(bool)[:3, :7]
    encoded = np.asarray(chain.encode(data))
    assert encoded.size == 1 + 3  # padding count, then 21 bits in 3 bytes
    assert encoded[0] == 3
    np.testing.assert_array_equal(chain.decode(encoded), data)


# -- what users pass -----------------------------------------------------------------------------


def test_instances_zarr_instances_and_json_write_the_same(tmp_path):
    forms = {
        "cuzarr": lambda: ([cnc.Delta(dtype="<i4")], [cnc.BZ2(level=3), cnc.CRC32(location="end")]),
        "zarr": lambda: ([znc.Delta(dtype="<i4")], [znc.BZ2(level=3), znc.CRC32(location="end")]),
        "json": lambda: (
            [{"name": "numcodecs.delta", "configuration": {"dtype": "<i4"}}],
            [
                {"name": "numcodecs.bz2", "configuration": {"level": 3}},
                {"name": "numcodecs.crc32", "configuration": {"location": "end"}},
            ],
        ),
    }
    written = {}
    for form, make in forms.items():
        filters, compressors = make()
        path = tmp_path / form
        cuzarr.create_array(
            str(path), shape=SHAPE, chunks=CHUNKS, dtype="<i4", filters=filters, compressors=compressors
        )[...] = field("<i4")
        written[form] = _files(path)
    assert written["cuzarr"] == written["zarr"] == written["json"]


def test_bare_numcodecs_instances_are_refused_like_zarr_python(tmp_path):
    with pytest.raises(TypeError):  # zarr-python 3.1 refuses them for v3 arrays too
        zarr.create_array(
            LocalStore(tmp_path / "z"), shape=(4,), dtype="<i4", filters=[numcodecs.Delta(dtype="<i4")]
        )
    with pytest.raises(
        UnknownCodecError, match=r"cuzarr\.codecs\.numcodecs\.Delta\(dtype='<i4', astype='<i4'\)"
    ):
        cuzarr.create_array(
            str(tmp_path / "c"), shape=(4,), dtype="<i4", filters=[numcodecs.Delta(dtype="<i4")]
        )
    with pytest.raises(UnknownCodecError, match=r"numcodecs\.Zlib\(level=1\)"):
        codec_from_json(numcodecs.Zlib())
    with pytest.raises(TypeError):  # and the v3 wrappers are not v2 codecs, in zarr-python either
        cuzarr.create_array(
            str(tmp_path / "w"), shape=(4,), dtype="<i4", zarr_format=2, filters=[cnc.Delta(dtype="<i4")]
        )
    # v2 arrays keep taking them as filters and compressor
    array = cuzarr.create_array(
        str(tmp_path / "v2"), shape=(4,), dtype="<i4", zarr_format=2, filters=[numcodecs.Delta(dtype="<i4")]
    )
    array[...] = [5, 6, 8, 11]
    assert array[...].tolist() == [5, 6, 8, 11]


def test_exports_mirror_zarr_python():
    public = [n for n in znc.__all__ if not n.startswith("_")]
    assert sorted(cnc.__all__) == sorted(public)
    for name in public:
        ours = getattr(cuzarr.codecs, name)
        assert ours is getattr(cnc, name)
        assert getattr(zarr.codecs, name) is getattr(znc, name)  # zarr.codecs exports the same names
        assert ours.codec_name == getattr(znc, name).codec_name
        assert ours.codec_name in registered_codecs()
    # the spec codecs keep their own classes
    assert cuzarr.codecs.ZstdCodec is not cuzarr.codecs.Zstd
    assert (
        cuzarr.codecs.BloscCodec.codec_name == "blosc" and cuzarr.codecs.Blosc.codec_name == "numcodecs.blosc"
    )
    assert cuzarr.codecs.GzipCodec.codec_name == "gzip" and cuzarr.codecs.GZip.codec_name == "numcodecs.gzip"
    assert cuzarr.codecs.numcodecs is cnc


def test_constructing_warns_reading_does_not():
    with pytest.warns(UserWarning, match="not in the Zarr version 3 specification") as record:
        cnc.Zlib(level=1)
    assert record[0].filename == __file__  # points at the user's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        codec = codec_from_json(
            {"name": "numcodecs.fixedscaleoffset", "configuration": {"offset": 1, "scale": 2}}
        )
        codec.evolve(ChunkSpec((4,), np.dtype("<f8")))
        cnc.Shuffle.from_dict({"name": "numcodecs.shuffle", "configuration": {}})


def test_codec_attributes_like_zarr_python():
    codec = cnc.Quantize(digits=2, dtype="<f4")
    assert codec.codec_config == {"id": "quantize", "digits": 2, "dtype": "<f4"}
    assert codec.get_config() == {"digits": 2, "dtype": "<f4"}
    assert repr(codec) == "Quantize(digits=2, dtype='<f4')"
    assert codec == cnc.Quantize(digits=2, dtype="<f4") and hash(codec) == hash(
        cnc.Quantize(digits=2, dtype="<f4")
    )
    assert codec != cnc.Quantize(digits=3, dtype="<f4")
    # numpy values become their JSON equivalents
    assert cnc.FixedScaleOffset(offset=np.float32(1.5), scale=np.int64(4), dtype=np.float64).get_config() == {
        "offset": 1.5,
        "scale": 4,
        "dtype": "float64",
    }


# -- bad configurations and data -----------------------------------------------------------------

BAD_CONFIGS = [
    ("numcodecs.zlib", {"lvl": 1}, "unexpected keyword"),
    ("numcodecs.zlib", {"level": "9"}, "level must be an int"),
    ("numcodecs.zstd", {"checksum": 1}, "checksum must be a bool"),
    ("numcodecs.blosc", {"cname": "snappy9"}, "cname must be one of"),
    ("numcodecs.shuffle", {"elementsize": True}, "elementsize must be an int"),
    ("numcodecs.fixedscaleoffset", {"offset": "0", "scale": 1}, "offset must be a number"),
    ("numcodecs.delta", {"dtype": "float128x"}, "dtype must be a dtype"),
    ("numcodecs.delta", {}, "missing 1 required positional argument"),
    ("numcodecs.bitround", {"keepbits": -1}, "keepbits must be zero or positive"),
    ("numcodecs.packbits", {"x": 1}, "takes no arguments"),
    ("numcodecs.crc32", {"location": "middle"}, "location must be one of"),
    ("numcodecs.zlib", {"id": "gzip"}, "does not match"),
    ("numcodecs.jenkins_lookup3", {"initval": 1.5}, "initval must be an int"),
]


@pytest.mark.parametrize(("name", "config", "match"), BAD_CONFIGS)
def test_bad_configuration_is_a_metadata_error(name, config, match):
    with pytest.raises(MetadataError, match=match) as info:
        codec_from_json({"name": name, "configuration": config})
    assert info.value.field == "codecs"


def test_bad_configuration_in_stored_metadata(tmp_path):
    cuzarr.create_array(
        str(tmp_path / "a"), shape=(8,), chunks=(4,), dtype="<i4", compressors=[cnc.Zlib(level=1)]
    )[...] = 1
    doc = json.loads((tmp_path / "a" / "zarr.json").read_text())
    doc["codecs"][-1]["configuration"] = {"level": 1, "wbits": 9}
    (tmp_path / "a" / "zarr.json").write_text(json.dumps(doc))
    with pytest.raises(MetadataError, match="codecs") as info:
        cuzarr.open_array(str(tmp_path / "a"), mode="r")[...]
    assert "wbits" in str(info.value)


@pytest.mark.parametrize(
    ("dtype", "filters", "match"),
    [
        ("<i4", lambda: [cnc.Delta(dtype="<i2")], "dtype '<i2' is not the chunk dtype"),
        ("<f4", lambda: [cnc.FixedScaleOffset(offset=0, scale=1, dtype="<f8")], "is not the chunk dtype"),
        ("<i4", lambda: [cnc.PackBits()], "needs a bool array"),
    ],
)
def test_filter_that_does_not_fit_the_array(tmp_path, dtype, filters, match):
    with pytest.raises(MetadataError, match=match) as info:
        cuzarr.create_array(str(tmp_path / "a"), shape=(8,), dtype=dtype, filters=filters())
    assert info.value.field == "codecs"


def _truncate(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def _flip_last(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 0xFF])


def _flip_first(raw: bytes) -> bytes:
    return bytes([raw[0] ^ 0xFF]) + raw[1:]


CORRUPT = {
    "zlib": (lambda: [cnc.Zlib(level=1)], _truncate),
    "gzip": (lambda: [cnc.GZip(level=1)], _truncate),
    "bz2": (lambda: [cnc.BZ2(level=1)], _truncate),
    "lzma": (lambda: [cnc.LZMA(preset=1)], _truncate),
    "lz4": (lambda: [cnc.LZ4()], _truncate),
    "blosc": (lambda: [cnc.Blosc(cname="lz4")], _truncate),
    "zstd": (lambda: [cnc.Zstd(level=1)], _truncate),
    "shuffle": (lambda: [cnc.Shuffle()], lambda raw: raw[:-3]),
    "crc32": (lambda: [cnc.CRC32()], _flip_first),
    "crc32c": (lambda: [cnc.CRC32C()], _flip_first),
    "adler32": (lambda: [cnc.Adler32()], _flip_first),
    "fletcher32": (lambda: [cnc.Fletcher32()], _flip_first),
    "jenkins": (lambda: [cnc.JenkinsLookup3()], _flip_last),
    "zlib-garbage": (lambda: [cnc.Zlib(level=1)], lambda raw: b"\x78\x9c" + bytes(range(40))),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_corrupt_chunk_names_the_key(tmp_path, case):
    compressors, corrupt = CORRUPT[case]
    array = cuzarr.create_array(
        str(tmp_path / "a"), shape=SHAPE, chunks=CHUNKS, dtype="<i4", compressors=compressors()
    )
    array[...] = field("<i4")
    chunk = tmp_path / "a" / "c" / "1" / "2"
    chunk.write_bytes(corrupt(chunk.read_bytes()))
    reopened = cuzarr.open_array(str(tmp_path / "a"), mode="r")
    np.testing.assert_array_equal(reopened[:5, :], field("<i4")[:5, :])  # other chunks still read
    for sel in [(Ellipsis,), (slice(5, 10), slice(12, 18)), (7, 13)]:
        with pytest.raises(CodecError) as info:
            reopened[sel]
        assert info.value.key == "c/1/2"


def test_corrupt_packbits_padding_names_the_key(tmp_path):
    array = cuzarr.create_array(
        str(tmp_path / "a"),
        shape=SHAPE,
        chunks=CHUNKS,
        dtype=bool,
        filters=[cnc.PackBits()],
        compressors=None,
    )
    array[...] = field(bool)
    chunk = tmp_path / "a" / "c" / "0" / "0"
    raw = chunk.read_bytes()
    assert raw[0] == 2  # 30 items: 2 padding bits
    chunk.write_bytes(b"\x05" + raw[1:])
    with pytest.raises(CodecError, match="packbits") as info:
        cuzarr.open_array(str(tmp_path / "a"), mode="r")[...]
    assert info.value.key == "c/0/0"


def test_lz4_short_of_its_header_size():
    chain = CodecChain(
        [{"name": "bytes"}, {"name": "numcodecs.lz4", "configuration": {}}], ChunkSpec((8,), np.dtype("<i4"))
    )
    other = numcodecs.LZ4().encode(bytes(range(24)))  # a valid stream of 24 bytes, not 32
    with pytest.raises(CodecError, match="declares 24 decoded bytes, expected 32") as info:
        chain.decode(other, key="c/3")
    assert info.value.key == "c/3"
    with pytest.raises(CodecError):
        chain.decode(other, key="c/3", out=np.empty(8, "<i4"))


# -- chains --------------------------------------------------------------------------------------

LOSSLESS = [
    {"name": "numcodecs.zlib", "configuration": {"level": 1}},
    {"name": "numcodecs.gzip", "configuration": {"level": 1}},
    {"name": "numcodecs.bz2", "configuration": {"level": 1}},
    {"name": "numcodecs.lzma", "configuration": {"preset": 0}},
    {"name": "numcodecs.lz4", "configuration": {}},
    {"name": "numcodecs.blosc", "configuration": {"cname": "lz4", "shuffle": 1}},
    {"name": "numcodecs.zstd", "configuration": {"level": 1, "checksum": True}},
    {"name": "numcodecs.crc32", "configuration": {}},
    {"name": "numcodecs.crc32c", "configuration": {"location": "start"}},
    {"name": "numcodecs.adler32", "configuration": {}},
    {"name": "numcodecs.fletcher32", "configuration": {}},
    {"name": "numcodecs.jenkins_lookup3", "configuration": {"initval": 1}},
    {"name": "zstd", "configuration": {"level": 1, "checksum": False}},
    {"name": "crc32c", "configuration": {}},
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=hnp.arrays(
        st.sampled_from(["<i2", "<i4", "<u8", "<f4", "<f8", "|u1"]),
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=9),
    ),
    delta=st.booleans(),
    shuffle=st.booleans(),
    compressors=st.lists(st.sampled_from(LOSSLESS), max_size=3),
)
def test_random_chains_equal_numpy(data, delta, shuffle, compressors):
    """Lossless chains give back exactly the chunk, decoded to new memory or into an output."""
    filters = [{"name": "numcodecs.delta", "configuration": {"dtype": data.dtype.str}}]
    integer = data.dtype.kind in "iu"
    # shuffle needs whole items: it goes first (as zarr-python, numcodecs refuses a ragged buffer)
    shuffled = [{"name": "numcodecs.shuffle", "configuration": {}}] if shuffle else []
    codecs = [*(filters if delta and integer else []), {"name": "bytes"}, *shuffled, *compressors]
    chain = CodecChain(codecs, ChunkSpec(data.shape, data.dtype))
    encoded = bytes(chain.encode(data, key="c/0"))
    np.testing.assert_array_equal(chain.decode(encoded, key="c/0"), data)
    out = np.empty_like(data)
    assert chain.decode(encoded, key="c/0", out=out) is out
    np.testing.assert_array_equal(out, data)
    if compressors:  # one byte less is always refused, never short data
        with pytest.raises(CodecError) as info:
            chain.decode(encoded[:-1], key="c/0")
        assert info.value.key == "c/0"


# -- the device path -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["climate-chain", "zstd", "lz4", "blosc", "gzip", "zlib+crc32-start"])
def test_emulated_device_falls_back_to_the_host(tmp_path, name):
    dtype, kwargs, _ = CASES[name]
    data = field(dtype)
    cuzarr.config.set(device="emulated")  # reset after each test by tests/conftest.py
    array = cuzarr.create_array(str(tmp_path / "a"), shape=SHAPE, chunks=CHUNKS, dtype=dtype, **kwargs(cnc))
    array[...] = data
    array[2:9, 3:4] = data[2:9, 3:4]  # a partial write: read-modify-write
    emulated = cuzarr.open_array(str(tmp_path / "a"), mode="r")
    results = [np.asarray(emulated[sel]) for sel in SELECTIONS]
    cuzarr.config.reset()
    cpu = cuzarr.open_array(str(tmp_path / "a"), mode="r")
    for sel, got in zip(SELECTIONS, results):
        np.testing.assert_array_equal(got, cpu[sel])
    if name != "climate-chain":  # lossless
        np.testing.assert_array_equal(results[0], data)
    codecs = json.loads((tmp_path / "a" / "zarr.json").read_text())["codecs"]
    reason = plan_chain(CodecChain(codecs, ChunkSpec(CHUNKS, np.dtype(dtype))))
    assert isinstance(reason, str) and "numcodecs." in reason


@pytest.mark.parametrize(
    ("fmt", "filter_id"), [(lzma.FORMAT_XZ, lzma.FILTER_LZMA2), (lzma.FORMAT_ALONE, lzma.FILTER_LZMA1)]
)
def test_lzma_filters_outside_raw_read_back(tmp_path, fmt, filter_id):
    """numcodecs hands ``filters`` to its decoder for every format and liblzma refuses them outside
    raw streams, so zarr-python cannot read these chunks; the chain is in the stream, cuzarr reads it."""
    compressor = cnc.LZMA(format=fmt, filters=[{"id": filter_id, "preset": 1}])
    array = cuzarr.create_array(
        str(tmp_path / "a"), shape=SHAPE, chunks=CHUNKS, dtype="<i4", compressors=[compressor]
    )
    array[...] = field("<i4")
    np.testing.assert_array_equal(cuzarr.open_array(str(tmp_path / "a"), mode="r")[...], field("<i4"))
