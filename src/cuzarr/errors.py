"""Exceptions raised by cuzarr; each names the array, chunk key or metadata field at fault."""

from __future__ import annotations


class CuzarrError(Exception):
    """Base class of every error cuzarr raises on purpose."""


class MetadataError(CuzarrError, ValueError):
    """Metadata JSON that is invalid, incomplete or unsupported.

    ``source`` is the metadata document (e.g. ``'a/zarr.json'``) and ``field`` the offending key.
    """

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.source = source
        self.field = field
        where = []
        if source:
            where.append(f"in '{source}'")
        if field:
            where.append(f"field '{field}'")
        prefix = (" ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)


class UnknownCodecError(MetadataError):
    """A codec name that no registered codec implements."""


class UnknownDataTypeError(MetadataError):
    """A data type that cuzarr cannot represent."""


class CodecError(CuzarrError, ValueError):
    """A chunk that cannot be encoded or decoded; names the chunk key and the codec."""

    def __init__(self, message: str, *, key: str | None = None, codec: str | None = None):
        self.key = key
        self.codec = codec
        parts = []
        if key is not None:
            parts.append(f"chunk '{key}'")
        if codec is not None:
            parts.append(codec)
        prefix = (": ".join(parts) + ": ") if parts else ""
        super().__init__(prefix + message)


class InvalidKeyError(CuzarrError, ValueError):
    """A store key that could escape the store root or is otherwise malformed."""


class ReadOnlyError(CuzarrError, PermissionError):
    """A write attempted on a read-only store or array."""


class NodeNotFoundError(CuzarrError, FileNotFoundError):
    """No array or group at the given path."""


class ArrayNotFoundError(NodeNotFoundError):
    """No array at the given path."""


class GroupNotFoundError(NodeNotFoundError):
    """No group at the given path."""


class ContainsArrayError(CuzarrError, FileExistsError):
    """An array already exists where a new node was to be created."""


class ContainsGroupError(CuzarrError, FileExistsError):
    """A group already exists where a new node was to be created."""


class NodeTypeValidationError(CuzarrError, ValueError):
    """A node exists but is not of the requested kind (array vs group)."""


class CopyError(CuzarrError, RuntimeError):
    """A copy refused because the destination already holds the node or key (``if_exists='raise'``)."""


class RemoteStoreError(CuzarrError, OSError):
    """A store operation that kept failing with transient errors; ``key`` is the key at fault."""

    def __init__(self, message: str, *, key: str | None = None, attempts: int = 0):
        super().__init__(message)
        self.key = key
        self.attempts = attempts


def _name_keys(keys: tuple[str, ...], limit: int = 4) -> str:
    """``'a/c/0', 'a/c/1' and 3 more``: enough to find the batch without flooding the message."""
    shown = ", ".join(repr(k) for k in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


class DeviceOutOfMemory(CuzarrError, MemoryError):
    """Device (or pinned host) memory ran out, whichever library reported it.

    ``nbytes`` is the allocation that failed (``None`` when the library did not say), ``memory``
    which kind ran out ('device' or 'pinned') and ``keys`` the chunks being processed, once known.
    The device backend catches it, halves the batch and retries; it only reaches the caller when a
    single chunk does not fit.
    """

    def __init__(
        self, message: str, *, nbytes: int | None = None, memory: str = "device", keys: tuple[str, ...] = ()
    ):
        self.nbytes = nbytes
        self.memory = memory
        self.keys = tuple(keys)
        prefix = f"chunk {_name_keys(self.keys)}: " if self.keys else ""
        super().__init__(prefix + message)


class DeviceError(CuzarrError, RuntimeError):
    """A device call (copy, kernel, batch codec) failed mid-batch; ``keys`` are that batch's chunks.

    Nothing of the batch was returned or stored, and the staging memory was released, so the
    same read or write can be retried.
    """

    def __init__(self, message: str, *, keys: tuple[str, ...] = ()):
        self.keys = tuple(keys)
        prefix = f"chunks {_name_keys(self.keys)}: " if self.keys else ""
        super().__init__(prefix + message)
