#!/usr/bin/env python3
"""Writes the bad-input corpus and manifest.tsv (file, loader, expected message substring).

Run from this folder: python3 make_corpus.py. Only the standard library is used.
Loader column: idx | csv | npy | safetensors, optionally followed by CSV options
`label=NAME` and `features=A,B` separated by spaces.
"""
import gzip, json, os, struct

entries = []

def put(name, data, loader, expect):
    with open(name, "wb") as f:
        f.write(data)
    entries.append((name, loader, expect))

def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload

def npy(header, payload=b"", version=(1, 0), raw_header=None):
    text = raw_header if raw_header is not None else header.encode("latin1")
    prefix = b"\x93NUMPY" + bytes(version)
    size = (2 if version[0] == 1 else 4)
    pad = (64 - (len(prefix) + size + len(text) + 1) % 64) % 64
    text = text + b" " * pad + b"\n"
    length = struct.pack("<H", len(text)) if version[0] == 1 else struct.pack("<I", len(text))
    return prefix + length + text + payload

def st(header, payload=b"", length=None):
    text = json.dumps(header, separators=(",", ":")).encode() if isinstance(header, dict) else header
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text) if length is None else length) + text + payload

f32 = lambda *v: struct.pack("<%df" % len(v), *v)

# IDX
put("empty.idx", b"", "idx", "empty.idx: empty file")
put("idx-bad-magic.idx", b"\x12\x34\x08\x03" + b"\0" * 12, "idx", "wrong magic: expected 00 00 tt nn, found 12 34 08 03")
put("idx-truncated-header.idx", bytes([0, 0, 8, 3]) + struct.pack(">I", 5), "idx", "truncated: needs 12 bytes for extent 2 of 3, file has 8 bytes")
put("idx-truncated-data.idx", idx(8, [5, 8, 8], bytes(100)), "idx", "truncated: header promises 16 + 5×8×8 bytes, file has 116 bytes")
put("idx-absurd-dims.idx", idx(8, [1 << 20, 1 << 20], bytes(16)), "idx", "absurd size: header claims 1048576×1048576 elements")
put("idx-overflow-dims.idx", idx(13, [0xFFFFFFFF] * 8, bytes(16)), "idx", "absurd size")
put("idx-zero-axes.idx", bytes([0, 0, 8, 0]), "idx", "malformed: IDX header has 0 axes")
put("idx-unknown-type.idx", idx(0x42, [2], bytes(2)), "idx", "unknown IDX element type 0x42")
put("idx-signed-short.idx", idx(0x0B, [2], bytes(4)), "idx", "unsupported: IDX element type 0xb")
put("idx-float-nan.idx", idx(0x0D, [2, 2], struct.pack(">4f", 0.5, float("nan"), 1, 2)), "idx", "non-finite value: element 1 is nan")
put("idx-float-inf.idx", idx(0x0D, [2, 2], struct.pack(">4f", 0.5, 1, 2, float("inf"))), "idx", "non-finite value: element 3 is inf")
put("idx-trailing.idx", idx(8, [2, 2, 2], bytes(9)), "idx", "trailing bytes: header describes 24 bytes, file has 25")
put("idx-zero-samples.idx", idx(8, [0, 8, 8], b""), "idx", "no samples")
put("mismatch-images-idx3-ubyte", idx(8, [4, 2, 2], bytes(16)), "idx", "mismatch-labels-idx1-ubyte: mismatch: 3 labels for 4 samples")
with open("mismatch-labels-idx1-ubyte", "wb") as f:
    f.write(idx(8, [3], bytes([1, 2, 3])))
good = gzip.compress(idx(8, [4, 8, 8], bytes(range(256))), mtime=0)
put("idx-truncated.gz", good[: len(good) // 2], "idx", "gzip: unexpected end of compressed data")
put("idx-corrupt.gz", good[:10] + b"\xff" * 40, "idx", "idx-corrupt.gz: gzip:")
put("idx-trailing-garbage.gz", good + b"junk", "idx", "gzip: 4 bytes of trailing garbage")
put("idx-empty-member.gz", gzip.compress(b"", mtime=0), "idx", "idx-empty-member.gz: empty file")
put("idx-float64-inf.idx", idx(0x0E, [2], struct.pack(">2d", 1, float("-inf"))), "idx", "non-finite value: element 1 is -inf")
os.makedirs("directory.idx", exist_ok=True)
with open("directory.idx/README", "w") as f:
    f.write("A directory named like an IDX file: loading it must fail with a DataError.\n")
entries.append(("directory.idx", "idx", "directory.idx: cannot read: is a directory"))

# CSV
put("empty.csv", b"", "csv", "empty.csv: empty file")
put("csv-blank-lines.csv", b"\n  \n\n", "csv", "empty file")
put("csv-header-only.csv", b"a,b,c\n", "csv", "header but no data rows")
put("csv-ragged.csv", b"a,b,c\n1,2,3\n4,5\n", "csv", "csv-ragged.csv:3: ragged row: 2 fields, header has 3")
put("csv-ragged-long.csv", b"a,b\n1,2\n\n3,4,5\n", "csv", "csv-ragged-long.csv:4: ragged row: 3 fields, header has 2")
put("csv-non-numeric.csv", b"a,b\n1,2\n3,abc\n", "csv", "csv-non-numeric.csv:3: non-numeric value \"abc\" in column \"b\"")
put("csv-empty-field.csv", b"a,b,c\n1,,3\n", "csv", ":2: non-numeric value \"\" in column \"b\"")
put("csv-nan.csv", b"a,b\n1,nan\n", "csv", ":2: non-finite value: \"nan\" in column \"b\"")
put("csv-overflow.csv", b"a,b\n1e50,2\n", "csv", ":2: non-finite value: \"1e50\" in column \"a\"")
put("csv-missing-label.csv", b"a,b\n1,2\n", "csv label=label", "csv-missing-label.csv:1: no column \"label\" in the header")
put("csv-missing-feature.csv", b"a,b\n1,2\n", "csv features=a,zz", "no column \"zz\" in the header")
put("csv-bad-label.csv", b"a,label\n1,0\n2,x\n", "csv label=label", ":3: non-numeric value \"x\" in column \"label\"")
put("csv-fractional-label.csv", b"a,label\n1,0.5\n", "csv label=label", "non-numeric value \"0.5\" in column \"label\"")
put("csv-duplicate-column.csv", b"a,b,a\n1,2,3\n", "csv", "column \"a\" appears twice")
put("csv-unclosed-quote.csv", b"a,b\n1,\"2\n3,4\n", "csv", ":2: malformed: quoted field not closed")
put("csv-stray-quote.csv", b"a,b\n1,2\"3\n", "csv", ":2: malformed: stray quote")
put("csv-binary.csv", b"a,b\n1,\x002\n", "csv", "NUL byte")
put("csv-bad-utf8.csv", b"a,b\n1,\xff\xfe\n", "csv", "csv-bad-utf8.csv:2: malformed: invalid UTF-8")
put("csv-label-only.csv", b"label\n1\n", "csv label=label", "no feature columns")
put("csv-newline-in-field.csv", b"a,b\n1,\"x\ny\"\n", "csv", "non-numeric value \"x\\ny\"")
put("csv-inf.csv", b"a,b\n1,-inf\n", "csv", ":2: non-finite value: \"-inf\" in column \"b\"")
put("csv-truncated-utf8.csv", b"a,b\n1,\xe2\x82", "csv", "csv-truncated-utf8.csv:2: malformed: invalid UTF-8")
os.makedirs("directory.csv", exist_ok=True)
with open("directory.csv/README", "w") as f:
    f.write("A directory named like a CSV file: loading it must fail with a DataError.\n")
entries.append(("directory.csv", "csv", "directory.csv: cannot read: is a directory"))
entries.append(("does-not-exist.csv", "csv", "does-not-exist.csv: cannot read: no such file"))

# NPY
h = lambda descr, shape, fortran=False: "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)
put("empty.npy", b"", "npy", "empty.npy: empty file")
put("npy-bad-magic.npy", b"PK\x03\x04" + bytes(60), "npy", "wrong magic: not an .npy file")
put("npy-fortran.npy", npy(h("<f4", "(2, 2)", True), f32(1, 2, 3, 4)), "npy", "unsupported: fortran_order True")
put("npy-complex.npy", npy(h("<c8", "(2,)"), bytes(16)), "npy", "unsupported: dtype \"<c8\"")
put("npy-big-endian.npy", npy(h(">f4", "(2,)"), bytes(8)), "npy", "unsupported: dtype \">f4\"")
put("npy-truncated.npy", npy(h("<f4", "(10, 3)"), f32(*range(7))), "npy", "truncated: header promises 128 + 10×3×4 bytes, file has 156 bytes")
put("npy-absurd-shape.npy", npy(h("<f4", "(1099511627776, 1)"), bytes(8)), "npy", "absurd size: shape 1099511627776×1 exceeds")
put("npy-nan.npy", npy(h("<f4", "(2, 2)"), f32(1, 2, float("nan"), 4)), "npy", "non-finite value: element 2 is nan")
put("npy-inf-f8.npy", npy(h("<f8", "(2,)"), struct.pack("<2d", 1, 1e300)), "npy", "non-finite value: element 1 is 1e+300")
put("npy-bad-header.npy", npy("this is not a dict"), "npy", "malformed: header: expected '{'")
put("npy-missing-shape.npy", npy("{'descr': '<f4', 'fortran_order': False, }"), "npy", "header lacks \"shape\"")
put("npy-version9.npy", b"\x93NUMPY\x09\x00" + bytes(60), "npy", "unsupported: npy format version 9.0")
put("npy-header-length-huge.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\xff" + bytes(54), "npy", "absurd size: header length 4294967295")
put("npy-header-past-end.npy", b"\x93NUMPY\x01\x00\x00\x10" + b"{" * 20, "npy", "truncated: needs 4106 bytes for the 4096-byte header")
put("npy-structured.npy", npy("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,), }", bytes(8)), "npy", "header: expected a string")
put("npy-scalar.npy", npy(h("<f4", "()"), f32(1)), "npy", "a 0-d array holds no samples")
put("npy-negative-shape.npy", npy(h("<f4", "(-3, 2)")), "npy", "shape holds a non-integer")
put("npy-inf.npy", npy(h("<f4", "(3,)"), f32(1, float("inf"), 2)), "npy", "non-finite value: element 1 is inf")
put("npy-2e40-elements.npy", npy(h("<u1", "(1048576, 1048576)"), bytes(8)), "npy", "absurd size: shape 1048576×1048576 exceeds 2147483648 elements")
put("npy-truncated-version.npy", b"\x93NUMPY\x01", "npy", "truncated: needs 8 bytes for the version, file has 7 bytes")
put("npy-string-dtype.npy", npy(h("<U8", "(2,)"), bytes(64)), "npy", "unsupported: dtype \"<U8\"")
put("npy-trailing.npy", npy(h("<f4", "(2,)"), f32(1, 2, 3)), "npy", "trailing bytes: header describes 136 bytes, file has 140")

# safetensors
ok = {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
put("empty.safetensors", b"", "safetensors", "empty.safetensors: empty file")
put("st-short.safetensors", b"\x10\x00\x00\x00", "safetensors", "truncated: needs 8 bytes for the 8-byte header length, file has 4 bytes")
put("st-header-2e60.safetensors", struct.pack("<Q", 1 << 60) + b"{}      ", "safetensors", "absurd size: header length 1152921504606846976")
put("st-header-past-end.safetensors", struct.pack("<Q", 1000) + b"{}" + bytes(90), "safetensors", "truncated: header length promises 8 + 1000 bytes, file has 100 bytes")
put("st-not-json.safetensors", st(b"{not json"), "safetensors", "malformed: header is not valid JSON")
put("st-no-brace.safetensors", st(b"[1, 2, 3]"), "safetensors", "header does not start with '{'")
put("st-offsets-past-end.safetensors", st({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, f32(1, 2)), "safetensors", "tensor \"w\" ends at data offset 16, past the 8-byte data")
put("st-overlap.safetensors", st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f32(1, 2, 3)), "safetensors", "overlaps the previous tensor")
put("st-gap.safetensors", st({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}, f32(1, 2, 3)), "safetensors", "gap in the data buffer before tensor \"b\"")
put("st-size-mismatch.safetensors", st({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, f32(1, 2)), "safetensors", "mismatch: tensor \"w\" is F32 3 = 12 bytes, data_offsets span 8")
put("st-bf16.safetensors", st({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, bytes(4)), "safetensors", "unsupported: dtype \"BF16\" of tensor \"w\"")
put("st-nan.safetensors", st(ok, f32(1, float("nan"))), "safetensors", "non-finite value: element 1 of tensor \"w\"")
put("st-reversed-offsets.safetensors", st({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}}, f32(1, 2)), "safetensors", "are reversed")
put("st-trailing.safetensors", st(ok, f32(1, 2, 3)), "safetensors", "trailing bytes")
put("st-wrong-form.safetensors", st({"w": {"dtype": "F32", "shape": "two", "data_offsets": [0, 8]}}, f32(1, 2)), "safetensors", "header entry \"w.shape\" has the wrong form")
put("st-missing-offsets.safetensors", st({"w": {"dtype": "F32", "shape": [2]}}, f32(1, 2)), "safetensors", "header entry \"w.data_offsets\" has the wrong form")
put("st-absurd-shape.safetensors", st({"w": {"dtype": "F32", "shape": [1 << 40, 1 << 40], "data_offsets": [0, 0]}}), "safetensors", "absurd size: shape 1099511627776×1099511627776 of tensor \"w\"")
put("st-negative-shape.safetensors", st({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}), "safetensors", "negative extent")
put("st-three-offsets.safetensors", st({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4, 8]}}, f32(1, 2)), "safetensors", "must be [begin, end]")
put("st-bad-metadata.safetensors", st({"__metadata__": {"n": 3}, **ok}, f32(1, 2)), "safetensors", "header entry \"__metadata__.n\" has the wrong form")
put("st-inf.safetensors", st({"w": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]}}, struct.pack("<2d", 1, float("inf"))), "safetensors", "non-finite value: element 1 of tensor \"w\"")
put("st-header-2e40.safetensors", struct.pack("<Q", 1 << 40) + b"{}      ", "safetensors", "absurd size: header length 1099511627776")
put("st-2e40-elements.safetensors", st({"w": {"dtype": "F32", "shape": [1 << 40], "data_offsets": [0, 1 << 42]}}), "safetensors", "tensor \"w\" ends at data offset 4398046511104, past the 0-byte data")
put("st-f16.safetensors", st({"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}, bytes(4)), "safetensors", "unsupported: dtype \"F16\" of tensor \"w\"")
put("st-dtype-number.safetensors", st({"w": {"dtype": 7, "shape": [2], "data_offsets": [0, 8]}}, f32(1, 2)), "safetensors", "header entry \"w.dtype\" has the wrong form")
put("st-huge-offset.safetensors", st({"w": {"dtype": "F32", "shape": [0], "data_offsets": [0, 1e30]}}), "safetensors", "header holds a number that is not a valid extent or data offset")
put("st-negative-offset.safetensors", st({"w": {"dtype": "F32", "shape": [0], "data_offsets": [-4, 0]}}), "safetensors", "header holds a number that is not a valid extent or data offset")
os.makedirs("directory.npy", exist_ok=True)
with open("directory.npy/README", "w") as f:
    f.write("A directory named like an .npy file: loading it must fail with a DataError.\n")
entries.append(("directory.npy", "npy", "directory.npy: cannot read: is a directory"))
put("directory.safetensors/README", b"A directory named like a safetensors file.\n", "safetensors", "")
entries.pop()
entries.append(("directory.safetensors", "safetensors", "cannot read: is a directory"))

with open("manifest.tsv", "w") as f:
    f.write("# file\tloader\texpected substring of the one-line DataError description\n")
    for name, loader, expect in entries:
        assert "\t" not in expect and "\n" not in expect
        f.write(f"{name}\t{loader}\t{expect}\n")
print(len(entries), "entries")
