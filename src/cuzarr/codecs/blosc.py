"""The ``blosc`` codec (numcodecs' Blosc), byte-identical to zarr-python 3.1's BloscCodec.

c-blosc reads as many bytes as the 16-byte header claims, whatever the real buffer length,
so the header is validated here before any byte reaches the C library.
"""

from __future__ import annotations

import struct
from enum import Enum, StrEnum
from typing import Any

import numcodecs.blosc
import numpy as np
from numcodecs.blosc import Blosc

from ..errors import CodecError, MetadataError
from .base import BytesBytesCodec, BytesLike, ChunkSpec, as_uint8, codec_errors

HEADER_SIZE = 16


class BloscShuffle(StrEnum):
    """Shuffle filter applied before compression."""

    noshuffle = "noshuffle"
    shuffle = "shuffle"
    bitshuffle = "bitshuffle"

    @classmethod
    def from_int(cls, num: int) -> BloscShuffle:
        if num not in (0, 1, 2):
            raise ValueError(f"Value must be between 0 and 2. Got {num}.")
        return (cls.noshuffle, cls.shuffle, cls.bitshuffle)[num]


class BloscCname(StrEnum):
    """Compressor used inside blosc."""

    lz4 = "lz4"
    lz4hc = "lz4hc"
    blosclz = "blosclz"
    zstd = "zstd"
    snappy = "snappy"
    zlib = "zlib"


_SHUFFLE_INT = {BloscShuffle.noshuffle: 0, BloscShuffle.shuffle: 1, BloscShuffle.bitshuffle: 2}


def _parse_enum(value: Any, enum: type[Enum], what: str) -> Any:
    if isinstance(value, Enum):
        value = value.value
    if enum is BloscShuffle and isinstance(value, int | np.integer) and not isinstance(value, bool):
        return BloscShuffle.from_int(int(value)) if 0 <= value <= 2 else _bad(what, value, enum)
    try:
        return enum(value)
    except ValueError:
        _bad(what, value, enum)


def _bad(what: str, value: Any, enum: type[Enum]) -> None:
    raise MetadataError(f"blosc codec: {what} must be one of {[e.value for e in enum]}, got {value!r}")


def _parse_int(value: Any, what: str, low: int, high: int | None = None) -> int:
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f">= {low}"
        raise MetadataError(f"blosc codec: {what} must be an int {bounds}, got {value!r}")
    return int(value)


def header_sizes(buf: np.ndarray, codec: str = "blosc") -> tuple[int, int]:
    """``(nbytes, cbytes)`` from a blosc header, after checking the buffer can hold the frame."""
    if buf.size < HEADER_SIZE:
        raise CodecError(f"input is {buf.size} bytes, shorter than the 16-byte blosc header", codec=codec)
    nbytes, _blocksize, cbytes = struct.unpack_from("<III", buf, 4)
    if cbytes < HEADER_SIZE or cbytes > buf.size:
        raise CodecError(
            f"header says the frame is {cbytes} bytes but the input is {buf.size} bytes (truncated or corrupt)",
            codec=codec,
        )
    return nbytes, cbytes


def blosc_decode(data: BytesLike, out: np.ndarray | None = None, *, codec: str = "blosc") -> BytesLike:
    """Decode a blosc frame; with ``out`` (flat uint8) the header must promise exactly ``out.size`` bytes."""
    buf = as_uint8(data)
    nbytes, _ = header_sizes(buf, codec)
    if out is not None and nbytes != out.size:
        raise CodecError(f"header says {nbytes} decoded bytes, expected {out.size}", codec=codec)
    if nbytes == 0:
        return b"" if out is None else out  # numcodecs treats an empty result as an error
    with codec_errors(codec):
        if out is None:
            return numcodecs.blosc.decompress(buf)
        numcodecs.blosc.decompress(buf, out)
        return out


class BloscCodec(BytesBytesCodec):
    """Blosc meta-compressor. ``typesize`` and ``shuffle`` left unset read as zarr-python's
    defaults (1 and bitshuffle, what a chunk written without a dtype uses) and are tuned to the
    dtype by ``evolve``; ``_tunable_attrs`` names them, as in zarr-python."""

    codec_name = "blosc"

    def __init__(
        self,
        typesize: int | None = None,
        cname: BloscCname | str = BloscCname.zstd,
        clevel: int = 5,
        shuffle: BloscShuffle | str | int | None = None,
        blocksize: int = 0,
    ):
        self._tunable_attrs = frozenset(
            name for name, value in (("typesize", typesize), ("shuffle", shuffle)) if value is None
        )
        self.typesize: int = 1 if typesize is None else _parse_int(typesize, "typesize", 1)
        self.cname: BloscCname = _parse_enum(cname, BloscCname, "cname")
        self.clevel = _parse_int(clevel, "clevel", 0, 9)
        self.shuffle: BloscShuffle = (
            BloscShuffle.bitshuffle if shuffle is None else _parse_enum(shuffle, BloscShuffle, "shuffle")
        )
        self.blocksize = _parse_int(blocksize, "blocksize", 0)
        self._numcodec = Blosc(
            cname=self.cname.value,
            clevel=self.clevel,
            shuffle=_SHUFFLE_INT[self.shuffle],
            blocksize=self.blocksize,
            typesize=self.typesize,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "typesize": self.typesize,
            "cname": self.cname.value,
            "clevel": self.clevel,
            "shuffle": self.shuffle.value,
            "blocksize": self.blocksize,
        }

    def _key(self) -> tuple[Any, ...]:
        return (self.typesize, self.cname, self.clevel, self.shuffle, self.blocksize, self._tunable_attrs)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"BloscCodec(typesize={self.typesize!r}, cname={self.cname.value!r}, clevel={self.clevel!r}, "
            f"shuffle={self.shuffle.value!r}, blocksize={self.blocksize!r})"
        )

    def evolve(self, spec: ChunkSpec) -> BloscCodec:
        """Tune the unset ``typesize`` (to the itemsize) and ``shuffle`` (bitshuffle for 1-byte
        items, else shuffle)."""
        if not self._tunable_attrs:
            return self
        itemsize = spec.dtype.itemsize
        shuffle = self.shuffle
        if "shuffle" in self._tunable_attrs:
            shuffle = BloscShuffle.bitshuffle if itemsize == 1 else BloscShuffle.shuffle
        return BloscCodec(
            typesize=itemsize if "typesize" in self._tunable_attrs else self.typesize,
            cname=self.cname,
            clevel=self.clevel,
            shuffle=shuffle,
            blocksize=self.blocksize,
        )

    def encode(self, data: BytesLike, spec: ChunkSpec) -> bytes:
        if self.cname.value not in numcodecs.blosc.list_compressors():
            raise CodecError(
                f"cname {self.cname.value!r} is not compiled into this blosc build "
                f"(available: {numcodecs.blosc.list_compressors()})",
                codec=self.codec_name,
            )
        with codec_errors(self.codec_name, "encoding"):
            return self._numcodec.encode(as_uint8(data))

    def decode(self, data: BytesLike, spec: ChunkSpec, out: np.ndarray | None = None) -> BytesLike:
        if out is None:  # no chunk-sized target bounds it: check the header's size first (bombs)
            from .limits import decode_limit

            nbytes, _ = header_sizes(as_uint8(data), self.codec_name)
            if nbytes > (limit := decode_limit(spec)):
                raise CodecError(
                    f"header declares {nbytes} bytes, more than {limit} (decompression bomb?)",
                    codec=self.codec_name,
                )
        return blosc_decode(data, out, codec=self.codec_name)
