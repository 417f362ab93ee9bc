#!/usr/bin/env python3
"""Writes the small ONNX models the tests use, plus reference inputs/outputs.

References are computed with numpy (never with ONNX Runtime) and saved as
.npy next to each model: <name>.input_<k>.npy / <name>.output_<k>.npy (k in
the model's input/output order). Every numpy reference is also checked
against the onnx reference evaluator (onnx.reference), a second independent
implementation; a disagreement fails the generation.
Per-dtype models (dtype_<name>.onnx, one per AegisRT DType, for the
conformance suite's DTypeConformance cases) and a few special models
(no_input, slash_names, shape_ops) are written the same way. Where the Python
onnxruntime package is importable, the outputs raw ONNX Runtime gives for the
saved inputs are written too (<name>.ort_output_<k>.npy), for the exec CLI
tests that compare `aegisrt exec` with raw ONNX Runtime.
.npy files of ml_dtypes float8/int4 arrays carry the ml_dtypes name as their
descr (np.save would write an ambiguous '<V1'); numpy reads them back once
ml_dtypes is imported.
Usage: gen_onnx_models.py OUT_DIR
"""
import os
import sys

import ml_dtypes
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

OPSET = 17


def save(model, out_dir, name):
    model.ir_version = 8  # readable by older ONNX Runtime and TVM frontends
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out_dir, name + ".onnx"))


def make_model(nodes, name, inputs, outputs, initializers, opset=OPSET):
    g = helper.make_graph(nodes, name, inputs, outputs, initializers)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def save_with_reference(model, out_dir, name, inputs, outputs, atol=1e-5, rtol=1e-5):
    """Saves model + numpy reference I/O, after checking numpy against onnx.reference."""
    save(model, out_dir, name)
    feeds = {i.name: a for i, a in zip(model.graph.input, inputs)}
    ref = ReferenceEvaluator(model).run(None, feeds)
    for k, (ours, theirs) in enumerate(zip(outputs, ref)):
        assert ours.dtype == theirs.dtype, (name, k, ours.dtype, theirs.dtype)
        assert ours.shape == theirs.shape, (name, k, ours.shape, theirs.shape)
        if ours.dtype.kind in "iub":
            # Quantised values may differ by one step at exact rounding ties.
            diff = np.abs(ours.astype(np.int64) - theirs.astype(np.int64))
            assert diff.max(initial=0) <= 1, (name, k, diff.max())
        else:
            np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64),
                                       atol=atol, rtol=rtol, err_msg=f"{name} output {k}")
    for k, a in enumerate(inputs):
        save_npy(os.path.join(out_dir, f"{name}.input_{k}.npy"), a)
    for k, a in enumerate(outputs):
        save_npy(os.path.join(out_dir, f"{name}.output_{k}.npy"), a)


ML_DTYPES_NAMED = {np.dtype(getattr(ml_dtypes, n)): n for n in (
    "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "int4", "uint4")}


def save_npy(path, a):
    """np.save, except ml_dtypes float8/int4 arrays get their name as descr."""
    a = np.ascontiguousarray(a)
    name = ML_DTYPES_NAMED.get(a.dtype)
    if name is None:
        np.save(path, a)
        return
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": name, "fortran_order": False, "shape": a.shape})
        f.write(a.view(np.uint8).tobytes())


def save_ort_outputs(out_dir, name, inputs):
    """Raw ONNX Runtime's outputs for the saved inputs (skipped without onnxruntime)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return
    sess = ort.InferenceSession(os.path.join(out_dir, name + ".onnx"),
                                providers=["CPUExecutionProvider"])
    feeds = {i.name: a for i, a in zip(sess.get_inputs(), inputs)}
    for k, a in enumerate(sess.run(None, feeds)):
        a = np.asarray(a)
        if a.dtype == object:  # ORT returns strings as Python objects
            a = a.astype(str)
        save_npy(os.path.join(out_dir, f"{name}.ort_output_{k}.npy"), a)


# --- numpy reference ops (NCHW, float32 unless said) -------------------------------

def np_conv2d(x, w, b, stride=1, pad=0):
    n, c, h, wd = x.shape
    m, c2, kh, kw = w.shape
    assert c == c2
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    out = np.zeros((n, m, oh, ow), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]  # n,c,oh,ow
            out += np.einsum("nchw,mc->nmhw", patch.astype(np.float64), w[:, :, i, j].astype(np.float64))
    out += b.astype(np.float64).reshape(1, m, 1, 1)
    return out.astype(np.float32)


def np_maxpool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def np_relu(x):
    return np.maximum(x, 0).astype(x.dtype)


def np_quantize(x, scale, zero_point):
    """QuantizeLinear to int8: round half to even, saturate."""
    q = np.rint(x.astype(np.float32) / np.float32(scale)) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def np_dequantize(q, scale, zero_point):
    return ((q.astype(np.int32) - zero_point).astype(np.float32) * np.float32(scale)).astype(np.float32)


def conv_node(x, w, b, y, stride=1, pad=0):
    return helper.make_node("Conv", [x, w, b], [y], kernel_shape=[3, 3], strides=[stride, stride],
                            pads=[pad, pad, pad, pad])


# --- models -----------------------------------------------------------------------

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


def small_cnn(out_dir, rng):
    """Conv(3->8, 3x3, pad 1) + Relu + MaxPool 2x2 on float32 [1,3,16,16] -> [1,8,8,8]."""
    w = (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)
    b = (rng.standard_normal(8) * 0.1).astype(np.float32)
    nodes = [conv_node("x", "w", "b", "c", pad=1), helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["y"], kernel_shape=[2, 2], strides=[2, 2])]
    model = make_model(nodes, "small_cnn",
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 8, 8])],
                       [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    x = rng.standard_normal((1, 3, 16, 16)).astype(np.float32)
    y = np_maxpool2(np_relu(np_conv2d(x, w, b, pad=1)))
    save_with_reference(model, out_dir, "small_cnn", [x], [y], atol=1e-4, rtol=1e-4)


def matmul_add(out_dir, rng):
    """y = x @ W + b: x float32 [3,16], W [16,8], b [8]."""
    w = rng.standard_normal((16, 8)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"])]
    model = make_model(nodes, "matmul_add",
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 16])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 8])],
                       [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    x = rng.standard_normal((3, 16)).astype(np.float32)
    y = (x.astype(np.float64) @ w.astype(np.float64) + b).astype(np.float32)
    save_with_reference(model, out_dir, "matmul_add", [x], [y], atol=1e-4, rtol=1e-4)


def dynamic_batch(out_dir, rng):
    """Per-sample model with a symbolic batch: images float32 [batch,3,8,8] ->
    Conv 3->4 (pad 1) -> Relu -> GlobalAveragePool -> Flatten -> MatMul [4,5] -> logits [batch,5].
    The reference is for batch 8; a batch b prefix of the input gives the b-row prefix."""
    w = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
    b = (rng.standard_normal(4) * 0.1).astype(np.float32)
    fc = rng.standard_normal((4, 5)).astype(np.float32)
    nodes = [conv_node("images", "w", "b", "c", pad=1), helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"], axis=1),
             helper.make_node("MatMul", ["f", "fc"], ["logits"])]
    model = make_model(nodes, "dynamic_batch",
                       [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, 8, 8])],
                       [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 5])],
                       [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
                        numpy_helper.from_array(fc, "fc")])
    x = rng.standard_normal((8, 3, 8, 8)).astype(np.float32)
    r = np_relu(np_conv2d(x, w, b, pad=1)).astype(np.float64)
    y = (r.mean(axis=(2, 3)) @ fc.astype(np.float64)).astype(np.float32)
    save_with_reference(model, out_dir, "dynamic_batch", [x], [y], atol=1e-4, rtol=1e-4)


def two_in_two_out(out_dir, rng):
    """sum = a + b (float32 [2,3]); argmax = ArgMax(a * b, axis 1) (int64 [2])."""
    nodes = [helper.make_node("Add", ["a", "b"], ["sum"]), helper.make_node("Mul", ["a", "b"], ["p"]),
             helper.make_node("ArgMax", ["p"], ["argmax"], axis=1, keepdims=0)]
    model = make_model(nodes, "two_in_two_out",
                       [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3]),
                        helper.make_tensor_value_info("b", TensorProto.FLOAT, [2, 3])],
                       [helper.make_tensor_value_info("sum", TensorProto.FLOAT, [2, 3]),
                        helper.make_tensor_value_info("argmax", TensorProto.INT64, [2])], [])
    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal((2, 3)).astype(np.float32)
    save_with_reference(model, out_dir, "two_in_two_out", [a, b],
                        [a + b, np.argmax(a * b, axis=1).astype(np.int64)])


def fp16_mlp(out_dir, rng):
    """float16 end to end: y = Relu(x @ W + b), x [2,8], W [8,4] (fp16 weights)."""
    w = (rng.standard_normal((8, 4)) * 0.5).astype(np.float16)
    b = (rng.standard_normal(4) * 0.1).astype(np.float16)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["a"]),
             helper.make_node("Relu", ["a"], ["y"])]
    model = make_model(nodes, "fp16_mlp",
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT16, [2, 8])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT16, [2, 4])],
                       [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    x = rng.standard_normal((2, 8)).astype(np.float16)
    # Exact products/sums in float64, rounded to fp16 per op like a half kernel would.
    m = (x.astype(np.float64) @ w.astype(np.float64)).astype(np.float16)
    y = np_relu((m.astype(np.float64) + b.astype(np.float64)).astype(np.float16))
    save_with_reference(model, out_dir, "fp16_mlp", [x], [y], atol=2e-2, rtol=1e-2)


def int8_qdq(out_dir, rng):
    """Q/DQ int8 linear layer: x float32 [2,16] -> Q/DQ(x) @ DQ(W int8 [16,8]) + b -> Q -> y_q (int8),
    and y = DQ(y_q) (float32). Quantisation: per-tensor scales, zero point 0."""
    xs, ws, ys = np.float32(0.05), np.float32(0.02), np.float32(0.1)
    wq = rng.integers(-100, 100, size=(16, 8)).astype(np.int8)
    b = (rng.standard_normal(8) * 0.2).astype(np.float32)
    zp = np.int8(0)
    inits = [numpy_helper.from_array(np.array(xs), "xs"), numpy_helper.from_array(np.array(ws), "ws"),
             numpy_helper.from_array(np.array(ys), "ys"), numpy_helper.from_array(np.array(zp), "zp"),
             numpy_helper.from_array(wq, "wq"), numpy_helper.from_array(b, "b")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "zp"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "xs", "zp"], ["xd"]),
             helper.make_node("DequantizeLinear", ["wq", "ws", "zp"], ["wd"]),
             helper.make_node("MatMul", ["xd", "wd"], ["m"]),
             helper.make_node("Add", ["m", "b"], ["a"]),
             helper.make_node("QuantizeLinear", ["a", "ys", "zp"], ["y_q"]),
             helper.make_node("DequantizeLinear", ["y_q", "ys", "zp"], ["y"])]
    model = make_model(nodes, "int8_qdq",
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 16])],
                       [helper.make_tensor_value_info("y_q", TensorProto.INT8, [2, 8]),
                        helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])], inits,
                       opset=19)  # the onnx reference evaluator implements Q/DQ from opset 19
    x = (rng.standard_normal((2, 16)) * 2).astype(np.float32)
    xd = np_dequantize(np_quantize(x, xs, 0), xs, 0)
    wd = np_dequantize(wq, ws, 0)
    a = (xd.astype(np.float64) @ wd.astype(np.float64) + b).astype(np.float32)
    y_q = np_quantize(a, ys, 0)
    save_with_reference(model, out_dir, "int8_qdq", [x], [y_q, np_dequantize(y_q, ys, 0)],
                        atol=float(ys) + 1e-6, rtol=0)


def bench_cnn(out_dir, rng):
    """Benchmark CNN, about 1 ms on one CPU core: float32 [1,3,112,112] ->
    Conv 3->16 s1 -> Relu -> Conv 16->32 s2 -> Relu -> Conv 32->32 s1 -> Relu -> MaxPool 2
    -> GlobalAveragePool -> Flatten -> Gemm 32->10 -> [1,10]."""
    shapes = [(16, 3), (32, 16), (32, 32)]
    ws = [(rng.standard_normal((m, c, 3, 3)) * np.sqrt(2.0 / (9 * c))).astype(np.float32) for m, c in shapes]
    bs = [(rng.standard_normal(m) * 0.05).astype(np.float32) for m, _ in shapes]
    fc = (rng.standard_normal((10, 32)) * 0.2).astype(np.float32)
    fcb = (rng.standard_normal(10) * 0.05).astype(np.float32)
    nodes = [conv_node("x", "w0", "b0", "c0", stride=1, pad=1), helper.make_node("Relu", ["c0"], ["r0"]),
             conv_node("r0", "w1", "b1", "c1", stride=2, pad=1), helper.make_node("Relu", ["c1"], ["r1"]),
             conv_node("r1", "w2", "b2", "c2", stride=1, pad=1), helper.make_node("Relu", ["c2"], ["r2"]),
             helper.make_node("MaxPool", ["r2"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("GlobalAveragePool", ["p"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"], axis=1),
             helper.make_node("Gemm", ["f", "fc", "fcb"], ["y"], transB=1)]
    inits = [numpy_helper.from_array(a, n) for a, n in
             zip(ws + bs + [fc, fcb], ["w0", "w1", "w2", "b0", "b1", "b2", "fc", "fcb"])]
    model = make_model(nodes, "bench_cnn",
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 112, 112])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    x = rng.standard_normal((1, 3, 112, 112)).astype(np.float32)
    r0 = np_relu(np_conv2d(x, ws[0], bs[0], stride=1, pad=1))
    r1 = np_relu(np_conv2d(r0, ws[1], bs[1], stride=2, pad=1))
    r2 = np_relu(np_conv2d(r1, ws[2], bs[2], stride=1, pad=1))
    g = np_maxpool2(r2).astype(np.float64).mean(axis=(2, 3))
    y = (g @ fc.T.astype(np.float64) + fcb).astype(np.float32)
    save_with_reference(model, out_dir, "bench_cnn", [x], [y], atol=1e-4, rtol=1e-4)


def bench_micro(out_dir, rng):
    """Micro model (tens of microseconds): float32 [1,256] -> 3 x (MatMul 256x256 + Add + Relu) -> [1,256]."""
    ws = [(rng.standard_normal((256, 256)) * 0.09).astype(np.float32) for _ in range(3)]
    bs = [(rng.standard_normal(256) * 0.05).astype(np.float32) for _ in range(3)]
    nodes, inits, cur = [], [], "x"
    for k in range(3):
        out = "y" if k == 2 else f"h{k}"
        nodes += [helper.make_node("MatMul", [cur, f"w{k}"], [f"m{k}"]),
                  helper.make_node("Add", [f"m{k}", f"b{k}"], [f"a{k}"]),
                  helper.make_node("Relu", [f"a{k}"], [out])]
        inits += [numpy_helper.from_array(ws[k], f"w{k}"), numpy_helper.from_array(bs[k], f"b{k}")]
        cur = out
    model = make_model(nodes, "bench_micro",
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 256])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 256])], inits)
    x = rng.standard_normal((1, 256)).astype(np.float32)
    h = x
    for k in range(3):
        h = np_relu((h.astype(np.float64) @ ws[k].astype(np.float64) + bs[k]).astype(np.float32))
    save_with_reference(model, out_dir, "bench_micro", [x], [h], atol=1e-4, rtol=1e-4)


def ext_matmul(out_dir, rng):
    """y = x @ W with W in the external data file ext_matmul.weights (the
    artefact caches must hash it: a changed weights file is a changed model)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    w = rng.standard_normal((4, 3)).astype(np.float32)
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "ext_matmul", [x], [y],
                          [numpy_helper.from_array(w, "W")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = os.path.join(out_dir, "ext_matmul.onnx")
    onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
              location="ext_matmul.weights", size_threshold=0)
    loaded = onnx.load(path, load_external_data=False)
    assert loaded.graph.initializer[0].data_location == TensorProto.EXTERNAL
    assert os.path.getsize(os.path.join(out_dir, "ext_matmul.weights")) == w.nbytes


# --- one model per DType ------------------------------------------------------------
# name: (TensorProto type, numpy dtype, kind). kind "add": z = x + y; "concat":
# z = Concat(x, y, axis 0); "float8": z = Identity(x), w = Cast(x, FLOAT);
# "int4": w = Cast(x, FLOAT), z = Cast(w, same int4 type) on an odd element
# count (tests the two-per-byte packing's tail).
DTYPE_MODELS = {
    "float32": (TensorProto.FLOAT, np.float32, "add"),
    "float16": (TensorProto.FLOAT16, np.float16, "add"),
    "bfloat16": (TensorProto.BFLOAT16, ml_dtypes.bfloat16, "concat"),
    "int8": (TensorProto.INT8, np.int8, "add"),
    "uint8": (TensorProto.UINT8, np.uint8, "add"),
    "int32": (TensorProto.INT32, np.int32, "add"),
    "int64": (TensorProto.INT64, np.int64, "add"),
    "bool": (TensorProto.BOOL, np.bool_, "concat"),
    "float64": (TensorProto.DOUBLE, np.float64, "add"),
    "int16": (TensorProto.INT16, np.int16, "add"),
    "uint16": (TensorProto.UINT16, np.uint16, "add"),
    "uint32": (TensorProto.UINT32, np.uint32, "add"),
    "uint64": (TensorProto.UINT64, np.uint64, "add"),
    "string": (TensorProto.STRING, np.str_, "concat"),
    "float8e4m3fn": (TensorProto.FLOAT8E4M3FN, ml_dtypes.float8_e4m3fn, "float8"),
    "float8e4m3fnuz": (TensorProto.FLOAT8E4M3FNUZ, ml_dtypes.float8_e4m3fnuz, "float8"),
    "float8e5m2": (TensorProto.FLOAT8E5M2, ml_dtypes.float8_e5m2, "float8"),
    "float8e5m2fnuz": (TensorProto.FLOAT8E5M2FNUZ, ml_dtypes.float8_e5m2fnuz, "float8"),
    "int4": (TensorProto.INT4, ml_dtypes.int4, "int4"),
    "uint4": (TensorProto.UINT4, ml_dtypes.uint4, "int4"),
}


def dtype_values(name, dt, shape, offset):
    """Inputs whose sums are exact and in range for every type."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.int64) + offset
    if name == "string":
        return np.array([f"v{k}" + ("\u00e9" if k % 4 == 0 else "") for k in i]).reshape(shape)
    if name == "bool":
        return (i % 3 == 0).reshape(shape)
    if name in ("int4",):
        return ((i % 16) - 8).astype(np.int8).astype(dt).reshape(shape)
    if name in ("uint4",):
        return (i % 16).astype(np.uint8).astype(dt).reshape(shape)
    if name.startswith("float8"):
        return ((i - 3) * 0.5).astype(np.float32).astype(dt).reshape(shape)
    if name in ("uint8", "uint16", "uint32", "uint64", "int8", "int16"):
        big = {"uint8": 100, "int8": 50, "int16": 15000, "uint16": 30000, "uint32": 3 * 2**29,
               "uint64": 3 * 2**61}[name]  # sums above 2**31 / 2**63: unsigned, and beyond float64's 2**53
        return (np.array(big, dtype=dt) + (i * 3).astype(dt)).reshape(shape) if name.startswith("u") \
            else ((i * 7 - 20) * (big // 50)).astype(dt).reshape(shape)
    if name in ("int32", "int64"):
        return (i * 1000 - 4000).astype(dt).reshape(shape)
    return ((i - 3) * 0.25).astype(dt).reshape(shape)  # float16/32/64, bfloat16


def dtype_model(out_dir, name):
    tp, dt, kind = DTYPE_MODELS[name]
    shape = [5] if kind == "int4" else [2, 3]
    if kind in ("add", "concat"):
        x = dtype_values(name, dt, shape, 0)
        y = dtype_values(name, dt, shape, 1)
        if kind == "add":
            node = helper.make_node("Add", ["x", "y"], ["z"])
            z = x + y
            out_shape = shape
        else:
            node = helper.make_node("Concat", ["x", "y"], ["z"], axis=0)
            z = np.concatenate([x, y], axis=0)
            out_shape = [4, 3]
        g = helper.make_graph(
            [node], f"dtype_{name}",
            [helper.make_tensor_value_info("x", tp, shape), helper.make_tensor_value_info("y", tp, shape)],
            [helper.make_tensor_value_info("z", tp, out_shape)])
        inputs, outputs = [x, y], [z]
    elif kind == "float8":
        x = dtype_values(name, dt, shape, 0)
        g = helper.make_graph(
            [helper.make_node("Identity", ["x"], ["z"]), helper.make_node("Cast", ["x"], ["w"], to=TensorProto.FLOAT)],
            f"dtype_{name}", [helper.make_tensor_value_info("x", tp, shape)],
            [helper.make_tensor_value_info("z", tp, shape), helper.make_tensor_value_info("w", TensorProto.FLOAT, shape)])
        inputs, outputs = [x], [x.copy(), x.astype(np.float32)]
    else:  # int4
        x = dtype_values(name, dt, shape, 0)
        g = helper.make_graph(
            [helper.make_node("Cast", ["x"], ["w"], to=TensorProto.FLOAT), helper.make_node("Cast", ["w"], ["z"], to=tp)],
            f"dtype_{name}", [helper.make_tensor_value_info("x", tp, shape)],
            [helper.make_tensor_value_info("w", TensorProto.FLOAT, shape), helper.make_tensor_value_info("z", tp, shape)])
        inputs, outputs = [x], [x.astype(np.float32), x.copy()]
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10  # float8/int4 need IR 9/10 and opset 19/21
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out_dir, f"dtype_{name}.onnx"))
    feeds = {"x": inputs[0]} if len(inputs) == 1 else {"x": inputs[0], "y": inputs[1]}
    ref = ReferenceEvaluator(model).run(None, feeds)
    for k, (ours, theirs) in enumerate(zip(outputs, ref)):
        theirs = np.asarray(theirs)
        assert ours.shape == theirs.shape, (name, k, ours.shape, theirs.shape)
        if ours.dtype.kind in "US":
            assert ours.tolist() == theirs.astype(ours.dtype).tolist(), (name, k)
        else:
            assert ours.dtype == theirs.dtype, (name, k, ours.dtype, theirs.dtype)
            assert np.array_equal(ours.view(np.uint8), theirs.view(np.uint8)), (name, k, ours, theirs)
    for k, a in enumerate(inputs):
        save_npy(os.path.join(out_dir, f"dtype_{name}.input_{k}.npy"), a)
    for k, a in enumerate(outputs):
        save_npy(os.path.join(out_dir, f"dtype_{name}.output_{k}.npy"), a)
    if name not in ("bfloat16",) and kind in ("add", "concat"):  # ORT Python takes no ml_dtypes arrays
        save_ort_outputs(out_dir, f"dtype_{name}", inputs)


def no_input(out_dir):
    """A model with no inputs: z = c1 + c2 (float64 constants), n = ConstantOfShape([2]) int64 7."""
    c1 = np.arange(6, dtype=np.float64).reshape(2, 3) * 0.5
    c2 = np.full((2, 3), 0.25)
    nodes = [
        helper.make_node("Constant", [], ["c1"], value=numpy_helper.from_array(c1, "c1v")),
        helper.make_node("Constant", [], ["c2"], value=numpy_helper.from_array(c2, "c2v")),
        helper.make_node("Add", ["c1", "c2"], ["z"]),
        helper.make_node("Constant", [], ["s"], value=numpy_helper.from_array(np.array([2], np.int64), "sv")),
        helper.make_node("ConstantOfShape", ["s"], ["n"],
                         value=numpy_helper.from_array(np.array([7], np.int64), "nv")),
    ]
    g = helper.make_graph(nodes, "no_input", [],
                          [helper.make_tensor_value_info("z", TensorProto.DOUBLE, [2, 3]),
                           helper.make_tensor_value_info("n", TensorProto.INT64, [2])])
    model = make_model(nodes=g.node, name="no_input", inputs=[], outputs=list(g.output), initializers=[])
    save_with_reference(model, out_dir, "no_input", [], [c1 + c2, np.full((2,), 7, np.int64)])
    save_ort_outputs(out_dir, "no_input", [])


def slash_names(out_dir, rng):
    """Input and output names with '/', as exported CNNs have (gpu_0/data_0)."""
    w = rng.standard_normal((4, 3)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["gpu_0/data_0", "gpu_0/w"], ["gpu_0/mm"]),
             helper.make_node("Relu", ["gpu_0/mm"], ["gpu_0/softmax_1"])]
    model = make_model(nodes, "slash_names",
                       [helper.make_tensor_value_info("gpu_0/data_0", TensorProto.FLOAT, [2, 4])],
                       [helper.make_tensor_value_info("gpu_0/softmax_1", TensorProto.FLOAT, [2, 3])],
                       [numpy_helper.from_array(w, "gpu_0/w")])
    x = rng.standard_normal((2, 4)).astype(np.float32)
    y = np_relu((x.astype(np.float64) @ w.astype(np.float64)).astype(np.float32))
    save_with_reference(model, out_dir, "slash_names", [x], [y])


def shape_ops(out_dir, rng):
    """Outputs fully declared, from Shape, Slice and Unsqueeze."""
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["sliced"]),
        helper.make_node("Unsqueeze", ["x", "uaxes"], ["unsq"]),
    ]
    inits = [numpy_helper.from_array(np.array([1], np.int64), "starts"),
             numpy_helper.from_array(np.array([3], np.int64), "ends"),
             numpy_helper.from_array(np.array([2], np.int64), "axes"),
             numpy_helper.from_array(np.array([0], np.int64), "uaxes")]
    model = make_model(nodes, "shape_ops",
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
                       [helper.make_tensor_value_info("shape", TensorProto.INT64, [3]),
                        helper.make_tensor_value_info("sliced", TensorProto.FLOAT, [2, 3, 2]),
                        helper.make_tensor_value_info("unsq", TensorProto.FLOAT, [1, 2, 3, 4])], inits)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    save_with_reference(model, out_dir, "shape_ops", [x],
                        [np.array(x.shape, np.int64), x[:, :, 1:3], x[None]])


def sequence_output(out_dir):
    """A non-tensor output (sequence of tensors), which AegisRT refuses by kind."""
    seq = helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, [2]))
    g = helper.make_graph([helper.make_node("SequenceConstruct", ["x", "x"], ["s"])], "sequence_output",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                          [helper.make_value_info("s", seq)])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)]), out_dir, "sequence_output")


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    affine(out_dir)
    rng = np.random.default_rng(20240611)
    small_cnn(out_dir, rng)
    matmul_add(out_dir, rng)
    dynamic_batch(out_dir, rng)
    two_in_two_out(out_dir, rng)
    fp16_mlp(out_dir, rng)
    int8_qdq(out_dir, rng)
    bench_cnn(out_dir, rng)
    bench_micro(out_dir, rng)
    ext_matmul(out_dir, np.random.default_rng(7))
    for name in DTYPE_MODELS:
        dtype_model(out_dir, name)
    no_input(out_dir)
    rng2 = np.random.default_rng(20261127)  # separate stream: the models above keep their values
    slash_names(out_dir, rng2)
    shape_ops(out_dir, rng2)
    sequence_output(out_dir)


if __name__ == "__main__":
    main()
