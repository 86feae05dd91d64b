"""Full-array write and read throughput: cuzarr vs zarr-python vs tensorstore, one run, same data.

Question answered: how fast does each library write and read a whole 256 MiB float32 array with
512x512 zstd chunks on a local disk (warm page cache)? Every library reads the same files
(written by cuzarr), and each writes its own copy. Prints GB/s and cuzarr's ratio to each peer.

    python benchmarks/read_write.py [--size 8192] [--chunk 512] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version as _version
from typing import Any

import numpy as np

import cuzarr


def smooth_field(n: int) -> np.ndarray:
    """A float32 field that compresses like real data (~2-3x with zstd), not like noise or zeros."""
    x = np.linspace(0, 8 * np.pi, n, dtype=np.float32)
    field = np.sin(x)[:, None] * np.cos(x)[None, :]
    rng = np.random.default_rng(0)
    field += rng.normal(0, 0.01, size=(n, n)).astype(np.float32)
    return np.round(field, 3).astype(np.float32)


def best_of(repeat: int, function: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_cuzarr(path: str, data: np.ndarray, chunk: int, repeat: int) -> dict[str, float]:
    def write() -> None:
        z = cuzarr.create_array(
            store=path,
            shape=data.shape,
            chunks=(chunk, chunk),
            dtype=data.dtype,
            overwrite=True,
            compressors=cuzarr.codecs.ZstdCodec(level=0),
        )
        z[...] = data

    write_s = best_of(repeat, write)
    z = cuzarr.open_array(path, mode="r")
    result = z[...]
    assert np.array_equal(result, data)
    read_s = best_of(repeat, lambda: z[...])
    return {"write_s": write_s, "read_s": read_s}


def bench_zarr_python(path: str, read_path: str, data: np.ndarray, chunk: int, repeat: int):
    import zarr

    def write() -> None:
        z = zarr.create_array(
            store=path,
            shape=data.shape,
            chunks=(chunk, chunk),
            dtype=data.dtype,
            overwrite=True,
            compressors=zarr.codecs.ZstdCodec(level=0),
        )
        z[...] = data

    write_s = best_of(repeat, write)
    z = zarr.open_array(read_path, mode="r")
    assert np.array_equal(z[...], data)
    read_s = best_of(repeat, lambda: z[...])
    return {"write_s": write_s, "read_s": read_s, "version": zarr.__version__}


def bench_tensorstore(path: str, read_path: str, data: np.ndarray, chunk: int, repeat: int):
    import tensorstore as ts

    spec = {
        "driver": "zarr3",
        "kvstore": {"driver": "file", "path": path},
        "metadata": {
            "shape": list(data.shape),
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [chunk, chunk]}},
            "data_type": "float32",
            "codecs": [
                {"name": "bytes", "configuration": {"endian": "little"}},
                {"name": "zstd", "configuration": {"level": 0, "checksum": False}},
            ],
        },
    }

    def write() -> None:
        t = ts.open(spec, create=True, delete_existing=True).result()
        t[...].write(data).result()

    write_s = best_of(repeat, write)
    reader = ts.open(
        {"driver": "zarr3", "kvstore": {"driver": "file", "path": read_path}},
        context=ts.Context({"cache_pool": {"total_bytes_limit": 0}}),
    ).result()
    assert np.array_equal(reader.read().result(), data)
    read_s = best_of(repeat, lambda: reader.read().result())
    return {"write_s": write_s, "read_s": read_s, "version": _version("tensorstore")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=8192, help="array is size x size float32")
    parser.add_argument("--chunk", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write the results to this JSON file")
    args = parser.parse_args()

    data = smooth_field(args.size)
    gb = data.nbytes / 1e9
    root = tempfile.mkdtemp(prefix="cuzarr-bench-")
    try:
        results: dict[str, dict[str, Any]] = {}
        ours = os.path.join(root, "cuzarr.zarr")
        results["cuzarr"] = bench_cuzarr(ours, data, args.chunk, args.repeat)
        for name, function in (("zarr-python", bench_zarr_python), ("tensorstore", bench_tensorstore)):
            try:
                results[name] = function(
                    os.path.join(root, f"{name}.zarr"), ours, data, args.chunk, args.repeat
                )
            except ImportError as exc:
                print(f"skipping {name}: {exc}")
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(
        f"{data.nbytes / 2**20:.0f} MiB float32, {args.chunk}x{args.chunk} zstd chunks, "
        f"{os.cpu_count()} cores, best of {args.repeat}"
    )
    print(f"{'library':<14}{'write GB/s':>12}{'read GB/s':>12}")
    for name, r in results.items():
        r["write_gbps"], r["read_gbps"] = gb / r["write_s"], gb / r["read_s"]
        print(f"{name:<14}{r['write_gbps']:>12.2f}{r['read_gbps']:>12.2f}")
    ratios = {}
    for name, r in results.items():
        if name != "cuzarr":
            ratios[name] = {
                "write": results["cuzarr"]["write_gbps"] / r["write_gbps"],
                "read": results["cuzarr"]["read_gbps"] / r["read_gbps"],
            }
            print(f"cuzarr / {name}: write {ratios[name]['write']:.2f}x, read {ratios[name]['read']:.2f}x")
    if args.json:
        record = {
            "benchmark": "read_write",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            },
            "array": {
                "shape": list(data.shape),
                "dtype": "float32",
                "chunks": [args.chunk] * 2,
                "codec": "zstd(0)",
            },
            "results": results,
            "ratios": ratios,
        }
        with open(args.json, "w") as f:
            json.dump(record, f, indent=2)


if __name__ == "__main__":
    main()
