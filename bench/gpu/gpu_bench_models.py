#!/usr/bin/env python3
"""Builds the GPU benchmark's models on the device (random weights, no downloads).

  gpu_bench_models.py resnet50 OUT_DIR   -> OUT_DIR/resnet50.onnx  (torchvision ResNet-50,
                                            1x3x640x640 fp32, ~100 MB of weights)
  gpu_bench_models.py yolov8n OUT_DIR    -> OUT_DIR/yolov8n.onnx   (ultralytics' yolov8n.yaml,
                                            1x3x640x640 -> 1x84x8400, the YOLO v8 layout)

Random weights: timings only (a YOLOv8n with ultralytics' head initialisation
scores every class near 0, so it detects nothing at confidence 0.25 and
post-processing is minimal). Exits 3 with the reason on stderr when torch,
torchvision or ultralytics cannot be imported here.
"""
import os
import sys


def export(model, path, out_names):
    import torch

    model.eval()
    x = torch.zeros(1, 3, 640, 640)
    kwargs = dict(input_names=["images"], output_names=out_names, opset_version=17)
    try:
        # The TorchScript exporter: no onnxscript needed (torch >= 2.9 defaults to dynamo).
        torch.onnx.export(model, (x,), path, dynamo=False, **kwargs)
    except TypeError:  # torch without the dynamo argument
        torch.onnx.export(model, (x,), path, **kwargs)


def resnet50(out_dir):
    try:
        import torch  # noqa: F401
        import torchvision
    except Exception as e:  # noqa: BLE001 - reported as the row's reason
        print(f"torch/torchvision not importable: {e}", file=sys.stderr)
        return 3
    model = torchvision.models.resnet50(weights=None)
    path = os.path.join(out_dir, "resnet50.onnx")
    export(model, path, ["logits"])
    print(f"{path} {os.path.getsize(path) / 1e6:.1f} MB")
    return 0


def yolov8n(out_dir):
    try:
        import torch
        from ultralytics.nn.modules import Detect
        from ultralytics.nn.tasks import DetectionModel
    except Exception as e:  # noqa: BLE001
        print(f"ultralytics not importable here: {type(e).__name__}: {e}", file=sys.stderr)
        return 3
    torch.manual_seed(0)
    model = DetectionModel("yolov8n.yaml", nc=80, verbose=False)
    for m in model.modules():
        if isinstance(m, Detect):
            # As ultralytics' exporter sets it: the head returns the decoded
            # [1, 4 + nc, anchors] tensor only.
            m.export = True
            m.format = "onnx"
            m.dynamic = False

    class Only(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            y = self.inner(x)
            return y[0] if isinstance(y, (list, tuple)) else y

    path = os.path.join(out_dir, "yolov8n.onnx")
    export(Only(model), path, ["output0"])
    print(f"{path} {os.path.getsize(path) / 1e6:.1f} MB")
    return 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("resnet50", "yolov8n"):
        print(__doc__, file=sys.stderr)
        return 2
    os.makedirs(sys.argv[2], exist_ok=True)
    return resnet50(sys.argv[2]) if sys.argv[1] == "resnet50" else yolov8n(sys.argv[2])


if __name__ == "__main__":
    sys.exit(main())
