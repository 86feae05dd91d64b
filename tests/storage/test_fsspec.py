"""FsspecStore: the shared suite over fsspec's memory filesystem, the local filesystem
(``file://``) and S3 (moto's server, skipped when moto or s3fs is missing)."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from cuzarr.storage import FsspecStore

from .store_suite import StoreSuite


class TestFsspecMemory(StoreSuite):
    @pytest.fixture(autouse=True)
    def _unique_path(self) -> Iterator[None]:
        self.url = f"memory://cuzarr-tests/{uuid.uuid4().hex}"
        yield
        fs = MemoryFileSystem()
        if fs.exists(self.url):
            fs.rm(self.url, recursive=True)

    def make_store(self, tmp_path: Any, read_only: bool = False) -> FsspecStore:
        return FsspecStore.from_url(self.url, read_only=read_only)


class TestFsspecLocal(StoreSuite):
    def make_store(self, tmp_path: Any, read_only: bool = False) -> FsspecStore:
        return FsspecStore.from_url(f"file://{tmp_path}/root", read_only=read_only)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    pytest.importorskip("s3fs")
    boto3 = pytest.importorskip("boto3")
    moto_server = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
    )
    client.create_bucket(Bucket="cuzarr-bucket")
    try:
        yield endpoint
    finally:
        server.stop()


class TestFsspecS3(StoreSuite):
    @pytest.fixture(autouse=True)
    def _endpoint(self, s3_endpoint: str) -> None:
        self.endpoint = s3_endpoint
        self.url = f"s3://cuzarr-bucket/{uuid.uuid4().hex}/data.zarr"

    def make_store(self, tmp_path: Any, read_only: bool = False) -> FsspecStore:
        options = {"endpoint_url": self.endpoint, "key": "x", "secret": "x"}
        return FsspecStore.from_url(self.url, storage_options=options, read_only=read_only)

    def test_is_s3(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        assert "s3" in store.fs.protocol
        store.set("zarr.json", b"{}")
        assert store.fs.cat(f"{store.path}/zarr.json") == b"{}"


def test_from_mapper_and_identity() -> None:
    url = f"memory://cuzarr-tests/{uuid.uuid4().hex}"
    mapper = fsspec.get_mapper(url)
    mapper["zarr.json"] = b"{}"
    store = FsspecStore.from_mapper(mapper)
    assert store.get("zarr.json") == b"{}"
    store.set("a/b", b"1")
    assert mapper["a/b"] == b"1"
    assert store == FsspecStore.from_url(url)
    assert store == store.with_read_only()
    assert store.with_read_only().read_only
    assert store != FsspecStore.from_url(url + "x")
    assert repr(store).startswith("FsspecStore('memory://")
    assert FsspecStore.from_mapper(mapper, read_only=True).read_only


def test_root_of_memory_filesystem() -> None:
    fs = MemoryFileSystem()
    store = FsspecStore(fs)  # path '' is the filesystem root
    key = f"cuzarr-root-{uuid.uuid4().hex}"
    try:
        store.set(f"{key}/x", b"1")
        assert store.get(f"{key}/x") == b"1"
        assert f"{key}/x" in store.list_prefix(key)
        assert key in store.list_dir("")
    finally:
        store.delete(f"{key}/x")


def test_local_filesystem_without_auto_mkdir(tmp_path: Path) -> None:
    fs = fsspec.filesystem("file", auto_mkdir=False)
    store = FsspecStore(fs, path=str(tmp_path / "root"))
    store.set("a/b/c", b"1")
    assert (tmp_path / "root/a/b/c").read_bytes() == b"1"
    store.delete("a/b/c")
    assert not (tmp_path / "root/a").exists()


def test_async_instance_is_made_sync() -> None:
    s3fs = pytest.importorskip("s3fs")
    fs = s3fs.S3FileSystem(anon=True, asynchronous=True, skip_instance_cache=True)
    store = FsspecStore(fs, path="bucket/x")
    assert not store.fs.asynchronous
    assert store.path == "bucket/x"
