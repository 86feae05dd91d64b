"""Record (struct) data types in v3 metadata: both spellings, the three fill value forms, and
metadata rewrites that keep the form they read (see ``cuzarr/metadata/records.py``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cuzarr.errors import MetadataError, UnknownDataTypeError
from cuzarr.metadata import ArrayMetadataV3, parse_v3_data_type, v3_data_type_json
from cuzarr.metadata.records import encode_v3_fill, fill_form_of, parse_v3_fill

REC = np.dtype([("a", "<i4"), ("b", "<f8")])
NESTED = np.dtype([("t", "<M8[s]"), ("p", [("x", "<f4"), ("s", "S2")]), ("v", "<f8")])


def _doc(data_type, fill_value, endian: str | None = "little") -> dict:
    """A zarr.json as newer zarr-python writes a ``struct`` array (the zarr-extensions spec)."""
    bytes_codec = {"name": "bytes", **({"configuration": {"endian": endian}} if endian else {})}
    return {
        "shape": [4],
        "data_type": data_type,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_value,
        "codecs": [bytes_codec],
        "attributes": {},
        "zarr_format": 3,
        "node_type": "array",
        "storage_transformers": [],
    }


STRUCT_NESTED = {
    "name": "struct",
    "configuration": {
        "fields": [
            {
                "name": "t",
                "data_type": {"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 1}},
            },
            {
                "name": "p",
                "data_type": {
                    "name": "struct",
                    "configuration": {
                        "fields": [
                            {"name": "x", "data_type": "float32"},
                            {
                                "name": "s",
                                "data_type": {
                                    "name": "null_terminated_bytes",
                                    "configuration": {"length_bytes": 2},
                                },
                            },
                        ]
                    },
                },
            },
            {"name": "v", "data_type": "float64"},
        ]
    },
}


def test_nested_struct_document_round_trips_byte_identically():
    doc = _doc(STRUCT_NESTED, {"t": -(2**63), "p": {"x": "NaN", "s": "YWI="}, "v": 2.5})
    meta = ArrayMetadataV3.from_json(doc)
    assert meta.dtype == NESTED and meta.record_type_name == "struct" and meta.record_fill_form == "object"
    assert np.isnat(meta.fill_value["t"]) and np.isnan(meta.fill_value["p"]["x"])
    assert meta.fill_value["p"]["s"] == b"ab" and meta.fill_value["v"] == 2.5
    assert json.loads(meta.to_bytes()) == doc
    assert meta.update_attributes({"k": 1}).to_json()["data_type"] == STRUCT_NESTED


@pytest.mark.parametrize(
    "fill,form",
    [
        ("BQAAAAAAAAAAAPg/", "base64"),  # zarr-python 3.1: the record bytes
        ({"a": 5, "b": 1.5}, "object"),  # the spec
        ({"a": 5}, "object"),  # a missing field takes its default (zarr-python reads it so)
    ],
)
@pytest.mark.parametrize("name", ["structured", "struct"])
def test_every_fill_form_reads_under_either_name(fill, form, name):
    fields = [["a", "int32"], ["b", "float64"]] if name == "structured" else None
    fields = fields or [{"name": "a", "data_type": "int32"}, {"name": "b", "data_type": "float64"}]
    meta = ArrayMetadataV3.from_json(_doc({"name": name, "configuration": {"fields": fields}}, fill))
    expected = (5, 1.5) if fill != {"a": 5} else (5, 0.0)
    assert meta.fill_value.tobytes() == np.array(expected, REC).tobytes()
    assert meta.record_type_name == name and meta.record_fill_form == form
    assert meta.to_json()["fill_value"] == (fill if fill != {"a": 5} else {"a": 5, "b": 0.0})


def test_one_field_bare_fill_value_as_tensorstore_writes_it():
    one = np.dtype([("f", "<f4")])
    assert fill_form_of("NaN", one) == "bare" and fill_form_of(0, one) == "bare"
    assert fill_form_of("AAAAAA==", one) == "base64"  # four bytes: the record itself
    assert np.isnan(parse_v3_fill("NaN", one)["f"]) and parse_v3_fill(3, one)["f"] == 3
    assert encode_v3_fill(np.array((2.0,), one)[()], one, "bare") == 2.0
    with pytest.raises(MetadataError, match="expected"):
        parse_v3_fill(7, REC)  # a bare value only names the field of a one-field record


def test_writing_each_spelling():
    assert v3_data_type_json(REC) == {
        "name": "structured",
        "configuration": {"fields": [["a", "int32"], ["b", "float64"]]},
    }
    struct = v3_data_type_json(NESTED, record_type_name="struct")
    assert struct["configuration"]["fields"][1]["data_type"]["name"] == "struct"
    assert parse_v3_data_type(struct) == NESTED
    fill = np.array((np.datetime64(7, "s"), (1.0, b"z"), 2.0), NESTED)[()]
    assert encode_v3_fill(fill, NESTED, "object") == {"t": 7, "p": {"x": 1.0, "s": "eg=="}, "v": 2.0}
    assert encode_v3_fill(fill, NESTED) == encode_v3_fill(fill, NESTED, "base64")
    with pytest.raises(ValueError, match="record_type_name"):
        v3_data_type_json(REC, record_type_name="record")


@pytest.mark.parametrize(
    "fields,message",
    [
        ([{"name": "", "data_type": "int8"}], "non-empty"),
        ([{"name": "a", "type": "int8"}], "each field"),
        ([["a", "int8", "extra"]], "each field"),
        ([{"name": "a", "data_type": "string"}], "variable-length"),
        ([["a", "int8"], {"name": "a", "data_type": "int8"}], "more than once"),
    ],
)
def test_bad_struct_fields_are_refused(fields, message):
    with pytest.raises(UnknownDataTypeError, match=message):
        parse_v3_data_type({"name": "struct", "configuration": {"fields": fields}})


def test_bad_fill_objects_and_forms_are_refused():
    data_type = {"name": "struct", "configuration": {"fields": [{"name": "a", "data_type": "int32"}]}}
    with pytest.raises(MetadataError, match=r"\['z'\]"):
        ArrayMetadataV3.from_json(_doc(data_type, {"a": 1, "z": 2}))
    meta = ArrayMetadataV3.from_json(_doc(data_type, {"a": 1}))
    with pytest.raises(MetadataError, match="form"):
        ArrayMetadataV3(
            **{**vars(meta), "data_type": REC, "fill_value": (1, 2.0), "record_fill_form": "bare"}
        )
    with pytest.raises(MetadataError, match="record type name"):
        ArrayMetadataV3(**{**vars(meta), "record_type_name": "record"})
    plain = ArrayMetadataV3(
        **{**vars(meta), "data_type": "int32", "fill_value": 0, "record_type_name": "struct"}
    )
    assert plain.record_type_name == "structured" and plain.record_fill_form is None  # ignored without fields
