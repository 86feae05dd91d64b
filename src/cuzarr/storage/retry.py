"""Retries for remote stores: transient faults (timeouts, connection resets, HTTP 5xx/429) are
retried with exponential backoff and jitter; what still fails raises ``RemoteStoreError`` naming
the key. Missing keys, permissions and invalid keys are never retried.

Settings come from ``cuzarr.config``: ``remote_retries`` (attempts after the first),
``remote_backoff_s`` (first wait; doubles each attempt) and ``remote_backoff_max_s``.
``FsspecStore`` uses ``retry_batch`` for every get/set/delete; ``RetryingStore`` adds the same
policy to any other store.

A batch is tried whole first (one request on the fast path); after a transient failure each key
is retried on its own, so the error that finally surfaces says which key could not be read or
written. Writes are safe to retry: every value replaces its key whole.
"""

from __future__ import annotations

import errno
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from ..config import config
from ..errors import CuzarrError, RemoteStoreError
from .base import ByteRange, BytesLike, DependentRead, DependentValue
from .wrappers import WrapperStore

_T = TypeVar("_T")

_TRANSIENT_ERRNOS = {
    errno.ETIMEDOUT,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.ECONNREFUSED,
    errno.EPIPE,
    errno.EAGAIN,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ENETRESET,
}
#: Exception type names of HTTP/S3 clients (aiohttp, botocore, requests) that mean "try again".
_TRANSIENT_NAMES = {
    "ClientConnectionError",
    "ClientOSError",
    "ServerDisconnectedError",
    "ServerTimeoutError",
    "ClientPayloadError",
    "ReadTimeoutError",
    "ConnectTimeoutError",
    "EndpointConnectionError",
    "ConnectionClosedError",
    "IncompleteReadError",
    "ResponseStreamingError",
    "ChunkedEncodingError",
}


def _status(exc: BaseException) -> int | None:
    for attr in ("status", "status_code", "code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    response = getattr(exc, "response", None)  # botocore ClientError
    if isinstance(response, dict):
        value = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(value, int):
            return value
    return None


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is worth retrying (a network or server hiccup, not a fact about the data)."""
    if isinstance(
        exc, (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError, CuzarrError)
    ):
        return False
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    status = _status(exc)
    if status is not None:
        return status >= 500 or status in (408, 429)
    if isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS:
        return True
    return any(cls.__name__ in _TRANSIENT_NAMES for cls in type(exc).__mro__)


def backoff_delays(
    retries: int | None = None, base: float | None = None, cap: float | None = None
) -> list[float]:
    """Waits before each retry: exponential from ``base``, capped, with +-50% jitter."""
    retries = config.get("remote_retries") if retries is None else retries
    base = config.get("remote_backoff_s") if base is None else base
    cap = config.get("remote_backoff_max_s") if cap is None else cap
    return [min(cap, base * 2**i) * random.uniform(0.5, 1.5) for i in range(int(retries))]


def call_with_retries(call: Callable[[], _T], *, key: str | None, action: str, where: str) -> _T:
    """``call()`` retried on transient errors; the last failure raises ``RemoteStoreError``."""
    delays = backoff_delays()
    for attempt in range(len(delays) + 1):
        try:
            return call()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == len(delays):
                what = f"key {key!r}" if key is not None else "the store"
                raise RemoteStoreError(
                    f"{action} {what} of {where} failed after {attempt + 1} attempts: {type(exc).__name__}: {exc}",
                    key=key,
                    attempts=attempt + 1,
                ) from exc
            time.sleep(delays[attempt])
    raise AssertionError("unreachable")  # pragma: no cover


def retry_batch(
    batch: Callable[[list[Any]], list[_T] | None],
    items: list[Any],
    keys: Sequence[str],
    *,
    action: str,
    where: str,
) -> list[_T] | None:
    """``batch(items)`` once; after a transient failure, each item alone with retries (so the final
    error names its key). ``batch`` returns one result per item (reads) or None (writes)."""
    try:
        return batch(items)
    except Exception as exc:
        if not is_transient(exc) or not items:
            raise
    results: list[Any] = []
    for key, item in zip(keys, items):
        result = call_with_retries(lambda item=item: batch([item]), key=key, action=action, where=where)
        results.append(None if result is None else result[0])
    return results


class RetryingStore(WrapperStore):
    """Any store with the remote retry policy (``FsspecStore`` already has it built in)."""

    def get_many(
        self, keys: Sequence[str], byte_ranges: Sequence[ByteRange | None] | None = None
    ) -> list[bytes | None]:
        keys = list(keys)
        ranges = list(byte_ranges) if byte_ranges is not None else [None] * len(keys)

        def fetch(pairs: list[tuple[str, ByteRange | None]]) -> list[bytes | None]:
            got = [r for _, r in pairs]
            return self._store.get_many([k for k, _ in pairs], None if all(r is None for r in got) else got)

        out = retry_batch(fetch, list(zip(keys, ranges)), keys, action="reading", where=repr(self._store))
        return out or []

    def get_dependent(self, requests: Sequence[DependentRead]) -> list[DependentValue | None]:
        requests = list(requests)
        keys = [key for key, _, _ in requests]
        out = retry_batch(
            self._store.get_dependent, requests, keys, action="reading", where=repr(self._store)
        )
        return out or []

    def set_many(self, items: Mapping[str, BytesLike] | Iterable[tuple[str, BytesLike]]) -> None:
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        retry_batch(
            self._store.set_many, pairs, [k for k, _ in pairs], action="writing", where=repr(self._store)
        )

    def delete_many(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        retry_batch(self._store.delete_many, keys, keys, action="deleting", where=repr(self._store))

    def _once(self, fn: Callable[..., _T], *args: Any) -> _T:
        return call_with_retries(lambda: fn(*args), key=None, action="listing", where=repr(self._store))

    def exists(self, key: str) -> bool:
        return call_with_retries(
            lambda: self._store.exists(key), key=key, action="probing", where=repr(self._store)
        )

    def getsize(self, key: str) -> int:
        return call_with_retries(
            lambda: self._store.getsize(key), key=key, action="sizing", where=repr(self._store)
        )

    def list_prefix(self, prefix: str) -> list[str]:
        return self._once(self._store.list_prefix, prefix)

    def list_dir(self, prefix: str) -> list[str]:
        return self._once(self._store.list_dir, prefix)


__all__ = [
    "RemoteStoreError",
    "RetryingStore",
    "backoff_delays",
    "call_with_retries",
    "is_transient",
    "retry_batch",
]
