"""Default chunk shapes when the user gives none."""

from __future__ import annotations

import math

MiB = 1024 * 1024


def guess_chunks(
    shape: tuple[int, ...], itemsize: int, *, min_bytes: int = 1 * MiB, max_bytes: int = 4 * MiB
) -> tuple[int, ...]:
    """A chunk shape of roughly ``min_bytes``..``max_bytes`` (like zarr-python's ``_guess_chunks``).

    Start from the whole array (zero-length dimensions count as 1, so the result is always a valid
    chunk shape) and halve the largest dimension until the chunk fits in ``max_bytes``. Each halving
    at most halves the chunk, so a large array ends between ``max_bytes / 2`` and ``max_bytes``
    (at least ``min_bytes`` when ``max_bytes >= 2 * min_bytes``); an array smaller than
    ``max_bytes`` is a single chunk.
    """
    if not 0 < min_bytes <= max_bytes:
        raise ValueError(f"need 0 < min_bytes <= max_bytes, got {min_bytes}, {max_bytes}")
    chunks = [max(1, int(s)) for s in shape]
    itemsize = max(1, int(itemsize))
    while chunks and math.prod(chunks) * itemsize > max_bytes:
        largest = max(range(len(chunks)), key=lambda i: chunks[i])
        if chunks[largest] == 1:
            break
        chunks[largest] = -(-chunks[largest] // 2)
    return tuple(chunks)
