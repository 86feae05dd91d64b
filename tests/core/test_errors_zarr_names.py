"""zarr-python's error and warning names: ``except zarr.errors.X`` catches what cuzarr raises in the
same situation, compared side by side with zarr-python where both libraries raise."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import cuzarr
from cuzarr import errors

zarr = pytest.importorskip("zarr")  # its submodules (errors, storage, api.*) load with it


def _zarr_error_classes() -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(zarr.errors).items()
        if isinstance(obj, type) and obj.__module__ == zarr.errors.__name__
    }


def _builtin_bases(cls: type) -> set[type]:
    return {c for c in cls.__mro__ if c.__module__ == "builtins" and c not in (object, BaseException)}


@pytest.mark.parametrize("name", sorted(_zarr_error_classes()))
def test_builtin_bases_include_zarrs(name: str) -> None:
    """``except ValueError`` / ``except IndexError`` / warning filters catch what they catch in
    zarr-python; BaseZarrError alone is not a ValueError (it also roots device and store errors)."""
    theirs = _builtin_bases(_zarr_error_classes()[name])
    ours = _builtin_bases(getattr(errors, name))
    if name == "BaseZarrError":
        theirs -= {ValueError}
    assert theirs <= ours, (name, theirs - ours)


def test_zarr_subclass_relations_hold() -> None:
    classes = _zarr_error_classes()
    for sub_name, sub in classes.items():
        for base_name, base in classes.items():
            if issubclass(sub, base):
                assert issubclass(getattr(errors, sub_name), getattr(errors, base_name)), (
                    sub_name,
                    base_name,
                )


def test_base_zarr_error_is_cuzarrs_root_and_catches_every_cuzarr_error() -> None:
    assert errors.BaseZarrError is errors.CuzarrError
    for name in dir(errors):
        obj = getattr(errors, name)
        if isinstance(obj, type) and obj.__module__ == errors.__name__ and not issubclass(obj, Warning):
            assert issubclass(obj, errors.BaseZarrError), name
    assert not issubclass(errors.BaseZarrError, ValueError)
    store = cuzarr.storage.MemoryStore()
    cuzarr.create_array(store, shape=(2,), dtype="i4")
    with pytest.raises(errors.BaseZarrError) as info:
        cuzarr.open_array(store, mode="r")[...] = 1
    assert isinstance(info.value, errors.ReadOnlyError | PermissionError)


def test_metadata_validation_error_is_cuzarrs_metadata_error() -> None:
    assert errors.MetadataValidationError is errors.MetadataError
    assert issubclass(errors.UnknownCodecError, errors.MetadataValidationError)
    assert issubclass(errors.NodeTypeValidationError, errors.MetadataValidationError)


def test_invalid_metadata_is_caught_as_metadata_validation_error() -> None:
    store = {"zarr.json": json.dumps({"zarr_format": 3, "node_type": "array", "shape": [2]}).encode()}
    with pytest.raises(errors.MetadataValidationError, match="zarr.json"):
        cuzarr.open_array(store, mode="r")


def test_opening_a_group_as_an_array_is_a_metadata_validation_error_in_both_libraries() -> None:
    for lib in (zarr, cuzarr):
        store = lib.storage.MemoryStore()
        lib.create_group(store)
        with pytest.raises(lib.errors.MetadataValidationError) as info:
            lib.open_array(store, mode="r")
        assert isinstance(info.value, lib.errors.NodeTypeValidationError)
    assert "is a group, not an array" in str(info.value)


def test_not_found_is_a_value_error_as_in_zarr() -> None:
    for lib in (zarr, cuzarr):
        with pytest.raises(ValueError) as info:
            lib.open_array(lib.storage.MemoryStore(), path="missing", mode="r")
        assert isinstance(info.value, lib.errors.ArrayNotFoundError)
    assert "missing" in str(info.value)


# -- index errors: the same class from both libraries ------------------------------------------


def _arrays(lib: Any) -> tuple[Any, Any]:
    return (
        lib.create_array({}, shape=(5,), chunks=(2,), dtype="i4"),
        lib.create_array({}, shape=(4, 4), chunks=(2, 2), dtype="i4"),
    )


SAME_ERROR: list[tuple[str, Callable[[Any, Any], Any], str, str]] = [
    ("integer", lambda a, b: a[10], "BoundsCheckError", "index 10 is out of bounds for axis 0 with size 5"),
    ("negative integer", lambda a, b: a[-6], "BoundsCheckError", "index -6 is out of bounds for axis 0"),
    ("oindex array", lambda a, b: a.oindex[[0, 9]], "BoundsCheckError", "index 9 is out of bounds"),
    ("vindex array", lambda a, b: a.vindex[[0, 9]], "BoundsCheckError", "index 9 is out of bounds"),
    (
        "fancy getitem",
        lambda a, b: b[np.array([0, 9]), np.array([0, 1])],
        "BoundsCheckError",
        "index 9 is out of bounds for axis 0 with size 4",
    ),
    ("block", lambda a, b: a.blocks[5], "BoundsCheckError", "block index 5 is out of bounds"),
    ("vindex slice", lambda a, b: a.vindex[0:2], "VindexInvalidSelectionError", "axis 0 got slice"),
    ("vindex too few arrays", lambda a, b: b.vindex[[0, 1]], "VindexInvalidSelectionError", "per dimension"),
    (
        "vindex mask shape",
        lambda a, b: a.vindex[np.ones(3, dtype=bool)],
        "VindexInvalidSelectionError",
        r"mask shape \(3,\) does not match array shape \(5,\)",
    ),
]


@pytest.mark.parametrize("select,name,message", [c[1:] for c in SAME_ERROR], ids=[c[0] for c in SAME_ERROR])
def test_index_errors_have_zarrs_classes(select: Callable[[Any, Any], Any], name: str, message: str) -> None:
    with pytest.raises(getattr(zarr.errors, name)):
        select(*_arrays(zarr))
    with pytest.raises(getattr(errors, name), match=message) as info:
        select(*_arrays(cuzarr))
    assert isinstance(info.value, IndexError)


def test_negative_steps_read_reversed_but_block_slices_refuse_them() -> None:
    """zarr-python refuses ``a[::-1]`` (NegativeStepError); cuzarr reads it as NumPy does. Block
    selections take step 1 only: a negative step is a NegativeStepError (an IndexError, as zarr's)."""
    a, _ = _arrays(cuzarr)
    a[...] = np.arange(5)
    np.testing.assert_array_equal(a[::-1], np.arange(5)[::-1])
    with pytest.raises(errors.NegativeStepError, match="step -1"):
        a.blocks[::-1]
    with pytest.raises(IndexError, match="step 2") as info:
        a.blocks[::2]
    assert not isinstance(info.value, errors.NegativeStepError)
    with pytest.raises(IndexError):
        _arrays(zarr)[0].blocks[::-1]


# -- a path holding both array and group metadata ----------------------------------------------

ZARRAY = {
    "zarr_format": 2,
    "shape": [2],
    "chunks": [2],
    "dtype": "<i4",
    "compressor": None,
    "fill_value": 0,
    "filters": None,
    "order": "C",
}


def _array_and_group(lib: Any) -> Any:
    documents = {"x/.zarray": json.dumps(ZARRAY).encode(), "x/.zgroup": b'{"zarr_format": 2}'}
    if lib is cuzarr:
        return cuzarr.storage.MemoryStore(documents)
    from zarr.core.buffer.cpu import Buffer

    return zarr.storage.MemoryStore({k: Buffer.from_bytes(v) for k, v in documents.items()})


@pytest.mark.parametrize(
    "create",
    [
        lambda lib, store: lib.create_array(store, name="x", shape=(2,), dtype="i4", zarr_format=2),
        lambda lib, store: lib.create_group(store, path="x", zarr_format=2),
    ],
    ids=["create_array", "create_group"],
)
def test_creating_over_array_and_group_metadata(create: Callable[[Any, Any], Any]) -> None:
    with pytest.raises(zarr.errors.ContainsArrayAndGroupError):
        create(zarr, _array_and_group(zarr))
    store = _array_and_group(cuzarr)
    with pytest.raises(errors.ContainsArrayAndGroupError, match="path 'x'"):
        create(cuzarr, store)
    assert sorted(store.list()) == ["x/.zarray", "x/.zgroup"]  # nothing written


def test_overwrite_replaces_a_node_with_array_and_group_metadata() -> None:
    store = _array_and_group(cuzarr)
    cuzarr.create_array(store, name="x", shape=(3,), dtype="i4", zarr_format=2, overwrite=True)
    assert not store.exists("x/.zgroup") and cuzarr.open_array(store, path="x").shape == (3,)


# -- warnings ---------------------------------------------------------------------------------------


def test_warning_classes_mirror_zarrs() -> None:
    assert issubclass(errors.ZarrDeprecationWarning, DeprecationWarning)
    assert issubclass(errors.ZarrFutureWarning, FutureWarning)
    assert issubclass(errors.UnstableSpecificationWarning, errors.ZarrFutureWarning)
    assert issubclass(errors.ZarrRuntimeWarning, RuntimeWarning)
    assert issubclass(errors.ZarrUserWarning, UserWarning)
