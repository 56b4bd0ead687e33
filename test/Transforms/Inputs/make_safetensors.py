#!/usr/bin/env python3
"""Regenerates the .safetensors inputs of ../check-weights.mlir.

Not run by lit: the generated files are committed so that the tests do not
depend on Python. Run it from this directory after changing it:

    python3 make_safetensors.py

The format: an 8-byte little-endian header length, a JSON header
{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}}
(offsets relative to the end of the header), then the raw bytes.
"""
import json
import struct


def safetensors(tensors):
    header = {}
    data = b""
    for name, dtype, shape, raw in tensors:
        header[name] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    return struct.pack("<Q", len(text)) + text + data


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def f16(values):
    return struct.pack("<%de" % len(values), *values)


model = safetensors([
    ("wte", "F32", [4, 2], f32([0.5 * i for i in range(8)])),
    ("ln_f.scale", "F32", [2], f32([1.0, 1.0])),
    ("wpe", "F16", [3, 2], f16([0.25 * i for i in range(6)])),
])

with open("model.safetensors", "wb") as out:
    out.write(model)
# Cut inside the data section: the header is intact, the last bytes missing.
with open("truncated-data.safetensors", "wb") as out:
    out.write(model[: len(model) - 10])
# Cut inside the JSON header.
with open("truncated-header.safetensors", "wb") as out:
    out.write(model[:40])
