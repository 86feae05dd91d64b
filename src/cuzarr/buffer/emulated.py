"""``EmulatedBackend``: the GPU path on NumPy (reference kernels, CPU stream codecs), for testing.

Returns NumPy arrays, like ``CPUBackend``, but every batch goes through the staging slots,
descriptor tables and batch decoders of the device path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..gpu.emulated_ops import EmulatedOps
from .device import DeviceBackend


class EmulatedBackend(DeviceBackend):
    name = "emulated"

    def __init__(self, ops: EmulatedOps | None = None):
        super().__init__(ops or EmulatedOps())

    def asarray(self, value: Any, dtype: np.dtype | None = None) -> np.ndarray:
        if hasattr(value, "__cuda_array_interface__") and hasattr(value, "get"):
            value = value.get()
        return np.asarray(value, dtype=dtype)

    def to_host(self, array: Any) -> np.ndarray:
        return np.asarray(array)
