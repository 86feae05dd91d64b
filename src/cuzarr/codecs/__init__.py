"""Zarr v3 codecs (zarr-python 3 class names), codec chains for v3 and v2 arrays, and the registry."""

from __future__ import annotations

from .base import ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec, ChunkSpec, Codec
from .blosc import BloscCname, BloscCodec, BloscShuffle
from .bytes import BytesCodec, Endian
from .chain import CodecChain
from .crc32c import Crc32cCodec
from .gzip import GzipCodec
from .registry import codec_from_json, get_codec_class, parse_codecs, register_codec, registered_codecs
from .transpose import TransposeCodec
from .v2_compat import V2CodecChain
from .zstd import ZstdCodec

__all__ = [
    "ArrayArrayCodec",
    "ArrayBytesCodec",
    "BloscCname",
    "BloscCodec",
    "BloscShuffle",
    "BytesBytesCodec",
    "BytesCodec",
    "ChunkSpec",
    "Codec",
    "CodecChain",
    "Crc32cCodec",
    "Endian",
    "GzipCodec",
    "TransposeCodec",
    "V2CodecChain",
    "ZstdCodec",
    "codec_from_json",
    "get_codec_class",
    "parse_codecs",
    "register_codec",
    "registered_codecs",
]
