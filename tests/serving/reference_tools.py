#!/usr/bin/env python3
"""Independent references for the serving e2e tests, run with the test Python
(AEGISRT_TEST_PYTHON: the project's .venv with Pillow, onnx and onnxruntime),
not with the Triton client's interpreter (which has neither).

  reference_tools.py decode IMAGE OUT.npy        # RGB uint8 [H,W,3] (Pillow)
  reference_tools.py make-model OUT.onnx         # tensor-mode test model, dynamic batch
  reference_tools.py make-depth OUT.onnx         # depth-layout test model (depth_anything's tensors)
  reference_tools.py ort MODEL IN.npz OUT.npz    # ONNX Runtime (CPU) outputs by name
"""
import sys

import numpy as np


def decode(image, out):
    from PIL import Image
    with Image.open(image) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
    np.save(out, np.ascontiguousarray(arr))


def make_model(out):
    """x: float32 [N,3,4,4] -> y = Relu(Conv3x3(x) + b): float32 [N,2,4,4],
    s = sum of each sample: float32 [N,1], idx = argmax over each flattened sample:
    int64 [N,1]. The batch dimension N is dynamic; fixed-seed weights."""
    import onnx
    from onnx import TensorProto, helper
    rng = np.random.default_rng(17)
    w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal((2,)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["y"]),
        helper.make_node("Flatten", ["x"], ["flat"], axis=1),
        helper.make_node("ReduceSum", ["flat", "axes"], ["s"], keepdims=1),
        helper.make_node("ArgMax", ["flat"], ["idx"], axis=1, keepdims=1),
    ]
    graph = helper.make_graph(
        nodes, "aegisrt_serving_tensor_mode",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 4, 4]),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, ["N", 1]),
         helper.make_tensor_value_info("idx", TensorProto.INT64, ["N", 1])],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.flatten()),
         helper.make_tensor("b", TensorProto.FLOAT, b.shape, b),
         helper.make_tensor("axes", TensorProto.INT64, [1], [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, out)


def make_depth(out):
    """depth_anything's tensors (image float32 [1,3,518,518] -> depth [1,518,518]) with a
    stand-in network: depth = 2 * mean over the channels + 1 (normalised pixels)."""
    import onnx
    from onnx import TensorProto, helper
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["m"], axes=[1], keepdims=0),
        helper.make_node("Mul", ["m", "two"], ["m2"]),
        helper.make_node("Add", ["m2", "one"], ["depth"]),
    ]
    graph = helper.make_graph(
        nodes, "aegisrt_serving_depth",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 518, 518])],
        [helper.make_tensor_value_info("depth", TensorProto.FLOAT, [1, 518, 518])],
        [helper.make_tensor("two", TensorProto.FLOAT, [], [2.0]),
         helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, out)


def ort(model, inp, out):
    import onnxruntime as rt
    opts = rt.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = rt.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    feeds = dict(np.load(inp))
    names = [o.name for o in sess.get_outputs()]
    np.savez(out, **dict(zip(names, sess.run(names, feeds))))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"decode": decode, "make-model": make_model, "make-depth": make_depth, "ort": ort}[cmd](*args)


if __name__ == "__main__":
    main()
