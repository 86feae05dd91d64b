"""zarr-python's ``zarr.api.synchronous``: the whole synchronous top-level API in one namespace.

cuzarr's core is synchronous, so these are the implementations themselves, gathered from where
they live: arrays and ``open`` (``api/arrays.py``), groups (``api_group.py``), the copying helpers
(``convenience.py``) and ``copy``/``copy_all``/``copy_store`` (``core/copy.py``).
"""

from __future__ import annotations

from ..api_group import (
    consolidate_metadata,
    create_group,
    create_hierarchy,
    group,
    open_consolidated,
    open_group,
    tree,
)
from ..convenience import (
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
from ..core.copy import copy, copy_all, copy_store
from .arrays import array, create, create_array, empty, full, ones, open, open_array, zeros

__all__ = [
    "array",
    "consolidate_metadata",
    "copy",
    "copy_all",
    "copy_store",
    "create",
    "create_array",
    "create_group",
    "create_hierarchy",
    "empty",
    "empty_like",
    "from_array",
    "full",
    "full_like",
    "group",
    "load",
    "ones",
    "ones_like",
    "open",
    "open_array",
    "open_consolidated",
    "open_group",
    "open_like",
    "save",
    "save_array",
    "save_group",
    "tree",
    "zeros",
    "zeros_like",
]
