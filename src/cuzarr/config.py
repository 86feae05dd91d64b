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
    "read_missing_chunks": True,
    "batch_bytes": 64 * 1024 * 1024,  # decoded bytes per batch: bounds memory beyond the output
    "json_indent": 2,
    # how new v3 record (structured) arrays spell their data type: "structured" (zarr-python 3.1,
    # which cannot read the other) or "struct" (the zarr-extensions spec; tensorstore, newer zarr-python)
    "record_type_name": "structured",
    "sharding_coalesce_max_gap_bytes": 1 << 20,
    "sharding_coalesce_max_bytes": 16 << 20,
    "auto_chunk_min_bytes": 1024 * 1024,
    "auto_chunk_max_bytes": 4 * 1024 * 1024,
    # reliability: decoded-size cap of variable-length chunks (others are capped by their shape)
    "max_vlen_chunk_bytes": 512 * 1024 * 1024,
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

POOL_THREAD_PREFIX = "cuzarr"  # names of the shared pool's threads (work inside it never waits on it)

_VALID_DEVICES = ("cpu", "cuda", "gpu", "emulated")
_NVCOMP_DECODE_CONFIGS = ("parse", "sizes")


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
        key = key.replace("array.", "")
        return self._values.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self._values[key.replace("array.", "")]

    def set(self, options: dict[str, Any] | None = None, **kwargs: Any) -> _ConfigSet:
        updates = {**(options or {}), **kwargs}
        updates = {k.replace("array.", ""): v for k, v in updates.items()}
        for key, value in updates.items():
            if key not in _DEFAULTS:
                raise KeyError(f"unknown config key {key!r}; known keys: {sorted(_DEFAULTS)}")
            if key == "device" and value not in _VALID_DEVICES:
                raise ValueError(f"device must be one of {_VALID_DEVICES}, got {value!r}")
            if key == "threads" and (not isinstance(value, int) or value < 1):
                raise ValueError(f"threads must be a positive int, got {value!r}")
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
