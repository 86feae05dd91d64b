"""``V2CodecChain``: Zarr v2 ``filters`` + ``compressor`` (any numcodecs codec), like zarr-python 3.1.

Encoding mirrors zarr-python's ``V2Codec`` step by step (same arrays handed to the same
numcodecs objects), so chunk bytes are identical: e.g. numcodecs Blosc takes its typesize from
the itemsize of the array it is given. Decoding decompresses straight into the caller's output
when there are no filters and its layout matches ``order``; blosc/zstd/gzip streams are checked
against the exact chunk size before any byte is written.
"""

from __future__ import annotations

import lzma
from collections.abc import Mapping, Sequence
from typing import Any

import numcodecs
import numpy as np
from numcodecs.compat import ensure_contiguous_ndarray, ensure_ndarray_like

from ..errors import CodecError, MetadataError, UnknownCodecError
from ..metadata.dtypes_v2 import OBJECT_CODEC_IDS
from .base import BytesLike, ChunkSpec, as_uint8, check_decoded_size, codec_errors, raise_for_chunk
from .blosc import blosc_decode
from .chain import check_out, decode_batch_with, decompress_to_array, encode_batch_with, no_alias
from .inflate import gzip_decode, zlib_decode
from .limits import decode_limit, decompress_bounded
from .vlen import check_item_count
from .zstd import ZstdCodec, zstd_decode

# numcodecs ids whose streams cuzarr can size-check and decode into preallocated memory
_CHECKED_DECODERS = {
    "blosc": blosc_decode,
    "zstd": zstd_decode,
    "gzip": gzip_decode,
    "zlib": zlib_decode,
}


# object codecs whose stream starts with the item count (checked before numcodecs allocates for it)
_COUNTED_OBJECT_CODECS = frozenset({"vlen-utf8", "vlen-bytes", "vlen-array"})


def get_numcodec(config: Any, what: str) -> Any:
    """A numcodecs codec from its config dict (or an instance, returned as is)."""
    if config is None:
        return None
    if hasattr(config, "codec_id") and hasattr(config, "decode"):
        return config
    if not isinstance(config, Mapping) or not isinstance(config.get("id"), str):
        raise MetadataError(
            f"a Zarr v2 {what} must be a numcodecs config with an 'id', got {config!r}", field=what
        )
    try:
        return numcodecs.get_codec(dict(config))
    except ValueError as exc:
        if "codec not available" not in str(exc):
            raise MetadataError(f"invalid {what} config {dict(config)!r}: {exc}", field=what) from exc
        known = ", ".join(sorted(numcodecs.registry.codec_registry))
        raise UnknownCodecError(
            f"unknown numcodecs codec id {config['id']!r} in {what}; available: {known}", field=what
        ) from None
    except TypeError as exc:
        raise MetadataError(f"invalid {what} config {dict(config)!r}: {exc}", field=what) from exc


def _flat_bytes(out: np.ndarray, order: str) -> np.ndarray | None:
    """A flat uint8 view of ``out``'s memory in ``order``, or None when that needs a copy."""
    contiguous = out.flags.f_contiguous if order == "F" else out.flags.c_contiguous
    if not contiguous or out.dtype.hasobject:
        return None
    return out.reshape(-1, order=order).view(np.uint8)


class V2CodecChain:
    """Filters then compressor for one v2 chunk ``spec`` (``spec.dtype`` keeps its byte order)."""

    def __init__(
        self,
        compressor: Mapping[str, Any] | Any | None,
        filters: Sequence[Mapping[str, Any] | Any] | None,
        spec: ChunkSpec,
    ):
        order = (spec.order or "C").upper()
        if order not in ("C", "F"):
            raise MetadataError(f"order must be 'C' or 'F', got {spec.order!r}", field="order")
        self._spec = ChunkSpec(
            tuple(int(s) for s in spec.shape), np.dtype(spec.dtype), spec.fill_value, order
        )
        self._compressor = get_numcodec(compressor, "compressor")
        self._filters = tuple(get_numcodec(f, "filters") for f in (filters or ()))
        builtin = type(self._compressor).__module__.startswith("numcodecs.")
        self._checked_decode = _CHECKED_DECODERS.get(self._name(self._compressor)) if builtin else None
        last = self._filters[0] if self._filters else self._compressor
        self._last_step = "v2" if last is None else self._name(last)
        # zstd alone on plain data: decoded to new memory with a reused context (see codecs/zstd.py)
        self._fresh_zstd = (
            ZstdCodec()
            if builtin
            and self._name(self._compressor) == "zstd"
            and not self._filters
            and not self._spec.dtype.hasobject
            else None
        )

    @property
    def spec(self) -> ChunkSpec:
        return self._spec

    @property
    def compressor(self) -> Any:
        return self._compressor

    @property
    def compressors(self) -> tuple[Any, ...]:
        """zarr-python 3's ``Array.compressors`` for v2: ``(compressor,)`` or ``()``."""
        return () if self._compressor is None else (self._compressor,)

    @property
    def filters(self) -> tuple[Any, ...]:
        return self._filters

    @property
    def serializer(self) -> None:
        return None

    @property
    def has_array_array_codecs(self) -> bool:
        """Filters play that role in v2: with any, decoding cannot go straight into the output."""
        return bool(self._filters)

    def to_json(self) -> dict[str, Any]:
        """The ``compressor`` and ``filters`` fields of ``.zarray``."""
        return {
            "compressor": None if self._compressor is None else self._compressor.get_config(),
            "filters": [f.get_config() for f in self._filters] or None,
        }

    def __repr__(self) -> str:
        return (
            f"V2CodecChain(compressor={self._compressor!r}, filters={list(self._filters)!r}, {self._spec!r})"
        )

    def _name(self, codec: Any) -> str:
        return str(getattr(codec, "codec_id", type(codec).__name__))

    def _bounded(self, name: str, data: BytesLike, limit: int) -> Any:
        """numcodecs' own stream inflated to at most ``limit`` bytes (``None``: no bounded decoder).
        Raw lzma streams name no format or filters of their own: those come from the compressor;
        every other lzma stream is recognised by its header."""
        options = {}
        if name == "lzma" and getattr(self._compressor, "format", None) == lzma.FORMAT_RAW:
            options = {"format": lzma.FORMAT_RAW, "filters": self._compressor.filters}
        return decompress_bounded(name, data, limit, **options)

    def _decompress(self, data: BytesLike, target: np.ndarray | None) -> Any:
        """Compressor step; without filters the result is checked to be exactly ``spec.nbytes``."""
        name = self._name(self._compressor)
        builtin = type(self._compressor).__module__.startswith("numcodecs.")
        if self._filters or name in OBJECT_CODEC_IDS:
            # filters may widen items (astype): a generous but finite cap against bombs
            limited = self._bounded(name, data, decode_limit(self._spec, 16)) if builtin else None
            if limited is not None:
                return limited
            with codec_errors(name):
                return self._compressor.decode(data)
        if self._checked_decode is not None:
            target = np.empty(self._spec.nbytes, np.uint8) if target is None else target
            return self._checked_decode(data, target, codec=name)
        limited = self._bounded(name, data, self._spec.nbytes) if builtin else None
        with codec_errors(name):
            raw = limited if limited is not None else self._compressor.decode(data)
            decoded = as_uint8(ensure_contiguous_ndarray(raw))
        check_decoded_size(decoded.size, self._spec.nbytes, name)
        if target is None:
            return decoded
        target[...] = decoded
        return target

    def _to_array(self, chunk: Any) -> np.ndarray:
        """The filtered/decompressed buffer viewed as ``spec.dtype`` in ``spec.shape`` and ``order``."""
        spec = self._spec
        if spec.dtype.hasobject:
            arr = np.asarray(chunk)
            if not arr.dtype.hasobject:
                raise CodecError(
                    "object arrays need an object codec (e.g. VLenUTF8) among the filters",
                    codec=self._last_step,
                )
            if arr.size != int(np.prod(spec.shape)):
                raise CodecError(
                    f"decoded {arr.size} items, expected {int(np.prod(spec.shape))}", codec=self._last_step
                )
            arr = arr.reshape(spec.shape, order=spec.order)
            # zarr-python decodes ``|O`` + vlen-utf8 to StringDType: the filter yields objects
            return arr if arr.dtype == spec.dtype else arr.astype(spec.dtype)
        arr = np.asarray(ensure_ndarray_like(chunk))
        if arr.dtype.hasobject:
            raise CodecError(
                f"filters produced an object array for dtype {spec.dtype}", codec=self._last_step
            )
        flat = arr.reshape(-1, order="A")
        check_decoded_size(flat.nbytes, spec.nbytes, self._last_step)
        flat = np.ascontiguousarray(flat).view(np.uint8).view(spec.dtype)
        return flat.reshape(spec.shape, order=spec.order)

    def decode_for_reading(self, data: BytesLike, *, key: str | None = None) -> np.ndarray:
        """A decoded chunk the caller only reads from (it may be read-only; see ``CodecChain``)."""
        if self._fresh_zstd is not None:
            return self._decode_fresh(data, key)
        return self.decode(data, key=key)

    def _decode_fresh(self, data: BytesLike, key: str | None) -> np.ndarray:
        assert self._fresh_zstd is not None
        return decompress_to_array(self._fresh_zstd, data, self._spec, key, order=self._spec.order)

    def decode(self, data: BytesLike, *, key: str | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """Decode one chunk (see ``decode_batch``); errors name ``key`` and the failing codec."""
        spec = self._spec
        if out is not None:
            check_out(out, spec)
        step = "v2"
        try:
            direct = out is not None and not self._filters and out.dtype == spec.dtype
            target = _flat_bytes(out, spec.order) if direct else None
            if out is not None and target is None and self._fresh_zstd is not None:
                np.copyto(out, self._decode_fresh(data, key))  # strided output: one copy, no scratch
                return out
            chunk: Any = data
            if self._compressor is not None:
                step = self._name(self._compressor)
                chunk = self._decompress(data, target)
            for codec in reversed(self._filters):
                step = self._name(codec)
                if step in _COUNTED_OBJECT_CODECS:
                    check_item_count(chunk, int(np.prod(spec.shape, dtype=np.int64)), step)
                with codec_errors(step):
                    chunk = codec.decode(chunk)
            step = self._last_step
            arr = self._to_array(chunk)
            if out is None:
                return arr if arr.flags.writeable else arr.copy()
            if target is None or chunk is not target:
                np.copyto(out, arr)
            return out
        except Exception as exc:
            raise_for_chunk(exc, key, step, "decoding")

    def encode(self, chunk: np.ndarray, *, key: str | None = None) -> BytesLike:
        """Encode one chunk exactly as zarr-python's V2Codec does; never aliases ``chunk``."""
        spec = self._spec
        source = np.asarray(chunk)
        if source.shape != spec.shape:
            raise ValueError(f"chunk {key!r} has shape {source.shape}, expected {spec.shape}")
        step = "v2"
        try:
            arr: Any = source.astype(spec.dtype, order=spec.order, copy=False)
            if arr.dtype.hasobject and not arr.flags.writeable:  # numcodecs' VLenBytes needs writable input
                arr = np.array(arr, order=spec.order)
            for codec in self._filters:
                step = self._name(codec)
                with codec_errors(step, "encoding"):
                    arr = codec.encode(arr)
            object_compressor = (
                self._compressor is not None and self._name(self._compressor) in OBJECT_CODEC_IDS
            )
            if not object_compressor and np.asarray(ensure_ndarray_like(arr)).dtype.hasobject:
                raise CodecError(
                    "cannot write an object array without an object codec among the filters", codec=step
                )
            if self._compressor is not None:
                step = self._name(self._compressor)
                with codec_errors(step, "encoding"):
                    return self._compressor.encode(arr)
            return no_alias(ensure_contiguous_ndarray(arr).view(np.uint8), source)
        except Exception as exc:
            raise_for_chunk(exc, key, step, "encoding")

    def decode_batch(
        self,
        encoded: Sequence[BytesLike | None],
        *,
        keys: Sequence[str],
        outs: Sequence[np.ndarray | None] | None = None,
        writable: bool = True,
    ) -> list[np.ndarray | None]:
        """Same contract as ``CodecChain.decode_batch``; results have ``spec.dtype`` and ``order`` layout."""
        reader = None if writable else self.decode_for_reading
        return decode_batch_with(self.decode, self._spec, encoded, keys, outs, for_reading=reader)

    def encode_batch(self, chunks: Sequence[np.ndarray], *, keys: Sequence[str]) -> list[BytesLike]:
        return encode_batch_with(self.encode, chunks, keys)
