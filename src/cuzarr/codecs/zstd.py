"""The ``zstd`` codec (numcodecs' Zstd), decoding straight into preallocated memory.

numcodecs trusts the frame header's content size when filling a larger ``out`` buffer, so the
declared size is checked here first: a frame that does not decode to exactly the expected
number of bytes is an error, never silently short data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numcodecs.zstd import Zstd

from ..errors import CodecError, MetadataError
from .base import BytesBytesCodec, BytesLike, ChunkSpec, as_uint8, check_decoded_size, codec_errors

_MAGIC = b"\x28\xb5\x2f\xfd"
_DICT_ID_BYTES = (0, 1, 2, 4)
_FCS_BYTES = (0, 2, 4, 8)
_DECODER = Zstd()  # decoding does not depend on the level; numcodecs codecs are thread-safe


def frame_content_size(data: BytesLike) -> int | None:
    """Decompressed size declared by the first frame header; None when not declared or not zstd."""
    buf = as_uint8(data)
    if buf.size < 6 or bytes(buf[:4]) != _MAGIC:
        return None
    descriptor = int(buf[4])
    single_segment = (descriptor >> 5) & 1
    fcs_flag = descriptor >> 6
    size = _FCS_BYTES[fcs_flag] or (1 if single_segment else 0)
    if size == 0:
        return None
    start = 5 + (0 if single_segment else 1) + _DICT_ID_BYTES[descriptor & 3]
    if buf.size < start + size:
        return None
    value = int.from_bytes(bytes(buf[start : start + size]), "little")
    return value + 256 if size == 2 else value


def zstd_decode(data: BytesLike, out: np.ndarray | None = None, *, codec: str = "zstd") -> BytesLike:
    """Decode a zstd stream; with ``out`` (flat uint8) fill exactly all of it or raise."""
    declared = frame_content_size(data)
    if declared == 0 and (out is None or out.size == 0):
        return b"" if out is None else out  # numcodecs refuses empty frames
    with codec_errors(codec):
        if out is None:
            return _DECODER.decode(data)
        if declared is not None and declared > out.size:
            raise CodecError(
                f"frame header declares {declared} decoded bytes, expected {out.size}", codec=codec
            )
        if declared is None or declared == out.size:
            # numcodecs checks unknown sizes itself; zstd checks a declared size against the frame
            _DECODER.decode(data, out=out)
            return out
        # several frames, the first one smaller than the whole: decode, then check the total
        decoded = as_uint8(_DECODER.decode(data))
        check_decoded_size(decoded.size, out.size, codec)
        out[...] = decoded
        return out


class ZstdCodec(BytesBytesCodec):
    """Zstandard compression; ``level`` may be negative (fast modes), up to 22."""

    codec_name = "zstd"

    def __init__(self, level: int = 0, checksum: bool = False):
        if not isinstance(level, int | np.integer) or isinstance(level, bool) or level > 22:
            raise MetadataError(f"zstd codec: level must be an int <= 22, got {level!r}")
        if not isinstance(checksum, bool):
            raise MetadataError(f"zstd codec: checksum must be a bool, got {checksum!r}")
        self.level = int(level)
        self.checksum = checksum
        self._numcodec = Zstd(level=self.level, checksum=checksum)

    def get_config(self) -> dict[str, Any]:
        return {"level": self.level, "checksum": self.checksum}

    def encode(self, data: BytesLike, spec: ChunkSpec) -> bytes:
        with codec_errors(self.codec_name, "encoding"):
            return self._numcodec.encode(as_uint8(data))

    def decode(self, data: BytesLike, spec: ChunkSpec, out: np.ndarray | None = None) -> BytesLike:
        if out is None:  # no chunk-sized target bounds it: check the frame headers first (bombs)
            from .limits import decode_limit, zstd_bound

            limit = decode_limit(spec)
            if zstd_bound(data, self.codec_name) > limit:
                raise CodecError(
                    f"stream declares more than {limit} bytes (decompression bomb?)", codec="zstd"
                )
        return zstd_decode(data, out, codec=self.codec_name)
