"""``CodecChain``: a validated, evolved Zarr v3 codec list that encodes/decodes batches of chunks.

One thread-pool task runs the whole chain for one chunk (decompress, deserialize, un-filter),
so each chunk stays in cache and numcodecs releases the GIL for the heavy parts. When the
caller hands an output view that is C-contiguous and no array->array codec reorders data, the
innermost compressor writes straight into that memory and the serializer is a no-op.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import CodecError, MetadataError
from ..parallel import min_parallel_items, split_for_pool
from .base import (
    ArrayArrayCodec,
    ArrayBytesCodec,
    BytesBytesCodec,
    BytesLike,
    ChunkSpec,
    Codec,
    check_decoded_size,
    raise_for_chunk,
    run_batch,
    with_key,
)
from .bytes import BytesCodec
from .registry import codec_from_json

#: Chunks up to this size decode (and encode) through a reused per-thread scratch buffer when the
#: output is not contiguous: no allocation or page faults per chunk, and the copy reads from cache.
SCRATCH_MAX_BYTES = 16 << 20
_scratch = threading.local()
#: Below this size a compressor that returns new memory (zstd) wins even when the output could be
#: filled in place: its reused context saves more than the copy costs (64 KiB: ~10%, 4 KiB: ~2x).
FRESH_DIRECT_MAX_BYTES = 256 << 10


def scratch_buffer(name: str, nbytes: int) -> np.ndarray:
    """This thread's reusable flat uint8 buffer ``name`` of exactly ``nbytes`` (grown on demand)."""
    buf = getattr(_scratch, name, None)
    if buf is None or buf.size < nbytes:
        buf = np.empty(max(nbytes, 1), np.uint8)
        setattr(_scratch, name, buf)
    return buf[:nbytes]


_KIND = {ArrayArrayCodec: "array->array", ArrayBytesCodec: "array->bytes", BytesBytesCodec: "bytes->bytes"}


def _kind(codec: Codec) -> str:
    for cls, name in _KIND.items():
        if isinstance(codec, cls):
            return name
    raise MetadataError(
        f"{codec!r} is not an array->array, array->bytes or bytes->bytes codec", field="codecs"
    )


def check_out(out: np.ndarray, spec: ChunkSpec) -> None:
    """Caller bugs (wrong shape, read-only output) are ValueErrors, not data errors."""
    if not isinstance(out, np.ndarray):
        raise ValueError(
            f"out must be a numpy array of shape {spec.shape}, got a {type(out).__name__} "
            "(for 0-d outputs pass arr[...], not arr[()], which is a scalar)"
        )
    if out.shape != tuple(spec.shape):
        raise ValueError(f"out must have the chunk shape {spec.shape}, got {out.shape}")
    if not out.flags.writeable:
        raise ValueError("out must be writable")


def no_alias(result: BytesLike, chunk: np.ndarray) -> BytesLike:
    """Copy an encoded result that still shares memory with the caller's chunk (stores may keep it)."""
    if isinstance(result, np.ndarray) and np.may_share_memory(result, chunk):
        return result.copy()
    return result


def _evolve_spec(kind: str, current: ChunkSpec, array_spec: ChunkSpec) -> ChunkSpec:
    """The spec a codec fills its defaults from. Filters see what they are given (a filter's
    ``dtype`` default must match its input). The serializer and compressors get the array's data
    type, as zarr-python fills them (``bytes`` endian, blosc ``typesize``, shuffle
    ``elementsize``): after a filter that changes the data type, the chunks stay byte-identical."""
    if kind == "array->array" or current.dtype == array_spec.dtype:
        return current
    return ChunkSpec(current.shape, array_spec.dtype, current.fill_value, current.order)


class CodecChain:
    """``[array->array*, array->bytes, bytes->bytes*]`` evolved for one chunk ``spec``."""

    def __init__(self, codecs: Sequence[Codec | dict[str, Any]], spec: ChunkSpec):
        spec = ChunkSpec(tuple(int(s) for s in spec.shape), np.dtype(spec.dtype), spec.fill_value, spec.order)
        parsed = [codec_from_json(c) for c in codecs]
        self._spec = spec
        self._aa: list[tuple[ArrayArrayCodec, ChunkSpec]] = []  # codec and the spec it decodes to
        self._bb: list[BytesBytesCodec] = []
        serializer: ArrayBytesCodec | None = None
        current = spec
        for i, codec in enumerate(parsed):
            kind = _kind(codec)
            where = f"codec #{i} {codec.codec_name!r} ({kind})"
            if kind == "array->array" and serializer is not None:
                raise MetadataError(f"{where} must come before the array->bytes codec", field="codecs")
            if kind == "array->bytes" and serializer is not None:
                raise MetadataError(
                    f"{where}: only one array->bytes codec is allowed, {serializer.codec_name!r} came first",
                    field="codecs",
                )
            if kind == "bytes->bytes" and serializer is None:
                raise MetadataError(f"{where} must come after the array->bytes codec", field="codecs")
            try:
                evolved = codec.evolve(_evolve_spec(kind, current, spec))
            except MetadataError as exc:
                if exc.field is not None or exc.source is not None:
                    raise
                raise MetadataError(f"{where}: {exc}", field="codecs") from exc
            except (TypeError, ValueError) as exc:
                raise MetadataError(f"{where}: {exc}", field="codecs") from exc
            if isinstance(evolved, ArrayArrayCodec):
                self._aa.append((evolved, current))
                current = evolved.resolve_spec(current)
            elif isinstance(evolved, ArrayBytesCodec):
                serializer = evolved
            else:
                self._bb.append(evolved)
        if serializer is None:
            raise MetadataError(
                "the codec list needs exactly one array->bytes codec (e.g. 'bytes')", field="codecs"
            )
        self._ab = serializer
        self._ab_spec = current
        self._encoded_size = serializer.encoded_size(current)
        self._in_place = isinstance(serializer, BytesCodec) and not self._aa
        # the common case (bytes serializer in native order, no filters, a compressor): a chunk's
        # bytes are its memory, so decode is one compressor call into the output (or scratch)
        self._plain = (
            self._in_place
            and bool(self._bb)
            and serializer.wire_dtype(current.dtype) == current.dtype
            and current.dtype.fields is None
            and not current.dtype.hasobject
        )
        self._nbytes = spec.nbytes
        # one compressor that returns new memory fast (zstd): see ``_decompress_fresh``
        self._fresh_decoder = self._plain and len(self._bb) == 1 and self._bb[0].decodes_fresh_fast

    @property
    def spec(self) -> ChunkSpec:
        return self._spec

    @property
    def codecs(self) -> tuple[Codec, ...]:
        """The evolved codecs (defaults such as blosc ``typesize`` filled in), in order."""
        return (*(c for c, _ in self._aa), self._ab, *self._bb)

    @property
    def filters(self) -> tuple[ArrayArrayCodec, ...]:
        return tuple(c for c, _ in self._aa)

    @property
    def serializer(self) -> ArrayBytesCodec:
        return self._ab

    @property
    def compressors(self) -> tuple[BytesBytesCodec, ...]:
        return tuple(self._bb)

    @property
    def has_array_array_codecs(self) -> bool:
        return bool(self._aa)

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.codecs]

    def __repr__(self) -> str:
        return f"CodecChain({list(self.codecs)!r}, {self._spec!r})"

    # -- one chunk ---------------------------------------------------------------------------

    def _direct(self, out: np.ndarray | None) -> bool:
        return self._in_place and out is not None and out.flags.c_contiguous and out.dtype == self._spec.dtype

    def decode(self, data: BytesLike, *, key: str | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """Decode one chunk (see ``decode_batch``); errors name ``key`` and the failing codec."""
        if out is not None:
            check_out(out, self._spec)
            if self._plain:
                return self._decode_plain(data, key, out)
        elif self._fresh_decoder and self._nbytes <= FRESH_DIRECT_MAX_BYTES:
            return self._decompress_fresh(data, key).copy()  # writable; still faster when small
        step: Codec = self._bb[-1] if self._bb else self._ab
        try:
            # the serializer fills ``out`` itself (one pass, byte swap included) unless filters follow
            serial_out = out if self._in_place else None
            direct = self._direct(out)
            for i in range(len(self._bb) - 1, -1, -1):
                step = self._bb[i]
                if i == 0 and self._encoded_size is not None:
                    target = (
                        out.reshape(-1).view(np.uint8) if direct else np.empty(self._encoded_size, np.uint8)
                    )
                    data = step.decode(data, self._ab_spec, out=target)
                else:
                    data = step.decode(data, self._ab_spec)
            step = self._ab
            arr = self._ab.decode(data, self._ab_spec, out=serial_out)
            for codec, decoded_spec in reversed(self._aa):
                step = codec
                arr = codec.decode(arr, decoded_spec)
            if out is None:
                return arr if arr.flags.writeable else arr.copy()
            if arr is not out:
                np.copyto(out, arr)
            return out
        except Exception as exc:
            raise_for_chunk(exc, key, step.codec_name, "decoding")

    def _decode_plain(self, data: BytesLike, key: str | None, out: np.ndarray) -> np.ndarray:
        """Decompress straight into ``out`` when it is contiguous, else into this thread's scratch
        buffer (in cache) and copy once; the compressors check the decoded size."""
        direct = out.flags.c_contiguous and out.dtype == self._spec.dtype
        if self._fresh_decoder and (not direct or self._nbytes <= FRESH_DIRECT_MAX_BYTES):
            np.copyto(out, self._decompress_fresh(data, key))  # one copy into the output
            return out
        if direct:
            target = out.reshape(-1).view(np.uint8)
        elif self._nbytes <= SCRATCH_MAX_BYTES:
            target = scratch_buffer("decode", self._nbytes)
        else:
            target = np.empty(self._nbytes, np.uint8)
        step = self._bb[-1]
        try:
            for i in range(len(self._bb) - 1, 0, -1):
                step = self._bb[i]
                data = step.decode(data, self._ab_spec)
            step = self._bb[0]
            step.decode(data, self._ab_spec, out=target)
        except Exception as exc:
            raise_for_chunk(exc, key, step.codec_name, "decoding")
        if not direct:
            np.copyto(out, target.view(self._spec.dtype).reshape(self._spec.shape))
        return out

    def decode_for_reading(self, data: BytesLike, *, key: str | None = None) -> np.ndarray:
        """A decoded chunk that the caller only reads from (it may be read-only), so a compressor
        that returns its own new buffer (zstd) needs neither a copy nor a scratch pass."""
        if self._fresh_decoder:
            return self._decompress_fresh(data, key)
        if self._in_place and not self._bb:  # bytes serializer alone: the stored bytes are the chunk
            try:
                return self._ab.view(data, self._ab_spec)
            except Exception as exc:
                raise_for_chunk(exc, key, self._ab.codec_name, "decoding")
        return self.decode(data, key=key)

    def _decompress_fresh(self, data: BytesLike, key: str | None) -> np.ndarray:
        return decompress_to_array(self._bb[0], data, self._spec, key, order="C")  # v3: C order

    def encode(self, chunk: np.ndarray, *, key: str | None = None) -> BytesLike:
        """Encode one chunk of ``spec.shape`` (any layout); never returns memory shared with ``chunk``."""
        arr = np.asarray(chunk)
        if arr.shape != self._spec.shape:
            raise ValueError(f"chunk {key!r} has shape {arr.shape}, expected {self._spec.shape}")
        step: Codec = self._aa[0][0] if self._aa else self._ab
        try:
            data: Any = arr if arr.dtype == self._spec.dtype else arr.astype(self._spec.dtype)
            if self._plain and not data.flags.c_contiguous and self._nbytes <= SCRATCH_MAX_BYTES:
                # a strided view (a chunk of the caller's array): gather it into this thread's
                # scratch instead of a fresh C-order copy; the compressor output is new memory
                scratch = scratch_buffer("encode", self._nbytes)
                np.copyto(scratch.view(self._spec.dtype).reshape(self._spec.shape), data)
                data = scratch
                for codec in self._bb:
                    step = codec
                    data = codec.encode(data, self._ab_spec)
                return no_alias(no_alias(data, scratch), arr)
            for codec, decoded_spec in self._aa:
                step = codec
                data = codec.encode(data, decoded_spec)
            step = self._ab
            data = self._ab.encode(data, self._ab_spec)
            for codec in self._bb:
                step = codec
                data = codec.encode(data, self._ab_spec)
            return no_alias(data, arr)
        except Exception as exc:
            raise_for_chunk(exc, key, step.codec_name, "encoding")

    # -- batches -------------------------------------------------------------------------------

    def decode_batch(
        self,
        encoded: Sequence[BytesLike | None],
        *,
        keys: Sequence[str],
        outs: Sequence[np.ndarray | None] | None = None,
        writable: bool = True,
    ) -> list[np.ndarray | None]:
        """Decode many chunks on the shared pool, one task per chunk.

        ``None`` input -> ``None`` result (missing chunk). With ``outs[i]`` the chunk is written
        into it (any layout) and ``outs[i]`` is returned; otherwise a new array, writable unless
        ``writable=False`` (the caller only copies from it: see ``decode_for_reading``).
        """
        if self._fresh_decoder and self._nbytes <= FRESH_DIRECT_MAX_BYTES:
            return self._decode_batch_many(encoded, keys, outs, writable)
        reader = None if writable else self.decode_for_reading
        return decode_batch_with(self.decode, self._spec, encoded, keys, outs, for_reading=reader)

    def _decode_batch_many(
        self,
        encoded: Sequence[BytesLike | None],
        keys: Sequence[str],
        outs: Sequence[np.ndarray | None] | None,
        writable: bool,
    ) -> list[np.ndarray | None]:
        """Small chunks of a plain one-compressor chain: a run of chunks per native call
        (``decode_many``), a few runs per pool thread, each chunk copied to its output while the
        run is in cache. Thousands of 64 KiB inner chunks then cost a handful of Python calls each
        instead of a dozen. A run the compressor refuses (bad data, several frames) is decoded
        chunk by chunk, which raises naming the chunk."""
        targets = _checked_targets(encoded, keys, outs, self._spec)
        present = [i for i, data in enumerate(encoded) if data is not None]
        compressor, spec = self._bb[0], self._spec

        def decode_run(run: Sequence[int]) -> list[np.ndarray]:
            decoded = compressor.decode_many([encoded[i] for i in run], self._ab_spec)
            if decoded is None:  # the chunk-by-chunk path of every other chain
                return decode_batch_with(
                    self.decode,
                    spec,
                    [encoded[i] for i in run],
                    [keys[i] for i in run],
                    [targets[i] for i in run],
                    for_reading=None if writable else self.decode_for_reading,
                )
            results = []
            for i, raw in zip(run, decoded):
                chunk = raw.view(spec.dtype).reshape(spec.shape)
                target = targets[i]
                if target is not None:
                    np.copyto(target, chunk)
                    chunk = target
                elif writable:
                    chunk = chunk.copy()
                results.append(chunk)
            return results

        results: list[np.ndarray | None] = [None] * len(encoded)
        runs = split_for_pool(present, self._nbytes)
        for run, decoded in zip(runs, run_batch(decode_run, runs)):
            for i, chunk in zip(run, decoded):
                results[i] = chunk
        return results

    def encode_batch(self, chunks: Sequence[np.ndarray], *, keys: Sequence[str]) -> list[BytesLike]:
        """Encode many chunks on the shared pool; results are buffer-protocol objects."""
        return encode_batch_with(self.encode, chunks, keys)


def decompress_to_array(
    compressor: BytesBytesCodec, data: BytesLike, spec: ChunkSpec, key: str | None, *, order: str
) -> np.ndarray:
    """A chunk whose bytes are one compressor's output, decoded to new (read-only) memory: the
    path of compressors that return their own buffer fast (zstd), shared by the v2 and v3 chains."""
    try:
        decoded = compressor.decode(data, spec)
        check_decoded_size(len(decoded), spec.nbytes, compressor.codec_name)
    except Exception as exc:
        raise_for_chunk(exc, key, compressor.codec_name, "decoding")
    return np.frombuffer(decoded, spec.dtype).reshape(spec.shape, order=order)


def _checked_targets(
    encoded: Sequence[Any], keys: Sequence[str], outs: Sequence[np.ndarray | None] | None, spec: ChunkSpec
) -> list[np.ndarray | None]:
    """The per-chunk outputs of a batch (``None``: decode to new memory), after the caller checks."""
    if len(keys) != len(encoded) or (outs is not None and len(outs) != len(encoded)):
        raise ValueError(f"got {len(encoded)} chunks, {len(keys)} keys and {len(outs or [])} outs")
    targets = list(outs) if outs is not None else [None] * len(encoded)
    for out in targets:
        if out is not None:
            check_out(out, spec)
    return targets


def decode_batch_with(
    decode: Any,
    spec: ChunkSpec,
    encoded: Sequence[BytesLike | None],
    keys: Sequence[str],
    outs: Sequence[np.ndarray | None] | None,
    *,
    for_reading: Any = None,
) -> list[np.ndarray | None]:
    """Shared by the v2 and v3 chains: argument checks, then one pool task per present chunk;
    chunks without an ``out`` go through ``for_reading`` when given (read-only results)."""
    targets = _checked_targets(encoded, keys, outs, spec)
    todo = [i for i, data in enumerate(encoded) if data is not None]
    results: list[np.ndarray | None] = [None] * len(encoded)

    def decode_one(i: int) -> np.ndarray:
        try:  # the key is formatted only for an error (thousands of inner chunks rarely need one)
            if for_reading is not None and targets[i] is None:
                return for_reading(encoded[i])
            return decode(encoded[i], out=targets[i])
        except CodecError as exc:
            raise with_key(exc, keys[i]) from exc

    decoded = run_batch(
        decode_one,
        todo,
        min_parallel=min_parallel_items(spec.nbytes),
    )
    for i, value in zip(todo, decoded):
        results[i] = value
    return results


def encode_batch_with(encode: Any, chunks: Sequence[np.ndarray], keys: Sequence[str]) -> list[BytesLike]:
    if len(keys) != len(chunks):
        raise ValueError(f"got {len(chunks)} chunks and {len(keys)} keys")
    return run_batch(lambda i: encode(chunks[i], key=keys[i]), list(range(len(chunks))))
