"""Zarr v3 codecs (zarr-python 3 class names), codec chains for v3 and v2 arrays, and the registry.

``Blosc``, ``Zstd``, ``GZip``, ``Delta``, ... are the non-spec ``numcodecs.<id>`` codecs of
``cuzarr.codecs.numcodecs`` (as in zarr-python); ``BloscCodec``, ``ZstdCodec``, ``GzipCodec`` are the spec ones.
"""

from __future__ import annotations

from . import numcodecs
from .base import ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec, ChunkSpec, Codec
from .blosc import BloscCname, BloscCodec, BloscShuffle
from .bytes import BytesCodec, Endian
from .chain import CodecChain
from .crc32c import Crc32cCodec
from .gzip import GzipCodec
from .numcodecs import (
    BZ2,
    CRC32,
    CRC32C,
    LZ4,
    LZMA,
    ZFPY,
    Adler32,
    AsType,
    BitRound,
    Blosc,
    Delta,
    FixedScaleOffset,
    Fletcher32,
    GZip,
    JenkinsLookup3,
    PackBits,
    PCodec,
    Quantize,
    Shuffle,
    Zlib,
    Zstd,
)
from .registry import codec_from_json, get_codec_class, parse_codecs, register_codec, registered_codecs
from .sharding import ShardingCodec, ShardingCodecIndexLocation
from .transpose import TransposeCodec
from .v2_compat import V2CodecChain
from .vlen import VLenBytesCodec, VLenUTF8Codec, default_serializer, default_v2_filters
from .zstd import ZstdCodec

__all__ = [
    "BZ2",
    "CRC32",
    "CRC32C",
    "LZ4",
    "LZMA",
    "ZFPY",
    "Adler32",
    "AsType",
    "BitRound",
    "Blosc",
    "Delta",
    "FixedScaleOffset",
    "Fletcher32",
    "GZip",
    "JenkinsLookup3",
    "PCodec",
    "PackBits",
    "Quantize",
    "Shuffle",
    "Zlib",
    "Zstd",
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
    "ShardingCodec",
    "ShardingCodecIndexLocation",
    "TransposeCodec",
    "V2CodecChain",
    "VLenBytesCodec",
    "VLenUTF8Codec",
    "ZstdCodec",
    "codec_from_json",
    "default_serializer",
    "default_v2_filters",
    "get_codec_class",
    "numcodecs",
    "parse_codecs",
    "register_codec",
    "registered_codecs",
]
