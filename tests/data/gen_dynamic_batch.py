#!/usr/bin/env python3
"""Dynamic-batch copies of the committed golden YOLO exports (test data for
Pipeline::run_batch, tests/pipeline/pipeline_batch_test.cpp).

The golden ONNX files in tests/data/golden were exported with a fixed batch
of 1 (Ultralytics `dynamic=False`): their inputs/outputs say [1, ...] and the
detection head's Reshape nodes carry constant target shapes that start with
1 ([1, 16, -1], [1, 4, 4, 8400], ...). This script rewrites, with the onnx
helper APIs only, the first dim of every graph input/output to the symbolic
"batch" and the leading 1 of each constant Reshape target to 0 (ONNX Reshape:
0 = copy the input's dim, allowzero unset), drops the stale value_info, and
checks the result with ONNX Runtime: a batch of 3 random inputs must give,
slice by slice, exactly what the original model gives per input. The
committed files are not touched; the copies go to OUT_DIR (the build's test
data), so no new binary is committed.

usage: gen_dynamic_batch.py GOLDEN_DIR OUT_DIR
"""
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

MODELS = ["yolov8-seg-golden.onnx", "yolov8-pose-golden.onnx", "yolov8-person-golden.onnx"]


def make_dynamic(model: onnx.ModelProto) -> onnx.ModelProto:
    g = model.graph
    for v in list(g.input) + list(g.output):
        v.type.tensor_type.shape.dim[0].dim_param = "batch"
    del g.value_info[:]
    inits = {i.name: i for i in g.initializer}
    consts = {n.output[0]: n for n in g.node if n.op_type == "Constant"}
    for n in g.node:
        if n.op_type != "Reshape":
            continue
        name = n.input[1]
        if name in consts:
            t = consts[name].attribute[0].t
        elif name in inits:
            t = inits[name]
        else:
            continue  # computed at run time (from Shape): already batch-agnostic
        arr = numpy_helper.to_array(t).copy()
        if arr.size > 0 and arr[0] == 1:
            arr[0] = 0
            t.CopyFrom(numpy_helper.from_array(arr, t.name))
    onnx.checker.check_model(model)
    return model


def verify(original: Path, dynamic: onnx.ModelProto) -> None:
    import onnxruntime as ort

    so = ["CPUExecutionProvider"]
    s1 = ort.InferenceSession(str(original), providers=so)
    sn = ort.InferenceSession(dynamic.SerializeToString(), providers=so)
    inp = sn.get_inputs()[0]
    shape = [3] + [int(d) for d in s1.get_inputs()[0].shape[1:]]
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    batched = sn.run(None, {inp.name: x})
    for k in range(shape[0]):
        single = s1.run(None, {inp.name: x[k : k + 1]})
        for b, s in zip(batched, single):
            # A wrong rewrite mixes images up (differences of the outputs' own
            # scale); batched vs single kernels differ only by float rounding,
            # which depends on the CPU's instruction set and ORT's version
            # (1e-5 failed on an AVX-512 host): 1e-3 relative to the output's range.
            if b.shape[0] != shape[0]:
                raise SystemExit(f"{original.name}: batched output has batch {b.shape[0]}, expected {shape[0]}")
            scale = max(1.0, float(np.abs(s).max()))
            diff = float(np.abs(b[k : k + 1] - s).max())
            if diff > 1e-3 * scale:
                raise SystemExit(f"{original.name}: batched output differs from the per-image output "
                                 f"(image {k}: max |diff| {diff:.3g}, output range {scale:.3g})")


def main() -> None:
    golden, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for name in MODELS:
        m = make_dynamic(onnx.load(str(golden / name)))
        verify(golden / name, m)
        onnx.save(m, str(out / name.replace("-golden", "-golden-dynbatch")))


if __name__ == "__main__":
    main()
