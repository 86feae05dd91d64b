"""The backend protocol: everything core/ needs from an array library, and nothing more.

core/ never imports NumPy-specific or CuPy-specific helpers for output buffers; it asks the
backend. A GPU backend implements the same methods with CuPy and device kernels.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np


class Backend(ABC):
    """Allocates output arrays, moves data to and from the host, and scatters decoded chunks."""

    name: str = "abstract"
    #: Whether reads and writes may run store access + decode/encode + placement per chunk in one
    #: pool task (host memory). Device backends need whole batches: one transfer, one nvCOMP call.
    fuses_chunk_io: bool = False
    #: Whether batched reads may fetch batch i+1 on another thread while batch i decodes: its
    #: ``fetch`` is safe on a pool thread and keeps nothing another batch's decode still reads.
    prefetches_batches: bool = False

    @abstractmethod
    def empty(self, shape: tuple[int, ...], dtype: np.dtype, order: str = "C") -> Any:
        """An uninitialised array on this backend."""

    @abstractmethod
    def full(self, shape: tuple[int, ...], fill_value: Any, dtype: np.dtype, order: str = "C") -> Any:
        """An array filled with ``fill_value``."""

    @abstractmethod
    def asarray(self, value: Any, dtype: np.dtype | None = None) -> Any:
        """``value`` as an array of this backend, without copying when it already is one."""

    @abstractmethod
    def to_host(self, array: Any) -> np.ndarray:
        """``array`` as a NumPy array (a no-op on the CPU backend)."""

    def broadcast_to(self, array: Any, shape: tuple[int, ...]) -> Any:
        """A read-only broadcast view of ``array`` with ``shape`` (ValueError if incompatible)."""
        return np.broadcast_to(array, shape)

    def is_backend_array(self, value: Any) -> bool:
        """Whether ``value`` already lives on this backend."""
        return isinstance(value, np.ndarray)

    def all_equal(self, array: Any, value: Any) -> bool:
        """Whether every element equals ``value`` (NaN equals NaN); decides if a chunk is empty."""
        return all_equal_numpy(self.to_host(array), value)

    # -- the batched chunk path: a GPU backend overrides these three ---------------------
    def fetch(self, store: Any, keys: Sequence[str]) -> list[Any]:
        """Encoded bytes of many chunks (``None`` where missing), in one batched store call.

        A GPU backend reads into a pinned staging arena instead of fresh host buffers.
        """
        return store.get_many(keys)

    def fetch_chunks(self, source: Any, coords: Sequence[Any]) -> Any:
        """The encoded chunks ``coords`` of ``source`` (a ``ChunkSource``), ready for ``decode_chunks``.

        Runs on a pool thread when the read prefetches. A GPU backend copies bytes that the
        source fetched itself (shard ranges) into a pinned staging slot here, so that copy
        overlaps the previous batch's decode.
        """
        return source.fetch(self, coords)

    def discard_fetched(self, encoded: Any) -> None:  # noqa: B027 - optional hook
        """``fetch``'s result will not be decoded (the read failed or stopped early): free what it
        holds. A device backend gives its staging slot back; nothing to do for plain bytes."""

    def decode_chunks(
        self,
        codecs: Any,
        encoded: Sequence[Any],
        *,
        keys: Sequence[str],
        outs: Sequence[Any] | None = None,
        writable: bool = True,
    ) -> list[Any]:
        """Decode a batch with a codec chain (``CodecChain``/``V2CodecChain``) into this backend's arrays.

        Same contract as ``codecs.decode_batch``: ``None`` in, ``None`` out; ``outs[i]`` filled and
        returned when given; ``writable=False`` allows read-only results (the caller only copies
        from them). A GPU backend runs each codec as one device call per batch.
        """
        return codecs.decode_batch(encoded, keys=keys, outs=outs, writable=writable)

    def encode_chunks(self, codecs: Any, chunks: Sequence[Any], *, keys: Sequence[str]) -> list[Any]:
        """Encode a batch of chunk arrays to bytes-like values ready for ``store.set_many``."""
        return codecs.encode_batch(chunks, keys=keys)

    def scatter(
        self,
        out: Any,
        chunks: Sequence[Any],
        chunk_selections: Sequence[tuple],
        out_selections: Sequence[tuple],
    ) -> None:
        """Copy ``chunk[chunk_sel]`` into ``out[out_sel]`` for every decoded chunk of a batch."""
        for chunk, chunk_sel, out_sel in zip(chunks, chunk_selections, out_selections):
            out[out_sel] = chunk[chunk_sel]


def all_equal_numpy(array: np.ndarray, value: Any) -> bool:
    """Whether every element equals ``value``, treating NaN as equal to NaN (per complex part)
    and -0.0 as different from 0.0 (a chunk of -0.0 is not "empty" when the fill is 0.0)."""
    if array.size == 0:
        return True
    dtype = array.dtype
    try:
        target = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        return bool((array == value).all())
    if dtype.kind == "f":
        return _nan_equal(array, target)
    if dtype.kind in "mM":
        return bool(np.isnat(array).all()) if np.isnat(target) else bool((array == target).all())
    if dtype.kind == "c":
        return _nan_equal(array.real, target.real) and _nan_equal(array.imag, target.imag)
    return bool((array == target).all())


def _nan_equal(array: np.ndarray, target: np.ndarray) -> bool:
    if np.isnan(target):
        return bool(np.isnan(array).all())
    if not (array == target).all():
        return False
    return target != 0 or bool((np.signbit(array) == np.signbit(target)).all())
