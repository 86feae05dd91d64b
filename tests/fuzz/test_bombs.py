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
