#!/usr/bin/env python3
"""Writes the ONNX models the TensorRT unit tests inspect (no TensorRT needed).

  conv.onnx         float32, images [N,3,H,W] -> out [N,2,H,W] (two 3x3 convs + ReLU)
  conv_static.onnx  the same with a fixed [1,3,32,32] input
  conv_fp16.onnx    conv.onnx through tools/onnx_convert/convert_fp16.py
  conv_qdq.onnx     conv.onnx through tools/onnx_convert/insert_qdq.py (random calibration)
Usage: gen_trt_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tools", "onnx_convert"))
import convert_fp16  # noqa: E402
import insert_qdq  # noqa: E402


def conv_weights(seed=1):
    rng = np.random.default_rng(seed)
    return {
        "w1": (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32),
        "b1": (rng.standard_normal(4) * 0.1).astype(np.float32),
        "w2": (rng.standard_normal((2, 4, 3, 3)) * 0.3).astype(np.float32),
        "b2": (rng.standard_normal(2) * 0.1).astype(np.float32),
    }


def conv_model(in_dims=("N", 3, "H", "W"), out_dims=("N", 2, "H", "W")):
    w = conv_weights()
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, list(in_dims))
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, list(out_dims))
    nodes = [
        helper.make_node("Conv", ["images", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["out"], pads=[1, 1, 1, 1]),
    ]
    g = helper.make_graph(nodes, "conv", [x], [y], [numpy_helper.from_array(v, k) for k, v in w.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="aegisrt-tests")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    m = conv_model()
    onnx.save(m, os.path.join(out, "conv.onnx"))
    onnx.save(conv_model((1, 3, 32, 32), (1, 2, 32, 32)), os.path.join(out, "conv_static.onnx"))
    onnx.save(convert_fp16.convert(m), os.path.join(out, "conv_fp16.onnx"))
    onnx.save(insert_qdq.quantize(m, insert_qdq.random_calibration(m, 4)), os.path.join(out, "conv_qdq.onnx"))


if __name__ == "__main__":
    main()
