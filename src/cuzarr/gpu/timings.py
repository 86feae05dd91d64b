"""Where a device read or write spends its time: host wall seconds per phase, summed over threads.

The GPU benchmark reports these next to the throughput, so a run below target says which phase
to tune (staging reads, decode, placement). Times are host wall clock: device work queued but
not yet waited for is counted in whichever later phase waits for it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Phase:
    """One timed block; set ``nbytes`` inside it when the size is known only at the end."""

    __slots__ = ("nbytes",)

    def __init__(self, nbytes: int):
        self.nbytes = nbytes


class PhaseTimes:
    """Seconds, calls and bytes per named phase; safe to update from the pool's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.nbytes: Counter[str] = Counter()

    @contextmanager
    def phase(self, name: str, nbytes: int = 0) -> Iterator[Phase]:
        """Count the enclosed block as one call of ``name`` moving ``nbytes``, even when it raises."""
        block, start = Phase(nbytes), time.perf_counter()
        try:
            yield block
        finally:
            self.add(name, time.perf_counter() - start, block.nbytes)

    def add(self, name: str, seconds: float, nbytes: int = 0) -> None:
        """Count one call of ``name`` timed elsewhere."""
        with self._lock:
            self.seconds[name] += seconds
            self.calls[name] += 1
            self.nbytes[name] += int(nbytes)

    def reset(self) -> None:
        with self._lock:
            self.seconds.clear()
            self.calls.clear()
            self.nbytes.clear()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """``{phase: {"seconds", "calls", "bytes", "gb_per_s"}}`` (GB/s of the phase's bytes
        over its summed seconds: per thread, not wall clock, for phases on several threads)."""
        with self._lock:
            return {
                name: {
                    "seconds": seconds,
                    "calls": self.calls[name],
                    "bytes": self.nbytes[name],
                    "gb_per_s": self.nbytes[name] / seconds / 1e9 if seconds > 0 else 0.0,
                }
                for name, seconds in sorted(self.seconds.items())
            }
