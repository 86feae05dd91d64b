"""A real round trip: write a chunked array, read it back, inspect it, on the best device found.

Run with ``make demo``. Uses a temporary directory and prints throughput.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np

import cuzarr as zarr


def best_device() -> str:
    """'cuda' when CuPy and a GPU are usable, otherwise 'cpu'."""
    try:
        zarr.buffer.get_backend("cuda")
        return "cuda"
    except (RuntimeError, ImportError):
        return "cpu"


def main() -> None:
    device = best_device()
    shape, chunks = (4096, 4096), (512, 512)
    rng = np.random.default_rng(42)
    data = np.cumsum(rng.normal(size=shape).astype(np.float32), axis=1)
    gb = data.nbytes / 1e9
    print(f"cuzarr {zarr.__version__} on device={device!r}")

    with tempfile.TemporaryDirectory() as root:
        path = f"{root}/demo.zarr"
        z = zarr.create_array(
            store=path,
            shape=shape,
            chunks=chunks,
            dtype="f4",
            device=device,
            attributes={"description": "random walks"},
        )
        start = time.perf_counter()
        z[:, :] = data
        write_s = time.perf_counter() - start

        z = zarr.open_array(path, mode="r", device=device)
        start = time.perf_counter()
        back = z[:, :]
        read_s = time.perf_counter() - start
        back_host = back.get() if hasattr(back, "get") else back
        assert np.array_equal(back_host, data), "round trip changed the data"

        window = z[100:104, 200:203]
        print(f"type of z[...]: {type(back).__module__}.{type(back).__name__}")
        print(f"z[100:104, 200:203] =\n{window}")
        print(z.info)
        print(f"attributes: {dict(z.attrs)}")
        print(
            f"chunks stored: {z.nchunks_initialized} of {z.nchunks}, "
            f"{z.nbytes_stored() / 2**20:.1f} MiB on disk for {z.nbytes / 2**20:.1f} MiB of data"
        )
        print(
            f"write: {gb / write_s:.2f} GB/s   read: {gb / read_s:.2f} GB/s   ({data.nbytes / 2**20:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
