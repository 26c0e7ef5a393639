#!/usr/bin/env python3
"""Writes small valid inputs, one folder per harness, as starting points for the fuzzers (Fuzz/run.sh adds
the bad-input corpus of Tests/AutoencodersTests/Corpus). Run from this folder: python3 make_seeds.py.
Only the standard library is used; the output is committed, so CI needs no Python."""
import gzip, json, os, struct

def put(folder, name, data):
    os.makedirs(os.path.join("Seeds", folder), exist_ok=True)
    with open(os.path.join("Seeds", folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload

def npy(descr, shape, payload, version=(1, 0), fortran=False):
    shape_text = "(%d,)" % shape[0] if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"
    text = ("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape_text)).encode()
    prefix = b"\x93NUMPY" + bytes(version)
    size = 2 if version[0] == 1 else 4
    text += b" " * ((64 - (len(prefix) + size + len(text) + 1) % 64) % 64) + b"\n"
    length = struct.pack("<H" if version[0] == 1 else "<I", len(text))
    return prefix + length + text + payload

def st(header, payload):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + payload

# IDX: every element type the loader reads, images and labels.
images = idx(0x08, [3, 4, 4], bytes(range(48)))
labels = idx(0x08, [3], bytes([0, 1, 2]))
put("idx", "images-idx3-ubyte", images)
put("idx", "labels-idx1-ubyte", labels)
put("idx", "int32.idx", idx(0x0C, [2, 3], struct.pack(">6i", -1, 0, 1, 2, 3, 2**31 - 1)))
put("idx", "float32.idx", idx(0x0D, [2, 2], struct.pack(">4f", 0.5, -1.25, 3e38, 1e-40)))
put("idx", "float64.idx", idx(0x0E, [3], struct.pack(">3d", 0.1, -2.0, 1e300)))
put("idx", "images.gz", gzip.compress(images, mtime=0))

# gzip: single and multi-member streams, stored and compressed blocks.
put("gzip", "images.gz", gzip.compress(images, mtime=0))
put("gzip", "labels.gz", gzip.compress(labels, compresslevel=0, mtime=0))
put("gzip", "two-members.gz", gzip.compress(images[:20], mtime=0) + gzip.compress(images[20:], mtime=0))
put("gzip", "float32.gz", gzip.compress(idx(0x0D, [4], struct.pack(">4f", 1, 2, 3, 4)), compresslevel=1, mtime=0))

# CSV: labelled and unlabelled, quoting, CRLF, BOM, blank lines, number spellings.
put("csv", "labelled.csv", "label,x,y\n0,1.5,-2\n1,3e2,0.25\n")
put("csv", "quoted.csv", '"a","b ""q""",c\r\n"1",2,  3\r\n\r\n4,"5",6\r\n')
put("csv", "bom.csv", "\ufeffx,y\n1,2\n")
put("csv", "numbers.csv", "a,b,c,d\n-0,+1,.5,1E-3\n0x1p3,1e-45,3.4e38,7\n")

# NPY: each dtype, version 2.0, a 3-D shape and an empty one.
put("npy", "f4.npy", npy("<f4", [2, 3], struct.pack("<6f", 0, 1, 2, 3, 4, 5)))
put("npy", "f8.npy", npy("<f8", [2], struct.pack("<2d", 0.5, -1)))
put("npy", "i4.npy", npy("<i4", [3], struct.pack("<3i", 0, 1, 2)))
put("npy", "i8.npy", npy("<i8", [2], struct.pack("<2q", -5, 5)))
put("npy", "u1.npy", npy("|u1", [2, 2, 2], bytes(range(8))))
put("npy", "v2.npy", npy("<f4", [1, 2], struct.pack("<2f", 1, 2), version=(2, 0)))
put("npy", "zero.npy", npy("<f4", [0, 3], b""))

# safetensors: each dtype, metadata, several tensors tiling the buffer.
put("safetensors", "weights.safetensors", st({
    "__metadata__": {"format": "pt"},
    "a": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]},
    "b": {"dtype": "F32", "shape": [2, 2], "data_offsets": [16, 32]},
    "c": {"dtype": "I64", "shape": [1], "data_offsets": [32, 40]},
    "d": {"dtype": "I32", "shape": [1], "data_offsets": [40, 44]},
    "e": {"dtype": "U8", "shape": [3], "data_offsets": [44, 47]},
}, struct.pack("<2d4fqi", 1, 2, 3, 4, 5, 6, 7, 8) + bytes([1, 2, 3])))
put("safetensors", "empty.safetensors", st({}, b""))
put("safetensors", "scalar.safetensors", st({"s": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}}, struct.pack("<f", 1)))

# config.json parts: a model, a training configuration and a normalizer as the synthesized Codable writes them.
model = {
    "kind": "vq-vae", "architecture": "conv", "inputShape": [1, 8, 8], "hidden": [16], "channels": [4, 8],
    "denseWidth": 16, "latentDim": 8, "likelihood": "bernoulli", "batchNorm": "encoder", "beta": 1,
    "capacity": {"maximum": 25, "steps": 100, "gamma": 1000}, "freeBits": 0.5,
    "vq": {"codebookSize": 16, "codeDim": 4, "commitment": 0.25, "ema": True, "decay": 0.99, "epsilon": 1e-5,
           "restartDeadCodes": True},
    "corruption": {"masking": {"probability": 0.3}}, "sparsity": {"topK": {"k": 4}},
    "contractiveWeight": 0.1, "contractiveNoise": 0.05,
}
put("config", "model.json", json.dumps(model))
training = {
    "epochs": 5, "batchSize": 32, "optimizer": "adamw", "learningRate": 0.001, "weightDecay": 0.01, "momentum": 0.9,
    "learningRateSchedule": {"step": {"every": 10, "gamma": 0.5}}, "gradientClip": 1.0,
    "klSchedule": {"cyclical": {"cycles": 4, "ratio": 0.5, "totalSteps": 1000}}, "validationFraction": 0.1,
    "earlyStoppingPatience": 3, "checkpointEvery": 1, "seed": 42, "onNonFinite": "skip",
}
put("config", "training.json", json.dumps(training))
put("config", "normalizer.json", json.dumps({"method": "zscore", "shift": [0.5, -1], "divisor": [2, 0.25]}))
