"""Selection speed: vindex of random points, oindex of random rows, and blocks iteration.

cuzarr vs zarr-python in one run, on the same files (written once by cuzarr), local disk, warm
page cache. The array is 4000x2500 float32 in 1000 chunks of 100x100 (zstd).

    python benchmarks/selection.py [--points 100000] [--rows 1000] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from harness import save_record

import cuzarr

SHAPE, CHUNKS = (4000, 2500), (100, 100)  # 40 x 25 = 1000 chunks


def best_of(repeat: int, function: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def workloads(
    a: Any, points: tuple[np.ndarray, np.ndarray], rows: np.ndarray
) -> dict[str, Callable[[], Any]]:
    def blocks() -> float:
        total = 0.0
        for i in range(a.cdata_shape[0]):
            for j in range(a.cdata_shape[1]):
                total += float(a.blocks[i, j][0, 0])
        return total

    return {
        "vindex": lambda: a.vindex[points],
        "oindex": lambda: a.oindex[rows, :],
        "blocks": blocks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write the results to this JSON file")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    data = rng.normal(size=SHAPE).astype("f4").round(2)
    points = (rng.integers(0, SHAPE[0], args.points), rng.integers(0, SHAPE[1], args.points))
    rows = np.sort(rng.choice(SHAPE[0], args.rows, replace=False))
    root = tempfile.mkdtemp(prefix="cuzarr-sel-")
    path = os.path.join(root, "a.zarr")
    try:
        cuzarr.create_array(store=path, shape=SHAPE, chunks=CHUNKS, dtype="f4")[...] = data
        arrays: dict[str, Any] = {"cuzarr": cuzarr.open_array(path, mode="r")}
        try:
            import zarr

            arrays["zarr-python"] = zarr.open_array(path, mode="r")
        except ImportError as exc:
            print(f"skipping zarr-python: {exc}")
        expected = {"vindex": data[points], "oindex": data[rows, :]}
        results: dict[str, dict[str, float]] = {}
        for library, array in arrays.items():
            results[library] = {}
            for name, function in workloads(array, points, rows).items():
                seconds, value = best_of(args.repeat, function)
                if name != "blocks":
                    assert np.array_equal(np.asarray(value), expected[name]), (library, name)
                results[library][name] = seconds
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(
        f"{SHAPE} float32, {CHUNKS} chunks (1000), {args.points} points, {args.rows} rows, "
        f"{os.cpu_count()} cores, best of {args.repeat}"
    )
    print(f"{'workload':<10}" + "".join(f"{lib:>14}" for lib in results) + f"{'ratio':>10}")
    ratios = {}
    for name in results["cuzarr"]:
        row = f"{name:<10}" + "".join(f"{results[lib][name]:>13.3f}s" for lib in results)
        if "zarr-python" in results:
            ratios[name] = results["zarr-python"][name] / results["cuzarr"][name]
            row += f"{ratios[name]:>9.1f}x"
        print(row)
    if args.json:
        save_record(args.json, "selection", {"seconds": results, "speedup_vs_zarr_python": ratios})


if __name__ == "__main__":
    main()
