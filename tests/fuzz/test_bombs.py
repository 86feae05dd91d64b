"""Decompression bombs: a chunk whose stream claims (or inflates to) more than the chunk's
declared size is refused before the memory is spent."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import tracemalloc
import zlib

import numcodecs
import numpy as np
import pytest

import cuzarr
from cuzarr.errors import CodecError
from cuzarr.storage import MemoryStore

_BOMB = 64 << 20  # what a forged chunk inflates to
_BUDGET = 32 << 20  # peak traced allocation allowed while refusing it
_VLEN_CAP = 8 << 20  # max_vlen_chunk_bytes during these tests
_ZEROS = bytes(_BOMB)


def _zstd(data: bytes) -> bytes:
    return numcodecs.Zstd(level=1).encode(data)


def _blosc(data: bytes) -> bytes:
    return numcodecs.Blosc(cname="lz4", clevel=1).encode(np.frombuffer(data, np.uint8))


_COMPRESS = {
    "gzip": gzip.compress,
    "zstd": _zstd,
    "blosc": _blosc,
    "zlib": zlib.compress,
    "bz2": bz2.compress,
    "lzma": lzma.compress,
    "lz4": lambda d: numcodecs.LZ4().encode(d),
}
_BOMBS = {name: fn(_ZEROS) for name, fn in _COMPRESS.items()}

V3_CASES = {
    "zstd": [{"name": "zstd"}],
    "gzip": [{"name": "gzip"}],
    "blosc": [{"name": "blosc"}],
    "zstd-outer-of-two": [{"name": "gzip"}, {"name": "zstd"}],
    "gzip-outer-of-two": [{"name": "zstd"}, {"name": "gzip"}],
}


def _refuses(arr, key: str) -> None:
    cuzarr.config.set(max_vlen_chunk_bytes=_VLEN_CAP)  # reset after each test by tests/conftest.py
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with pytest.raises(CodecError) as info:
            arr[...]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert key in str(info.value)
    assert peak < _BUDGET, f"refusing the bomb allocated {peak >> 20} MiB"


@pytest.mark.parametrize("case", list(V3_CASES))
@pytest.mark.parametrize("dtype", ["<f8", "str"])
def test_v3_bomb_refused(case: str, dtype: str) -> None:
    store = MemoryStore()
    arr = cuzarr.create_array(
        store, shape=(16,), chunks=(16,), dtype=str if dtype == "str" else dtype, compressors=V3_CASES[case]
    )
    outer = V3_CASES[case][-1]["name"]
    store.set("c/0", _BOMBS[outer])
    _refuses(arr, "c/0")


@pytest.mark.parametrize("compressor", list(_COMPRESS))
@pytest.mark.parametrize("filters", [None, [{"id": "delta", "dtype": "<i8"}], "vlen"])
def test_v2_bomb_refused(compressor: str, filters: object) -> None:
    store = MemoryStore()
    dtype = "|O" if filters == "vlen" else "<i8"
    config = {"id": compressor} if compressor != "blosc" else {"id": "blosc", "cname": "lz4"}
    doc = {
        "zarr_format": 2,
        "shape": [16],
        "chunks": [16],
        "dtype": dtype,
        "compressor": config,
        "filters": [{"id": "vlen-utf8"}] if filters == "vlen" else filters,
        "fill_value": None,
        "order": "C",
    }
    store.set(".zarray", json.dumps(doc).encode())
    store.set("0", _BOMBS[compressor])
    _refuses(cuzarr.open_array(store, mode="r"), "0")


# zarr-python's non-spec v3 codecs (``numcodecs.<id>``) share the numcodecs stream formats above
NUMCODECS_V3_CASES = {
    **{f"numcodecs.{name}": [{"name": f"numcodecs.{name}", "configuration": {}}] for name in _COMPRESS},
    "numcodecs.zlib-outer-of-two": [{"name": "zstd"}, {"name": "numcodecs.zlib", "configuration": {}}],
    "numcodecs.lz4-outer-of-two": [{"name": "gzip"}, {"name": "numcodecs.lz4", "configuration": {}}],
    "numcodecs.bz2-after-shuffle": [
        {"name": "numcodecs.shuffle", "configuration": {}},
        {"name": "numcodecs.bz2", "configuration": {}},
    ],
}


@pytest.mark.parametrize("case", list(NUMCODECS_V3_CASES))
@pytest.mark.parametrize("dtype", ["<f8", "str"])
def test_v3_numcodecs_bomb_refused(case: str, dtype: str) -> None:
    store = MemoryStore()
    codecs = NUMCODECS_V3_CASES[case]
    arr = cuzarr.create_array(
        store, shape=(16,), chunks=(16,), dtype=str if dtype == "str" else dtype, compressors=codecs
    )
    store.set("c/0", _BOMBS[codecs[-1]["name"].removeprefix("numcodecs.")])
    _refuses(arr, "c/0")


@pytest.mark.parametrize(
    ("codec_id", "config", "match"),
    [
        ("zfpy", {"mode": 4, "tolerance": 0.5}, f"header declares {_BOMB} decoded bytes, expected 128"),
        ("pcodec", {"level": 0}, "stream holds other than the 16 items of the chunk"),
    ],
)
def test_v3_numcodecs_serializer_bomb_refused(codec_id: str, config: dict, match: str) -> None:
    """zfpy allocates what its header declares, pcodec what its stream holds: neither past the chunk.

    Their allocations are native (invisible to tracemalloc): the message says where it was refused."""
    if codec_id not in numcodecs.registry.codec_registry:
        pytest.skip(f"numcodecs' {codec_id} codec is not installed")
    store = MemoryStore()
    serializer = {"name": f"numcodecs.{codec_id}", "configuration": config}
    arr = cuzarr.create_array(
        store, shape=(16,), chunks=(16,), dtype="<f8", serializer=serializer, compressors=None
    )
    bomb = numcodecs.get_codec({"id": codec_id, **config}).encode(np.zeros(_BOMB // 8))
    assert len(bomb) < _BUDGET
    store.set("c/0", bomb)
    with pytest.raises(CodecError, match=match) as info:
        arr[...]
    assert info.value.key == "c/0"
