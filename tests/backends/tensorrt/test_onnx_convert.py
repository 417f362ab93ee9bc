#!/usr/bin/env python3
"""Tests of tools/onnx_convert (fp16 conversion, Q/DQ insertion) on a small
conv model. Expected outputs come from a numpy convolution of the float32
weights, never from the converted models themselves; ONNX Runtime (CPU) runs
the converted models."""
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


def run(model, x):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    s = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return s.run(None, {"images": x})[0]


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

    def test_outputs_close_to_numpy_reference(self):
        x = self.calib[0]["images"]
        ref = reference(x)
        got = run(self.qdq, x)
        self.assertEqual(got.shape, ref.shape)
        err = np.abs(got - ref).max()
        self.assertLess(err, 0.05 * np.abs(ref).max(), f"int8 error {err} too large")
        self.assertGreater(err, 0.0)  # it really is quantised

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
