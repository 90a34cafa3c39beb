"""What the cache keeps for one config, as compact bytes (no pickles).

An annotating task's results are kept as a small JSON header followed by the raw
little-endian bytes of its arrays, so they come back exact and can be applied to the
current input; any other task's outputs are kept as their extxyz text, made plain by the
task and compressed where they are kept (``stored_outputs``): by the cache, when it hands
a batch of results to its writer, and in a batch task's outcome file, which travels back
from the cluster.
"""

from __future__ import annotations

import json
import zlib

import numpy as np

ANNOTATION = "annotation"
OUTPUTS = "outputs"


# json.dumps with any option builds an encoder per call: a third of the time on small results
_HEADER = json.JSONEncoder(separators=(",", ":"))


def encode_annotation(annotation: dict) -> bytes:
    blobs: list[bytes] = []
    header = {part: [[key, _describe(value, blobs)] for key, value in annotation[part].items()]
              for part in ("info", "arrays")}
    return _HEADER.encode(header).encode() + b"\n" + b"".join(blobs)


def decode_annotation(payload: bytes) -> dict:
    head, _, body = payload.partition(b"\n")
    header = json.loads(head)
    view = memoryview(body)
    return {part: {key: _restore(value, view) for key, value in header[part]}
            for part in ("info", "arrays")}


def encode_outputs(text: str, count: int) -> bytes:
    return f"{count}\n{text}".encode()


COMPRESS_ABOVE = 1024


def stored_outputs(payload: bytes) -> bytes:
    """An outputs payload as the store keeps it: compressed when plain and longer than
    ``COMPRESS_ABOVE`` bytes (an 8-atom cell's results, 1.2 kB, take 0.7 kB), plain when
    shorter (a dimer's: zlib would cost more time than the bytes it saves are worth)."""
    if payload[:1].isdigit() and len(payload) > COMPRESS_ABOVE:
        return _deflate(payload)
    return payload


def _deflate(payload: bytes) -> bytes:
    """zlib at level 1, with a window no larger than the payload needs (at least 2**12
    bytes, so the stream's first byte is never a digit). zlib's usual window and tables
    take 256 kB, which the C library may hand back after each call and fault in again at
    the next (measured in a fresh process: 60 us to compress 1.2 kB that way, 11 us with
    24 kB, and a byte or so longer or shorter; zlib reads either)."""
    bits = min(15, max(12, (len(payload) - 1).bit_length()))
    packer = zlib.compressobj(1, zlib.DEFLATED, bits, bits - 8)
    return packer.compress(payload) + packer.flush()


def decode_outputs(payload: bytes) -> tuple[int, str]:
    """(number of configs, their extxyz text). Plain payloads begin with the count's
    digits, compressed ones with zlib's header byte (0x48 to 0x78), never a digit."""
    plain = payload if payload[:1].isdigit() else zlib.decompress(payload)
    count, text = plain.decode().split("\n", 1)
    return int(count), text


def _describe(value, blobs: list[bytes]):
    """JSON for scalars and text; arrays become a reference to bytes appended to blobs."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OU":
            return {"text_array": value.tolist()}
        little = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        offset = sum(len(b) for b in blobs)
        blobs.append(little.tobytes())
        return {"array": little.dtype.str, "shape": list(value.shape), "offset": offset}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _restore(value, body: memoryview):
    if isinstance(value, dict) and "array" in value:
        dtype = np.dtype(value["array"])
        count = int(np.prod(value["shape"], dtype=np.int64))
        array = np.frombuffer(body, dtype=dtype, count=count, offset=value["offset"])
        return array.reshape(value["shape"]).astype(dtype.newbyteorder("="))
    if isinstance(value, dict) and "text_array" in value:
        return np.array(value["text_array"])
    return value
