"""``DeviceOps``: the few device primitives the shared GPU logic needs, nothing more.

``DeviceBackend`` and the batch steps in ``gpu/`` are written once against this interface. The
emulated ops run NumPy and the reference kernels; the CUDA ops run CuPy, ``cupy.RawModule``
kernels and nvCOMP. Everything is batched: a method call is one launch (or one library call).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from ..errors import DeviceOutOfMemory
from . import descriptors as d
from .oom import as_out_of_memory

#: Kernels launched through ``DeviceOps.launch`` and the table dtype each takes.
KERNEL_TABLES = {
    "batch_memcpy": d.COPY,
    "copy_strided": d.STRIDED,
    "byte_unshuffle": d.BLOCK,
    "byte_shuffle": d.BLOCK,
    "bit_unshuffle": d.BLOCK,
    "bit_shuffle": d.BLOCK,
    "byteswap": d.SWAP,
}

ARENA_ALIGN = 256


def align(n: int | np.ndarray, to: int = ARENA_ALIGN) -> Any:
    """``n`` rounded up to a multiple of ``to``."""
    return -(-n // to) * to


class DeviceOps(ABC):
    """Memory, copies, kernels and batch (de)compression on one device."""

    #: The array module of device arrays (``numpy`` or ``cupy``).
    xp: Any
    name: str = "abstract"

    # -- memory -------------------------------------------------------------------------------
    @abstractmethod
    def empty(self, nbytes: int) -> Any:
        """A flat uint8 device buffer of ``nbytes`` (256-byte aligned)."""

    @abstractmethod
    def host_empty(self, nbytes: int) -> np.ndarray:
        """A flat uint8 host buffer for staging (pinned on CUDA)."""

    @abstractmethod
    def address(self, array: Any) -> int:
        """Device address of ``array``'s first element (registers it for bounds checks when emulated)."""

    @abstractmethod
    def scope(self) -> AbstractContextManager[Any]:
        """Bracket one backend call (the emulated address space forgets its registrations after it)."""

    @abstractmethod
    def to_device(self, host: np.ndarray, out: Any) -> None:
        """Copy a flat uint8 host buffer into the device buffer ``out`` (same size); may be async:
        ``host`` must not change or be freed before a ``record_event`` queued after it has passed."""

    @abstractmethod
    def to_host(self, device: Any, out: np.ndarray) -> None:
        """Copy a flat uint8 device buffer into ``out``; complete on return."""

    @abstractmethod
    def synchronize(self) -> None:
        """Wait for all queued device work."""

    @abstractmethod
    def record_event(self) -> Any:
        """A marker after the work queued so far on the calling thread's stream (for ``wait_event``)."""

    @abstractmethod
    def wait_event(self, event: Any) -> None:
        """Block the calling thread until the work before ``event`` is done (``None``: return at once).

        May be called from another thread than the one that recorded ``event``.
        """

    def note_staging(self, action: str, slot: int) -> None:  # noqa: B027 - optional hook
        """Staging slot ``slot`` was taken by a fetch ('take'), read by a decode ('read'), given
        back ('give') or let go ('drop'); the emulated ops log it so tests can check the order."""

    def release_memory(self) -> None:  # noqa: B027 - optional hook, nothing is cached by default
        """Give cached free blocks back after a failed batch, so the smaller retry can use them."""

    def as_out_of_memory(self, exc: BaseException) -> DeviceOutOfMemory | None:
        """``exc`` as a ``DeviceOutOfMemory`` when it means memory ran out (the batch is then halved)."""
        return as_out_of_memory(exc)

    # -- kernels --------------------------------------------------------------------------------
    @abstractmethod
    def launch(self, kernel: str, table: np.ndarray) -> None:
        """Run ``kernel`` (a ``KERNEL_TABLES`` name) over every row of ``table`` in one launch."""

    @abstractmethod
    def checksum(self, table: np.ndarray, kind: int) -> tuple[np.ndarray, np.ndarray]:
        """``(values, ok)`` on the host for a ``CHECKSUM`` table (one launch, one small copy back)."""

    # -- batch codecs ---------------------------------------------------------------------------
    @abstractmethod
    def decompress_streams(self, codec: str, table: np.ndarray) -> np.ndarray:
        """Decode every ``STREAM`` row with ``codec`` ('lz4', 'zstd', 'deflate'); decoded sizes, -1 on failure."""

    @abstractmethod
    def compress_streams(self, codec: str, table: np.ndarray, level: int) -> np.ndarray:
        """Encode every ``STREAM`` row (``dst_size`` is the room available); compressed sizes."""

    def can_compress(self, codec: str) -> bool:
        """Whether ``compress_streams`` supports ``codec``."""
        return codec in ("lz4", "zstd", "deflate")

    def max_compressed_size(self, codec: str, nbytes: int) -> int:
        """Worst-case compressed size of ``nbytes`` with ``codec`` (room to reserve per chunk)."""
        return nbytes + nbytes // 128 + 1024

    def alignment(self, codec: str) -> tuple[int, int]:
        """Required alignment of ``(input, output)`` addresses for ``codec`` streams."""
        return 1, 1
