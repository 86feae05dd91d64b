"""The ``crc32c`` codec: appends a little-endian CRC32C of the data and verifies it on read."""

from __future__ import annotations

from typing import Any

import crc32c as _crc32c
import numpy as np

from ..errors import CodecError
from .base import BytesBytesCodec, BytesLike, ChunkSpec, as_uint8


class Crc32cCodec(BytesBytesCodec):
    """Checksum only: detects corruption that compressors would happily decode to garbage."""

    codec_name = "crc32c"

    def __init__(self) -> None:
        pass

    def get_config(self) -> dict[str, Any]:
        return {}

    def encode(self, data: BytesLike, spec: ChunkSpec) -> np.ndarray:
        buf = as_uint8(data)
        result = np.empty(buf.size + 4, dtype=np.uint8)
        result[: buf.size] = buf
        result[buf.size :] = np.frombuffer(_crc32c.crc32c(buf).to_bytes(4, "little"), dtype=np.uint8)
        return result

    def decode(self, data: BytesLike, spec: ChunkSpec, out: np.ndarray | None = None) -> BytesLike:
        buf = as_uint8(data)
        if buf.size < 4:
            raise CodecError(
                f"input is {buf.size} bytes, too short to hold the 4-byte checksum", codec=self.codec_name
            )
        inner = buf[:-4]
        stored = int.from_bytes(bytes(buf[-4:]), "little")
        computed = _crc32c.crc32c(inner)
        if stored != computed:
            raise CodecError(
                f"checksum mismatch: stored 0x{stored:08x}, computed 0x{computed:08x} (data is corrupt)",
                codec=self.codec_name,
            )
        if out is None:
            return inner
        if inner.size != out.size:
            raise CodecError(f"decoded {inner.size} bytes, expected {out.size}", codec=self.codec_name)
        out[...] = inner
        return out
