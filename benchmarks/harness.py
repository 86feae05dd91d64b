"""Shared pieces of the benchmark scripts: data, timing, the zarr-API runner, JSON records.

cuzarr and zarr-python have the same API, so one function times both; tensorstore has its own.
"""

from __future__ import annotations

import json
import os
import platform
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


def best_of(repeat: int, function: Callable[[], Any]) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by a noisy machine)."""
    import time

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
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "versions": {name: library_version(name) for name in ("cuzarr", "zarr", "tensorstore", "numcodecs")},
        **payload,
    }
    with open(path, "w") as f:
        json.dump(record, f, indent=2)
