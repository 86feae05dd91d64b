"""zarr-python's ``zarr.api.asynchronous``: the top-level API as coroutines.

Each function is the synchronous one of ``api.synchronous`` run in a worker thread
(``asyncio.to_thread``; the core never runs an event loop), with ``AsyncArray``/``AsyncGroup``
arguments unwrapped and ``Array``/``Group`` results wrapped. ``create_hierarchy`` is an async
generator, and ``load`` of a group reads every array into a dict in the worker thread, so that no
later lookup blocks the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from ..core.async_array import AsyncArray
from ..core.async_group import AsyncGroup, async_nodes, run_async
from ..core.group import Group
from . import synchronous


def _coroutine_of(function: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Any]]:
    """``function`` as an ``async def`` of the same name, signature and documentation."""

    @functools.wraps(function)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_async(function, *args, **kwargs)

    run.__doc__ = (
        f"``cuzarr.{function.__name__}`` as a coroutine (run in a worker thread; arrays and groups "
        f"come back as AsyncArray / AsyncGroup).\n\n{function.__doc__ or ''}"
    )
    signature = inspect.signature(function)
    returns = signature.return_annotation
    if isinstance(returns, str):  # annotations are strings here (``from __future__ import annotations``)
        returns = re.sub(r"\b(Array|Group)\b", r"Async\1", returns)
    run.__signature__ = signature.replace(return_annotation=returns)  # type: ignore[attr-defined]
    return run


array = _coroutine_of(synchronous.array)
consolidate_metadata = _coroutine_of(synchronous.consolidate_metadata)
copy = _coroutine_of(synchronous.copy)
copy_all = _coroutine_of(synchronous.copy_all)
copy_store = _coroutine_of(synchronous.copy_store)
create = _coroutine_of(synchronous.create)
create_array = _coroutine_of(synchronous.create_array)
create_group = _coroutine_of(synchronous.create_group)
empty = _coroutine_of(synchronous.empty)
empty_like = _coroutine_of(synchronous.empty_like)
from_array = _coroutine_of(synchronous.from_array)
full = _coroutine_of(synchronous.full)
full_like = _coroutine_of(synchronous.full_like)
group = _coroutine_of(synchronous.group)
ones = _coroutine_of(synchronous.ones)
ones_like = _coroutine_of(synchronous.ones_like)
open = _coroutine_of(synchronous.open)  # noqa: A001 - zarr-python's name
open_array = _coroutine_of(synchronous.open_array)
open_consolidated = _coroutine_of(synchronous.open_consolidated)
open_group = _coroutine_of(synchronous.open_group)
open_like = _coroutine_of(synchronous.open_like)
save = _coroutine_of(synchronous.save)
save_array = _coroutine_of(synchronous.save_array)
save_group = _coroutine_of(synchronous.save_group)
tree = _coroutine_of(synchronous.tree)
zeros = _coroutine_of(synchronous.zeros)
zeros_like = _coroutine_of(synchronous.zeros_like)


async def create_hierarchy(
    *, store: Any, nodes: dict[str, Any], overwrite: bool = False
) -> AsyncIterator[tuple[str, AsyncArray | AsyncGroup]]:
    """``cuzarr.create_hierarchy`` as an async generator: every node is written in one worker
    call, then ``(path, node)`` pairs are yielded, parents first."""
    async for path, node in async_nodes(
        lambda: synchronous.create_hierarchy(store=store, nodes=nodes, overwrite=overwrite)
    ):
        yield path, node


async def load(store: Any, path: str | None = None, zarr_format: int | None = None) -> Any:
    """The array at ``path`` as a NumPy (or device) array; for a group, a dict of its arrays' names
    to their data, all read in the worker thread."""

    def read() -> Any:
        node = synchronous.open(store, mode="r", path=path, zarr_format=zarr_format)
        if isinstance(node, Group):
            return {name: member[...] for name, member in node.arrays()}
        return node[...]

    return await asyncio.to_thread(read)


__all__ = list(synchronous.__all__)  # the same names, as coroutines (async generators where noted)
