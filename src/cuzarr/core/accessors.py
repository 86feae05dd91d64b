"""``a.oindex[...]``, ``a.vindex[...]`` and ``a.blocks[...]``: thin routers to Array methods."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .indexing import is_mask_selection, read_index_arrays

if TYPE_CHECKING:
    from .array import Array


class OIndex:
    """Orthogonal indexing; each selection item applies to its own axis."""

    def __init__(self, array: Array):
        self._array = array

    def __getitem__(self, selection: Any) -> Any:
        return self._array.get_orthogonal_selection(selection)

    def __setitem__(self, selection: Any, value: Any) -> None:
        self._array.set_orthogonal_selection(selection, value)


class VIndex:
    """Vectorised indexing: integer arrays per axis (coordinates) or one boolean mask."""

    def __init__(self, array: Array):
        self._array = array

    def __getitem__(self, selection: Any) -> Any:
        selection = read_index_arrays(selection)
        if is_mask_selection(selection):
            return self._array.get_mask_selection(selection)
        return self._array.get_coordinate_selection(selection)

    def __setitem__(self, selection: Any, value: Any) -> None:
        selection = read_index_arrays(selection)
        if is_mask_selection(selection):
            self._array.set_mask_selection(selection, value)
        else:
            self._array.set_coordinate_selection(selection, value)


class BlockIndex:
    """Chunk-grid indexing: ``a.blocks[i, j]`` reads or writes chunk (i, j) whole."""

    def __init__(self, array: Array):
        self._array = array

    def __getitem__(self, selection: Any) -> Any:
        return self._array.get_block_selection(selection)

    def __setitem__(self, selection: Any, value: Any) -> None:
        self._array.set_block_selection(selection, value)
