#!/usr/bin/env python3
"""Models and reference tensors for the `aegisrt exec` / `compare` CLI tests.

References are computed with numpy, independently of any backend:
  affine_b3.onnx  y = 2x + 3 on float32 [N, 4]: affine.onnx (y = 2x + 1) with
                  one weight changed, the planted difference for `compare`.
  multi.onnx      a: float32 [N, 3] (dynamic), b: int64 [2] ->
                  s = 3a - 1 (float32), c = 2b (int64), p = a > 0.5 (bool)
  multi_ref/      a.npy, b.npy inputs and s.npy, c.npy, p.npy expected outputs
  multi_pb/       the same inputs as ONNX test data: input_0.pb, input_1.pb
                  (unnamed TensorProtos, bound by position)
  multi_testdata/ ONNX's full test-data layout, inputs and expected outputs together:
    test_data_set_0/  input_0.pb, input_1.pb, output_0.pb (named 's'),
                      output_1.pb, output_2.pb (unnamed: bound by position)
    test_data_set_1/  the same with one planted error: s[1][2] + 0.01 in output_0.pb
  multi_expected_bad/ s.npy with the same planted error (for --expected DIR)
Usage: gen_cli_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def save(model, path):
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def affine_b3(out):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    two = numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")
    three = numpy_helper.from_array(np.array(3.0, dtype=np.float32), "one")
    g = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["t"]), helper.make_node("Add", ["t", "one"], ["y"])],
        "affine", [x], [y], [two, three])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)]),
         os.path.join(out, "affine_b3.onnx"))


def multi(out):
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 3])
    b = helper.make_tensor_value_info("b", TensorProto.INT64, [2])
    s = helper.make_tensor_value_info("s", TensorProto.FLOAT, ["N", 3])
    c = helper.make_tensor_value_info("c", TensorProto.INT64, [2])
    p = helper.make_tensor_value_info("p", TensorProto.BOOL, ["N", 3])
    inits = [numpy_helper.from_array(np.array(3.0, np.float32), "three"),
             numpy_helper.from_array(np.array(1.0, np.float32), "one"),
             numpy_helper.from_array(np.array(2, np.int64), "two"),
             numpy_helper.from_array(np.array(0.5, np.float32), "half")]
    nodes = [helper.make_node("Mul", ["a", "three"], ["a3"]),
             helper.make_node("Sub", ["a3", "one"], ["s"]),
             helper.make_node("Mul", ["b", "two"], ["c"]),
             helper.make_node("Greater", ["a", "half"], ["p"])]
    g = helper.make_graph(nodes, "multi", [a, b], [s, c, p], inits)
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)]),
         os.path.join(out, "multi.onnx"))

    av = np.array([[0.0, 0.25, 0.5], [0.75, 1.0, -1.5]], dtype=np.float32)
    bv = np.array([7, -4], dtype=np.int64)
    ref = os.path.join(out, "multi_ref")
    os.makedirs(ref, exist_ok=True)
    np.save(os.path.join(ref, "a.npy"), av)
    np.save(os.path.join(ref, "b.npy"), bv)
    np.save(os.path.join(ref, "s.npy"), (av * np.float32(3) - np.float32(1)).astype(np.float32))
    np.save(os.path.join(ref, "c.npy"), bv * 2)
    np.save(os.path.join(ref, "p.npy"), av > 0.5)
    pb = os.path.join(out, "multi_pb")
    os.makedirs(pb, exist_ok=True)
    for k, arr in enumerate([av, bv]):
        with open(os.path.join(pb, f"input_{k}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(arr).SerializeToString())
    # ONNX test-data folders: inputs and expected outputs side by side.
    s_ref = (av * np.float32(3) - np.float32(1)).astype(np.float32)
    s_bad = s_ref.copy()
    s_bad[1, 2] += np.float32(0.01)
    for k, s_out in enumerate([s_ref, s_bad]):
        d = os.path.join(out, "multi_testdata", f"test_data_set_{k}")
        os.makedirs(d, exist_ok=True)
        tensors = [("input_0", av, ""), ("input_1", bv, ""),
                   ("output_0", s_out, "s"), ("output_1", bv * 2, ""), ("output_2", av > 0.5, "")]
        for stem, arr, name in tensors:
            with open(os.path.join(d, stem + ".pb"), "wb") as f:
                f.write(numpy_helper.from_array(arr, name).SerializeToString())
    bad = os.path.join(out, "multi_expected_bad")
    os.makedirs(bad, exist_ok=True)
    np.save(os.path.join(bad, "s.npy"), s_bad)
    # A float64 input file (np.save's default float type): the CLI narrows it.
    np.save(os.path.join(out, "a_f64.npy"), av.astype(np.float64))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    affine_b3(out)
    multi(out)


if __name__ == "__main__":
    main()
