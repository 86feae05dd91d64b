"""cuzarr: Zarr v3/v2 arrays and groups, NumPy on CPU and CuPy on GPU, with zarr-python 3's API.

``import cuzarr as zarr`` runs ordinary zarr-python 3 code.
"""

from __future__ import annotations

from . import api, buffer, codecs, errors, storage
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
from .api_group import (
    consolidate_metadata,
    create_group,
    create_hierarchy,
    group,
    open_consolidated,
    open_group,
    tree,
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
    save_group,
    zeros_like,
)
from .core.array import Array
from .core.async_array import AsyncArray
from .core.async_group import AsyncGroup
from .core.copy import copy, copy_all, copy_store
from .core.group import Group
from .core.sync import ProcessSynchronizer, ThreadSynchronizer
from .debug_info import print_debug_info
from .errors import CopyError

__version__ = "0.1.0"

__all__ = [
    "AsyncArray",
    "AsyncGroup",
    "CopyError",
    "Group",
    "ProcessSynchronizer",
    "ThreadSynchronizer",
    "consolidate_metadata",
    "copy",
    "copy_all",
    "copy_store",
    "create_group",
    "create_hierarchy",
    "group",
    "open_consolidated",
    "open_group",
    "save_group",
    "tree",
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
    "api",
    "print_debug_info",
    "storage",
    "zeros",
]
