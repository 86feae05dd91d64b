"""``CudaOps``' contract with nvCOMP, checked on CPU with stand-ins for CuPy and nvCOMP.

nvCOMP's Python API makes ``Codec`` thread-local and, without ``cuda_stream``, runs it on a
stream of its own: unordered with the host-to-device copy and the kernels around the decode.
These tests pin how ``CudaOps`` meets that, without a GPU (the GPU suite checks the results).
"""

from __future__ import annotations

import ctypes
import re
import sys
import threading
import types

import numpy as np
import pytest

import cuzarr
from cuzarr.gpu import cuda_ops
from cuzarr.gpu import descriptors as d

from .fake_nvcomp import BatchArray, CompressConfig, FakeNvcomp, NvcompArray, span

try:  # the real binding imports without a GPU; its signatures check the stand-in's calls
    from nvidia import nvcomp as REAL_NVCOMP
except ImportError:
    REAL_NVCOMP = None


class _Stream:
    def __init__(self, ptr: int, log: list[int]):
        self.ptr, self._log = ptr, log

    def synchronize(self) -> None:
        self._log.append(self.ptr)


class _Codec:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


class _Result:
    def __init__(self, stream):
        self.__cuda_array_interface__ = {"stream": stream}


@pytest.fixture
def fakes(monkeypatch):
    """Stand-in ``cupy`` and ``nvidia.nvcomp`` modules; ``synced`` logs each stream waited on."""
    synced: list[int] = []
    current = threading.local()
    cuda = types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=lambda: 1, getDevice=lambda: 0),
        get_current_stream=lambda: _Stream(getattr(current, "ptr", 0), synced),
        ExternalStream=lambda ptr: _Stream(ptr, synced),
    )
    cupy = types.ModuleType("cupy")
    cupy.cuda, cupy.uint8 = cuda, "uint8"
    nvcomp = types.ModuleType("nvidia.nvcomp")
    nvcomp.Codec = _Codec
    nvcomp.BitstreamKind = types.SimpleNamespace(RAW="RAW")
    nvidia = types.ModuleType("nvidia")
    nvidia.nvcomp = nvcomp
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "nvidia", nvidia)
    monkeypatch.setitem(sys.modules, "nvidia.nvcomp", nvcomp)
    return types.SimpleNamespace(ops=cuda_ops.CudaOps(), synced=synced, current=current)


def test_codec_is_raw_and_runs_on_the_current_stream(fakes):
    codec = fakes.ops._codec("zstd")
    assert codec.kwargs == {"algorithm": "zstd", "bitstream_kind": "RAW", "cuda_stream": 0}
    assert fakes.ops._codec("zstd") is codec
    assert fakes.ops._codec("lz4") is not codec
    fakes.current.ptr = 0x7F00
    on_stream = fakes.ops._codec("zstd")
    assert on_stream is not codec and on_stream.kwargs["cuda_stream"] == 0x7F00


def test_each_thread_gets_its_own_codec(fakes):
    mine = fakes.ops._codec("deflate")
    theirs = []
    worker = threading.Thread(target=lambda: theirs.append(fakes.ops._codec("deflate")))
    worker.start()
    worker.join()
    assert theirs[0] is not mine and theirs[0].kwargs == mine.kwargs


def test_codec_cache_stays_bounded_as_streams_come_and_go(fakes):
    for ptr in range(1, 3 * cuda_ops._CODECS_PER_THREAD):
        fakes.current.ptr = ptr
        fakes.ops._codec("zstd")
    assert len(fakes.ops._thread.codecs) <= cuda_ops._CODECS_PER_THREAD


@pytest.mark.parametrize(("stream", "expected"), [(None, None), (0, None), (1, 0), (2, 2), (0x5000, 0x5000)])
def test_cai_stream_names_the_producer(stream, expected):
    assert cuda_ops._cai_stream(_Result(stream)) == expected
    assert cuda_ops._cai_stream(object()) is None


def test_results_on_another_stream_are_waited_for(fakes):
    fakes.current.ptr = 0x10
    fakes.ops._await_producers([_Result(0x20), _Result(0x20)])
    assert fakes.synced == [0x20, 0x10]  # the producer's stream, then the current one


def test_results_on_the_current_stream_need_one_wait(fakes):
    fakes.ops._await_producers([_Result(1), _Result(1)])  # 1: the legacy default stream, ptr 0
    assert fakes.synced == [0]
    fakes.synced.clear()
    fakes.ops._await_producers([])
    assert fakes.synced == [0]


def _host_view(array) -> np.ndarray:
    """What ``cupy.asarray`` makes of an nvCOMP array: a view of its bytes (here on the host)."""
    address, nbytes = span(array)
    return np.ctypeslib.as_array((ctypes.c_uint8 * nbytes).from_address(address))


def _zstd():
    import numcodecs

    return numcodecs.Zstd(level=1)


@pytest.fixture
def host_nvcomp(fakes, monkeypatch):
    """``fakes`` with the nvCOMP stand-in above; device buffers are host NumPy buffers."""
    calls: list = []
    nvcomp = FakeNvcomp(calls)
    monkeypatch.setattr(fakes.ops, "_nvcomp", nvcomp)
    monkeypatch.setattr(fakes.ops, "_wrap", lambda address, nbytes: NvcompArray(int(address), int(nbytes)))
    fakes.calls, fakes.nvcomp = calls, nvcomp
    return fakes


def _staged(chunks: list[np.ndarray], pad: int = 16):
    """Compressed ``chunks`` packed into one host buffer (as in staging) and one output buffer."""
    streams = [_zstd().encode(c.tobytes()) for c in chunks]
    pitch = [-(-len(b) // pad) * pad for b in streams]
    src = np.zeros(sum(pitch), np.uint8)
    offsets = np.concatenate([[0], np.cumsum(pitch)[:-1]]).astype(np.int64)
    for off, b in zip(offsets, streams):
        src[off : off + len(b)] = np.frombuffer(b, np.uint8)
    raw = chunks[0].nbytes
    out = np.zeros(raw * len(chunks), np.uint8)
    table = np.zeros(len(chunks), d.STREAM)
    table["src"] = np.uint64(src.ctypes.data) + offsets.astype(np.uint64)
    table["src_size"] = [len(b) for b in streams]
    table["dst"] = np.uint64(out.ctypes.data) + np.arange(len(chunks), dtype=np.uint64) * np.uint64(raw)
    table["dst_size"] = raw
    return src, out, table


CHUNKS = [np.arange(i, i + 256, dtype="<f4") for i in range(0, 1280, 256)]


@pytest.mark.parametrize("mode", ["parse", "sizes"])
def test_decode_runs_one_batch_into_the_output(host_nvcomp, mode):
    src, out, table = _staged(CHUNKS)
    with cuzarr.config.set(nvcomp_decode_config=mode):
        sizes = host_nvcomp.ops.decompress_streams("zstd", table)
    assert sizes.tolist() == [CHUNKS[0].nbytes] * len(CHUNKS)
    np.testing.assert_array_equal(out.view("<f4"), np.concatenate(CHUNKS))
    decodes = [c for c in host_nvcomp.calls if c[0] == "Codec.decode"]
    assert len(decodes) == 1  # one call for the whole batch
    configs = [c[1][0] for c in host_nvcomp.calls if c[0] == "Codec.decompression_config"]
    assert all(isinstance(c, CompressConfig if mode == "sizes" else BatchArray) for c in configs)
    assert host_nvcomp.ops._offsets_form is True


def test_a_corrupt_stream_is_found_by_decoding_chunk_by_chunk(host_nvcomp):
    src, out, table = _staged(CHUNKS)
    bad = 2
    start = int(table["src"][bad]) - src.ctypes.data
    src[start : start + int(table["src_size"][bad])] = 0xAB
    sizes = host_nvcomp.ops.decompress_streams("zstd", table)
    assert sizes[bad] == -1 and (np.delete(sizes, bad) == CHUNKS[0].nbytes).all()


def test_encode_returns_sizes_and_copies_what_fits(host_nvcomp, monkeypatch):
    launched = []
    monkeypatch.setattr(host_nvcomp.ops, "launch", lambda kernel, table: launched.append((kernel, table)))
    monkeypatch.setattr(host_nvcomp.ops, "address", lambda array: int(array.ctypes.data))
    monkeypatch.setattr(host_nvcomp.ops._cupy, "asarray", _host_view, raising=False)
    host = np.concatenate(CHUNKS).view(np.uint8)
    table = np.zeros(len(CHUNKS), d.STREAM)
    table["src"] = np.uint64(host.ctypes.data) + np.arange(len(CHUNKS), dtype=np.uint64) * np.uint64(1024)
    table["src_size"] = 1024
    table["dst_size"] = [4096, 4096, 1, 4096, 4096]  # the third cannot fit: -1, and not copied
    sizes = host_nvcomp.ops.compress_streams("zstd", table, level=1)
    expected = [len(_zstd().encode(c.tobytes())) for c in CHUNKS]
    assert sizes.tolist() == [n if i != 2 else -1 for i, n in enumerate(expected)]
    ((kernel, copies),) = launched
    assert kernel == "batch_memcpy" and copies["nbytes"].tolist() == [
        n for i, n in enumerate(expected) if i != 2
    ]


@pytest.mark.parametrize(("skew", "fail"), [(0, False), (8, False), (0, True)])
def test_batch_arrays_take_one_wrapper_when_nvcomp_gives_what_was_asked(host_nvcomp, monkeypatch, skew, fail):
    forms = []
    real = host_nvcomp.nvcomp.as_arrays

    def as_arrays(*args, **kwargs):
        forms.append("list" if len(args) == 1 else "offsets")
        if len(args) == 3:
            if fail:
                raise TypeError("as_arrays(): incompatible function arguments")
            return real(args[0], [o + skew for o in args[1]], args[2], **kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(host_nvcomp.nvcomp, "as_arrays", as_arrays)
    rows = (np.array([0x1000, 0x5000, 0x2000], np.uint64), np.array([16, 32, 8], np.int64))
    works = skew == 0 and not fail
    for _ in range(2):
        batch = host_nvcomp.ops._batch_arrays(*rows)
        assert isinstance(batch, BatchArray)  # what decode and encode bind, never a list
        assert [span(batch[i])[0] for i in range(len(batch))] == rows[0].tolist()
        assert batch.buffer_sizes == rows[1].tolist()
    assert host_nvcomp.ops._offsets_form is works
    # the short form once checked and kept, or tried once and given up for the per-row form
    assert forms == (["offsets", "offsets"] if works else ["offsets", "list", "list"])


# -- the stand-in's calls against the real nvCOMP binding ------------------------------------------

_PARAM = re.compile(r"(\w+): ([\w.\[\]]+)( = .+)?$")


def _overloads(function) -> list[list[tuple[str, str, bool]]]:
    """``(name, type, has_default)`` lists, one per overload, from a pybind11 docstring."""
    name = function.__name__
    found = []
    for line in (function.__doc__ or "").splitlines():
        match = re.match(rf"\s*(?:\d+\.\s*)?{name}\((.*)\) -> ", line)
        if match:
            params = [_PARAM.match(p.strip()) for p in match.group(1).split(", ") if p.strip()]
            found.append(
                [(m.group(1), m.group(2), bool(m.group(3))) for m in params if m and m.group(1) != "self"]
            )
    return found


def _type_fits(value, annotation: str) -> bool:
    short = annotation.rsplit(".", 1)[-1]
    if short in ("object",):
        return True
    if short in ("BatchArray", "Array", "CompressConfig", "DecompressConfig"):
        return type(value).__name__.removeprefix("Nvcomp") == short or value is None
    if short == "list[int]":
        return isinstance(value, list) and all(isinstance(v, int) for v in value)
    if short == "list[object]":
        return isinstance(value, list)
    return {"int": int, "str": str, "bool": bool}.get(short, object) is object or isinstance(
        value, {"int": int, "str": str, "bool": bool}[short]
    )


def _binds(overload, args, kwargs) -> bool:
    if len(args) > len(overload):
        return False
    bound = {}
    for (name, annotation, _), value in zip(overload, args):
        if not _type_fits(value, annotation):
            return False
        bound[name] = value
    by_name = {name: (annotation, default) for name, annotation, default in overload}
    for name, value in kwargs.items():
        if name not in by_name or name in bound or not _type_fits(value, by_name[name][0]):
            return False
        bound[name] = value
    return all(name in bound or default for name, _, default in overload)


def test_calls_bind_to_the_real_nvcomp(host_nvcomp, monkeypatch):
    """Every call CudaOps makes binds to an overload of nvCOMP 6's real Python binding (which
    imports without a GPU): argument names, counts and nvCOMP types, e.g. a ``BatchArray``
    where a plain list would raise ``TypeError`` on the device."""
    real = REAL_NVCOMP or pytest.skip("nvidia-nvcomp-cu13 is not installed")
    monkeypatch.setattr(host_nvcomp.ops, "launch", lambda kernel, table: None)
    monkeypatch.setattr(host_nvcomp.ops, "address", lambda array: int(array.ctypes.data))
    monkeypatch.setattr(host_nvcomp.ops._cupy, "asarray", _host_view, raising=False)
    for mode, offsets_form in (("parse", None), ("sizes", None), ("parse", False)):
        host_nvcomp.ops._offsets_form = offsets_form  # False: the per-row form too
        src, out, table = _staged(CHUNKS)  # src and out hold the memory the table points at
        with cuzarr.config.set(nvcomp_decode_config=mode):
            host_nvcomp.ops.decompress_streams("zstd", table)
        del src, out
    assert host_nvcomp.ops.alignment("deflate") == (16, 16) and host_nvcomp.ops.alignment("zstd") == (8, 8)
    host = np.concatenate(CHUNKS).view(np.uint8)
    table = np.zeros(1, d.STREAM)
    table["src"], table["src_size"], table["dst_size"] = host.ctypes.data, host.size, 2 * host.size
    host_nvcomp.ops.compress_streams("zstd", table, level=1)

    codec_args = set(re.findall(r"^\s{16}(\w+):", real.Codec.__init__.__doc__, re.M))
    seen = set()
    for name, args, kwargs in host_nvcomp.calls:
        seen.add(name)
        if name == "Codec.__init__":
            assert set(kwargs) <= codec_args, f"nvcomp.Codec takes no {set(kwargs) - codec_args}"
            continue
        owner, _, attr = name.rpartition(".")
        function = getattr(real.Codec if owner == "Codec" else real, attr)
        overloads = _overloads(function)
        assert overloads, f"no signature found in nvcomp's {name} docstring"
        assert any(_binds(o, args, kwargs) for o in overloads), (
            f"{name}{args, kwargs} binds to none of {overloads}"
        )
    assert seen >= {
        "as_arrays",
        "Codec.__init__",
        "Codec.decode",
        "Codec.decompression_config",
        "Codec.compression_config",
        "Codec.encode",
        "Codec.get_required_decompression_alignment",
        "Codec.get_required_compression_alignment",
    }


def test_nvcomp_decode_config_is_parse_or_sizes():
    assert cuzarr.config.get("nvcomp_decode_config") == "parse"  # the way the H100 prototype ran
    with pytest.raises(ValueError, match="nvcomp_decode_config must be one of"):
        cuzarr.config.set(nvcomp_decode_config="guess")
