"""Seed arrays for the fuzzers: valid stores (metadata + chunks) in every codec configuration.

The fuzzers mutate these documents and chunk bytes; the originals are what a correct read
returns, so checksummed configurations can assert "old data or an error", never anything else.
"""

from __future__ import annotations

import copy
import json
import lzma
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from hypothesis import strategies as st

import cuzarr
from cuzarr.storage import MemoryStore

SHAPE = (6, 5)
CHUNKS = (4, 3)


@dataclass(frozen=True)
class Seed:
    """One valid array: its store contents, the data it holds and whether chunks are checksummed."""

    name: str
    items: dict[str, bytes]
    data: np.ndarray
    checksummed: bool
    zarr_format: int

    @property
    def metadata_key(self) -> str:
        return "zarr.json" if self.zarr_format == 3 else ".zarray"

    def chunk_keys(self) -> list[str]:
        return sorted(k for k in self.items if not k.endswith((".json", ".zarray", ".zattrs", ".zgroup")))

    def store(self, **replace: bytes) -> MemoryStore:
        store = MemoryStore()
        store.set_many({**self.items, **replace})
        return store


def _data(dtype: str) -> np.ndarray:
    n = int(np.prod(SHAPE))
    if dtype == "str":
        return np.array([f"s{i}" * (i % 3) for i in range(n)], dtype=object).reshape(SHAPE)
    if dtype == "bool":
        return (np.arange(n) % 3 == 0).reshape(SHAPE)
    return (np.arange(n) * 7 - 11).astype(dtype).reshape(SHAPE)


_V3: dict[str, dict[str, Any]] = {
    "v3-bytes": {"dtype": "<i4", "compressors": None},
    "v3-bytes-be": {
        "dtype": ">f8",
        "serializer": {"name": "bytes", "configuration": {"endian": "big"}},
        "compressors": None,
    },
    "v3-zstd": {"dtype": "<u2", "compressors": [{"name": "zstd", "configuration": {"level": 1}}]},
    "v3-zstd-checksum": {
        "dtype": "<i8",
        "compressors": [{"name": "zstd", "configuration": {"checksum": True}}],
    },
    "v3-gzip": {"dtype": "<f4", "compressors": [{"name": "gzip", "configuration": {"level": 1}}]},
    "v3-blosc": {"dtype": "<i2", "compressors": [{"name": "blosc", "configuration": {"cname": "lz4"}}]},
    "v3-blosc-bit": {
        "dtype": "<u1",
        "compressors": [{"name": "blosc", "configuration": {"cname": "zstd", "shuffle": "bitshuffle"}}],
    },
    "v3-crc32c": {"dtype": "<i4", "compressors": [{"name": "crc32c"}], "checksummed": True},
    "v3-zstd-crc32c": {
        "dtype": "<f8",
        "compressors": [{"name": "zstd"}, {"name": "crc32c"}],
        "checksummed": True,
    },
    "v3-transpose-zstd": {
        "dtype": "<i4",
        "filters": [{"name": "transpose", "configuration": {"order": [1, 0]}}],
        "compressors": [{"name": "zstd"}],
    },
    "v3-bool": {"dtype": "bool", "compressors": [{"name": "gzip"}]},
    "v3-complex": {"dtype": "<c16", "compressors": None},
    "v3-sharded": {"dtype": "<i4", "chunks": (2, 2), "shards": (4, 4), "compressors": [{"name": "zstd"}]},
    "v3-sharded-start": {
        "dtype": "<u2",
        "chunks": (4, 3),
        "codecs": [
            {
                "name": "sharding_indexed",
                "configuration": {
                    "chunk_shape": [2, 1],
                    "index_location": "start",
                    "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                    "index_codecs": [
                        {"name": "bytes", "configuration": {"endian": "little"}},
                        {"name": "crc32c"},
                    ],
                },
            }
        ],
        "checksummed": True,
    },
    "v3-vlen-utf8": {"dtype": "str", "compressors": [{"name": "zstd"}]},
}


_LZMA_RAW_FILTERS = [{"id": lzma.FILTER_DELTA, "dist": 4}, {"id": lzma.FILTER_LZMA2, "preset": 1}]


def _nc(codec_id: str, **configuration: Any) -> dict[str, Any]:
    """zarr-python's non-spec ``numcodecs.<id>`` codec as it stands in metadata."""
    return {"name": f"numcodecs.{codec_id}", "configuration": configuration}


# zarr-python 3's ``numcodecs.*`` codecs: every compressor and checksum, the filters that change
# dtype or shape, a climate chain and a sharded inner chain. Adler-32 and Fletcher-32 alone are not
# ``checksummed``: a few bit flips can cancel in them (+2/-1/-1 on neighbouring bytes; 0x0000 and
# 0xffff are the same Fletcher word), so wrong data past them is theirs, not a reader bug.
_V3_NUMCODECS: dict[str, dict[str, Any]] = {
    "v3-nc-blosc": {
        "dtype": "<i2",
        "compressors": [_nc("blosc", cname="zstd", clevel=3, shuffle=2, blocksize=0)],
    },
    "v3-nc-lz4": {"dtype": "<i4", "compressors": [_nc("lz4", acceleration=1)]},
    "v3-nc-zstd": {"dtype": "<u8", "compressors": [_nc("zstd", level=1, checksum=True)]},
    "v3-nc-zlib": {"dtype": "<f8", "compressors": [_nc("zlib", level=1)]},
    "v3-nc-gzip": {"dtype": "<i4", "compressors": [_nc("gzip", level=1)]},
    "v3-nc-bz2": {"dtype": "<u4", "compressors": [_nc("bz2", level=1)]},
    "v3-nc-lzma": {"dtype": "<f4", "compressors": [_nc("lzma", preset=1)]},
    "v3-nc-lzma-raw": {  # the filter chain is in the metadata, not the stream
        "dtype": "<i4",
        "compressors": [_nc("lzma", format=lzma.FORMAT_RAW, filters=_LZMA_RAW_FILTERS)],
    },
    "v3-nc-shuffle": {"dtype": "<f8", "compressors": [_nc("shuffle")]},
    "v3-nc-crc32": {"dtype": "<i4", "compressors": [_nc("crc32")], "checksummed": True},
    "v3-nc-lz4-crc32c-end": {
        "dtype": "<f8",
        "compressors": [_nc("lz4"), _nc("crc32c", location="end")],
        "checksummed": True,
    },
    "v3-nc-bz2-jenkins": {
        "dtype": "<u2",
        "compressors": [_nc("bz2", level=1), _nc("jenkins_lookup3", initval=7)],
        "checksummed": True,
    },
    "v3-nc-adler32": {"dtype": "<i8", "compressors": [_nc("adler32")]},
    "v3-nc-fletcher32": {"dtype": "<f4", "compressors": [_nc("fletcher32")]},
    "v3-nc-fso-astype": {
        "dtype": "<f8",
        "filters": [_nc("fixedscaleoffset", offset=1.5, scale=4, dtype="<f8", astype="<i2")],
        "compressors": None,
    },
    "v3-nc-astype": {"dtype": "<f8", "filters": [_nc("astype", encode_dtype="<f4")], "compressors": None},
    "v3-nc-packbits": {"dtype": "bool", "filters": [_nc("packbits")], "compressors": [_nc("zstd", level=1)]},
    "v3-nc-delta-astype": {
        "dtype": "<i8",
        "filters": [_nc("delta", dtype="<i8", astype="<i2")],
        "compressors": [_nc("gzip", level=1)],
    },
    "v3-nc-quantize": {
        "dtype": "<f8",
        "filters": [_nc("quantize", digits=2, dtype="<f8", astype="<f4")],
        "compressors": None,
    },
    "v3-nc-bitround": {"dtype": "<f4", "filters": [_nc("bitround", keepbits=6)], "compressors": None},
    # two Adler-32s (zlib's own over the data, the outer one over the stream): checksummed
    "v3-nc-climate": {
        "dtype": "<f4",
        "filters": [
            _nc("fixedscaleoffset", offset=273.15, scale=100, dtype="<f4", astype="<i4"),
            _nc("delta", dtype="<i4"),
        ],
        "compressors": [_nc("shuffle", elementsize=4), _nc("zlib", level=6), _nc("adler32", location="end")],
        "checksummed": True,
    },
    "v3-nc-sharded": {
        "dtype": "<i4",
        "chunks": (2, 2),
        "shards": (4, 4),
        "filters": [_nc("delta", dtype="<i4")],
        "compressors": [_nc("shuffle"), _nc("lz4"), _nc("crc32")],
        "checksummed": True,
    },
}
_V2: dict[str, dict[str, Any]] = {
    "v2-raw": {"dtype": "<i4", "compressors": None},
    "v2-zlib": {"dtype": "<f8", "compressors": {"id": "zlib", "level": 1}},
    "v2-blosc": {"dtype": "<i2", "compressors": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}},
    "v2-zstd": {"dtype": "<u4", "compressors": {"id": "zstd", "level": 1}},
    "v2-gzip": {"dtype": ">i4", "compressors": {"id": "gzip", "level": 1}},
    "v2-lz4": {"dtype": "<i8", "compressors": {"id": "lz4"}},
    "v2-bz2": {"dtype": "<f4", "compressors": {"id": "bz2", "level": 1}},
    "v2-lzma": {"dtype": "<u2", "compressors": {"id": "lzma"}},
    "v2-delta-zlib": {
        "dtype": "<i4",
        "filters": [{"id": "delta", "dtype": "<i4"}],
        "compressors": {"id": "zlib", "level": 1},
    },
    "v2-F-zstd": {"dtype": "<f8", "order": "F", "compressors": {"id": "zstd", "level": 1}},
    "v2-vlen-utf8": {"dtype": "str", "compressors": {"id": "zlib", "level": 1}},
    "v2-slash": {"dtype": "<u1", "dimension_separator": "/", "compressors": {"id": "blosc"}},
}


def _make(name: str, spec: dict[str, Any], zarr_format: int) -> Seed:
    spec = dict(spec)
    data = _data(spec.pop("dtype"))
    checksummed = spec.pop("checksummed", False)
    chunks = spec.pop("chunks", CHUNKS)
    store = MemoryStore()
    dtype = str if data.dtype == object else data.dtype
    kwargs: dict[str, Any] = {"zarr_format": zarr_format, "fill_value": None if dtype is str else 0}
    if "compressors" in spec:
        kwargs["compressor" if zarr_format == 2 else "compressors"] = spec.pop("compressors")
    arr = cuzarr.create_array(store, shape=SHAPE, chunks=chunks, dtype=dtype, **kwargs, **spec)
    arr[...] = data
    items = {key: bytes(store.get(key)) for key in store.list()}
    return Seed(name, items, np.asarray(arr[...]), checksummed, zarr_format)


@cache
def seeds() -> dict[str, Seed]:
    out = {name: _make(name, spec, 3) for name, spec in {**_V3, **_V3_NUMCODECS}.items()}
    out.update({name: _make(name, spec, 2) for name, spec in _V2.items()})
    return out


SEED_NAMES = [*_V3, *_V3_NUMCODECS, *_V2]

# -- JSON mutation -------------------------------------------------------------------------------
#: Codec names a mutation swaps in for another: the foreign codec then reads this configuration.
_CODEC_NAMES = [
    "bytes",
    "zstd",
    "gzip",
    "blosc",
    "crc32c",
    "transpose",
    "vlen-utf8",
    "numcodecs.zlib",
    "numcodecs.gzip",
    "numcodecs.lz4",
    "numcodecs.blosc",
    "numcodecs.zstd",
    "numcodecs.bz2",
    "numcodecs.lzma",
    "numcodecs.shuffle",
    "numcodecs.crc32",
    "numcodecs.adler32",
    "numcodecs.fletcher32",
    "numcodecs.jenkins_lookup3",
    "numcodecs.delta",
    "numcodecs.fixedscaleoffset",
    "numcodecs.quantize",
    "numcodecs.bitround",
    "numcodecs.astype",
    "numcodecs.packbits",
    "numcodecs.pcodec",
    "numcodecs.zfpy",
]
_INTERESTING = [
    0,
    1,
    -1,
    2,
    3,
    255,
    2**31,
    2**32 + 1,
    2**53,
    2**63,
    2**64,
    -(2**63),
    10**30,
    1.5,
    -0.0,
    "",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x7fc00000",
    "bytes",
    "zstd",
    "gzip",
    "blosc",
    "crc32c",
    "sharding_indexed",
    "transpose",
    "vlen-utf8",
    "uint8",
    "<f8",
    "|O",
    "|S0",
    "<U0",
    "C",
    "F",
    "/",
    ".",
    "start",
    "end",
    "little",
    "big",
    "regular",
    "default",
    "v2",
    "../x",
    "/abs",
    "a\\b",
    "c:",
    "\x00",
    "array",
    "group",
    "must_understand",
    "pickle",
    # the numcodecs.* codecs: their names and configuration values
    *_CODEC_NAMES,
    "numcodecs.",
    "lz4",
    "zlib",
    "<i2",
    "<i4",
    ">i4",
    "|u1",
    "<f2",
    "<f4",
    "float64",
    "bool",
    "|b1",
    "<M8[ns]",
    "V3",
    "<U4",
    "S1",
    -15,
    8,
    24,
    53,
    [{"id": 33}],
    [{"id": 3, "dist": 0}],
]
# configuration keys: "add" puts them where they do not belong, "replace" gives them odd values
_CONFIG_KEYS = [
    "name",
    "configuration",
    "id",
    "codecs",
    "chunk_shape",
    "endian",
    "order",
    "level",
    "clevel",
    "cname",
    "shuffle",
    "blocksize",
    "typesize",
    "acceleration",
    "checksum",
    "preset",
    "format",
    "check",
    "filters",
    "elementsize",
    "location",
    "initval",
    "dtype",
    "astype",
    "encode_dtype",
    "decode_dtype",
    "offset",
    "scale",
    "digits",
    "keepbits",
]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(_INTERESTING).map(copy.deepcopy)  # lists and dicts in it stay unmutated
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(max_size=6) | st.sampled_from(_CONFIG_KEYS),
            inner,
            max_size=4,
        )
    ),
    max_leaves=8,
)


#: Metadata fields holding codecs (v3, then v2).
_CODEC_FIELDS = ("codecs", "compressor", "filters")


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += _paths(value, (*prefix, i))
    return out


@st.composite
def mutated_json(draw: st.DrawFn, doc: dict) -> dict:
    """``doc`` with 1-4 random edits: replace a value, delete a key/item, add a key, duplicate an item,
    or swap a codec name for another (the configuration stays, so a codec reads a foreign one)."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)[1:] or [()]
        # half the edits go into the codec list (a few of the document's many paths otherwise), so
        # that every codec's configuration validation sees type-confused and extreme values
        in_codecs = [p for p in paths if len(p) > 1 and p[0] in _CODEC_FIELDS]
        path = draw(st.sampled_from(in_codecs if in_codecs and draw(st.booleans()) else paths))
        if not path:
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        op = draw(st.sampled_from(["replace", "replace", "delete", "add", "dup", "numeric", "codec"]))
        if op == "replace":
            parent[last] = draw(json_values)
        elif op == "delete":
            del parent[last]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=6) | st.sampled_from(_CONFIG_KEYS))] = draw(json_values)
        elif op == "dup" and isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        elif op == "numeric" and isinstance(parent[last], int) and not isinstance(parent[last], bool):
            parent[last] = parent[last] + draw(st.sampled_from([-(2**63), -1, 1, 2**32, 2**64]))
        elif op == "codec" and parent[last] in _CODEC_NAMES:
            parent[last] = draw(st.sampled_from(_CODEC_NAMES))
    return doc


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` truncated, extended, bit-flipped, spliced, or replaced by random bytes."""
    op = draw(
        st.sampled_from(["flip", "flip", "truncate", "extend", "splice", "random", "empty", "overwrite"])
    )
    buf = bytearray(data)
    if op == "random":
        return draw(st.binary(max_size=2 * len(data) + 32))
    if op == "empty":
        return b""
    if op == "truncate" and buf:
        return bytes(buf[: draw(st.integers(0, len(buf) - 1))])
    if op == "extend":
        return bytes(buf) + draw(st.binary(min_size=1, max_size=64))
    if op == "splice" and buf:
        i = draw(st.integers(0, len(buf)))
        return bytes(buf[:i]) + draw(st.binary(max_size=32)) + bytes(buf[i + draw(st.integers(0, 16)) :])
    if op == "overwrite" and len(buf) >= 8:
        i = draw(st.integers(0, len(buf) - 8))
        buf[i : i + 8] = draw(
            st.sampled_from(
                [b"\xff" * 8, b"\x00" * 8, b"\x7f\xff\xff\xff" * 2, (2**40).to_bytes(8, "little")]
            )
        )
        return bytes(buf)
    if buf:
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(buf) - 1))
            buf[i] ^= 1 << draw(st.integers(0, 7))
    return bytes(buf)


def load_doc(seed: Seed) -> dict:
    return json.loads(seed.items[seed.metadata_key])
