#!/usr/bin/env python3
"""Tests of tools/onnx_convert (fp16 conversion, Q/DQ insertion) on a small
conv model. Expected outputs come from a numpy convolution of the float32
weights, never from the converted models themselves; ONNX Runtime (CPU) runs
the converted models.

The Q/DQ model is judged by Q/DQ semantics (what TensorRT executes): a numpy
evaluation of its QuantizeLinear/DequantizeLinear/Conv/Relu nodes, and ONNX
Runtime with graph optimisations disabled (each Q/DQ node run as written).
Never by ONNX Runtime's default fused int8 kernels: on x86-64 without
AVX512-VNNI they compute u8s8 products that saturate, so their error depends
on the CPU's instruction set (0.70 vs 0.09 on the same model; see
tools/onnx_convert/insert_qdq.py)."""
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "..", "..", "tools", "onnx_convert")
sys.path.insert(0, TOOLS)
sys.path.insert(0, HERE)
import convert_fp16  # noqa: E402
import gen_trt_models  # noqa: E402
import insert_qdq  # noqa: E402


def conv2d(x, w, b):
    """NCHW 3x3 convolution, stride 1, padding 1 (numpy reference)."""
    n, c, h, wd = x.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd))
    for i in range(3):
        for j in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, i:i + h, j:j + wd], w[:, :, i, j])
    return out + b.reshape(1, -1, 1, 1)


def reference(x):
    w = gen_trt_models.conv_weights()
    return conv2d(np.maximum(conv2d(x, w["w1"], w["b1"]), 0.0), w["w2"], w["b2"])


def run(model, x, optimize=True):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if not optimize:  # every node as written: no Q/DQ fusion into int8 kernels
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return s.run(None, {"images": x})[0]


def eval_qdq(model, feeds):
    """Evaluates a Q/DQ model by the ONNX operator definitions in numpy:
    QuantizeLinear y = saturate(round_half_to_even(x / scale) + zero_point),
    DequantizeLinear y = (q - zero_point) * scale (per-tensor or per-axis),
    Conv (3x3 as in conv2d above) and Relu. Refuses anything else, so the
    test cannot silently evaluate a different graph than the one written."""
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env.update(feeds)

    def per_axis(v, x, axis):
        if np.ndim(v) == 0:
            return v
        shape = [1] * x.ndim
        shape[axis] = -1
        return v.reshape(shape)

    for n in model.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        ins = [env[i] for i in n.input]
        if n.op_type == "QuantizeLinear":
            x, scale, zp = ins
            axis = attrs.get("axis", 1)
            info = np.iinfo(zp.dtype)
            q = np.rint(x.astype(np.float32) / per_axis(scale, x, axis)) + per_axis(zp, x, axis).astype(np.float32)
            out = np.clip(q, info.min, info.max).astype(zp.dtype)
        elif n.op_type == "DequantizeLinear":
            q, scale, zp = ins
            axis = attrs.get("axis", 1)
            out = ((q.astype(np.int32) - per_axis(zp, q, axis).astype(np.int32)).astype(np.float32)
                   * per_axis(scale, q, axis))
        elif n.op_type == "Conv":
            unexpected = {k: v for k, v in attrs.items()
                          if not (k == "pads" and list(v) == [1, 1, 1, 1])
                          and not (k == "kernel_shape" and list(v) == [3, 3])
                          and not (k in ("strides", "dilations") and list(v) == [1, 1])
                          and not (k == "group" and v == 1)}
            if unexpected or ins[1].shape[2:] != (3, 3):
                raise ValueError(f"eval_qdq: Conv {n.name} with {unexpected} is not evaluated here")
            out = conv2d(ins[0], ins[1], ins[2]).astype(np.float32)
        elif n.op_type == "Relu":
            out = np.maximum(ins[0], 0)
        else:
            raise ValueError(f"eval_qdq: op {n.op_type} is not evaluated here")
        env[n.output[0]] = out
    return env[model.graph.output[0].name]


def metadata(model):
    return {p.key: p.value for p in model.metadata_props}


class Fp16Conversion(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = gen_trt_models.conv_model()
        cls.fp16 = convert_fp16.convert(cls.model)

    def test_io_stays_float32(self):
        for vi in list(self.fp16.graph.input) + list(self.fp16.graph.output):
            self.assertEqual(vi.type.tensor_type.elem_type, onnx.TensorProto.FLOAT, vi.name)

    def test_weights_are_float16(self):
        types = {i.name: i.data_type for i in self.fp16.graph.initializer}
        for name in ("w1", "b1", "w2", "b2"):
            self.assertEqual(types[name], onnx.TensorProto.FLOAT16, name)
        w1 = numpy_helper.to_array(next(i for i in self.fp16.graph.initializer if i.name == "w1"))
        np.testing.assert_allclose(w1.astype(np.float32), gen_trt_models.conv_weights()["w1"], atol=1e-3)

    def test_activations_are_float16_between_boundary_casts(self):
        casts = [n for n in self.fp16.graph.node if n.op_type == "Cast"]
        to = sorted(next(a.i for a in n.attribute if a.name == "to") for n in casts)
        self.assertEqual(to, [onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16])
        onnx.checker.check_model(self.fp16)  # also checks topological order

    def test_marked_for_aegisrt(self):
        self.assertEqual(metadata(self.fp16)["aegisrt.precision"], "float16")

    def test_outputs_match_numpy_reference(self):
        x = np.random.default_rng(7).standard_normal((2, 3, 12, 10)).astype(np.float32)
        ref = reference(x)
        got = run(self.fp16, x)
        self.assertEqual(got.dtype, np.float32)
        self.assertEqual(got.shape, ref.shape)
        np.testing.assert_allclose(got, ref, atol=2e-2 * np.abs(ref).max(), rtol=0)
        # and the float32 model itself agrees tightly (checks the reference)
        np.testing.assert_allclose(run(self.model, x), ref, atol=1e-4, rtol=1e-4)

    def test_cli_check_mode(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "m.onnx")
            dst = os.path.join(tmp, "m16.onnx")
            onnx.save(self.model, src)
            r = subprocess.run([sys.executable, os.path.join(TOOLS, "convert_fp16.py"), src, dst, "--check"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("ok", r.stdout)
            self.assertEqual(metadata(onnx.load(dst))["aegisrt.precision"], "float16")


class QdqInsertion(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = gen_trt_models.conv_model()
        rng = np.random.default_rng(3)
        cls.calib = [{"images": rng.standard_normal((1, 3, 16, 16)).astype(np.float32)} for _ in range(8)]
        cls.qdq = insert_qdq.quantize(cls.model, cls.calib)

    def producers(self):
        return {o: n for n in self.qdq.graph.node for o in n.output}

    def test_every_conv_input_is_dequantized(self):
        prod = self.producers()
        convs = [n for n in self.qdq.graph.node if n.op_type == "Conv"]
        self.assertEqual(len(convs), 2)
        for n in convs:
            for inp in n.input[:2]:  # activation and weight; bias stays float
                self.assertEqual(prod[inp].op_type, "DequantizeLinear", f"{n.name}:{inp}")

    def test_symmetric_int8(self):
        inits = {i.name: i for i in self.qdq.graph.initializer}
        zps = [n.input[2] for n in self.qdq.graph.node
               if n.op_type in ("QuantizeLinear", "DequantizeLinear") and len(n.input) > 2]
        self.assertTrue(zps)
        for name in zps:
            self.assertEqual(inits[name].data_type, onnx.TensorProto.INT8, name)
            self.assertTrue(np.all(numpy_helper.to_array(inits[name]) == 0), name)

    def test_per_channel_weight_scales_and_float_bias(self):
        inits = {i.name: numpy_helper.to_array(i) for i in self.qdq.graph.initializer}
        self.assertEqual(inits["w1_scale"].shape, (4,))
        self.assertEqual(inits["w2_scale"].shape, (2,))
        # symmetric per-channel scale = max |w| / 127 per output channel
        w1 = gen_trt_models.conv_weights()["w1"]
        np.testing.assert_allclose(inits["w1_scale"], np.abs(w1).reshape(4, -1).max(axis=1) / 127.0, rtol=1e-5)
        types = {i.name: i.data_type for i in self.qdq.graph.initializer}
        self.assertEqual(types["b1"], onnx.TensorProto.FLOAT)

    def test_input_scale_from_calibration_range(self):
        inits = {i.name: numpy_helper.to_array(i) for i in self.qdq.graph.initializer}
        peak = max(np.abs(f["images"]).max() for f in self.calib)
        np.testing.assert_allclose(float(inits["images_scale"]), peak / 127.0, rtol=1e-4)

    def test_marked_for_aegisrt(self):
        self.assertEqual(metadata(self.qdq)["aegisrt.precision"], "int8-qdq")

    def scales(self):
        inits = {i.name: numpy_helper.to_array(i) for i in self.qdq.graph.initializer}
        return {k[:-len("_scale")]: v for k, v in inits.items() if k.endswith("_scale")}

    def test_qdq_semantics_close_to_float_reference(self):
        # The converter's quantisation error, by the Q/DQ operator definitions
        # (what TensorRT executes), independent of any int8 kernel.
        x = self.calib[0]["images"]
        ref = reference(x)
        got = eval_qdq(self.qdq, {"images": x})
        self.assertEqual(got.shape, ref.shape)
        err = np.abs(got - ref).max()
        self.assertLess(err, 0.05 * np.abs(ref).max(), f"int8 (Q/DQ semantics) error {err} too large")
        self.assertGreater(err, 0.0)  # it really is quantised
        # The output itself is quantised: every value is a multiple of its scale.
        steps = got / self.scales()["out"]
        np.testing.assert_allclose(steps, np.rint(steps), atol=1e-3)

    def test_outputs_close_to_numpy_reference(self):
        # ONNX Runtime running each Q/DQ node as written (optimisations off:
        # no fusion into its int8 kernels, whose u8s8 saturation on CPUs
        # without AVX512-VNNI is a property of the CPU, not of the model).
        x = self.calib[0]["images"]
        ref = reference(x)
        got = run(self.qdq, x, optimize=False)
        self.assertEqual(got.shape, ref.shape)
        err = np.abs(got - ref).max()
        self.assertLess(err, 0.05 * np.abs(ref).max(), f"int8 error {err} too large")
        self.assertGreater(err, 0.0)  # it really is quantised
        # ... and it agrees with the numpy Q/DQ evaluation. Float rounding
        # (float32 in ORT, float64 convolutions here) may move a value that
        # sits on a rounding boundary by one quantisation step, which moves a
        # few outputs by about a step; all others are equal to float precision.
        qdq = eval_qdq(self.qdq, {"images": x})
        same = np.abs(got - qdq) <= 1e-4 * np.abs(ref).max()
        self.assertGreaterEqual(same.mean(), 0.9, f"{(~same).sum()} of {same.size} outputs differ")

    def test_cli_with_npy_folder_and_without_data(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "m.onnx")
            onnx.save(self.model, src)
            cdir = os.path.join(tmp, "calib")
            os.makedirs(cdir)
            for k, f in enumerate(self.calib[:3]):
                np.save(os.path.join(cdir, f"b{k}.npy"), f["images"])
            dst = os.path.join(tmp, "q.onnx")
            tool = os.path.join(TOOLS, "insert_qdq.py")
            r = subprocess.run([sys.executable, tool, src, dst, "--calib", cdir], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("from 3 calibration batch(es)", r.stdout)
            r = subprocess.run([sys.executable, tool, src, dst], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2)
            self.assertIn("calibration data", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
