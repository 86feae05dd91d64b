"""The store protocol: batched byte access by key. Stores move bytes and never decode.

Keys are ``/``-separated relative paths (``'a/zarr.json'``, ``'a/c/0/1'``). A byte range is
``(start, end)`` with ``end`` exclusive, ``(start, None)`` for "from start to the end", or
``(-n, None)`` for "the last n bytes"; every form behaves like the Python slice
``value[start:end]`` (negative ends and ranges past the end included). Every method takes many
keys at once so that a store can run them in parallel (LocalStore), as one request
(FsspecStore ``cat_ranges``) or under one lock (ZipStore).
"""

from __future__ import annotations

import inspect
import operator
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Self

from ..config import config
from ..errors import CuzarrError, InvalidKeyError, ReadOnlyError

ByteRange = tuple[int, "int | None"]
#: Keys that are certainly valid (word characters, '-', '.'; no '.'/'..' segments): the fast path.
_SAFE_KEY = re.compile(r"(?!\.\.?(?:/|\Z))[\w\-.]+(?:/(?!\.\.?(?:/|\Z))[\w\-.]+)*").fullmatch
#: Anything with the buffer protocol (bytes, bytearray, memoryview, contiguous NumPy arrays).
BytesLike = Any
#: One two-step read of ``Store.get_dependent``: key, first byte range, and ``follow(first bytes)``
#: giving the byte ranges to read next from the same value.
DependentRead = tuple[str, "ByteRange | None", Callable[[bytes], Sequence["ByteRange"]]]
#: What a two-step read gives: the first bytes and the followed ranges (``None`` for a range whose
#: value vanished in between, which only stores without ``snapshot_reads`` can see).
DependentValue = tuple[bytes, list["bytes | None"]]
#: Reads of a value that keeps being replaced between the two steps of ``get_dependent``.
_DEPENDENT_ATTEMPTS = 4


def validate_key(key: str) -> str:
    """Refuse keys that could escape the store root; done before any I/O."""
    if type(key) is str and _SAFE_KEY(key) is not None:
        return key
    if not isinstance(key, str):
        raise InvalidKeyError(f"store key must be a str, got {type(key).__name__}: {key!r}")
    if key == "":
        raise InvalidKeyError("store key must not be empty")
    if "\\" in key:
        raise InvalidKeyError(f"store key {key!r} contains a backslash")
    if key.startswith("/"):
        raise InvalidKeyError(f"store key {key!r} is an absolute path")
    if "\x00" in key:
        raise InvalidKeyError(f"store key {key!r} contains a NUL byte")
    parts = key.split("/")
    if any(part in ("..", ".") for part in parts):
        raise InvalidKeyError(f"store key {key!r} contains a '.' or '..' segment")
    if any(part == "" for part in parts):
        raise InvalidKeyError(f"store key {key!r} contains an empty segment")
    if len(parts[0]) == 2 and parts[0][1] == ":" and parts[0][0].isalpha():
        raise InvalidKeyError(f"store key {key!r} looks like a drive path")
    return key


def validate_prefix(prefix: str) -> str:
    """Like ``validate_key`` but allows ``''`` (the root) and one trailing ``/``."""
    if not isinstance(prefix, str):
        raise InvalidKeyError(f"store prefix must be a str, got {type(prefix).__name__}: {prefix!r}")
    if prefix == "":
        return prefix
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def validate_byte_range(byte_range: Any) -> ByteRange | None:
    """``None`` or an ``(int, int | None)`` pair (NumPy integers accepted); refuse anything else."""
    if byte_range is None:
        return None
    try:
        start, end = byte_range
        if isinstance(start, bool) or isinstance(end, bool):
            raise TypeError
        return operator.index(start), None if end is None else operator.index(end)
    except (TypeError, ValueError):
        raise TypeError(f"byte range must be None or (start, end | None) ints, got {byte_range!r}") from None


def resolve_byte_range(byte_range: ByteRange | None, size: int) -> tuple[int, int]:
    """``(offset, stop)`` within a value of ``size`` bytes, as ``value[start:end]`` would slice it."""
    if byte_range is None:
        return 0, size
    start, stop, _ = slice(byte_range[0], byte_range[1]).indices(size)
    return start, max(start, stop)


def apply_byte_range(data: bytes, byte_range: ByteRange | None) -> bytes:
    """Slice ``data`` by a byte range (used by stores that hold whole values in memory)."""
    if byte_range is None:
        return data
    return data[byte_range[0] : byte_range[1]]


def as_memoryview(value: BytesLike) -> memoryview:
    """A flat byte view of any buffer-protocol ``value``, without a copy when it is contiguous."""
    view = value if isinstance(value, memoryview) else memoryview(value)
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    if view.ndim != 1 or view.format != "B":
        view = view.cast("B")
    return view


#: the methods cuzarr calls synchronously (zarr-python's stores define several as ``async def``)
_SYNC_METHODS = (
    "get",
    "set",
    "delete",
    "exists",
    "list",
    "list_prefix",
    "list_dir",
    "get_many",
    "get_dependent",
    "set_many",
    "delete_many",
    "getsize",
    "is_empty",
    "delete_prefix",
)


class Store(ABC):
    """Batched key-value access to bytes. Subclasses implement the ``_*_many`` methods.

    The public ``*_many`` methods validate every key (and refuse writes to read-only stores)
    before any I/O, so implementations only see safe keys.
    """

    #: Whether ``delete_many`` works (ZipStore cannot delete).
    supports_deletes: bool = True
    #: Whether one ``get``/``set``/``delete`` per key from many threads costs no more than the
    #: batched calls (local files, memory). The CPU path then reads and decodes (or encodes and
    #: writes) each chunk in one pool task; stores that need batching (remote, zip, counting
    #: wrappers) keep the ``*_many`` calls.
    cheap_single_ops: bool = False
    #: Whether ``get_dependent`` takes both steps of a read from one version of each value.
    snapshot_reads: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse zarr-python-style stores: their ``async def get/set`` would be called
        synchronously here, and a write would be silently lost as an unawaited coroutine."""
        super().__init_subclass__(**kwargs)
        for name in _SYNC_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and inspect.iscoroutinefunction(method):
                raise TypeError(
                    f"{cls.__name__}.{name} is a coroutine function: cuzarr stores are synchronous "
                    f"and batched; override the synchronous '{name}' (or '_{name}_many')"
                )

    def __init__(self, *, read_only: bool = False):
        self._read_only = bool(read_only)

    @classmethod
    async def open(cls, *args: Any, **kwargs: Any) -> Self:
        """zarr-python's async constructor, for code written against it: a cuzarr store is
        ready once constructed, so this only constructs."""
        return cls(*args, **kwargs)

    @property
    def read_only(self) -> bool:
        return self._read_only

    # -- batched core ---------------------------------------------------------------
    def get_many(
        self, keys: Sequence[str], byte_ranges: Sequence[ByteRange | None] | None = None
    ) -> list[bytes | None]:
        """Values (or byte ranges of them) for many keys; ``None`` where a key is missing."""
        keys = list(keys)
        for key in keys:
            validate_key(key)
        if byte_ranges is not None:
            byte_ranges = [validate_byte_range(r) for r in byte_ranges]
            if len(byte_ranges) != len(keys):
                raise ValueError(f"{len(keys)} keys but {len(byte_ranges)} byte ranges")
            if all(r is None for r in byte_ranges):
                byte_ranges = None
        if not keys:
            return []
        return self._get_many(keys, byte_ranges)

    @abstractmethod
    def _get_many(self, keys: list[str], byte_ranges: list[ByteRange | None] | None) -> list[bytes | None]:
        """Implementation of ``get_many`` for validated keys (``byte_ranges`` None: whole values)."""

    def get_dependent(self, requests: Sequence[DependentRead]) -> list[DependentValue | None]:
        """Two-step reads of many values: for each ``(key, first_range, follow)``, read
        ``first_range`` (``None``: the whole value), then the ranges ``follow(first_bytes)`` names.
        ``None`` where the key is missing; errors raised by ``follow`` propagate.

        A sharded read is one: the shard index, then the inner chunks it points at. A store with
        ``snapshot_reads`` (LocalStore: one open file; MemoryStore: one bytes object) takes both
        steps from the same version of each value. A value replaced in between by a concurrent
        writer then cannot pair one version's offsets with the other's bytes, which would return
        another chunk's bytes under this chunk's name. Other stores read in two ``get_many``
        calls (two request rounds whatever the number of keys) and check the first bytes again
        in the second (see ``_get_dependent``).
        """
        checked = [(validate_key(key), validate_byte_range(first), follow) for key, first, follow in requests]
        return self._get_dependent(checked) if checked else []

    def _get_dependent(self, requests: list[DependentRead]) -> list[DependentValue | None]:
        """Without snapshots: the first ranges in one ``get_many``, the followed ones in a second.

        With ``recheck_dependent_reads`` (the default) the second call also reads each first
        range again; a value whose first bytes changed was replaced between the calls, and is
        read again (up to ``_DEPENDENT_ATTEMPTS`` times), so the followed bytes always match the
        first ones. Only two replacements within the second call, the last one restoring
        identical first bytes, could go unseen.
        """
        recheck = bool(config.get("recheck_dependent_reads"))
        results: list[DependentValue | None] = [None] * len(requests)
        pending = list(range(len(requests)))
        for _ in range(_DEPENDENT_ATTEMPTS):
            firsts = self.get_many([requests[i][0] for i in pending], [requests[i][1] for i in pending])
            keys: list[str] = []
            ranges: list[ByteRange | None] = []
            owners: list[int] = []  # request index, or ~index for a re-read first range
            for i, first in zip(pending, firsts):
                results[i] = None if first is None else (first, [])
                if first is None:
                    continue
                key, first_range, follow = requests[i]
                followed = list(follow(first))
                keys += [key] * len(followed)
                ranges += followed
                owners += [i] * len(followed)
                if recheck and followed and first_range is not None:
                    keys.append(key)
                    ranges.append(first_range)
                    owners.append(~i)
            replaced = []
            for owner, data in zip(owners, self.get_many(keys, ranges) if keys else []):
                if owner >= 0:
                    results[owner][1].append(data)  # type: ignore[index]
                elif data != results[~owner][0]:  # type: ignore[index]
                    replaced.append(~owner)
            if not replaced:
                return results
            pending = replaced
        raise CuzarrError(
            f"'{requests[pending[0]][0]}' in {self!r} was replaced during each of "
            f"{_DEPENDENT_ATTEMPTS} attempts to read it (a writer keeps rewriting it)"
        )

    @abstractmethod
    def _set_many(self, items: Sequence[tuple[str, BytesLike]]) -> None:
        """Write many values (distinct, validated keys); each value replaces its key atomically."""

    @abstractmethod
    def _delete_many(self, keys: Sequence[str]) -> None:
        """Delete many keys (distinct, validated); missing keys are ignored."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a value (implementations call ``validate_key`` first)."""

    @abstractmethod
    def list_prefix(self, prefix: str) -> list[str]:
        """Every key that starts with the string ``prefix`` (full keys, sorted)."""

    @abstractmethod
    def list_dir(self, prefix: str) -> list[str]:
        """Names (relative to ``prefix``, sorted, no trailing '/') of the keys and 'directories'
        directly under the directory ``prefix`` (``''`` is the root; ``'a'`` and ``'a/'`` agree)."""

    # -- write guards ---------------------------------------------------------------
    def set_many(self, items: Mapping[str, BytesLike] | Iterable[tuple[str, BytesLike]]) -> None:
        """Write many values; values may be any buffer-protocol object. Last one wins per key."""
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        self._check_writable()
        for key, _ in pairs:
            validate_key(key)
        if len({key for key, _ in pairs}) != len(pairs):
            pairs = list(dict(pairs).items())
        if pairs:
            self._set_many(pairs)

    def delete_many(self, keys: Iterable[str]) -> None:
        """Delete many keys; missing keys are ignored."""
        keys = list(dict.fromkeys(keys))
        self._check_writable()
        for key in keys:
            validate_key(key)
        if keys:
            self._delete_many(keys)

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"{self!r} is read-only")

    # -- single-key conveniences ----------------------------------------------------
    def get(self, key: str, byte_range: ByteRange | None = None) -> bytes | None:
        return self.get_many([key], None if byte_range is None else [byte_range])[0]

    def set(self, key: str, value: BytesLike) -> None:
        self.set_many([(key, value)])

    def delete(self, key: str) -> None:
        self.delete_many([key])

    def delete_prefix(self, prefix: str) -> None:
        """Delete every key under ``prefix`` (``''`` clears the store)."""
        self._check_writable()
        self.delete_many(self.list_prefix(validate_prefix(prefix)))

    def list(self) -> list[str]:
        return self.list_prefix("")

    def getsize(self, key: str) -> int:
        """Size of a value in bytes; ``FileNotFoundError`` when missing (stores override cheaply)."""
        value = self.get(key)
        if value is None:
            raise FileNotFoundError(key)
        return len(value)

    def is_empty(self, prefix: str = "") -> bool:
        return not self.list_prefix(prefix)

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op for most stores
        """Release resources; stores that need it (ZipStore) override."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def with_read_only(self, read_only: bool = True) -> Store:
        """A view of the same data with another read-only flag (subclasses override)."""
        raise NotImplementedError(f"{type(self).__name__} does not support with_read_only")


def list_prefix_of_keys(keys: Iterable[str], prefix: str) -> list[str]:
    """``list_prefix`` for stores that can enumerate all keys (memory, zip)."""
    return sorted(key for key in keys if key.startswith(prefix))


def list_dir_of_keys(keys: Iterable[str], prefix: str) -> list[str]:
    """``list_dir`` for stores that can enumerate all keys (memory, zip)."""
    prefix = prefix.rstrip("/")
    prefix = prefix + "/" if prefix else ""
    n = len(prefix)
    return sorted({key[n:].split("/", 1)[0] for key in keys if key.startswith(prefix) and len(key) > n})
