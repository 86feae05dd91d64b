"""Buffer backends: where decoded chunks and outputs live (NumPy on CPU, CuPy on GPU)."""

from __future__ import annotations

from .base import Backend
from .cpu import CPUBackend


def get_backend(device: str | None = None) -> Backend:
    """The backend for a device name (``None`` means the configured default)."""
    from ..config import config

    name = device or config.get("device")
    if name == "cpu":
        return CPUBackend()
    if name in ("cuda", "gpu"):
        try:
            from .cuda import CUDABackend  # type: ignore[import-not-found]
        except ImportError as exc:
            raise RuntimeError(
                f"device={name!r} needs CuPy and the cuzarr GPU backend (pip install 'cuzarr[gpu]'): {exc}"
            ) from exc
        return CUDABackend()
    if name == "emulated":
        try:
            from .emulated import EmulatedBackend  # type: ignore[import-not-found]
        except ImportError as exc:
            raise RuntimeError(f"the emulated GPU backend is not available: {exc}") from exc
        return EmulatedBackend()
    raise ValueError(f"unknown device {name!r}; expected 'cpu', 'cuda' (alias 'gpu') or 'emulated'")


__all__ = ["Backend", "CPUBackend", "get_backend"]
