"""``CudaOps``' contract with nvCOMP, checked on CPU with stand-ins for CuPy and nvCOMP.

nvCOMP's Python API makes ``Codec`` thread-local and, without ``cuda_stream``, runs it on a
stream of its own: unordered with the host-to-device copy and the kernels around the decode.
These tests pin how ``CudaOps`` meets that, without a GPU (the GPU suite checks the results).
"""

from __future__ import annotations

import sys
import threading
import types

import numpy as np
import pytest

from cuzarr.gpu import cuda_ops


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
        runtime=types.SimpleNamespace(getDeviceCount=lambda: 1),
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
    fakes.ops._await_producers([_Result(0x20), _Result(0x20), _Result(0x10), _Result(None)])
    assert sorted(fakes.synced) == [0x10, 0x20]  # the foreign stream once, then the current one


def test_results_on_the_current_stream_need_one_wait(fakes):
    fakes.ops._await_producers([_Result(1), _Result(1)])  # 1: the legacy default stream, ptr 0
    assert fakes.synced == [0]


class _Device:
    """A device buffer as nvCOMP sees one: where it starts and how many bytes it holds."""

    def __init__(self, address: int, nbytes: int):
        self.__cuda_array_interface__ = {"data": (address, False), "shape": (nbytes,)}
        self.buffer_size = nbytes


def _as_arrays(skew: int = 0, fail: bool = False):
    """A stand-in for ``nvcomp.as_arrays``: a list of buffers, or one buffer with offsets and sizes
    (``skew`` shifts the arrays it makes that way, ``fail`` makes that form raise)."""
    calls = []

    def as_arrays(sources, offsets=None, sizes=None):
        calls.append("list" if offsets is None else "offsets")
        if offsets is None:
            return list(sources)
        if fail:
            raise TypeError("as_arrays(): incompatible function arguments")
        base = sources.__cuda_array_interface__["data"][0]
        return [_Device(base + o + skew, n) for o, n in zip(offsets, sizes)]

    return as_arrays, calls


ROWS = (np.array([0x1000, 0x5000, 0x2000], np.uint64), np.array([16, 32, 8], np.int64))


@pytest.mark.parametrize(("skew", "fail"), [(0, False), (8, False), (0, True)])
def test_batch_arrays_take_one_wrapper_when_nvcomp_gives_what_was_asked(fakes, monkeypatch, skew, fail):
    as_arrays, calls = _as_arrays(skew, fail)
    monkeypatch.setattr(sys.modules["nvidia.nvcomp"], "as_arrays", as_arrays, raising=False)
    monkeypatch.setattr(fakes.ops, "_wrap", lambda address, nbytes: _Device(int(address), int(nbytes)))
    works = skew == 0 and not fail
    for _ in range(2):
        arrays = fakes.ops._batch_arrays(*ROWS)
        assert [a.__cuda_array_interface__["data"][0] for a in arrays] == ROWS[0].tolist()
        assert [a.buffer_size for a in arrays] == ROWS[1].tolist()
    assert fakes.ops._offsets_form is works
    # the short form once checked and kept, or tried once and given up for the per-row form
    assert calls == (["offsets", "offsets"] if works else ["offsets", "list", "list"])
