"""GPU full-array read: cuzarr cuda vs cuzarr cpu vs zarr-python GPU mode vs tensorstore, one run each.

Question answered: how fast does a whole float32 field (1 GiB at the default --size 16384) with
512x512 chunks read into device memory, warm page cache, for zstd and blosc-lz4-shuffle? Every
library reads the same files (written once by cuzarr on the CPU). Prints GB/s, cuzarr's ratio
to each peer, the host memory a cuzarr device read adds at its peak (RSS sampled during the
read: it should stay near the staging arena, not the array size) and where cuzarr's device read
spends its time (host seconds per phase: fetch into pinned staging, decode, scatter). Every
reader runs once untimed first (CUDA kernels compile, nvCOMP and the staging arena initialise),
then ``--repeat`` times; the best run counts. --json writes the numbers with device and date.

    python benchmarks/gpu_read.py [--device cuda|emulated] [--size 16384] [--chunk 512] [--repeat 3]
        [--nvcomp-config parse|sizes|both] [--json out.json]

``--device emulated --size 2048`` is a CPU dry run of the same code path (no GPU needed).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from harness import PeakMemory, smooth_field

import cuzarr
from cuzarr.codecs import BloscCodec, ZstdCodec

CODECS = {
    "zstd": lambda: ZstdCodec(level=1),
    "blosc-lz4-shuffle": lambda: BloscCodec(cname="lz4", clevel=5, shuffle="shuffle"),
    # 128x128 zstd inner chunks in 2048x2048 shards: the small-chunk batch path (cuzarr only)
    "sharded-zstd": lambda: ZstdCodec(level=1),
}
SHARDED = {"sharded-zstd": ((128, 128), (2048, 2048))}


def synchronize(device: str) -> None:
    if device == "cuda":
        import cupy

        cupy.cuda.get_current_stream().synchronize()


def timed(function: Callable[[], Any], device: str) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    synchronize(device)
    return time.perf_counter() - start, result


def best_time(function: Callable[[], Any], device: str, repeat: int) -> tuple[float, list[float], Any]:
    """One untimed warm-up call, then the best of ``repeat`` timed calls (and all of them)."""
    _, result = timed(function, device)
    del result  # the warm-up's output must not hold device memory during the timed runs
    times, result = [], None
    for _ in range(repeat):
        result = None
        seconds, result = timed(function, device)
        times.append(seconds)
    return min(times), times, result


def peers(path: str, device: str) -> dict[str, Callable[[], Any]]:
    """Readers of the same array by other libraries (skipped when not installed)."""
    readers: dict[str, Callable[[], Any]] = {}
    try:
        import zarr

        if device == "cuda":

            def zarr_gpu() -> Any:
                with zarr.config.enable_gpu():
                    return zarr.open_array(path, mode="r")[...]

            readers["zarr-python-gpu"] = zarr_gpu
        else:
            readers["zarr-python"] = lambda: zarr.open_array(path, mode="r")[...]
    except ImportError:
        pass
    try:
        import tensorstore as ts

        spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": path}}
        readers["tensorstore"] = lambda: ts.open(spec, read=True).result().read().result()
    except ImportError:
        pass
    return readers


def readers(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """``(label, device, nvcomp_decode_config)`` of each cuzarr reader: the device one per
    ``--nvcomp-config`` way of telling nvCOMP the decoded sizes (side by side in one run), then
    the CPU one."""
    modes = ["parse", "sizes"] if args.nvcomp_config == "both" else [args.nvcomp_config]
    if args.device != "cuda":
        modes = modes[:1]  # the emulated backend has no nvCOMP: one reader is enough
    device = [(f"cuzarr-{args.device}" + ("" if m == "parse" else f"[{m}]"), args.device, m) for m in modes]
    return [*device, ("cuzarr-cpu", "cpu", "parse")]


def device_read_details(array: Any, device: str) -> dict[str, Any]:
    """One more cuzarr device read of ``array``: host memory it adds at its peak, the staging
    arena it holds, and host seconds per phase (``DeviceBackend.timings``)."""
    backend = array._backend
    backend.timings.reset()
    with PeakMemory(trace=False) as peak:
        seconds, out = timed(lambda: array[...], device)
    del out
    phases = backend.timings.snapshot()
    return {
        "seconds": seconds,
        "host_peak_added_gib": peak.rss_bytes / 2**30,
        "staging_gib": backend.slots.cached_bytes / 2**30,
        # whether nvCOMP batches were described by one buffer and offsets (None: not tried / emulated)
        "nvcomp_offsets_form": getattr(backend.ops, "_offsets_form", None),
        "phases": phases,
    }


def device_name(device: str) -> str:
    if device == "cuda":
        try:
            import cupy

            name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
        except Exception as exc:  # the record is still written, saying why there is no device
            return f"no CUDA device ({type(exc).__name__}: {exc})"
        return name.decode() if isinstance(name, bytes) else str(name)
    return f"emulated on {platform.processor() or platform.machine()}"


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = smooth_field(args.size)
    nbytes = data.nbytes
    root = tempfile.mkdtemp(prefix="cuzarr-gpu-read-")
    results: dict[str, Any] = {}
    runs: dict[str, list[float]] = {}
    details: dict[str, Any] = {}
    errors: dict[str, str] = {}
    try:
        for name, make_codec in CODECS.items():
            path = str(Path(root) / name)
            chunks, shards = SHARDED.get(name, ((args.chunk, args.chunk), None))
            if shards is not None and any(s > n for s, n in zip(shards, data.shape)):
                continue  # a field smaller than one shard (--size below 2048)
            z = cuzarr.create_array(
                store=path,
                shape=data.shape,
                chunks=chunks,
                shards=shards,
                dtype="f4",
                compressors=make_codec(),
            )
            z[...] = data
            cuzarr.open_array(path, mode="r")[...]  # warm the page cache
            row: dict[str, float] = {}
            for label, device, mode in readers(args):
                try:  # a failing case is a result: the other cases still run and are saved
                    array = cuzarr.open_array(path, mode="r", device=device)
                    with cuzarr.config.set(nvcomp_decode_config=mode):
                        seconds, times, out = best_time(lambda array=array: array[...], device, args.repeat)
                    check = out.get() if hasattr(out, "get") and device == "cuda" else np.asarray(out)
                    if not np.array_equal(check, data):
                        raise AssertionError(f"{label} read wrong data")
                    del out, check
                    row[label] = nbytes / seconds / 1e9
                    runs[f"{name} {label}"] = times
                    if device == args.device:
                        with cuzarr.config.set(nvcomp_decode_config=mode):
                            details[f"{name} {label}"] = device_read_details(array, device)
                except Exception as exc:
                    row[label] = float("nan")
                    errors[f"{name} {label}"] = f"{type(exc).__name__}: {exc}"
                    print(f"  {label} failed on {name}: {errors[f'{name} {label}']}")
            if not args.skip_peers and name not in SHARDED:
                for label, reader in peers(path, args.device).items():
                    try:
                        seconds, times, _ = best_time(reader, args.device, args.repeat)
                        row[label] = nbytes / seconds / 1e9
                        runs[f"{name} {label}"] = times
                    except Exception as exc:  # a peer failing is a result, not a crash
                        row[label] = float("nan")
                        errors[f"{name} {label}"] = f"{type(exc).__name__}: {exc}"
                        print(f"  {label} failed on {name}: {errors[f'{name} {label}']}")
            results[name] = row
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "question": "full read of a float32 field into device memory, warm cache",
        "device": device_name(args.device),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "shape": list(data.shape),
        "chunks": [args.chunk, args.chunk],
        "gib": nbytes / 2**30,
        "gb_per_s": results,
        "repeat": args.repeat,
        "seconds_per_run": runs,
        "cuzarr_device_read": details,
        "errors": errors,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "cuzarr": cuzarr.__version__ if hasattr(cuzarr, "__version__") else "dev",
    }


def report(summary: dict[str, Any], device: str) -> None:
    print(f"{summary['device']}, {summary['gib']:.2f} GiB, chunks {summary['chunks']}")
    ours = f"cuzarr-{device}"
    for codec, row in summary["gb_per_s"].items():
        print(f"  {codec}:")
        for label, rate in row.items():
            ratio = "" if label == ours or not rate else f"  (cuzarr {row[ours] / rate:.1f}x)"
            print(f"    {label:<20} {rate:7.2f} GB/s{ratio}")
    for reader, info in summary.get("cuzarr_device_read", {}).items():
        print(
            f"  {reader}: {info['seconds']:.3f} s, host memory added at peak "
            f"{info['host_peak_added_gib']:.2f} GiB, staging arena {info['staging_gib']:.2f} GiB"
        )
        for phase, t in info["phases"].items():
            print(
                f"    {phase:<8} {t['seconds']:7.3f} s over {t['calls']:4d} calls, "
                f"{t['bytes'] / 2**30:6.2f} GiB, {t['gb_per_s']:7.2f} GB/s per thread"
            )
    print(f"  peak host RSS of the whole run {summary['peak_rss_gib']:.2f} GiB (includes the source data)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cuda", "emulated"], default="cuda")
    parser.add_argument("--size", type=int, default=16384)
    parser.add_argument("--chunk", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per reader, after one warm-up")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument(
        "--nvcomp-config",
        choices=["parse", "sizes", "both"],
        default="both",
        help="how nvCOMP learns decoded sizes (cuzarr config nvcomp_decode_config); both: one reader each",
    )
    parser.add_argument(
        "--json", nargs="?", const="", default=None, help="write JSON (default: benchmarks/results/)"
    )
    args = parser.parse_args()
    summary = run(args)
    report(summary, args.device)
    if args.json is not None:
        stamp = summary["date"].replace(":", "").replace("-", "")[:15]
        target = Path(args.json or Path(__file__).parent / "results" / f"gpu_read-{args.device}-{stamp}.json")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(summary, indent=2))
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
