"""Zarr v2/v3 metadata: JSON documents <-> frozen dataclasses. Pure: no stores, codecs or devices."""

from .auto_chunks import guess_chunks
from .chunk_grid import MAX_CHUNK_ELEMENTS, RegularChunkGrid
from .chunk_keys import ChunkKeyEncoding
from .dtypes import (
    STRING_DTYPE,
    V3_DATA_TYPES,
    VLEN_BYTES_DTYPE,
    is_variable_length,
    normalize_dtype,
    parse_v3_data_type,
    v3_data_type_json,
    v3_data_type_name,
)
from .dtypes_v2 import object_codec_id, parse_v2_dtype, v2_dtype_json, v2_dtype_str
from .fill_value import (
    cast_fill_value,
    default_fill_value,
    encode_fill_value_v2,
    encode_fill_value_v3,
    fill_values_equal,
    parse_fill_value_v2,
    parse_fill_value_v3,
)
from .v2 import ArrayMetadataV2, GroupMetadataV2
from .v3 import ArrayMetadataV3, GroupMetadataV3, parse_node_type_v3

__all__ = [
    "MAX_CHUNK_ELEMENTS",
    "STRING_DTYPE",
    "V3_DATA_TYPES",
    "VLEN_BYTES_DTYPE",
    "ArrayMetadataV2",
    "ArrayMetadataV3",
    "ChunkKeyEncoding",
    "GroupMetadataV2",
    "GroupMetadataV3",
    "RegularChunkGrid",
    "cast_fill_value",
    "default_fill_value",
    "encode_fill_value_v2",
    "encode_fill_value_v3",
    "fill_values_equal",
    "guess_chunks",
    "is_variable_length",
    "normalize_dtype",
    "object_codec_id",
    "parse_fill_value_v2",
    "parse_fill_value_v3",
    "parse_node_type_v3",
    "parse_v2_dtype",
    "parse_v3_data_type",
    "v2_dtype_json",
    "v2_dtype_str",
    "v3_data_type_json",
    "v3_data_type_name",
]
