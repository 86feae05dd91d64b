"""Security: keys cannot leave the store, symlinks cannot lead out of a LocalStore, zip entries
with unsafe names are refused, and stored bytes are never unpickled or evaluated."""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cuzarr
from cuzarr.errors import CuzarrError, InvalidKeyError, MetadataError
from cuzarr.storage import LocalStore, MemoryStore, ZipStore, validate_key

from .conftest import FUZZ, case_timeout

_KEY_ALPHABET = st.sampled_from(list("ab.:/\\\x00 c0-_~") + ["..", "C:", "\u00e9", "\u2215", "%2e"])


@FUZZ
@given(key=st.lists(_KEY_ALPHABET, max_size=10).map("".join) | st.text(max_size=12))
def test_validated_keys_stay_inside(key: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every accepted key maps to a path strictly inside the root; every other key is refused."""
    with case_timeout("key"):
        try:
            validate_key(key)
        except InvalidKeyError:
            return
    assert "\x00" not in key and "\\" not in key and not key.startswith("/")
    parts = key.split("/")
    assert all(part not in ("", ".", "..") for part in parts)
    assert not (len(parts[0]) == 2 and parts[0][1] == ":" and parts[0][0].isalpha())
    root = "/r/root"
    path = os.path.normpath(LocalStore(root)._path(key))
    assert path.startswith(root + os.sep), (key, path)


@pytest.mark.parametrize(
    "key", ["../x", "a/../../x", "/etc/passwd", "C:/x", "c:", "a\\b", "a\x00b", "a//b", "./a", "a/.", ""]
)
def test_unsafe_keys_refused_everywhere(key: str, tmp_path: Path) -> None:
    for store in (LocalStore(tmp_path / "root"), MemoryStore()):
        with pytest.raises(InvalidKeyError):
            store.set(key, b"x")
        with pytest.raises(InvalidKeyError):
            store.get(key)
        with pytest.raises(InvalidKeyError):
            store.delete(key)
    assert not (tmp_path / "x").exists()


@pytest.fixture
def escape(tmp_path: Path) -> tuple[LocalStore, Path]:
    """A store whose root holds a directory symlink and a file symlink leading outside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    root = tmp_path / "root"
    root.mkdir()
    (root / "inner").mkdir()
    (root / "inner" / "ok").write_bytes(b"ok")
    os.symlink(outside, root / "dirlink")
    os.symlink(outside / "secret", root / "filelink")
    os.symlink(root / "inner" / "ok", root / "innerlink")  # stays inside: allowed
    return LocalStore(root), outside


def test_local_store_does_not_read_through_symlinks_out_of_root(escape: tuple[LocalStore, Path]) -> None:
    store, _ = escape
    with pytest.raises(InvalidKeyError, match="dirlink"):
        store.get("dirlink/secret")
    with pytest.raises(InvalidKeyError, match="filelink"):
        store.get("filelink")
    with pytest.raises(InvalidKeyError, match="filelink"):
        store.get_many(["inner/ok", "filelink"])
    assert store.get("innerlink") == b"ok" and store.get("inner/ok") == b"ok"
    assert not store.exists("filelink") and not store.exists("dirlink/secret")


def test_local_store_does_not_write_or_delete_out_of_root(escape: tuple[LocalStore, Path]) -> None:
    store, outside = escape
    with pytest.raises(InvalidKeyError):
        store.set("dirlink/new", b"x")
    with pytest.raises(InvalidKeyError):
        store.set("dirlink/sub/new", b"x")
    with pytest.raises(InvalidKeyError):
        store.delete("dirlink/secret")
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert (outside / "secret").read_bytes() == b"secret"
    store.set("filelink", b"replaced")  # replaces the link itself, never its target
    assert (outside / "secret").read_bytes() == b"secret" and store.get("filelink") == b"replaced"


def test_local_store_listing_does_not_leave_root(escape: tuple[LocalStore, Path]) -> None:
    store, _ = escape
    keys = store.list()
    assert not any(k.startswith("dirlink/") for k in keys) and "filelink" not in keys
    assert "inner/ok" in keys


def test_array_over_symlinked_chunk_refused(tmp_path: Path) -> None:
    root = tmp_path / "arr"
    cuzarr.create_array(str(root), shape=(4,), chunks=(2,), dtype="u1")[...] = 7
    target = tmp_path / "secret"
    target.write_bytes(bytes(2))
    os.unlink(root / "c" / "0")
    os.symlink(target, root / "c" / "0")
    with pytest.raises(CuzarrError):
        cuzarr.open_array(str(root), mode="r")[...]


def test_symlinked_root_works(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "alias")
    store = LocalStore(tmp_path / "alias")
    store.set("a/b", b"1")
    assert store.get("a/b") == b"1" and store.list() == ["a/b"]


@pytest.mark.parametrize("name", ["../evil", "/abs", "a/../../b", "a\\b", "C:/x", "a//b"])
def test_zip_store_refuses_unsafe_entry_names(tmp_path: Path, name: str) -> None:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("zarr.json", b"{}")
        zf.writestr(zipfile.ZipInfo(name), b"x")
    with pytest.raises(InvalidKeyError, match="entry"):
        ZipStore(path, mode="r")


def test_zip_store_accepts_directory_entries(tmp_path: Path) -> None:
    path = tmp_path / "ok.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a/", b"")
        zf.writestr("a/b", b"x")
    with ZipStore(path, mode="r") as store:
        assert store.list() == ["a/b"]


class _Evil:
    def __reduce__(self) -> tuple:
        return (os.system, ("echo pwned > /dev/null",))


@pytest.mark.parametrize("where", ["filters", "compressor"])
@pytest.mark.parametrize("dtype", ["<f8", "|O"])
def test_pickle_codec_refused_in_metadata(where: str, dtype: str) -> None:
    store = MemoryStore()
    doc = {
        "zarr_format": 2,
        "shape": [1],
        "chunks": [1],
        "dtype": dtype,
        "compressor": None,
        "filters": None,
        "fill_value": None,
        "order": "C",
    }
    doc[where] = [{"id": "pickle"}] if where == "filters" else {"id": "pickle"}
    store.set(".zarray", json.dumps(doc).encode())
    store.set("0", pickle.dumps(_Evil()))
    with pytest.raises(MetadataError, match="pickle"):
        cuzarr.open_array(store, mode="r")[...]


def test_attributes_are_plain_json() -> None:
    """Attributes are JSON objects: no object hooks, no evaluation of strings."""
    store = MemoryStore()
    cuzarr.create_array(store, shape=(1,), dtype="u1", attributes={"x": "__import__('os')"})
    arr = cuzarr.open_array(store, mode="r")
    assert arr.attrs["x"] == "__import__('os')"
    doc = json.loads(store.get("zarr.json"))
    doc["attributes"]["y"] = {"__class__": "os.system", "py/object": "os.system"}
    store.set("zarr.json", json.dumps(doc).encode())
    attrs = dict(cuzarr.open_array(store, mode="r").attrs)
    assert attrs["y"] == {"__class__": "os.system", "py/object": "os.system"}


def test_no_unpickling_or_eval_in_source() -> None:
    """A guard against regressions: the library never unpickles or evaluates stored bytes."""
    src = Path(cuzarr.__file__).parent
    offenders = []
    for path in src.rglob("*.py"):
        text = path.read_text()
        for needle in ("pickle.loads", "pickle.load(", "eval(", "exec(", "marshal.loads", "literal_eval"):
            if needle in text:
                offenders.append(f"{path.relative_to(src)}: {needle}")
    assert not offenders, offenders


def test_object_arrays_roundtrip_without_pickle() -> None:
    store = MemoryStore()
    data = np.array(["a", "bb", ""], dtype=object)
    arr = cuzarr.create_array(store, shape=(3,), dtype=str, zarr_format=2)
    arr[...] = data
    assert json.loads(store.get(".zarray"))["filters"][0]["id"] == "vlen-utf8"
    assert list(cuzarr.open_array(store, mode="r")[...]) == ["a", "bb", ""]
