"""The NumPy backend: outputs are ``numpy.ndarray`` in host memory."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Backend


class CPUBackend(Backend):
    name = "cpu"
    fuses_chunk_io = True
    prefetches_batches = True

    def empty(self, shape: tuple[int, ...], dtype: np.dtype, order: str = "C") -> np.ndarray:
        return np.empty(shape, dtype=dtype, order=order)

    def full(self, shape: tuple[int, ...], fill_value: Any, dtype: np.dtype, order: str = "C") -> np.ndarray:
        return np.full(shape, fill_value, dtype=dtype, order=order)

    def asarray(self, value: Any, dtype: np.dtype | None = None) -> np.ndarray:
        if hasattr(value, "__cuda_array_interface__") and hasattr(value, "get"):
            value = value.get()
        return np.asarray(value, dtype=dtype)

    def to_host(self, array: Any) -> np.ndarray:
        return np.asarray(array)
