"""Creating, replacing, moving and deleting the members of a group (the writing half of ``Group``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ContainsArrayError, ContainsGroupError
from .array import Array
from .array_legacy import warn_deprecated
from .creation import normalize_shape
from .hierarchy import is_group, join_path, new_group_metadata
from .hierarchy_create import as_node_metadata, normalize_node_path, write_hierarchy
from .like import like_kwargs
from .nodes import create_array_node, delete_node, move_node

if TYPE_CHECKING:
    from ..metadata.consolidated import ConsolidatedMetadata, NodeMetadata
    from ..storage.base import Store
    from .group import Group


class GroupWriter:
    """Mixin of ``Group``: every method that adds, replaces or removes members."""

    _store: Store
    _path: str
    _consolidated: ConsolidatedMetadata | None
    _synchronizer: Any
    _device: str | None

    if TYPE_CHECKING:
        zarr_format: int
        name: str

        def _check_writable(self) -> None: ...
        def _lookup(self, key: str) -> NodeMetadata | None: ...
        def _node(self, relative: str, metadata: NodeMetadata) -> Any: ...
        def get(self, key: str, default: Any = None) -> Any: ...

    def _remember(self, relative: str, metadata: NodeMetadata | None) -> None:
        """Keep an in-memory consolidated view in step with changes made through this object."""
        if self._consolidated is None:
            return
        view = self._consolidated.without(relative)
        if metadata is not None:
            parts = relative.split("/")
            for i in range(1, len(parts)):
                parent = "/".join(parts[:i])
                if view.get(parent) is None:
                    view = view.with_node(parent, new_group_metadata(self.zarr_format))
            view = view.with_node(relative, metadata)
        self._consolidated = view

    def create_group(
        self, name: str, *, overwrite: bool = False, attributes: dict[str, Any] | None = None
    ) -> Group:
        self._check_writable()
        group = type(self).from_store(  # type: ignore[attr-defined]
            self._store,
            path=join_path(self._path, name),
            attributes=attributes,
            zarr_format=self.zarr_format,
            overwrite=overwrite,
            synchronizer=self._synchronizer,
            device=self._device,
        )
        self._remember(name.strip("/"), group._metadata)
        return group

    def require_group(self, name: str, overwrite: bool = False) -> Group:
        """The group at ``name``, created when missing; TypeError when an array is there."""
        if overwrite:
            return self.create_group(name, overwrite=True)
        node = self.get(name)
        if node is None:
            return self.create_group(name)
        if isinstance(node, Array):
            raise TypeError(
                f"Incompatible object (Array) already exists: cannot require group '{name}' "
                f"in group '{self.name}'"
            )
        return node

    def require_groups(self, *names: str) -> tuple[Group, ...]:
        return tuple(self.require_group(name) for name in names)

    def create_array(
        self,
        name: str,
        *,
        shape: Any = None,
        dtype: Any = None,
        data: Any = None,
        overwrite: bool = False,
        **kwargs: Any,
    ) -> Array:
        """A new array at ``name`` in this group's format; other keywords as ``cuzarr.create_array``."""
        self._check_writable()
        zarr_format = kwargs.pop("zarr_format", None)
        if zarr_format not in (None, self.zarr_format):
            raise ValueError(
                f"group '{self.name}' is Zarr v{self.zarr_format}; it cannot hold a v{zarr_format} array"
            )
        kwargs.setdefault("synchronizer", self._synchronizer)
        kwargs.setdefault("device", self._device)
        array = create_array_node(
            self._store,
            join_path(self._path, name),
            shape=shape,
            dtype=dtype,
            data=data,
            overwrite=overwrite,
            zarr_format=self.zarr_format,
            **kwargs,
        )
        self._remember(name.strip("/"), array.metadata)
        return array

    create = create_array

    def array(self, name: str, **kwargs: Any) -> Array:
        """Deprecated alias of ``create_array`` (zarr-python 3.0's; warns ``ZarrDeprecationWarning``)."""
        warn_deprecated("Group.create_array")
        return self.create_array(name, **kwargs)

    def create_dataset(self, name: str, *, shape: Any = None, data: Any = None, **kwargs: Any) -> Array:
        """h5py-style: ``shape`` and ``dtype`` default to those of ``data``."""
        if data is not None:
            kwargs.setdefault("dtype", getattr(data, "dtype", None))
        array = self.create_array(
            name, shape=shape if shape is not None else getattr(data, "shape", None), **kwargs
        )
        if data is not None:
            array[...] = data
        return array

    def require_array(
        self, name: str, *, shape: Any, dtype: Any = None, exact: bool = False, **kwargs: Any
    ) -> Array:
        """The array at ``name``, created when missing. An existing one must have ``shape`` and a
        dtype equal to ``dtype`` (``exact``) or castable to it; TypeError names both otherwise."""
        node = self.get(name)
        if node is None:
            return self.create_array(name, shape=shape, dtype=dtype, **kwargs)
        if not isinstance(node, Array):
            raise TypeError(
                f"Incompatible object (Group) already exists: cannot require array '{name}' "
                f"in group '{self.name}'"
            )
        wanted = normalize_shape(shape)
        if wanted != node.shape:
            raise TypeError(f"Incompatible shape ({node.shape} vs {wanted}) of array '{node.name}'")
        if dtype is not None:
            wanted_dtype = np.dtype(dtype)
            if exact and node.dtype != wanted_dtype:
                raise TypeError(
                    f"Incompatible dtype ({node.dtype} vs {wanted_dtype}) of array '{node.name}' (exact=True)"
                )
            if not exact and not np.can_cast(node.dtype, wanted_dtype):
                raise TypeError(
                    f"Incompatible dtype ({node.dtype} vs {wanted_dtype}) of array '{node.name}': "
                    "it cannot be cast"
                )
        return node

    require_dataset = require_array

    def empty(self, *, name: str, shape: Any, **kwargs: Any) -> Array:
        return self.create_array(name, shape=shape, **kwargs)

    def zeros(self, *, name: str, shape: Any, **kwargs: Any) -> Array:
        return self.create_array(name, shape=shape, fill_value=0, **kwargs)

    def ones(self, *, name: str, shape: Any, **kwargs: Any) -> Array:
        return self.create_array(name, shape=shape, fill_value=1, **kwargs)

    def full(self, *, name: str, shape: Any, fill_value: Any, **kwargs: Any) -> Array:
        return self.create_array(name, shape=shape, fill_value=fill_value, **kwargs)

    def _like(self, name: str, data: Any, kwargs: dict[str, Any]) -> Array:
        """An array shaped like ``data`` (chunks, codecs and fill value too, for a cuzarr array
        of this group's format); ``kwargs`` (``shape`` included) override."""
        like = like_kwargs(data, self.zarr_format)
        like.pop("zarr_format", None)
        return self.create_array(name, **{**like, **kwargs})

    def empty_like(self, *, name: str, data: Any, **kwargs: Any) -> Array:
        return self._like(name, data, kwargs)

    def zeros_like(self, *, name: str, data: Any, **kwargs: Any) -> Array:
        return self._like(name, data, {**kwargs, "fill_value": 0})

    def ones_like(self, *, name: str, data: Any, **kwargs: Any) -> Array:
        return self._like(name, data, {**kwargs, "fill_value": 1})

    def full_like(self, *, name: str, data: Any, fill_value: Any = None, **kwargs: Any) -> Array:
        if fill_value is None:
            fill_value = getattr(data, "fill_value", None)
        return self._like(name, data, {**kwargs, "fill_value": fill_value})

    def create_hierarchy(
        self, nodes: dict[str, Any], *, overwrite: bool = False
    ) -> Iterator[tuple[str, Array | Group]]:
        """``cuzarr.create_hierarchy`` below this group: paths relative to it, the format its own,
        and no root node (this group is the root). Yields ``(relative path, node)``, parents first."""
        self._check_writable()
        below: dict[str, NodeMetadata] = {}
        for key, value in nodes.items():
            relative = normalize_node_path(key)
            if not relative:
                raise ValueError(
                    f"nodes define a root node, but group '{self.name}' is the root of this hierarchy; "
                    "use cuzarr.create_hierarchy to create a rooted hierarchy"
                )
            metadata = as_node_metadata(value, relative)
            if metadata.zarr_format != self.zarr_format:
                raise ValueError(
                    f"node '{relative}' is Zarr v{metadata.zarr_format}; group '{self.name}' is "
                    f"Zarr v{self.zarr_format}, and one hierarchy has one format"
                )
            below[join_path(self._path, relative)] = metadata
        written = write_hierarchy(self._store, below, overwrite=overwrite)
        prefix = f"{self._path}/" if self._path else ""
        created = []
        for path, metadata in written.items():
            if path.startswith(prefix) and path != self._path:  # (missing ancestors of this group too)
                relative = path[len(prefix) :]
                self._remember(relative, metadata)
                created.append((relative, self._node(relative, metadata)))
        return iter(created)

    def __setitem__(self, key: str, value: Any) -> None:
        """``group['x'] = data`` writes a new array (replacing whatever was at ``x``)."""
        self.create_array(key, data=value, overwrite=True)

    def __delitem__(self, key: str) -> None:
        """Delete a member and everything below it."""
        self._check_writable()
        if self._lookup(key) is None:
            raise KeyError(f"no array or group '{key}' in group '{self.name}'")
        delete_node(self._store, join_path(self._path, key))
        self._remember(key.strip("/"), None)

    def move(self, source: str, dest: str) -> None:
        """Move the member at ``source`` (with everything below it) to ``dest``, both relative to
        this group. ``dest`` must not exist; its missing parent groups are created."""
        self._check_writable()
        source, dest = source.strip("/"), dest.strip("/")
        metadata = self._lookup(source)
        if metadata is None:
            raise KeyError(f"cannot move '{source}': no such member in group '{self.name}'")
        existing = self._lookup(dest)
        if existing is not None:
            kind = ContainsGroupError if is_group(existing) else ContainsArrayError
            raise kind(f"cannot move '{source}' to '{dest}' in group '{self.name}': '{dest}' exists")
        move_node(self._store, join_path(self._path, source), join_path(self._path, dest), self.zarr_format)
        if self._consolidated is not None:
            moved = self._consolidated.subtree(source).metadata
            self._remember(source, None)
            self._remember(dest, metadata)
            for relative, meta in moved.items():
                self._remember(f"{dest}/{relative}", meta)


__all__ = ["GroupWriter"]
