"""Run one batch step of the device path so that trouble never leaves it half done.

Out of memory: the cached memory is released and the batch is halved, down to single chunks;
a single chunk gets one more try after the release, then a ``DeviceOutOfMemory`` naming it and
the bytes requested. Any other device failure releases the memory too and becomes a
``DeviceError`` naming the batch's chunks, so the caller returns or stores nothing of it and
the next call starts clean. Data errors (``CodecError`` and other cuzarr errors) pass unchanged.
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import CuzarrError, DeviceError, DeviceOutOfMemory
from .ops import DeviceOps

logger = logging.getLogger("cuzarr.gpu")

#: ``run(start, stop)`` does the step for items ``start:stop`` and returns one result per item.
PartRunner = Callable[[int, int], list[Any]]


def run_in_parts(
    run: PartRunner,
    keys: Sequence[str],
    *,
    action: str,
    ops: DeviceOps,
    release: Callable[[], None],
    stats: Counter[str],
) -> list[Any]:
    """``run(0, len(keys))``, halving the range on out-of-memory; results in order.

    ``stats`` counts ``oom_splits`` (a range halved), ``oom_retries`` (a single chunk tried again)
    and ``device_errors``.
    """
    results: list[Any] = []
    todo = [(0, len(keys), False)]  # a stack: the left half is on top, so results stay in order
    while todo:
        start, stop, retried = todo.pop()
        done, oom = _attempt(run, start, stop, keys, action, ops, release, stats)
        if oom is None:
            results.extend(done)
            continue
        release()  # outside the except block: the failed attempt's buffers are already unreferenced
        if stop - start > 1:
            middle = (start + stop) // 2
            stats["oom_splits"] += 1
            if stats["oom_splits"] == 1:
                logger.warning(
                    "device out of memory %s %d chunks; halving the batch (a smaller batch_bytes avoids this)",
                    action,
                    stop - start,
                )
            todo += [(middle, stop, False), (start, middle, False)]
        elif not retried:
            stats["oom_retries"] += 1
            todo.append((start, stop, True))
        else:
            raise _single_chunk_error(oom, keys[start], action) from oom
    return results


def _attempt(
    run: PartRunner,
    start: int,
    stop: int,
    keys: Sequence[str],
    action: str,
    ops: DeviceOps,
    release: Callable[[], None],
    stats: Counter[str],
) -> tuple[list[Any], DeviceOutOfMemory | None]:
    try:
        return run(start, stop), None
    except Exception as exc:
        # drop the failed attempt's locals (device buffers) now, not when the traceback dies
        traceback.clear_frames(exc.__traceback__)
        oom = ops.as_out_of_memory(exc)
        if oom is not None:  # without its traceback: it would tie this frame (and the batch) in a cycle
            return [], oom.with_traceback(None)
        if isinstance(exc, CuzarrError):
            raise
        stats["device_errors"] += 1
        release()
        raise DeviceError(
            f"device failure {action} {stop - start} chunks (nothing of this batch was kept): "
            f"{type(exc).__name__}: {exc}",
            keys=tuple(keys[start:stop]),
        ) from exc
    except BaseException:
        release()
        raise


def _single_chunk_error(oom: DeviceOutOfMemory, key: str, action: str) -> DeviceOutOfMemory:
    requested = f"{oom.nbytes:,} bytes" if oom.nbytes is not None else "an allocation of unknown size"
    return DeviceOutOfMemory(
        f"out of {oom.memory} memory {action} a single chunk even after releasing cached memory "
        f"(requested {requested}): {oom}",
        nbytes=oom.nbytes,
        memory=oom.memory,
        keys=(key,),
    )
