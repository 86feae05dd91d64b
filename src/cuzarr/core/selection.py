"""Every selection kind of ``Array``, read and write: zarr-python 3's names and routing rules.

A mixin so ``array.py`` keeps the array's identity (metadata, store, properties, shape changes)
and this module the selection API. Each method normalises its selection (``indexing`` /
``coordinates``), plans it over the chunk grid (``plan``) and runs the batched pipeline.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .accessors import BlockIndex, OIndex, VIndex
from .coordinates import PointSelection, normalize_coordinate_selection, normalize_mask_selection, plan_points
from .indexing import (
    BasicSelection,
    block_selection_to_basic,
    is_basic_selection,
    is_mask_selection,
    is_pure_fancy,
    is_pure_orthogonal,
    normalize_basic_selection,
    normalize_orthogonal_selection,
    pop_fields,
    read_index_arrays,
)
from .pipeline import read_chunks, write_chunks
from .plan import plan_orthogonal


class SelectionMixin:
    """Selection methods of ``Array``; relies on its ``shape``, ``chunks``, ``dtype``, ``name``,
    ``_backend``, ``_chunk_io()`` and ``_check_writable()``."""

    def __getitem__(self, selection: Any) -> Any:
        """Route like zarr-python: pure fancy -> coordinates/mask, pure orthogonal -> oindex, else basic.

        Field names (strings) in the selection pick fields of a structured dtype.
        """
        fields, selection = pop_fields(read_index_arrays(selection))
        if is_pure_fancy(selection, self.ndim):
            if is_mask_selection(selection):
                return self.get_mask_selection(selection, fields=fields)
            return self.get_coordinate_selection(selection, fields=fields)
        if not is_basic_selection(selection) and is_pure_orthogonal(selection, self.ndim):
            return self.get_orthogonal_selection(selection, fields=fields)
        return self.get_basic_selection(selection, fields=fields)

    def __setitem__(self, selection: Any, value: Any) -> None:
        fields, selection = pop_fields(read_index_arrays(selection))
        if is_pure_fancy(selection, self.ndim):
            if is_mask_selection(selection):
                self.set_mask_selection(selection, value, fields=fields)
            else:
                self.set_coordinate_selection(selection, value, fields=fields)
        elif not is_basic_selection(selection) and is_pure_orthogonal(selection, self.ndim):
            self.set_orthogonal_selection(selection, value, fields=fields)
        else:
            self.set_basic_selection(selection, value, fields=fields)

    @property
    def oindex(self) -> OIndex:
        """Orthogonal indexing: each item (int, slice, int or bool array) applies to its own axis."""
        return OIndex(self)

    @property
    def vindex(self) -> VIndex:
        """Vectorised (coordinate or mask) indexing, as NumPy's advanced indexing."""
        return VIndex(self)

    @property
    def blocks(self) -> BlockIndex:
        """Index by chunk-grid position: ``a.blocks[0, 1]`` is the whole chunk (0, 1)."""
        return BlockIndex(self)

    def get_basic_selection(self, selection: Any = Ellipsis, *, out: Any = None, fields: Any = None) -> Any:
        """Read ints/slices/Ellipsis; a fully integer-indexed element comes back as a scalar."""
        self._check_fields(fields, out)
        if not is_basic_selection(selection):
            raise IndexError(
                f"unsupported basic selection {selection!r} for array '{self.name}': basic selections "
                "take integers, slices and Ellipsis (use oindex or vindex for arrays)"
            )
        return _select_fields(
            self._read_orthogonal(normalize_basic_selection(selection, self.shape), out), fields
        )

    def set_basic_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        """Write ``value`` (broadcast like NumPy) into ints/slices/Ellipsis."""
        self._check_writable()
        self._check_fields(fields)
        if not is_basic_selection(selection):
            raise IndexError(
                f"unsupported basic selection {selection!r} for array '{self.name}': basic selections "
                "take integers, slices and Ellipsis (use oindex or vindex for arrays)"
            )
        sel = normalize_basic_selection(selection, self.shape)
        self._write_orthogonal(
            sel, self._merge_fields(lambda: self._read_orthogonal(sel, None), value, fields)
        )

    def get_orthogonal_selection(self, selection: Any, *, out: Any = None, fields: Any = None) -> Any:
        """Read with ints, slices and integer/boolean arrays, each applied to its own axis."""
        self._check_fields(fields, out)
        sel = normalize_orthogonal_selection(read_index_arrays(selection), self.shape)
        return _select_fields(self._read_orthogonal(sel, out), fields)

    def set_orthogonal_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        self._check_writable()
        self._check_fields(fields)
        sel = normalize_orthogonal_selection(read_index_arrays(selection), self.shape)
        self._write_orthogonal(
            sel, self._merge_fields(lambda: self._read_orthogonal(sel, None), value, fields)
        )

    def get_coordinate_selection(self, selection: Any, *, out: Any = None, fields: Any = None) -> Any:
        """Read the points given by one integer array per axis (broadcast together)."""
        self._check_fields(fields, out)
        return _select_fields(
            self._read_points(normalize_coordinate_selection(read_index_arrays(selection), self.shape), out),
            fields,
        )

    def set_coordinate_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        """Write points; where a point repeats, the last value wins (as in NumPy)."""
        self._check_writable()
        self._check_fields(fields)
        sel = normalize_coordinate_selection(read_index_arrays(selection), self.shape)
        self._write_points(sel, self._merge_fields(lambda: self._read_points(sel, None), value, fields))

    def get_mask_selection(self, mask: Any, *, out: Any = None, fields: Any = None) -> Any:
        """Read the elements where a boolean array of the array's shape is True (1-d result)."""
        self._check_fields(fields, out)
        sel = normalize_mask_selection(read_index_arrays(mask), self.shape)
        return _select_fields(self._read_points(sel, out), fields)

    def set_mask_selection(self, mask: Any, value: Any, *, fields: Any = None) -> None:
        self._check_writable()
        self._check_fields(fields)
        sel = normalize_mask_selection(read_index_arrays(mask), self.shape)
        self._write_points(sel, self._merge_fields(lambda: self._read_points(sel, None), value, fields))

    def get_block_selection(self, selection: Any, *, out: Any = None, fields: Any = None) -> Any:
        """Read whole chunks by chunk-grid index; dimensions are kept."""
        return self.get_basic_selection(
            block_selection_to_basic(selection, self.shape, self.chunks), out=out, fields=fields
        )

    def set_block_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        self.set_basic_selection(
            block_selection_to_basic(selection, self.shape, self.chunks), value, fields=fields
        )

    def _check_fields(self, fields: Any, out: Any = None) -> None:
        """``fields`` must name fields of a structured dtype (not combined with ``out=``)."""
        if fields is None:
            return
        names = self.dtype.names
        if not names:
            raise IndexError(f"array '{self.name}' has no structured dtype; fields= is not supported")
        missing = [f for f in ([fields] if isinstance(fields, str) else list(fields)) if f not in names]
        if missing:
            raise IndexError(f"array '{self.name}' has no field(s) {missing}; its fields are {list(names)}")
        if out is not None:
            raise TypeError("out= cannot be combined with fields=")

    def _merge_fields(self, read_current: Any, value: Any, fields: Any) -> Any:
        """For a write of some fields: the current records of the selection with those fields replaced."""
        if fields is None:
            return value
        current = read_current()
        current[fields] = value
        return current

    def _new_result(self, shape: tuple[int, ...], out: Any) -> Any:
        if out is None:
            return self._backend.empty(shape, self.dtype, order=self.order)
        return _check_out(out, shape, self.dtype, self.name)

    def _read_orthogonal(self, sel: BasicSelection, out: Any) -> Any:
        result = self._new_result(sel.shape, out)
        read_chunks(self._chunk_io(), plan_orthogonal(sel, self.chunks), _full_rank_view(result, sel))
        if out is None and result.ndim == 0:
            return result[()]
        return result

    def _read_points(self, sel: PointSelection, out: Any) -> Any:
        result = self._new_result(sel.shape, out)
        contiguous = result.flags.c_contiguous
        flat = result.reshape(-1) if contiguous else self._backend.empty((sel.count,), self.dtype)
        read_chunks(self._chunk_io(), plan_points(sel, self.shape, self.chunks), flat)
        if not contiguous:
            result[...] = flat.reshape(sel.shape)
        return result

    def _broadcast_value(self, value: Any, shape: tuple[int, ...]) -> Any:
        """``value`` as this array's dtype broadcast to ``shape``; fails before any chunk is touched.

        Python scalars and lists convert with NumPy's rules for them (NEP 50): a value the dtype
        cannot hold (-1 or 300 into uint8, NaN into int64) raises, as in zarr-python, instead of
        wrapping around. Arrays are cast like ``astype``.
        """
        if not hasattr(value, "dtype"):
            try:
                value = np.asarray(value, dtype=self.dtype)
            except (OverflowError, ValueError, TypeError) as exc:
                raise type(exc)(
                    f"cannot write {_short_repr(value)} to array '{self.name}' of dtype {self.dtype}: {exc}"
                ) from exc
        # records given as tuples need the dtype up front (np.asarray would make a 2-d float array)
        value = self._backend.asarray(value, dtype=self.dtype if self.dtype.names else None)
        if value.dtype != self.dtype:
            value = value.astype(self.dtype)
        try:
            return self._backend.broadcast_to(value, shape)
        except ValueError as exc:
            raise ValueError(
                f"could not broadcast value of shape {value.shape} to selection shape {shape} "
                f"of array '{self.name}'"
            ) from exc

    def _write_orthogonal(self, sel: BasicSelection, value: Any) -> None:
        value = self._broadcast_value(value, sel.shape)
        write_chunks(self._chunk_io(), plan_orthogonal(sel, self.chunks), _full_rank_view(value, sel))

    def _write_points(self, sel: PointSelection, value: Any) -> None:
        value = self._broadcast_value(value, sel.shape).reshape(-1)
        write_chunks(self._chunk_io(), plan_points(sel, self.shape, self.chunks), value)


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _select_fields(result: Any, fields: Any) -> Any:
    return result if fields is None else result[fields]


def _full_rank_view(array: Any, sel: BasicSelection) -> Any:
    """``array`` (selection shape) viewed with every array dimension kept, flipped axes reversed."""
    view = array.reshape(sel.full_shape)
    if sel.flip_axes:
        view = view[tuple(slice(None, None, -1) if d.flip else slice(None) for d in sel.dims)]
    return view


def _check_out(out: Any, shape: tuple[int, ...], dtype: np.dtype, name: str) -> Any:
    if not (hasattr(out, "shape") and hasattr(out, "dtype")):
        raise TypeError(f"out= for array '{name}' must be an array, got {type(out).__name__}")
    if tuple(out.shape) != shape or out.dtype != dtype:
        raise ValueError(
            f"out= for array '{name}' must have shape {shape} and dtype {dtype}, "
            f"got shape {tuple(out.shape)} and dtype {out.dtype}"
        )
    return out
