"""Behaviours found by running zarr-python 3.1.6's own test suite with ``zarr`` resolved to
cuzarr: each case here is public API that ordinary zarr-python code relies on, checked against
zarr-python itself where both libraries can run it."""

from __future__ import annotations

import asyncio
import warnings

import numpy as np
import pytest
import zarr

import cuzarr
from cuzarr.errors import (
    MetadataValidationError,
    ReadOnlyError,
    ZarrDeprecationWarning,
    ZarrRuntimeWarning,
    ZarrUserWarning,
)


def _both(run):
    """``run(lib)`` for zarr-python and cuzarr, warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(zarr), run(cuzarr)


def test_array_accepts_its_data_shape_and_refuses_another():
    theirs, ours = _both(lambda lib: lib.array(np.arange(10), shape=(10,), dtype="uint8"))
    assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype) == ((10,), np.uint8)
    with pytest.raises(ValueError, match="does not match"):
        cuzarr.array(np.arange(10), shape=(2, 5))  # zarr-python silently ignores this shape


def test_zarr_config_keys_are_accepted():
    config = cuzarr.config
    with config.set({"async.concurrency": 32, "threading.max_workers": 3, "array": {"order": "F"}}):
        assert config.get("async.concurrency") == 32
        assert config.get("threads") == config.get("threading.max_workers") == 3
        assert config.get("array.order") == "F" and cuzarr.zeros((2, 2)).order == "F"
    with config.set({"threading.max_workers": None}):
        assert config.get("threads") >= 1
    assert config.get("async.concurrency") == zarr.config.get("async.concurrency") == 10
    with pytest.raises(KeyError, match="unknown config key"):
        config.set({"no.such.key": 1})


def test_read_only_writes_raise_a_value_error(tmp_path):
    cuzarr.ones(store=str(tmp_path / "d.zarr"), shape=(3, 3))
    array = cuzarr.open(store=str(tmp_path / "d.zarr"), mode="r")
    with pytest.raises(ValueError) as caught:
        array[:] = 3
    assert isinstance(caught.value, ReadOnlyError) and isinstance(caught.value, PermissionError)


@pytest.mark.parametrize("shape", [(400.5, 100), (np.float64(3.0),), ("3",)])
def test_non_integer_shapes_are_refused_not_truncated(shape):
    with pytest.raises(TypeError, match="shape"):
        cuzarr.create(shape=shape)
    with pytest.raises(TypeError):
        zarr.create(shape=shape)
    array = cuzarr.create(shape=(4,))
    with pytest.raises(TypeError, match="shape"):
        array.resize((5.5,))
    assert cuzarr.create(shape=(np.int64(3), 2)).shape == (3, 2)


def test_create_takes_chunk_shape():
    theirs, ours = _both(lambda lib: lib.create(shape=(200,), chunk_shape=(20,)))
    assert ours.chunks == theirs.chunks == (20,)
    with pytest.raises(ValueError, match="Only one of chunk_shape or chunks"):
        cuzarr.create(shape=(200,), chunk_shape=(20,), chunks=(10,))


def test_group_of_async_group_is_the_same_group():
    async def made() -> cuzarr.AsyncGroup:
        return await cuzarr.api.asynchronous.group(store={})

    wrapped = asyncio.run(made())
    group = cuzarr.Group(wrapped)
    assert group is wrapped._group
    with pytest.raises(TypeError, match="open_group"):
        cuzarr.Group({})


@pytest.mark.parametrize("opener", ["open_group", "open_array", "open"])
def test_bad_zarr_format_is_a_metadata_validation_error(opener):
    with pytest.raises(MetadataValidationError, match="Invalid value for 'zarr_format'"):
        getattr(cuzarr, opener)(store={}, zarr_format="3.0")
    with pytest.raises(MetadataValidationError, match="zarr_format"):
        cuzarr.create_array({}, shape=(1,), dtype="u1", zarr_format=4)


def test_v3_codec_as_v2_compressor_is_a_value_error():
    with pytest.raises(ValueError, match="Zarr v3 codec"):
        cuzarr.create(
            store={}, shape=(1,), dtype="uint8", zarr_format=2, compressor=cuzarr.codecs.BloscCodec()
        )


def test_zarr_warnings():
    """zarr-python's warnings, each reported at the caller's line (not inside cuzarr)."""
    group = cuzarr.group({})
    with pytest.warns(ZarrDeprecationWarning, match="Group.tree") as caught:
        cuzarr.tree(group)
    assert caught[0].filename == __file__
    with pytest.warns(ZarrRuntimeWarning, match="chunk_store is not yet implemented") as caught:
        cuzarr.create(shape=(2,), chunk_store={})
    assert caught[0].filename == __file__
    with pytest.warns(ZarrUserWarning, match="not part in the Zarr format 3 specification") as caught:
        cuzarr.consolidate_metadata(group.store)
    assert caught[0].filename == __file__
    with pytest.warns(ZarrRuntimeWarning, match="no effect for Zarr format 3") as caught:
        group.create_array("ordered", shape=(2,), dtype="i4", order="F")
    assert caught[0].filename == __file__
    with pytest.warns(ZarrUserWarning, match="experimental") as caught:
        cuzarr.create_array({}, shape=(64,), dtype="i4", shards="auto")
    assert caught[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cuzarr.create(shape=(2,), synchronizer=cuzarr.ThreadSynchronizer())  # implemented: no warning
        cuzarr.consolidate_metadata(cuzarr.group({}, zarr_format=2).store)


def test_sharding_combined_with_other_codecs_warns_at_the_callers_line():
    """zarr-python's advice when codecs follow a sharding codec (they apply to whole shards, so
    partial reads and writes are gone); the warning points at the user's call, and the usual
    sharded layout (``shards=``) does not warn."""
    sharding = cuzarr.codecs.ShardingCodec(chunk_shape=(8, 8))
    with pytest.warns(ZarrUserWarning, match="Combining a `sharding_indexed` codec") as caught:
        a = cuzarr.create_array({}, shape=(64, 64), chunks=(32, 32), dtype="i4", serializer=sharding)
    assert caught[0].filename == __file__
    assert a.shards is None and a.chunks == (32, 32)  # as zarr-python: the shard is the chunk
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = cuzarr.create_array({}, shape=(64, 64), chunks=(8, 8), shards=(32, 32), dtype="i4")
        cuzarr.create_array(
            {}, shape=(64, 64), chunks=(32, 32), dtype="i4", serializer=sharding, compressors=None
        )
    assert b.shards == (32, 32)


def test_both_formats_at_one_path_warn_and_v3_wins():
    store: dict = {}
    cuzarr.create_array(store, shape=(2,), dtype="i4", zarr_format=3)
    v2 = {}
    cuzarr.create_array(v2, shape=(3,), dtype="i4", zarr_format=2)
    store.update(v2)
    with pytest.warns(ZarrUserWarning, match=r"Both zarr.json .* and \.zarray"):
        assert cuzarr.open(store).shape == (2,)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cuzarr.open(store, zarr_format=2).shape == (3,)  # asked for: nothing ambiguous


def test_arrays_compare_equal_as_nodes():
    group = cuzarr.group({})
    group.create_array("a", shape=(3,), dtype="f4")
    group.create_array("b", shape=(3,), dtype="f4")
    assert group["a"] == group["a"] and group["a"] != group["b"]
    assert group["a"] in [group["b"], group["a"]] and len({group["a"], group["a"]}) == 1
    assert group["a"] == group["a"].with_device("emulated")  # how it reads is not what it is
    assert cuzarr.AsyncArray(group["a"]) == cuzarr.AsyncArray(group["a"])
    assert cuzarr.AsyncGroup(group) == cuzarr.AsyncGroup(cuzarr.open_group(group.store))
    stale = group["a"]
    group["a"].resize((5,))
    assert stale != group["a"]


def test_negative_max_depth_is_refused_with_consolidated_metadata():
    store: dict = {}
    cuzarr.group(store).create_group("a")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZarrUserWarning)
        group = cuzarr.consolidate_metadata(store)
    for call in (lambda: group.members(max_depth=-1), lambda: group.nmembers(max_depth=-1)):
        with pytest.raises(ValueError, match="max_depth"):
            call()


def test_messages_carry_zarr_pythons_phrases():
    group = cuzarr.group({})
    group.create_array("x", shape=(10,), dtype="i8")
    with pytest.raises(TypeError, match=r"Incompatible dtype \(int64 vs float64\)"):
        group.require_array("x", shape=(10,), dtype="f8", exact=True)
    with pytest.raises(TypeError, match=r"Incompatible shape \(\(10,\) vs \(5,\)\)"):
        group.require_array("x", shape=(5,))
    with pytest.raises(ValueError, match="A parent of .* is an array"):
        group.create_array("x/y", shape=(1,), dtype="i1")
    with pytest.raises(ValueError, match="Consolidated metadata requested with 'use_consolidated=True'"):
        cuzarr.open_group(group.store, use_consolidated=True)


@pytest.mark.parametrize(
    ("dtype", "value", "error"),
    [
        ("u1", -1, OverflowError),
        ("u1", 300, OverflowError),
        ("i1", [300, 1], OverflowError),
        ("i8", float("nan"), ValueError),
        ("i8", float("inf"), OverflowError),
        ("f4", 1 + 2j, TypeError),
    ],
)
def test_python_values_the_dtype_cannot_hold_are_refused(dtype, value, error):
    """Not wrapped around (-1 -> 255), as zarr-python and NumPy 2 refuse them; nothing is written."""
    for lib in (zarr, cuzarr):
        array = lib.create_array({}, shape=(2,), chunks=(1,), dtype=dtype)
        with pytest.raises(error):
            array[:] = value
    array = cuzarr.create_array({}, shape=(2,), chunks=(1,), dtype=dtype)
    with pytest.raises(error, match="array '/'"):
        array.vindex[[0, 1]] = value
    assert array.nchunks_initialized == 0
    array = cuzarr.create_array({}, shape=(2,), dtype="i1")
    array[:] = np.array([300, 1])  # arrays cast like astype, in both libraries
    assert array[:].tolist() == [44, 1]


@pytest.mark.parametrize("device", ["cpu", "emulated"])
@pytest.mark.parametrize(("fill", "written"), [(0.0, -0.0), (-0.0, 0.0)])
def test_signed_zero_is_not_the_fill_value(fill, written, device):
    """zarr-python #3144: a chunk of -0.0 is not "empty" when the fill is 0.0 (and back)."""
    array = cuzarr.create_array({}, shape=(4,), chunks=(2,), dtype="f8", fill_value=fill).with_device(device)
    array[:] = written
    assert np.signbit(array[:]).tolist() == [np.signbit(written)] * 4
    assert array.nchunks_initialized == 2
    array[:] = fill
    assert array.nchunks_initialized == 0


def test_stored_arrays_index_like_numpy_arrays():
    data = cuzarr.create_array({}, shape=(10,), chunks=(2,), dtype="i4")
    data[:] = np.arange(10)
    mask = cuzarr.create_array({}, shape=(10,), chunks=(3,), dtype=bool)
    mask[:] = np.arange(10) % 2 == 1
    points = zarr.create_array({}, shape=(3,), chunks=(2,), dtype="i8")  # zarr-python's own, too
    points[:] = [0, 5, 9]
    for selected in (data[mask], data.oindex[mask], data.vindex[mask]):
        assert selected.tolist() == [1, 3, 5, 7, 9]
    assert data[points].tolist() == data.vindex[points].tolist() == [0, 5, 9]
    data[mask] = -1
    assert data[:].tolist() == [0, -1, 2, -1, 4, -1, 6, -1, 8, -1]
    assert repr(data[np.int64(2)]) == repr(np.int32(2))  # a NumPy integer is an integer: a scalar


def test_nd_mask_in_a_one_tuple():
    array = cuzarr.create_array({}, shape=(4, 5), chunks=(2, 2), dtype="i4")
    data = np.arange(20).reshape(4, 5)
    array[:] = data
    mask = data % 3 == 0
    assert array[mask,].tolist() == data[mask,].tolist()
    array[mask,] = 0
    assert (array[:][mask] == 0).all()


def test_from_array_keeps_chunk_keys():
    source = cuzarr.create_array(
        {}, shape=(4, 4), chunks=(2, 2), dtype="i4", chunk_key_encoding={"name": "default", "separator": "."}
    )
    source[:] = 1
    store: dict = {}
    cuzarr.from_array(store, data=source)
    assert "c.0.0" in store
    v2 = cuzarr.create_array(
        {}, shape=(4, 4), chunks=(2, 2), dtype="i4", zarr_format=2, dimension_separator="/"
    )
    v2[:] = 1
    store = {}
    cuzarr.from_array(store, data=v2)
    assert "0/0" in store


def test_to_dict_matches_zarr_python():
    def document(lib, zarr_format, kind):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "group":
                return lib.group({}, zarr_format=zarr_format, attributes={"x": 2}).metadata.to_dict()
            return lib.create_array(
                {}, shape=(3,), dtype="i4", zarr_format=zarr_format, attributes={"u": 1}
            ).metadata.to_dict()

    def as_lists(value):
        if isinstance(value, dict):
            return {k: as_lists(v) for k, v in value.items()}
        return [as_lists(v) for v in value] if isinstance(value, (list, tuple)) else value

    for zarr_format in (2, 3):
        for kind in ("array", "group"):
            assert as_lists(document(cuzarr, zarr_format, kind)) == as_lists(
                document(zarr, zarr_format, kind)
            )
    assert cuzarr.codecs.ZstdCodec().to_dict() == zarr.codecs.ZstdCodec().to_dict()


def test_small_zarr_forms():
    array = cuzarr.create_array({}, shape=(10,), dtype="i4")
    array.shape = (20,)
    assert array.shape == (20,)
    keyed = cuzarr.create(shape=(4, 4), chunks=(2, 2), store={}, chunk_key_encoding=("default", "."))
    assert keyed.metadata.chunk_key_encoding.separator == "."
    location = cuzarr.codecs.ShardingCodecIndexLocation.start
    sharded = cuzarr.create_array(
        {}, shape=(8,), chunks=(2,), shards={"shape": (4,), "index_location": location}, dtype="u1"
    )
    assert sharded.metadata.codecs[0]["configuration"]["index_location"] == "start"
    void = cuzarr.create_array({}, shape=(2,), dtype="V4", fill_value=b"x")
    assert void[:].tolist() == [b"x\x00\x00\x00"] * 2
    with pytest.raises(TypeError, match="out= .* must be an array"):
        array.get_basic_selection(slice(0, 2), out=[])
    with pytest.warns(ZarrUserWarning, match="Numcodecs codecs"):
        cuzarr.create_array(
            {},
            shape=(4,),
            dtype="f8",
            compressors=[{"name": "numcodecs.zlib", "configuration": {"level": 1}}],
        )


def test_async_store_methods_are_refused():
    """A zarr-python-style store (``async def set``) would lose writes here: refused at class creation."""
    with pytest.raises(TypeError, match="coroutine function"):

        class AsyncSet(cuzarr.storage.MemoryStore):
            async def set(self, key, value):  # pragma: no cover - never called
                return None


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_group_metadata_shows_consolidated_metadata_as_zarr_python(zarr_format):
    """``group.metadata.consolidated_metadata.metadata`` (zarr-python's user guide): the children,
    each child group listing its own; None when the group does not use consolidated metadata."""

    def build(lib, store):
        group = lib.group(store, zarr_format=zarr_format)
        group.create_group("a").create_array("x", shape=(2,), dtype="i4")
        group.create_array("b", shape=(3,), dtype="f4")
        lib.consolidate_metadata(store)
        return lib.open_group(store), lib.open_group(store, use_consolidated=False)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (theirs, theirs_plain), (ours, ours_plain) = (
            build(zarr, zarr.storage.MemoryStore()),
            build(cuzarr, {}),
        )
    for view in (theirs.metadata.consolidated_metadata, ours.metadata.consolidated_metadata):
        assert sorted(view.metadata) == ["a", "b"]
        assert sorted(view.flattened_metadata) == ["a", "a/x", "b"]
        assert sorted(view.metadata["a"].consolidated_metadata.metadata) == ["x"]
        assert view.kind == "inline" and view.must_understand is False
    assert theirs_plain.metadata.consolidated_metadata is ours_plain.metadata.consolidated_metadata is None
    if zarr_format == 3:  # the view serializes back to the document on disk
        import json

        assert ours.metadata.to_json() == json.loads(ours.store.get("zarr.json"))


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_from_dict_builds_nodes_without_writing(zarr_format):
    store = cuzarr.storage.MemoryStore()
    source = cuzarr.create_array(
        {}, shape=(4,), chunks=(2,), dtype="i4", zarr_format=zarr_format, attributes={"u": 1}
    )
    array = cuzarr.Array.from_dict(cuzarr.storage.StorePath(store, "a"), source.metadata.to_dict())
    assert (array.shape, array.chunks, array.attrs["u"], array.path) == ((4,), (2,), 1, "a")
    assert cuzarr.AsyncArray.from_dict(
        cuzarr.storage.StorePath(store, "a"), source.metadata.to_dict()
    ).shape == (4,)
    group = cuzarr.AsyncGroup.from_dict(
        cuzarr.storage.StorePath(store, "g"), {"zarr_format": zarr_format, "attributes": {"foo": 100}}
    )
    assert (group.attrs, group.zarr_format) == ({"foo": 100}, zarr_format)
    assert list(store.list()) == []  # nothing written
