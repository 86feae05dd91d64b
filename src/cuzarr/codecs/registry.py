"""Codec names -> classes, and the conversions from what users pass (JSON, instances, numcodecs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import MetadataError, UnknownCodecError
from .base import Codec
from .blosc import BloscCodec, BloscShuffle
from .bytes import BytesCodec
from .crc32c import Crc32cCodec
from .gzip import GzipCodec
from .numcodecs_v3 import ALL_CODECS as NUMCODECS_V3
from .numcodecs_v3 import BY_ID as NUMCODECS_BY_ID
from .transpose import TransposeCodec
from .vlen import VLenBytesCodec, VLenUTF8Codec
from .zstd import ZstdCodec

_REGISTRY: dict[str, type[Codec]] = {}


def register_codec(name: str, cls: type[Codec]) -> None:
    """Make ``name`` in metadata resolve to ``cls`` (replacing any earlier registration)."""
    if not (isinstance(cls, type) and issubclass(cls, Codec)):
        raise TypeError(f"codec class for {name!r} must subclass cuzarr.codecs.base.Codec, got {cls!r}")
    _REGISTRY[name] = cls


def registered_codecs() -> list[str]:
    """The supported codec names, sorted."""
    return sorted(_REGISTRY)


def get_codec_class(name: str) -> type[Codec]:
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownCodecError(
            f"unknown codec {name!r}; supported codecs: {', '.join(registered_codecs())}", field="codecs"
        ) from None


def _from_numcodecs(codec: Any) -> Codec:
    """The v3 equivalent of a numcodecs compressor instance (what zarr-python users pass around)."""
    codec_id = getattr(codec, "codec_id", None)
    if codec_id == "zstd":
        return ZstdCodec(level=codec.level, checksum=bool(getattr(codec, "checksum", False)))
    if codec_id == "gzip":
        return GzipCodec(level=codec.level)
    if codec_id == "vlen-utf8":
        return VLenUTF8Codec()
    if codec_id == "vlen-bytes":
        return VLenBytesCodec()
    if codec_id == "blosc":
        shuffle = None if codec.shuffle == -1 else BloscShuffle.from_int(codec.shuffle)
        return BloscCodec(
            typesize=getattr(codec, "typesize", getattr(codec, "_typesize", None)),
            cname=codec.cname if isinstance(codec.cname, str) else codec.cname.decode(),
            clevel=codec.clevel,
            shuffle=shuffle,
            blocksize=codec.blocksize,
        )
    # like zarr-python 3.1, never switch silently to a codec outside the v3 spec: say how to opt in
    wrapper = NUMCODECS_BY_ID.get(str(codec_id))
    hint = ""
    if wrapper is not None:
        args = ", ".join(f"{k}={v!r}" for k, v in codec.get_config().items() if k != "id")
        hint = (
            f"; to write it as the non-spec v3 codec {wrapper.codec_name!r} (as zarr-python does), "
            f"pass cuzarr.codecs.numcodecs.{wrapper.__name__}({args})"
        )
    raise UnknownCodecError(
        f"numcodecs codec {codec_id!r} has no Zarr v3 equivalent in cuzarr (v3 codecs: "
        f"{', '.join(c for c in registered_codecs() if '.' not in c)}); it can still be used as a "
        f"Zarr v2 compressor or filter{hint}",
        field="codecs",
    )


def codec_from_json(obj: Any) -> Codec:
    """A codec from ``{"name", "configuration"}``, a bare name, a cuzarr/zarr-python codec or numcodecs codec."""
    if isinstance(obj, Codec):
        return obj
    if isinstance(obj, str):
        return get_codec_class(obj).from_config(None)
    if not isinstance(obj, Mapping):
        if hasattr(obj, "codec_id") and hasattr(obj, "get_config"):
            return _from_numcodecs(obj)
        if callable(getattr(obj, "to_dict", None)):  # zarr-python's codec classes
            return codec_from_json(obj.to_dict())
        raise MetadataError(
            f"expected a codec or a {{'name': ..., 'configuration': ...}} object, got {obj!r}"
        )
    if "id" in obj and "name" not in obj:
        raise MetadataError(
            f"{dict(obj)!r} is a Zarr v2 (numcodecs) codec config; Zarr v3 codecs are "
            "{'name': ..., 'configuration': {...}} objects",
            field="codecs",
        )
    name = obj.get("name")
    if not isinstance(name, str):
        raise MetadataError(f"codec object needs a string 'name', got {dict(obj)!r}", field="codecs")
    cls = get_codec_class(name)
    config = obj.get("configuration")
    if config is not None and not isinstance(config, Mapping):
        raise MetadataError(
            f"configuration of codec {name!r} must be an object, got {config!r}", field="codecs"
        )
    try:
        return cls.from_config(dict(config or {}))
    except MetadataError as exc:
        if exc.field is None and exc.source is None:  # name the field, as every metadata error does
            raise type(exc)(str(exc), field="codecs") from exc
        raise
    except (TypeError, ValueError) as exc:
        raise MetadataError(f"invalid configuration for codec {name!r}: {exc}", field="codecs") from exc


def parse_codecs(value: Any) -> list[Codec]:
    """User input (None, one codec in any accepted form, or a sequence of them) as a list of codecs."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [codec_from_json(v) for v in value]
    return [codec_from_json(value)]


for _cls in (
    BytesCodec,
    TransposeCodec,
    GzipCodec,
    ZstdCodec,
    BloscCodec,
    Crc32cCodec,
    VLenUTF8Codec,
    VLenBytesCodec,
    *NUMCODECS_V3,
):
    register_codec(_cls.codec_name, _cls)
