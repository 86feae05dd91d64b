"""Codec base classes and the chunk description they work on.

A Zarr v3 codec chain is ``array->array`` codecs (filters, e.g. transpose), exactly one
``array->bytes`` codec (the serializer, e.g. bytes), then ``bytes->bytes`` codecs (compressors
and checksums). Each codec works on one chunk at a time (``encode``/``decode``) and on whole
batches (``encode_batch``/``decode_batch``); the CPU defaults run a batch on the shared thread
pool, a GPU implementation overrides the batch methods to make one device call per batch.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

import numpy as np

from ..errors import CodecError, MetadataError
from ..parallel import map_in_pool

# What a bytes-like chunk may be: ``bytes``, ``bytearray``, ``memoryview`` or a uint8 ndarray.
BytesLike = Any


@dataclass(frozen=True)
class ChunkSpec:
    """Shape, dtype, fill value and memory order of one (decoded) chunk."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any = 0
    order: str = "C"

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


class Codec(ABC):
    """A v3 codec: a name, a JSON configuration and a way back from it."""

    codec_name: ClassVar[str]

    @classmethod
    def from_config(cls, configuration: dict[str, Any] | None) -> Codec:
        """Build from the ``configuration`` object of ``{"name": ..., "configuration": ...}``.

        Bad configurations (missing or unknown keys included) are ``MetadataError``s naming the field."""
        try:
            return cls(**(configuration or {}))
        except MetadataError as exc:
            if exc.field is None and exc.source is None:
                raise type(exc)(str(exc), field="codecs") from exc
            raise
        except TypeError as exc:
            message = f"invalid configuration for codec {cls.codec_name!r}: {exc}"
            raise MetadataError(message, field="codecs") from exc

    @abstractmethod
    def get_config(self) -> dict[str, Any]:
        """The ``configuration`` object as written to metadata."""

    def to_json(self) -> dict[str, Any]:
        config = self.get_config()
        if config:
            return {"name": self.codec_name, "configuration": config}
        return {"name": self.codec_name}

    def to_dict(self) -> dict[str, Any]:
        """zarr-python's name for ``to_json``."""
        return self.to_json()

    def evolve(self, spec: ChunkSpec) -> Codec:
        """A copy with defaults that depend on the data filled in (e.g. blosc ``typesize``)."""
        return self

    def resolve_spec(self, spec: ChunkSpec) -> ChunkSpec:
        """The spec of this codec's encoded output (only array->array codecs change it)."""
        return spec

    def encode_batch(self, items: Sequence[Any], spec: ChunkSpec) -> list[Any]:
        """``encode`` for many chunks of one spec (a GPU codec overrides this with one device call)."""
        return run_batch(lambda item: self.encode(item, spec), items)  # type: ignore[attr-defined]

    def decode_batch(self, items: Sequence[Any], spec: ChunkSpec) -> list[Any]:
        """``decode`` for many chunks of one spec; ``CodecChain`` instead fuses the chain per chunk."""
        return run_batch(lambda item: self.decode(item, spec), items)  # type: ignore[attr-defined]

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_json() == other.to_json()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(repr(self.to_json()))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class ArrayArrayCodec(Codec):
    """Array in, array out (filters); ``encode`` may return a view, the serializer copies."""

    @abstractmethod
    def encode(self, chunk: np.ndarray, spec: ChunkSpec) -> np.ndarray: ...

    @abstractmethod
    def decode(self, chunk: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        """``spec`` describes the *decoded* chunk this returns."""


class ArrayBytesCodec(Codec):
    """Array in, bytes out (the serializer)."""

    @abstractmethod
    def encode(self, chunk: np.ndarray, spec: ChunkSpec) -> BytesLike: ...

    @abstractmethod
    def decode(self, data: BytesLike, spec: ChunkSpec, out: np.ndarray | None = None) -> np.ndarray:
        """Decode to ``spec.shape``; when ``out`` (C-contiguous, matching) is given, fill and return it."""

    def encoded_size(self, spec: ChunkSpec) -> int | None:
        """Exact encoded byte count when it only depends on ``spec`` (lets compressors decode in place)."""
        return None


class BytesBytesCodec(Codec):
    """Bytes in, bytes out (compressors, checksums)."""

    #: Whether ``decode`` to new memory is at least as fast as into a given buffer (zstd): the
    #: codec chain then copies that result into a strided output instead of using a scratch buffer.
    decodes_fresh_fast: bool = False

    @abstractmethod
    def encode(self, data: BytesLike, spec: ChunkSpec) -> BytesLike: ...

    @abstractmethod
    def decode(self, data: BytesLike, spec: ChunkSpec, out: np.ndarray | None = None) -> BytesLike:
        """Decoded bytes of any length; with ``out`` (a writable flat uint8 array of the exact
        expected size) fill all of it and return it, raising ``CodecError`` when the size differs."""

    def decode_many(self, items: Sequence[BytesLike], spec: ChunkSpec) -> list[np.ndarray] | None:
        """Many streams that each decode to exactly ``spec.nbytes``, in one native call (read-only
        results), or ``None`` when this codec has no such call or the batch needs ``decode`` one by
        one (which then names the bad chunk). Saves the per-chunk Python work of small chunks."""
        return None


def as_uint8(data: BytesLike) -> np.ndarray:
    """A flat uint8 view of any bytes-like value, without copying."""
    if isinstance(data, np.ndarray):
        if data.dtype == np.uint8 and data.ndim == 1:
            return data
        return np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    return np.frombuffer(data, dtype=np.uint8)


def run_batch(function: Any, items: Sequence[Any], *, min_parallel: int = 2) -> list[Any]:
    """Apply ``function`` to every item (chunk) on the shared thread pool, keeping order.

    The calling thread takes chunks too: on the batched read path a pool thread may be busy
    prefetching the next batch, and an idle caller left the decode one core short (a sharded
    8192² read took 0.6 s instead of 0.75-0.8 s on 2 cores)."""
    return map_in_pool(function, items, min_parallel=min_parallel, caller_works=True)


def check_decoded_size(actual: int, expected: int, codec: str) -> None:
    """Refuse a chunk whose decoded size is not what the metadata promises (never return garbage)."""
    if actual != expected:
        raise CodecError(f"decoded {actual} bytes, expected {expected}", codec=codec)


@contextmanager
def codec_errors(codec: str, action: str = "decoding") -> Iterator[None]:
    """Turn library exceptions (numcodecs, zlib, MemoryError from a forged header) into ``CodecError``."""
    try:
        yield
    except CodecError:
        raise
    except MemoryError as exc:
        raise CodecError(f"{action} failed: out of memory (corrupt size field?)", codec=codec) from exc
    except Exception as exc:  # any failure of a third-party decoder means bad data
        raise CodecError(f"{action} failed: {type(exc).__name__}: {exc}", codec=codec) from exc


def raise_for_chunk(exc: Exception, key: str | None, codec: str, action: str = "decoding") -> NoReturn:
    """Re-raise a failure while coding chunk ``key`` as a ``CodecError`` naming the key and ``codec``."""
    if isinstance(exc, CodecError):
        if exc.key is not None or key is None:
            raise exc
        raise with_key(exc, key) from exc
    raise CodecError(f"{action} failed: {type(exc).__name__}: {exc}", key=key, codec=codec) from exc


def with_key(exc: CodecError, key: str | None) -> CodecError:
    """The same error naming the chunk ``key`` (codecs raise without knowing which chunk they decode)."""
    message = str(exc)
    prefix = f"{exc.codec}: " if exc.codec is not None else ""
    if exc.key is not None:
        return exc
    if prefix and message.startswith(prefix):
        message = message[len(prefix) :]
    return CodecError(message, key=key, codec=exc.codec)
