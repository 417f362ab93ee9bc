#!/usr/bin/env python3
"""Models for the OpenVINO backend tests, with numpy references.

  depth_tiny.onnx   Depth-Anything-shaped: image float32 [1,3,518,518] -> depth
                    float32 [1,518,518] (14x14 patch embedding, 1x1 head, x14
                    nearest upsampling), random weights. Saved with a numpy
                    reference for one random input, and
                    depth_tiny.constant_rgb.npy / depth_tiny.constant_depth.npy:
                    the 8-bit RGB colour of a uniform image and the depth
                    (constant over the map) numpy computes for it after the
                    depth_anything manifest's pre-processing
                    ((v/255 - mean) / std, ImageNet mean/std).
  scale3.onnx       y = 3x - 1 on x float32 [N,4]: the same interface as
                    affine.onnx (y = 2x + 1) with another function, to see a
                    changed source model rebuild the compiled-model cache.

Every numpy reference is also checked against onnx.reference.
Usage: gen_openvino_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

OPSET = 17
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def save(model, out_dir, name, inputs, outputs, atol):
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out_dir, name + ".onnx"))
    if inputs is None:
        return
    feeds = {i.name: a for i, a in zip(model.graph.input, inputs)}
    ref = ReferenceEvaluator(model).run(None, feeds)
    for k, (ours, theirs) in enumerate(zip(outputs, ref)):
        assert ours.shape == theirs.shape, (name, k, ours.shape, theirs.shape)
        np.testing.assert_allclose(ours, theirs, atol=atol, rtol=atol, err_msg=f"{name} output {k}")
    for k, a in enumerate(inputs):
        np.save(os.path.join(out_dir, f"{name}.input_{k}.npy"), np.ascontiguousarray(a))
    for k, a in enumerate(outputs):
        np.save(os.path.join(out_dir, f"{name}.output_{k}.npy"), np.ascontiguousarray(a))


def depth_reference(x, w1, b1, w2, b2):
    """numpy: patch conv (k=s=14) -> relu -> 1x1 conv -> relu + 0.1 -> nearest x14 -> squeeze."""
    n, c, h, w = x.shape
    p = 14
    gh, gw = h // p, w // p
    patches = x.reshape(n, c, gh, p, gw, p).astype(np.float64)
    f = np.einsum("nchpwq,kcpq->nkhw", patches, w1.astype(np.float64)) + b1[None, :, None, None]
    f = np.maximum(f, 0)
    d = np.einsum("nkhw,k->nhw", f, w2[0, :, 0, 0].astype(np.float64)) + b2[0]
    d = np.maximum(d, 0) + 0.1
    d = np.repeat(np.repeat(d, p, axis=1), p, axis=2)
    return d.astype(np.float32)


def depth_tiny(out_dir, rng):
    k = 8
    w1 = (rng.standard_normal((k, 3, 14, 14)) * 0.05).astype(np.float32)
    b1 = (rng.standard_normal(k) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((1, k, 1, 1)) * 0.5).astype(np.float32)
    b2 = np.array([0.3], np.float32)
    inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
             numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2"),
             numpy_helper.from_array(np.array([0.1], np.float32), "eps"),
             numpy_helper.from_array(np.array([1, 1, 14, 14], np.float32), "scales"),
             numpy_helper.from_array(np.array([1], np.int64), "axis1")]
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["f"], kernel_shape=[14, 14], strides=[14, 14]),
        helper.make_node("Relu", ["f"], ["fr"]),
        helper.make_node("Conv", ["fr", "w2", "b2"], ["d"], kernel_shape=[1, 1]),
        helper.make_node("Relu", ["d"], ["dr"]),
        helper.make_node("Add", ["dr", "eps"], ["dp"]),
        helper.make_node("Resize", ["dp", "", "scales"], ["up"], mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
        helper.make_node("Squeeze", ["up", "axis1"], ["depth"]),
    ]
    g = helper.make_graph(nodes, "depth_tiny",
                          [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 518, 518])],
                          [helper.make_tensor_value_info("depth", TensorProto.FLOAT, [1, 518, 518])], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)])
    x = rng.standard_normal((1, 3, 518, 518)).astype(np.float32)
    save(model, out_dir, "depth_tiny", [x], [depth_reference(x, w1, b1, w2, b2)], atol=1e-4)

    # A uniform image: after pre-processing every pixel of channel c is (v_c/255 - mean_c)/std_c.
    rgb = np.array([200, 120, 40], np.uint8)
    norm = ((rgb.astype(np.float32) / np.float32(255.0)) - MEAN) / STD
    xc = np.broadcast_to(norm[None, :, None, None], (1, 3, 518, 518)).astype(np.float32)
    dc = depth_reference(xc, w1, b1, w2, b2)
    assert np.ptp(dc) < 1e-5
    np.save(os.path.join(out_dir, "depth_tiny.constant_rgb.npy"), rgb)
    np.save(os.path.join(out_dir, "depth_tiny.constant_depth.npy"), np.array([dc[0, 0, 0]], np.float32))


def scale3(out_dir):
    inits = [numpy_helper.from_array(np.array(3.0, np.float32), "a"),
             numpy_helper.from_array(np.array(-1.0, np.float32), "b")]
    nodes = [helper.make_node("Mul", ["x", "a"], ["t"]), helper.make_node("Add", ["t", "b"], ["y"])]
    g = helper.make_graph(nodes, "scale3", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])], inits)
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)]), out_dir, "scale3", None, None, 0)


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(20261127)
    depth_tiny(out_dir, rng)
    scale3(out_dir)


if __name__ == "__main__":
    main()
