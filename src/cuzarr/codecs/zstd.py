"""The ``zstd`` codec: numcodecs' Zstd for encoding and for decoding into given memory,
python-zstandard for decoding to new memory.

python-zstandard keeps one decompression context per thread, which makes it 1.2-2.4x faster
than numcodecs (a new context per call) on 32x32 to 1024x1024 float32 chunks; numcodecs can
decode straight into an output view, which saves a copy for chunks that map onto one.

numcodecs trusts the frame header's content size when filling a larger ``out`` buffer, so the
declared size is checked here first: a frame that does not decode to exactly the expected
number of bytes is an error, never silently short data.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import zstandard
from numcodecs.zstd import Zstd

from ..errors import CodecError, MetadataError
from .base import BytesBytesCodec, BytesLike, ChunkSpec, as_uint8, check_decoded_size, codec_errors
from .limits import decode_limit, zstd_bound

_MAGIC = b"\x28\xb5\x2f\xfd"
_DICT_ID_BYTES = (0, 1, 2, 4)
_FCS_BYTES = (0, 2, 4, 8)
_DECODER = Zstd()  # decoding does not depend on the level; numcodecs codecs are thread-safe
_contexts = threading.local()  # .dctx: this thread's python-zstandard decompressor (not thread-safe)


def _decompress_single_frame(data: BytesLike) -> bytes | None:
    """One frame that declares its size, decoded with this thread's reused context; ``None``
    when ``data`` is more than one frame (numcodecs then decodes them all)."""
    try:
        return _thread_decompressor().decompress(data, allow_extra_data=False)
    except zstandard.ZstdError as exc:
        if "unused data" in str(exc):
            return None
        raise


def _thread_decompressor() -> zstandard.ZstdDecompressor:
    dctx = getattr(_contexts, "dctx", None)
    if dctx is None:
        dctx = _contexts.dctx = zstandard.ZstdDecompressor()
    return dctx


def decompress_many(frames: Sequence[BytesLike], nbytes: int) -> list[np.ndarray] | None:
    """Every stream decoded to exactly ``nbytes`` in one native call on this thread (the GIL is
    released for all of them): read-only flat uint8 arrays sharing one allocation. ``None`` when
    the batch cannot go this way (a stream of several frames, a size that differs, corrupt data):
    the caller then decodes stream by stream, which names the bad chunk or handles the frames.
    The output is sized from ``nbytes``, never from the headers, so a forged size cannot allocate."""
    if nbytes <= 0 or not frames:  # zstandard 0.25 corrupts its heap on zero-sized outputs
        return None
    sizes = np.full(len(frames), nbytes, dtype=np.uint64)
    try:
        decoded = _thread_decompressor().multi_decompress_to_buffer(
            list(frames), decompressed_sizes=sizes, threads=0
        )
    except (zstandard.ZstdError, ValueError, TypeError):
        return None
    return [np.frombuffer(decoded[i], dtype=np.uint8) for i in range(len(frames))]


def frame_content_size(data: BytesLike) -> int | None:
    """Decompressed size declared by the first frame header; None when not declared or not zstd."""
    buf = data if isinstance(data, bytes) else bytes(as_uint8(data)[:18])  # 18: longest header
    if len(buf) < 6 or buf[:4] != _MAGIC:
        return None
    descriptor = buf[4]
    single_segment = (descriptor >> 5) & 1
    fcs_flag = descriptor >> 6
    size = _FCS_BYTES[fcs_flag] or (1 if single_segment else 0)
    if size == 0:
        return None
    start = 5 + (0 if single_segment else 1) + _DICT_ID_BYTES[descriptor & 3]
    if len(buf) < start + size:
        return None
    value = int.from_bytes(buf[start : start + size], "little")
    return value + 256 if size == 2 else value


def zstd_decode(data: BytesLike, out: np.ndarray | None = None, *, codec: str = "zstd") -> BytesLike:
    """Decode a zstd stream; with ``out`` (flat uint8) fill exactly all of it or raise."""
    declared = frame_content_size(data)
    if declared == 0 and (out is None or out.size == 0):
        return b"" if out is None else out  # numcodecs refuses empty frames
    with codec_errors(codec):
        if out is None:  # ``ZstdCodec.decode`` already tried one sized frame: several frames here
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
    decodes_fresh_fast = True

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
            limit = decode_limit(spec)
            declared = frame_content_size(data)
            if declared is not None and declared <= limit:
                with codec_errors(self.codec_name):  # one frame: exactly ``declared`` bytes or an error
                    decoded = _decompress_single_frame(data)
                if decoded is not None:
                    return decoded
            if zstd_bound(data, self.codec_name) > limit:
                raise CodecError(
                    f"stream declares more than {limit} bytes (decompression bomb?)", codec="zstd"
                )
        return zstd_decode(data, out, codec=self.codec_name)

    def decode_many(self, items: Sequence[BytesLike], spec: ChunkSpec) -> list[np.ndarray] | None:
        return decompress_many(items, spec.nbytes)
