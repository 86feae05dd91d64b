"""Map a codec chain to device steps, or say why it must run on the CPU.

Works from the chains' JSON (v3 ``codecs``, v2 ``compressor``/``filters``) by duck typing, so
``gpu/`` never imports ``codecs/``. A plan fixes the decoded byte layout too: the stored bytes
are a C-order array of ``stored_shape`` (chunk axes permuted by ``perm``: v3 transposes, or the
reversed axes of a v2 ``order='F'`` chunk), optionally byte-swapped per ``swap`` bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Device bytes->bytes steps (decode side): name -> needs host bytes (container/header parsing).
COMPRESSORS = {"zstd", "gzip", "zlib", "lz4", "blosc"}
#: nvCOMP's largest stream per batch entry (``*MaxAllowedChunkSize`` in nvcomp/zstd.h, lz4.h,
#: deflate.h): a chunk over the decode limit has no device plan, one over the encode limit is
#: encoded on the CPU (LZ4's is 16 MiB). Blosc streams are its blocks, far smaller.
NVCOMP_DECODE_MAX = {
    "zstd": (1 << 31) - 1,
    "lz4": (1 << 32) - 1,
    "gzip": (1 << 32) - 1,
    "zlib": (1 << 32) - 1,
}
NVCOMP_ENCODE_MAX = {"zstd": (1 << 31) - 1, "lz4": 1 << 24, "gzip": 1 << 31, "zlib": 1 << 31}


@dataclass(frozen=True)
class Step:
    name: str  # 'crc32c' or one of COMPRESSORS
    config: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.config).get(key, default)


@dataclass(frozen=True)
class DevicePlan:
    """How a chain's chunks decode on the device."""

    shape: tuple[int, ...]
    dtype: np.dtype
    perm: tuple[int, ...]  # stored array = chunk.transpose(perm), C order
    swap: int  # byteswap unit (0: none)
    steps: tuple[Step, ...]  # bytes->bytes, in decode order
    encode_reason: str | None  # why encoding must use the CPU (None: it can run on the device)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    @property
    def stored_shape(self) -> tuple[int, ...]:
        return tuple(self.shape[p] for p in self.perm)

    @property
    def inverse(self) -> tuple[int, ...]:
        return tuple(int(i) for i in np.argsort(self.perm))

    def chunk_strides(self) -> tuple[int, ...]:
        """Strides of the chunk viewed over its stored bytes (what an output must have to decode in place)."""
        stored = c_strides(self.stored_shape, self.dtype.itemsize)
        return tuple(stored[i] for i in self.inverse)


def c_strides(shape: Sequence[int], itemsize: int) -> tuple[int, ...]:
    """Byte strides of a C-ordered array of ``shape``."""
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def _swap_unit(dtype: np.dtype) -> int:
    if dtype.kind == "c":
        return dtype.itemsize // 2
    if dtype.kind == "U":
        return 4
    return dtype.itemsize


def _v3(chain: Any) -> DevicePlan | str:
    spec = chain.spec
    shape, perm, swap = tuple(spec.shape), tuple(range(len(spec.shape))), 0
    steps: list[Step] = []
    seen_serializer, encode_reason = False, None
    for codec in chain.codecs:
        entry = codec.to_json()
        name, config = entry["name"], entry.get("configuration", {})
        if name == "transpose":
            order = tuple(config["order"])
            perm = tuple(perm[i] for i in order)
        elif name == "bytes":
            seen_serializer = True
            endian = config.get("endian")
            if endian == "big" and spec.dtype.fields is not None:
                return "big-endian record fields"  # one swap unit per field: not a single byteswap
            little = np.dtype(spec.dtype).newbyteorder("<") == np.dtype(spec.dtype)
            ordered = endian is not None and spec.dtype.fields is None and spec.dtype.byteorder != "|"
            if ordered and (endian == "little") != little:
                swap = _swap_unit(np.dtype(spec.dtype))
        elif name == "crc32c" and seen_serializer:
            steps.append(Step("crc32c"))
        elif name in ("zstd", "gzip", "blosc") and seen_serializer:
            if name == "zstd" and config.get("checksum"):
                return "zstd frames with checksums"
            steps.append(Step(name, tuple(sorted(config.items()))))
            if name == "blosc":
                encode_reason = "blosc encoding"
        else:
            return f"codec {name!r}"
    if swap not in (0, 2, 4, 8):
        return f"byte swapping {swap}-byte items"
    return _finish(shape, spec.dtype, perm, swap, steps, encode_reason)


def _v2(chain: Any) -> DevicePlan | str:
    spec = chain.spec
    if chain.filters:
        return "v2 filters " + ", ".join(
            repr(getattr(f, "codec_id", type(f).__name__)) for f in chain.filters
        )
    ndim = len(spec.shape)
    perm = tuple(range(ndim)) if spec.order == "C" else tuple(range(ndim - 1, -1, -1))
    steps: list[Step] = []
    encode_reason = None
    if chain.compressor is not None:
        config = dict(chain.compressor.get_config())
        name = config.pop("id", None)
        if name not in COMPRESSORS or not type(chain.compressor).__module__.startswith("numcodecs."):
            return f"v2 compressor {name!r}"
        if name == "zstd" and config.get("checksum"):
            return "zstd frames with checksums"
        steps.append(Step(name, tuple(sorted(config.items()))))
        if name == "blosc":
            encode_reason = "blosc encoding"
    return _finish(tuple(spec.shape), spec.dtype, perm, 0, steps, encode_reason)


def _finish(
    shape: tuple[int, ...],
    dtype: Any,
    perm: tuple[int, ...],
    swap: int,
    steps: list[Step],
    encode_reason: str | None,
) -> DevicePlan | str:
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        return f"object dtype {dtype}"
    if sum(s.name in COMPRESSORS for s in steps) > 1:
        return "more than one compressor"
    order = [s.name for s in reversed(steps)]  # decode order
    first = next((i for i, n in enumerate(order) if n in COMPRESSORS), len(order))
    if any(n in COMPRESSORS for n in order[first + 1 :]):
        return "more than one compressor"
    if any(n == "crc32c" for n in order[first + 1 :]):
        encode_reason = encode_reason or "a checksum inside the compressor"
    if first < len(order) and order[first] in NVCOMP_DECODE_MAX:
        name = order[first]
        stream = math.prod(shape) * dtype.itemsize + 4 * sum(n == "crc32c" for n in order[first + 1 :])
        if stream > NVCOMP_DECODE_MAX[name]:
            return f"{name} chunks of {stream} bytes (nvCOMP decodes at most {NVCOMP_DECODE_MAX[name]})"
        if stream > NVCOMP_ENCODE_MAX[name]:
            encode_reason = encode_reason or (
                f"{name} chunks of {stream} bytes (nvCOMP encodes at most {NVCOMP_ENCODE_MAX[name]})"
            )
    return DevicePlan(shape, dtype, perm, swap, tuple(reversed(steps)), encode_reason)


def plan_chain(chain: Any) -> DevicePlan | str:
    """A ``DevicePlan`` for ``chain`` (``CodecChain`` or ``V2CodecChain``), or the reason it has none."""
    try:
        return _v2(chain) if hasattr(chain, "compressor") else _v3(chain)
    except (AttributeError, KeyError, TypeError) as exc:
        return f"unrecognised codec chain ({type(exc).__name__}: {exc})"
