"""Map-style and iterable datasets: batched reads, ordering, sharding across DataLoader workers."""

from __future__ import annotations

import numpy as np
import pytest

import cuzarr

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

from cuzarr.integrations.torch import ChunkDataset, ChunkIterableDataset  # noqa: E402


def test_getitem_and_bounds(local_array, data):
    ds = ChunkDataset(local_array)
    assert len(ds) == 60
    torch.testing.assert_close(ds[3], torch.from_numpy(data[3]))
    torch.testing.assert_close(ds[-1], torch.from_numpy(data[-1]))
    for bad in (60, -61):
        with pytest.raises(IndexError):
            ds[bad]
    with pytest.raises(IndexError):
        ds.__getitems__([0, 60])


def test_indices_and_transform(local_array, data):
    ds = ChunkDataset(local_array, indices=[5, 50, -1], transform=lambda t: t * 2)
    assert len(ds) == 3
    torch.testing.assert_close(ds[1], torch.from_numpy(data[50] * 2))
    torch.testing.assert_close(ds[2], torch.from_numpy(data[59] * 2))
    with pytest.raises(IndexError):
        ds[3]
    with pytest.raises(IndexError):
        ChunkDataset(local_array, indices=[0, 60])


def test_getitems_reads_a_batch_once_and_keeps_order(local_array, data, monkeypatch):
    ds = ChunkDataset(local_array)
    reads = []
    original = cuzarr.Array.get_orthogonal_selection

    def counting(self, selection, **kwargs):
        reads.append(selection)
        return original(self, selection, **kwargs)

    monkeypatch.setattr(cuzarr.Array, "get_orthogonal_selection", counting)
    monkeypatch.setattr(cuzarr.Array, "get_basic_selection", lambda *a, **k: pytest.fail("per-sample read"))
    batch = ds.__getitems__([42, 3, 42, 17, 0])
    assert len(reads) == 1 and list(reads[0][0]) == [0, 3, 17, 42]  # sorted unique rows, one read
    torch.testing.assert_close(torch.stack(batch), torch.from_numpy(data[[42, 3, 42, 17, 0]]))
    torch.testing.assert_close(ds.get_batch([59, 1]), torch.from_numpy(data[[59, 1]]))


@pytest.mark.parametrize("num_workers", [0, 2])
def test_dataloader_map_style(local_array, data, num_workers):
    loader = DataLoader(ChunkDataset(local_array), batch_size=16, shuffle=True, num_workers=num_workers)
    batches = list(loader)
    assert batches[0].shape == (16, 24)
    seen = torch.cat(batches).numpy()
    np.testing.assert_array_equal(seen[np.argsort(seen[:, 0])], data[np.argsort(data[:, 0])])


def test_iterable_blocks_and_shuffle(local_array, data):
    plain = ChunkIterableDataset(local_array)
    assert plain.blocks() == [(s, min(s + 10, 60)) for s in range(0, 60, 10)]
    torch.testing.assert_close(torch.stack(list(plain)), torch.from_numpy(data))
    shuffled = ChunkIterableDataset(local_array, shuffle=True, seed=3, blocks_per_read=2)
    first = torch.stack(list(shuffled)).numpy()
    assert not np.array_equal(first, data)
    # each 20-row block stays together: samples are permuted within a block, blocks among themselves
    block_of = {tuple(row): i // 20 for i, row in enumerate(data)}
    assert all(len({block_of[tuple(r)] for r in first[i : i + 20]}) == 1 for i in range(0, 60, 20))
    np.testing.assert_array_equal(torch.stack(list(shuffled)).numpy(), first)  # same epoch, same order
    shuffled.set_epoch(1)
    assert not np.array_equal(torch.stack(list(shuffled)).numpy(), first)


def test_iterable_dataloader_shards_across_workers(local_array, data):
    loader = DataLoader(ChunkIterableDataset(local_array, shuffle=True), batch_size=7, num_workers=2)
    seen = torch.cat(list(loader)).numpy()
    assert seen.shape == data.shape
    np.testing.assert_array_equal(np.sort(seen[:, 0]), np.sort(data[:, 0]))


def test_emulated_device_array(local_array, data):
    z = cuzarr.open_array(local_array.store, mode="r", device="emulated")
    ds = ChunkDataset(z)
    torch.testing.assert_close(torch.stack(ds.__getitems__([7, 2])), torch.from_numpy(data[[7, 2]]))


@pytest.mark.gpu
@pytest.mark.real_gpu  # DLPack into a torch CUDA tensor
def test_cuda_tensors_through_dlpack(local_array, data):
    z = cuzarr.open_array(local_array.store, mode="r", device="cuda")
    ds = ChunkDataset(z, device="cuda")
    batch = ds.get_batch([4, 1, 4])
    assert batch.device.type == "cuda"
    torch.testing.assert_close(batch.cpu(), torch.from_numpy(data[[4, 1, 4]]))
    sample = next(iter(ChunkIterableDataset(z, device="cuda")))
    assert sample.device.type == "cuda"
