#!/usr/bin/env python3
# Writes test/fixtures/safetensors/python-layout.safetensors byte for byte as huggingface safetensors
# (Rust core, `prepare` + `serialize` in safetensors/src/tensor.rs) lays a file out; stdlib only, because
# the real package is not installable here. Run: python3 scripts/make-safetensors-fixture.py
import json
import pathlib
import struct

# Insertion order deliberately differs from the sorted order the library writes.
TENSORS = {
    "temperature": ([], [1.5]),
    "fc2.weight": ([2, 3], [0.1, -0.2, 0.3, -0.0, 1e-40, 3.0e38]),
    "fc1.bias": ([3], [1.0, -1.0, 0.5]),
    "fc1.weight": ([3, 2], [0.25, -0.75, 2.0, -3.5, 1e-7, 65504.0]),
}
METADATA = {"format": "pt"}  # what transformers / safetensors.torch callers pass

# The library sorts by dtype alignment descending, then by name; every tensor here is F32, so by name.
names = sorted(TENSORS)
header = {"__metadata__": METADATA}  # serialized first, and only when metadata is given
data = b""
for name in names:
    shape, values = TENSORS[name]
    n = 1
    for d in shape:
        n *= d
    assert n == len(values), name
    blob = struct.pack("<%df" % n, *values)  # little-endian f32, round-to-nearest like numpy
    header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
    data += blob

# serde_json::to_string: compact separators, UTF-8 (names here are ASCII).
text = json.dumps(header, separators=(",", ":")).encode("utf-8")
text += b" " * ((8 - len(text) % 8) % 8)  # "Force alignment to 8 bytes." with spaces
out = struct.pack("<Q", len(text)) + text + data
assert (8 + len(text)) % 8 == 0

path = pathlib.Path(__file__).resolve().parent.parent / "test/fixtures/safetensors/python-layout.safetensors"
path.write_bytes(out)
print(f"wrote {path} ({len(out)} bytes, header {len(text)} bytes)")
