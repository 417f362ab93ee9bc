#!/usr/bin/env python3
"""Inserts QuantizeLinear/DequantizeLinear (Q/DQ) pairs into a float32 ONNX
model from a calibration run, for TensorRT's explicit (strongly typed) int8.

TensorRT 11 builds int8 engines only from Q/DQ models. TensorRT wants
symmetric int8 quantisation (zero point 0) with per-channel weight scales;
this tool runs ONNX Runtime's static quantiser (onnxruntime.quantization) in
QDQ format with exactly those settings, calibrating activation ranges on the
data you give it, and marks the result with metadata_props
aegisrt.precision=int8-qdq, which AegisRT's engine builder reads.

Calibration data: .npy files (one pre-processed float32 batch each, shaped
like the model input) or .npz files (arrays named after the inputs), given as
files or folders (--calib, repeatable). Pre-process them exactly as at
inference (AegisRT's vision pre-processing writes them with `aegisrt run
--dump-input`, or use numpy). --random N uses N random batches instead: only
for tests, never for a real model.

Running the result on ONNX Runtime's CPU provider: by default ORT fuses the
Q/DQ pairs into its own int8 kernels (QLinearConv etc.), and on x86-64 CPUs
without AVX512-VNNI (AVX2-only machines, e.g. AMD EPYC Zen 2/3) those kernels
multiply unsigned-by-signed 8-bit values (u8s8) with 16-bit intermediate sums
that saturate. The output is then much further from float32 than the
quantisation itself explains (our test conv model: max error 0.70 fused on an
AVX2 machine, 0.086 by Q/DQ semantics, output range 4.6); the same model on a
CPU with VNNI, on TensorRT, or on ORT with graph optimisations disabled
(SessionOptions.graph_optimization_level = ORT_DISABLE_ALL, which runs each
QuantizeLinear/DequantizeLinear as written) shows only the quantisation error.
This is a property of ORT's CPU kernels on that instruction set, not of the
Q/DQ model; judge a quantised model by Q/DQ semantics (or on its target).
With `aegisrt exec --backend onnx`, ORT's optimisations are on (the default).

Usage:
  insert_qdq.py MODEL.onnx OUT.onnx --calib DIR_OR_FILES... [--method minmax|entropy|percentile]
"""
import argparse
import logging
import os
import sys
import tempfile

import numpy as np
import onnx

PRECISION_KEY = "aegisrt.precision"
# Ops TensorRT runs in int8 when their inputs are Q/DQ'd.
DEFAULT_OPS = ["Conv", "ConvTranspose", "MatMul", "Gemm"]


def set_metadata(model, key, value):
    for p in model.metadata_props:
        if p.key == key:
            p.value = value
            return
    entry = model.metadata_props.add()
    entry.key = key
    entry.value = value


def graph_inputs(model):
    inits = {i.name for i in model.graph.initializer}
    return [vi for vi in model.graph.input if vi.name not in inits]


def load_calibration(paths, model):
    """List of {input name: array} feeds from .npy/.npz files or folders."""
    names = [vi.name for vi in graph_inputs(model)]
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith((".npy", ".npz")))
        else:
            files.append(p)
    feeds = []
    for f in files:
        if f.endswith(".npz"):
            with np.load(f) as z:
                missing = [n for n in names if n not in z.files]
                if missing:
                    raise ValueError(f"{f}: no array for input(s) {missing}")
                feeds.append({n: z[n].astype(np.float32) for n in names})
        else:
            if len(names) != 1:
                raise ValueError(f"{f}: .npy calibration needs a single-input model; use .npz")
            feeds.append({names[0]: np.load(f).astype(np.float32)})
    if not feeds:
        raise ValueError("no calibration data (.npy/.npz) found in " + ", ".join(paths))
    return feeds


def random_calibration(model, count, seed=0):
    rng = np.random.default_rng(seed)
    feeds = []
    for _ in range(count):
        feed = {}
        for vi in graph_inputs(model):
            dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else (1 if k == 0 else 16)
                    for k, d in enumerate(vi.type.tensor_type.shape.dim)]
            feed[vi.name] = rng.standard_normal(dims).astype(np.float32)
        feeds.append(feed)
    return feeds


def quantize(model, feeds, method="minmax", op_types=None, per_channel=True):
    """Returns the Q/DQ model (symmetric int8 activations and weights)."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self, data):
            self._it = iter(data)

        def get_next(self):
            return next(self._it, None)

    methods = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
               "percentile": CalibrationMethod.Percentile}
    logging.getLogger().setLevel(logging.ERROR)  # ORT's "consider pre-processing" notes
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.onnx")
        dst = os.path.join(tmp, "out.onnx")
        onnx.save(model, src)
        quantize_static(
            src, dst, Reader(feeds),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=op_types or DEFAULT_OPS,
            per_channel=per_channel,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=methods[method],
            extra_options={
                "ActivationSymmetric": True,  # TensorRT: zero point must be 0
                "WeightSymmetric": True,
                "AddQDQPairToWeight": True,   # weights stay float with a Q/DQ pair (TensorRT folds it)
                "DedicatedQDQPair": True,
                "QuantizeBias": False,        # TensorRT keeps biases float (no int32 DQ)
            },
        )
        q = onnx.load(dst)
    set_metadata(q, PRECISION_KEY, "int8-qdq")
    onnx.checker.check_model(q)
    return q


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--calib", action="append", default=[], help=".npy/.npz file or folder (repeatable)")
    ap.add_argument("--random", type=int, default=0, help="N random calibration batches (tests only)")
    ap.add_argument("--method", choices=["minmax", "entropy", "percentile"], default="minmax")
    ap.add_argument("--op", action="append", default=[], help="op type to quantise (default: "
                    + ", ".join(DEFAULT_OPS) + ")")
    ap.add_argument("--per-tensor", action="store_true", help="per-tensor weight scales")
    args = ap.parse_args(argv)
    if not args.calib and args.random <= 0:
        ap.error("give calibration data with --calib (or --random N for tests)")

    model = onnx.load(args.model)
    feeds = load_calibration(args.calib, model) if args.calib else random_calibration(model, args.random)
    q = quantize(model, feeds, args.method, args.op or None, per_channel=not args.per_tensor)
    onnx.save(q, args.out)
    nq = sum(1 for n in q.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear"))
    print(f"wrote {args.out}: {nq} Q/DQ nodes from {len(feeds)} calibration batch(es)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
