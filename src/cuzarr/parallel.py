"""Mapping work over the shared thread pool (``config.thread_pool()``) without a future per item.

Used by the codecs (one item per chunk) and by LocalStore (one item per slice of keys): pool
workers pull item indexes from one shared counter, so thousands of small items cost a handful
of submissions and the load balances itself. Every item runs and every worker has finished
when ``map_in_pool`` returns or raises (the first error, in item order), so nothing is still
writing into caller-owned memory. Called from inside the pool it runs inline, since waiting on
the pool it occupies could deadlock.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import wait
from typing import Any, TypeVar

from .config import POOL_THREAD_PREFIX, config

_T = TypeVar("_T")
#: Work below this many bytes (decoded chunk bytes) runs on the calling thread: waking pool
#: workers costs ~50-100 us per call, more than a few small chunks take to decode.
PARALLEL_MIN_BYTES = 1 << 20


def min_parallel_items(item_bytes: int) -> int:
    """How many items of ``item_bytes`` each make a batch worth spreading over the pool."""
    return max(2, -(-PARALLEL_MIN_BYTES // max(int(item_bytes), 1)))


def split_for_pool(
    items: Sequence[_T], item_bytes: int, *, run_bytes: int = 1 << 20, runs_per_thread: int = 4
) -> list[Sequence[_T]]:
    """Contiguous runs of ``items`` for ``map_in_pool`` when each run is handled by one native call
    (several chunks per call). Runs hold at most ``run_bytes`` (so what one call produces is still
    in cache when it is copied out, and its allocation is reused) and there are a few per pool
    thread so the load balances; work too small to wake the pool stays in one run per call."""
    if not items:
        return []
    per_run = max(1, run_bytes // max(int(item_bytes), 1))
    count = -(-len(items) // per_run)
    threads = config.get("threads") or 1
    if len(items) >= min_parallel_items(item_bytes) and threads > 1 and not in_pool_work():
        count = max(count, min(len(items), threads * runs_per_thread))
    bounds = [len(items) * k // count for k in range(count + 1)]
    return [items[a:b] for a, b in zip(bounds, bounds[1:])]


_state = threading.local()  # .active: this thread is running items of a map_in_pool call


def in_pool_work() -> bool:
    """Whether the calling thread is a pool worker or already running a batch's items."""
    return getattr(_state, "active", False) or threading.current_thread().name.startswith(POOL_THREAD_PREFIX)


def map_in_pool(
    function: Callable[[_T], Any], items: Sequence[_T], *, min_parallel: int = 2, caller_works: bool = False
) -> list[Any]:
    """``[function(item) for item in items]`` on the pool, keeping order.

    With ``caller_works`` the calling thread takes items too (``threads - 1`` pool workers join it),
    which suits I/O; otherwise ``threads`` pool workers do everything.
    """
    count = len(items)
    threads = config.get("threads") or 1
    if count < min_parallel or threads <= 1 or in_pool_work():
        return [function(item) for item in items]
    results: list[Any] = [None] * count
    errors: dict[int, BaseException] = {}
    next_index = itertools.count().__next__  # atomic under the GIL

    def work() -> None:
        _state.active = True
        try:
            while (i := next_index()) < count:
                try:
                    results[i] = function(items[i])
                except BaseException as exc:  # noqa: BLE001 - re-raised below, in item order
                    errors[i] = exc
        finally:
            _state.active = False

    pool = config.thread_pool()
    futures = [pool.submit(work) for _ in range(min(threads, count) - (1 if caller_works else 0))]
    try:
        if caller_works:
            work()
    finally:
        wait(futures)
    for future in futures:
        future.result()
    if errors:
        raise errors[min(errors)]
    return results
