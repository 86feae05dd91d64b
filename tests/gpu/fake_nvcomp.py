"""A stand-in for nvCOMP 6's Python API (``nvidia.nvcomp``) that really decodes, over host memory.

Batches hold ``(address, size)`` entries; "decoding" is ``cuzarr.gpu.cpu_streams`` (the
emulated backend's CPU codecs) read and written through those addresses with ctypes. Its
functions take what nvCOMP 6's take (a ``BatchArray``, never a plain list) and log every call:
``test_cuda_ops_glue.test_calls_bind_to_the_real_nvcomp`` checks the log against the real
binding's signatures. With ``fake_cupy`` it lets ``CudaOps`` run on a machine without a GPU.
"""

from __future__ import annotations

import ctypes
import types

import numpy as np

from cuzarr.gpu import cpu_streams


class NvcompArray:
    """An nvCOMP ``Array``: where its bytes start, how many, and the stream that wrote them."""

    def __init__(self, address: int, nbytes: int, stream: int = 0):
        self.__cuda_array_interface__ = {
            "data": (address, False),
            "shape": (nbytes,),
            "typestr": "|u1",
            "version": 3,
            "stream": stream,
        }
        self.buffer_size = nbytes


class BatchArray:
    """nvCOMP 6's batch: ``len``, indexing and ``buffer_sizes``, and nothing list-like beyond that."""

    def __init__(self, entries: list[NvcompArray]):
        self._entries = entries

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> NvcompArray:
        return self._entries[index]

    @property
    def buffer_sizes(self) -> list[int]:
        return [e.buffer_size for e in self._entries]


class CompressConfig:
    def __init__(self, sizes: list[int]):
        self.sizes = sizes


class DecompressConfig:
    def __init__(self, sizes: list[int]):
        self.sizes = sizes


def span(array) -> tuple[int, int]:
    """``(address, nbytes)`` of anything with a 1-d ``__cuda_array_interface__``."""
    interface = array.__cuda_array_interface__
    return int(interface["data"][0]), int(np.prod(interface["shape"])) * np.dtype(
        interface["typestr"]
    ).itemsize


def _bytes_at(array) -> np.ndarray:
    address, nbytes = span(array)
    return np.frombuffer(ctypes.string_at(address, nbytes), np.uint8)


def _need(value, kind, what: str) -> None:
    if not isinstance(value, kind):  # pybind11 refuses arguments of another type the same way
        raise TypeError(f"{what}(): incompatible function arguments: got {type(value).__name__}")


def lz4_block_size(block: np.ndarray) -> int:
    """Decoded size of a raw LZ4 block, found by walking its sequences (LZ4 stores no size:
    nvCOMP makes the same pass); ``ValueError`` when the block ends inside a sequence."""
    data, pos, total = block.tobytes(), 0, 0

    def length(start: int) -> tuple[int, int]:
        extra, at = 0, start
        while True:
            if at >= len(data):
                raise ValueError("LZ4 block ends inside a length")
            extra += data[at]
            at += 1
            if data[at - 1] != 255:
                return extra, at

    while pos < len(data):
        token = data[pos]
        pos += 1
        literals = token >> 4
        if literals == 15:
            extra, pos = length(pos)
            literals += extra
        pos += literals
        total += literals
        if pos >= len(data):
            if pos > len(data):
                raise ValueError("LZ4 block ends inside its literals")
            return total
        pos += 2  # match offset
        match = token & 15
        if match == 15:
            extra, pos = length(pos)
            match += extra
        total += match + 4
    raise ValueError("LZ4 block ends after a match")


_ALGORITHMS = {"zstd": "zstd", "lz4": "lz4", "deflate": "deflate"}


class FakeNvcomp:
    """The ``nvidia.nvcomp`` module: ``Codec``, ``as_arrays``, ``BitstreamKind``; ``calls`` logs them."""

    def __init__(self, calls: list | None = None):
        self.calls = [] if calls is None else calls
        self.BitstreamKind = types.SimpleNamespace(RAW="RAW")
        self.__version__ = "6.0.0 (stand-in)"
        self.keep: list = []
        nvcomp = self

        class Codec:
            def __init__(self, **kwargs):
                nvcomp.calls.append(("Codec.__init__", (), kwargs))
                self.kwargs = kwargs
                self.algorithm = _ALGORITHMS[kwargs["algorithm"]]

            def _decoded(self, array) -> bytes:
                """The stream decoded (corrupt input raises, as it does in nvCOMP)."""
                data = _bytes_at(array)
                size = lz4_block_size(data) if self.algorithm == "lz4" else 1 << 26
                return cpu_streams.decompress(self.algorithm, data, size)

            def decompression_config(self, source):
                nvcomp.calls.append(("Codec.decompression_config", (source,), {}))
                if isinstance(source, CompressConfig):
                    return DecompressConfig(source.sizes)
                _need(source, BatchArray, "decompression_config")
                return DecompressConfig([len(self._decoded(a)) for a in source._entries])

            def get_required_decompression_alignment(self):
                nvcomp.calls.append(("Codec.get_required_decompression_alignment", (), {}))
                return 8

            def get_required_compression_alignment(self):
                nvcomp.calls.append(("Codec.get_required_compression_alignment", (), {}))
                return 16 if self.algorithm == "deflate" else 4

            def compression_config(self, sizes):
                nvcomp.calls.append(("Codec.compression_config", (sizes,), {}))
                return CompressConfig(list(sizes))

            def decode(self, srcs, data_type="", out=None, decompression_config=None):
                nvcomp.calls.append(
                    ("Codec.decode", (srcs,), {"out": out, "decompression_config": decompression_config})
                )
                _need(srcs, BatchArray, "decode")
                _need(out, BatchArray, "decode")
                for src, dst in zip(srcs._entries, out._entries):
                    raw = self._decoded(src)
                    if len(raw) > dst.buffer_size:
                        raise ValueError("output buffer too small")
                    ctypes.memmove(span(dst)[0], raw, len(raw))
                    dst.buffer_size = len(raw)
                return out

            def encode(self, srcs, out=None, compression_config=None):
                nvcomp.calls.append(("Codec.encode", (srcs,), {}))
                _need(srcs, BatchArray, "encode")
                encoded = [
                    np.frombuffer(cpu_streams.compress(self.algorithm, _bytes_at(a), 1), np.uint8).copy()
                    for a in srcs._entries
                ]
                nvcomp.keep = encoded  # nvCOMP's own output memory, alive until the next encode
                return BatchArray([NvcompArray(e.ctypes.data, e.size) for e in encoded])

        self.Codec = Codec

    def as_arrays(self, *args, **kwargs):
        self.calls.append(("as_arrays", args, kwargs))
        stream = kwargs.get("cuda_stream", 0)
        if len(args) == 1:
            return BatchArray([NvcompArray(*span(a), stream) for a in args[0]])
        buffer, offsets, sizes = args
        base = span(buffer)[0]
        return BatchArray([NvcompArray(base + o, n, stream) for o, n in zip(offsets, sizes)])
