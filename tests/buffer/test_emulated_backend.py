"""The emulated GPU backend (device path logic on NumPy) reads and writes exactly like the CPU backend."""

from __future__ import annotations

import logging

import numcodecs
import numpy as np
import pytest

import cuzarr
from cuzarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, TransposeCodec, ZstdCodec
from cuzarr.errors import CodecError

SHAPE, CHUNKS = (37, 29), (8, 12)
SELECTIONS = [
    (Ellipsis,),
    (slice(3, 30), slice(5, 27)),
    (slice(1, None, 3), slice(None, None, 2)),
    (slice(None, None, -1), slice(4, 5)),
    (7, slice(None)),
    (slice(8, 16), slice(0, 24)),
]


def make_data(dtype: str, shape=SHAPE) -> np.ndarray:
    dt = np.dtype(dtype)
    ramp = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    if dt.kind == "b":
        return (ramp % 3 == 0).astype(dt)
    if dt.kind == "c":
        return (np.sin(ramp / 5) + 1j * np.cos(ramp / 3)).astype(dt)
    if dt.kind == "f":
        return np.round(np.sin(ramp / 9) * 100, 2).astype(dt)
    return (ramp * 7 % 1000).astype(dt)


def check_roundtrip(tmp_path, data: np.ndarray, **kwargs) -> None:
    """Write with emulated and CPU, read each with both, compare every selection with NumPy."""
    written = {}
    for device in ("emulated", "cpu"):
        path = str(tmp_path / device)
        z = cuzarr.create_array(
            store=path, shape=data.shape, chunks=CHUNKS, dtype=data.dtype, device=device, **kwargs
        )
        z[...] = data
        z[2:5, 3:4] = data[2:5, 3:4]  # a partial write: read-modify-write on the device path
        written[device] = path
    for path in written.values():
        for device in ("emulated", "cpu"):
            z = cuzarr.open_array(path, device=device)
            for sel in SELECTIONS:
                got = z[sel]
                assert isinstance(got, np.ndarray | np.generic)
                np.testing.assert_array_equal(got, data[sel])


V3_CASES = {
    "none": dict(compressors=None),
    "gzip": dict(compressors=GzipCodec(level=1)),
    "zstd": dict(compressors=ZstdCodec(level=3)),
    "crc32c": dict(compressors=[Crc32cCodec()]),
    "zstd+crc32c": dict(compressors=[ZstdCodec(), Crc32cCodec()]),
    "crc32c+gzip": dict(compressors=[Crc32cCodec(), GzipCodec()]),
    "transpose+big": dict(filters=[TransposeCodec(order=[1, 0])], serializer=BytesCodec(endian="big")),
    "big+zstd": dict(serializer=BytesCodec(endian="big"), compressors=ZstdCodec()),
}
for cname in ("lz4", "zstd", "zlib"):
    for shuffle in ("noshuffle", "shuffle", "bitshuffle"):
        V3_CASES[f"blosc-{cname}-{shuffle}"] = dict(compressors=BloscCodec(cname=cname, shuffle=shuffle))


@pytest.mark.parametrize("case", list(V3_CASES))
@pytest.mark.parametrize("dtype", ["<f4", "<i2", "<u8"])
def test_v3_codecs(tmp_path, case, dtype):
    check_roundtrip(tmp_path, make_data(dtype), **V3_CASES[case])


@pytest.mark.parametrize("dtype", ["|b1", "<c16", "<f8", "|i1"])
@pytest.mark.parametrize("case", ["zstd", "blosc-lz4-shuffle", "transpose+big", "crc32c+gzip"])
def test_v3_more_dtypes(tmp_path, case, dtype):
    check_roundtrip(tmp_path, make_data(dtype), **V3_CASES[case])


V2_CASES = {
    "none": dict(compressors=None),
    "zstd": dict(compressors=numcodecs.Zstd(level=1)),
    "gzip": dict(compressors=numcodecs.GZip(level=1)),
    "zlib": dict(compressors=numcodecs.Zlib(level=1)),
    "lz4": dict(compressors=numcodecs.LZ4()),
    "blosc-lz4-shuffle": dict(compressors=numcodecs.Blosc(cname="lz4", shuffle=1)),
    "blosc-zstd-bitshuffle": dict(compressors=numcodecs.Blosc(cname="zstd", shuffle=2)),
    "blosc-zlib-noshuffle": dict(compressors=numcodecs.Blosc(cname="zlib", shuffle=0)),
}


@pytest.mark.parametrize("case", list(V2_CASES))
@pytest.mark.parametrize(("dtype", "order"), [("<f4", "C"), (">i4", "F"), ("<f8", "F"), ("|u1", "C")])
def test_v2_codecs(tmp_path, case, dtype, order):
    check_roundtrip(tmp_path, make_data(dtype), zarr_format=2, order=order, **V2_CASES[case])


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(zarr_format=2, compressors=numcodecs.Zstd(), filters=[numcodecs.Delta(dtype="<i4")]),
        dict(compressors=BloscCodec(cname="blosclz", shuffle="shuffle")),
        dict(zarr_format=2, compressors=numcodecs.BZ2()),
    ],
    ids=["v2-delta", "blosclz", "bz2"],
)
def test_fallback_codecs_work_and_warn_once(tmp_path, caplog, kwargs):
    data = make_data("<i4")
    with caplog.at_level(logging.WARNING, logger="cuzarr.gpu"):
        check_roundtrip(tmp_path, data, **kwargs)
        z = cuzarr.open_array(str(tmp_path / "emulated"), device="emulated")
        z[...]
        z[...]
    warnings = [r for r in caplog.records if r.name == "cuzarr.gpu"]
    # one per chain object: the writer's array, then each opened array
    assert 1 <= len(warnings) <= 6
    assert all("on the CPU" in r.getMessage() for r in warnings)
    z = cuzarr.open_array(str(tmp_path / "emulated"), device="emulated")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="cuzarr.gpu"):
        z[...]
        z[1:3]
    assert len([r for r in caplog.records if r.name == "cuzarr.gpu"]) == 1


def test_missing_chunks_read_fill_value(tmp_path):
    z = cuzarr.create_array(
        store=str(tmp_path), shape=(20, 20), chunks=(8, 8), dtype="f4", fill_value=-1, device="emulated"
    )
    z[0:8, 0:8] = 5
    got = z[...]
    assert (got[:8, :8] == 5).all() and (got[8:] == -1).all()


@pytest.mark.parametrize("shards", [None, (16, 16)])
def test_long_strings_scatter_as_objects_not_bytes(tmp_path, shards):
    """Strings stay on the host: scattering them copies references, never their raw bytes."""
    values = np.array(["ab" * (i % 50 + 20) + str(i) for i in range(30 * 20)], dtype=object).reshape(30, 20)
    z = cuzarr.create_array(
        store=str(tmp_path), shape=values.shape, chunks=(8, 8), shards=shards, dtype=str, device="emulated"
    )
    z[...] = values
    z[3:11, 5:9] = values[3:11, 5:9][::-1]
    expected = values.copy()
    expected[3:11, 5:9] = values[3:11, 5:9][::-1]
    got = z[...]
    assert got.tolist() == expected.tolist()
    assert z[2:27, 1:19].tolist() == expected[2:27, 1:19].tolist()


def test_memory_store_and_generic_fetch():
    store = cuzarr.storage.MemoryStore()
    data = make_data("<f4")
    z = cuzarr.create_array(
        store=store, shape=SHAPE, chunks=CHUNKS, dtype="f4", compressors=ZstdCodec(), device="emulated"
    )
    z[...] = data
    np.testing.assert_array_equal(cuzarr.open_array(store, device="emulated")[...], data)


def _one_chunk_path(tmp_path, **kwargs):
    data = make_data("<i4", (16, 16))
    z = cuzarr.create_array(store=str(tmp_path), shape=(16, 16), chunks=(8, 16), dtype="i4", **kwargs)
    z[...] = data
    key = sorted(
        p for p in tmp_path.rglob("*") if p.is_file() and p.name[0].isdigit() or p.parent.name == "c"
    )
    return data, [p for p in key if p.is_file() and not p.name.endswith(".json")]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(compressors=[ZstdCodec(), Crc32cCodec()]),
        dict(compressors=ZstdCodec()),
        dict(compressors=GzipCodec()),
        dict(compressors=BloscCodec(cname="lz4", shuffle="shuffle")),
        dict(zarr_format=2, compressors=numcodecs.Zlib()),
        dict(zarr_format=2, compressors=numcodecs.LZ4()),
    ],
    ids=["crc32c", "zstd", "gzip", "blosc", "zlib", "lz4"],
)
def test_corrupt_chunk_names_the_key(tmp_path, kwargs):
    _, files = _one_chunk_path(tmp_path, **kwargs)
    victim = files[-1]
    raw = bytearray(victim.read_bytes())
    if "Crc32c" in str(kwargs):
        raw[len(raw) // 2] ^= 0xFF  # checksum mismatch
    else:
        raw = raw[:-3]  # truncated stream
    victim.write_bytes(bytes(raw))
    for device in ("cpu", "emulated"):
        with pytest.raises(CodecError):
            cuzarr.open_array(str(tmp_path), device=device)[...]
    z = cuzarr.open_array(str(tmp_path), device="emulated")
    with pytest.raises(CodecError) as info:
        z[...]
    assert info.value.key is not None and info.value.key.endswith(victim.name)


def test_one_launch_per_step_and_in_place_decode(tmp_path):
    data = make_data("<f4", (64, 40))
    z = cuzarr.create_array(
        store=str(tmp_path),
        shape=data.shape,
        chunks=(8, 40),
        dtype="f4",
        compressors=[BloscCodec(cname="lz4", shuffle="shuffle"), Crc32cCodec()],
        device="emulated",
    )
    z[...] = data
    z = cuzarr.open_array(str(tmp_path), device="emulated")
    ops = z._backend.ops
    ops.launches.clear()
    np.testing.assert_array_equal(z[...], data)
    assert ops.launches["h2d"] == 1 and ops.launches["checksum"] == 1
    assert ops.launches["decompress:lz4"] == 1 and ops.launches["byte_unshuffle"] == 1
    assert ops.launches["copy_strided"] == 0  # whole-row chunks decode straight into the output
    ops.launches.clear()
    np.testing.assert_array_equal(z[3:50, 5:33], data[3:50, 5:33])
    assert ops.launches["copy_strided"] == 1  # one scatter for the batch


def test_chunks_over_nvcomp_limits_take_the_cpu(monkeypatch):
    """nvCOMP encodes LZ4 streams of at most 16 MiB: bigger chunks are encoded on the CPU (and
    still decoded on the device); over a decode limit the chain has no device plan at all."""
    from cuzarr.codecs import V2CodecChain
    from cuzarr.codecs.base import ChunkSpec
    from cuzarr.gpu import chain_plan

    def plan(shape):
        spec = ChunkSpec(shape, np.dtype("<f4"))
        return chain_plan.plan_chain(V2CodecChain(numcodecs.LZ4(), None, spec))

    assert plan((1024, 1024)).encode_reason is None  # 4 MiB
    big = plan((4096, 2048))  # 32 MiB
    assert "at most 16777216" in big.encode_reason and big.steps[0].name == "lz4"
    monkeypatch.setitem(chain_plan.NVCOMP_DECODE_MAX, "lz4", 1 << 24)
    assert "nvCOMP decodes at most" in plan((4096, 2048))
