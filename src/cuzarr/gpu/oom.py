"""One name for "out of memory", whichever layer said it: CuPy, the CUDA runtime or driver, nvCOMP.

The device backend halves a batch when memory runs out, so it must recognise the condition
however it surfaces. Errors are matched by class name, status code and message instead of by
importing CuPy, so the mapping costs nothing at import and is tested on machines without a GPU.
"""

from __future__ import annotations

import re

from ..errors import DeviceOutOfMemory

#: ``cudaErrorMemoryAllocation`` (runtime) and ``CUDA_ERROR_OUT_OF_MEMORY`` (driver) are both 2.
_CUDA_OOM_STATUS = 2
#: Message fragments (lower case) of allocation failures reported as plain ``RuntimeError`` (nvCOMP).
_OOM_WORDS = ("out of memory", "cudaerrormemoryallocation", "cuda_error_out_of_memory", "cannot allocate")
_SIZE_RE = re.compile(r"allocating ([\d,]+) bytes")


def _requested(exc: BaseException) -> int | None:
    size = getattr(exc, "_size", None)  # cupy.cuda.memory.OutOfMemoryError keeps the request here
    if isinstance(size, int):
        return size
    match = _SIZE_RE.search(str(exc))
    return int(match.group(1).replace(",", "")) if match else None


def as_out_of_memory(exc: BaseException) -> DeviceOutOfMemory | None:
    """``exc`` as a ``DeviceOutOfMemory`` when it reports exhausted memory, else ``None``."""
    if isinstance(exc, DeviceOutOfMemory):
        return exc
    name = type(exc).__name__
    if name == "OutOfMemoryError":  # CuPy's device memory pool
        return DeviceOutOfMemory(str(exc), nbytes=_requested(exc), memory="device")
    if name in ("CUDARuntimeError", "CUDADriverError") and getattr(exc, "status", None) == _CUDA_OOM_STATUS:
        # CuPy's pools turn device failures into OutOfMemoryError: a bare runtime error is pinned memory
        memory = "pinned" if name == "CUDARuntimeError" else "device"
        return DeviceOutOfMemory(str(exc), nbytes=_requested(exc), memory=memory)
    if isinstance(exc, MemoryError):
        return DeviceOutOfMemory(str(exc) or "host allocation failed", nbytes=_requested(exc), memory="host")
    if isinstance(exc, RuntimeError) and any(word in str(exc).lower() for word in _OOM_WORDS):
        return DeviceOutOfMemory(str(exc), nbytes=_requested(exc), memory="device")
    return None
