#!/usr/bin/env python3
"""Golden models and reference outputs for the pipeline's decoders.

Builds architecture-faithful tiny YOLOv8 segment and pose networks WITH THE
REFERENCE CODE ITSELF (PyPI `ultralytics`, from its own yolov8-seg.yaml /
yolov8-pose.yaml with smaller width and channel limits), exports them with
Ultralytics' own ONNX exporter (opset 17, 640x640, static shape: the same I/O
contract as `yolo export model=yolov8n-seg.pt format=onnx`), renders fixed test
images, and records what Ultralytics' own predictor (its LetterBox
pre-processing, the ONNX model through AutoBackend, its NMS, its mask and
keypoint post-processing) gives on them, as JSON. CI runs the C++ golden tests
from these committed files only; PyTorch and ultralytics are needed only to
regenerate them:

    AEGISRT_GOLDEN_GENERATOR=1 bash scripts/deps/50-golden-generator.sh   # PyPI: torch, ultralytics
    .venv/bin/python python/gen_golden_models.py tests/data/golden

Only the generator needs them; nothing else in the project imports torch.

How the tiny networks differ from yolov8n (and why it does not matter for the
decoders): width multiple 0.0625 with max_channels 256 (8..16 channels) and
`reg_max: 4` (a key Ultralytics' parse_model reads from the yaml; YOLOv8 uses
16) keep each file well under 1 MB. The exported heads are unchanged in
layout: output0 [1, 4+nc+32, 8400] + output1 [1, 32, 160, 160] for segment,
[1, 4+1+17*3, 8400] for pose; boxes are DFL-decoded in the graph as in every
Ultralytics export.

Weights: PyTorch's seeded default initialisation; BatchNorm statistics are then
calibrated on the test images (train-mode forward passes) so activations are
neither flat nor exploding, and the class-score bias of the final head
convolutions is shifted so that a small fraction of anchors score above the
0.25 threshold. The detections are therefore arbitrary (the network is not
trained) but non-trivial and input dependent: boxes of different sizes and
places, masks of varied shapes, keypoints spread around each person box. That
is all a decoder test needs: the same numbers must come out of the C++
pipeline as out of the reference.

Reference settings: conf=0.25, iou=0.45, max_det=300 (the yolo manifest's
postprocessing), imgsz=640, retina_masks=True (masks at the original image
size, Ultralytics' ops.process_mask_native).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

SEED = 20260127
CONF = 0.25
IOU = 0.45
MAX_DET = 300
IMGSZ = 640
# (file, width, height, block): letterbox pads are whole prototype pixels for
# both. The second image is drawn at half size and every pixel repeated 2x2,
# so the 0.5x letterbox resize is exact in any bilinear implementation (it
# averages four equal pixels): our float resize and Ultralytics' uint8
# cv2.resize feed the network the very same tensor, and what is compared is
# the decoders, not the last bit of two resizers (to which an untrained
# network is far more sensitive than a trained one).
IMAGES = [("golden_street.png", 640, 480, 1), ("golden_portrait.png", 720, 1280, 2)]
# Fraction of anchors whose best class score is pushed above CONF.
TARGET_FRACTION = 0.001
BN_VAR_FLOOR = 0.01


def render_images(out: Path) -> list[Path]:
    """Fixed synthetic scenes: gradients, shapes, texture (seeded)."""
    import cv2

    rng = np.random.default_rng(SEED)
    paths = []
    for name, full_w, full_h, block in IMAGES:
        w, h = full_w // block, full_h // block
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        img = np.stack([90 + 80 * xx / w, 110 + 60 * yy / h, 140 + 40 * np.sin(xx / 37.0)], -1)
        # low-frequency texture (smooth, so the PNGs stay small)
        tex = cv2.resize(rng.normal(0, 12, (h // 40, w // 40, 3)).astype(np.float32), (w, h))
        img += tex
        img = np.clip(img, 0, 255).astype(np.uint8).copy()
        for _ in range(7):
            c = tuple(int(v) for v in rng.integers(0, 255, 3))
            x0, y0 = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
            x1, y1 = x0 + int(rng.integers(40, w // 3)), y0 + int(rng.integers(40, h // 3))
            if rng.random() < 0.5:
                cv2.rectangle(img, (x0, y0), (min(x1, w - 1), min(y1, h - 1)), c, -1)
            else:
                cv2.ellipse(img, ((x0 + x1) // 2, (y0 + y1) // 2), ((x1 - x0) // 2, (y1 - y0) // 2), 0, 0, 360, c, -1)
        # stick figures: limbs as thick lines
        for _ in range(2):
            cx, cy = int(rng.integers(w // 5, 4 * w // 5)), int(rng.integers(h // 4, 3 * h // 4))
            s = int(rng.integers(h // 10, h // 5))
            col = (30, 30, 30)
            cv2.circle(img, (cx, cy - s), s // 3, col, -1)
            cv2.line(img, (cx, cy - s), (cx, cy + s), col, max(2, s // 8))
            cv2.line(img, (cx, cy), (cx - s, cy - s // 2), col, max(2, s // 10))
            cv2.line(img, (cx, cy), (cx + s, cy - s // 2), col, max(2, s // 10))
            cv2.line(img, (cx, cy + s), (cx - s // 2, cy + 2 * s), col, max(2, s // 10))
            cv2.line(img, (cx, cy + s), (cx + s // 2, cy + 2 * s), col, max(2, s // 10))
        img = np.repeat(np.repeat(img, block, axis=0), block, axis=1)
        p = out / name
        cv2.imwrite(str(p), img)  # written as BGR, read back as RGB by both sides
        paths.append(p)
    return paths


def tiny_yaml(task: str, out: Path) -> Path:
    import ultralytics
    import yaml

    base = {"segment": "yolov8-seg.yaml", "pose": "yolov8-pose.yaml"}[task]
    d = yaml.safe_load((Path(ultralytics.__file__).parent / "cfg/models/v8" / base).read_text())
    d["scales"] = {"n": [0.33, 0.0625, 256]}
    d["reg_max"] = 4
    if task == "segment":
        d["nc"] = 3
    p = out / f"tiny-{base}"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    return p


def letterboxed_batch(paths: list[Path]):
    import cv2
    import torch
    from ultralytics.data.augment import LetterBox

    lb = LetterBox((IMGSZ, IMGSZ), auto=False)
    ims = []
    for p in paths:
        im = lb(image=cv2.imread(str(p)))[..., ::-1].transpose(2, 0, 1)
        ims.append(torch.from_numpy(np.ascontiguousarray(im)).float() / 255.0)
    return torch.stack(ims)


def first_tensor(y):
    """The [B, 4+nc+extra, N] head output of an eval-mode forward."""
    while isinstance(y, (list, tuple)):
        y = y[0]
    return y


def build(task: str, work: Path, images: list[Path]):
    import torch
    from ultralytics import YOLO

    torch.manual_seed(SEED + (0 if task == "segment" else 1))
    yolo = YOLO(str(tiny_yaml(task, work)), task=task)
    net = yolo.model
    x = letterboxed_batch(images)
    # Calibrate BatchNorm statistics on the test images.
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(x)
    net.eval()
    # A channel with almost no variance on these images would be amplified by
    # 1/sqrt(var): the untrained network would then turn the last-bit pixel
    # differences between resize implementations into visibly different
    # boxes. Real trained networks are not that sensitive; the floor keeps
    # this one comparable.
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.clamp_(min=BN_VAR_FLOOR)
    head = net.model[-1]
    nc = head.nc
    with torch.no_grad():
        y = first_tensor(net(x))
        best = y[:, 4 : 4 + nc].amax(1).double()  # [images, anchors]
        # The lowest per-image quantile: every image gets detections.
        q = min(torch.quantile(b, 1.0 - TARGET_FRACTION).item() for b in best)
        q = min(max(q, 1e-6), 1 - 1e-6)
        shift = math.log(CONF / (1 - CONF)) - math.log(q / (1 - q)) + 0.05
        for seq in head.cv3:
            seq[-1].bias += shift
        y = first_tensor(net(x))
        frac = (y[:, 4 : 4 + nc].amax(1) > CONF).float().mean().item()
    print(f"{task}: {sum(p.numel() for p in net.parameters())} parameters, "
          f"{100 * frac:.2f}% anchors above {CONF}", file=sys.stderr)
    return yolo


def export(yolo, task: str, out: Path) -> Path:
    f = yolo.export(format="onnx", opset=17, imgsz=IMGSZ, simplify=False, dynamic=False, half=False)
    name = {"segment": "yolov8-seg-golden.onnx", "pose": "yolov8-pose-golden.onnx"}[task]
    dst = out / name
    Path(f).replace(dst)
    return dst


def rle_full(mask: np.ndarray) -> list[int]:
    """Run lengths over the row-major array, starting with a run of 0s."""
    flat = mask.reshape(-1).astype(np.uint8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        runs = [0] + runs
    return [int(r) for r in runs]


def reference(onnx: Path, task: str, images: list[Path]) -> dict:
    from ultralytics import YOLO

    model = YOLO(str(onnx), task=task)
    doc = {
        "generator": "python/gen_golden_models.py",
        "reference": "ultralytics " + __import__("ultralytics").__version__ + " predictor on " + onnx.name,
        "settings": {"conf": CONF, "iou": IOU, "max_det": MAX_DET, "imgsz": IMGSZ, "retina_masks": True},
        "images": [],
    }
    for p in images:
        r = model.predict(str(p), imgsz=IMGSZ, conf=CONF, iou=IOU, max_det=MAX_DET, retina_masks=True,
                          verbose=False)[0]
        h, w = r.orig_shape
        dets = []
        boxes = r.boxes.xyxy.cpu().numpy()
        for i in range(len(boxes)):
            d = {"class_id": int(r.boxes.cls[i]), "score": float(r.boxes.conf[i]),
                 "box": [float(v) for v in boxes[i]]}
            if task == "segment":
                m = r.masks.data[i].cpu().numpy() > 0
                assert m.shape == (h, w), m.shape
                ys, xs = np.nonzero(m)
                x0, y0 = int(xs.min()), int(ys.min())
                win = m[y0 : int(ys.max()) + 1, x0 : int(xs.max()) + 1]
                # The mask is 0 outside this window (its nonzero bounding box).
                d["mask_area"] = int(m.sum())
                d["mask_window"] = [x0, y0, int(win.shape[1]), int(win.shape[0])]
                d["mask_rle"] = rle_full(win)
            else:
                k = r.keypoints.data[i].cpu().numpy()
                d["keypoints"] = [[float(a), float(b), float(c)] for a, b, c in k]
            dets.append(d)
        doc["images"].append({"file": p.name, "width": int(w), "height": int(h), "detections": dets})
        print(f"  {p.name}: {len(dets)} detections", file=sys.stderr)
    return doc


def dump(doc: dict) -> str:
    """Compact JSON, one image per line (the masks' run lengths are long)."""
    head = {k: v for k, v in doc.items() if k != "images"}
    lines = [json.dumps(im, separators=(",", ":")) for im in doc["images"]]
    return json.dumps(head, separators=(",", ":"))[:-1] + ',"images":[\n' + ",\n".join(lines) + "\n]}\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="output folder, e.g. tests/data/golden")
    args = ap.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".work"
    work.mkdir(exist_ok=True)
    images = render_images(out)
    for task in ("segment", "pose"):
        yolo = build(task, work, images)
        onnx = export(yolo, task, out)
        print(f"{onnx.name}: {onnx.stat().st_size} bytes", file=sys.stderr)
        doc = reference(onnx, task, images)
        name = {"segment": "yolov8_seg_reference.json", "pose": "yolov8_pose_reference.json"}[task]
        (out / name).write_text(dump(doc))
    for f in work.iterdir():
        f.unlink()
    work.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
