"""The top-level API, laid out as zarr-python's ``zarr.api``: ``synchronous`` (what ``cuzarr.*``
re-exports) and ``asynchronous`` (the same functions as coroutines returning ``AsyncArray`` /
``AsyncGroup``). The array functions live in ``arrays``; their names are re-exported here."""

from __future__ import annotations

from . import arrays, asynchronous, synchronous
from .arrays import (
    AUTO,
    array,
    check_mode,
    create,
    create_array,
    empty,
    full,
    ones,
    open,
    open_array,
    zeros,
)

__all__ = [
    "AUTO",
    "array",
    "arrays",
    "asynchronous",
    "check_mode",
    "create",
    "create_array",
    "empty",
    "full",
    "ones",
    "open",
    "open_array",
    "synchronous",
    "zeros",
]
