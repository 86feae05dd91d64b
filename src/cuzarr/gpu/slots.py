"""Staging slots: pinned host buffers lent to one batch at a time and given back with a copy event.

A batched read fetches batch i+1 on a pool thread while the caller decodes batch i, so a staging
buffer cannot belong to a thread. Instead a slot is *taken* by the fetch that fills it and
*given back* by the decode that read it, together with an event recorded after the decode's
host-to-device copy out of it. Whoever takes the slot next waits on that event before writing,
so a slot is never rewritten while the device may still be copying from it, and never written
by one batch while another batch holds it. Concurrent reads (other threads, other arrays) take
other slots. One read holds at most two slots at a time (the batch decoding and the batch being
fetched); up to ``keep`` free slots stay cached for the next batch, and more are let go.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import weakref
from typing import Any

import numpy as np

from .ops import DeviceOps

#: A new slot is this much larger than the batch asking for it, so slightly bigger batches fit.
_HEADROOM = 1.25
_MIN_SLOT = 1 << 20


class StagingSlot:
    """One pinned host buffer and the event after which the device no longer reads it."""

    __slots__ = ("number", "host", "event")

    def __init__(self, number: int):
        self.number = number
        self.host: np.ndarray | None = None
        self.event: Any = None


class SlotLease:
    """One batch's hold on a slot (the parts of a split batch share it).

    ``give_back`` is idempotent and may run on any thread; a lease dropped without it gives its
    slot back when collected (letting the memory go, since nobody said the slot is reusable).
    """

    def __init__(self, slots: StagingSlots, slot: StagingSlot):
        self.number = slot.number
        self.host: np.ndarray = slot.host  # type: ignore[assignment]
        self._state: list[Any] = [None, False]  # [event after the last copy out of it, keep]
        self._give_back = weakref.finalize(self, slots._return, slot, self._state)
        self._give_back.atexit = False

    def copied(self, event: Any) -> None:
        """Note ``event``, recorded after a host-to-device copy out of the slot was queued."""
        self._state[0] = event

    def give_back(self, *, keep: bool = True) -> None:
        """Hand the slot back: cached for the next batch with ``keep``, else its memory is let go."""
        self._state[1] = keep
        self._give_back()

    @property
    def given_back(self) -> bool:
        return not self._give_back.alive


class StagingSlots:
    """The slots of one device backend: taken by fetches, given back by decodes (thread-safe)."""

    def __init__(self, ops: DeviceOps, keep: int = 2):
        self._ops = ops
        self._keep = keep
        self._free: list[StagingSlot] = []
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        #: slots taken and not given back yet
        self.held = 0

    def take(self, nbytes: int) -> SlotLease:
        """A slot of at least ``nbytes`` that no batch holds and no copy reads any more."""
        with self._lock:
            slot = self._free.pop(0) if self._free else StagingSlot(next(self._numbers))
            self.held += 1
        try:
            self._ops.wait_event(slot.event)  # the last copy out of it has finished: rewritable
            slot.event = None
            if slot.host is None or slot.host.size < nbytes:
                slot.host = None  # the outgrown buffer's memory may be what the new one needs
                slot.host = self._allocate(nbytes)
        except BaseException:
            with self._lock:
                self.held -= 1
            slot.host = slot.event = None
            raise
        self._ops.note_staging("take", slot.number)
        return SlotLease(self, slot)

    def clear(self) -> None:
        """Let go of every free slot (after a failed batch: its memory may be what a retry needs)."""
        with self._lock:
            free, self._free = self._free, []
        for slot in free:
            self._let_go(slot)

    @property
    def cached(self) -> int:
        """Free slots kept for the next batch."""
        return len(self._free)

    @property
    def cached_bytes(self) -> int:
        """Host bytes of the free slots: between reads, the whole staging arena."""
        with self._lock:
            return sum(slot.host.size for slot in self._free if slot.host is not None)

    def _allocate(self, nbytes: int) -> np.ndarray:
        try:
            return self._ops.host_empty(max(int(nbytes * _HEADROOM), _MIN_SLOT))
        except Exception as exc:
            if self._ops.as_out_of_memory(exc) is None:
                raise
        return self._ops.host_empty(max(nbytes, 1))  # no room for headroom: exactly this batch

    def _return(self, slot: StagingSlot, state: list[Any]) -> None:
        slot.event, keep = state
        self._ops.note_staging("give", slot.number)
        surplus: StagingSlot | None = slot
        with self._lock:
            self.held -= 1
            if keep and slot.host is not None:
                self._free.append(slot)
                surplus = self._free.pop(0) if len(self._free) > self._keep else None
        if surplus is not None:
            self._let_go(surplus)

    def _let_go(self, slot: StagingSlot) -> None:
        """Free a slot's memory once no copy reads it (a pinned block could be handed out again).

        A failing wait means the device itself failed: the copy will never run, and the error
        belongs to whatever device call comes next, not to this clean-up.
        """
        with contextlib.suppress(Exception):
            self._ops.wait_event(slot.event)
        slot.host = slot.event = None
        self._ops.note_staging("drop", slot.number)
