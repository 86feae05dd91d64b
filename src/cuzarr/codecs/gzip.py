"""The ``gzip`` codec: numcodecs' GZip stream, with exact-size decoding into ``out``.

Encoding is numcodecs' (as zarr-python's), so chunks match zarr-python byte for byte except
for the 4-byte mtime that the gzip header stamps with the current time. Decoding reads into
``out`` and checks the exact size (numcodecs' GZip accepts a short stream into a larger
``out`` without complaint).
"""

from __future__ import annotations

import gzip as _gzip
import io
from typing import Any

import numpy as np
from numcodecs.gzip import GZip

from ..errors import MetadataError
from .base import BytesBytesCodec, BytesLike, ChunkSpec, as_uint8, check_decoded_size, codec_errors

_READ_SIZE = 1 << 20


def gzip_decode(data: BytesLike, out: np.ndarray | None = None, *, codec: str = "gzip") -> BytesLike:
    """Decode a (possibly multi-member) gzip stream; with ``out`` (flat uint8) fill exactly all of it."""
    with codec_errors(codec):
        source = data if isinstance(data, bytes) else as_uint8(data)
        if out is None:
            return _gzip.decompress(source)
        with _gzip.GzipFile(fileobj=io.BytesIO(source), mode="rb") as stream:
            filled = 0
            view = memoryview(out)
            while filled < out.size:
                # bounded reads: GzipFile.readinto builds a bytes object of the requested size first
                n = stream.readinto(view[filled : filled + _READ_SIZE])
                if not n:
                    break
                filled += n
            if filled == out.size and stream.read(1):
                filled += 1
        check_decoded_size(filled, out.size, codec) if filled <= out.size else _too_long(out.size, codec)
        return out


def _too_long(expected: int, codec: str) -> None:
    from ..errors import CodecError

    raise CodecError(f"decoded more than the expected {expected} bytes", codec=codec)


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
