"""Codec registry and conversions from user input."""

from __future__ import annotations

import numcodecs
import pytest

from cuzarr.codecs import (
    BloscCodec,
    BytesCodec,
    Crc32cCodec,
    GzipCodec,
    TransposeCodec,
    ZstdCodec,
    codec_from_json,
    get_codec_class,
    parse_codecs,
    register_codec,
    registered_codecs,
)
from cuzarr.codecs.base import Codec
from cuzarr.errors import MetadataError, UnknownCodecError


def test_builtin_names():
    expected = {"blosc", "bytes", "crc32c", "gzip", "sharding_indexed", "transpose", "zstd"}
    assert expected <= set(registered_codecs())
    assert registered_codecs() == sorted(registered_codecs())
    assert get_codec_class("zstd") is ZstdCodec


def test_unknown_name_lists_supported():
    with pytest.raises(UnknownCodecError, match=r"unknown codec 'lzma9'; supported codecs: blosc, bytes, "):
        get_codec_class("lzma9")
    with pytest.raises(UnknownCodecError, match="'nope'"):
        codec_from_json({"name": "nope", "configuration": {}})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"name": "bytes"}, BytesCodec()),
        ({"name": "bytes", "configuration": {"endian": "big"}}, BytesCodec("big")),
        ({"name": "zstd", "configuration": {"level": 3, "checksum": True}}, ZstdCodec(3, True)),
        ({"name": "gzip", "configuration": {"level": 1}}, GzipCodec(1)),
        ({"name": "crc32c", "configuration": {}}, Crc32cCodec()),
        ({"name": "transpose", "configuration": {"order": [1, 0]}}, TransposeCodec((1, 0))),
        (
            {
                "name": "blosc",
                "configuration": {
                    "typesize": 4,
                    "cname": "lz4",
                    "clevel": 1,
                    "shuffle": "noshuffle",
                    "blocksize": 0,
                },
            },
            BloscCodec(typesize=4, cname="lz4", clevel=1, shuffle="noshuffle"),
        ),
        ("gzip", GzipCodec()),
        (numcodecs.Zstd(level=5), ZstdCodec(5)),
        (numcodecs.GZip(level=2), GzipCodec(2)),
        (
            numcodecs.Blosc(cname="zstd", clevel=2, shuffle=2),
            BloscCodec(cname="zstd", clevel=2, shuffle="bitshuffle"),
        ),
        (numcodecs.Blosc(shuffle=-1, typesize=4), BloscCodec(cname="lz4", typesize=4)),
    ],
)
def test_codec_from_json(value, expected):
    assert codec_from_json(value) == expected


def test_instances_pass_through_and_json_round_trips():
    codec = ZstdCodec(level=4)
    assert codec_from_json(codec) is codec
    for c in (
        BytesCodec(),
        TransposeCodec((2, 0, 1)),
        BloscCodec(typesize=2, cname="lz4", shuffle=1),
        Crc32cCodec(),
    ):
        assert codec_from_json(c.to_json()) == c
    # like zarr-python: {"name": "bytes"} means the default (little), evolved away for 1-byte dtypes
    assert codec_from_json(BytesCodec(None).to_json()) == BytesCodec("little")


def test_zarr_python_codec_instances():
    import zarr

    assert codec_from_json(
        zarr.codecs.BloscCodec(cname="lz4", shuffle="noshuffle", typesize=2)
    ) == BloscCodec(typesize=2, cname="lz4", shuffle="noshuffle")
    assert codec_from_json(zarr.codecs.TransposeCodec(order=(1, 0))) == TransposeCodec((1, 0))


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (numcodecs.Zlib(), r"numcodecs codec 'zlib' has no Zarr v3 equivalent"),
        ({"id": "zstd", "level": 1}, r"Zarr v2 \(numcodecs\) codec config"),
        ({"configuration": {}}, "string 'name'"),
        ({"name": "zstd", "configuration": [1]}, "must be an object"),
        ({"name": "zstd", "configuration": {"lvl": 1}}, r"invalid configuration for codec 'zstd'"),
        ({"name": "crc32c", "configuration": {"x": 1}}, r"invalid configuration for codec 'crc32c'"),
        (3.5, "expected a codec"),
    ],
)
def test_codec_from_json_errors(value, match):
    with pytest.raises(MetadataError, match=match):
        codec_from_json(value)


def test_parse_codecs():
    assert parse_codecs(None) == []
    assert parse_codecs(ZstdCodec()) == [ZstdCodec()]
    assert parse_codecs({"name": "gzip"}) == [GzipCodec()]
    assert parse_codecs([{"name": "bytes"}, numcodecs.Zstd()]) == [BytesCodec(), ZstdCodec()]
    assert parse_codecs(()) == []


def test_register_custom_codec():
    class Identity(Codec):
        codec_name = "test.identity"

        def get_config(self):
            return {}

    register_codec("test.identity", Identity)
    try:
        assert isinstance(codec_from_json({"name": "test.identity"}), Identity)
        assert "test.identity" in registered_codecs()
    finally:
        from cuzarr.codecs import registry

        registry._REGISTRY.pop("test.identity")
    with pytest.raises(TypeError):
        register_codec("bad", dict)  # type: ignore[arg-type]
