"""The NumPy reference kernels against ground truth (c-blosc, crc32c, zlib, NumPy slicing)."""

from __future__ import annotations

import zlib

import crc32c
import numpy as np
import pytest

from cuzarr.gpu import descriptors as d
from cuzarr.gpu import reference as ref


@pytest.fixture
def mem():
    return ref.Memory()


def _blocks(mem, src, dst, sizes, typesize):
    s, t = mem.register(src), mem.register(dst)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.uint64)
    return d.table(d.BLOCK, src=s + offsets, dst=t + offsets, nbytes=sizes, typesize=[typesize] * len(sizes))


@pytest.mark.parametrize("typesize", [1, 2, 3, 4, 8, 12, 16, 17])
@pytest.mark.parametrize("kernels", [("byte_shuffle", "byte_unshuffle"), ("bit_shuffle", "bit_unshuffle")])
def test_shuffle_roundtrip_with_tails(mem, typesize, kernels):
    rng = np.random.default_rng(typesize)
    sizes = [typesize * 64, typesize * 64 + 5, 3, typesize * 24 + 1, 0]
    data = rng.integers(0, 256, sum(sizes), dtype=np.uint8)
    shuffled, back = np.zeros_like(data), np.zeros_like(data)
    getattr(ref, kernels[0])(mem, _blocks(mem, data, shuffled, sizes, typesize))
    getattr(ref, kernels[1])(mem, _blocks(mem, shuffled, back, sizes, typesize))
    np.testing.assert_array_equal(back, data)


def test_byte_shuffle_layout(mem):
    data = np.arange(4 * 5, dtype=np.uint8)  # 5 elements of 4 bytes, then no tail
    out = np.zeros_like(data)
    ref.byte_shuffle(mem, _blocks(mem, data, out, [20], 4))
    np.testing.assert_array_equal(out, data.reshape(5, 4).T.reshape(-1))


def test_bit_shuffle_layout(mem):
    rng = np.random.default_rng(0)
    elems = rng.integers(0, 2**16, 16, dtype=np.uint16)
    data = elems.view(np.uint8).copy()
    out = np.zeros_like(data)
    ref.bit_shuffle(mem, _blocks(mem, data, out, [32], 2))
    plane_bytes = 16 // 8
    for j in range(2):
        for k in range(8):
            plane = out[(8 * j + k) * plane_bytes : (8 * j + k + 1) * plane_bytes]
            for i in range(16):
                bit = (plane[i >> 3] >> (i & 7)) & 1
                assert bit == (data[i * 2 + j] >> k) & 1


@pytest.mark.parametrize("itemsize", [2, 4, 8])
def test_byteswap(mem, itemsize):
    values = np.arange(100, dtype=f"<u{itemsize}") * 77
    buf = values.copy()
    ref.byteswap(mem, d.table(d.SWAP, addr=[mem.register(buf)], nitems=[100], itemsize=[itemsize]))
    np.testing.assert_array_equal(buf.view(f">u{itemsize}"), values)


@pytest.mark.parametrize("kind", [d.CRC32C, d.CRC32, d.ADLER32])
@pytest.mark.parametrize("n", [0, 1, 255, 256, 257, 10_000, 65_537])
def test_checksum_tree_matches_libraries(mem, kind, n):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8)
    truth = {d.CRC32C: crc32c.crc32c, d.CRC32: zlib.crc32, d.ADLER32: zlib.adler32}[kind](data.tobytes())
    assert ref.checksum_of(data, kind) == truth
    stored = np.frombuffer(truth.to_bytes(4, "big" if kind == d.ADLER32 else "little"), np.uint8).copy()
    table = d.table(
        d.CHECKSUM,
        src=[mem.register(data) if n else 0],
        nbytes=[n],
        expected=[mem.register(stored)],
        big_endian=[int(kind == d.ADLER32)],
    )
    values, ok = ref.checksum_batch(mem, table, kind)
    assert values[0] == truth and ok[0] == 1
    stored[0] ^= 1
    assert ref.checksum_batch(mem, table, kind)[1][0] == 0


@pytest.mark.parametrize("dtype", ["u1", "<i2", "<f4", "<c8", "<c16", "V3"])
def test_copy_strided_scatter_and_gather(mem, dtype):
    rng = np.random.default_rng(1)
    dt = np.dtype(dtype)
    out = np.zeros((13, 11, 9), dt)
    chunks = [np.frombuffer(rng.bytes(6 * 5 * 4 * dt.itemsize), dt).reshape(6, 5, 4).copy() for _ in range(3)]
    expected = out.copy()
    pieces = [
        ((slice(0, 6), slice(0, 5), slice(0, 4)), (slice(0, 6), slice(0, 5), slice(0, 4))),
        ((slice(1, 6, 2), slice(None), slice(0, 4, 3)), (slice(7, 10), slice(6, 11), slice(3, 5))),
        ((slice(None, None, -1), slice(2, 3), slice(1, 4)), (slice(0, 6), slice(10, 11), slice(6, 9))),
    ]
    pairs = [(chunk[csel], out[osel]) for chunk, (csel, osel) in zip(chunks, pieces)]
    for (_, osel), (src, _) in zip(pieces, pairs):
        expected[osel] = src
    table = d.strided_table(
        [mem.register(s) for s, _ in pairs],
        [mem.register(t) for _, t in pairs],
        [s.shape for s, _ in pairs],
        [s.strides for s, _ in pairs],
        [t.strides for _, t in pairs],
        dt.itemsize,
    )
    ref.copy_strided(mem, table)
    assert out.tobytes() == expected.tobytes()


def test_copy_strided_transpose_and_broadcast(mem):
    src = np.arange(24, dtype="<f8").reshape(2, 3, 4)
    view = src.transpose(2, 0, 1)
    out = np.zeros((4, 2, 3))
    scalar = np.broadcast_to(np.float64(7.5), (4, 2, 3))
    out2 = np.zeros((4, 2, 3))
    table = d.strided_table(
        [mem.register(view), mem.register(scalar)],
        [mem.register(out), mem.register(out2)],
        [view.shape, (4, 2, 3)],
        [view.strides, scalar.strides],
        [out.strides, out2.strides],
        8,
    )
    ref.copy_strided(mem, table)
    np.testing.assert_array_equal(out, view)
    assert (out2 == 7.5).all()


def _strided_row(row, src, dst, shape, src_strides, dst_strides, itemsize):
    """One ``STRIDED`` row filled field by field: the plain reading of the C struct."""
    dims = d.simplify_dims(shape, src_strides, dst_strides)
    row["src"], row["dst"], row["itemsize"], row["ndim"] = src, dst, itemsize, len(dims)
    row["nelems"] = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    for k, (n, s, t) in enumerate(dims):
        row["shape"][k], row["src_strides"][k], row["dst_strides"][k] = n, s, t


def test_strided_table_fills_rows_as_one_row_at_a_time():
    layouts = [
        ((4, 5, 6), (240, 48, 8), (480, 48, 8)),
        ((4, 5, 6), (8, 32, 160), (240, 48, 8)),  # a transposed source
        ((1, 5, 6), (240, 48, 8), (480, 48, 8)),
        ((3,), (0,), (8,)),  # a broadcast scalar
        ((), (), ()),
    ]
    picks = [0, 1, 0, 2, 3, 1, 4, 0]
    shapes, src_strides, dst_strides = zip(*(layouts[i] for i in picks))
    src, dst = np.arange(8) * 4096, np.arange(8) * 4096 + (1 << 20)
    table = d.strided_table(src, dst, shapes, src_strides, dst_strides, 8)
    expected = np.zeros(len(picks), d.STRIDED)
    for row, *args in zip(expected, src, dst, shapes, src_strides, dst_strides):
        _strided_row(row, *args, 8)
    assert table.tobytes() == expected.tobytes()
    with pytest.raises(ValueError, match="dimensions after merging"):
        nine = (2,) * 9
        d.strided_table(
            [0], [0], [nine], [tuple(8 * 3**k for k in range(9))], [tuple(8 * 5**k for k in range(9))], 8
        )


def test_memory_bounds_are_checked(mem):
    buf = np.zeros(16, np.uint8)
    address = mem.register(buf)
    with pytest.raises(IndexError):
        mem.view(address + 8, 16)
    with mem.scope():
        other = np.zeros(4, np.uint8)
        mem.view(mem.register(other), 4)
    with pytest.raises(IndexError):
        mem.view(other.__array_interface__["data"][0], 4)


def test_simplify_dims_merges_contiguous():
    assert d.simplify_dims((4, 1, 8), (128, 64, 8), (32, 32, 4)) == [(4, 128, 32), (8, 8, 4)]
    assert d.simplify_dims((4, 8), (64, 8), (32, 4)) == [(32, 8, 4)]
    assert d.simplify_dims((4, 8), (32, 4), (64, 4)) == [(4, 32, 64), (8, 4, 4)]
