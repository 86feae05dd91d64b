"""Turn a user selection into per-dimension slices; pure, NumPy-compatible semantics.

A basic selection (ints, slices of any step, Ellipsis) becomes one ``DimSelection`` per array
dimension, each a positive-step range. Negative steps are normalised to the same elements in
ascending order plus a flag to flip that output axis, so planning only sees ascending ranges.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class DimSelection:
    """The elements ``range(start, stop, step)`` of one dimension (``step > 0``)."""

    start: int
    stop: int
    step: int
    is_int: bool = False  # an integer index: the dimension is dropped from the result
    flip: bool = False  # selected with a negative step: the result axis is reversed

    @property
    def count(self) -> int:
        return len(range(self.start, self.stop, self.step))


@dataclass(frozen=True)
class BasicSelection:
    """A normalised basic selection of an array of ``array_shape``."""

    dims: tuple[DimSelection, ...]
    array_shape: tuple[int, ...]

    @property
    def full_shape(self) -> tuple[int, ...]:
        """Shape with every dimension kept (integer dims have length 1)."""
        return tuple(d.count for d in self.dims)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the result as NumPy gives it (integer dims dropped)."""
        return tuple(d.count for d in self.dims if not d.is_int)

    @property
    def flip_axes(self) -> tuple[int, ...]:
        return tuple(i for i, d in enumerate(self.dims) if d.flip)


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _int_dim(index: Any, length: int, axis: int) -> DimSelection:
    i = int(index)
    if i < -length or i >= length:
        raise IndexError(f"index {i} is out of bounds for axis {axis} with size {length}")
    if i < 0:
        i += length
    return DimSelection(i, i + 1, 1, is_int=True)


def _slice_dim(index: slice, length: int, axis: int) -> DimSelection:
    for name in ("start", "stop", "step"):
        value = getattr(index, name)
        if value is not None and not _is_integer(value):
            raise IndexError(f"slice {name} must be an integer or None for axis {axis}, got {value!r}")
    if index.step == 0:
        raise ValueError(f"slice step cannot be zero (axis {axis})")
    start, stop, step = index.indices(length)
    if step > 0:
        return DimSelection(start, max(stop, start), step)
    # Negative step: the same elements in ascending order, and flip the result axis.
    elements = range(start, stop, step)
    if len(elements) == 0:
        return DimSelection(0, 0, 1, flip=True)
    return DimSelection(elements[-1], elements[0] + 1, -step, flip=True)


def normalize_basic_selection(selection: Any, shape: tuple[int, ...]) -> BasicSelection:
    """Validate ``selection`` against ``shape`` and normalise it (IndexError when invalid)."""
    items = selection if isinstance(selection, tuple) else (selection,)
    n_ellipsis = sum(1 for item in items if item is Ellipsis)
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    explicit = len(items) - n_ellipsis
    if explicit > len(shape):
        raise IndexError(
            f"too many indices for array: array is {len(shape)}-dimensional, but {explicit} were indexed"
        )
    if n_ellipsis:
        at = next(i for i, item in enumerate(items) if item is Ellipsis)
        fill = (slice(None),) * (len(shape) - explicit)
        items = items[:at] + fill + items[at + 1 :]
    else:
        items = items + (slice(None),) * (len(shape) - explicit)
    dims = []
    for axis, (item, length) in enumerate(zip(items, shape)):
        if _is_integer(item):
            dims.append(_int_dim(item, length, axis))
        elif isinstance(item, slice):
            dims.append(_slice_dim(item, length, axis))
        elif isinstance(item, np.ndarray) and item.ndim == 0 and item.dtype.kind in "iu":
            dims.append(_int_dim(int(item), length, axis))
        else:
            raise IndexError(
                f"unsupported selection item {item!r} for axis {axis}: basic selections take "
                "integers, slices and Ellipsis"
            )
    return BasicSelection(tuple(dims), tuple(shape))


def is_basic_selection(selection: Any) -> bool:
    """Whether every item of ``selection`` is an int, a slice or Ellipsis."""
    items = selection if isinstance(selection, tuple) else (selection,)
    return all(
        _is_integer(item)
        or isinstance(item, slice)
        or item is Ellipsis
        or (isinstance(item, np.ndarray) and item.ndim == 0 and item.dtype.kind in "iu")
        for item in items
    )
