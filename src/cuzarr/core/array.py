"""``Array``: a chunked N-D array in a store, with zarr-python 3's names and semantics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..buffer import Backend, get_backend
from ..codecs import CodecChain, V2CodecChain
from ..codecs.base import ChunkSpec
from ..codecs.sharding import EMPTY, ShardingCodec, ShardLayout
from ..config import config
from ..errors import (
    ArrayNotFoundError,
    ContainsGroupError,
    NodeNotFoundError,
    NodeTypeValidationError,
    ReadOnlyError,
)
from ..metadata import ArrayMetadataV2, ArrayMetadataV3
from ..metadata.fill_value import default_fill_value
from ..storage import make_store
from ..storage.base import Store
from ..storage.store_path import split_store_path
from .array_config import ArrayConfig, array_config, check_order, config_order
from .array_legacy import LegacyArrayMembers
from .attributes import Attributes
from .chunk_source import StoreChunks
from .info import ArrayInfo
from .metadata_io import ArrayMetadata, node_key, read_node_metadata, write_array_metadata
from .node import Node
from .pipeline import ChunkIO
from .resize import ShapeChanges
from .selection import SelectionMixin
from .shards import ShardedChunks

if TYPE_CHECKING:
    from .async_array import AsyncArray


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


class Array(Node, SelectionMixin, ShapeChanges, LegacyArrayMembers):
    """A Zarr array (v2 or v3). Reads return NumPy arrays on CPU, CuPy arrays on GPU."""

    _facade_attribute = "_array"

    def __init__(
        self,
        store: Store,
        path: str | None = None,
        metadata: ArrayMetadata | None = None,
        *,
        device: str | None = None,
        read_only: bool = False,
        write_empty_chunks: bool | None = None,
        synchronizer: Any = None,
        memory_order: str | None = None,
    ):
        """``memory_order``: the layout of arrays v3 reads return (None: ``cuzarr.config``'s
        ``order``, "C" unless set); v2 reads return their metadata's order, as in zarr-python."""
        if self._wraps_facade_of(store, path, metadata):
            return
        self._store = store
        self._path = path.strip("/")
        self._backend: Backend = get_backend(device)
        self._read_only = bool(read_only or store.read_only)
        self._write_empty_chunks = write_empty_chunks
        self._synchronizer = synchronizer
        self._memory_order = check_order(memory_order or config.get("order"))
        self._set_metadata(metadata)

    @classmethod
    def open(
        cls,
        store: Any,
        zarr_format: int | None = None,
        *,
        path: str = "",
        read_only: bool = False,
        device: str | None = None,
        config: Any = None,
        write_empty_chunks: bool | None = None,
        synchronizer: Any = None,
    ) -> Array:
        """The existing array at ``path`` of ``store`` (any store-like, or a ``StorePath``);
        ``ArrayNotFoundError`` when nothing is there, ``NodeTypeValidationError`` for a group."""
        store, path = split_store_path(store, path)
        resolved = make_store(store, mode="r" if read_only else None)
        try:
            metadata = read_node_metadata(resolved, path, zarr_format)
        except NodeNotFoundError as exc:
            raise ArrayNotFoundError(f"no array found at path '{path}' in {resolved!r}") from exc
        if not isinstance(metadata, ArrayMetadataV2 | ArrayMetadataV3):
            raise NodeTypeValidationError(
                f"the node at path '{path}' in {resolved!r} is a group, not an array"
            )
        return cls(
            resolved,
            path,
            metadata,
            device=device,
            read_only=read_only,
            write_empty_chunks=array_config(config, write_empty_chunks),
            synchronizer=synchronizer,
            memory_order=config_order(config),
        )

    @classmethod
    def from_dict(cls, store_path: Any, data: dict[str, Any]) -> Array:
        """zarr-python's constructor from a metadata document (``to_dict``'s form): an array
        object over ``store_path`` that writes nothing (the document is not stored)."""
        store, path = split_store_path(store_path, None)
        if data.get("zarr_format") == 2:
            document = {k: v for k, v in data.items() if k != "attributes"}
            metadata: ArrayMetadata = ArrayMetadataV2.from_json(document, data.get("attributes") or {})
        else:
            metadata = ArrayMetadataV3.from_json({**data, "node_type": data.get("node_type", "array")})
        return cls(make_store(store), path, metadata)

    def _set_metadata(self, metadata: ArrayMetadata) -> None:
        self._metadata = metadata
        self._sharding = sharding_of(metadata)
        self._codecs = build_codecs(metadata)
        self._shard_layout: ShardLayout | None = None  # built on first use (index codec chain)

    def _chunk_source(self) -> StoreChunks | ShardedChunks:
        encoding = self._metadata.chunk_key_encoding
        prefix = f"{self._path}/" if self._path else ""
        object_key = lambda coords: prefix + encoding.encode(coords)  # noqa: E731
        if self._sharding is None:
            return StoreChunks(self._store, object_key)
        if self._shard_layout is None:
            shard_spec = ChunkSpec(tuple(self._metadata.chunk_shape), self.dtype, _fill(self._metadata))
            self._shard_layout = self._sharding.layout(shard_spec)
        return ShardedChunks(
            self._store,
            object_key,
            self._shard_layout,
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
            order=getattr(metadata, "order", "C"),  # how chunks are laid out in the store
            synchronizer=self._synchronizer,
        )

    # -- properties ---------------------------------------------------------------------
    @property
    def metadata(self) -> ArrayMetadata:
        return self._metadata

    @property
    def zarr_format(self) -> int:
        return self._metadata.zarr_format

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._metadata.shape)

    @shape.setter
    def shape(self, value: Any) -> None:
        """``a.shape = (n, m)`` resizes, as in zarr-python (2 and 3)."""
        self.resize(value)

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
        """The memory layout of arrays reads return: a v2 array's metadata order, else the
        runtime config's (``config={'order': 'F'}``, ``with_config``, ``cuzarr.config``)."""
        return getattr(self._metadata, "order", self._memory_order)

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
    def device(self) -> str:
        return self._backend.name

    @property
    def attrs(self) -> Attributes:
        return Attributes(lambda: self._metadata.attributes, self._edit_attributes)

    @property
    def config(self) -> ArrayConfig:
        """The runtime settings reads and writes use now (``with_config`` makes another)."""
        write_empty = self._write_empty_chunks
        if write_empty is None:
            write_empty = config.get("write_empty_chunks")
        # the runtime setting, as zarr-python keeps it: a v2 array's reads follow its metadata instead
        return ArrayConfig(order=self._memory_order, write_empty_chunks=bool(write_empty))

    @property
    def async_array(self) -> AsyncArray:
        """This array behind zarr-python's asyncio API: blocking calls run in worker threads."""
        from .async_array import AsyncArray  # the facade wraps Array, so it imports this module

        return AsyncArray(self)

    @property
    def compressors(self) -> tuple[Any, ...]:
        return self._codecs.compressors

    @property
    def filters(self) -> tuple[Any, ...]:
        return self._codecs.filters

    @property
    def serializer(self) -> Any:
        return self._codecs.serializer

    def _write_attributes(self, attributes: dict[str, Any]) -> None:
        metadata = self._metadata.update_attributes(attributes)
        write_array_metadata(self._store, self._path, metadata)
        self._metadata = metadata

    def _reload_metadata(self) -> None:
        metadata = read_node_metadata(self._store, self._path, self.zarr_format)
        if not isinstance(metadata, ArrayMetadataV2 | ArrayMetadataV3):
            raise ContainsGroupError(f"array '{self.name}' in {self._store!r} was replaced by a group")
        if metadata != self._metadata:
            self._set_metadata(metadata)

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

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        data = self._backend.to_host(self[...])
        data = np.asarray(data)
        return data if dtype is None else data.astype(dtype)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __eq__(self, other: object) -> bool:
        """Arrays are equal when they are the same node: store, path and metadata (as in
        zarr-python); how they read (device, config) does not count."""
        if not isinstance(other, Array):
            return NotImplemented
        same_store = self._store is other._store or self._store == other._store
        return (
            self._path == other._path
            and same_store
            and (self._metadata is other._metadata or self._metadata.to_json() == other._metadata.to_json())
        )

    def __hash__(self) -> int:
        return hash(("cuzarr.Array", self._path))  # equal arrays share a path

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

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by what defines the array (store, path, metadata, settings), not its backend objects,
        so arrays travel to dask workers and DataLoader processes on any device."""
        return (
            _rebuild_array,
            (
                self._store,
                self._path,
                self._metadata,
                self.device,
                self._read_only,
                self._write_empty_chunks,
                self._synchronizer,
                self._memory_order,
            ),
        )

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        """A cheap deterministic token: dask would otherwise pickle a whole MemoryStore to hash it."""
        return (
            "cuzarr.Array",
            repr(self._store),
            self._path,
            self.shape,
            self.chunks,
            str(self.dtype),
            self.device,
        )

    def with_device(self, device: str) -> Array:
        """The same array (store, metadata, settings) returning arrays on another device."""
        return self._replaced(device=device)

    def with_config(self, config: Any) -> Array:
        """The same array with other runtime settings (``{'write_empty_chunks': bool,
        'order': 'C'|'F'}`` or an ``ArrayConfig``); settings not named are kept."""
        settings: dict[str, Any] = {}
        write_empty = array_config(config, None)
        if write_empty is not None:
            settings["write_empty_chunks"] = write_empty
        order = config_order(config)
        if order is not None:
            settings["memory_order"] = order
        return self._replaced(**settings)

    def _replaced(self, **settings: Any) -> Array:
        """This array's store, path and metadata with some runtime settings changed."""
        current = {
            "device": self.device,
            "read_only": self._read_only,
            "write_empty_chunks": self._write_empty_chunks,
            "synchronizer": self._synchronizer,
            "memory_order": self._memory_order,
        }
        return Array(self._store, self._path, self._metadata, **{**current, **settings})


def _rebuild_array(
    store: Store,
    path: str,
    metadata: ArrayMetadata,
    device: str,
    read_only: bool,
    write_empty_chunks: bool | None,
    synchronizer: Any,
    memory_order: str | None = None,
) -> Array:
    return Array(
        store,
        path,
        metadata,
        device=device,
        read_only=read_only,
        write_empty_chunks=write_empty_chunks,
        synchronizer=synchronizer,
        memory_order=memory_order,
    )


__all__ = ["Array", "build_codecs", "node_key"]
