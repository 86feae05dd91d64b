"""The ``bytes`` serializer: a chunk's elements in C order with a fixed byte order.

Decoding is a zero-copy view whenever the stored byte order is the native one, so the
pipeline can decompress straight into the output array and call this as a no-op.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any

import numpy as np

from ..errors import CodecError, MetadataError
from .base import ArrayBytesCodec, BytesLike, ChunkSpec, as_uint8


class Endian(StrEnum):
    """Byte order of the ``bytes`` codec (zarr-python's ``Endian``)."""

    big = "big"
    little = "little"


def _parse_endian(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        value = value.value
    if value not in ("little", "big"):
        raise MetadataError(f"bytes codec: endian must be 'little', 'big' or None, got {value!r}")
    return value


def has_endianness(dtype: np.dtype) -> bool:
    """Whether the stored byte order matters (zarr-python treats structured dtypes as byte-order free)."""
    return dtype.fields is None and dtype.byteorder != "|"


class BytesCodec(ArrayBytesCodec):
    """Serializes a chunk as its raw element bytes in C order."""

    codec_name = "bytes"

    def __init__(self, endian: Endian | str | None = "little"):
        self.endian = _parse_endian(endian)

    def get_config(self) -> dict[str, Any]:
        return {} if self.endian is None else {"endian": self.endian}

    def evolve(self, spec: ChunkSpec) -> BytesCodec:
        """Drop ``endian`` for byte-order-free dtypes (as zarr-python does); default it to little.

        Records keep ``big``: tensorstore writes big-endian ``struct`` arrays (every field swapped).
        Their ``little`` is dropped, which is what zarr-python 3.1 writes and means the same.
        """
        if spec.dtype.hasobject:
            raise MetadataError(
                f"bytes codec cannot serialize the variable-length dtype {spec.dtype}; "
                "use the vlen-utf8 serializer for strings, vlen-bytes for variable-length bytes"
            )
        if spec.dtype.fields is not None:
            return self if self.endian != "little" else BytesCodec(endian=None)
        if not has_endianness(spec.dtype):
            return self if self.endian is None else BytesCodec(endian=None)
        return self if self.endian is not None else BytesCodec(endian="little")

    def wire_dtype(self, dtype: np.dtype) -> np.dtype:
        """``dtype`` with the stored byte order (every field of a record, nested ones too)."""
        if self.endian is None or not (has_endianness(dtype) or dtype.fields is not None):
            return dtype
        return dtype.newbyteorder("<" if self.endian == "little" else ">")

    def encoded_size(self, spec: ChunkSpec) -> int:
        return spec.nbytes

    def encode(self, chunk: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        """A flat uint8 array; a view of ``chunk`` when it is C-contiguous in the wire byte order."""
        if spec.dtype.hasobject:
            raise CodecError(f"cannot serialize object dtype {spec.dtype}", codec=self.codec_name)
        arr = np.asarray(chunk, dtype=self.wire_dtype(spec.dtype), order="C")
        return arr.reshape(-1).view(np.uint8)

    def _wire_view(self, data: BytesLike, spec: ChunkSpec) -> np.ndarray:
        """``data`` viewed as the chunk in its stored byte order (no copy), after the size check."""
        buf = as_uint8(data)
        if buf.size != spec.nbytes:
            raise CodecError(
                f"chunk is {buf.size} bytes, expected {spec.nbytes} ({spec.shape} of {spec.dtype})",
                codec=self.codec_name,
            )
        return buf.view(self.wire_dtype(spec.dtype)).reshape(spec.shape)

    def view(self, data: BytesLike, spec: ChunkSpec) -> np.ndarray:
        """The chunk over ``data``'s own memory when stored in native order (read-only when
        ``data`` is), else a converted copy: for callers that only read the chunk."""
        src = self._wire_view(data, spec)
        return src if src.dtype == spec.dtype else src.astype(spec.dtype)

    def decode(self, data: BytesLike, spec: ChunkSpec, out: np.ndarray | None = None) -> np.ndarray:
        """The chunk; with ``out`` it is filled (in place when ``data`` already is ``out``'s memory)."""
        if out is None:
            result = self.view(data, spec)
            return result if result.flags.writeable else result.copy()
        src = self._wire_view(data, spec)
        wire = src.dtype
        if out.size and _same_memory(src, out):
            if wire != out.dtype:
                if out.dtype.fields is not None or wire.newbyteorder("<") != out.dtype.newbyteorder("<"):
                    np.copyto(out, src.copy())
                else:
                    out.byteswap(inplace=True)
            return out
        np.copyto(out, src)
        return out


def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    """Both arrays start at the same address and are C-contiguous (so they hold the same bytes)."""
    return (  # cheap checks first: ``__array_interface__`` builds a dict
        a.nbytes == b.nbytes
        and b.flags.c_contiguous
        and a.flags.c_contiguous
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )
