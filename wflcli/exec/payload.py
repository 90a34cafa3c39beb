"""What the cache keeps for one config, as compact bytes (no pickles).

An annotating task's results are kept as JSON, arrays as raw little-endian bytes in
base64, so they come back exact and can be applied to the current input; any other task's
outputs are kept as their extxyz text. Both are zlib-compressed.
"""

from __future__ import annotations

import base64
import json
import zlib

import numpy as np

ANNOTATION = "annotation"
OUTPUTS = "outputs"


def encode_annotation(annotation: dict) -> bytes:
    data = {part: [[key, _encode_value(value)] for key, value in annotation[part].items()]
            for part in ("info", "arrays")}
    return zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 1)


def decode_annotation(payload: bytes) -> dict:
    data = json.loads(zlib.decompress(payload))
    return {part: {key: _decode_value(value) for key, value in data[part]}
            for part in ("info", "arrays")}


def encode_outputs(text: str, count: int) -> bytes:
    return zlib.compress(f"{count}\n{text}".encode(), 1)


def decode_outputs(payload: bytes) -> tuple[int, str]:
    """(number of configs, their extxyz text)."""
    count, text = zlib.decompress(payload).decode().split("\n", 1)
    return int(count), text


def _encode_value(value):
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        if array.dtype.kind in "OU":
            return {"text_array": array.tolist()}
        little = array.astype(array.dtype.newbyteorder("<"))
        return {"array": little.dtype.str, "shape": list(array.shape),
                "data": base64.b64encode(little.tobytes()).decode()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode_value(value):
    if isinstance(value, dict) and "array" in value:
        raw = base64.b64decode(value["data"])
        return np.frombuffer(raw, dtype=value["array"]).reshape(value["shape"]).astype(
            np.dtype(value["array"]).newbyteorder("="))
    if isinstance(value, dict) and "text_array" in value:
        return np.array(value["text_array"])
    return value
