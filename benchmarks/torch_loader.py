"""Question: how many samples/s does a torch DataLoader get from cuzarr's ChunkDataset (one batched
read per batch) compared with a naive zarr-python Dataset (one ``z[i]`` per sample), same files?

One run per configuration (shuffled batches of random rows, and the sequential iterable variant),
printed as samples/s and ratios; ``--out`` saves a JSON record like the other benchmarks.

    python benchmarks/torch_loader.py [--rows 20000] [--batch 256] [--workers 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Any

import numpy as np
import torch
import zarr
from harness import save_record
from torch.utils.data import DataLoader, Dataset

import cuzarr
from cuzarr.integrations.torch import ChunkDataset, ChunkIterableDataset


class NaiveZarrDataset(Dataset):
    """What a first PyTorch loader over zarr-python looks like: one array read per sample."""

    def __init__(self, path: str):
        self.array = zarr.open_array(path, mode="r")

    def __len__(self) -> int:
        return self.array.shape[0]

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.array[index]))


def samples_per_second(loader: DataLoader, limit: int) -> float:
    """Samples/s over at most ``limit`` samples (one pass, timing from the first request)."""
    seen = 0
    start = time.perf_counter()
    for batch in loader:
        seen += len(batch)
        if seen >= limit:
            break
    return seen / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--features", type=int, default=256)
    parser.add_argument("--chunk-rows", type=int, default=512)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--limit", type=int, default=10240, help="samples timed per configuration")
    parser.add_argument("--json", help="write a JSON record here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "samples.zarr")
        rng = np.random.default_rng(0)
        data = np.round(rng.normal(size=(args.rows, args.features)), 2).astype(np.float32)
        z = cuzarr.create_array(path, shape=data.shape, chunks=(args.chunk_rows, args.features), dtype="f4")
        z[...] = data
        common: dict[str, Any] = {"batch_size": args.batch, "num_workers": args.workers}
        torch.manual_seed(0)
        results = {
            "naive_zarr_python_shuffled": samples_per_second(
                DataLoader(NaiveZarrDataset(path), shuffle=True, **common), args.limit
            ),
            "cuzarr_chunkdataset_shuffled": samples_per_second(
                DataLoader(ChunkDataset(cuzarr.open_array(path, mode="r")), shuffle=True, **common),
                args.limit,
            ),
            "cuzarr_iterable_shuffled": samples_per_second(
                DataLoader(ChunkIterableDataset(cuzarr.open_array(path, mode="r"), shuffle=True), **common),
                args.limit,
            ),
        }
    base = results["naive_zarr_python_shuffled"]
    ratios = {name: value / base for name, value in results.items()}
    for name, value in results.items():
        print(f"{name:32s} {value:12.0f} samples/s   x{ratios[name]:.1f}")
    if args.json:
        save_record(
            args.json, "torch_loader", {"config": vars(args), "samples_per_s": results, "ratios": ratios}
        )


if __name__ == "__main__":
    main()
