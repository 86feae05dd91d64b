"""``FaultInjectingFileSystem``: an fsspec filesystem that wraps another one and makes its calls
fail the way networks do (timeouts, connection resets, HTTP 5xx), for the retry tests.

Faults come from a seeded ``random.Random`` at ``rate`` per call, or from an explicit ``script``
(a list of fault names, ``None`` meaning "succeed", consumed one per call). ``when="after"``
fails a write *after* it happened, as a timed-out request that the server completed does.
``injected`` counts the faults raised, per kind.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import fsspec
from fsspec.implementations.memory import MemoryFileSystem


class InjectedServerError(OSError):
    """An HTTP 5xx answer (s3fs and aiohttp expose the status the same way)."""

    def __init__(self, status: int = 503):
        super().__init__(f"injected HTTP {status} Service Unavailable")
        self.status = status


FAULTS = {
    "timeout": lambda: TimeoutError("injected timeout"),
    "reset": lambda: ConnectionResetError(104, "injected connection reset by peer"),
    "5xx": lambda: InjectedServerError(503),
    "500": lambda: InjectedServerError(500),
}


class FaultInjectingFileSystem(fsspec.AbstractFileSystem):
    """Delegates to ``target`` (a fresh memory filesystem by default), injecting faults."""

    protocol = "faulty"
    cachable = False
    root_marker = ""

    def __init__(
        self,
        target: fsspec.AbstractFileSystem | None = None,
        *,
        rate: float = 0.0,
        kinds: tuple[str, ...] = ("timeout", "reset", "5xx"),
        seed: int = 0,
        when: str = "before",
        ops: tuple[str, ...] = ("read", "write", "delete", "info", "list"),
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.target = target if target is not None else MemoryFileSystem()
        self.rate = rate
        self.kinds = kinds
        self.when = when
        self.ops = set(ops)
        self.script: list[str | None] = []
        self.injected: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    # -- fault decisions --------------------------------------------------------------
    def _fault(self, op: str) -> BaseException | None:
        with self._lock:
            self.calls[op] += 1
            if op not in self.ops:
                return None
            if self.script:
                kind = self.script.pop(0)
            elif self.rate and self._rng.random() < self.rate:
                kind = self._rng.choice(self.kinds)
            else:
                kind = None
            if kind is None:
                return None
            self.injected[kind] += 1
            return FAULTS[kind]()

    def _run(self, op: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        fault = self._fault(op)
        if fault is not None and (self.when == "before" or op not in ("write", "delete")):
            raise fault
        result = fn(*args, **kwargs)
        if fault is not None:
            raise fault
        return result

    # -- what FsspecStore uses --------------------------------------------------------
    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        path = path[len("faulty://") :] if path.startswith("faulty://") else path
        return MemoryFileSystem._strip_protocol(path)

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        return self._run("read", self.target.cat_file, path, start=start, end=end)

    def pipe_file(self, path: str, value: bytes, **kwargs: Any) -> None:
        self._run("write", self.target.pipe_file, path, value)

    def rm_file(self, path: str) -> None:
        self._run("delete", self.target.rm_file, path)

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        self._run("delete", self.target.rm, path, recursive=recursive, maxdepth=maxdepth)

    def info(self, path: str, **kwargs: Any) -> dict:
        return self._run("info", self.target.info, path)

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Any:
        return self._run("list", self.target.ls, path, detail=detail)

    def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, **kwargs: Any) -> Any:
        return self._run("list", self.target.find, path, maxdepth=maxdepth, withdirs=withdirs, **kwargs)

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        self.target.makedirs(path, exist_ok=exist_ok)

    def isfile(self, path: str) -> bool:
        try:
            return self.info(path).get("type") == "file"
        except FileNotFoundError:
            return False
