"""Descriptor tables: NumPy structured dtypes laid out exactly like the kernels' C structs.

A batch of work is one table (one row per block, region or chunk) holding absolute addresses,
so one kernel launch covers the whole batch. The CUDA ops upload a table as is; the emulated
ops hand the same table to the NumPy reference kernels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_DIMS = 8

#: ``struct BlockDesc`` (shuffle.cu, bitshuffle.cu): one blosc block to (un)shuffle.
BLOCK = np.dtype([("src", "<u8"), ("dst", "<u8"), ("nbytes", "<i8"), ("typesize", "<i8")])
#: ``struct SwapDesc`` (byteswap.cu): ``nitems`` items of ``itemsize`` bytes swapped in place.
SWAP = np.dtype([("addr", "<u8"), ("nitems", "<i8"), ("itemsize", "<i8"), ("pad", "<i8")])
#: ``struct CopyDesc`` (scatter.cu ``batch_memcpy``).
COPY = np.dtype([("src", "<u8"), ("dst", "<u8"), ("nbytes", "<i8"), ("pad", "<i8")])
#: ``struct StridedDesc`` (scatter.cu ``copy_strided``): an N-d strided region copy.
STRIDED = np.dtype(
    [
        ("src", "<u8"),
        ("dst", "<u8"),
        ("nelems", "<i8"),
        ("ndim", "<i4"),
        ("itemsize", "<i4"),
        ("shape", "<i8", (MAX_DIMS,)),
        ("src_strides", "<i8", (MAX_DIMS,)),
        ("dst_strides", "<i8", (MAX_DIMS,)),
    ]
)
#: ``struct ChecksumDesc`` (checksum.cu): region to checksum, optional stored value to compare.
CHECKSUM = np.dtype(
    [("src", "<u8"), ("nbytes", "<i8"), ("expected", "<u8"), ("big_endian", "<i4"), ("pad", "<i4")]
)
#: A batch (de)compression request: one row per stream. Not a kernel struct; ops read it on the host.
STREAM = np.dtype([("src", "<u8"), ("src_size", "<i8"), ("dst", "<u8"), ("dst_size", "<i8")])

CRC32C, CRC32, ADLER32 = 0, 1, 2
THREADS = 256
CHECKSUM_THREADS = 256  # checksum.cu's CK_THREADS: the reference splits segments the same way


def table(dtype: np.dtype, **columns: Sequence | np.ndarray) -> np.ndarray:
    """A table of ``dtype`` whose named columns are filled from equal-length sequences."""
    n = len(next(iter(columns.values()))) if columns else 0
    out = np.zeros(n, dtype=dtype)
    for name, values in columns.items():
        out[name] = values
    return out


def strided_table(
    src: Sequence[int] | np.ndarray,
    dst: Sequence[int] | np.ndarray,
    shapes: Sequence[tuple[int, ...]],
    src_strides: Sequence[tuple[int, ...]],
    dst_strides: Sequence[tuple[int, ...]],
    itemsize: int,
) -> np.ndarray:
    """A ``STRIDED`` table for many copies at once: rows sharing a layout (shape and both strides;
    a batch of chunks usually has one or two) are filled together, not one Python call per row."""
    table = np.zeros(len(shapes), STRIDED)
    table["src"], table["dst"], table["itemsize"] = src, dst, itemsize
    layouts: dict[tuple, list[int]] = {}
    for i, layout in enumerate(zip(shapes, src_strides, dst_strides)):
        layouts.setdefault(layout, []).append(i)
    for (shape, s_strides, d_strides), rows in layouts.items():
        dims = _merged(shape, s_strides, d_strides)
        index = np.asarray(rows)
        table["ndim"][index] = len(dims)
        table["nelems"][index] = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
        for k, (n, s, d) in enumerate(dims):
            table["shape"][index, k] = n
            table["src_strides"][index, k] = s
            table["dst_strides"][index, k] = d
    return table


def _merged(
    shape: Sequence[int], src_strides: Sequence[int], dst_strides: Sequence[int]
) -> list[tuple[int, int, int]]:
    dims = simplify_dims(shape, src_strides, dst_strides)
    if len(dims) > MAX_DIMS:
        raise ValueError(
            f"a strided copy needs {len(dims)} dimensions after merging; the kernel takes {MAX_DIMS}"
        )
    return dims


def simplify_dims(
    shape: Sequence[int], src_strides: Sequence[int], dst_strides: Sequence[int]
) -> list[tuple[int, int, int]]:
    """Drop length-1 dims and merge neighbours that are jointly contiguous (fewer index divisions)."""
    dims = [(int(n), int(s), int(d)) for n, s, d in zip(shape, src_strides, dst_strides) if n != 1]
    merged: list[tuple[int, int, int]] = []
    for n, s, d in dims:
        if merged:
            pn, ps, pd = merged[-1]
            if ps == n * s and pd == n * d:
                merged[-1] = (pn * n, s, d)
                continue
        merged.append((n, s, d))
    return merged


def launch_grid(table_rows: int, max_work: int, threads: int = THREADS) -> tuple[tuple[int, int], tuple[int]]:
    """``(grid, block)`` for the per-descriptor kernels: x over work items, y over descriptors."""
    blocks_x = max(1, min(-(-max(max_work, 1) // threads), 4096))
    return (blocks_x, max(1, min(table_rows, 65535))), (threads,)
