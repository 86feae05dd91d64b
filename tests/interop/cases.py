"""The interop matrix shared by the zarr-python and tensorstore tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DTYPES = ["bool", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]
SHAPE, CHUNKS = (7, 5), (3, 2)

# v3 compressor chains as metadata JSON (both libraries take these dicts)
V3_COMPRESSORS = {
    "none": [],
    "gzip": [{"name": "gzip", "configuration": {"level": 1}}],
    "zstd": [{"name": "zstd", "configuration": {"level": 3, "checksum": True}}],
    "blosc-lz4-shuffle": [
        {
            "name": "blosc",
            "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "blocksize": 0},
        }
    ],
    "blosc-zstd-bitshuffle": [
        {
            "name": "blosc",
            "configuration": {"cname": "zstd", "clevel": 3, "shuffle": "bitshuffle", "blocksize": 0},
        }
    ],
    "crc32c": [{"name": "crc32c"}],
}


def v2_compressor(name: str):
    """The numcodecs compressor for a v2 case (an instance, as users pass it)."""
    import numcodecs
    from numcodecs.checksum32 import CRC32C

    return {
        "none": None,
        "gzip": numcodecs.GZip(level=1),
        "zstd": numcodecs.Zstd(level=3),
        "blosc-lz4-shuffle": numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
        "blosc-zstd-bitshuffle": numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE),
        "crc32c": CRC32C(),
    }[name]


def fill_value_for(dtype: np.dtype):
    """A non-default fill value, NaN for floats, so fill handling is exercised."""
    if dtype.kind == "b":
        return True
    if dtype.kind in "iu":
        return 7
    if dtype.kind == "f":
        return float("nan")
    return complex(float("nan"), 1.5)


def sample_data(dtype: np.dtype, fill) -> np.ndarray:
    """Random data with one chunk-aligned block left at the fill value (a missing chunk)."""
    rng = np.random.default_rng(abs(hash(dtype.str)) % 2**32)
    if dtype.kind == "b":
        data = rng.integers(0, 2, SHAPE).astype(bool)
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        data = rng.integers(info.min, info.max, SHAPE, dtype=dtype.newbyteorder("="), endpoint=True).astype(
            dtype
        )
    elif dtype.kind == "f":
        data = rng.normal(size=SHAPE).astype(dtype)
        data[0, 1] = np.inf
    else:
        data = (rng.normal(size=SHAPE) + 1j * rng.normal(size=SHAPE)).astype(dtype)
    data[0:3, 0:2] = fill
    return data


def assert_same(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape
    assert actual.dtype.newbyteorder("=") == expected.dtype.newbyteorder("=")
    np.testing.assert_array_equal(actual, expected)


def _mask_gzip_mtime(data: bytes) -> bytes:
    """numcodecs stamps the current time into gzip headers (bytes 4-8); compare without it."""
    return data[:4] + b"\0\0\0\0" + data[8:] if data[:2] == b"\x1f\x8b" else data


def stored_files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative key, gzip timestamps masked."""
    return {
        p.relative_to(root).as_posix(): _mask_gzip_mtime(p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
