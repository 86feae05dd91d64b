"""Bridges to dask, xarray and PyTorch, built only on cuzarr's public API.

Importing this package imports none of those libraries: each name below loads its submodule on
first use, so ``import cuzarr`` stays cheap on machines without them.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "to_dask": "dask",
    "from_dask": "dask",
    "CuzarrBackendEntrypoint": "xarray_backend",
    "open_dataset": "xarray_backend",
    "to_zarr": "xarray_write",
    "ChunkDataset": "torch",
    "ChunkIterableDataset": "torch",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cuzarr.integrations' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
