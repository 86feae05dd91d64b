"""A directory written by cuzarr, served read-only over HTTP, read through FsspecStore."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator

import numpy as np
import pytest

import cuzarr

pytest.importorskip("aiohttp")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_root(tmp_path) -> Iterator[tuple[str, object]]:
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_read_array_over_http(http_root, zarr_format):
    url, root = http_root
    expected = np.full((50, 30), -1, dtype="i4")
    expected[:20] = np.arange(20 * 30).reshape(20, 30)
    z = cuzarr.create_array(
        str(root / "a.zarr"),
        shape=(50, 30),
        chunks=(10, 7),
        dtype="i4",
        fill_value=-1,
        zarr_format=zarr_format,
    )
    z[:20] = expected[:20]  # chunks of rows 20-49 are never written: HTTP 404 -> fill value

    remote = cuzarr.open_array(f"{url}/a.zarr", mode="r")
    assert isinstance(remote.store, cuzarr.storage.FsspecStore)
    assert remote.read_only and remote.shape == (50, 30) and remote.zarr_format == zarr_format
    np.testing.assert_array_equal(remote[...], expected)
    np.testing.assert_array_equal(remote.oindex[[1, 3, 45], [2, 29]], expected[np.ix_([1, 3, 45], [2, 29])])
    np.testing.assert_array_equal(remote[18:23, 5], expected[18:23, 5])
    with pytest.raises(cuzarr.errors.ReadOnlyError):
        remote[0, 0] = 5
