"""The benchmark question matrix: cuzarr vs zarr-python vs tensorstore, one run, same files.

Every case writes realistic data (a smooth float32 field plus noise, or an int16 image stack)
with each library, then times the questions below with the libraries interleaved inside every
repeat, so a noisy machine disturbs them alike. Reads use the files cuzarr wrote (byte-identical
to zarr-python's); each library writes its own copy. Reported per question: median, min and max
seconds, throughput (GB/s of decoded data, or operations/s), peak memory next to full reads,
and cuzarr's ratio to each peer (on medians). Whole-chunk questions also time the codec floor
(``floor.py``: the codec alone on every core), which bounds the ratio any library can reach. Results go to ``benchmarks/results/`` as JSON
(machine, cores, versions, date) and PNG.

    python benchmarks/suite.py [--set default|full] [--size 8192] [--repeat 5] [--out benchmarks/results]
    cuzarr bench               (the default set, with a progress bar and a ratio table)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from floor import FLOOR, QUESTIONS, CodecFloor
from harness import PeakMemory, image_stack, machine_info, smooth_field, summarize, timed, versions

LIBRARIES = ("cuzarr", "zarr-python", "tensorstore")
BLOSC_LZ4 = {
    "name": "blosc",
    "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "blocksize": 0},
}
CODECS: dict[str, Any] = {
    "zstd": [{"name": "zstd", "configuration": {"level": 0, "checksum": False}}],
    "blosc-lz4-shuffle": [BLOSC_LZ4],
    "gzip": [{"name": "gzip", "configuration": {"level": 1}}],
    "none": None,
}
V2_CODECS: dict[str, Any] = {"zstd": [{"id": "zstd", "level": 0}]}


@dataclass(frozen=True)
class Case:
    """One stored array layout and the questions asked of it."""

    name: str
    data: str  # "field" (float32 n x n) or "stack" (int16 planes x n/4 x n/4)
    chunks: tuple[int, ...]
    codec: str = "zstd"
    shards: tuple[int, ...] | None = None
    zarr_format: int = 3
    questions: tuple[str, ...] = ("full_read", "full_write")


def cases(which: str, size: int) -> list[Case]:
    """``default``: the four targets of the CPU issue; ``full``: the whole matrix."""
    c512, c128 = min(512, size), min(128, size)
    default = [
        Case("512 zstd", "field", (c512, c512), questions=("full_read", "full_write", "chunk_reads")),
        Case("128 zstd", "field", (c128, c128), questions=("full_read",)),
    ]
    if which == "default":
        return default
    shard = min(2048, size)
    return [
        Case(
            "512 zstd",
            "field",
            (c512, c512),
            questions=("full_read", "full_write", "chunk_reads", "windows", "strided"),
        ),
        Case("128 zstd", "field", (c128, c128), questions=("full_read", "full_write", "chunk_reads")),
        Case(
            "128 in 2048 shards",
            "field",
            (c128, c128),
            shards=(shard, shard),
            questions=("full_read", "full_write", "chunk_reads", "windows"),
        ),
        Case("512 zstd v2", "field", (c512, c512), zarr_format=2),
        Case("512 blosc-lz4", "field", (c512, c512), codec="blosc-lz4-shuffle"),
        Case("512 gzip", "field", (c512, c512), codec="gzip"),
        Case("512 none", "field", (c512, c512), codec="none"),
        Case(
            "int16 stack 1x512x512",
            "stack",
            (1, c512, c512),
            questions=("full_read", "full_write", "strided"),
        ),
    ]


def make_data(kind: str, size: int) -> np.ndarray:
    if kind == "field":
        return smooth_field(size)
    return image_stack(max(size // 512, 1), max(size // 4, 1))


# -- per-library adapters: open for reading, write a copy, read a selection ------------------------


def _compressors(case: Case) -> Any:
    return V2_CODECS[case.codec] if case.zarr_format == 2 else CODECS[case.codec]


def zarr_api_writer(lib: Any, case: Case, data: np.ndarray, path: str) -> Callable[[], None]:
    """cuzarr and zarr-python share the API, so one writer serves both."""

    def write() -> None:
        z = lib.create_array(
            store=path,
            shape=data.shape,
            dtype=data.dtype,
            chunks=case.chunks,
            shards=case.shards,
            compressors=_compressors(case),
            zarr_format=case.zarr_format,
            overwrite=True,
        )
        z[...] = data

    return write


def tensorstore_writer(case: Case, template: str, data: np.ndarray, path: str) -> Callable[[], None]:
    """Writes with the metadata cuzarr wrote (same codecs), through tensorstore's own API."""
    import tensorstore as ts

    if case.zarr_format == 3:
        with open(os.path.join(template, "zarr.json")) as f:
            metadata = json.load(f)
        for key in ("zarr_format", "node_type", "attributes"):
            metadata.pop(key, None)
        spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": path}, "metadata": metadata}
    else:
        with open(os.path.join(template, ".zarray")) as f:
            metadata = json.load(f)
        metadata.pop("zarr_format", None)
        spec = {"driver": "zarr", "kvstore": {"driver": "file", "path": path}, "metadata": metadata}

    def write() -> None:
        t = ts.open(spec, create=True, delete_existing=True).result()
        t[...].write(data).result()

    return write


def readers(case: Case, path: str, libraries: Iterable[str]) -> dict[str, Callable[[Any], Any]]:
    """``read(selection) -> numpy array`` per library, all on the same files."""
    out: dict[str, Callable[[Any], Any]] = {}
    for name in libraries:
        if name == "cuzarr":
            import cuzarr

            z = cuzarr.open_array(path, mode="r")
            out[name] = z.__getitem__
        elif name == "zarr-python":
            import zarr

            zz = zarr.open_array(path, mode="r")
            out[name] = zz.__getitem__
        elif name == "tensorstore":
            import tensorstore as ts

            t = ts.open(
                {
                    "driver": "zarr3" if case.zarr_format == 3 else "zarr",
                    "kvstore": {"driver": "file", "path": path},
                },
                context=ts.Context({"cache_pool": {"total_bytes_limit": 0}}),
            ).result()
            out[name] = lambda sel, t=t: t[sel].read().result()
    return out


# -- questions ----------------------------------------------------------------------------------


def selections(question: str, case: Case, shape: tuple[int, ...], count: int) -> list[Any]:
    """The selections one timed operation reads (several for the per-second questions)."""
    rng = np.random.default_rng(0)
    if question == "full_read":
        return [Ellipsis]
    if question == "strided":
        return [(slice(None),) * (len(shape) - 2) + (slice(None, None, 3), slice(None, None, 5))]
    if question == "chunk_reads":
        grid = [-(-s // c) for s, c in zip(shape, case.chunks)]
        picks = [rng.integers(0, g, size=count) for g in grid]
        return [
            tuple(
                slice(int(p[i]) * c, min((int(p[i]) + 1) * c, s))
                for p, c, s in zip(picks, case.chunks, shape)
            )
            for i in range(count)
        ]
    if question == "windows":
        window = [min(300, s) for s in shape]
        corners = [rng.integers(0, s - w + 1, size=count) for s, w in zip(shape, window)]
        return [tuple(slice(int(c[i]), int(c[i]) + w) for c, w in zip(corners, window)) for i in range(count)]
    raise ValueError(f"unknown question {question!r}")


@dataclass
class Result:
    case: str
    question: str
    library: str
    times: list[float] = field(default_factory=list)
    operations: int = 1  # selections per timed run (per-second questions)
    nbytes: int = 0  # decoded bytes per timed run
    memory: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        stats = summarize(self.times)
        record: dict[str, Any] = {
            "case": self.case,
            "question": self.question,
            "library": self.library,
            **stats,
        }
        if self.question in ("chunk_reads", "windows"):
            record["ops_per_s"] = self.operations / stats["median_s"]
            record["unit"] = "ops/s"
        else:
            record["gbps"] = self.nbytes / 1e9 / stats["median_s"]
            record["unit"] = "GB/s"
        if self.memory:
            record["memory"] = self.memory
        return record


def run_case(
    case: Case,
    data: np.ndarray,
    root: str,
    libraries: tuple[str, ...],
    repeat: int,
    count: int,
    progress: Callable[[str], None],
) -> list[Result]:
    """Write with each library, then time every question, libraries interleaved per repeat."""
    import cuzarr

    base = os.path.join(root, case.name.replace(" ", "_"))
    ours = base + "-cuzarr.zarr"
    zarr_api_writer(cuzarr, case, data, ours)()
    results: list[Result] = []
    floor = CodecFloor(data, case.chunks, case.codec) if set(case.questions) & set(QUESTIONS) else None
    if "full_write" in case.questions:
        writers: dict[str, Callable[[], None]] = {}
        for name in libraries:
            path = f"{base}-{name}-write.zarr"
            if name == "tensorstore":
                writers[name] = tensorstore_writer(case, ours, data, path)
            else:
                writers[name] = zarr_api_writer(cuzarr if name == "cuzarr" else _zarr(), case, data, path)
        if floor is not None:
            writers[FLOOR] = floor.write
        by_lib = {name: Result(case.name, "full_write", name, nbytes=data.nbytes) for name in writers}
        for _ in range(repeat):
            for name, write in writers.items():
                by_lib[name].times.append(timed(write))
                progress(f"{case.name}: write {name}")
        for name in libraries:
            shutil.rmtree(f"{base}-{name}-write.zarr", ignore_errors=True)
        results.extend(by_lib.values())
    read = readers(case, ours, libraries)
    for name, reader in read.items():  # every library reads the files back correctly
        if not np.array_equal(np.asarray(reader(Ellipsis)), data):
            raise AssertionError(f"{name} read different data from {case.name}")
    for question in (q for q in case.questions if q != "full_write"):
        sels = selections(question, case, data.shape, count)
        nbytes = sum(data[s].nbytes for s in sels) if question != "full_read" else data.nbytes
        timers = dict(read)
        if floor is not None and question in QUESTIONS:
            timers[FLOOR] = floor.read
        by_lib = {
            name: Result(case.name, question, name, operations=len(sels), nbytes=nbytes) for name in timers
        }
        for _ in range(repeat):
            for name, reader in timers.items():
                gc.collect()
                by_lib[name].times.append(timed(lambda reader=reader, sels=sels: [reader(s) for s in sels]))
                progress(f"{case.name}: {question} {name}")
        if question == "full_read":
            for name, reader in read.items():
                gc.collect()
                with PeakMemory() as peak:
                    reader(Ellipsis)
                by_lib[name].memory = {
                    "output_bytes": data.nbytes,
                    "traced_peak_bytes": peak.traced_bytes,
                    "rss_peak_bytes": peak.rss_bytes,
                }
        results.extend(by_lib.values())
    if floor is not None:
        floor.close()
    shutil.rmtree(ours, ignore_errors=True)
    return results


def _zarr() -> Any:
    import zarr

    return zarr


def available_libraries() -> tuple[str, ...]:
    names = ["cuzarr"]
    for name, module in (("zarr-python", "zarr"), ("tensorstore", "tensorstore")):
        try:
            __import__(module)
            names.append(name)
        except ImportError:
            pass
    return tuple(names)


def select_cases(which: str, size: int, only: tuple[str, ...] = ()) -> list[Case]:
    """The cases of a set, or those whose names contain one of ``only`` (an error if none does)."""
    case_list = [c for c in cases(which, size) if not only or any(part in c.name for part in only)]
    if not case_list:
        names = ", ".join(c.name for c in cases(which, size))
        raise SystemExit(f"no case of the {which!r} set matches {list(only)} (cases: {names})")
    return case_list


def steps_of(case_list: list[Case], libraries: tuple[str, ...], repeat: int) -> int:
    """Progress steps of a run: one per library (and codec floor) per repeat per question."""
    floors = sum(len(set(c.questions) & set(QUESTIONS)) for c in case_list)
    return (sum(len(c.questions) for c in case_list) * len(libraries) + floors) * repeat


def run_suite(
    which: str = "default",
    size: int = 8192,
    repeat: int = 5,
    count: int = 100,
    libraries: tuple[str, ...] | None = None,
    progress: Callable[[str], None] = lambda step: None,
    only: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run a set of cases (those whose names contain one of ``only``, when given); returns the
    JSON record (see the module docstring)."""
    libraries = libraries or available_libraries()
    case_list = select_cases(which, size, only)
    root = tempfile.mkdtemp(prefix="cuzarr-bench-")
    records: list[dict[str, Any]] = []
    data_cache: dict[str, np.ndarray] = {}
    try:
        for case in case_list:
            if case.data not in data_cache:
                data_cache[case.data] = make_data(case.data, size)
            data = data_cache[case.data]
            for result in run_case(case, data, root, libraries, repeat, count, progress):
                records.append(result.to_json())
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "benchmark": f"suite/{which}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "versions": versions(),
        "settings": {"size": size, "repeat": repeat, "count": count, "libraries": list(libraries)},
        "cases": [
            {
                "name": c.name,
                "data": c.data,
                "chunks": list(c.chunks),
                "shards": list(c.shards) if c.shards else None,
                "codec": c.codec,
                "zarr_format": c.zarr_format,
            }
            for c in case_list
        ],
        "results": records,
        "ratios": ratios(records),
    }


def _speed(record: dict[str, Any]) -> float:
    return record.get("gbps", record.get("ops_per_s", 0.0))


def ratios(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """cuzarr's speed over each peer's, per case and question (medians; > 1 means cuzarr is faster)."""
    index = {(r["case"], r["question"], r["library"]): r for r in records}
    out = []
    for (case, question, library), record in index.items():
        if library != "cuzarr":
            continue
        row: dict[str, Any] = {
            "case": case,
            "question": question,
            "cuzarr": _speed(record),
            "unit": record["unit"],
        }
        floor = index.get((case, question, FLOOR))
        if floor is not None and _speed(floor) > 0:
            row[FLOOR] = _speed(floor)
            row["of floor"] = _speed(record) / _speed(floor)
        for peer in LIBRARIES[1:]:
            other = index.get((case, question, peer))
            if other is not None and _speed(other) > 0:
                row[peer] = _speed(other)
                row[f"vs {peer}"] = _speed(record) / _speed(other)
                if floor is not None:  # the best ratio any library could reach against this peer here
                    row[f"max vs {peer}"] = _speed(floor) / _speed(other)
        memory = record.get("memory")
        if memory:
            row["cuzarr peak / output"] = memory["traced_peak_bytes"] / memory["output_bytes"]
        out.append(row)
    return out


def _fmt(row: dict[str, Any], library: str) -> str:
    value = row.get(library)
    if value is None:
        return "-"
    return f"{value:.2f} GB/s" if row["unit"] == "GB/s" else f"{value:.0f}/s"


def _ratio(row: dict[str, Any], key: str) -> str:
    return f"{row[key]:.2f}x" if key in row else "-"


def ratio_table(record: dict[str, Any]) -> str:
    """The ratio rows as an aligned text table."""
    header = f"{'case':<24}{'question':<13}{'cuzarr':>12}{'zarr-python':>13}{'tensorstore':>13}"
    header += f"{'vs zarr':>9}{'vs ts':>8}{'mem':>7}{'floor':>12}{'of floor':>9}{'max vs zarr':>12}{'max vs ts':>10}"
    lines = [header, "-" * len(header)]
    for row in record["ratios"]:
        mem = f"{row['cuzarr peak / output']:.2f}x" if "cuzarr peak / output" in row else ""
        lines.append(
            f"{row['case']:<24}{row['question']:<13}{_fmt(row, 'cuzarr'):>12}{_fmt(row, 'zarr-python'):>13}"
            f"{_fmt(row, 'tensorstore'):>13}{_ratio(row, 'vs zarr-python'):>9}{_ratio(row, 'vs tensorstore'):>8}"
            f"{mem:>7}{_fmt(row, FLOOR):>12}{_ratio(row, 'of floor'):>9}"
            f"{_ratio(row, 'max vs zarr-python'):>12}{_ratio(row, 'max vs tensorstore'):>10}"
        )
    lines.append(
        "floor: the codec alone on every core (see benchmarks/floor.py); max vs X: floor / X, the best "
        "ratio any library could reach against X on this machine"
    )
    return "\n".join(lines)


def plot(record: dict[str, Any], path: str) -> None:
    """One panel per question: grouped bars per case and library (median, whiskers min..max)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = record["results"]
    questions = list(dict.fromkeys(r["question"] for r in results))
    libraries = list(record["settings"]["libraries"])
    if any(r["library"] == FLOOR for r in results):
        libraries.append(FLOOR)
    fig, axes = plt.subplots(len(questions), 1, figsize=(10, 3.2 * len(questions)), squeeze=False)
    for ax, question in zip(axes[:, 0], questions):
        rows = [r for r in results if r["question"] == question]
        case_names = list(dict.fromkeys(r["case"] for r in rows))
        width = 0.8 / len(libraries)
        for k, library in enumerate(libraries):
            values, low, high = [], [], []
            for case in case_names:
                r = next((r for r in rows if r["case"] == case and r["library"] == library), None)
                if r is None:
                    values.append(0.0)
                    low.append(0.0)
                    high.append(0.0)
                    continue
                speed = _speed(r)
                fast, slow = speed * r["median_s"] / r["min_s"], speed * r["median_s"] / r["max_s"]
                values.append(speed)
                low.append(speed - slow)
                high.append(fast - speed)
            x = np.arange(len(case_names)) + (k - (len(libraries) - 1) / 2) * width
            ax.bar(x, values, width, yerr=[low, high], capsize=2, label=library)
        ax.set_xticks(np.arange(len(case_names)), case_names, fontsize=8)
        unit = rows[0]["unit"]
        ax.set_ylabel(unit)
        ax.set_title(f"{question} ({unit}, higher is better; median, whiskers min..max)", fontsize=10)
        ax.legend(fontsize=8)
    machine = record["machine"]
    fig.suptitle(
        f"cuzarr {record['versions'].get('cuzarr')} vs zarr-python {record['versions'].get('zarr')} vs "
        f"tensorstore {record['versions'].get('tensorstore')}: {machine['cores']} cores, {record['date'][:10]}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def save(record: dict[str, Any], out_dir: str, stem: str | None = None) -> tuple[str, str]:
    """Write ``<stem>.json`` and ``<stem>.png`` (stem: suite-<set>-<cores>core) under ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    stem = stem or f"{record['benchmark'].replace('/', '-')}-{record['machine']['cores']}core"
    json_path, png_path = os.path.join(out_dir, stem + ".json"), os.path.join(out_dir, stem + ".png")
    with open(json_path, "w") as f:
        json.dump(record, f, indent=2)
    try:
        plot(record, png_path)
    except ImportError:
        png_path = ""  # matplotlib is optional (pip install cuzarr[bench])
    return json_path, png_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=("default", "full"), default="default")
    parser.add_argument("--size", type=int, default=8192, help="the float32 field is size x size")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--count", type=int, default=100, help="selections per per-second question")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    parser.add_argument(
        "--case", action="append", default=[], help="run only cases whose name contains this (repeatable)"
    )
    args = parser.parse_args(argv)
    record = run_suite(
        args.set,
        args.size,
        args.repeat,
        args.count,
        progress=lambda step: print(step, flush=True),
        only=tuple(args.case),
    )
    print(ratio_table(record))
    print("\n".join(p for p in save(record, args.out) if p))


if __name__ == "__main__":
    main()
