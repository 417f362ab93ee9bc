#!/usr/bin/env python3
"""Golden data for RTMPose top-down through the pipeline (docs/PIPELINE.md "RTMPose").

Writes into the output folder (tests/data/golden):

* golden_people.png: a fixed synthetic scene, 1440x1920, drawn at 480x640 and
  every pixel repeated 3x3, so the detector's 1/3 letterbox resize is exact in
  any bilinear implementation (it lands on pixel centres): Ultralytics' uint8
  cv2.resize and the pipeline's float resize feed the detector the very same
  tensor. At that size the person boxes are large, so one SimCC bin (half a
  crop pixel) is about a pixel or more in the image for most of them: a
  decoder that is off by one bin misses the 1 px tolerance.
* yolov8-person-golden.onnx: a tiny YOLOv8 *detect* network with one class
  (person), built with Ultralytics itself from its own yolov8.yaml (width
  0.0625, reg_max 4, nc 1), seeded, BatchNorm calibrated on the image and the
  class bias shifted so that some anchors pass 0.25, exported by Ultralytics'
  ONNX exporter (opset 17, 640x640): [1, 5, 8400], the yolo_v8 layout. As the
  rtmpose `detector` part (yolo variant v8n, classes [person]) it gives class
  0, which is `person` in the yolo manifest's coco80 names. Same method as
  python/gen_golden_models.py (python/golden_common.py's build_tiny_yolo,
  seed SEED + 1).
* rtmpose-golden.onnx: a tiny PyTorch network with RTMPose's I/O contract:
  input `input` [1, 3, 256, 192] (normalised RGB crop), outputs `simcc_x`
  [1, 17, 384] and `simcc_y` [1, 17, 512] (SimCC bin logits, split ratio 2).
  THE NETWORK BODY IS NOT RTMPOSE'S (mmpose is far too heavy to install here,
  and RTMPose's weights cannot be downloaded): a small CNN, 17 keypoint maps
  pooled per keypoint and an RTMCC-style head (one linear layer per axis over
  each keypoint's feature vector), with seeded weights. Only its I/O and
  RTMPose's published pre- and post-processing are RTMPose's, and those are
  what the pipeline's correctness depends on.
* rtmpose_reference.json: what the reference implementation gives end to end
  on golden_people.png:
    1. person boxes: Ultralytics' own predictor on the detector ONNX
       (LetterBox, AutoBackend, NMS; conf 0.25, iou 0.45, max_det 300: the yolo
       manifest's post-processing);
    2. per box, rtmlib's RTMPose (PyPI `rtmlib`, the published RTMPose
       pre/post-processing without mmcv/mmpose: bbox_xyxy2cs with padding
       1.25, top_down_affine (aspect fix to 192:256, cv2.warpAffine
       INTER_LINEAR), (x - mean) / std, ONNX Runtime, get_simcc_maximum,
       split ratio 2, mapping back through the bbox centre and scale).
       rtmlib feeds the image in the channel order it is given; the image is
       given as RGB, the manifest's color_format (MMPose's RTMPose configs
       convert BGR to RGB in their data pre-processor).
  Keypoint scores are recorded twice: `score` is MMPose's get_simcc_maximum
  (min of the x and y maxima), which the pipeline's SimCC decoder reports;
  `score_rtmlib` is rtmlib's (their mean). The locations are the same.

Regenerate (PyTorch, ultralytics and rtmlib are needed only here):

    AEGISRT_GOLDEN_GENERATOR=1 bash scripts/deps/50-golden-generator.sh   # torch, ultralytics, rtmlib
    .venv/bin/python python/gen_golden_rtmpose.py tests/data/golden
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import golden_common as gc  # noqa: E402

SEED = 20261127
IMAGE = ("golden_people.png", 1920, 2560, 4)  # name, width, height, block
CONF, IOU, MAX_DET, IMGSZ = 0.25, 0.45, 300, 640
INPUT_W, INPUT_H, K, SPLIT = 192, 256, 17, 2.0
MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)


def render_image(out: Path) -> Path:
    """Gradients, texture, shapes and large dark stick figures (seeded)."""
    import cv2

    name, full_w, full_h, block = IMAGE
    w, h = full_w // block, full_h // block
    rng = np.random.default_rng(SEED)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([100 + 70 * xx / w, 120 + 50 * yy / h, 150 + 40 * np.cos(yy / 29.0)], -1)
    img += cv2.resize(rng.normal(0, 14, (h // 32, w // 32, 3)).astype(np.float32), (w, h))
    # Steps of 8 levels: long runs of equal pixels keep the PNG small.
    img = (np.clip(img, 0, 255) // 8 * 8).astype(np.uint8).copy()
    for _ in range(6):
        c = tuple(int(v) for v in rng.integers(0, 255, 3))
        x0, y0 = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
        x1, y1 = x0 + int(rng.integers(30, w // 4)), y0 + int(rng.integers(30, h // 4))
        cv2.rectangle(img, (x0, y0), (min(x1, w - 1), min(y1, h - 1)), c, -1)
    for _ in range(3):
        cx, cy = int(rng.integers(w // 5, 4 * w // 5)), int(rng.integers(h // 4, 3 * h // 4))
        s = int(rng.integers(h // 10, h // 6))
        col = tuple(int(v) for v in rng.integers(10, 60, 3))
        gc.draw_stick_figure(img, cx, cy, s, col, max(2, s // 7), max(2, s // 9))
    img = np.repeat(np.repeat(img, block, axis=0), block, axis=1)
    p = out / name
    cv2.imwrite(str(p), img)  # written as BGR, read back as RGB by both sides
    return p


def build_detector(work: Path, out: Path, image: Path) -> Path:
    """The tiny one-class YOLOv8 detector, with python/gen_golden_models.py's recipe (golden_common)."""
    yaml_path = gc.tiny_yolo_yaml("yolov8.yaml", work, nc=1)
    yolo = gc.build_tiny_yolo("detect", yaml_path, SEED + 1, [image], CONF, IMGSZ)
    # Favour the stride-32 level (large boxes): big persons make one SimCC bin
    # more than a pixel in the image (see the module docstring).
    import torch

    head = yolo.model.model[-1]
    with torch.no_grad():
        for level, delta in ((0, -4.0), (1, -3.0), (2, 0.3)):
            head.cv3[level][-1].bias += delta
    return gc.export_yolo_onnx(yolo, out / "yolov8-person-golden.onnx", IMGSZ)


def build_pose(out: Path) -> Path:
    """A tiny network with RTMPose's I/O (not RTMPose's body; see the module docstring)."""
    import torch
    from torch import nn

    class TinyRTMPoseIO(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Sequential(
                nn.Conv2d(3, 12, 5, stride=4, padding=2), nn.ReLU(),
                nn.Conv2d(12, 24, 3, stride=2, padding=1), nn.ReLU(),
                nn.Conv2d(24, K, 3, stride=2, padding=1))  # [1, 17, 16, 12]
            self.mlp = nn.Linear(16 * 12, 32)
            self.cls_x = nn.Linear(32, int(INPUT_W * SPLIT))
            self.cls_y = nn.Linear(32, int(INPUT_H * SPLIT))

        def forward(self, x):
            f = self.backbone(x).flatten(2)  # [1, 17, 192]
            f = torch.relu(self.mlp(f))      # [1, 17, 32]
            return self.cls_x(f), self.cls_y(f)

    torch.manual_seed(SEED)
    net = TinyRTMPoseIO().eval()
    with torch.no_grad():
        # Logit scale: the best bins land around the 0.3 keypoint threshold,
        # so some keypoints are shown and some are not.
        for lin in (net.cls_x, net.cls_y):
            lin.weight.mul_(3.0)
            lin.bias.sub_(0.15)
    dst = out / "rtmpose-golden.onnx"
    torch.onnx.export(net, torch.zeros(1, 3, INPUT_H, INPUT_W), str(dst), opset_version=17,
                      input_names=["input"], output_names=["simcc_x", "simcc_y"], dynamo=False)
    return dst


def reference(detector: Path, pose: Path, image: Path) -> dict:
    import cv2
    from rtmlib import RTMPose
    from rtmlib.version import __version__ as rtmlib_version
    from ultralytics import YOLO

    det = YOLO(str(detector), task="detect")
    r = det.predict(str(image), imgsz=IMGSZ, conf=CONF, iou=IOU, max_det=MAX_DET, verbose=False)[0]
    boxes = r.boxes.xyxy.cpu().numpy().astype(np.float64)
    classes = r.boxes.cls.cpu().numpy().astype(int)
    det_scores = r.boxes.conf.cpu().numpy().astype(np.float64)

    model = RTMPose(str(pose), model_input_size=(INPUT_W, INPUT_H), mean=MEAN, std=STD,
                    backend="onnxruntime", device="cpu")
    rgb = cv2.imread(str(image))[..., ::-1].copy()  # the manifest's color_format
    persons = []
    for i in range(len(boxes)):
        if classes[i] != 0:
            continue
        box = boxes[i]
        kpts, scores_rtmlib = model(rgb, bboxes=[box.tolist()])
        # MMPose's score (min of the axis maxima) from the same raw outputs.
        crop, _, _ = model.preprocess(rgb, box.tolist())
        sx, sy = model.inference(crop)
        score_min = np.minimum(sx[0].max(-1), sy[0].max(-1))
        persons.append({
            "box": [float(v) for v in box],
            "score": float(det_scores[i]),
            "keypoints": [[float(kpts[0, k, 0]), float(kpts[0, k, 1]), float(score_min[k]),
                           float(scores_rtmlib[0, k])] for k in range(K)],
        })
    h, w = rgb.shape[:2]
    print(f"  {image.name}: {len(persons)} persons", file=sys.stderr)
    return {
        "generator": "python/gen_golden_rtmpose.py",
        "reference": "ultralytics " + __import__("ultralytics").__version__ + " predictor on " + detector.name +
                     " (person boxes), rtmlib " + rtmlib_version + " RTMPose on " + pose.name,
        "settings": {"conf": CONF, "iou": IOU, "max_det": MAX_DET, "imgsz": IMGSZ, "padding": 1.25,
                     "model_input_size": [INPUT_W, INPUT_H], "simcc_split_ratio": SPLIT},
        "keypoint_fields": ["x", "y", "score (MMPose: min of the axis maxima)", "score_rtmlib (mean)"],
        "images": [{"file": image.name, "width": int(w), "height": int(h), "persons": persons}],
    }


def main() -> int:
    out = gc.output_folder(__doc__)
    with gc.work_folder(out / ".work-rtmpose") as work:
        image = render_image(out)
        detector = build_detector(work, out, image)
        pose = build_pose(out)
        for f in (detector, pose):
            print(f"{f.name}: {f.stat().st_size} bytes", file=sys.stderr)
        doc = reference(detector, pose, image)
        gc.write_reference(out / "rtmpose_reference.json", doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
