"""Exceptions raised by cuzarr; each names the array, chunk key or metadata field at fault.

zarr-python 3's names (``zarr.errors``) are here too, so code written ``except zarr.errors.X``
catches what cuzarr raises in the same situation: ``BaseZarrError`` is cuzarr's root,
``MetadataValidationError`` its metadata error, and the index errors are raised by the selection
code. The warning classes are zarr-python's, under the same names and bases.
"""

from __future__ import annotations

import os
import sys
import warnings


class CuzarrError(Exception):
    """Base class of every error cuzarr raises on purpose (also available as ``BaseZarrError``).

    Unlike zarr-python's ``BaseZarrError`` it is not itself a ``ValueError``: cuzarr also raises
    device, permission and store (``OSError``) failures under it, which ``except ValueError`` must
    not swallow. Every error that zarr-python raises as a ``ValueError`` (metadata, node not found,
    a node already there) is a ``ValueError`` here as well, so ``except ValueError`` catches the
    same situations in both libraries.
    """


#: zarr-python's root error; ``except BaseZarrError`` catches every cuzarr error.
BaseZarrError = CuzarrError


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


#: zarr-python's name for invalid metadata: ``except MetadataValidationError`` catches every
#: ``MetadataError`` (unknown codecs and data types, wrong node types included).
MetadataValidationError = MetadataError


class UnknownCodecError(MetadataError):
    """A codec name that no registered codec implements."""


class UnknownDataTypeError(MetadataError):
    """A data type that cuzarr cannot represent."""


class CodecFormatError(CuzarrError, TypeError, ValueError):
    """A Zarr v3 codec object given where a Zarr v2 (numcodecs) codec is needed. Both a
    ``TypeError`` and a ``ValueError``: zarr-python raises the one for filters, the other for
    compressors."""


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


class ReadOnlyError(CuzarrError, PermissionError, ValueError):
    """A write attempted on a read-only store or array (a ``ValueError`` too, as zarr-python raises)."""


class NodeNotFoundError(CuzarrError, FileNotFoundError, ValueError):
    """No array or group at the given path (a ``ValueError`` too, as in zarr-python)."""


class ArrayNotFoundError(NodeNotFoundError):
    """No array at the given path."""


class GroupNotFoundError(NodeNotFoundError):
    """No group at the given path."""


class ContainsArrayError(CuzarrError, FileExistsError, ValueError):
    """An array already exists where a new node was to be created (a ``ValueError`` too, as in zarr-python)."""


class ContainsGroupError(CuzarrError, FileExistsError, ValueError):
    """A group already exists where a new node was to be created (a ``ValueError`` too, as in zarr-python)."""


class ContainsArrayAndGroupError(CuzarrError, ValueError):
    """Both ``.zarray`` and ``.zgroup`` at one path: the node is neither, and nothing may be created there."""


class NodeTypeValidationError(MetadataError):
    """A node exists but is not of the requested kind (array vs group); a metadata error, as in zarr-python."""


class BoundsCheckError(CuzarrError, IndexError):
    """An integer index (or index array element, or block index) outside its axis."""


class NegativeStepError(CuzarrError, IndexError):
    """A slice with a negative step where only ascending ones are allowed (block selections)."""


class VindexInvalidSelectionError(CuzarrError, IndexError):
    """A vectorised selection that is neither coordinates (one integer array per axis) nor a mask."""


class ArrayIndexError(CuzarrError, IndexError):
    """zarr-python's error for an index array where one position was expected; cuzarr's selections
    never need it, it is defined so that ``except ArrayIndexError`` clauses written for zarr-python work."""


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


# -- warnings: zarr-python's classes, so filters written for zarr-python apply to cuzarr ------------


class ZarrFutureWarning(FutureWarning):
    """A feature that will change or go away; shown to end users."""


class UnstableSpecificationWarning(ZarrFutureWarning):
    """A feature outside the Zarr specification that other implementations may not read."""


class ZarrDeprecationWarning(DeprecationWarning):
    """A feature that will be removed in a future release."""


class ZarrUserWarning(UserWarning):
    """A problem with the calling code."""


class ZarrRuntimeWarning(RuntimeWarning):
    """Dubious runtime behaviour."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message: str, category: type[Warning] = ZarrUserWarning) -> None:
    """Warn at the caller's first frame outside cuzarr, however deep in the library the cause is
    found (a fixed ``stacklevel`` points into cuzarr when the same check runs on several paths)."""
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
