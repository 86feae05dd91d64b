"""Turn a user selection into per-dimension selections; pure, NumPy-compatible semantics.

A basic selection (ints, slices of any step, Ellipsis) becomes one ``DimSelection`` per array
dimension, each a positive-step range. Negative steps are normalised to the same elements in
ascending order plus a flag to flip that output axis, so planning only sees ascending ranges.
An orthogonal selection may also hold integer or boolean arrays: ``ArrayDimSelection``.
Block selections are translated to basic selections here too.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import BoundsCheckError, NegativeStepError


@dataclass(frozen=True, slots=True)
class DimSelection:
    """The elements ``range(start, stop, step)`` of one dimension (``step > 0``)."""

    start: int
    stop: int
    step: int
    is_int: bool = False  # an integer index: the dimension is dropped from the result
    flip: bool = False  # selected with a negative step: the result axis is reversed

    @property
    def count(self) -> int:
        if self.step == 1:
            return max(self.stop - self.start, 0)
        return len(range(self.start, self.stop, self.step))


@dataclass(frozen=True, eq=False, slots=True)
class ArrayDimSelection:
    """Integer positions (any order, repeats allowed) selected along one dimension."""

    indices: np.ndarray
    is_int: bool = False
    flip: bool = False

    @property
    def count(self) -> int:
        return len(self.indices)


@dataclass(frozen=True, slots=True)
class BasicSelection:
    """A normalised basic (or orthogonal) selection of an array of ``array_shape``."""

    dims: tuple[DimSelection | ArrayDimSelection, ...]
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
    if type(value) is int:  # the common case, without the ABC check
        return True
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _int_dim(index: Any, length: int, axis: int) -> DimSelection:
    i = int(index)
    if i < -length or i >= length:
        raise BoundsCheckError(f"index {i} is out of bounds for axis {axis} with size {length}")
    if i < 0:
        i += length
    return DimSelection(i, i + 1, 1, is_int=True)


def _slice_dim(index: slice, length: int, axis: int) -> DimSelection:
    for name, value in (("start", index.start), ("stop", index.stop), ("step", index.step)):
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


def _expand_ellipsis(selection: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """One item per dimension: Ellipsis expanded, missing trailing items filled with ``:``."""
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
    return items


def normalize_basic_selection(selection: Any, shape: tuple[int, ...]) -> BasicSelection:
    """Validate ``selection`` against ``shape`` and normalise it (IndexError when invalid)."""
    return _normalize(selection, shape, allow_arrays=False)


def _normalize(selection: Any, shape: tuple[int, ...], *, allow_arrays: bool) -> BasicSelection:
    items = _expand_ellipsis(selection, shape)
    dims: list[DimSelection | ArrayDimSelection] = []
    for axis, (item, length) in enumerate(zip(items, shape)):
        if _is_integer(item):
            dims.append(_int_dim(item, length, axis))
        elif isinstance(item, slice):
            dims.append(_slice_dim(item, length, axis))
        elif isinstance(item, np.ndarray) and item.ndim == 0 and item.dtype.kind in "iu":
            dims.append(_int_dim(int(item), length, axis))
        elif allow_arrays and (is_integer_array(item) or is_bool_array(item)):
            dims.append(array_dim(item, length, axis))
        elif allow_arrays:
            raise IndexError(
                f"unsupported orthogonal selection item {item!r} for axis {axis}: expected an integer, "
                "a slice, or an integer or boolean array"
            )
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


def is_device_array(value: Any) -> bool:
    """A device array such as CuPy's (``__cuda_array_interface__`` and ``get()``)."""
    return hasattr(value, "__cuda_array_interface__") and hasattr(value, "get")


def host_array(value: Any) -> Any:
    """An index array on the host: selections are planned there, and a device array (CuPy)
    refuses ``numpy.asarray``, so it is copied back with ``get()``; anything else as it is."""
    return value.get() if is_device_array(value) else value


def is_stored_array(value: Any) -> bool:
    """An array that holds its values elsewhere and reads them through ``__array__`` (a cuzarr
    or zarr-python ``Array``, a dask array): usable as an index once read."""
    return (
        hasattr(value, "__array__")
        and hasattr(value, "dtype")
        and hasattr(value, "shape")
        and not isinstance(value, (np.ndarray, np.generic))
        and not is_device_array(value)
    )


def read_index_arrays(selection: Any) -> Any:
    """``selection`` with stored arrays among its items read into NumPy, as zarr-python allows
    (``a[other_zarr_mask]``); anything else is kept as it is."""
    if isinstance(selection, tuple):
        if not any(is_stored_array(item) for item in selection):
            return selection
        return tuple(np.asarray(item) if is_stored_array(item) else item for item in selection)
    return np.asarray(selection) if is_stored_array(selection) else selection


def is_integer_array(value: Any) -> bool:
    """An integer list or array (the index kind NumPy calls advanced), on the host or a device;
    a NumPy integer scalar is an integer, as in NumPy, not an array."""
    if isinstance(value, np.generic):
        return False
    if is_device_array(value):
        return value.dtype.kind in "iu"
    if isinstance(value, (list, np.ndarray)) or hasattr(value, "__array_interface__"):
        array = np.asarray(value)
        return array.dtype.kind in "iu" or (
            array.size == 0 and array.dtype.kind == "f" and isinstance(value, list)
        )
    return False


def is_bool_array(value: Any) -> bool:
    if isinstance(value, np.generic):
        return False
    if is_device_array(value):
        return value.dtype == bool and value.ndim > 0
    if isinstance(value, (list, np.ndarray)) or hasattr(value, "__array_interface__"):
        return np.asarray(value).dtype == bool and (np.ndim(value) > 0)
    return False


def array_dim(item: Any, length: int, axis: int) -> ArrayDimSelection:
    """An integer or boolean 1-d array on one axis, bounds-checked, negatives wrapped."""
    array = np.asarray(host_array(item))
    if array.dtype == bool:
        if array.shape != (length,):
            raise IndexError(
                f"boolean index for axis {axis} must have length {length}, got shape {array.shape}"
            )
        return ArrayDimSelection(np.flatnonzero(array))
    if array.ndim != 1:
        raise IndexError(f"orthogonal index arrays must be 1-d; axis {axis} got shape {array.shape}")
    return ArrayDimSelection(wrap_indices(array, length, axis))


def wrap_indices(array: Any, length: int, axis: int) -> np.ndarray:
    """Integer positions as int64 with negatives wrapped; IndexError naming the axis when out of range."""
    array = np.asarray(host_array(array))
    if array.size == 0:
        return np.zeros(array.shape, dtype=np.int64)
    if array.dtype.kind not in "iu":
        raise IndexError(f"index arrays must hold integers or booleans; axis {axis} got dtype {array.dtype}")
    positions = array.astype(np.int64, copy=True)
    low, high = positions.min(), positions.max()
    if low < -length or high >= length:
        bad = low if low < -length else high
        raise BoundsCheckError(f"index {bad} is out of bounds for axis {axis} with size {length}")
    positions[positions < 0] += length
    return positions


def normalize_orthogonal_selection(selection: Any, shape: tuple[int, ...]) -> BasicSelection:
    """Ints, slices, integer arrays and boolean arrays, each applied to its own axis."""
    return _normalize(selection, shape, allow_arrays=True)


def block_selection_to_basic(selection: Any, shape: tuple[int, ...], chunks: tuple[int, ...]) -> tuple:
    """Blocks (chunk-grid ints/slices with step 1) as the array slices they cover; dims are kept."""
    grid = tuple(-(-s // c) for s, c in zip(shape, chunks))
    items = _expand_ellipsis(selection, grid)
    result = []
    for axis, (item, n_blocks, chunk, length) in enumerate(zip(items, grid, chunks, shape)):
        if _is_integer(item):
            block = int(item)
            if block < -n_blocks or block >= n_blocks:
                raise BoundsCheckError(
                    f"block index {block} is out of bounds for axis {axis} with {n_blocks} blocks"
                )
            block %= n_blocks
            result.append(slice(block * chunk, min((block + 1) * chunk, length)))
        elif isinstance(item, slice):
            if item.step not in (None, 1):
                refused = NegativeStepError if _is_integer(item.step) and item.step < 0 else IndexError
                raise refused(f"block slices must have step 1; axis {axis} got step {item.step}")
            start, stop, _ = item.indices(n_blocks)
            stop = max(start, stop)
            result.append(slice(start * chunk, min(stop * chunk, length)))
        else:
            raise IndexError(f"block selections take integers and slices; axis {axis} got {item!r}")
    return tuple(result)


def is_pure_fancy(selection: Any, ndim: int) -> bool:
    """zarr-python's rule for routing ``a[...]`` to coordinate (or mask) selection."""
    if isinstance(selection, tuple) and len(selection) == 1 and ndim > 1:
        selection = selection[0]  # a[mask,] is a[mask]
    if is_bool_array(selection) and np.ndim(selection) == ndim and ndim > 1:
        return True
    if ndim == 1 and (is_integer_array(selection) or is_bool_array(selection)):
        return not isinstance(selection, tuple)
    if not isinstance(selection, tuple) or len(selection) != ndim:
        return False
    if any(isinstance(item, slice) or item is Ellipsis for item in selection):
        return False
    return all(_is_integer(item) or is_integer_array(item) for item in selection) and any(
        is_integer_array(item) for item in selection
    )


def is_pure_orthogonal(selection: Any, ndim: int) -> bool:
    """zarr-python's rule for routing ``a[...]`` to orthogonal selection."""
    if not ndim:
        return False
    items = selection if isinstance(selection, tuple) else (selection,)
    if len(items) == ndim and all(is_integer_array(s) or is_bool_array(s) for s in items):
        return True
    return (
        len(items) <= ndim
        and sum(1 for s in items if is_integer_array(s) or is_bool_array(s)) <= 1
        and sum(1 for s in items if s is Ellipsis) <= 1
        and all(
            is_integer_array(s) or is_bool_array(s) or _is_integer(s) or isinstance(s, slice) or s is Ellipsis
            for s in items
        )
    )


def pop_fields(selection: Any) -> tuple[Any, Any]:
    """Split field names (strings) off a selection: ``a['x', 0:2]`` -> (``'x'``, ``(slice(0, 2),)``)."""
    if isinstance(selection, str):
        return selection, Ellipsis
    if isinstance(selection, list) and selection and all(isinstance(s, str) for s in selection):
        return selection, Ellipsis
    if not isinstance(selection, tuple):
        return None, selection
    names = [s for s in selection if isinstance(s, str)]
    rest = tuple(s for s in selection if not isinstance(s, str))
    if not names:
        return None, selection
    return (names[0] if len(names) == 1 else names), (rest if rest else Ellipsis)


def is_mask_selection(selection: Any) -> bool:
    """One boolean array (possibly in a 1-tuple): a mask selection."""
    items = selection if isinstance(selection, tuple) else (selection,)
    return len(items) == 1 and is_bool_array(items[0])
