"""``CUDABackend``: the device path on CuPy and nvCOMP; reads return ``cupy.ndarray``.

All batching logic is ``DeviceBackend``'s (exercised on CPU by the emulated backend); this file
only says how arrays are made and moved. dtypes CuPy cannot hold stay NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..gpu.cuda_ops import CudaOps
from .device import DeviceBackend

_CUPY_KINDS = "biufc"


class CUDABackend(DeviceBackend):
    name = "cuda"

    def __init__(self) -> None:
        super().__init__(CudaOps())

    def supports_dtype(self, dtype: np.dtype) -> bool:
        dt = np.dtype(dtype)
        return dt.kind in _CUPY_KINDS and dt.fields is None and dt.isnative

    def asarray(self, value: Any, dtype: np.dtype | None = None) -> Any:
        target = np.dtype(dtype) if dtype is not None else getattr(value, "dtype", None)
        if target is not None and not self.supports_dtype(target):
            return np.asarray(self.to_host(value) if self.is_backend_array(value) else value, dtype=dtype)
        return self.xp.asarray(value, dtype=dtype)

    def to_host(self, array: Any) -> np.ndarray:
        if isinstance(array, self.xp.ndarray):
            return array.get()
        return np.asarray(array)

    def broadcast_to(self, array: Any, shape: tuple[int, ...]) -> Any:
        if isinstance(array, self.xp.ndarray):
            return self.xp.broadcast_to(array, shape)
        return np.broadcast_to(array, shape)

    def all_equal(self, array: Any, value: Any) -> bool:
        xp = self.xp
        if not isinstance(array, xp.ndarray):
            return super().all_equal(array, value)
        if array.size == 0:
            return True
        target = np.asarray(value, dtype=array.dtype)
        if array.dtype.kind == "c" and np.isnan(target).any():
            return super().all_equal(array, value)
        if array.dtype.kind == "f" and np.isnan(target):
            return bool(xp.isnan(array).all())
        if not bool((array == xp.asarray(target)).all()):
            return False
        if array.dtype.kind in "fc" and np.any(target == 0):  # -0.0 is not the fill 0.0 (and back)
            return super().all_equal(array, value)
        return True
