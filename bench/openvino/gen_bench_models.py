#!/usr/bin/env python3
"""Benchmark models for OpenVINO vs ONNX Runtime (random weights, real shapes).

  resnet50.onnx  ResNet-50-shaped CNN: input float32 [1,3,224,224] -> logits [1,1000];
                 7x7/2 stem, max-pool, bottleneck stages [3,4,6,3] (widths 64..512,
                 x4 expansion), global average pool, FC. Batch norm is folded into
                 the convolutions' biases, as an inference export has it.
  vit_s16.onnx   ViT-S/16-shaped transformer: input float32 [1,3,224,224] -> [1,1000];
                 16x16 patch embedding to 384, class token + position embedding,
                 12 pre-norm blocks (6 heads, MLP 1536, GELU), final LayerNorm, head.

Weights are random (He/Xavier-scaled), so the numbers are speed only.
Usage: gen_bench_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


class Graph:
    def __init__(self, rng):
        self.rng = rng
        self.nodes = []
        self.inits = []
        self.n = 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, arr, base="c"):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def conv(self, x, cin, cout, k, stride=1, relu=True):
        w = (self.rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))).astype(np.float32)
        b = (self.rng.standard_normal(cout) * 0.01).astype(np.float32)
        y = self.op("Conv", [x, self.const(w, "w"), self.const(b, "b")], kernel_shape=[k, k],
                    strides=[stride, stride], pads=[k // 2] * 4)
        return self.op("Relu", [y]) if relu else y

    def linear(self, x, cin, cout):
        w = (self.rng.standard_normal((cin, cout)) * np.sqrt(1.0 / cin)).astype(np.float32)
        b = np.zeros(cout, np.float32)
        return self.op("Add", [self.op("MatMul", [x, self.const(w, "w")]), self.const(b, "b")])

    def layernorm(self, x, d):
        return self.op("LayerNormalization", [x, self.const(np.ones(d, np.float32), "g"),
                                              self.const(np.zeros(d, np.float32), "beta")], axis=-1, epsilon=1e-6)


def resnet50(out_dir, rng):
    g = Graph(rng)
    x = g.conv("input", 3, 64, 7, stride=2)
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for stage, (blocks, width) in enumerate(zip([3, 4, 6, 3], [64, 128, 256, 512])):
        for i in range(blocks):
            stride = 2 if (i == 0 and stage > 0) else 1
            y = g.conv(x, cin, width, 1)
            y = g.conv(y, width, width, 3, stride=stride)
            y = g.conv(y, width, width * 4, 1, relu=False)
            short = g.conv(x, cin, width * 4, 1, stride=stride, relu=False) if i == 0 else x
            x = g.op("Relu", [g.op("Add", [y, short])])
            cin = width * 4
    x = g.op("GlobalAveragePool", [x])
    x = g.op("Flatten", [x], axis=1)
    x = g.linear(x, 2048, 1000)
    g.nodes[-1].output[0] = "logits"
    graph = helper.make_graph(g.nodes, "resnet50_shaped",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])], g.inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)]), out_dir, "resnet50")


def vit_s16(out_dir, rng):
    g = Graph(rng)
    d, heads, mlp, depth, tokens = 384, 6, 1536, 12, 197
    hd = d // heads
    w = (rng.standard_normal((d, 3, 16, 16)) * np.sqrt(1.0 / (3 * 256))).astype(np.float32)
    x = g.op("Conv", ["input", g.const(w, "w"), g.const(np.zeros(d, np.float32), "b")],
             kernel_shape=[16, 16], strides=[16, 16])                                   # [1,d,14,14]
    x = g.op("Reshape", [x, g.const(np.array([1, d, 196], np.int64))])
    x = g.op("Transpose", [x], perm=[0, 2, 1])                                          # [1,196,d]
    cls = g.const((rng.standard_normal((1, 1, d)) * 0.02).astype(np.float32), "cls")
    x = g.op("Concat", [cls, x], axis=1)                                                # [1,197,d]
    x = g.op("Add", [x, g.const((rng.standard_normal((1, tokens, d)) * 0.02).astype(np.float32), "pos")])
    inv_sqrt2 = g.const(np.array(1 / np.sqrt(2), np.float32))
    half = g.const(np.array(0.5, np.float32))
    one = g.const(np.array(1.0, np.float32))
    scale = g.const(np.array(1 / np.sqrt(hd), np.float32))
    qkv_shape = g.const(np.array([1, tokens, 3, heads, hd], np.int64))
    out_shape = g.const(np.array([1, tokens, d], np.int64))
    for _ in range(depth):
        h = g.layernorm(x, d)
        qkv = g.op("Reshape", [g.linear(h, d, 3 * d), qkv_shape])
        qkv = g.op("Transpose", [qkv], perm=[2, 0, 3, 1, 4])                            # [3,1,H,T,hd]
        q, k, v = (g.op("Gather", [qkv, g.const(np.array(i, np.int64))], axis=0) for i in range(3))
        att = g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])]), scale])
        att = g.op("Softmax", [att], axis=-1)
        o = g.op("Transpose", [g.op("MatMul", [att, v])], perm=[0, 2, 1, 3])            # [1,T,H,hd]
        o = g.linear(g.op("Reshape", [o, out_shape]), d, d)
        x = g.op("Add", [x, o])
        h = g.linear(g.layernorm(x, d), d, mlp)
        h = g.op("Mul", [g.op("Mul", [h, half]), g.op("Add", [one, g.op("Erf", [g.op("Mul", [h, inv_sqrt2])])])])
        x = g.op("Add", [x, g.linear(h, mlp, d)])
    x = g.layernorm(x, d)
    x = g.op("Gather", [x, g.const(np.array(0, np.int64))], axis=1)                     # class token [1,d]
    x = g.linear(x, d, 1000)
    g.nodes[-1].output[0] = "logits"
    graph = helper.make_graph(g.nodes, "vit_s16_shaped",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])], g.inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)]), out_dir, "vit_s16")


def save(model, out_dir, name):
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out_dir, name + ".onnx"))


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(7)
    resnet50(out_dir, rng)
    vit_s16(out_dir, rng)


if __name__ == "__main__":
    main()
