"""The kernel sources in ``kernels/*.cu``, compiled for the host, against the NumPy references.

The same cases as ``test_cuda_kernels.py`` (which needs a GPU), over several launch shapes, then
whole reads and writes of the emulated backend with these kernels in place of the references:
so a wrong index in a ``.cu`` file fails the CPU suite, not a rare device session.
"""

from __future__ import annotations

import numpy as np
import pytest
from numcodecs import Blosc

import cuzarr.buffer.emulated
from cuzarr.gpu import descriptors as d
from cuzarr.gpu import reference as ref
from cuzarr.gpu.decode import copy_into
from tests.buffer.test_emulated_backend import V2_CASES, V3_CASES, check_roundtrip, make_data

from .host_kernels import HostKernelOps, build, kernel_names
from .test_blosc_device import device_decode

#: ``(grid cap, threads per block)``: one thread in all, a few blocks, and wide blocks
LAUNCHES = [((1, 1), 1), ((3, 2), 32), ((4, 8), 256)]


@pytest.fixture(scope="session")
def kernels(tmp_path_factory):
    try:
        return build(tmp_path_factory.mktemp("host-kernels"))
    except RuntimeError as exc:
        pytest.skip(str(exc))


@pytest.fixture(params=LAUNCHES, ids=lambda p: f"grid{p[0][0]}x{p[0][1]}-threads{p[1]}")
def ops(request, kernels):
    cap, threads = request.param
    return HostKernelOps(kernels, grid_cap=cap, threads=threads)


def test_every_kernel_cuda_ops_launches_is_built(kernels):
    assert kernel_names() <= set(kernels)


def _run_both(ops, kernel, data, sizes, typesize):
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.uint64)
    rows = dict(nbytes=sizes, typesize=[typesize] * len(sizes))
    got, expected = np.zeros_like(data), np.zeros_like(data)
    with ops.scope():
        src, dst = ops.address(data), ops.address(got)
        ops.launch(kernel, d.table(d.BLOCK, src=src + offsets, dst=dst + offsets, **rows))
    mem = ref.Memory()
    getattr(ref, kernel)(
        mem, d.table(d.BLOCK, src=mem.register(data) + offsets, dst=mem.register(expected) + offsets, **rows)
    )
    return got, expected


@pytest.mark.parametrize("kernel", ["byte_shuffle", "byte_unshuffle", "bit_shuffle", "bit_unshuffle"])
@pytest.mark.parametrize("typesize", [1, 2, 4, 8, 12, 16, 17])
def test_shuffle_kernels_match_reference(ops, kernel, typesize):
    sizes = [typesize * 256, typesize * 100 + 3, 5, typesize * 64]
    data = np.random.default_rng(typesize).integers(0, 256, sum(sizes), dtype=np.uint8)
    got, expected = _run_both(ops, kernel, data, sizes, typesize)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("typesize", [1, 4, 12])
def test_shuffle_then_unshuffle_is_identity(ops, typesize):
    sizes = [typesize * 128, typesize * 40 + 5]
    data = np.random.default_rng(7).integers(0, 256, sum(sizes), dtype=np.uint8)
    for forward, backward in (("byte_shuffle", "byte_unshuffle"), ("bit_shuffle", "bit_unshuffle")):
        shuffled, _ = _run_both(ops, forward, data, sizes, typesize)
        restored, _ = _run_both(ops, backward, shuffled, sizes, typesize)
        np.testing.assert_array_equal(restored, data)


@pytest.mark.parametrize("itemsize", [2, 4, 8])
def test_byteswap_kernel(ops, itemsize):
    values = np.random.default_rng(itemsize).integers(0, 2**31, 1001).astype(f"<u{itemsize}")
    for offset in (0, itemsize // 2 or 1):  # aligned and misaligned regions
        buf = values.view(np.uint8).copy()
        n = (buf.size - offset) // itemsize
        with ops.scope():
            table = d.table(d.SWAP, addr=[ops.address(buf) + offset], nitems=[n], itemsize=[itemsize])
            ops.launch("byteswap", table)
        expected = values.view(np.uint8).copy()
        body = expected[offset : offset + n * itemsize]
        expected[offset : offset + n * itemsize] = body.reshape(n, itemsize)[:, ::-1].reshape(-1)
        np.testing.assert_array_equal(buf, expected)


@pytest.mark.parametrize("kind", [d.CRC32C, d.CRC32, d.ADLER32])
def test_checksum_kernel(ops, kind):
    rng = np.random.default_rng(kind)
    data = [rng.integers(0, 256, n, dtype=np.uint8) for n in (0, 1, 255, 4096, 100_003)]
    stored = [np.frombuffer(ref.checksum_of(x, kind).to_bytes(4, "little"), np.uint8).copy() for x in data]
    stored[3][0] ^= 1  # one stored value is wrong
    with ops.scope():
        table = d.table(
            d.CHECKSUM,
            src=[ops.address(x) if x.size else 0 for x in data],
            nbytes=[x.size for x in data],
            expected=[ops.address(s) for s in stored],
        )
        values, ok = ops.checksum(table, kind)
    assert values.tolist() == [ref.checksum_of(x, kind) for x in data]
    assert ok.tolist() == [1, 1, 1, 0, 1]


@pytest.mark.parametrize("dtype", ["u1", "<i2", "<f4", "<f8", "<c16"])
def test_scatter_kernel_matches_numpy(ops, dtype):
    rng = np.random.default_rng(0)
    chunks = [rng.random((16, 12, 10)).astype(dtype) for _ in range(3)]
    out = np.zeros((40, 30, 20), dtype)
    pieces = [
        ((slice(0, 16), slice(0, 12), slice(0, 10)), (slice(0, 16), slice(0, 12), slice(0, 10))),
        ((slice(1, 16, 2), slice(None), slice(0, 10, 3)), (slice(20, 28), slice(18, 30), slice(3, 7))),
        ((slice(None, None, -1), slice(2, 3), slice(1, 10)), (slice(24, 40), slice(0, 1), slice(11, 20))),
    ]
    with ops.scope():
        copy_into(ops, [(c[cs], out[os]) for c, (cs, os) in zip(chunks, pieces)])
    expected = np.zeros_like(out)
    for c, (cs, os) in zip(chunks, pieces):
        expected[os] = c[cs]
    np.testing.assert_array_equal(out, expected)


def test_batch_memcpy_aligned_and_not(ops):
    src = np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8)
    dst = np.zeros_like(src)
    starts, sizes = [0, 16, 1000, 3001], [16, 977, 2000, 1000]  # 16-byte aligned and not
    with ops.scope():
        base_s, base_d = ops.address(src), ops.address(dst)
        table = d.table(
            d.COPY, src=[base_s + s for s in starts], dst=[base_d + s + 1 for s in starts], nbytes=sizes
        )
        ops.launch("batch_memcpy", table)
    expected = np.zeros_like(src)
    for s, n in zip(starts, sizes):
        expected[s + 1 : s + 1 + n] = src[s : s + n]
    np.testing.assert_array_equal(dst, expected)


@pytest.mark.parametrize("cname", ["lz4", "zstd", "zlib"])
@pytest.mark.parametrize("shuffle", [Blosc.NOSHUFFLE, Blosc.SHUFFLE, Blosc.BITSHUFFLE])
def test_blosc_decodes_through_the_kernel_sources(kernels, cname, shuffle):
    ops = HostKernelOps(kernels)
    chunks, originals = [], []
    for dtype, n in (("<f4", 40_000), ("V12", 1001), ("<u2", 70_001)):
        data = np.frombuffer(np.random.default_rng(n).bytes(n * np.dtype(dtype).itemsize), dtype)
        chunks.append(Blosc(cname=cname, shuffle=shuffle, blocksize=0).encode(data))
        originals.append(data.tobytes())
    for chunk, original in zip(chunks, originals):
        assert device_decode([chunk], len(original), ops) == [original]


@pytest.fixture
def host_kernel_backend(kernels, monkeypatch):
    """Every emulated backend made during the test runs the compiled kernel sources."""
    monkeypatch.setattr(cuzarr.buffer.emulated, "EmulatedOps", lambda: HostKernelOps(kernels))


@pytest.mark.parametrize("case", list(V3_CASES))
def test_v3_reads_and_writes(tmp_path, host_kernel_backend, case):
    check_roundtrip(tmp_path, make_data("<f4"), **V3_CASES[case])


@pytest.mark.parametrize("case", list(V2_CASES))
def test_v2_reads_and_writes(tmp_path, host_kernel_backend, case):
    check_roundtrip(tmp_path, make_data(">i4"), zarr_format=2, order="F", **V2_CASES[case])


def test_sharded_reads_and_writes(tmp_path, host_kernel_backend):
    from cuzarr.codecs import ZstdCodec

    data = make_data("<u8", (48, 40))
    check_roundtrip(tmp_path, data, shards=(16, 24), compressors=ZstdCodec())
