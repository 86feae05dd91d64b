"""Runtime defaults (format, threads, device, batching) and the shared thread pool.

Values can be read with ``config.get("threads")`` and changed globally with
``config.set(threads=4)`` or temporarily with ``with config.set(threads=4): ...``.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_DEFAULTS: dict[str, Any] = {
    "default_zarr_format": 3,
    "threads": max(os.cpu_count() or 1, 1),
    "device": "cpu",
    "write_empty_chunks": False,
    # memory layout of arrays returned by reads of v3 arrays ("C" or "F"; a v2 array's is its own)
    "order": "C",
    "read_missing_chunks": True,
    "batch_bytes": 64 * 1024 * 1024,  # decoded bytes per batch: bounds memory beyond the output
    "json_indent": 2,
    # how new v3 record (structured) arrays spell their data type: "structured" (zarr-python 3.1,
    # which cannot read the other) or "struct" (the zarr-extensions spec; tensorstore, newer zarr-python)
    "record_type_name": "structured",
    "sharding_coalesce_max_gap_bytes": 1 << 20,
    "sharding_coalesce_max_bytes": 16 << 20,
    # shards="auto": the most bytes per shard (None: two chunks along each axis with over eight)
    "target_shard_size_bytes": None,
    # reliability: decoded-size cap of variable-length chunks (others are capped by their shape)
    "max_vlen_chunk_bytes": 512 * 1024 * 1024,
    # stores without snapshot reads (remote, zip): a sharded read fetches a shard's index again
    # beside its chunks and retries when it changed (a writer replaced the shard in between), so
    # no chunk is cut from a newer shard at the old offsets; False saves that request on data
    # nothing writes to while it is read
    "recheck_dependent_reads": True,
    # remote stores (RetryingStore): attempts after the first, and the first backoff (doubles)
    "remote_retries": 5,
    "remote_backoff_s": 0.1,
    "remote_backoff_max_s": 10.0,
    # durability: LocalStore fsyncs each written file before renaming it into place and its
    # directory after, so a power loss cannot lose or empty an acknowledged write (slower)
    "fsync": False,
    # how nvCOMP learns each chunk's decoded size: "parse" reads the streams on the device
    # (one stream sync; a full extra pass for RAW LZ4/deflate), "sizes" gives it the sizes the
    # chunk grid already fixes (no sync, no extra pass; see CudaOps._decompression_config)
    "nvcomp_decode_config": "parse",
}

#: zarr-python keys for settings cuzarr holds under another name
_ZARR_ALIASES = {"threading.max_workers": "threads"}
#: zarr-python keys for machinery cuzarr does not have (an asyncio request limit, a pluggable
#: codec pipeline): accepted and kept, so zarr-python code that tunes them runs unchanged, but
#: they change nothing here (cuzarr's I/O and codec concurrency is ``threads``)
_ZARR_INERT: dict[str, Any] = {
    "async.concurrency": 10,
    "async.timeout": None,
    "codec_pipeline.batch_size": 1,
    "codec_pipeline.path": "zarr.core.codec_pipeline.BatchedCodecPipeline",
}
_DEFAULTS.update(_ZARR_INERT)

POOL_THREAD_PREFIX = "cuzarr"  # names of the shared pool's threads (work inside it never waits on it)

_VALID_DEVICES = ("cpu", "cuda", "gpu", "emulated")
_NVCOMP_DECODE_CONFIGS = ("parse", "sizes")


def _own_key(key: str) -> str:
    """cuzarr's name for a key: ``array.`` prefixes dropped, zarr-python aliases resolved."""
    key = _ZARR_ALIASES.get(key, key)
    return key[len("array.") :] if key.startswith("array.") else key


def _flatten(options: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"array": {"order": "F"}}`` -> ``{"array.order": "F"}`` (donfig's nested form, which
    zarr-python accepts); dict values of keys that exist as they are stay whole."""
    flat: dict[str, Any] = {}
    for key, value in options.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and _own_key(name) not in _DEFAULTS:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


class _ConfigSet:
    """Returned by ``Config.set``: already applied; as a context manager it restores on exit."""

    def __init__(self, config: Config, previous: dict[str, Any]):
        self._config = config
        self._previous = previous

    def __enter__(self) -> Config:
        return self._config

    def __exit__(self, *exc: object) -> None:
        self._config._values.update(self._previous)
        self._config._on_change()


class Config:
    """Process-wide settings; thread-safe for reads, changed rarely."""

    def __init__(self) -> None:
        self._values = dict(_DEFAULTS)
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(_own_key(key), default)

    def __getitem__(self, key: str) -> Any:
        return self._values[_own_key(key)]

    def set(self, options: dict[str, Any] | None = None, **kwargs: Any) -> _ConfigSet:
        """Change settings; keys may be zarr-python's (``"array.order"``, ``"threading.max_workers"``)
        and ``options`` may nest them (``{"array": {"order": "F"}}``)."""
        updates = {_own_key(k): v for k, v in _flatten({**(options or {}), **kwargs}).items()}
        if updates.get("threads", 0) is None:  # zarr-python's threading.max_workers=None: the default
            updates["threads"] = _DEFAULTS["threads"]
        for key, value in updates.items():
            if key not in _DEFAULTS:
                raise KeyError(f"unknown config key {key!r}; known keys: {sorted(_DEFAULTS)}")
            if key == "device" and value not in _VALID_DEVICES:
                raise ValueError(f"device must be one of {_VALID_DEVICES}, got {value!r}")
            if key == "threads" and (not isinstance(value, int) or value < 1):
                raise ValueError(f"threads must be a positive int, got {value!r}")
            if key == "order" and value not in ("C", "F"):
                raise ValueError(f"order must be 'C' or 'F', got {value!r}")
            if key == "fsync" and not isinstance(value, bool):
                raise ValueError(f"fsync must be True or False, got {value!r}")
            if key == "nvcomp_decode_config" and value not in _NVCOMP_DECODE_CONFIGS:
                raise ValueError(
                    f"nvcomp_decode_config must be one of {_NVCOMP_DECODE_CONFIGS}, got {value!r}"
                )
            if key == "record_type_name" and value not in ("structured", "struct"):
                raise ValueError(f"record_type_name must be 'structured' or 'struct', got {value!r}")
        previous = {k: self._values[k] for k in updates}
        self._values.update(updates)
        self._on_change()
        return _ConfigSet(self, previous)

    def enable_gpu(self) -> _ConfigSet:
        """Return CuPy arrays by default (zarr-python's ``config.enable_gpu()``)."""
        return self.set(device="cuda")

    def reset(self) -> None:
        self._values = dict(_DEFAULTS)
        self._on_change()

    def _on_change(self) -> None:
        if self._pool is not None and self._pool_size != self._values["threads"]:
            with self._lock:
                old, self._pool = self._pool, None
            old.shutdown(wait=False)

    def thread_pool(self) -> ThreadPoolExecutor:
        """The shared pool that runs store reads and codec work (numcodecs releases the GIL)."""
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool_size = self._values["threads"]
                    self._pool = ThreadPoolExecutor(self._pool_size, thread_name_prefix=POOL_THREAD_PREFIX)
                pool = self._pool
        return pool

    def __repr__(self) -> str:
        return f"cuzarr.config({self._values})"


config = Config()


def _drop_pool_after_fork() -> None:
    """A forked child (e.g. a DataLoader worker) inherits the pool object but not its threads."""
    config._pool = None
    config._lock = threading.Lock()


os.register_at_fork(after_in_child=_drop_pool_after_fork)
