"""Child process of test_crash: rewrites every chunk and the attributes, version after version,
until the parent SIGKILLs it. Each chunk written at version v holds only the value v."""

from __future__ import annotations

import sys

import numpy as np

import cuzarr


def main(path: str) -> None:
    arr = cuzarr.open_array(path, mode="r+")
    chunk = arr.chunks[0]
    print("ready", flush=True)
    version = int(arr.attrs.get("version", 0))
    while True:
        version += 1
        for start in range(0, arr.shape[0], chunk * 4):  # several set_many batches per version
            stop = min(arr.shape[0], start + chunk * 4)
            arr[start:stop] = np.full(stop - start, version, dtype=arr.dtype)
        arr.attrs.update({"version": version, "note": "x" * (version % 4096)})


if __name__ == "__main__":
    main(sys.argv[1])
