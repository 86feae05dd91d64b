"""cuzarr: Zarr v3/v2 arrays, NumPy on CPU and CuPy on GPU, with zarr-python 3's API.

``import cuzarr as zarr`` runs ordinary zarr-python 3 array code.
"""

from __future__ import annotations

from . import buffer, codecs, errors, storage
from .api import (
    array,
    create,
    create_array,
    empty,
    full,
    ones,
    open,
    open_array,
    zeros,
)
from .config import config
from .convenience import (
    empty_like,
    from_array,
    full_like,
    load,
    ones_like,
    open_like,
    save,
    save_array,
    zeros_like,
)
from .core.array import Array

__version__ = "0.1.0"

__all__ = [
    "empty_like",
    "from_array",
    "full_like",
    "load",
    "ones_like",
    "open_like",
    "save",
    "save_array",
    "zeros_like",
    "Array",
    "__version__",
    "array",
    "buffer",
    "codecs",
    "config",
    "create",
    "create_array",
    "empty",
    "errors",
    "full",
    "ones",
    "open",
    "open_array",
    "storage",
    "zeros",
]
