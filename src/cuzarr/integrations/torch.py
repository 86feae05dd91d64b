"""PyTorch datasets over the first axis of a cuzarr array, reading a whole batch in one call.

``ChunkDataset`` is map-style: the ``DataLoader`` hands ``__getitems__`` every index of a batch,
which becomes a single orthogonal read (one batched plan over all chunks the batch touches)
instead of one read per sample. ``ChunkIterableDataset`` streams chunk-aligned blocks, so each
chunk is decoded once per epoch even when shuffling, and shards blocks across workers.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

import cuzarr

__all__ = ["ChunkDataset", "ChunkIterableDataset", "to_tensor"]

Transform = Callable[[torch.Tensor], Any]


def to_tensor(data: Any, device: str | torch.device = "cpu") -> torch.Tensor:
    """A tensor on ``device`` sharing memory with ``data`` where it can (NumPy on CPU, CuPy via DLPack)."""
    device = torch.device(device)
    if isinstance(data, np.ndarray) or np.isscalar(data):
        array = np.asarray(data)
        if not array.flags.writeable:
            array = array.copy()
        tensor = torch.from_numpy(array)
    else:  # CuPy (or any DLPack producer): zero-copy on its device
        tensor = torch.from_dlpack(data)
    return tensor if tensor.device == device else tensor.to(device)


def _check_first_axis(z: cuzarr.Array) -> None:
    if z.ndim == 0:
        raise TypeError(f"{z!r} is 0-dimensional; datasets iterate over the first axis")


class ChunkDataset(Dataset):
    """Samples ``z[i]`` for ``i`` in ``indices`` (default: every index of the first axis).

    ``device`` is the torch device of the returned tensors (``"cuda"`` moves CPU reads once per
    batch; an array opened with ``device="cuda"`` hands CuPy data over through DLPack).
    """

    def __init__(
        self,
        z: cuzarr.Array,
        *,
        indices: Sequence[int] | np.ndarray | None = None,
        device: str | torch.device = "cpu",
        transform: Transform | None = None,
    ):
        _check_first_axis(z)
        self.array = z
        self.device = str(device)
        self.transform = transform
        if indices is None:
            self.indices: np.ndarray | None = None
        else:
            rows = np.asarray(indices, dtype=np.int64).reshape(-1)
            n = z.shape[0]
            if rows.size and (rows.min() < -n or rows.max() >= n):
                raise IndexError(f"indices out of range for first axis of length {n} of {z!r}")
            self.indices = rows % n if n else rows

    def __len__(self) -> int:
        return self.array.shape[0] if self.indices is None else len(self.indices)

    def _rows(self, positions: Sequence[int] | np.ndarray) -> np.ndarray:
        """Array rows for dataset positions (negative positions count from the end)."""
        positions = np.asarray(positions, dtype=np.int64).reshape(-1)
        n = len(self)
        if positions.size and (positions.min() < -n or positions.max() >= n):
            bad = positions[(positions < -n) | (positions >= n)][0]
            raise IndexError(f"index {int(bad)} is out of range for a dataset of length {n}")
        positions = positions % n if n else positions
        return positions if self.indices is None else self.indices[positions]

    def _finish(self, sample: torch.Tensor) -> Any:
        return sample if self.transform is None else self.transform(sample)

    def __getitem__(self, index: int) -> Any:
        row = int(self._rows([operator.index(index)])[0])
        return self._finish(to_tensor(self.array[row], self.device))

    def get_batch(self, positions: Sequence[int]) -> torch.Tensor:
        """All samples at ``positions`` stacked in one tensor, read in one orthogonal selection."""
        rows = self._rows(positions)
        unique, inverse = np.unique(rows, return_inverse=True)
        batch = to_tensor(self.array.oindex[(unique,)], self.device)
        if len(unique) != len(rows) or not np.array_equal(unique, rows):
            batch = batch[torch.from_numpy(inverse.reshape(-1)).to(batch.device)]
        return batch

    def __getitems__(self, positions: Sequence[int]) -> list[Any]:
        """The DataLoader's batched fetch: one read, then one tensor per sample (views of the batch)."""
        batch = self.get_batch(positions)
        return [self._finish(sample) for sample in batch.unbind(0)]


class ChunkIterableDataset(IterableDataset):
    """Streams samples block by block; a block is ``blocks_per_read`` chunks along the first axis.

    With ``shuffle`` the block order and the sample order inside each block are permuted (the
    same way in every worker, from ``seed`` and the epoch set by ``set_epoch``); blocks are dealt
    round-robin to DataLoader workers, so each sample is yielded once per epoch.
    """

    def __init__(
        self,
        z: cuzarr.Array,
        *,
        shuffle: bool = False,
        seed: int = 0,
        blocks_per_read: int = 1,
        device: str | torch.device = "cpu",
        transform: Transform | None = None,
    ):
        _check_first_axis(z)
        if blocks_per_read < 1:
            raise ValueError(f"blocks_per_read must be >= 1, got {blocks_per_read}")
        self.array = z
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self.block = (z.shards or z.chunks)[0] * blocks_per_read
        self.device = str(device)
        self.transform = transform

    def set_epoch(self, epoch: int) -> None:
        """Choose the shuffle of the next epoch (call before each epoch, as with DistributedSampler)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.array.shape[0]

    def blocks(self) -> list[tuple[int, int]]:
        """(start, stop) rows of every block, in this epoch's order."""
        n = self.array.shape[0]
        bounds = [(start, min(start + self.block, n)) for start in range(0, n, self.block)]
        if self.shuffle:
            order = np.random.default_rng((self.seed, self.epoch)).permutation(len(bounds))
            bounds = [bounds[i] for i in order]
        return bounds

    def _my_blocks(self) -> list[tuple[int, int]]:
        info = get_worker_info()
        bounds = self.blocks()
        return bounds if info is None else bounds[info.id :: info.num_workers]

    def __iter__(self) -> Iterator[Any]:
        for start, stop in self._my_blocks():
            block = to_tensor(self.array[start:stop], self.device)
            order = range(stop - start)
            if self.shuffle:
                rng = np.random.default_rng((self.seed, self.epoch, start))
                order = rng.permutation(stop - start).tolist()
            for i in order:
                sample = block[i]
                yield sample if self.transform is None else self.transform(sample)

    def num_blocks(self) -> int:
        return math.ceil(self.array.shape[0] / self.block) if self.array.shape[0] else 0
