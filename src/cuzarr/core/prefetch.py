"""Fetch batch i+1 while the caller decodes batch i.

Batched reads (remote stores, sharded arrays, every device read) alternate between waiting on
storage and decoding; overlapping the two hides whichever is shorter. At most two batches of
encoded bytes are alive at once, and no fetch outlives the read that started it, even when
decoding fails: a batch fetched ahead and never decoded goes to ``discard`` (a device backend
gives its staging slot back there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, wait
from typing import Any, TypeVar

from ..config import config
from ..parallel import in_pool_work

_B = TypeVar("_B")


def can_prefetch() -> bool:
    """Whether a read started on this thread may fetch on the shared pool: there are spare
    workers, and the caller is not one of them (waiting on the pool from inside could deadlock)."""
    return (config.get("threads") or 1) > 1 and not in_pool_work()


def fetched_batches(
    batches: Sequence[_B],
    fetch: Callable[[_B], Any],
    *,
    prefetch: bool,
    discard: Callable[[Any], None] | None = None,
) -> Iterator[tuple[_B, Any]]:
    """``(batch, fetch(batch))`` in order; with ``prefetch`` the next fetch runs on the shared
    pool while the caller works on the current batch. Use it inside ``contextlib.closing`` so
    an early exit waits for the fetch in flight, then hands its result to ``discard``."""
    if not prefetch or len(batches) < 2 or not can_prefetch():
        for batch in batches:
            yield batch, fetch(batch)
        return
    pool = config.thread_pool()
    pending: Future[Any] | None = pool.submit(fetch, batches[0])
    try:
        for i, batch in enumerate(batches):
            assert pending is not None
            encoded = pending.result()
            pending = pool.submit(fetch, batches[i + 1]) if i + 1 < len(batches) else None
            yield batch, encoded
    finally:
        if pending is not None:  # the caller stopped early: let the fetch in flight finish first
            wait([pending])
            if discard is not None and pending.exception() is None:
                discard(pending.result())
