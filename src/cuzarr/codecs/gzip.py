"""The ``gzip`` codec: numcodecs' GZip stream, with exact-size decoding into ``out``.

Encoding is numcodecs' (as zarr-python's), so chunks match zarr-python byte for byte except
for the 4-byte mtime that the gzip header stamps with the current time. Decoding fills ``out``
and checks the exact size (numcodecs' GZip accepts a short stream into a larger ``out`` without
complaint); ``codecs/inflate.py`` does it, with libdeflate where it can.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numcodecs.gzip import GZip

from ..errors import MetadataError
from .base import BytesBytesCodec, BytesLike, ChunkSpec, as_uint8, codec_errors
from .inflate import gzip_decode


class GzipCodec(BytesBytesCodec):
    """gzip (deflate) compression, ``level`` 0-9."""

    codec_name = "gzip"

    def __init__(self, level: int = 5):
        if not isinstance(level, int | np.integer) or isinstance(level, bool) or not 0 <= level <= 9:
            raise MetadataError(f"gzip codec: level must be an int from 0 to 9, got {level!r}")
        self.level = int(level)
        self._numcodec = GZip(level=self.level)

    def get_config(self) -> dict[str, Any]:
        return {"level": self.level}

    def encode(self, data: BytesLike, spec: ChunkSpec) -> bytes:
        with codec_errors(self.codec_name, "encoding"):
            return self._numcodec.encode(as_uint8(data))

    def decode(self, data: BytesLike, spec: ChunkSpec, out: np.ndarray | None = None) -> BytesLike:
        if out is None:  # no chunk-sized target bounds it: inflate at most the limit (bombs)
            from .limits import decode_limit, decompress_bounded

            return decompress_bounded("gzip", data, decode_limit(spec))
        return gzip_decode(data, out, codec=self.codec_name)
