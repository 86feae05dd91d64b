"""zarr-python's deprecated ``Array`` members, kept so old code runs: ``compressor`` and ``create``.

Each warns with ``ZarrDeprecationWarning`` (naming its replacement) and behaves as zarr-python
3.1's. The work is done by plain functions, so ``AsyncArray`` shares it with one warning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ZarrDeprecationWarning, warn_user
from ..storage import make_store
from ..storage.store_path import split_store_path
from .creation import AUTO, DEFAULT_FILL

if TYPE_CHECKING:
    from .array import Array


def v2_compressor(array: Array) -> Any:
    """A v2 array's one compressor (None without); v3 arrays have a list (``compressors``)."""
    if array.zarr_format != 2:
        raise TypeError(
            f"`compressor` is not available for Zarr format 3 arrays (array '{array.name}'); "
            "use `compressors`"
        )
    return array.compressors[0] if array.compressors else None


def create_legacy_array(
    store: Any,
    *,
    shape: Any,
    dtype: Any,
    zarr_format: int = 3,
    fill_value: Any = DEFAULT_FILL,
    attributes: dict[str, Any] | None = None,
    chunk_shape: Any = None,
    chunk_key_encoding: Any = None,
    codecs: Any = None,
    dimension_names: Any = None,
    chunks: Any = None,
    dimension_separator: str | None = None,
    order: str | None = None,
    filters: Any = None,
    compressor: Any = AUTO,
    overwrite: bool = False,
    config: Any = None,
) -> Array:
    """zarr-python's ``Array.create`` arguments: ``chunk_shape`` (v3) or ``chunks`` (v2) name the
    chunk shape; ``filters=None`` means the defaults. The array goes at the store's root, or at
    the path of a ``StorePath``."""
    from .nodes import create_array_node  # nodes builds Array objects: imported when used

    store, path = split_store_path(store, "")
    return create_array_node(
        make_store(store, mode="w" if overwrite else "a"),
        path,
        shape=shape,
        dtype=dtype,
        zarr_format=zarr_format,
        overwrite=overwrite,
        config=config,
        chunks=chunk_shape or chunks or AUTO,
        fill_value=fill_value,
        attributes=attributes,
        chunk_key_encoding=chunk_key_encoding,
        codecs=codecs,
        dimension_names=dimension_names,
        dimension_separator=dimension_separator,
        order=order,
        filters=AUTO if filters is None else filters,
        compressor=compressor,
    )


def warn_deprecated(replacement: str) -> None:
    """The ``ZarrDeprecationWarning`` zarr-python gives, pointing at the caller of the member."""
    warn_user(f"Use {replacement} instead.", ZarrDeprecationWarning)


class LegacyArrayMembers:
    """Mixin of ``Array``: the deprecated ``compressor`` property and ``create`` classmethod."""

    @property
    def compressor(self) -> Any:
        """Deprecated: ``compressors[0]`` of a v2 array (None without); TypeError for v3 arrays."""
        warn_deprecated("Array.compressors")
        return v2_compressor(self)  # type: ignore[arg-type]

    @classmethod
    def create(cls, store: Any, **kwargs: Any) -> Array:
        """Deprecated: create an array at ``store``'s root (``cuzarr.create_array`` replaces it)."""
        warn_deprecated("cuzarr.create_array")
        return create_legacy_array(store, **kwargs)


__all__ = ["LegacyArrayMembers", "create_legacy_array", "v2_compressor", "warn_deprecated"]
