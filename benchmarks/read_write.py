"""Full-array write and read throughput: cuzarr vs zarr-python vs tensorstore, one run, same data.

Question answered: how fast does each library write and read a whole 256 MiB float32 array with
512x512 zstd chunks on a local disk (warm page cache)? Every library reads the same files
(written by cuzarr), and each writes its own copy. Prints GB/s and cuzarr's ratio to each peer.

    python benchmarks/read_write.py [--size 8192] [--chunk 512] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from typing import Any

import numpy as np
from harness import best_of, ratios_to_peers, save_record, smooth_field, zarr_api_write

import cuzarr


def bench_zarr_api(lib: Any, path: str, read_path: str, data: np.ndarray, chunk: int, repeat: int):
    """cuzarr and zarr-python share the API, so one function times both."""
    write_s = best_of(repeat, zarr_api_write(lib, path, data, chunks=(chunk, chunk)))
    z = lib.open_array(read_path, mode="r")
    assert np.array_equal(z[...], data)
    return {"write_s": write_s, "read_s": best_of(repeat, lambda: z[...])}


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
    return {"write_s": write_s, "read_s": best_of(repeat, lambda: reader.read().result())}


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
    results: dict[str, dict[str, Any]] = {}
    try:
        ours = os.path.join(root, "cuzarr.zarr")
        results["cuzarr"] = bench_zarr_api(cuzarr, ours, ours, data, args.chunk, args.repeat)
        try:
            import zarr

            results["zarr-python"] = bench_zarr_api(
                zarr, os.path.join(root, "z.zarr"), ours, data, args.chunk, args.repeat
            )
        except ImportError as exc:
            print(f"skipping zarr-python: {exc}")
        try:
            results["tensorstore"] = bench_tensorstore(
                os.path.join(root, "t.zarr"), ours, data, args.chunk, args.repeat
            )
        except ImportError as exc:
            print(f"skipping tensorstore: {exc}")
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
    ratios = ratios_to_peers(results, {"write": "write_gbps", "read": "read_gbps"})
    if args.json:
        save_record(
            args.json,
            "read_write",
            {
                "array": {
                    "shape": list(data.shape),
                    "dtype": "float32",
                    "chunks": [args.chunk] * 2,
                    "codec": "zstd(0)",
                },
                "results": results,
                "ratios": ratios,
            },
        )


if __name__ == "__main__":
    main()
