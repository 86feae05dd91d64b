"""``cuzarr info | tree | convert | copy | clean``: inspecting, converting and tidying stores from a shell.

Each subcommand is ``(add_arguments(parser), run(args) -> exit code)``; ``cli.py`` registers them.
User mistakes raise ``UsageError`` (printed without a traceback, exit status 2).
"""

from __future__ import annotations

import argparse
import itertools
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

import cuzarr
from cuzarr.core.copy import record_spelling
from cuzarr.metadata.dtypes import RECORD_TYPE_NAMES


class UsageError(Exception):
    """A mistake in the command line or its inputs: printed as one line, exit status 2."""


def _shape_arg(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers like 512,512, got {text!r}"
        ) from exc


# -- info / tree ------------------------------------------------------------------------------


def info_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="a path or URL of a Zarr array or group")
    parser.add_argument("--path", default="", help="a node inside the store (default: its root)")


def info(args: argparse.Namespace) -> int:
    """Print the layout, codecs and stored size of an array, or the summary of a group."""
    node = _open(args.store, args.path)
    print(node.info_complete() if isinstance(node, cuzarr.Array) else node.info)
    return 0


def tree_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="a path or URL of a Zarr group")
    parser.add_argument("--path", default="", help="a group inside the store (default: its root)")
    parser.add_argument("--level", type=int, default=None, help="how many levels deep to show")


def tree(args: argparse.Namespace) -> int:
    """Print the hierarchy with each array's shape and dtype."""
    node = _open(args.store, args.path)
    if isinstance(node, cuzarr.Array):
        print(f"{node.name} {node.shape} {node.dtype}")
    else:
        print(node.tree(level=args.level))
    return 0


def _open(store: str, path: str) -> Any:
    try:
        return cuzarr.open(store, mode="r", path=path)
    except cuzarr.errors.NodeNotFoundError as exc:
        raise UsageError(f"nothing to open at {store!r} path {path!r}: {exc}") from exc


# -- convert ----------------------------------------------------------------------------------

CODECS = {
    "zstd": lambda level: [cuzarr.codecs.ZstdCodec(level=level if level is not None else 0)],
    "gzip": lambda level: [cuzarr.codecs.GzipCodec(level=level if level is not None else 5)],
    "blosc": lambda level: [cuzarr.codecs.BloscCodec(cname="lz4", clevel=level if level is not None else 5)],
    "none": lambda level: None,
}
# the same for Zarr v2, as numcodecs configs (v2 takes no v3 codec objects)
V2_CODECS = {
    "zstd": lambda level: {"id": "zstd", "level": level if level is not None else 0},
    "gzip": lambda level: {"id": "gzip", "level": level if level is not None else 5},
    "blosc": lambda level: {
        "id": "blosc",
        "cname": "lz4",
        "clevel": level if level is not None else 5,
        "shuffle": 1,
        "blocksize": 0,
    },
    "none": lambda level: None,
}


def convert_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="a .npy file, an HDF5 dataset as FILE.h5:/dataset, or a Zarr array")
    parser.add_argument("dest", help="the Zarr array to write (a path or URL)")
    parser.add_argument("--chunks", type=_shape_arg, help="chunk shape, e.g. 512,512 (default: auto)")
    parser.add_argument("--shards", type=_shape_arg, help="shard shape, e.g. 4096,4096 (Zarr v3 only)")
    parser.add_argument("--codec", choices=sorted(CODECS), default="zstd", help="compressor (default zstd)")
    parser.add_argument("--level", type=int, default=None, help="compression level")
    parser.add_argument("--zarr-format", type=int, choices=(2, 3), default=3)
    parser.add_argument(
        "--record-type-name",
        choices=RECORD_TYPE_NAMES,
        default=None,
        help="how a v3 record dtype is spelled (default: a v3 Zarr source's, else the configured one)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing destination")
    parser.add_argument("--progress", action="store_true", help="show a progress bar (tqdm if installed)")


def convert(args: argparse.Namespace) -> int:
    """Copy an array into a new Zarr array with other chunks, codecs, shards or format.

    Resumable: rerun the same command after an interruption and stored objects that already
    exist in the destination are skipped.
    """
    source = _open_source(args.source)
    dest = _open_or_create_dest(args, source)
    objects = list(_storage_regions(dest))
    written = skipped = 0
    for region in _with_progress(objects, args.progress):
        if not args.overwrite and _stored(dest, region):
            skipped += 1
            continue
        dest[region] = source[region]
        written += 1
    print(f"{args.dest}: wrote {written} stored objects, skipped {skipped} already present")
    return 0


def _open_source(spec: str) -> Any:
    """A NumPy-indexable source: ``.npy`` (memory-mapped), ``FILE.h5:/dataset``, or a Zarr array."""
    lower = spec.lower()
    for suffix in (".h5:", ".hdf5:"):
        if suffix in lower:
            at = lower.index(suffix) + len(suffix) - 1
            return _open_hdf5(spec[:at], spec[at + 1 :])
    if lower.endswith(".npy"):
        if not os.path.exists(spec):
            raise UsageError(f"no such file: {spec}")
        return np.load(spec, mmap_mode="r")
    node = _open(spec, "")
    if not isinstance(node, cuzarr.Array):
        raise UsageError(f"{spec!r} is a group; give the path of an array inside it")
    return node


def _open_hdf5(filename: str, dataset: str) -> Any:
    try:
        import h5py
    except ImportError as exc:
        raise UsageError("reading HDF5 needs h5py: pip install h5py") from exc
    if not os.path.exists(filename):
        raise UsageError(f"no such file: {filename}")
    handle = h5py.File(filename, "r")
    if dataset not in handle:
        raise UsageError(f"{filename} has no dataset {dataset!r}")
    return handle[dataset]


def _open_or_create_dest(args: argparse.Namespace, source: Any) -> cuzarr.Array:
    if not args.overwrite:
        try:
            existing = cuzarr.open_array(args.dest, mode="r+")
        except cuzarr.errors.NodeNotFoundError:
            existing = None
        if existing is not None:
            if existing.shape != tuple(source.shape) or existing.dtype != source.dtype:
                raise UsageError(
                    f"{args.dest} exists with shape {existing.shape} and dtype {existing.dtype}, not "
                    f"{tuple(source.shape)} {source.dtype}; pass --overwrite to replace it"
                )
            _check_resumed_fill(args.dest, existing, source)
            return existing
    if args.shards and args.zarr_format == 2:
        raise UsageError("--shards needs --zarr-format 3")
    return cuzarr.create_array(
        args.dest,
        shape=source.shape,
        dtype=source.dtype,
        chunks=args.chunks or "auto",
        shards=args.shards,
        compressors=(CODECS if args.zarr_format == 3 else V2_CODECS)[args.codec](args.level),
        zarr_format=args.zarr_format,
        overwrite=args.overwrite,
        **_fill_kwargs(source),
        **_record_kwargs(args, source),
    )


def _fill_kwargs(source: Any) -> dict[str, Any]:
    """A Zarr source's fill value, so that what its never-written chunks read as is kept (those
    chunks then stay unwritten in the copy too); NumPy and HDF5 sources keep the default."""
    if isinstance(source, cuzarr.Array):
        return {"fill_value": source.fill_value}
    return {}


def _check_resumed_fill(dest: str, existing: cuzarr.Array, source: Any) -> None:
    """Resuming into an array whose fill value is not the Zarr source's would leave the objects
    already written reading differently from the source where it was never written."""
    wanted = _fill_kwargs(source).get("fill_value", existing.fill_value)
    if wanted is None and existing.zarr_format == 3:
        return  # a v2 source without a fill value: a v3 copy has the default one
    if _fill_bytes(existing.fill_value, existing.dtype) != _fill_bytes(wanted, existing.dtype):
        raise UsageError(
            f"{dest} exists with fill value {existing.fill_value!r}, not the source's {wanted!r}; "
            "pass --overwrite to replace it"
        )


def _fill_bytes(fill: Any, dtype: np.dtype) -> bytes | None:
    """A fill value compared bit for bit (NaN equals NaN); None for a v2 array without one."""
    return None if fill is None else np.asarray(fill, dtype=dtype).tobytes()


def _record_kwargs(args: argparse.Namespace, source: Any) -> dict[str, Any]:
    """The record spelling to write: ``--record-type-name``, else a v3 source's, so a converted
    ``struct`` array stays readable by tensorstore (v2 output has no spelling)."""
    chosen = {"record_type_name": args.record_type_name} if args.record_type_name else {}
    if args.zarr_format == 2:
        if chosen:
            raise UsageError("--record-type-name needs --zarr-format 3")
        return {}
    return {**record_spelling(source, chosen), **chosen}


def _storage_regions(dest: cuzarr.Array) -> Iterator[tuple[slice, ...]]:
    """The region of every stored object (shard, or chunk when unsharded), in C order."""
    step = dest.shards or dest.chunks
    ranges = [range(0, n, s) for n, s in zip(dest.shape, step)]
    for corner in itertools.product(*ranges):
        yield tuple(slice(c, min(c + s, n)) for c, s, n in zip(corner, step, dest.shape))


def _stored(dest: cuzarr.Array, region: tuple[slice, ...]) -> bool:
    coords = tuple(r.start // s for r, s in zip(region, dest.shards or dest.chunks))
    prefix = f"{dest.path}/" if dest.path else ""
    return dest.store.exists(prefix + dest.metadata.chunk_key_encoding.encode(coords))


def _with_progress(items: list[Any], enabled: bool) -> Any:
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, unit="object")


# -- copy -------------------------------------------------------------------------------------


def copy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="a Zarr store (path or URL)")
    parser.add_argument("dest", help="the store to copy into")
    parser.add_argument("--if-exists", choices=("raise", "replace", "skip"), default="raise")
    parser.add_argument("--dry-run", action="store_true", help="report what would be copied")


def copy(args: argparse.Namespace) -> int:
    """Copy every key of a store, bytes untouched (any format, any codec)."""
    copied, skipped, nbytes = cuzarr.copy_store(
        args.source, args.dest, if_exists=args.if_exists, dry_run=args.dry_run
    )
    print(
        f"copied {copied} keys ({nbytes} bytes), skipped {skipped}" + (" (dry run)" if args.dry_run else "")
    )
    return 0


# -- clean ------------------------------------------------------------------------------------


def clean_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="a local Zarr store directory")
    parser.add_argument(
        "--min-age",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="only temp files not modified for this long (default 3600, so live writers are never touched)",
    )


def clean(args: argparse.Namespace) -> int:
    """Remove the temp files that writers killed mid-write left in a local store."""
    path = args.store[len("file://") :] if args.store.startswith("file://") else args.store
    if "://" in path:
        raise UsageError(f"clean works on local directories, not {args.store!r}")
    if not os.path.isdir(path):
        raise UsageError(f"no such directory: {args.store}")
    if not args.min_age >= 0:
        raise UsageError(f"--min-age must be a number of seconds >= 0, got {args.min_age}")
    try:
        removed = cuzarr.storage.LocalStore(path).remove_stale_temp_files(args.min_age)
    except PermissionError as exc:
        raise UsageError(f"cannot remove temp files in {args.store}: {exc}") from exc
    print(f"{args.store}: removed {removed} stale temp file{'' if removed == 1 else 's'}")
    return 0
