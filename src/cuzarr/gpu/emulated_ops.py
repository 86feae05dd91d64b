"""``EmulatedOps``: ``DeviceOps`` on NumPy, the reference kernels and CPU stream codecs.

"Device" buffers are NumPy arrays addressed by their real host addresses through a bounds-checked
``reference.Memory``. Launch counts are recorded so tests can assert one launch per batch step.
Device and pinned memory can be given limits, and any step can be made to fail on its k-th call
(``emulated_faults``), so the CPU suite exercises the backend's out-of-memory and error recovery.
Staging slots are logged as fetches take them and decodes read and give them back, with the
thread that did it, so tests can prove that batch i+1 is fetched while batch i decodes without
either touching the other's slot.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from . import cpu_streams, reference
from .emulated_faults import FaultSchedule, MemoryMeter
from .ops import DeviceOps

_KERNELS = {
    "batch_memcpy": reference.batch_memcpy,
    "copy_strided": reference.copy_strided,
    "byte_unshuffle": reference.byte_unshuffle,
    "byte_shuffle": reference.byte_shuffle,
    "bit_unshuffle": reference.bit_unshuffle,
    "bit_shuffle": reference.bit_shuffle,
    "byteswap": reference.byteswap,
}


class EmulatedEvent:
    """A recorded event: emulated copies finish before ``to_device`` returns, so it is done at once."""

    def __init__(self) -> None:
        self.waited = 0  # how many times someone blocked on it


class EmulatedOps(DeviceOps):
    xp = np
    name = "emulated"

    def __init__(
        self,
        alignments: dict[str, tuple[int, int]] | None = None,
        *,
        device_limit: int | None = None,
        pinned_limit: int | None = None,
    ):
        self.memory = reference.Memory()
        self.launches: Counter[str] = Counter()
        self._alignments = alignments or {}
        self.device_memory = MemoryMeter("device", device_limit)
        self.pinned_memory = MemoryMeter("pinned", pinned_limit)
        self.faults = FaultSchedule()
        self.releases = 0
        #: ``(action, slot, thread name)`` per ``note_staging`` call, oldest first
        self.staging_log: deque[tuple[str, int, str]] = deque(maxlen=1 << 14)

    def _count(self, step: str) -> None:
        self.launches[step] += 1
        self.faults.tick(step)

    def empty(self, nbytes: int) -> np.ndarray:
        return self.device_memory.allocate(nbytes)

    def host_empty(self, nbytes: int) -> np.ndarray:
        return self.pinned_memory.allocate(nbytes)

    def release_memory(self) -> None:
        self.releases += 1

    def address(self, array: Any) -> int:
        return self.memory.register(array)

    def scope(self) -> AbstractContextManager[Any]:
        return self.memory.scope()

    def to_device(self, host: np.ndarray, out: np.ndarray) -> None:
        self._count("h2d")
        out[...] = host

    def to_host(self, device: np.ndarray, out: np.ndarray) -> None:
        self._count("d2h")
        out[...] = device

    def synchronize(self) -> None:
        pass

    def record_event(self) -> EmulatedEvent:
        return EmulatedEvent()

    def wait_event(self, event: Any) -> None:
        if event is not None:
            event.waited += 1

    def note_staging(self, action: str, slot: int) -> None:
        self.staging_log.append((action, slot, threading.current_thread().name))

    def launch(self, kernel: str, table: np.ndarray) -> None:
        self._count(kernel)
        _KERNELS[kernel](self.memory, table)

    def checksum(self, table: np.ndarray, kind: int) -> tuple[np.ndarray, np.ndarray]:
        self._count("checksum")
        return reference.checksum_batch(self.memory, table, kind)

    def decompress_streams(self, codec: str, table: np.ndarray) -> np.ndarray:
        self._count(f"decompress:{codec}")
        in_align, out_align = self.alignment(codec)
        sizes = np.full(len(table), -1, np.int64)
        for i, row in enumerate(table):
            src, dst, want = int(row["src"]), int(row["dst"]), int(row["dst_size"])
            if src % in_align or dst % out_align:
                raise AssertionError(f"misaligned {codec} stream reached the batch decoder")
            try:
                data = cpu_streams.decompress(codec, self.memory.view(src, int(row["src_size"])), want)
            except Exception:
                continue
            sizes[i] = len(data)
            if len(data) == want:
                self.memory.view(dst, want)[:] = np.frombuffer(data, np.uint8)
        return sizes

    def compress_streams(self, codec: str, table: np.ndarray, level: int) -> np.ndarray:
        self._count(f"compress:{codec}")
        sizes = np.full(len(table), -1, np.int64)
        for i, row in enumerate(table):
            data = cpu_streams.compress(codec, self.memory.view(int(row["src"]), int(row["src_size"])), level)
            if len(data) <= int(row["dst_size"]):
                self.memory.view(int(row["dst"]), len(data))[:] = np.frombuffer(data, np.uint8)
                sizes[i] = len(data)
        return sizes

    def alignment(self, codec: str) -> tuple[int, int]:
        return self._alignments.get(codec, (1, 1))
