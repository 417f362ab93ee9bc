#!/usr/bin/env python3
"""Writes the small ONNX models the tests use, plus reference inputs/outputs.

References are computed with numpy (never with ONNX Runtime) and saved as
.npy next to each model: <name>.input_<k>.npy / <name>.output_<k>.npy.
Usage: gen_onnx_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def save(model, out_dir, name):
    model.ir_version = 8  # readable by older ONNX Runtime and TVM frontends
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out_dir, name + ".onnx"))


def affine(out_dir):
    """y = 2x + 1 on float32 [N, 4] (the conformance model; same function as MockBackend)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    two = numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")
    one = numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one")
    g = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["t"]), helper.make_node("Add", ["t", "one"], ["y"])],
        "affine", [x], [y], [two, one])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)]), out_dir, "affine")


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    affine(out_dir)


if __name__ == "__main__":
    main()
