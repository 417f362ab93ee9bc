#!/usr/bin/env python3
"""GPU machine: is an `fp32` run on ONNX Runtime's CUDA provider really fp32?

Builds a ResNet-50 (torchvision architecture, seeded random weights, eval mode),
exports it to ONNX (opset 17, 1x3x224x224), computes the float64 reference with
PyTorch in double precision on the CPU, then runs the ONNX model through
`aegisrt exec --backend onnx --backend-option provider=cuda` twice: as selected (fp32: TF32 off) and with
`--backend-option tf32=1`. Prints the relative error of each against float64
(max |y - y64| / max |y64|) and exits 1 if the fp32 run exceeds 1e-5.

    python3 scripts/gpu/fp32_check.py <aegisrt CLI> <work dir>
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torchvision


def main():
    cli, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    onnx_path = os.path.join(work, "resnet50.onnx")
    torch.onnx.export(model, (x,), onnx_path, input_names=["x"], output_names=["y"], opset_version=17,
                      dynamo=False)
    with torch.no_grad():
        y64 = model.double()(x.double()).numpy()
    np.save(os.path.join(work, "x.npy"), x.numpy())
    results = {}
    for label, extra in (("fp32", []), ("tf32", ["--backend-option", "tf32=1"])):
        out_dir = os.path.join(work, "out_" + label)
        cmd = [cli, "exec", "--backend", "onnx", "--backend-option", "provider=cuda", "--model-file", onnx_path, "--input",
               "x=" + os.path.join(work, "x.npy"), "--save-outputs", out_dir] + extra
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            print(f"{label}: aegisrt exec failed (rc {proc.returncode}): {proc.stderr.strip()[-800:]}")
            results[label] = None
            continue
        y = np.load(os.path.join(out_dir, "y.npy")).astype(np.float64)
        rel = float(np.max(np.abs(y - y64)) / np.max(np.abs(y64)))
        results[label] = rel
        print(f"{label}: max |y - y64| / max |y64| = {rel:.3e}")
    print("RESULT " + json.dumps(results))
    ok = results.get("fp32") is not None and results["fp32"] <= 1e-5
    print("fp32 within 1e-5 of float64:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
