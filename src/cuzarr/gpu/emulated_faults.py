"""Finite memory and scheduled failures for the emulated device, so the CPU suite tests recovery.

A real GPU runs out of memory and fails launches; NumPy does neither. ``MemoryMeter`` counts the
live bytes of one memory kind (device or pinned host) against an optional limit and raises the
backend-neutral ``DeviceOutOfMemory`` past it, as CuPy's pool does with ``set_limit``.
``FaultSchedule`` raises ``EmulatedDeviceFault`` on the k-th call of a named step (a launch,
copy or batch codec call), as a CUDA error would.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter

import numpy as np

from ..errors import DeviceOutOfMemory
from .ops import ARENA_ALIGN


class EmulatedDeviceFault(RuntimeError):
    """An injected device failure (what an illegal address or launch failure is on a real GPU)."""


class MemoryMeter:
    """Live bytes of one kind of emulated memory; ``limit`` (bytes, ``None``: unlimited) caps them."""

    def __init__(self, kind: str, limit: int | None = None):
        self.kind = kind
        self.limit = limit
        self.used = 0
        self.peak = 0
        self.refused = 0  # allocations that raised DeviceOutOfMemory
        self._lock = threading.Lock()

    def allocate(self, nbytes: int) -> np.ndarray:
        """A 256-byte aligned flat uint8 buffer; its bytes count until the last view of it dies."""
        with self._lock:
            if self.limit is not None and self.used + nbytes > self.limit:
                self.refused += 1
                raise DeviceOutOfMemory(
                    f"emulated {self.kind} memory: out of memory allocating {nbytes:,} bytes "
                    f"(in use: {self.used:,} bytes, limit: {self.limit:,} bytes)",
                    nbytes=nbytes,
                    memory=self.kind,
                )
            self.used += nbytes
            self.peak = max(self.peak, self.used)
        raw = np.empty(nbytes + ARENA_ALIGN, np.uint8)
        weakref.finalize(raw, self._free, nbytes)
        start = -raw.__array_interface__["data"][0] % ARENA_ALIGN
        return raw[start : start + nbytes]

    def _free(self, nbytes: int) -> None:
        with self._lock:
            self.used -= nbytes


class FaultSchedule:
    """Failures to raise on given calls of given steps, each once."""

    def __init__(self) -> None:
        self._calls: Counter[str] = Counter()
        self._pending: dict[str, dict[int, BaseException]] = {}

    def fail_at(self, step: str, call: int = 1, error: BaseException | None = None) -> None:
        """Raise ``error`` (default ``EmulatedDeviceFault``) on the ``call``-th ``step`` from now.

        ``step`` is a name ``EmulatedOps.launches`` counts: a kernel ('copy_strided'), 'h2d',
        'd2h', 'checksum', 'decompress:zstd', 'compress:zstd', ...
        """
        if call < 1:
            raise ValueError(f"call counts from 1, got {call}")
        self._pending.setdefault(step, {})[self._calls[step] + call] = error or EmulatedDeviceFault(
            f"injected device failure on {step} call {call}"
        )

    def tick(self, step: str) -> None:
        """Count one call of ``step``, raising what was scheduled for it."""
        self._calls[step] += 1
        planned = self._pending.get(step)
        if planned:
            error = planned.pop(self._calls[step], None)
            if error is not None:
                raise error

    def pending(self) -> int:
        """Failures scheduled and not yet raised."""
        return sum(len(v) for v in self._pending.values())
