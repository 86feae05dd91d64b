"""``vlen-utf8`` / ``vlen-bytes``: the array->bytes codecs of variable-length strings and bytes.

The stream is numcodecs' (and zarr-python's): a little-endian uint32 item count, then per item a
uint32 byte length and the bytes, in C order. numcodecs does the work (in C), so chunks are
byte-identical to zarr-python's. These codecs run on the host: a GPU backend hands them host
arrays, as zarr-python does.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numcodecs.vlen import VLenBytes, VLenUTF8

from ..errors import CodecError, MetadataError
from .base import ArrayBytesCodec, BytesLike, ChunkSpec, Codec, as_uint8, codec_errors
from .bytes import BytesCodec

_UTF8 = VLenUTF8()
_BYTES = VLenBytes()


class _VLenCodec(ArrayBytesCodec):
    """Shared logic: one numcodecs object, a check of the item count, a cast to the chunk dtype."""

    _numcodec: ClassVar[Any]
    _kinds: ClassVar[str]  # NumPy dtype kinds this codec serializes

    def __init__(self) -> None:
        pass

    @classmethod
    def from_config(cls, configuration: dict[str, Any] | None) -> Codec:
        if configuration:
            raise MetadataError(f"codec {cls.codec_name!r} takes no configuration, got {configuration!r}")
        return cls()

    def get_config(self) -> dict[str, Any]:
        return {}

    def to_json(self) -> dict[str, Any]:
        """zarr-python writes an explicit empty configuration for these codecs."""
        return {"name": self.codec_name, "configuration": {}}

    def evolve(self, spec: ChunkSpec) -> Codec:
        if spec.dtype.kind not in self._kinds or spec.dtype.fields is not None:
            raise MetadataError(
                f"codec {self.codec_name!r} cannot serialize data type {spec.dtype}; "
                f"{_expected(self.codec_name)}"
            )
        return self

    def encode(self, chunk: np.ndarray, spec: ChunkSpec) -> BytesLike:
        arr = np.asarray(chunk)
        if arr.dtype != spec.dtype:
            arr = arr.astype(spec.dtype)
        if not (arr.flags.c_contiguous and arr.flags.writeable):  # numcodecs needs writable C order
            arr = np.array(arr, order="C")
        with codec_errors(self.codec_name, "encoding"):
            return self._numcodec.encode(arr)

    def decode(self, data: BytesLike, spec: ChunkSpec, out: np.ndarray | None = None) -> np.ndarray:
        buf = as_uint8(data)
        expected = int(np.prod(spec.shape, dtype=np.int64))
        check_item_count(buf, expected, self.codec_name)
        with codec_errors(self.codec_name):
            items = self._numcodec.decode(buf)
        if items.size != expected:
            raise CodecError(f"decoded {items.size} items, expected {expected}", codec=self.codec_name)
        arr = items.reshape(spec.shape)
        if arr.dtype != spec.dtype:
            arr = arr.astype(spec.dtype)
        if out is None:
            return arr
        np.copyto(out, arr)
        return out


def check_item_count(data: BytesLike, expected: int, codec: str) -> None:
    """The vlen header's item count comes first: refuse a wrong one before numcodecs allocates for it."""
    buf = as_uint8(data)
    declared = int.from_bytes(bytes(buf[:4]), "little") if buf.size >= 4 else None
    if declared != expected:
        raise CodecError(
            f"header declares {declared} items, expected {expected}"
            if declared is not None
            else f"input is {buf.size} bytes, too short for the 4-byte item count",
            codec=codec,
        )


def _expected(name: str) -> str:
    if name == "vlen-utf8":
        return "it serializes the 'string' data type (str / numpy StringDType)"
    return "it serializes the 'variable_length_bytes' data type (object arrays of bytes)"


class VLenUTF8Codec(_VLenCodec):
    """Variable-length UTF-8 strings (data type ``string``); decodes to ``StringDType`` like zarr-python."""

    codec_name = "vlen-utf8"
    _numcodec = _UTF8
    _kinds = "TO"


class VLenBytesCodec(_VLenCodec):
    """Variable-length bytes (data type ``variable_length_bytes``, object arrays of ``bytes``)."""

    codec_name = "vlen-bytes"
    _numcodec = _BYTES
    _kinds = "O"


def default_serializer(dtype: Any) -> ArrayBytesCodec:
    """zarr-python's default v3 array->bytes codec for ``dtype`` (``default_serializer_v3``)."""
    dt = np.dtype(dtype)
    if dt.kind == "T":
        return VLenUTF8Codec()
    if dt.kind == "O":
        return VLenBytesCodec()
    return BytesCodec()


def default_v2_filters(dtype: Any) -> list[dict[str, Any]] | None:
    """zarr-python's default v2 ``filters`` for ``dtype``: the object codec of variable-length types."""
    dt = np.dtype(dtype)
    if dt.kind == "T":
        return [{"id": "vlen-utf8"}]
    if dt.kind == "O":
        return [{"id": "vlen-bytes"}]
    return None
