"""``CudaOps``: ``DeviceOps`` on CuPy, ``cupy.RawModule`` kernels from ``kernels/*.cu`` and nvCOMP.

Thin on purpose: every decision lives in the shared code that the emulated backend tests.
CuPy and nvCOMP are imported when a ``CudaOps`` is made, never at module import.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np

from ..config import config
from . import descriptors as d
from .ops import DeviceOps

logger = logging.getLogger("cuzarr.gpu")

_KERNEL_FILES = {
    "batch_memcpy": "scatter.cu",
    "copy_strided": "scatter.cu",
    "byte_unshuffle": "shuffle.cu",
    "byte_shuffle": "shuffle.cu",
    "bit_unshuffle": "bitshuffle.cu",
    "bit_shuffle": "bitshuffle.cu",
    "byteswap": "byteswap.cu",
    "checksum_batch": "checksum.cu",
}
#: Column of each kernel's table that bounds the work per descriptor (sizes the x grid).
_WORK = {"batch_memcpy": "nbytes", "copy_strided": "nelems", "byteswap": "nitems"}
_NVCOMP_NAMES = {"lz4": "lz4", "zstd": "zstd", "deflate": "deflate"}
#: Codecs a thread keeps, one per (codec, stream): more means streams come and go; start afresh.
_CODECS_PER_THREAD = 16
#: ``__cuda_array_interface__`` stream values that name the legacy and per-thread default streams.
_CAI_SPECIAL_STREAMS = {1: 0, 2: 2}


def kernel_dir() -> Path:
    """Where the ``.cu`` sources are: ``$CUZARR_KERNELS``, the repository's ``kernels/``, or package data."""
    here = Path(__file__).resolve()
    for candidate in (os.environ.get("CUZARR_KERNELS"), here.parents[3] / "kernels", here.parent / "kernels"):
        if candidate and (Path(candidate) / "scatter.cu").is_file():
            return Path(candidate)
    raise RuntimeError(
        "cannot find the cuzarr CUDA kernel sources (set CUZARR_KERNELS to the kernels/ folder)"
    )


class CudaOps(DeviceOps):
    name = "cuda"

    def __init__(self) -> None:
        try:
            import cupy
            from nvidia import nvcomp
        except ImportError as exc:
            raise RuntimeError(
                f"device='cuda' needs CuPy and nvCOMP: pip install 'cuzarr[gpu]' ({exc})"
            ) from exc
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("device='cuda' needs a CUDA GPU, and none is visible")
        self.xp = cupy
        self._cupy, self._nvcomp = cupy, nvcomp
        self._modules: dict[str, Any] = {}
        self._thread = threading.local()  # nvCOMP codecs are thread-local (its API guarantees)
        #: whether ``nvcomp.as_arrays(buffer, offsets, sizes)`` gives the arrays asked for (None: untried)
        self._offsets_form: bool | None = None
        self._alignments: dict[str, tuple[int, int]] = {}
        #: the device our buffers live on: wrapping an address then needs no pointer lookup
        self._device_id = int(cupy.cuda.runtime.getDevice())

    # -- memory ---------------------------------------------------------------------------------
    def empty(self, nbytes: int) -> Any:
        return self._cupy.empty(nbytes, dtype=self._cupy.uint8)

    def host_empty(self, nbytes: int) -> np.ndarray:
        memory = self._cupy.cuda.alloc_pinned_memory(max(nbytes, 1))
        return np.frombuffer(memory, np.uint8, nbytes)  # the array keeps the pinned block alive

    def address(self, array: Any) -> int:
        return int(array.data.ptr)

    def scope(self) -> AbstractContextManager[Any]:
        return contextlib.nullcontext()

    def to_device(self, host: np.ndarray, out: Any) -> None:
        """Queue the copy on the calling thread's current stream; from pinned memory it runs
        asynchronously, so callers keep ``host`` until an event recorded after it has passed."""
        if host.size:
            out.set(host, stream=self._cupy.cuda.get_current_stream())

    def to_host(self, device: Any, out: np.ndarray) -> None:
        if out.size:
            device.get(out=out)
        self.synchronize()

    def synchronize(self) -> None:
        self._cupy.cuda.get_current_stream().synchronize()

    def record_event(self) -> Any:
        """An event on the calling thread's current stream, after everything queued on it so far.

        Ordering of a read (all device work of one thread runs on its current stream):
        the fetch of batch i+1 (pool thread) fills a pinned slot -> the decode of batch i+1
        (caller thread) queues the H2D copy from the slot and records event E right after it ->
        the slot is given back with E -> whoever takes the slot next (often the fetch of batch
        i+3 on a pool thread) blocks on E before writing. E follows only the copy, not the
        decode kernels queued after it, so refilling a slot never waits for a decode.
        """
        cp = self._cupy
        event = cp.cuda.Event(block=False, disable_timing=True)
        event.record(cp.cuda.get_current_stream())
        return event

    def wait_event(self, event: Any) -> None:
        if event is not None:
            event.synchronize()

    def release_memory(self) -> None:
        """Free the pools' cached blocks: after an out-of-memory error they are what the retry needs."""
        cp = self._cupy
        with contextlib.suppress(Exception):  # a sticky CUDA error makes this fail; the caller raises
            cp.cuda.get_current_stream().synchronize()
        cp.get_default_memory_pool().free_all_blocks()
        cp.get_default_pinned_memory_pool().free_all_blocks()

    def _wrap(self, address: int, nbytes: int) -> Any:
        cp = self._cupy
        memory = cp.cuda.UnownedMemory(int(address), int(nbytes), None, self._device_id)
        return cp.ndarray((int(nbytes),), cp.uint8, cp.cuda.MemoryPointer(memory, 0))

    # -- kernels ------------------------------------------------------------------------------------
    def _function(self, name: str) -> Any:
        source = _KERNEL_FILES[name]
        module = self._modules.get(source)
        if module is None:
            code = (kernel_dir() / source).read_text()
            module = self._cupy.RawModule(code=code, options=("-std=c++17",))
            self._modules[source] = module
        return module.get_function(name)

    def _table(self, table: np.ndarray) -> Any:
        return self._cupy.asarray(np.ascontiguousarray(table).view(np.uint8))

    def launch(self, kernel: str, table: np.ndarray) -> None:
        if not len(table):
            return
        work = int(table[_WORK.get(kernel, "nbytes")].max())
        grid, block = d.launch_grid(len(table), work)
        self._function(kernel)(grid, block, (self._table(table), np.int64(len(table))))

    def checksum(self, table: np.ndarray, kind: int) -> tuple[np.ndarray, np.ndarray]:
        cp, n = self._cupy, len(table)
        if not n:
            return np.zeros(0, np.uint32), np.zeros(0, np.uint8)
        values, ok = cp.zeros(n, cp.uint32), cp.zeros(n, cp.uint8)
        fn = self._function("checksum_batch")
        fn(
            (min(n, 65535),),
            (d.CHECKSUM_THREADS,),
            (self._table(table), np.int64(n), np.int32(kind), values, ok),
        )
        return values.get(), ok.get()

    # -- nvCOMP ---------------------------------------------------------------------------------------
    def _codec(self, codec: str) -> Any:
        """This thread's nvCOMP codec on this thread's current stream.

        nvCOMP forbids sharing a ``Codec`` between threads, and a codec made without
        ``cuda_stream`` runs on a stream of its own, unordered with the copies and kernels that
        feed it: so each thread gets its own codec per current stream.
        """
        stream = int(self._cupy.cuda.get_current_stream().ptr)
        cache = getattr(self._thread, "codecs", None)
        if cache is None or len(cache) >= _CODECS_PER_THREAD:
            cache = self._thread.codecs = {}
        found = cache.get((codec, stream))
        if found is None:
            nv = self._nvcomp
            found = nv.Codec(
                algorithm=_NVCOMP_NAMES[codec], bitstream_kind=nv.BitstreamKind.RAW, cuda_stream=stream
            )
            cache[(codec, stream)] = found
        return found

    def _await_producers(self, batch: Any) -> None:
        """Wait for the stream nvCOMP names in a result batch's ``__cuda_array_interface__``.

        It is the codec's stream (this thread's current one) when nvCOMP honours
        ``cuda_stream``; another stream named there is waited on too, so the kernels queued
        after the decode never read output that is still being written. One call writes a
        whole batch on one stream, so the first entry names it for all.
        """
        cp, current = self._cupy, int(self._cupy.cuda.get_current_stream().ptr)
        stream = _cai_stream(batch[0]) if len(batch) else None
        if stream is not None and stream != current:
            cp.cuda.ExternalStream(stream).synchronize()
        self.synchronize()

    def _batch_arrays(self, addresses: np.ndarray, sizes: np.ndarray) -> Any:
        """An ``nvcomp.BatchArray`` over ``(address, size)`` rows: what ``Codec.decode`` and
        ``encode`` take (nvCOMP 6 binds no plain list of arrays there).

        One CuPy wrapper spanning all rows plus offsets when nvCOMP takes that form (it did on
        the H100: ``as_arrays(buffer, offsets, sizes)``), else one wrapper per row, which costs
        ~30 us of Python per chunk. The first result of the short form is checked pointer by
        pointer; any difference, or an error, falls back to the per-row form for good. The
        arrays name this thread's current stream, the one their bytes were written on.
        """
        nv, stream = self._nvcomp, int(self._cupy.cuda.get_current_stream().ptr)
        if self._offsets_form is not False and len(addresses):
            base = int(addresses.min())
            span = self._wrap(base, int((addresses + sizes.astype(np.uint64)).max()) - base)
            offsets = (addresses - np.uint64(base)).astype(np.int64)
            try:
                arrays = nv.as_arrays(
                    span, offsets.tolist(), sizes.astype(np.int64).tolist(), cuda_stream=stream
                )
                if self._offsets_form is None:
                    self._offsets_form = _arrays_match(arrays, addresses, sizes)
                    if not self._offsets_form:
                        logger.info("nvcomp.as_arrays(buffer, offsets, sizes) differs: one array per chunk")
                if self._offsets_form:
                    return arrays
            except Exception as exc:  # another nvCOMP version: the per-row form always works
                if self.as_out_of_memory(exc) is not None:
                    raise
                self._offsets_form = False
                logger.info("nvcomp.as_arrays(buffer, offsets, sizes) failed (%s): one array per chunk", exc)
        wrappers = [self._wrap(a, n) for a, n in zip(addresses.tolist(), sizes.tolist())]
        return nv.as_arrays(wrappers, cuda_stream=stream)

    def _decompression_config(self, nvc: Any, src: Any, sizes: np.ndarray) -> Any:
        """nvCOMP's description of a batch's decoded sizes.

        ``"parse"`` (config ``nvcomp_decode_config``) lets nvCOMP read them from the streams:
        a stream sync, and for RAW LZ4 and deflate, which store no size, a whole
        decode-without-output pass. ``"sizes"`` passes the sizes the chunk grid already fixes,
        which nvCOMP documents as sync-free; a stream that decodes to another size must then
        be caught by nvCOMP's per-chunk status (the GPU suite checks both ways).
        """
        if config.get("nvcomp_decode_config") == "sizes" and len(sizes) and int(sizes.min()) > 0:
            return nvc.decompression_config(nvc.compression_config([int(n) for n in sizes.tolist()]))
        return nvc.decompression_config(src)

    def _decode(self, codec: str, rows: np.ndarray) -> list[int]:
        nvc = self._codec(codec)
        src = self._batch_arrays(rows["src"], rows["src_size"])
        dst = self._batch_arrays(rows["dst"], rows["dst_size"])
        decode_config = self._decompression_config(nvc, src, rows["dst_size"])
        decoded = nvc.decode(src, out=dst, decompression_config=decode_config)
        result = dst if decoded is None else decoded
        self._await_producers(result)
        return _entry_sizes(result)

    def decompress_streams(self, codec: str, table: np.ndarray) -> np.ndarray:
        try:
            return np.asarray(self._decode(codec, table), np.int64)
        except Exception as exc:
            if self.as_out_of_memory(exc) is not None:
                raise  # not a bad stream: the backend halves the batch and retries
        sizes = np.full(len(table), -1, np.int64)  # find the bad stream(s): only on the error path
        for i in range(len(table)):
            try:
                sizes[i] = self._decode(codec, table[i : i + 1])[0]
            except Exception as exc:
                if self.as_out_of_memory(exc) is not None:
                    raise
        return sizes

    def compress_streams(self, codec: str, table: np.ndarray, level: int) -> np.ndarray:
        nvc = self._codec(codec)
        encoded = nvc.encode(self._batch_arrays(table["src"], table["src_size"]))
        self._await_producers(encoded)
        sizes = np.array(_entry_sizes(encoded), np.int64)
        pieces = [
            self._cupy.asarray(encoded[i]).view(self._cupy.uint8).reshape(-1) for i in range(len(encoded))
        ]
        fits = sizes <= table["dst_size"]
        copy = d.table(
            d.COPY,
            src=[self.address(p) for p, f in zip(pieces, fits) if f],
            dst=table["dst"][fits],
            nbytes=sizes[fits],
        )
        self.launch("batch_memcpy", copy)
        self.synchronize()
        return np.where(fits, sizes, -1)

    def alignment(self, codec: str) -> tuple[int, int]:
        """What nvCOMP requires of ``codec``'s buffer addresses (the stricter of its compression
        and decompression needs, for input and output alike), asked once per codec."""
        found = self._alignments.get(codec)
        if found is None:
            nvc = self._codec(codec)
            n = max(nvc.get_required_decompression_alignment(), nvc.get_required_compression_alignment(), 1)
            found = self._alignments[codec] = (int(n), int(n))
        return found


def _cai_stream(array: Any) -> int | None:
    """The stream an array's producer wrote it on, from its ``__cuda_array_interface__``
    (``None`` when it names none: nothing to wait for)."""
    try:
        stream = array.__cuda_array_interface__.get("stream")
    except Exception:  # a host array, or an object without the interface
        return None
    if not stream:
        return None
    return _CAI_SPECIAL_STREAMS.get(int(stream), int(stream))


def _entry_sizes(batch: Any) -> list[int]:
    """Byte size of every entry of an nvCOMP batch: ``buffer_sizes`` in one call where the
    batch has it (nvCOMP 6), else entry by entry."""
    sizes = getattr(batch, "buffer_sizes", None)
    if sizes is None:
        sizes = [batch[i].buffer_size for i in range(len(batch))]
    return [int(n) for n in sizes]


def _arrays_match(arrays: Any, addresses: np.ndarray, sizes: np.ndarray) -> bool:
    """Whether nvCOMP arrays start at ``addresses`` and hold ``sizes`` bytes, row by row."""
    if len(arrays) != len(addresses) or _entry_sizes(arrays) != [int(n) for n in sizes.tolist()]:
        return False
    starts = [int(arrays[i].__cuda_array_interface__["data"][0]) for i in range(len(arrays))]
    return starts == [int(a) for a in addresses.tolist()]
