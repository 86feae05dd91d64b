"""The CUDA kernels against the NumPy references, on random data (needs a GPU)."""

from __future__ import annotations

import numpy as np
import pytest

from cuzarr.gpu import descriptors as d
from cuzarr.gpu import reference as ref

pytestmark = pytest.mark.gpu
cupy = pytest.importorskip("cupy")


@pytest.fixture(scope="module")
def ops():
    from cuzarr.gpu.cuda_ops import CudaOps

    return CudaOps()


def _run_block_kernel(ops, kernel, data, sizes, typesize):
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.uint64)
    rows = dict(nbytes=sizes, typesize=[typesize] * len(sizes))
    src, dst = cupy.asarray(data), cupy.zeros(data.size, cupy.uint8)
    ops.launch(
        kernel, d.table(d.BLOCK, src=ops.address(src) + offsets, dst=ops.address(dst) + offsets, **rows)
    )
    mem = ref.Memory()
    expected = np.zeros_like(data)
    getattr(ref, kernel)(
        mem, d.table(d.BLOCK, src=mem.register(data) + offsets, dst=mem.register(expected) + offsets, **rows)
    )
    return dst.get(), expected


@pytest.mark.parametrize("kernel", ["byte_shuffle", "byte_unshuffle", "bit_shuffle", "bit_unshuffle"])
@pytest.mark.parametrize("typesize", [1, 2, 4, 8, 12, 16, 17])
def test_shuffle_kernels_match_reference(ops, kernel, typesize):
    sizes = [typesize * 8192, typesize * 1000 + 3, 5, typesize * 64]
    data = np.random.default_rng(typesize).integers(0, 256, sum(sizes), dtype=np.uint8)
    got, expected = _run_block_kernel(ops, kernel, data, sizes, typesize)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("itemsize", [2, 4, 8])
def test_byteswap_kernel(ops, itemsize):
    values = np.random.default_rng(itemsize).integers(0, 2**31, 10_001).astype(f"<u{itemsize}")
    dev = cupy.asarray(values)
    for offset in (0, itemsize // 2 or 1):  # aligned and misaligned regions
        buf = cupy.asarray(values.view(np.uint8))
        n = (buf.size - offset) // itemsize
        ops.launch(
            "byteswap", d.table(d.SWAP, addr=[ops.address(buf) + offset], nitems=[n], itemsize=[itemsize])
        )
        host = buf.get()
        expected = values.view(np.uint8).copy()
        expected[offset : offset + n * itemsize] = (
            expected[offset : offset + n * itemsize].reshape(n, itemsize)[:, ::-1].reshape(-1)
        )
        np.testing.assert_array_equal(host, expected)
    del dev


@pytest.mark.parametrize("kind", [d.CRC32C, d.CRC32, d.ADLER32])
def test_checksum_kernel(ops, kind):
    rng = np.random.default_rng(kind)
    sizes = [0, 1, 255, 4096, 1_000_003]
    data = [rng.integers(0, 256, n, dtype=np.uint8) for n in sizes]
    devs = [cupy.asarray(x) for x in data]
    table = d.table(d.CHECKSUM, src=[ops.address(x) if x.size else 0 for x in devs], nbytes=sizes)
    values, _ = ops.checksum(table, kind)
    assert values.tolist() == [ref.checksum_of(x, kind) for x in data]


@pytest.mark.parametrize("dtype", ["u1", "<i2", "<f4", "<f8", "<c16"])
def test_scatter_kernel_matches_numpy(ops, dtype):
    rng = np.random.default_rng(0)
    chunks = [cupy.asarray(rng.random((16, 12, 10)).astype(dtype)) for _ in range(3)]
    out = cupy.zeros((40, 30, 20), dtype)
    pieces = [
        ((slice(0, 16), slice(0, 12), slice(0, 10)), (slice(0, 16), slice(0, 12), slice(0, 10))),
        ((slice(1, 16, 2), slice(None), slice(0, 10, 3)), (slice(20, 28), slice(18, 30), slice(3, 7))),
        ((slice(None, None, -1), slice(2, 3), slice(1, 10)), (slice(24, 40), slice(0, 1), slice(11, 20))),
    ]
    from cuzarr.gpu.decode import copy_into

    copy_into(ops, [(c[cs], out[os]) for c, (cs, os) in zip(chunks, pieces)])
    expected = np.zeros((40, 30, 20), dtype)
    for c, (cs, os) in zip(chunks, pieces):
        expected[os] = c.get()[cs]
    np.testing.assert_array_equal(out.get(), expected)
