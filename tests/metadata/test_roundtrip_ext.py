"""Whole v2/v3 documents with the non-numeric data types survive to_json -> from_json."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuzarr.errors import MetadataError, UnknownDataTypeError
from cuzarr.metadata import (
    STRING_DTYPE,
    ArrayMetadataV2,
    ArrayMetadataV3,
    ChunkKeyEncoding,
    RegularChunkGrid,
)

from .test_fill_value_ext import dtype_and_fill


def _serializer(dtype: np.dtype) -> dict:
    name = {"T": "vlen-utf8", "O": "vlen-bytes"}.get(dtype.kind, "bytes")
    return {"name": name, "configuration": {}}


@given(dtype_and_fill())
def test_v3_documents(case):
    dtype, fill = case
    meta = ArrayMetadataV3(
        shape=(4, 3),
        data_type=dtype,
        chunk_grid=RegularChunkGrid((2, 2)),
        chunk_key_encoding=ChunkKeyEncoding("default", "/"),
        fill_value=fill,
        codecs=(_serializer(dtype),),
    )
    doc = json.loads(meta.to_bytes())
    back = ArrayMetadataV3.from_json(meta.to_bytes())
    assert back == meta and json.loads(back.to_bytes()) == doc


@given(dtype_and_fill(), st.booleans())
def test_v2_documents(case, use_fill):
    dtype, fill = case
    filters = {"T": ({"id": "vlen-utf8"},), "O": ({"id": "vlen-bytes"},)}.get(dtype.kind)
    meta = ArrayMetadataV2(
        shape=(5,), chunks=(2,), dtype=dtype, fill_value=fill if use_fill else None, filters=filters
    )
    back = ArrayMetadataV2.from_json(meta.to_bytes())
    assert back == meta and back.to_bytes() == meta.to_bytes()


def test_v2_object_with_vlen_utf8_becomes_string():
    """zarr-python reads ``|O`` + vlen-utf8 as StringDType: so do we, even when built from object."""
    meta = ArrayMetadataV2(shape=(2,), chunks=(2,), dtype=np.dtype(object), filters=({"id": "vlen-utf8"},))
    assert meta.dtype == STRING_DTYPE


@pytest.mark.parametrize(
    "dtype,filters,match",
    [
        (STRING_DTYPE, None, "object codec"),
        (np.dtype(object), None, "object codec"),
        (STRING_DTYPE, ({"id": "vlen-bytes"},), "vlen-utf8"),
        (np.dtype(object), ({"id": "pickle"},), "pickle"),
    ],
)
def test_v2_object_codec_required(dtype, filters, match):
    with pytest.raises(MetadataError, match=match):
        ArrayMetadataV2(shape=(2,), chunks=(2,), dtype=dtype, filters=filters)


def test_v2_object_without_codec_in_file():
    doc = {
        "zarr_format": 2,
        "shape": [2],
        "chunks": [2],
        "dtype": "|O",
        "compressor": None,
        "filters": None,
        "fill_value": None,
        "order": "C",
    }
    with pytest.raises(UnknownDataTypeError, match="object codec"):
        ArrayMetadataV2.from_json(doc, source="a/.zarray")
    doc["compressor"] = {"id": "vlen-utf8"}  # zarr-python also looks at the compressor
    assert ArrayMetadataV2.from_json(doc).dtype == STRING_DTYPE


def test_v3_record_with_shaped_field_refused():
    with pytest.raises(MetadataError, match="shape"):
        ArrayMetadataV3(
            shape=(2,),
            data_type=np.dtype([("a", "<f4", (2,))]),
            chunk_grid=RegularChunkGrid((2,)),
            chunk_key_encoding=ChunkKeyEncoding("default", "/"),
            fill_value=0,
            codecs=({"name": "bytes"},),
        )
