"""Shared pieces of the benchmark scripts: data, timing, the zarr-API runner, JSON records.

cuzarr and zarr-python have the same API, so one function times both; tensorstore has its own.
"""

from __future__ import annotations

import json
import os
import platform
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

import numpy as np


def smooth_field(n: int) -> np.ndarray:
    """A float32 field that compresses like real data (~2-3x with zstd), not like noise or zeros."""
    x = np.linspace(0, 8 * np.pi, n, dtype=np.float32)
    field = np.sin(x)[:, None] * np.cos(x)[None, :]
    rng = np.random.default_rng(0)
    field += rng.normal(0, 0.01, size=(n, n)).astype(np.float32)
    return np.round(field, 3).astype(np.float32)


def image_stack(planes: int, n: int) -> np.ndarray:
    """An int16 stack of ``planes`` n x n images: smooth structure plus sensor-like noise."""
    y, x = np.mgrid[0:n, 0:n].astype(np.float32) / n
    rng = np.random.default_rng(1)
    stack = np.empty((planes, n, n), np.int16)
    for z in range(planes):
        base = 2000 + 1500 * np.sin(6 * x + z * 0.3) * np.cos(4 * y - z * 0.2)
        stack[z] = (base + rng.normal(0, 20, size=(n, n))).astype(np.int16)
    return stack


def timed(function: Callable[[], Any]) -> float:
    """Seconds one call of ``function`` takes."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def summarize(times: list[float]) -> dict[str, float]:
    """Median, min and max of repeated timings (seconds), plus how many there were."""
    ordered = sorted(times)
    return {
        "median_s": float(np.median(ordered)),
        "min_s": ordered[0],
        "max_s": ordered[-1],
        "repeats": len(ordered),
    }


class PeakMemory:
    """Peak memory of a block beyond what was allocated before it: Python/NumPy heap via
    tracemalloc (``traced_bytes``, unless ``trace=False``: tracing slows Python down) and process
    RSS sampled every millisecond (``rss_bytes``, which also sees native allocations such as
    tensorstore's or pinned staging memory; from psutil, else ``/proc/self/statm``)."""

    def __init__(self, interval: float = 0.001, trace: bool = True):
        self._interval = interval
        self._trace = trace
        self.traced_bytes = 0
        self.rss_bytes = 0

    def __enter__(self) -> PeakMemory:
        try:
            import psutil

            self._process: Any = psutil.Process()
        except ImportError:  # RSS is reported as 0 without psutil
            self._process = None
        self._stop = threading.Event()
        self._rss0 = self._rss_peak = self._rss()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        if self._trace:
            tracemalloc.start()
            tracemalloc.reset_peak()
            self._traced0 = tracemalloc.get_traced_memory()[0]
        return self

    def _rss(self) -> int:
        if self._process is not None:
            return self._process.memory_info().rss
        try:
            with open("/proc/self/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self._rss_peak = max(self._rss_peak, self._rss())

    def __exit__(self, *exc: object) -> None:
        if self._trace:
            self.traced_bytes = tracemalloc.get_traced_memory()[1] - self._traced0
            tracemalloc.stop()
        self._stop.set()
        self._sampler.join()
        self._rss_peak = max(self._rss_peak, self._rss())
        self.rss_bytes = self._rss_peak - self._rss0


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    return {name: library_version(name) for name in ("cuzarr", "zarr", "tensorstore", "numcodecs", "numpy")}


def best_of(repeat: int, function: Callable[[], Any]) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by a noisy machine)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def zarr_api_write(lib: Any, path: str, data: np.ndarray, **layout: Any) -> Callable[[], None]:
    """A writer of ``data`` through ``lib.create_array`` (cuzarr or zarr-python), zstd level 0."""

    def write() -> None:
        z = lib.create_array(
            store=path,
            shape=data.shape,
            dtype=data.dtype,
            overwrite=True,
            compressors=lib.codecs.ZstdCodec(level=0),
            **layout,
        )
        z[...] = data

    return write


def ratios_to_peers(
    results: dict[str, dict[str, Any]], metrics: dict[str, str]
) -> dict[str, dict[str, float]]:
    """cuzarr's value over each peer's for higher-is-better ``metrics`` (label -> result key), printed."""
    ours = results["cuzarr"]
    ratios = {
        name: {label: ours[key] / r[key] for label, key in metrics.items()}
        for name, r in results.items()
        if name != "cuzarr"
    }
    for name, by_label in ratios.items():
        print(f"cuzarr / {name}: " + ", ".join(f"{label} {value:.2f}x" for label, value in by_label.items()))
    return ratios


def library_version(name: str) -> str:
    try:
        return version(name)
    except Exception:  # noqa: BLE001 - a version string is informative only
        return "unknown"


def save_record(path: str, benchmark: str, payload: dict[str, Any]) -> None:
    """Write a result record with the machine and date, as committed under benchmarks/results/."""
    record = {
        "benchmark": benchmark,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**machine_info(), "cpus": os.cpu_count()},
        "versions": versions(),
        **payload,
    }
    with open(path, "w") as f:
        json.dump(record, f, indent=2)
