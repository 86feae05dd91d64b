"""Sharded arrays: full write, full read and random window reads, cuzarr vs zarr-python vs tensorstore.

256 MiB float32 (8192x8192), inner chunks 128x128 in 2048x2048 shards, zstd level 0, local disk,
warm page cache. Reads use the files cuzarr wrote (byte-identical to zarr-python's); each library
writes its own copy. Prints seconds, GB/s or windows/s, and cuzarr's ratio to each peer, and the
codec floor (floor.py: numcodecs alone on the inner chunks, every core), whose ratio to a peer is
the best any library could reach against it here.

    python benchmarks/sharding.py [--size 8192] [--windows 200] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np
from floor import FLOOR, CodecFloor
from harness import best_of, ratios_to_peers, save_record, smooth_field, zarr_api_write

import cuzarr

INNER, SHARD = 128, 2048


def window_reader(read: Callable[[int, int], Any], size: int, count: int) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    corners = rng.integers(0, size - INNER, size=(count, 2))

    def run() -> None:
        for y, x in corners:
            read(int(y), int(x))

    return run


def bench_zarr_api(lib: Any, path: str, read_path: str, data: np.ndarray, args: argparse.Namespace):
    """cuzarr and zarr-python share the API, so one function times both."""
    layout = {"chunks": (INNER, INNER), "shards": (SHARD, SHARD)}
    result = {"write_s": best_of(args.repeat, zarr_api_write(lib, path, data, **layout))}
    z = lib.open_array(read_path, mode="r")
    assert np.array_equal(z[...], data)
    result["read_s"] = best_of(args.repeat, lambda: z[...])
    result["windows_s"] = best_of(
        args.repeat, window_reader(lambda y, x: z[y : y + INNER, x : x + INNER], data.shape[0], args.windows)
    )
    return result


def bench_tensorstore(
    path: str, read_path: str, data: np.ndarray, args: argparse.Namespace
) -> dict[str, float]:
    import tensorstore as ts

    metadata = {
        "shape": list(data.shape),
        "data_type": "float32",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [SHARD, SHARD]}},
        "codecs": [
            {
                "name": "sharding_indexed",
                "configuration": {
                    "chunk_shape": [INNER, INNER],
                    "codecs": [
                        {"name": "bytes", "configuration": {"endian": "little"}},
                        {"name": "zstd", "configuration": {"level": 0, "checksum": False}},
                    ],
                    "index_codecs": [
                        {"name": "bytes", "configuration": {"endian": "little"}},
                        {"name": "crc32c"},
                    ],
                    "index_location": "end",
                },
            }
        ],
    }

    def write() -> None:
        t = ts.open(
            {"driver": "zarr3", "kvstore": {"driver": "file", "path": path}, "metadata": metadata},
            create=True,
            delete_existing=True,
        ).result()
        t[...].write(data).result()

    result = {"write_s": best_of(args.repeat, write)}
    reader = ts.open(
        {"driver": "zarr3", "kvstore": {"driver": "file", "path": read_path}},
        context=ts.Context({"cache_pool": {"total_bytes_limit": 0}}),
    ).result()
    assert np.array_equal(reader.read().result(), data)
    result["read_s"] = best_of(args.repeat, lambda: reader.read().result())
    result["windows_s"] = best_of(
        args.repeat,
        window_reader(
            lambda y, x: reader[y : y + INNER, x : x + INNER].read().result(), data.shape[0], args.windows
        ),
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write the results to this JSON file")
    args = parser.parse_args()

    data = smooth_field(args.size)
    gb = data.nbytes / 1e9
    root = tempfile.mkdtemp(prefix="cuzarr-shard-")
    results: dict[str, dict[str, float]] = {}
    try:
        ours = os.path.join(root, "cuzarr.zarr")
        results["cuzarr"] = bench_zarr_api(cuzarr, ours, ours, data, args)
        try:
            import zarr

            results["zarr-python"] = bench_zarr_api(zarr, os.path.join(root, "z.zarr"), ours, data, args)
        except ImportError as exc:
            print(f"skipping zarr-python: {exc}")
        try:
            results["tensorstore"] = bench_tensorstore(os.path.join(root, "t.zarr"), ours, data, args)
        except ImportError as exc:
            print(f"skipping tensorstore: {exc}")
        floor = CodecFloor(data, (INNER, INNER), "zstd")  # the inner chunks, coded by numcodecs alone
        try:
            results[FLOOR] = {
                "write_s": best_of(args.repeat, floor.write),
                "read_s": best_of(args.repeat, lambda: floor.read(Ellipsis)),
            }
        finally:
            floor.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(
        f"{data.nbytes / 2**20:.0f} MiB float32, {INNER}x{INNER} chunks in {SHARD}x{SHARD} shards, zstd, "
        f"{os.cpu_count()} cores, best of {args.repeat}"
    )
    print(f"{'library':<14}{'write GB/s':>12}{'read GB/s':>12}{'windows/s':>12}")
    for name, r in results.items():
        r["write_gbps"], r["read_gbps"] = gb / r["write_s"], gb / r["read_s"]
        windows = f"{args.windows / r['windows_s']:>12.0f}" if "windows_s" in r else f"{'-':>12}"
        if "windows_s" in r:
            r["windows_per_s"] = args.windows / r["windows_s"]
        print(f"{name:<14}{r['write_gbps']:>12.2f}{r['read_gbps']:>12.2f}{windows}")
    floor = results.pop(FLOOR)
    ratios = ratios_to_peers(
        results, {"write": "write_gbps", "read": "read_gbps", "windows": "windows_per_s"}
    )
    ceilings = {  # the best ratio any library could reach against each peer on this machine
        name: {q: floor[f"{q}_gbps"] / r[f"{q}_gbps"] for q in ("write", "read")}
        for name, r in results.items()
        if name != "cuzarr"
    }
    for name, by_question in ceilings.items():
        print(f"{FLOOR} / {name}: " + ", ".join(f"{q} {v:.2f}x" for q, v in by_question.items()))
    if args.json:
        payload = {"results": results, "ratios": ratios, FLOOR: floor, "max ratios": ceilings}
        save_record(args.json, "sharding", payload)


if __name__ == "__main__":
    main()
