"""The non-spec ``numcodecs.<id>`` Zarr v3 codecs of zarr-python 3 (``zarr.codecs.numcodecs``).

zarr-python writes numcodecs codecs that have no Zarr v3 spec equivalent (BitRound, Quantize,
FixedScaleOffset, Delta, zlib, lz4, ...) as ``{"name": "numcodecs.<id>", "configuration": {...}}``.
These classes read and write them byte for byte like zarr-python 3.1: the same numcodecs codec
encodes, and the configuration is what the user gave plus the dtype-dependent defaults that
zarr-python fills in. Decoding is bounded like the native codecs': a decompressor never inflates
past what the chunk can hold, and filters must give back exactly the chunk's items.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from typing import Any, ClassVar, Self

import numcodecs
import numpy as np

from ..errors import CodecError, MetadataError, UnknownCodecError, ZarrUserWarning, warn_user
from .base import (
    ArrayArrayCodec,
    ArrayBytesCodec,
    BytesBytesCodec,
    BytesLike,
    ChunkSpec,
    Codec,
    as_uint8,
    check_decoded_size,
    codec_errors,
)
from .blosc import blosc_decode, header_sizes
from .inflate import gzip_decode, zlib_decode
from .limits import check_declared_size, decode_limit, inflate_bounded, zstd_bound
from .zstd import zstd_decode

PREFIX = "numcodecs."
WARNING = (
    "Numcodecs codecs are not in the Zarr version 3 specification and may not be supported by "
    "other zarr implementations."
)
# configuration keys whose JSON type numcodecs itself does not check
_INT_KEYS = frozenset(
    {"level", "clevel", "shuffle", "blocksize", "typesize", "acceleration", "elementsize", "keepbits"}
    | {"digits", "format", "check", "preset", "initval", "mode", "precision", "equal_pages_up_to"}
)
_NUMBER_KEYS = frozenset({"offset", "scale", "tolerance", "rate"})
_STR_KEYS = frozenset({"cname", "location", "mode_spec", "delta_spec", "paging_spec"})
_DTYPE_KEYS = frozenset({"dtype", "astype", "encode_dtype", "decode_dtype"})
_KINDS = (
    (_INT_KEYS, int, "an int"),
    (_NUMBER_KEYS, (int, float), "a number"),
    (_STR_KEYS, str, "a string"),
    (frozenset({"checksum"}), bool, "a bool"),
)
_CHOICES = {"cname": ("blosclz", "lz4", "lz4hc", "zlib", "zstd", "snappy"), "location": ("start", "end")}


def _invalid(name: str, message: str) -> MetadataError:
    return MetadataError(f"invalid configuration for codec {name!r}: {message}", field="codecs")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{value!r} ({type(value).__name__}) is not JSON")


def _check_value(name: str, key: str, value: Any) -> None:
    if value is None:
        return
    if key in _DTYPE_KEYS:
        try:
            np.dtype(value)
        except (TypeError, ValueError) as exc:
            raise _invalid(name, f"{key} must be a dtype string, got {value!r}") from exc
        return
    for keys, types, what in _KINDS:
        if key in keys and (not isinstance(value, types) or (types is not bool and isinstance(value, bool))):
            raise _invalid(name, f"{key} must be {what}, got {value!r}")
    if key in _CHOICES and value not in _CHOICES[key]:
        raise _invalid(name, f"{key} must be one of {list(_CHOICES[key])}, got {value!r}")


def parse_config(name: str, numcodecs_id: str, config: dict[str, Any]) -> dict[str, Any]:
    """The configuration as plain JSON (numpy scalars and dtypes as JSON values), type-checked."""
    config = dict(config)
    given_id = config.pop("id", numcodecs_id)
    if given_id != numcodecs_id:
        raise _invalid(name, f"id {given_id!r} does not match {numcodecs_id!r}")
    for key in _DTYPE_KEYS & config.keys():
        value = config[key]
        if value is not None and not isinstance(value, str):
            try:
                config[key] = str(np.dtype(value))
            except (TypeError, ValueError) as exc:
                raise _invalid(name, f"{key} must be a dtype, got {value!r}") from exc
    try:
        config = json.loads(json.dumps(config, allow_nan=True, default=_json_default))
    except (TypeError, ValueError) as exc:
        raise _invalid(name, f"configuration is not JSON: {exc}") from exc
    for key, value in config.items():
        _check_value(name, key, value)
    return config


def _make_numcodec(name: str, numcodecs_id: str, config: dict[str, Any]) -> Any:
    try:
        return numcodecs.get_codec({"id": numcodecs_id, **config})
    except ValueError as exc:
        if "codec not available" in str(exc):
            raise UnknownCodecError(
                f"codec {name!r} needs numcodecs' {numcodecs_id!r} codec, which is not installed "
                f"(pip install 'numcodecs[{numcodecs_id}]')",
                field="codecs",
            ) from None
        raise _invalid(name, str(exc)) from exc
    except (TypeError, KeyError, AttributeError) as exc:
        raise _invalid(name, str(exc)) from exc


def _native_str(dtype: np.dtype) -> str:
    """What zarr-python writes for a default taken from the array (``str(np.dtype)``: 'float64')."""
    return str(np.dtype(dtype))


class NumcodecsCodec(Codec):
    """One numcodecs codec named ``numcodecs.<numcodecs_id>`` (zarr-python's ``_NumcodecsCodec``).

    Constructing one warns, as zarr-python does; reading metadata (``from_config``) and filling
    defaults (``evolve``) do not.
    """

    numcodecs_id: ClassVar[str]
    #: keys zarr-python fills from the array dtype when unset (``evolve_from_array_spec``)
    spec_defaults: ClassVar[dict[str, Callable[[np.dtype], Any]]] = {}
    #: the key naming the dtype numcodecs views the input as (must be the array's)
    input_dtype_key: ClassVar[str | None] = None

    def __init_subclass__(cls, *, numcodecs_id: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if numcodecs_id is not None:
            cls.numcodecs_id = numcodecs_id
            cls.codec_name = PREFIX + numcodecs_id

    def __init__(self, **codec_config: Any) -> None:
        self._setup(codec_config)
        warn_user(WARNING, ZarrUserWarning)

    def _setup(self, config: dict[str, Any]) -> None:
        self._config = parse_config(self.codec_name, self.numcodecs_id, config)
        unset = {k: f(np.dtype("f8")) for k, f in self.spec_defaults.items() if self._config.get(k) is None}
        codec = _make_numcodec(self.codec_name, self.numcodecs_id, {**self._config, **unset})
        self._numcodec_or_none = None if unset else codec  # with placeholders: only until ``evolve``

    @classmethod
    def quiet(cls, config: dict[str, Any]) -> Self:
        """An instance without the construction warning (metadata that already uses the codec)."""
        codec = cls.__new__(cls)
        codec._setup(config)
        return codec

    @classmethod
    def from_config(cls, configuration: dict[str, Any] | None) -> Self:
        return cls.quiet(dict(configuration or {}))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """zarr-python's constructor from ``{"name", "configuration"}``."""
        if data.get("name") != cls.codec_name:
            raise MetadataError(
                f"expected codec {cls.codec_name!r}, got {data.get('name')!r}", field="codecs"
            )
        return cls.from_config(data.get("configuration"))

    @property
    def codec_config(self) -> dict[str, Any]:
        """zarr-python's attribute: the numcodecs config, ``id`` first."""
        return {"id": self.numcodecs_id, **self._config}

    @property
    def numcodec(self) -> Any:
        """The numcodecs codec doing the work."""
        if self._numcodec_or_none is None:
            unset = [k for k in self.spec_defaults if self._config.get(k) is None]
            raise CodecError(
                f"configuration lacks {unset} (set from the array by evolve)", codec=self.codec_name
            )
        return self._numcodec_or_none

    def get_config(self) -> dict[str, Any]:
        return dict(self._config)

    def to_json(self) -> dict[str, Any]:
        """zarr-python writes ``configuration`` even when it is empty."""
        return {"name": self.codec_name, "configuration": self.get_config()}

    def to_dict(self) -> dict[str, Any]:
        return self.to_json()

    def evolve(self, spec: ChunkSpec) -> NumcodecsCodec:
        dtype = np.dtype(spec.dtype)
        unset = {k: f(dtype) for k, f in self.spec_defaults.items() if self._config.get(k) is None}
        codec = self.quiet({**self._config, **unset}) if unset else self
        codec.validate(spec)
        return codec

    def validate(self, spec: ChunkSpec) -> None:
        """numcodecs reinterprets the chunk's memory as its configured dtype: it must be the array's."""
        key = self.input_dtype_key
        value = self._config.get(key) if key else None
        if value is not None and np.dtype(value) != np.dtype(spec.dtype):
            raise MetadataError(f"{self.codec_name}: {key} {value!r} is not the chunk dtype {spec.dtype}")


def _shaped(arr: Any, spec: ChunkSpec, codec: str, what: str) -> np.ndarray:
    """``arr`` as ``spec`` (a filter or serializer result), refused unless it has exactly its items."""
    arr = np.asarray(arr)
    expected = math.prod(spec.shape)
    if arr.size != expected or arr.dtype.itemsize != np.dtype(spec.dtype).itemsize:
        raise CodecError(
            f"{what} {arr.size} items of {arr.dtype}, expected {expected} of {spec.dtype}", codec=codec
        )
    # the chunk's memory, reinterpreted as zarr-python's bytes codec does (BitRound encodes to ints)
    return np.ascontiguousarray(arr).view(spec.dtype).reshape(spec.shape)


def _fill(out: np.ndarray, decoded: Any, codec: str) -> np.ndarray:
    buf = as_uint8(decoded)
    check_decoded_size(buf.size, out.size, codec)
    out[...] = buf
    return out


class NumcodecsArrayArrayCodec(NumcodecsCodec, ArrayArrayCodec):
    """Filters: numcodecs works on the C-order flat items; the result is checked against the spec."""

    #: the key naming the encoded dtype (``resolve_spec``)
    output_dtype_key: ClassVar[str | None] = None

    def resolve_spec(self, spec: ChunkSpec) -> ChunkSpec:
        value = self._config.get(self.output_dtype_key) if self.output_dtype_key else None
        return dataclasses.replace(spec, dtype=np.dtype(value)) if value else spec

    def encode(self, chunk: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        with codec_errors(self.codec_name, "encoding"):
            encoded = self.numcodec.encode(np.ascontiguousarray(chunk, dtype=spec.dtype))
        return _shaped(encoded, self.resolve_spec(spec), self.codec_name, "encoded")

    def decode(self, chunk: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        with codec_errors(self.codec_name):
            decoded = self.numcodec.decode(np.ascontiguousarray(chunk))
        return _shaped(decoded, spec, self.codec_name, "decoded")


class NumcodecsArrayBytesCodec(NumcodecsCodec, ArrayBytesCodec):
    """Serializers (pcodec, zfpy): numcodecs gets the chunk in its shape, as zarr-python passes it."""

    def encode(self, chunk: np.ndarray, spec: ChunkSpec) -> BytesLike:
        with codec_errors(self.codec_name, "encoding"):
            return self.numcodec.encode(np.ascontiguousarray(chunk, dtype=spec.dtype))

    def decode(self, data: BytesLike, spec: ChunkSpec, out: np.ndarray | None = None) -> np.ndarray:
        with codec_errors(self.codec_name):
            decoded = self._decode(bytes(as_uint8(data)), spec)
        arr = _shaped(decoded, spec, self.codec_name, "decoded")
        if out is None:
            return arr if arr.flags.writeable else arr.copy()
        np.copyto(out, arr)
        return out

    def _decode(self, data: bytes, spec: ChunkSpec) -> Any:
        return self.numcodec.decode(data)


class NumcodecsBytesBytesCodec(NumcodecsCodec, BytesBytesCodec):
    """Compressors and checksums; without ``out`` the output is bounded by ``decode_limit``."""

    def encode(self, data: BytesLike, spec: ChunkSpec) -> BytesLike:
        with codec_errors(self.codec_name, "encoding"):
            encoded = self.numcodec.encode(as_uint8(data))
        return as_uint8(encoded) if isinstance(encoded, np.ndarray) else encoded

    def decode(self, data: BytesLike, spec: ChunkSpec, out: np.ndarray | None = None) -> BytesLike:
        limit = decode_limit(spec) if out is None else out.size
        with codec_errors(self.codec_name):
            decoded = self._decode(data, limit, out)
        if out is None or decoded is out:
            return decoded
        return _fill(out, decoded, self.codec_name)

    def _decode(self, data: BytesLike, limit: int, out: np.ndarray | None) -> Any:
        """Size-preserving codecs (shuffle, checksums) need no bound: numcodecs decodes."""
        return self.numcodec.decode(as_uint8(data))


class _Inflate(NumcodecsBytesBytesCodec):
    """zlib, gzip, bz2, lzma: stdlib incremental decompressors stop at the limit."""

    fmt: ClassVar[str]

    def _decode(self, data: BytesLike, limit: int, out: np.ndarray | None) -> Any:
        return inflate_bounded(self.fmt, data, limit, codec=self.codec_name)


# -- bytes->bytes ------------------------------------------------------------------------------


class Blosc(NumcodecsBytesBytesCodec, numcodecs_id="blosc"):
    def _decode(self, data: BytesLike, limit: int, out: np.ndarray | None) -> Any:
        if out is None:  # ``blosc_decode`` checks the header against ``out`` itself
            check_declared_size(header_sizes(as_uint8(data), self.codec_name)[0], limit, self.codec_name)
        return blosc_decode(data, out, codec=self.codec_name)


class LZ4(NumcodecsBytesBytesCodec, numcodecs_id="lz4"):
    def _decode(self, data: BytesLike, limit: int, out: np.ndarray | None) -> Any:
        buf = as_uint8(data)
        if buf.size < 4:
            raise CodecError(
                f"input is {buf.size} bytes, shorter than the 4-byte size header", codec=self.codec_name
            )
        declared = int(buf[:4].view("<u4")[0])
        check_declared_size(declared, limit, self.codec_name, exact=out is not None)
        return self.numcodec.decode(buf, out)


class Zstd(NumcodecsBytesBytesCodec, numcodecs_id="zstd"):
    def _decode(self, data: BytesLike, limit: int, out: np.ndarray | None) -> Any:
        if out is None:  # frame and block headers bound the output before anything is inflated
            check_declared_size(zstd_bound(data, self.codec_name), limit, self.codec_name)
        return zstd_decode(data, out, codec=self.codec_name)


class Zlib(_Inflate, numcodecs_id="zlib"):
    fmt = "zlib"

    def _decode(self, data: BytesLike, limit: int, out: np.ndarray | None) -> Any:
        if out is not None:  # inflated straight into ``out``, exact size checked
            return zlib_decode(data, out, codec=self.codec_name)
        return super()._decode(data, limit, out)


class GZip(_Inflate, numcodecs_id="gzip"):
    fmt = "gzip"

    def _decode(self, data: BytesLike, limit: int, out: np.ndarray | None) -> Any:
        if out is not None:  # streams straight into ``out``, exact size checked
            return gzip_decode(data, out, codec=self.codec_name)
        return super()._decode(data, limit, out)


class BZ2(_Inflate, numcodecs_id="bz2"):
    fmt = "bz2"


class LZMA(_Inflate, numcodecs_id="lzma"):
    fmt = "lzma"

    def _decode(self, data: BytesLike, limit: int, out: np.ndarray | None) -> Any:
        options = {"format": self.numcodec.format, "filters": self.numcodec.filters}
        return inflate_bounded(self.fmt, data, limit, codec=self.codec_name, **options)


class Shuffle(NumcodecsBytesBytesCodec, numcodecs_id="shuffle"):
    spec_defaults = {"elementsize": lambda dtype: dtype.itemsize}


class CRC32(NumcodecsBytesBytesCodec, numcodecs_id="crc32"):
    pass


class CRC32C(NumcodecsBytesBytesCodec, numcodecs_id="crc32c"):
    pass


class Adler32(NumcodecsBytesBytesCodec, numcodecs_id="adler32"):
    pass


class Fletcher32(NumcodecsBytesBytesCodec, numcodecs_id="fletcher32"):
    pass


class JenkinsLookup3(NumcodecsBytesBytesCodec, numcodecs_id="jenkins_lookup3"):
    pass


# -- array->array ------------------------------------------------------------------------------


class Delta(NumcodecsArrayArrayCodec, numcodecs_id="delta"):
    input_dtype_key = "dtype"
    output_dtype_key = "astype"


class BitRound(NumcodecsArrayArrayCodec, numcodecs_id="bitround"):
    pass


class FixedScaleOffset(NumcodecsArrayArrayCodec, numcodecs_id="fixedscaleoffset"):
    spec_defaults = {"dtype": _native_str}
    input_dtype_key = "dtype"
    output_dtype_key = "astype"


class Quantize(NumcodecsArrayArrayCodec, numcodecs_id="quantize"):
    """zarr-python leaves the spec unchanged, so its ``astype`` fails there; here it is honoured."""

    spec_defaults = {"dtype": _native_str}
    input_dtype_key = "dtype"
    output_dtype_key = "astype"


class AsType(NumcodecsArrayArrayCodec, numcodecs_id="astype"):
    spec_defaults = {"decode_dtype": _native_str}
    input_dtype_key = "decode_dtype"
    output_dtype_key = "encode_dtype"


class PackBits(NumcodecsArrayArrayCodec, numcodecs_id="packbits"):
    """Eight booleans a byte, after one byte counting the padding bits."""

    def resolve_spec(self, spec: ChunkSpec) -> ChunkSpec:
        shape = (1 + math.ceil(math.prod(spec.shape) / 8),)
        return dataclasses.replace(spec, shape=shape, dtype=np.dtype("u1"))

    def validate(self, spec: ChunkSpec) -> None:
        if np.dtype(spec.dtype) != np.dtype(bool):
            raise MetadataError(f"{self.codec_name} needs a bool array, got {spec.dtype}")


# -- array->bytes ------------------------------------------------------------------------------


class PCodec(NumcodecsArrayBytesCodec, numcodecs_id="pcodec"):
    def _decode(self, data: bytes, spec: ChunkSpec) -> Any:
        """Into chunk-sized memory (bounded), refused unless the stream fills all of it."""
        from pcodec import standalone

        out = np.empty(math.prod(spec.shape), spec.dtype)
        progress = standalone.simple_decompress_into(data, out)
        if progress.n_processed != out.size or not progress.finished:
            raise CodecError(
                f"stream holds other than the {out.size} items of the chunk", codec=self.codec_name
            )
        return out


_ZFP_TYPES = {1: 4, 2: 8, 3: 4, 4: 8}  # zfp scalar type -> itemsize (int32, int64, float, double)


def zfp_header_nbytes(data: bytes) -> int:
    """Decoded size from a zfp header (magic, then 52 bits: type, dims, sizes), read before zfpy
    allocates for it."""
    if len(data) < 12 or data[:3] != b"zfp":
        raise CodecError("not a zfp stream with a header", codec="numcodecs.zfpy")
    meta = (int.from_bytes(data[:16].ljust(16, b"\0"), "little") >> 32) & ((1 << 52) - 1)
    dims = ((meta >> 2) & 3) + 1
    bits = 48 // dims
    sizes = [((meta >> (4 + bits * i)) & ((1 << bits) - 1)) + 1 for i in range(dims)]
    return math.prod(sizes) * _ZFP_TYPES[(meta & 3) + 1]


class ZFPY(NumcodecsArrayBytesCodec, numcodecs_id="zfpy"):
    def _decode(self, data: bytes, spec: ChunkSpec) -> Any:
        check_declared_size(zfp_header_nbytes(data), spec.nbytes, self.codec_name, exact=True)
        return self.numcodec.decode(data)


BYTES_BYTES = (
    Blosc,
    LZ4,
    Zstd,
    Zlib,
    GZip,
    BZ2,
    LZMA,
    Shuffle,
    CRC32,
    CRC32C,
    Adler32,
    Fletcher32,
    JenkinsLookup3,
)
ARRAY_ARRAY = (Delta, BitRound, FixedScaleOffset, Quantize, PackBits, AsType)
ARRAY_BYTES = (PCodec, ZFPY)
ALL_CODECS: tuple[type[NumcodecsCodec], ...] = (*BYTES_BYTES, *ARRAY_ARRAY, *ARRAY_BYTES)
BY_ID = {cls.numcodecs_id: cls for cls in ALL_CODECS}
