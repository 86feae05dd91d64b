"""``DeviceBackend``: the GPU read/write path, written once over ``DeviceOps``.

``fetch`` stages a batch's compressed chunks in one pinned staging slot, ``decode_chunks`` runs each
codec of the chain as one batched device step (or the whole chain on the CPU, copying once per batch,
when a codec has no device implementation), ``encode_chunks`` mirrors it, and ``scatter`` is one
strided-copy launch driven by a descriptor table. ``EmulatedBackend`` (NumPy) and ``CUDABackend``
(CuPy) differ only in their ops, so the CPU test suite runs all of this logic.

Each batch step runs through ``gpu.recovery``: out of memory halves the batch and retries, any
other device failure releases the staging memory and names the batch's chunks.

Batched reads prefetch: ``fetch`` of batch i+1 runs on a pool thread while the caller decodes
batch i. Staging slots (``gpu/slots.py``) make that safe: a fetch takes a slot no batch holds,
the decode gives it back with an event after its host-to-device copy, and the next fetch into
it waits on that event. A read holds at most two slots; a failed decode, or a batch fetched
ahead and never decoded (``discard_fetched``), lets its slot's memory go.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..gpu import decode as device_decode
from ..gpu import encode as device_encode
from ..gpu.chain_plan import DevicePlan, plan_chain
from ..gpu.descriptors import MAX_DIMS, simplify_dims
from ..gpu.ops import DeviceOps
from ..gpu.recovery import run_in_parts
from ..gpu.slots import StagingSlots
from ..gpu.staging import StagedChunks, read_files, stage
from ..gpu.streams import NeedsFallback
from ..gpu.timings import PhaseTimes
from .base import Backend, all_equal_numpy

logger = logging.getLogger("cuzarr.gpu")


class DeviceBackend(Backend):
    """A ``Backend`` whose batch hooks run on a device through ``self.ops``."""

    prefetches_batches = True

    def __init__(self, ops: DeviceOps):
        self.ops = ops
        self.xp = ops.xp
        self._thread_state = threading.local()
        #: pinned staging buffers, lent to one batch at a time (any thread: fetches run on the pool)
        self.slots = StagingSlots(ops)
        self._plans: weakref.WeakKeyDictionary[Any, DevicePlan | str] = weakref.WeakKeyDictionary()
        self._warned: weakref.WeakSet[Any] = weakref.WeakSet()
        #: recoveries so far: ``oom_splits``, ``oom_retries``, ``oom_unstaged`` and ``device_errors``
        self.stats: Counter[str] = Counter()
        #: host seconds per phase (``fetch``, ``stage``, ``decode``, ``scatter``, ``encode``), for benchmarks
        self.timings = PhaseTimes()

    def release(self) -> None:
        """Let go of the free staging slots and the ops' cached blocks (after a failed batch).

        Slots held by batches in flight stay theirs; they are let go when those batches fail or
        are discarded, or cached again when they succeed.
        """
        self.slots.clear()
        self.ops.release_memory()

    def _in_parts(self, run: Any, keys: Sequence[str], action: str) -> list[Any]:
        return run_in_parts(run, keys, action=action, ops=self.ops, release=self.release, stats=self.stats)

    # -- arrays -----------------------------------------------------------------------------
    def supports_dtype(self, dtype: np.dtype) -> bool:
        """Whether arrays of ``dtype`` live on the device (others stay NumPy, e.g. strings, objects)."""
        return not np.dtype(dtype).hasobject

    def empty(self, shape: tuple[int, ...], dtype: np.dtype, order: str = "C") -> Any:
        xp = self.xp if self.supports_dtype(dtype) else np
        return xp.empty(shape, dtype=dtype, order=order)

    def full(self, shape: tuple[int, ...], fill_value: Any, dtype: np.dtype, order: str = "C") -> Any:
        if not self.supports_dtype(dtype):
            return np.full(shape, fill_value, dtype=dtype, order=order)
        out = self.xp.empty(shape, dtype=dtype, order=order)
        out[...] = np.asarray(fill_value, dtype=dtype) if self.xp is np else fill_value
        return out

    def is_backend_array(self, value: Any) -> bool:
        return isinstance(value, self.xp.ndarray)

    def all_equal(self, array: Any, value: Any) -> bool:
        if isinstance(array, np.ndarray):
            return all_equal_numpy(array, value)
        return all_equal_numpy(self.to_host(array), value)

    # -- the batched chunk path ---------------------------------------------------------------
    def fetch(self, store: Any, keys: Sequence[str]) -> StagedChunks | list[Any]:
        """Compressed chunks in one staging slot (parallel ``preadv`` for local files).

        Runs on a pool thread when the read prefetches. The slot is the batch's until
        ``decode_chunks`` (or ``discard_fetched``) gives it back. When no slot fits, the bytes
        stay in ordinary host memory and ``decode_chunks`` stages them in parts.
        """
        with self.timings.phase("fetch") as phase:
            fetched = self._fetch(store, keys)
            phase.nbytes = sum(0 if v is None else len(v) for v in fetched)
        return fetched

    def _fetch(self, store: Any, keys: Sequence[str]) -> StagedChunks | list[Any]:
        path_of = getattr(store, "path_of", None)
        local = path_of is not None and type(store).__name__ == "LocalStore"
        values = None if local else store.get_many(keys)
        if values is None:
            staged = self._staged_or_none(lambda: read_files(self.slots, [path_of(k) for k in keys]))
        else:
            staged = self._staged_or_none(lambda: stage(self.slots, values))
        if staged is not None:
            return staged
        return list(values if values is not None else store.get_many(keys))

    def _staged_or_none(self, stage_them: Callable[[], StagedChunks]) -> StagedChunks | None:
        """``stage_them()``, or ``None`` when staging memory ran out (counted; the free slots are
        let go, and the bytes stay in ordinary memory for ``decode_chunks`` to stage in parts)."""
        try:
            return stage_them()
        except Exception as exc:
            if self.ops.as_out_of_memory(exc) is None:
                raise
        self.stats["oom_unstaged"] += 1
        self.release()
        return None

    def fetch_chunks(self, source: Any, coords: Sequence[Any]) -> StagedChunks | list[Any]:
        """A chunk source's bytes in a staging slot: plain stores stage in ``fetch`` (timed as
        'fetch'); bytes a source read itself (shard ranges: timed as 'fetch' too) are copied into
        a slot here ('stage'). When no slot fits they stay as they are (``decode_chunks`` stages
        them in parts)."""
        start = time.perf_counter()
        encoded = source.fetch(self, coords)
        if isinstance(encoded, StagedChunks):
            return encoded
        nbytes = sum(0 if v is None else len(v) for v in encoded)
        self.timings.add("fetch", time.perf_counter() - start, nbytes)
        with self.timings.phase("stage", nbytes):
            staged = self._staged_or_none(lambda: stage(self.slots, encoded))
        return staged if staged is not None else encoded

    def discard_fetched(self, encoded: Any) -> None:
        """A fetched batch will not be decoded (the read failed): let its slot's memory go."""
        if isinstance(encoded, StagedChunks):
            encoded.give_back(keep=False)

    def _plan(self, codecs: Any) -> DevicePlan | str:
        try:
            plan = self._plans.get(codecs)
        except TypeError:
            return plan_chain(codecs)
        if plan is None:
            plan = plan_chain(codecs)
            self._plans[codecs] = plan
        return plan

    def _warn_fallback(self, codecs: Any, reason: str, action: str) -> None:
        try:
            if codecs in self._warned:
                return
            self._warned.add(codecs)
        except TypeError:
            pass
        logger.warning("%s on the CPU for %r: no device implementation of %s", action, codecs, reason)

    def decode_chunks(
        self,
        codecs: Any,
        encoded: Sequence[Any],
        *,
        keys: Sequence[str],
        outs: Sequence[Any] | None = None,
        writable: bool = True,
    ) -> list[Any]:
        """Decode a batch; a staged batch's slot is given back when this returns, and let go
        (not cached) when it raises. Results are always writable (``writable`` is for the host)."""
        staged = encoded if isinstance(encoded, StagedChunks) else None
        if staged is not None and staged.lease is not None:
            self.ops.note_staging("read", staged.lease.number)
        try:
            with self.timings.phase("decode", len(keys) * codecs.spec.nbytes):
                results = self._decode_chunks(codecs, encoded, keys, outs)
        except BaseException:
            if staged is not None:
                staged.give_back(keep=False)
            raise
        if staged is not None:
            staged.give_back()
        return results

    def _decode_chunks(
        self, codecs: Any, encoded: Sequence[Any], keys: Sequence[str], outs: Sequence[Any] | None
    ) -> list[Any]:
        spec = codecs.spec
        if not self.supports_dtype(spec.dtype):
            if not isinstance(encoded, StagedChunks):
                return codecs.decode_batch(list(encoded), keys=keys, outs=outs)
            # host decoders may return views of their input, and the slot is reused once this
            # returns: decode from copies of the (compressed) bytes
            return codecs.decode_batch(
                [None if v is None else bytes(v) for v in encoded], keys=keys, outs=outs
            )
        if len(keys) != len(encoded) or (outs is not None and len(outs) != len(encoded)):
            raise ValueError(f"got {len(encoded)} chunks, {len(keys)} keys and {len(outs or [])} outs")
        targets = list(outs) if outs is not None else [None] * len(encoded)
        for out in targets:
            if out is not None and tuple(out.shape) != tuple(spec.shape):
                raise ValueError(f"out must have the chunk shape {spec.shape}, got {out.shape}")
        plan = self._plan(codecs)

        def run(start: int, stop: int) -> list[Any]:
            if isinstance(encoded, StagedChunks):
                staged = encoded.part(start, stop) if (start, stop) != (0, len(encoded)) else encoded
                return self._decode_part(codecs, plan, staged, targets[start:stop], keys[start:stop])
            staged = stage(self.slots, encoded[start:stop])
            try:
                results = self._decode_part(codecs, plan, staged, targets[start:stop], keys[start:stop])
            except BaseException:
                staged.give_back(keep=False)
                raise
            staged.give_back()
            return results

        results = self._in_parts(run, keys, "decoding")
        # names for a failing scatter of this batch (which is handed arrays, not keys)
        self._thread_state.decoded = {id(r): k for r, k in zip(results, keys) if r is not None}
        return results

    def _decode_part(
        self, codecs: Any, plan: DevicePlan | str, staged: StagedChunks, outs: list[Any], keys: Sequence[str]
    ) -> list[Any]:
        with self.ops.scope():
            if isinstance(plan, DevicePlan):
                try:
                    return device_decode.decode_batch(self.ops, plan, staged, outs, keys)
                except NeedsFallback as exc:
                    plan = str(exc)
            self._warn_fallback(codecs, plan, "decoding")
            return device_decode.decode_on_cpu(self.ops, codecs, staged, outs, keys)

    def encode_chunks(self, codecs: Any, chunks: Sequence[Any], *, keys: Sequence[str]) -> list[Any]:
        spec = codecs.spec
        if not self.supports_dtype(spec.dtype):
            return codecs.encode_batch([self.to_host(c) for c in chunks], keys=keys)
        if len(keys) != len(chunks):
            raise ValueError(f"got {len(chunks)} chunks and {len(keys)} keys")
        for key, chunk in zip(keys, chunks):
            if tuple(chunk.shape) != tuple(spec.shape):
                raise ValueError(
                    f"chunk {key!r} has shape {tuple(chunk.shape)}, expected {tuple(spec.shape)}"
                )
        plan = self._plan(codecs)
        with self.timings.phase("encode", len(keys) * spec.nbytes):
            return self._in_parts(
                lambda start, stop: self._encode_part(codecs, plan, chunks[start:stop], keys[start:stop]),
                keys,
                "encoding",
            )

    def _encode_part(
        self, codecs: Any, plan: DevicePlan | str, chunks: Sequence[Any], keys: Sequence[str]
    ) -> list[Any]:
        with self.ops.scope():
            if isinstance(plan, DevicePlan) and plan.encode_reason is None:
                return device_encode.encode_batch(self.ops, plan, chunks, keys)
            reason = plan if isinstance(plan, str) else plan.encode_reason
            self._warn_fallback(codecs, str(reason), "encoding")
            spec = codecs.spec
            shape_only = DevicePlan(
                tuple(spec.shape), np.dtype(spec.dtype), tuple(range(len(spec.shape))), 0, (), None
            )
            return device_encode.encode_on_cpu(self.ops, codecs, shape_only, chunks, keys)

    def scatter(
        self,
        out: Any,
        chunks: Sequence[Any],
        chunk_selections: Sequence[tuple],
        out_selections: Sequence[tuple],
    ) -> None:
        """``out[out_sel] = chunk[chunk_sel]`` for the whole batch in one ``copy_strided`` launch.

        Only slice selections give views to copy into; index arrays (orthogonal and coordinate
        selections) take the generic path, since ``out[array]`` would be a copy.
        """
        if not all(_is_view_selection(sel) for sel in out_selections):
            super().scatter(out, chunks, chunk_selections, out_selections)
            return
        pairs = [(c[cs], out[os]) for c, cs, os in zip(chunks, chunk_selections, out_selections)]
        device = all(
            isinstance(s, self.xp.ndarray)
            and isinstance(t, self.xp.ndarray)
            and s.dtype == t.dtype
            and self.supports_dtype(s.dtype)  # strings/objects are Python references, not bytes
            and s.shape == t.shape
            and len(simplify_dims(s.shape, s.strides, t.strides)) <= MAX_DIMS
            for s, t in pairs
        )
        if not device:
            super().scatter(out, chunks, chunk_selections, out_selections)
            return

        def run(start: int, stop: int) -> list[None]:
            with self.ops.scope():
                device_decode.copy_into(self.ops, pairs[start:stop])
            return [None] * (stop - start)

        with self.timings.phase("scatter", sum(int(t.nbytes) for _, t in pairs)):
            self._in_parts(run, self._names_of(chunks), "scattering")

    def _names_of(self, chunks: Sequence[Any]) -> list[str]:
        """Chunk keys of arrays returned by this thread's last ``decode_chunks`` (for errors)."""
        decoded = getattr(self._thread_state, "decoded", {})
        return [decoded.get(id(c), f"<decoded chunk {i}>") for i, c in enumerate(chunks)]


def _is_view_selection(selection: tuple) -> bool:
    """Whether indexing with ``selection`` returns a view (slices, ints and Ellipsis only)."""
    return all(isinstance(item, (slice, int)) or item is Ellipsis for item in selection)
