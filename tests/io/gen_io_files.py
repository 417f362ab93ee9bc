#!/usr/bin/env python3
"""Writes tensor files with real numpy / onnx for the io tests.

Values follow formulas the C++ tests recompute by hand (tests/io/expected.h):
element i (C order) of a 2x3x4 tensor is
  float32/float16/bfloat16: (i - 7) * 0.25
  int8: (i % 11) - 5      uint8: (i * 7) % 256     int32: i * 1000 - 5000
  int64: i * 10**10 - 3   bool: i % 3 == 0
  float64: (i - 7) * 0.25   int16: i * 1000 - 12000   uint16: i * 2000 + 7
  uint32: i * 150000000 + 1   uint64: 2**63 + i * 10**15 + 1
  string: "s<i>" + "\u00e9" when i % 5 == 0
  float8 (all four): bit pattern ((i * 5) % 0x70) | (0x80 if i odd)
  int4: (i % 16) - 8   uint4: i % 16
Usage: gen_io_files.py OUT_DIR
"""
import os
import sys
import zipfile

import ml_dtypes
import numpy as np
from onnx import TensorProto, helper, numpy_helper

SHAPE = (2, 3, 4)


def values(kind):
    i = np.arange(24, dtype=np.int64)
    if kind in ("float32", "float16", "bfloat16", "float64"):
        v = (i - 7) * 0.25
        dt = {"float32": np.float32, "float16": np.float16, "float64": np.float64,
              "bfloat16": ml_dtypes.bfloat16}[kind]
        return v.astype(dt).reshape(SHAPE)
    if kind == "int8":
        return ((i % 11) - 5).astype(np.int8).reshape(SHAPE)
    if kind == "uint8":
        return ((i * 7) % 256).astype(np.uint8).reshape(SHAPE)
    if kind == "int32":
        return (i * 1000 - 5000).astype(np.int32).reshape(SHAPE)
    if kind == "int64":
        return (i * 10**10 - 3).astype(np.int64).reshape(SHAPE)
    if kind == "bool":
        return (i % 3 == 0).reshape(SHAPE)
    if kind == "int16":
        return (i * 1000 - 12000).astype(np.int16).reshape(SHAPE)
    if kind == "uint16":
        return (i * 2000 + 7).astype(np.uint16).reshape(SHAPE)
    if kind == "uint32":
        return (i * 150000000 + 1).astype(np.uint32).reshape(SHAPE)
    if kind == "uint64":
        return (np.uint64(2**63) + i.astype(np.uint64) * np.uint64(10**15) + np.uint64(1)).reshape(SHAPE)
    if kind == "string":
        return np.array([f"s{k}" + ("\u00e9" if k % 5 == 0 else "") for k in i]).reshape(SHAPE)
    if kind in FLOAT8:
        bits = (((i * 5) % 0x70) | np.where(i % 2 == 1, 0x80, 0)).astype(np.uint8)
        return bits.view(getattr(ml_dtypes, FLOAT8[kind])).reshape(SHAPE)
    if kind == "int4":
        return ((i % 16) - 8).astype(np.int8).astype(ml_dtypes.int4).reshape(SHAPE)
    if kind == "uint4":
        return (i % 16).astype(np.uint8).astype(ml_dtypes.uint4).reshape(SHAPE)
    raise ValueError(kind)


FLOAT8 = {"float8e4m3fn": "float8_e4m3fn", "float8e4m3fnuz": "float8_e4m3fnuz",
          "float8e5m2": "float8_e5m2", "float8e5m2fnuz": "float8_e5m2fnuz"}
# Every AegisRT DType (names as dtype_name()).
KINDS = ["float32", "float16", "bfloat16", "int8", "uint8", "int32", "int64", "bool",
         "float64", "int16", "uint16", "uint32", "uint64", "string"] + list(FLOAT8) + ["int4", "uint4"]
# np.save writes these as an ambiguous '<V1'; save_npy() writes their ml_dtypes name.
NAMED_DESCR = {k: FLOAT8[k] for k in FLOAT8}
NAMED_DESCR.update({"int4": "int4", "uint4": "uint4"})
# What np.savez can store readably (everything but the '<V1' types).
NPZ_KINDS = [k for k in KINDS if k not in NAMED_DESCR or k == "float8e5m2"]


def save_npy(path, kind, a):
    """np.save, with the ml_dtypes name as descr where np.save would write '<V1'."""
    if kind not in NAMED_DESCR:
        np.save(path, a)
        return
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": NAMED_DESCR[kind], "fortran_order": False, "shape": a.shape})
        f.write(np.ascontiguousarray(a).view(np.uint8).tobytes())


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    arrays = {k: values(k) for k in KINDS}
    for k, a in arrays.items():
        save_npy(os.path.join(out, f"np_{k}.npy"), k, a)
    # np.save's own '<V1' for an ml_dtypes float8 array (ambiguous: refused).
    np.save(os.path.join(out, "np_v1_float8.npy"), arrays["float8e4m3fn"])
    # Object arrays (pickles: refused), big-endian and Fortran-order strings.
    np.save(os.path.join(out, "np_object.npy"), np.array(["a", 1], dtype=object), allow_pickle=True)
    np.save(os.path.join(out, "np_be_string.npy"), arrays["string"].astype(arrays["string"].dtype.newbyteorder(">")))
    np.save(os.path.join(out, "np_fortran_string.npy"), np.asfortranarray(arrays["string"]))
    np.save(os.path.join(out, "np_bytes_string.npy"), np.array([b"ab", b"\xff\x00c"]))
    # Fortran order, several dtypes.
    np.save(os.path.join(out, "np_fortran_float32.npy"), np.asfortranarray(arrays["float32"]))
    np.save(os.path.join(out, "np_fortran_int64.npy"), np.asfortranarray(arrays["int64"]))
    # Big-endian.
    np.save(os.path.join(out, "np_be_float32.npy"), arrays["float32"].astype(">f4"))
    np.save(os.path.join(out, "np_be_int32.npy"), arrays["int32"].astype(">i4"))
    # Format version 2.0 and 3.0 headers, scalar, empty.
    with open(os.path.join(out, "np_v2_float32.npy"), "wb") as f:
        np.lib.format.write_array(f, arrays["float32"], version=(2, 0))
    with open(os.path.join(out, "np_v3_float32.npy"), "wb") as f:
        np.lib.format.write_array(f, arrays["float32"], version=(3, 0))
    np.save(os.path.join(out, "np_scalar_float32.npy"), np.float32(3.5))
    np.save(os.path.join(out, "np_empty_float32.npy"), np.zeros((0, 3), np.float32))
    # Unsupported dtype.
    np.save(os.path.join(out, "np_complex64.npy"), np.arange(6, dtype=np.complex64))
    # .npz, stored and deflated.
    npz_arrays = {k: arrays[k] for k in NPZ_KINDS}
    np.savez(os.path.join(out, "np_stored.npz"), **npz_arrays)
    np.savez_compressed(os.path.join(out, "np_deflated.npz"), **npz_arrays)
    # .npz with a broken .npy entry, and with a non-.npy entry.
    with zipfile.ZipFile(os.path.join(out, "np_bad_entry.npz"), "w") as z:
        z.writestr("x.npy", b"this is not a .npy file")
    with zipfile.ZipFile(os.path.join(out, "np_txt_entry.npz"), "w") as z:
        z.writestr("readme.txt", b"hello")
    # TensorProto .pb: raw_data and typed fields.
    def save_pb(name, proto):
        with open(os.path.join(out, name), "wb") as f:
            f.write(proto.SerializeToString())
    for k in KINDS:
        if k in ("bfloat16", "string"):
            continue  # bfloat16: numpy_helper has no ml_dtypes bfloat16 path here; strings: no raw_data
        save_pb(f"tp_raw_{k}.pb", numpy_helper.from_array(arrays[k], name=f"t_{k}"))
    typed = {
        "float32": (TensorProto.FLOAT, arrays["float32"].ravel().tolist()),
        "int64": (TensorProto.INT64, arrays["int64"].ravel().tolist()),
        "int32": (TensorProto.INT32, arrays["int32"].ravel().tolist()),
        "int8": (TensorProto.INT8, arrays["int8"].ravel().tolist()),
        "uint8": (TensorProto.UINT8, arrays["uint8"].ravel().tolist()),
        "bool": (TensorProto.BOOL, arrays["bool"].ravel().tolist()),
        # 16-bit floats in int32_data hold their bit patterns.
        "float16": (TensorProto.FLOAT16, arrays["float16"].view(np.uint16).ravel().tolist()),
        "bfloat16": (TensorProto.BFLOAT16, arrays["bfloat16"].view(np.uint16).ravel().tolist()),
        "float64": (TensorProto.DOUBLE, values("float64").ravel().tolist()),
        "int16": (TensorProto.INT16, arrays["int16"].ravel().tolist()),
        "uint16": (TensorProto.UINT16, arrays["uint16"].ravel().tolist()),
        "uint32": (TensorProto.UINT32, arrays["uint32"].ravel().tolist()),
        "uint64": (TensorProto.UINT64, arrays["uint64"].ravel().tolist()),
        "string": (TensorProto.STRING, [v.encode() for v in arrays["string"].ravel().tolist()]),
        "int4": (TensorProto.INT4, arrays["int4"].ravel().astype(np.int8).tolist()),
        "uint4": (TensorProto.UINT4, arrays["uint4"].ravel().astype(np.uint8).tolist()),
    }
    for k, name in FLOAT8.items():  # float8 bit patterns in int32_data
        typed[k] = (getattr(TensorProto, k.upper()), arrays[k].view(np.uint8).ravel().tolist())
    for k, (dt, vals) in typed.items():
        t = TensorProto()
        t.name = f"typed_{k}"
        t.data_type = dt
        t.dims.extend(SHAPE)
        if dt == TensorProto.FLOAT:
            t.float_data.extend(vals)
        elif dt == TensorProto.INT64:
            t.int64_data.extend(vals)
        elif dt == TensorProto.DOUBLE:
            t.double_data.extend(vals)
        elif dt in (TensorProto.UINT32, TensorProto.UINT64):
            t.uint64_data.extend(int(v) for v in vals)
        elif dt == TensorProto.STRING:
            t.string_data.extend(vals)
        elif dt in (TensorProto.INT4, TensorProto.UINT4):
            # Two per int32_data value, first element in the low nibble.
            nib = [int(v) & 0xF for v in vals] + [0] * (len(vals) % 2)
            t.int32_data.extend(nib[j] | (nib[j + 1] << 4) for j in range(0, len(nib), 2))
        else:
            t.int32_data.extend(int(v) for v in vals)
        save_pb(f"tp_typed_{k}.pb", t)
    # Unsupported type, external data, size mismatch, unnamed.
    save_pb("tp_complex64.pb", numpy_helper.from_array(np.arange(3, dtype=np.complex64), name="c"))
    ext = numpy_helper.from_array(arrays["float32"], name="ext")
    ext.ClearField("raw_data")
    ext.data_location = TensorProto.EXTERNAL
    e = ext.external_data.add()
    e.key, e.value = "location", "weights.bin"
    save_pb("tp_external.pb", ext)
    bad = numpy_helper.from_array(arrays["float32"], name="bad")
    bad.dims[0] = 3  # dims say 36 elements, raw_data holds 24
    save_pb("tp_mismatch.pb", bad)
    save_pb("tp_unnamed.pb", numpy_helper.from_array(arrays["int64"]))


if __name__ == "__main__":
    main()
