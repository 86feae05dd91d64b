"""``EmulatedOps``: ``DeviceOps`` on NumPy, the reference kernels and CPU stream codecs.

"Device" buffers are NumPy arrays addressed by their real host addresses through a bounds-checked
``reference.Memory``. Launch counts are recorded so tests can assert one launch per batch step.
"""

from __future__ import annotations

from collections import Counter
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from . import cpu_streams, reference
from .ops import ARENA_ALIGN, DeviceOps

_KERNELS = {
    "batch_memcpy": reference.batch_memcpy,
    "copy_strided": reference.copy_strided,
    "byte_unshuffle": reference.byte_unshuffle,
    "byte_shuffle": reference.byte_shuffle,
    "bit_unshuffle": reference.bit_unshuffle,
    "bit_shuffle": reference.bit_shuffle,
    "byteswap": reference.byteswap,
}


class EmulatedOps(DeviceOps):
    xp = np
    name = "emulated"

    def __init__(self, alignments: dict[str, tuple[int, int]] | None = None):
        self.memory = reference.Memory()
        self.launches: Counter[str] = Counter()
        self._alignments = alignments or {}

    def empty(self, nbytes: int) -> np.ndarray:
        raw = np.empty(nbytes + ARENA_ALIGN, np.uint8)
        start = -raw.__array_interface__["data"][0] % ARENA_ALIGN
        return raw[start : start + nbytes]

    def host_empty(self, nbytes: int) -> np.ndarray:
        return self.empty(nbytes)

    def address(self, array: Any) -> int:
        return self.memory.register(array)

    def scope(self) -> AbstractContextManager[Any]:
        return self.memory.scope()

    def to_device(self, host: np.ndarray, out: np.ndarray) -> None:
        self.launches["h2d"] += 1
        out[...] = host

    def to_host(self, device: np.ndarray, out: np.ndarray) -> None:
        self.launches["d2h"] += 1
        out[...] = device

    def synchronize(self) -> None:
        pass

    def launch(self, kernel: str, table: np.ndarray) -> None:
        self.launches[kernel] += 1
        _KERNELS[kernel](self.memory, table)

    def checksum(self, table: np.ndarray, kind: int) -> tuple[np.ndarray, np.ndarray]:
        self.launches["checksum"] += 1
        return reference.checksum_batch(self.memory, table, kind)

    def decompress_streams(self, codec: str, table: np.ndarray) -> np.ndarray:
        self.launches[f"decompress:{codec}"] += 1
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
        self.launches[f"compress:{codec}"] += 1
        sizes = np.full(len(table), -1, np.int64)
        for i, row in enumerate(table):
            data = cpu_streams.compress(codec, self.memory.view(int(row["src"]), int(row["src_size"])), level)
            if len(data) <= int(row["dst_size"]):
                self.memory.view(int(row["dst"]), len(data))[:] = np.frombuffer(data, np.uint8)
                sizes[i] = len(data)
        return sizes

    def alignment(self, codec: str) -> tuple[int, int]:
        return self._alignments.get(codec, (1, 1))
