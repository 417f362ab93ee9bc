#!/usr/bin/env python3
"""Converts a float32 ONNX model to float16 for TensorRT's strongly typed builds.

TensorRT 11 builds strongly typed networks only: an fp16 engine needs a model
whose weights and activations are float16. This tool converts weights and
activations to float16 and keeps the graph inputs and outputs float32 (Cast
nodes at the boundary), so callers still feed and read float32. It uses ONNX
Runtime's float16 converter (onnxruntime.transformers.float16) and marks the
result with metadata_props aegisrt.precision=float16, which AegisRT's engine
builder reads.

Usage:
  convert_fp16.py MODEL.onnx OUT.onnx [--block-op OP ...] [--check]

--block-op keeps an operator type in float32 (repeatable; e.g. for ops whose
float16 range is insufficient). --check runs both models on random inputs with
ONNX Runtime (CPU) and prints the largest difference; it exits 1 when any
output differs by more than --rtol/--atol.
"""
import argparse
import sys

import numpy as np
import onnx

PRECISION_KEY = "aegisrt.precision"


def set_metadata(model, key, value):
    for p in model.metadata_props:
        if p.key == key:
            p.value = value
            return
    entry = model.metadata_props.add()
    entry.key = key
    entry.value = value


def topological_sort(graph):
    """Reorders graph.node so every node comes after the producers of its inputs
    (ONNX requires it; the float16 converter appends its boundary Casts last)."""
    available = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending = list(graph.node)
    ordered = []
    while pending:
        progressed = False
        rest = []
        for node in pending:
            if all(name in available for name in node.input):
                ordered.append(node)
                available.update(node.output)
                progressed = True
            else:
                rest.append(node)
        if not progressed:
            missing = sorted({n for node in rest for n in node.input if n not in available})
            raise ValueError(f"graph has a cycle or undefined inputs: {missing[:5]}")
        pending = rest
    copies = [onnx.NodeProto.FromString(n.SerializeToString()) for n in ordered]
    del graph.node[:]
    graph.node.extend(copies)


def convert(model, block_ops=()):
    """Returns a float16 copy of `model` with float32 I/O."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    fp16 = convert_float_to_float16(
        model,
        keep_io_types=True,  # Cast nodes at the graph boundary; I/O stays float32
        op_block_list=list(block_ops) or None,
        disable_shape_infer=False,
    )
    topological_sort(fp16.graph)
    set_metadata(fp16, PRECISION_KEY, "float16")
    onnx.checker.check_model(fp16)
    return fp16


def random_feed(model, batch=1, seed=0):
    """Random float inputs for every graph input (dynamic dims -> batch or 8)."""
    rng = np.random.default_rng(seed)
    inits = {i.name for i in model.graph.initializer}
    feed = {}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        shape = []
        for k, d in enumerate(tt.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                shape.append(d.dim_value)
            else:
                shape.append(batch if k == 0 else 8)
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)
        feed[vi.name] = rng.standard_normal(shape).astype(dtype)
    return feed


def max_difference(a_model, b_model, feed):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    a = ort.InferenceSession(a_model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(b_model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    ra = a.run(None, feed)
    rb = b.run(None, feed)
    worst = []
    for name, x, y in zip([o.name for o in a.get_outputs()], ra, rb):
        worst.append((name, float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))),
                      float(np.max(np.abs(x))) if x.size else 0.0))
    return ra, rb, worst


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--block-op", action="append", default=[], help="operator type kept in float32")
    ap.add_argument("--check", action="store_true", help="compare both models with ONNX Runtime")
    ap.add_argument("--rtol", type=float, default=1e-2)
    ap.add_argument("--atol", type=float, default=1e-2)
    args = ap.parse_args(argv)

    model = onnx.load(args.model)
    fp16 = convert(model, args.block_op)
    onnx.save(fp16, args.out)
    n16 = sum(1 for i in fp16.graph.initializer if i.data_type == onnx.TensorProto.FLOAT16)
    print(f"wrote {args.out}: {n16} float16 initializers, I/O kept float32")
    if args.check:
        ra, rb, worst = max_difference(model, fp16, random_feed(model))
        ok = True
        for (name, diff, mag), x, y in zip(worst, ra, rb):
            close = np.allclose(y, x, rtol=args.rtol, atol=args.atol)
            ok = ok and close
            print(f"  output {name}: max |fp32 - fp16| = {diff:.3g} (max |fp32| = {mag:.3g}) "
                  f"{'ok' if close else 'TOO LARGE'}")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
