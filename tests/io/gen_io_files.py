#!/usr/bin/env python3
"""Writes tensor files with real numpy / onnx for the io tests.

Values follow formulas the C++ tests recompute by hand (tests/io/expected.h):
element i (C order) of a 2x3x4 tensor is
  float32/float16/bfloat16: (i - 7) * 0.25
  int8: (i % 11) - 5      uint8: (i * 7) % 256     int32: i * 1000 - 5000
  int64: i * 10**10 - 3   bool: i % 3 == 0
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
    raise ValueError(kind)


KINDS = ["float32", "float16", "bfloat16", "int8", "uint8", "int32", "int64", "bool"]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    arrays = {k: values(k) for k in KINDS}
    for k, a in arrays.items():
        np.save(os.path.join(out, f"np_{k}.npy"), a)
    np.save(os.path.join(out, "np_float64.npy"), values("float64"))
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
    np.save(os.path.join(out, "np_uint16.npy"), np.arange(6, dtype=np.uint16))
    # .npz, stored and deflated.
    np.savez(os.path.join(out, "np_stored.npz"), **arrays)
    np.savez_compressed(os.path.join(out, "np_deflated.npz"), **arrays)
    # .npz with a broken .npy entry, and with a non-.npy entry.
    with zipfile.ZipFile(os.path.join(out, "np_bad_entry.npz"), "w") as z:
        z.writestr("x.npy", b"this is not a .npy file")
    with zipfile.ZipFile(os.path.join(out, "np_txt_entry.npz"), "w") as z:
        z.writestr("readme.txt", b"hello")
    # TensorProto .pb: raw_data and typed fields.
    def save_pb(name, proto):
        with open(os.path.join(out, name), "wb") as f:
            f.write(proto.SerializeToString())
    for k in ["float32", "float16", "int8", "uint8", "int32", "int64", "bool"]:
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
    }
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
        else:
            t.int32_data.extend(int(v) for v in vals)
        save_pb(f"tp_typed_{k}.pb", t)
    # Unsupported type, external data, size mismatch, unnamed.
    save_pb("tp_string.pb", helper.make_tensor("s", TensorProto.STRING, [1], [b"abc"]))
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
