"""CPU codecs for single raw streams: what the emulated device uses in place of nvCOMP.

Each function handles the bare stream formats nvCOMP decodes with RAW bitstreams: an LZ4 block
(no frame, no size prefix), a zstd frame, and a raw deflate (RFC 1951) stream.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from numcodecs.lz4 import LZ4
from numcodecs.zstd import Zstd

_LZ4 = LZ4()
_ZSTD = Zstd()


def decompress(codec: str, data: np.ndarray, size: int) -> bytes:
    """Decode one raw stream expected to hold ``size`` bytes (the result may differ: callers check)."""
    if codec == "lz4":
        # numcodecs' LZ4 expects its 4-byte decoded-size prefix in front of the raw block
        return bytes(_LZ4.decode(struct.pack("<I", size) + data.tobytes()))
    if codec == "zstd":
        return bytes(_ZSTD.decode(data))
    if codec == "deflate":
        inflater = zlib.decompressobj(-15)
        out = inflater.decompress(data.tobytes(), size + 1)
        if not inflater.eof:
            raise ValueError("truncated deflate stream")
        return out
    raise ValueError(f"no CPU stream decoder for {codec!r}")


def compress(codec: str, data: np.ndarray, level: int) -> bytes:
    """Encode one raw stream (the format ``decompress`` reads)."""
    if codec == "lz4":
        return bytes(LZ4(acceleration=max(level, 1)).encode(data))[4:]
    if codec == "zstd":
        return bytes(Zstd(level=level).encode(data))
    if codec == "deflate":
        deflater = zlib.compressobj(level, zlib.DEFLATED, -15)
        return deflater.compress(data) + deflater.flush()
    raise ValueError(f"no CPU stream encoder for {codec!r}")
