"""Seed arrays for the fuzzers: valid stores (metadata + chunks) in every codec configuration.

The fuzzers mutate these documents and chunk bytes; the originals are what a correct read
returns, so checksummed configurations can assert "old data or an error", never anything else.
"""

from __future__ import annotations

import copy
import json
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
    out = {name: _make(name, spec, 3) for name, spec in _V3.items()}
    out.update({name: _make(name, spec, 2) for name, spec in _V2.items()})
    return out


SEED_NAMES = [*_V3, *_V2]

# -- JSON mutation -------------------------------------------------------------------------------
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
]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(_INTERESTING)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(max_size=6)
            | st.sampled_from(
                ["name", "configuration", "id", "codecs", "chunk_shape", "endian", "order", "level"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=8,
)


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
    """``doc`` with 1-4 random edits: replace a value, delete a key/item, add a key, duplicate an item."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths[1:] if len(paths) > 1 else paths))
        if not path:
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        op = draw(st.sampled_from(["replace", "replace", "delete", "add", "dup", "numeric"]))
        if op == "replace":
            parent[last] = draw(json_values)
        elif op == "delete":
            del parent[last]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = draw(json_values)
        elif op == "dup" and isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        elif op == "numeric" and isinstance(parent[last], int) and not isinstance(parent[last], bool):
            parent[last] = parent[last] + draw(st.sampled_from([-(2**63), -1, 1, 2**32, 2**64]))
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
