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

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import golden_common as gc  # noqa: E402

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
            gc.draw_stick_figure(img, cx, cy, s, (30, 30, 30), max(2, s // 8), max(2, s // 10))
        img = np.repeat(np.repeat(img, block, axis=0), block, axis=1)
        p = out / name
        cv2.imwrite(str(p), img)  # written as BGR, read back as RGB by both sides
        paths.append(p)
    return paths


def build(task: str, work: Path, images: list[Path]):
    base = {"segment": "yolov8-seg.yaml", "pose": "yolov8-pose.yaml"}[task]
    yaml_path = gc.tiny_yolo_yaml(base, work, nc=3 if task == "segment" else None)
    return gc.build_tiny_yolo(task, yaml_path, SEED + (0 if task == "segment" else 1), images, CONF, IMGSZ)


def export(yolo, task: str, out: Path) -> Path:
    name = {"segment": "yolov8-seg-golden.onnx", "pose": "yolov8-pose-golden.onnx"}[task]
    return gc.export_yolo_onnx(yolo, out / name, IMGSZ)


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
    out = gc.output_folder(__doc__)
    with gc.work_folder(out / ".work") as work:
        images = render_images(out)
        for task in ("segment", "pose"):
            yolo = build(task, work, images)
            onnx = export(yolo, task, out)
            print(f"{onnx.name}: {onnx.stat().st_size} bytes", file=sys.stderr)
            doc = reference(onnx, task, images)
            name = {"segment": "yolov8_seg_reference.json", "pose": "yolov8_pose_reference.json"}[task]
            (out / name).write_text(dump(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
