"""``Array``: a chunked N-D array in a store, with zarr-python 3's names and semantics."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..buffer import Backend, get_backend
from ..codecs import CodecChain, V2CodecChain
from ..codecs.base import ChunkSpec
from ..codecs.sharding import EMPTY, ShardingCodec
from ..config import config
from ..errors import ReadOnlyError
from ..metadata import ArrayMetadataV3
from ..metadata.fill_value import default_fill_value
from ..storage.base import Store
from .accessors import BlockIndex, OIndex, VIndex
from .attributes import Attributes
from .chunk_source import StoreChunks
from .coordinates import PointSelection, normalize_coordinate_selection, normalize_mask_selection, plan_points
from .creation import normalize_shape
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
)
from .info import ArrayInfo
from .metadata_io import ArrayMetadata, node_key, write_array_metadata
from .pipeline import ChunkIO, read_chunks, write_chunks
from .plan import plan_orthogonal
from .shards import ShardedChunks


def sharding_of(metadata: ArrayMetadata) -> ShardingCodec | None:
    """The evolved sharding codec when it is the array's only codec (inner chunks addressable)."""
    if not isinstance(metadata, ArrayMetadataV3) or len(metadata.codecs) != 1:
        return None
    if metadata.codecs[0]["name"] != ShardingCodec.codec_name:
        return None
    spec = ChunkSpec(tuple(metadata.chunk_shape), metadata.data_type, _fill(metadata), "C")
    return ShardingCodec.from_config(metadata.codecs[0].get("configuration")).evolve(spec)


def _fill(metadata: ArrayMetadata) -> Any:
    return metadata.fill_value if metadata.fill_value is not None else default_fill_value(metadata.dtype)


def build_codecs(metadata: ArrayMetadata) -> CodecChain | V2CodecChain:
    """The codec chain that turns stored (inner) chunk bytes into chunk arrays for this metadata."""
    fill = _fill(metadata)
    if isinstance(metadata, ArrayMetadataV3):
        spec = ChunkSpec(tuple(metadata.chunk_shape), metadata.data_type, fill, "C")
        sharding = sharding_of(metadata)
        if sharding is not None:
            return sharding.inner_chain(spec)
        return CodecChain(metadata.codecs, spec)
    spec = ChunkSpec(tuple(metadata.chunks), metadata.dtype, fill, metadata.order)
    return V2CodecChain(metadata.compressor, metadata.filters, spec)


class Array:
    """A Zarr array (v2 or v3). Reads return NumPy arrays on CPU, CuPy arrays on GPU."""

    def __init__(
        self,
        store: Store,
        path: str,
        metadata: ArrayMetadata,
        *,
        device: str | None = None,
        read_only: bool = False,
        write_empty_chunks: bool | None = None,
        synchronizer: Any = None,
    ):
        self._store = store
        self._path = path.strip("/")
        self._backend: Backend = get_backend(device)
        self._read_only = bool(read_only or store.read_only)
        self._write_empty_chunks = write_empty_chunks
        self._synchronizer = synchronizer
        self._set_metadata(metadata)

    def _set_metadata(self, metadata: ArrayMetadata) -> None:
        self._metadata = metadata
        self._sharding = sharding_of(metadata)
        self._codecs = build_codecs(metadata)

    def _chunk_source(self) -> StoreChunks | ShardedChunks:
        encoding = self._metadata.chunk_key_encoding
        prefix = f"{self._path}/" if self._path else ""
        object_key = lambda coords: prefix + encoding.encode(coords)  # noqa: E731
        if self._sharding is None:
            return StoreChunks(self._store, object_key)
        shard_spec = ChunkSpec(tuple(self._metadata.chunk_shape), self.dtype, _fill(self._metadata))
        return ShardedChunks(
            self._store,
            object_key,
            self._sharding.layout(shard_spec),
            self.cdata_shape,
            max_gap_bytes=config.get("sharding_coalesce_max_gap_bytes"),
            max_coalesced_bytes=config.get("sharding_coalesce_max_bytes"),
        )

    def _chunk_io(self) -> ChunkIO:
        metadata = self._metadata
        write_empty = self._write_empty_chunks
        if write_empty is None:
            write_empty = config.get("write_empty_chunks") or metadata.fill_value is None
        return ChunkIO(
            source=self._chunk_source(),
            codecs=self._codecs,
            chunk_shape=self.chunks,
            dtype=self.dtype,
            fill_value=self.fill_value if self.fill_value is not None else default_fill_value(self.dtype),
            backend=self._backend,
            write_empty_chunks=bool(write_empty),
            batch_bytes=config.get("batch_bytes"),
            order=self.order,
            synchronizer=self._synchronizer,
        )

    # -- properties ---------------------------------------------------------------------
    @property
    def metadata(self) -> ArrayMetadata:
        return self._metadata

    @property
    def store(self) -> Store:
        return self._store

    @property
    def path(self) -> str:
        return self._path

    @property
    def name(self) -> str:
        return "/" + self._path

    @property
    def basename(self) -> str:
        return self._path.rsplit("/", 1)[-1]

    @property
    def zarr_format(self) -> int:
        return self._metadata.zarr_format

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._metadata.shape)

    @property
    def chunks(self) -> tuple[int, ...]:
        """The read chunk shape: inner chunks of sharded arrays."""
        if self._sharding is not None:
            return self._sharding.chunk_shape
        return tuple(self._metadata.chunk_shape)

    @property
    def shards(self) -> tuple[int, ...] | None:
        """The shard shape (the stored object's chunk shape) or None when unsharded."""
        return tuple(self._metadata.chunk_shape) if self._sharding is not None else None

    @property
    def dtype(self) -> np.dtype:
        return self._metadata.dtype

    @property
    def fill_value(self) -> Any:
        return self._metadata.fill_value

    @property
    def order(self) -> str:
        return getattr(self._metadata, "order", "C")

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def cdata_shape(self) -> tuple[int, ...]:
        return tuple(-(-s // c) for s, c in zip(self.shape, self.chunks))

    @property
    def nchunks(self) -> int:
        return int(np.prod(self.cdata_shape, dtype=np.int64))

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def synchronizer(self) -> Any:
        """Per-chunk locks held around writes (``ThreadSynchronizer``/``ProcessSynchronizer``) or None."""
        return self._synchronizer

    @property
    def device(self) -> str:
        return self._backend.name

    @property
    def attrs(self) -> Attributes:
        return Attributes(lambda: self._metadata.attributes, self._save_attributes)

    @property
    def compressors(self) -> tuple[Any, ...]:
        return self._codecs.compressors

    @property
    def filters(self) -> tuple[Any, ...]:
        return self._codecs.filters

    @property
    def serializer(self) -> Any:
        return self._codecs.serializer

    def _save_attributes(self, attributes: dict[str, Any]) -> None:
        self._check_writable()
        metadata = self._metadata.update_attributes(attributes)
        write_array_metadata(self._store, self._path, metadata)
        self._metadata = metadata

    def update_attributes(self, new_attributes: dict[str, Any]) -> Array:
        self.attrs.update(new_attributes)
        return self

    def _check_writable(self) -> None:
        if self._read_only:
            raise ReadOnlyError(f"array '{self.name}' in {self._store!r} is read-only")

    # -- chunks ---------------------------------------------------------------------------
    def _stored_chunks(self) -> list[tuple[str, tuple[int, ...]]]:
        """(key, grid coordinates) of every chunk object in the store under this array."""
        prefix = f"{self._path}/" if self._path else ""
        encoding = self._metadata.chunk_key_encoding
        found = []
        for key in self._store.list_prefix(prefix):
            coords = encoding.decode(key[len(prefix) :], ndim=self.ndim)
            if coords is not None and len(coords) == self.ndim:
                found.append((key, coords))
        return found

    @property
    def nchunks_initialized(self) -> int:
        """Number of (inner) chunks present in the store (lists the store; reads shard indexes)."""
        storage_grid = tuple(-(-s // c) for s, c in zip(self.shape, self._metadata.chunk_shape))
        stored = [
            (key, coords)
            for key, coords in self._stored_chunks()
            if all(c < g for c, g in zip(coords, storage_grid))
        ]
        if self._sharding is None:
            return len(stored)
        source = self._chunk_source()
        indexes = self._store.get_many([k for k, _ in stored], [source.layout.index_range()] * len(stored))
        return sum(
            int((source.layout.decode_index(index, key)[:, 0] != EMPTY).sum())
            for (key, _), index in zip(stored, indexes)
            if index is not None
        )

    @property
    def nshards(self) -> int | None:
        """Number of shards in the grid, or None when unsharded."""
        if self._sharding is None:
            return None
        return int(
            np.prod([-(-s // c) for s, c in zip(self.shape, self._metadata.chunk_shape)], dtype=np.int64)
        )

    def nbytes_stored(self) -> int:
        """Bytes of metadata and chunks in the store (lists the store)."""
        prefix = f"{self._path}/" if self._path else ""
        return sum(self._store.getsize(k) for k in self._store.list_prefix(prefix))

    # -- selection ------------------------------------------------------------------------
    def __getitem__(self, selection: Any) -> Any:
        """Route like zarr-python: pure fancy -> coordinates/mask, pure orthogonal -> oindex, else basic.

        Field names (strings) in the selection pick fields of a structured dtype.
        """
        fields, selection = pop_fields(selection)
        if is_pure_fancy(selection, self.ndim):
            if is_mask_selection(selection):
                return self.get_mask_selection(selection, fields=fields)
            return self.get_coordinate_selection(selection, fields=fields)
        if not is_basic_selection(selection) and is_pure_orthogonal(selection, self.ndim):
            return self.get_orthogonal_selection(selection, fields=fields)
        return self.get_basic_selection(selection, fields=fields)

    def __setitem__(self, selection: Any, value: Any) -> None:
        fields, selection = pop_fields(selection)
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
        sel = normalize_orthogonal_selection(selection, self.shape)
        return _select_fields(self._read_orthogonal(sel, out), fields)

    def set_orthogonal_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        self._check_writable()
        self._check_fields(fields)
        sel = normalize_orthogonal_selection(selection, self.shape)
        self._write_orthogonal(
            sel, self._merge_fields(lambda: self._read_orthogonal(sel, None), value, fields)
        )

    def get_coordinate_selection(self, selection: Any, *, out: Any = None, fields: Any = None) -> Any:
        """Read the points given by one integer array per axis (broadcast together)."""
        self._check_fields(fields, out)
        return _select_fields(
            self._read_points(normalize_coordinate_selection(selection, self.shape), out), fields
        )

    def set_coordinate_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        """Write points; where a point repeats, the last value wins (as in NumPy)."""
        self._check_writable()
        self._check_fields(fields)
        sel = normalize_coordinate_selection(selection, self.shape)
        self._write_points(sel, self._merge_fields(lambda: self._read_points(sel, None), value, fields))

    def get_mask_selection(self, mask: Any, *, out: Any = None, fields: Any = None) -> Any:
        """Read the elements where a boolean array of the array's shape is True (1-d result)."""
        self._check_fields(fields, out)
        return _select_fields(self._read_points(normalize_mask_selection(mask, self.shape), out), fields)

    def set_mask_selection(self, mask: Any, value: Any, *, fields: Any = None) -> None:
        self._check_writable()
        self._check_fields(fields)
        sel = normalize_mask_selection(mask, self.shape)
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
            return self._backend.empty(shape, self.dtype)
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
        """``value`` as this array's dtype broadcast to ``shape``; fails before any chunk is touched."""
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

    # -- shape changes ----------------------------------------------------------------------
    def resize(self, *shape: Any) -> None:
        """Grow or shrink; chunks outside the new shape are deleted and, on shrinking, the cut-off
        part of boundary chunks is reset to the fill value so a later grow never resurrects it."""
        self._check_writable()
        new_shape = normalize_shape(shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)
        if len(new_shape) != self.ndim:
            raise ValueError(f"array '{self.name}' has {self.ndim} dimensions; cannot resize to {new_shape}")
        new_grid = tuple(-(-s // c) for s, c in zip(new_shape, self._metadata.chunk_shape))
        outside = [
            key for key, coords in self._stored_chunks() if any(c >= g for c, g in zip(coords, new_grid))
        ]
        self._store.delete_many(outside)
        self._reset_cut_regions(new_shape)
        metadata = self._metadata.with_shape(new_shape)
        write_array_metadata(self._store, self._path, metadata)
        self._set_metadata(metadata)

    def _reset_cut_regions(self, new_shape: tuple[int, ...]) -> None:
        """Fill the parts of surviving chunks that lie beyond ``new_shape`` (called before the shape changes)."""
        storage_chunks = self._metadata.chunk_shape  # whole shards survive or go, not inner chunks
        extent = [min(o, -(-n // c) * c) for n, o, c in zip(new_shape, self.shape, storage_chunks)]
        fill = self.fill_value if self.fill_value is not None else 0
        for axis in range(self.ndim):
            if new_shape[axis] < extent[axis]:
                region = tuple(
                    slice(new_shape[axis], extent[axis]) if a == axis else slice(0, extent[a])
                    for a in range(self.ndim)
                )
                self.set_basic_selection(region, fill)

    def append(self, data: Any, axis: int = 0) -> tuple[int, ...]:
        """Grow along ``axis`` and write ``data`` into the new part; returns the new shape."""
        self._check_writable()
        data = self._backend.asarray(data)
        if data.ndim != self.ndim:
            raise ValueError(f"cannot append {data.ndim}-d data to {self.ndim}-d array '{self.name}'")
        axis = axis % self.ndim
        for a, (n, m) in enumerate(zip(self.shape, data.shape)):
            if a != axis and n != m:
                raise ValueError(
                    f"cannot append data of shape {data.shape} to array '{self.name}' of shape {self.shape} "
                    f"along axis {axis}: axis {a} differs"
                )
        old = self.shape[axis]
        new_shape = tuple(n + data.shape[axis] if a == axis else n for a, n in enumerate(self.shape))
        self.resize(new_shape)
        self[tuple(slice(old, None) if a == axis else slice(None) for a in range(self.ndim))] = data
        return new_shape

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        data = self._backend.to_host(self[...])
        data = np.asarray(data)
        return data if dtype is None else data.astype(dtype)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __repr__(self) -> str:
        where = f"{self._store!r}" + (f"/{self._path}" if self._path else "")
        return f"<Array {where} shape={self.shape} dtype={self.dtype}>"

    @property
    def info(self) -> ArrayInfo:
        """Layout and codecs (no store listing; see ``info_complete``)."""
        return ArrayInfo.of(self)

    def info_complete(self) -> ArrayInfo:
        """``info`` plus stored bytes, storage ratio and initialized chunks (lists the store)."""
        return ArrayInfo.of(self, complete=True)

    def __iter__(self) -> Any:
        """Iterate over the first axis, reading one chunk-row slab at a time."""
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        step = self.chunks[0]
        for start in range(0, self.shape[0], step):
            yield from self[start : start + step]

    @property
    def dimension_names(self) -> tuple[str | None, ...] | None:
        return getattr(self._metadata, "dimension_names", None)

    def with_config(self, config: Any) -> Array:
        """The same array with other runtime settings (``{'write_empty_chunks': bool}``)."""
        write_empty = (
            config.get("write_empty_chunks") if isinstance(config, dict) else config.write_empty_chunks
        )
        return Array(
            self._store,
            self._path,
            self._metadata,
            device=self.device,
            read_only=self._read_only,
            write_empty_chunks=write_empty,
            synchronizer=self._synchronizer,
        )


def _select_fields(result: Any, fields: Any) -> Any:
    return result if fields is None else result[fields]


def _full_rank_view(array: Any, sel: BasicSelection) -> Any:
    """``array`` (selection shape) viewed with every array dimension kept, flipped axes reversed."""
    view = array.reshape(sel.full_shape)
    if sel.flip_axes:
        view = view[tuple(slice(None, None, -1) if d.flip else slice(None) for d in sel.dims)]
    return view


def _check_out(out: Any, shape: tuple[int, ...], dtype: np.dtype, name: str) -> Any:
    if tuple(out.shape) != shape or out.dtype != dtype:
        raise ValueError(
            f"out= for array '{name}' must have shape {shape} and dtype {dtype}, "
            f"got shape {tuple(out.shape)} and dtype {out.dtype}"
        )
    return out


__all__ = ["Array", "build_codecs", "node_key"]
