"""``copy``, ``copy_all`` and ``copy_store`` with zarr-python 2's semantics (zarr-python 3 only
raises NotImplementedError): copy nodes between groups or raw keys between stores, with
``if_exists`` policies, dry runs, a log of one line per node or key, and a closing summary.
Every function returns ``(n_copied, n_skipped, n_bytes_copied)``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..config import config
from ..errors import CopyError, warn_user
from ..storage import make_store
from ..storage.base import Store
from .array import Array
from .group import Group
from .hierarchy import read_group

IF_EXISTS = ("raise", "replace", "skip", "skip_initialized")
_CODEC_KEYS = frozenset({"codecs", "compressor", "compressors", "filters", "serializer", "shards"})


@contextmanager
def _log_writer(log: Any) -> Iterator[Callable[[str], None]]:
    """``log`` as a line printer: None, a callable, a file path (opened for writing) or a file."""
    if log is None:
        yield lambda line: None
    elif callable(log):
        yield log
    elif isinstance(log, str):
        with open(log, "w") as handle:
            yield lambda line: print(line, file=handle, flush=True)
    elif hasattr(log, "write"):
        yield lambda line: (print(line, file=log), getattr(log, "flush", lambda: None)())
    else:
        raise TypeError(f"log must be a callable, a file path or a file-like object, got {log!r}")


def _summary(log: Callable[[str], None], dry_run: bool, copied: int, skipped: int, nbytes: int) -> None:
    message = f"dry run: {copied:,} copied, {skipped:,} skipped" if dry_run else ""
    if not dry_run:
        message = f"all done: {copied:,} copied, {skipped:,} skipped, {nbytes:,} bytes copied"
    log(message)


class _Progress:
    """A tqdm bar when asked for and installed; a no-op otherwise."""

    def __init__(self, wanted: bool, total: int | None, unit: str):
        self._bar = None
        if wanted:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                warn_user("progress=True needs the 'tqdm' package; copying without a bar")
            else:
                self._bar = tqdm(total=total, unit=unit)

    def update(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def copy_store(
    source: Any,
    dest: Any,
    source_path: str = "",
    dest_path: str = "",
    excludes: str | Sequence[str] | None = None,
    includes: str | Sequence[str] | None = None,
    flags: int = 0,
    if_exists: str = "raise",
    dry_run: bool = False,
    log: Any = None,
    progress: bool = False,
    batch_keys: int = 64,
) -> tuple[int, int, int]:
    """Copy every key under ``source_path`` to ``dest_path``, bytes untouched (no decoding).

    ``excludes``/``includes`` are regular expressions searched in source keys (an excluded key
    comes back when an include matches). ``if_exists``: 'raise' (CopyError), 'replace' or 'skip'.
    Keys move in batches of ``batch_keys`` (one ``get_many`` and one ``set_many`` each).
    """
    if if_exists not in ("raise", "replace", "skip"):
        raise ValueError(f"if_exists must be 'raise', 'replace' or 'skip' for copy_store, got {if_exists!r}")
    source_store, dest_store = make_store(source, mode="r"), make_store(dest)
    source_prefix, dest_prefix = _prefix(source_path), _prefix(dest_path)
    exclude = [re.compile(p, flags) for p in _as_list(excludes)]
    include = [re.compile(p, flags) for p in _as_list(includes)]
    keys = [
        key
        for key in source_store.list_prefix(source_prefix)
        if not any(p.search(key) for p in exclude) or any(p.search(key) for p in include)
    ]
    existing = set(dest_store.list_prefix(dest_prefix)) if if_exists != "replace" else set()
    copied = skipped = nbytes = 0
    bar = _Progress(progress, len(keys), "key")
    try:
        with _log_writer(log) as write_log:
            todo: list[tuple[str, str]] = []
            for key in keys:
                target = dest_prefix + key[len(source_prefix) :]
                description = key if target == key else f"{key} -> {target}"
                if target in existing:
                    if if_exists == "raise":
                        raise CopyError(f"key {target!r} exists in destination {dest_store!r}")
                    write_log(f"skip {description}")
                    skipped += 1
                    bar.update()
                    continue
                write_log(f"copy {description}")
                todo.append((key, target))
            copied = len(todo)
            if not dry_run:
                for start in range(0, len(todo), batch_keys):
                    batch = todo[start : start + batch_keys]
                    values = source_store.get_many([k for k, _ in batch])
                    pairs = [(t, v) for (_, t), v in zip(batch, values) if v is not None]
                    dest_store.set_many(pairs)
                    nbytes += sum(memoryview(v).nbytes for _, v in pairs)
                    bar.update(len(batch))
            _summary(write_log, dry_run, copied, skipped, nbytes)
    finally:
        bar.close()
    return copied, skipped, nbytes


def copy(
    source: Array | Group,
    dest: Any,
    name: str | None = None,
    shallow: bool = False,
    without_attrs: bool = False,
    log: Any = None,
    if_exists: str = "raise",
    dry_run: bool = False,
    progress: bool = False,
    **create_kws: Any,
) -> tuple[int, int, int]:
    """Copy an array or group (recursively unless ``shallow``) into the group ``dest`` as ``name``
    (default: the source's basename).

    Arrays keep shape, dtype, chunks, fill value, order and, between equal formats, their codecs
    and (v3) their record data type's spelling (``create_kws`` override any of them, e.g.
    ``record_type_name='structured'`` for zarr-python 3.1); data is copied in slabs of whole
    chunks so memory stays bounded. ``if_exists``: 'raise' (CopyError), 'replace', 'skip', or
    'skip_initialized' (skip only an existing array whose chunks are all written).
    """
    _check_if_exists(if_exists)
    dest_group = _as_group(dest, dry_run)
    bar = _Progress(progress, None, "node")
    try:
        with _log_writer(log) as write_log:
            counts = _copy(
                write_log,
                bar,
                source,
                dest_group,
                name,
                True,
                shallow,
                without_attrs,
                if_exists,
                dry_run,
                create_kws,
            )
            _summary(write_log, dry_run, *counts)
    finally:
        bar.close()
    return counts


def copy_all(
    source: Group,
    dest: Any,
    shallow: bool = False,
    without_attrs: bool = False,
    log: Any = None,
    if_exists: str = "raise",
    dry_run: bool = False,
    progress: bool = False,
    **create_kws: Any,
) -> tuple[int, int, int]:
    """Copy every member of ``source`` (and its attributes) into the group ``dest``; see ``copy``."""
    _check_if_exists(if_exists)
    dest_group = _as_group(dest, dry_run)
    copied = skipped = nbytes = 0
    bar = _Progress(progress, None, "node")
    try:
        with _log_writer(log) as write_log:
            for key, node in source.members():
                c, s, b = _copy(
                    write_log,
                    bar,
                    node,
                    dest_group,
                    key,
                    False,
                    shallow,
                    without_attrs,
                    if_exists,
                    dry_run,
                    create_kws,
                )
                copied, skipped, nbytes = copied + c, skipped + s, nbytes + b
            if not dry_run and not without_attrs and dest_group is not None:
                dest_group.attrs.update(source.attrs.asdict())
            _summary(write_log, dry_run, copied, skipped, nbytes)
    finally:
        bar.close()
    return copied, skipped, nbytes


def _copy(
    log: Callable[[str], None],
    bar: _Progress,
    source: Array | Group,
    dest: Group | None,
    name: str | None,
    root: bool,
    shallow: bool,
    without_attrs: bool,
    if_exists: str,
    dry_run: bool,
    create_kws: dict[str, Any],
) -> tuple[int, int, int]:
    """One node: copy or skip it, then (groups) recurse. ``dest`` is None in dry runs into nothing."""
    if name is None:
        name = source.basename
        if not name:
            raise TypeError("source is a root group and has no name; pass name= to say where to copy it")
    existing = dest.get(name) if dest is not None else None
    if isinstance(source, Array):
        do_copy = True
        if existing is not None:
            if if_exists == "raise":
                raise CopyError(f"an object {name!r} already exists in destination {dest.name!r}")  # type: ignore[union-attr]
            if if_exists == "skip":
                do_copy = False
            elif if_exists == "skip_initialized" and isinstance(existing, Array):
                do_copy = existing.nchunks_initialized != existing.nchunks
        bar.update()
        if not do_copy:
            log(f"skip {source.name} {source.shape} {source.dtype}")
            return 0, 1, 0
        log(f"copy {source.name} {source.shape} {source.dtype}")
        if dry_run:
            return 1, 0, 0
        target = dest.create_array(
            name, overwrite=existing is not None, **_array_kwargs(source, dest, create_kws)
        )  # type: ignore[union-attr]
        _copy_data(source, target)
        if not without_attrs:
            target.attrs.update(source.attrs.asdict())
        return 1, 0, target.nbytes
    if not root and shallow:
        return 0, 0, 0
    if isinstance(existing, Array):
        if if_exists == "raise":
            raise CopyError(f"an array {name!r} already exists in destination {dest.name!r}")  # type: ignore[union-attr]
        if if_exists == "skip":
            log(f"skip {source.name}")
            bar.update()
            return 0, 1, 0
    log(f"copy {source.name}")
    bar.update()
    group: Group | None
    if dry_run:
        group = existing if isinstance(existing, Group) else None
    else:
        group = dest.require_group(name, overwrite=isinstance(existing, Array))  # type: ignore[union-attr]
        if not without_attrs:
            group.attrs.update(source.attrs.asdict())
    copied, skipped, nbytes = 1, 0, 0
    for key, node in source.members():
        c, s, b = _copy(
            log, bar, node, group, key, False, shallow, without_attrs, if_exists, dry_run, create_kws
        )
        copied, skipped, nbytes = copied + c, skipped + s, nbytes + b
    return copied, skipped, nbytes


def _array_kwargs(source: Array, dest: Group, create_kws: dict[str, Any]) -> dict[str, Any]:
    """Creation arguments reproducing ``source`` in ``dest``'s format; ``create_kws`` win."""
    kwargs: dict[str, Any] = {
        "shape": source.shape,
        "dtype": source.dtype,
        "chunks": source.chunks,
        "fill_value": source.fill_value,
        # only v2 stores an order; a v3 destination ignores it (with a warning, as in zarr-python)
        "order": getattr(source.metadata, "order", None) if dest.zarr_format == 2 else None,
    }
    metadata = source.metadata
    # codecs are kept unless the caller names any, or rechunks a sharded array (its codec holds the shape)
    keep_codecs = not (create_kws.keys() & _CODEC_KEYS) and not ("chunks" in create_kws and source.shards)
    if source.zarr_format == dest.zarr_format == 3:
        kwargs["dimension_names"] = source.dimension_names
        kwargs["chunk_key_encoding"] = metadata.chunk_key_encoding.to_json()
        kwargs.update(record_spelling(source, create_kws))
        if keep_codecs:
            kwargs["codecs"] = list(metadata.codecs)  # type: ignore[union-attr]
            kwargs["chunks"] = tuple(metadata.chunk_shape)
    elif source.zarr_format == dest.zarr_format == 2 and keep_codecs:
        kwargs["compressor"] = metadata.compressor  # type: ignore[union-attr]
        kwargs["filters"] = list(metadata.filters) if metadata.filters else None  # type: ignore[union-attr]
        kwargs["dimension_separator"] = metadata.dimension_separator  # type: ignore[union-attr]
    kwargs.update(create_kws)
    return kwargs


def record_spelling(source: Any, overrides: dict[str, Any]) -> dict[str, Any]:
    """A v3 record array's type name and fill value form, so a v3 copy stays readable by the peer
    that wrote it; nothing for other arrays or when ``overrides`` spell it. A changed ``dtype`` or
    ``record_type_name`` drops the fill form (it may not fit: 'bare' needs one field)."""
    metadata = getattr(source, "metadata", None)
    if getattr(metadata, "zarr_format", None) != 3 or metadata.dtype.fields is None:
        return {}
    spelling = {"record_type_name": metadata.record_type_name, "record_fill_form": metadata.record_fill_form}
    if overrides.keys() & {"dtype", "record_type_name"}:
        del spelling["record_fill_form"]
    return {k: v for k, v in spelling.items() if k not in overrides}


def _copy_data(source: Array, target: Array) -> None:
    """Copy in slabs of whole target chunks along axis 0, bounded by the configured batch size."""
    if target.ndim == 0:
        target[...] = source[...]
        return
    row_bytes = max(1, target.nbytes // max(target.shape[0], 1))
    step = target.chunks[0]
    rows = max(step, (config.get("batch_bytes") // row_bytes) // step * step)
    for start in range(0, target.shape[0], rows):
        slab = slice(start, min(start + rows, target.shape[0]))
        target[slab] = source[slab]


def _as_group(dest: Any, dry_run: bool) -> Group | None:
    """``dest`` as a Group: a Group itself, or the group at the root of a store-like (created unless dry run)."""
    if isinstance(dest, Group) or dest is None:
        return dest
    store: Store = make_store(dest)
    try:
        metadata, consolidated = read_group(store, "", None, False)
    except FileNotFoundError:
        if dry_run:
            return None
        return Group.from_store(store, zarr_format=config.get("default_zarr_format"))
    return Group(store, "", metadata, consolidated=consolidated)


def _check_if_exists(if_exists: str) -> None:
    if if_exists not in IF_EXISTS:
        raise ValueError(f"if_exists must be one of {IF_EXISTS}, got {if_exists!r}")


def _prefix(path: str) -> str:
    path = (path or "").strip("/")
    return path + "/" if path else ""


def _as_list(patterns: str | Sequence[str] | None) -> list[str]:
    if patterns is None:
        return []
    return [patterns] if isinstance(patterns, str) else list(patterns)


__all__ = ["CopyError", "copy", "copy_all", "copy_store", "record_spelling"]
