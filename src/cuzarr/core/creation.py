"""Turn ``create_array`` arguments into array metadata (v3 or v2), validating as we go."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..codecs import CodecChain, ZstdCodec, default_serializer, default_v2_filters
from ..codecs.base import ArrayArrayCodec, ArrayBytesCodec, ChunkSpec, Codec
from ..codecs.numcodecs_v3 import PREFIX as NUMCODECS_PREFIX
from ..codecs.numcodecs_v3 import WARNING as NUMCODECS_WARNING
from ..codecs.registry import codec_from_json
from ..codecs.sharding import ShardingCodec
from ..config import config as global_config
from ..errors import CodecFormatError, MetadataError, ZarrUserWarning, warn_user
from ..metadata import ArrayMetadataV2, ArrayMetadataV3, ChunkKeyEncoding, RegularChunkGrid
from ..metadata.auto_chunks import auto_chunks_for, auto_shard_shape, fit_in_shard, guess_chunks, is_auto
from ..metadata.dtypes import RECORD_TYPE_NAMES, normalize_dtype, v3_canonical
from ..metadata.fill_value import cast_fill_value, default_fill_value
from .metadata_io import check_zarr_format

AUTO = "auto"


class _DefaultFill:
    """``fill_value`` not given: the dtype's default (zarr-python tells this apart from ``None``,
    which for Zarr v2 means "no fill value", written as null)."""

    def __repr__(self) -> str:
        return "DEFAULT_FILL"


DEFAULT_FILL: Any = _DefaultFill()


def normalize_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        result = tuple(operator.index(s) for s in shape)  # 400.5 is refused, never truncated
    except TypeError as exc:
        raise TypeError(f"shape must be an int or a sequence of ints, got {shape!r}") from exc
    if any(isinstance(s, bool) for s in shape) or any(s < 0 for s in result):
        raise ValueError(f"shape must contain non-negative integers, got {shape!r}")
    return result


def normalize_chunks(chunks: Any, shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """zarr-python's ``chunks=`` forms: ``'auto'``/None/True (guessed as zarr-python does), False
    (one chunk), an int for every axis, dask-style block lists (uniform), or a shape whose
    missing trailing entries and -1/None entries take the whole axis."""
    if _is_auto_chunks(chunks):
        return guess_chunks(shape, itemsize)
    if chunks is False:
        return tuple(max(s, 1) for s in shape)
    return _explicit_chunks(chunks, shape, "chunks")


def normalize_partition(
    chunks: Any, shards: Any, shape: tuple[int, ...], itemsize: int
) -> tuple[tuple[int, ...], tuple[int, ...] | None, str]:
    """``(chunk_shape, shard_shape or None, index_location)`` from ``chunks=`` and ``shards=``.

    ``shards`` is a shape, ``"auto"``, or ``{"shape": ..., "index_location": "start"|"end"}``.
    Automatic inner chunks of a sharded array aim at 1 MiB, as in zarr-python. Given explicit
    shards, zarr-python may guess chunks that do not divide them and then refuse its own
    choice; here each such axis takes the largest divisor of the shard that is not larger.
    """
    if shards is None:
        return normalize_chunks(chunks, shape, itemsize), None, "end"
    index_location = "end"
    if isinstance(shards, dict):
        index_location = shards.get("index_location", "end")
        shards = shards.get("shape")
    if is_auto(shards):
        warn_user(
            "Automatic shard shape inference is experimental and may change without notice.", ZarrUserWarning
        )
        if _is_auto_chunks(chunks):
            chunk_shape = auto_chunks_for(shape, itemsize, sharded=True)
        else:
            chunk_shape = _explicit_chunks(chunks, shape, "chunks")
        target = global_config.get("target_shard_size_bytes")
        return chunk_shape, auto_shard_shape(shape, chunk_shape, itemsize, target), index_location
    if isinstance(shards, str) or shards is False or shards is True:
        raise ValueError(f"shards must be a shape, 'auto', a dict or None, got {shards!r}")
    shard_shape = _explicit_chunks(shards, shape, "shards")
    if _is_auto_chunks(chunks):
        chunk_shape = fit_in_shard(auto_chunks_for(shape, itemsize, sharded=True), shard_shape)
    else:
        chunk_shape = _explicit_chunks(chunks, shard_shape, "chunks")
    return chunk_shape, shard_shape, index_location


def auto_itemsize(dtype: np.dtype) -> int:
    """Bytes per element for guessing chunks: 1 for variable-length types, as in zarr-python."""
    return 1 if dtype.hasobject or dtype.kind == "T" else dtype.itemsize


def _is_auto_chunks(chunks: Any) -> bool:
    return chunks is None or chunks is True or is_auto(chunks)


def _explicit_chunks(chunks: Any, shape: tuple[int, ...], what: str) -> tuple[int, ...]:
    if isinstance(chunks, (int, np.integer)) and not isinstance(chunks, bool):
        chunks = (int(chunks),) * len(shape)
    try:
        chunks = tuple(chunks)
    except TypeError as exc:
        raise TypeError(f"{what} must be an int, a sequence of ints or 'auto', got {chunks!r}") from exc
    if chunks and all(isinstance(c, (tuple, list)) for c in chunks):
        chunks = _dask_chunks(chunks, what)
    if len(chunks) > len(shape):
        raise ValueError(f"{what} {chunks} has more dimensions than shape {shape}")
    chunks = chunks + tuple(shape[len(chunks) :])  # missing trailing axes: whole
    result = []
    for c, s in zip(chunks, shape):
        if c is None or (not isinstance(c, bool) and isinstance(c, (int, np.integer)) and c == -1):
            c = s
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)):
            raise TypeError(f"{what} must contain integers, got {chunks!r}")
        c = max(int(c), 1) if s == 0 and c == 0 else int(c)
        if c <= 0:
            raise ValueError(f"{what} sizes must be positive integers, got {chunks!r}")
        result.append(c)
    return tuple(result)


def _dask_chunks(blocks: tuple[Any, ...], what: str) -> tuple[int, ...]:
    """Dask's per-axis block sizes, e.g. ``((10, 10, 5), (7, 7))``: uniform blocks (the last may
    be smaller) give a regular grid of the first block's size."""
    out = []
    for axis, sizes in enumerate(blocks):
        sizes = tuple(int(n) for n in sizes)
        if not sizes:
            raise ValueError(f"{what}: axis {axis} has no blocks")
        if any(n != sizes[0] for n in sizes[:-1]) or sizes[-1] > sizes[0]:
            raise ValueError(
                f"irregular {what} sizes on axis {axis}: {sizes}; only uniform blocks "
                "(with an optional smaller last block) are supported"
            )
        out.append(sizes[0])
    return tuple(out)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


#: zarr-python's advice when a sharding codec is not the only codec: the other codecs then apply
#: to whole shards, so a read or write of part of a shard costs the whole shard.
SHARDING_COMBINED_WARNING = (
    "Combining a `sharding_indexed` codec disables partial reads and writes, which may lead to "
    "inefficient performance."
)


def _v3_codecs(
    dtype: np.dtype,
    chunks: tuple[int, ...],
    fill_value: Any,
    *,
    filters: Any,
    serializer: Any,
    compressors: Any,
    codecs: Any,
) -> tuple[dict[str, Any], ...]:
    if codecs is not None:
        chain_input = [codec_from_json(c) for c in _as_list(codecs)]
    else:
        filter_list = [] if filters in (AUTO, None) else [codec_from_json(c) for c in _as_list(filters)]
        for f in filter_list:
            if not isinstance(f, ArrayArrayCodec):
                raise ValueError(f"filters for a Zarr v3 array must be array->array codecs, got {f!r}")
        if serializer in (AUTO, None):
            ser = default_serializer(dtype)
        else:
            ser = codec_from_json(serializer)
            if not isinstance(ser, ArrayBytesCodec):
                raise ValueError(f"serializer must be an array->bytes codec, got {ser!r}")
        if compressors == AUTO:
            comp = [ZstdCodec(level=0, checksum=False)]
        else:
            comp = [codec_from_json(c) for c in _as_list(compressors)]
        chain_input = [*filter_list, ser, *comp]
    _warn_numcodecs_dicts([filters, serializer, compressors])
    if len(chain_input) > 1 and any(isinstance(c, ShardingCodec) for c in chain_input):
        warn_user(SHARDING_COMBINED_WARNING)
    chain = CodecChain(chain_input, ChunkSpec(chunks, dtype, fill_value, "C"))
    return tuple(chain.to_json())


def _warn_numcodecs_dicts(arguments: list[Any]) -> None:
    """zarr-python's warning for ``numcodecs.*`` codecs named as JSON dicts in a new array
    (codec objects already warn when constructed)."""
    for argument in arguments:
        for item in _as_list(argument) if not isinstance(argument, str) else []:
            if isinstance(item, dict) and str(item.get("name", "")).startswith(NUMCODECS_PREFIX):
                warn_user(NUMCODECS_WARNING)
                return


def _numcodecs_config(codec: Any, what: str) -> dict[str, Any]:
    if isinstance(codec, dict):
        if "id" not in codec:
            raise ValueError(f"a Zarr v2 {what} config needs an 'id' key, got {codec!r}")
        return dict(codec)
    if hasattr(codec, "get_config") and hasattr(codec, "codec_id"):
        config = codec.get_config()
        # zarr-python omits zstd's default checksum flag: older readers reject the key (zarr-python #2647)
        if config.get("id") == "zstd" and not config.get("checksum", False):
            config.pop("checksum", None)
        return config
    if isinstance(codec, Codec):
        raise CodecFormatError(
            f"{codec!r} is a Zarr v3 codec and cannot be a Zarr v2 {what}; "
            "use a numcodecs codec (e.g. numcodecs.Zstd()) or its config dict"
        )
    raise TypeError(f"a Zarr v2 {what} must be a numcodecs codec or its config dict, got {codec!r}")


def _v2_compressor(compressors: Any, compressor: Any) -> dict[str, Any] | None:
    if compressor is not AUTO and compressors is not AUTO:
        raise ValueError("pass either compressor= or compressors=, not both")
    value = compressor if compressor is not AUTO else compressors
    if value == AUTO:
        return {"id": "zstd", "level": 0}
    items = _as_list(value)
    if len(items) > 1:
        raise ValueError(f"a Zarr v2 array takes at most one compressor, got {len(items)}: {items!r}")
    return _numcodecs_config(items[0], "compressor") if items else None


def build_metadata(
    *,
    shape: Any,
    dtype: Any,
    chunks: Any = AUTO,
    filters: Any = AUTO,
    compressors: Any = AUTO,
    compressor: Any = AUTO,
    serializer: Any = AUTO,
    codecs: Any = None,
    fill_value: Any = DEFAULT_FILL,
    order: str | None = None,
    zarr_format: int = 3,
    attributes: dict[str, Any] | None = None,
    chunk_key_encoding: Any = None,
    dimension_separator: str | None = None,
    dimension_names: Any = None,
    shards: Any = None,
    record_type_name: str | None = None,
    record_fill_form: str | None = None,
) -> ArrayMetadataV3 | ArrayMetadataV2:
    """Validated metadata for a new array from ``create_array``-style arguments.

    ``record_type_name``/``record_fill_form`` spell a v3 record data type and its fill value
    (None: the configured ``record_type_name`` and its own form); copies pass their source's.
    """
    shape = normalize_shape(shape)
    dtype = normalize_dtype(dtype if dtype is not None else "float64")
    chunk_shape, shard_shape, index_location = normalize_partition(
        chunks, shards, shape, auto_itemsize(dtype)
    )
    order = (order or "C").upper()
    if order not in ("C", "F"):
        raise ValueError(f"order must be 'C' or 'F', got {order!r}")
    attributes = dict(attributes or {})
    if zarr_format == 3:
        fill = (
            default_fill_value(dtype)
            if fill_value is None or fill_value is DEFAULT_FILL
            else _cast_fill(fill_value, dtype)
        )
        data_type = v3_canonical(dtype)
        codecs_json = _v3_codecs(
            data_type,
            chunk_shape,
            fill,
            filters=filters,
            serializer=serializer,
            compressors=compressor if compressor is not AUTO else compressors,
            codecs=codecs,
        )
        if shard_shape is not None:
            sharding = ShardingCodec(chunk_shape, codecs_json, index_location=index_location)
            codecs_json = tuple(CodecChain([sharding], ChunkSpec(shard_shape, data_type, fill)).to_json())
        record_type_name = _record_type_name(record_type_name)
        if record_type_name == "struct" and data_type.newbyteorder(">") != data_type:
            codecs_json = _with_endian(codecs_json)
        return ArrayMetadataV3(
            shape=shape,
            data_type=data_type,
            chunk_grid=RegularChunkGrid(shard_shape or chunk_shape),
            chunk_key_encoding=_key_encoding(chunk_key_encoding, dimension_separator),
            fill_value=fill,
            codecs=codecs_json,
            attributes=attributes,
            dimension_names=tuple(dimension_names) if dimension_names is not None else None,
            record_type_name=record_type_name,
            record_fill_form=record_fill_form,
        )
    if zarr_format == 2:
        if shard_shape is not None:
            raise ValueError("shards= needs a Zarr v3 array (zarr_format=3); Zarr v2 has no sharding")
        if codecs is not None or serializer not in (AUTO, None):
            raise ValueError("codecs= and serializer= apply to Zarr v3 arrays only")
        if dimension_names is not None:
            raise ValueError("dimension_names apply to Zarr v3 arrays only")
        if record_type_name is not None or record_fill_form is not None:
            raise ValueError("record_type_name and record_fill_form apply to Zarr v3 arrays only")
        encoding = _key_encoding(chunk_key_encoding, dimension_separator, default="v2")
        if fill_value is DEFAULT_FILL:
            fill = default_fill_value(dtype)
        else:  # an explicit None is v2's "no fill value" (null), as zarr-python writes it
            fill = None if fill_value is None else _cast_fill(fill_value, dtype)
        auto_filters = isinstance(filters, str) and filters == AUTO
        filter_list = default_v2_filters(dtype) if auto_filters else (_as_list(filters) or None)
        return ArrayMetadataV2(
            shape=shape,
            chunks=chunk_shape,
            dtype=dtype,
            compressor=_v2_compressor(compressors, compressor),
            filters=tuple(_numcodecs_config(f, "filter") for f in filter_list) if filter_list else None,
            fill_value=fill,
            order=order,
            dimension_separator=encoding.separator,
            attributes=attributes,
        )
    check_zarr_format(zarr_format, allow_none=False)
    raise AssertionError("unreachable")


def _record_type_name(value: str | None) -> str:
    """The spelling asked for, else the configured one (checked here: a bad one fails early)."""
    name = global_config.get("record_type_name") if value is None else value
    if name not in RECORD_TYPE_NAMES:
        raise ValueError(f"record_type_name must be one of {RECORD_TYPE_NAMES}, got {name!r}")
    return name


def _with_endian(codecs: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
    """``bytes`` codecs (inner ones of sharding too) with an explicit ``little``: the ``struct``
    spec and tensorstore require it for records with multi-byte fields (zarr-python 3.1's
    ``structured`` arrays leave it out, and the codec chain drops it again as meaning the same)."""
    out = []
    for codec in codecs:
        config = dict(codec.get("configuration") or {})
        if codec["name"] == "bytes":
            config.setdefault("endian", "little")
        elif codec["name"] == ShardingCodec.codec_name:
            config["codecs"] = list(_with_endian(tuple(config["codecs"])))
        out.append({**codec, "configuration": config} if config else codec)
    return tuple(out)


def _cast_fill(value: Any, dtype: np.dtype) -> Any:
    """``value`` as a scalar of ``dtype``; refuses values the dtype would silently mangle."""
    if dtype.kind not in "biufc":
        try:
            return cast_fill_value(value, dtype)
        except MetadataError as exc:
            raise ValueError(f"fill_value {value!r} cannot be represented as {dtype}: {exc}") from exc
    try:
        source = np.asarray(value)
        if dtype.kind in "iu":
            if (
                source.dtype.kind in "fc"
                and not (np.isfinite(source) & (source == np.round(source.real))).all()
            ):
                raise ValueError("not an integer")
            info = np.iinfo(dtype)
            if not info.min <= int(source.real if source.dtype.kind == "c" else source) <= info.max:
                raise ValueError(f"out of range [{info.min}, {info.max}]")
        return source.astype(dtype)[()]
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"fill_value {value!r} cannot be represented as {dtype}: {exc}") from exc


def _key_encoding(value: Any, separator: str | None, default: str = "default") -> ChunkKeyEncoding:
    if value is None:
        name = default
    elif isinstance(value, ChunkKeyEncoding):
        return value
    elif isinstance(value, dict):
        name = value.get("name", default)
        config = value.get("configuration") or {}
        separator = value.get("separator", config.get("separator", separator))
    elif isinstance(value, str):
        name = value
    elif isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        name, separator = value  # zarr-python's (name, separator) form
    else:
        raise MetadataError(f"unsupported chunk_key_encoding {value!r}", field="chunk_key_encoding")
    if name not in ("default", "v2"):
        raise MetadataError(
            f"unknown chunk key encoding {name!r}; supported: 'default', 'v2'", field="chunk_key_encoding"
        )
    separator = separator or ("/" if name == "default" else ".")
    if separator not in ("/", "."):
        raise MetadataError(f"separator must be '/' or '.', got {separator!r}", field="chunk_key_encoding")
    return ChunkKeyEncoding(name, separator)
