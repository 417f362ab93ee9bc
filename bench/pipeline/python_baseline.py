#!/usr/bin/env python3
"""The Python pipeline users run today, as the baseline for AegisRT's C++ one.

Same steps as `aegisrt bench`/`aegisrt run` on a YOLO v8-layout detector, with
the usual wheels: OpenCV (opencv-python-headless) decodes the file and
letterboxes, numpy normalises to a CHW float blob, onnxruntime runs the model,
numpy decodes [1, 4+C, N] and cv2.dnn.NMSBoxesBatched does class-aware NMS,
boxes are mapped back to the original image.

Usage:
  python_baseline.py --onnx demo.onnx --input IMG|DIR [--iterations N]
                     [--warmup N] [--threads T] [--provider cpu|cuda] [--json]
--provider cuda runs the model on onnxruntime-gpu's CUDAExecutionProvider
(TF32 off, as AegisRT's fp32 selection) with numpy inputs/outputs, as a user
script does (sess.run copies the blob to the GPU and the output back).
Prints images/s and the mean time per stage (decode, pre, execute, post).
"""
import argparse
import json
import os
import sys
import time

import cv2
import numpy as np
import onnxruntime as ort


def letterbox(img, size, pad_value):
    h, w = img.shape[:2]
    scale = min(size[1] / w, size[0] / h)
    new_w, new_h = int(round(w * scale)), int(round(h * scale))
    pad_x, pad_y = (size[1] - new_w) // 2, (size[0] - new_h) // 2
    resized = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    out = cv2.copyMakeBorder(resized, pad_y, size[0] - new_h - pad_y, pad_x,
                             size[1] - new_w - pad_x, cv2.BORDER_CONSTANT,
                             value=(pad_value, pad_value, pad_value))
    return out, scale, pad_x, pad_y


def preprocess(bgr, size, pad_value):
    boxed, scale, pad_x, pad_y = letterbox(bgr, size, pad_value)
    rgb = cv2.cvtColor(boxed, cv2.COLOR_BGR2RGB)
    blob = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32) * (1.0 / 255.0)
    return blob, scale, pad_x, pad_y


def postprocess(output, scale, pad_x, pad_y, width, height, conf, iou, max_det):
    pred = output[0].T  # [N, 4 + C]
    scores = pred[:, 4:]
    cls = scores.argmax(1)
    best = scores[np.arange(len(cls)), cls]
    keep = best >= conf
    boxes, best, cls = pred[keep, :4], best[keep], cls[keep]
    if len(best) == 0:
        return []
    xywh = np.empty_like(boxes)
    xywh[:, 0] = boxes[:, 0] - boxes[:, 2] / 2
    xywh[:, 1] = boxes[:, 1] - boxes[:, 3] / 2
    xywh[:, 2:] = boxes[:, 2:]
    # OpenCV's top_k caps the candidates *entering* NMS; max_det is applied after.
    idx = cv2.dnn.NMSBoxesBatched(xywh.tolist(), best.tolist(), cls.tolist(), conf, iou)
    dets = []
    for i in np.asarray(idx).reshape(-1)[:max_det]:
        x, y, w, h = xywh[i]
        x1 = float(np.clip((x - pad_x) / scale, 0, width))
        y1 = float(np.clip((y - pad_y) / scale, 0, height))
        x2 = float(np.clip((x + w - pad_x) / scale, 0, width))
        y2 = float(np.clip((y + h - pad_y) / scale, 0, height))
        dets.append((int(cls[i]), float(best[i]), x1, y1, x2, y2))
    return dets


def list_images(path):
    if os.path.isdir(path):
        return sorted(os.path.join(path, f) for f in os.listdir(path)
                      if f.lower().endswith((".png", ".jpg", ".jpeg")))
    return [path]


def main():
    ap = argparse.ArgumentParser(description="Python (onnxruntime + OpenCV) pipeline baseline")
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--input", required=True, help="image file or folder")
    ap.add_argument("--iterations", type=int, default=50, help="timed images")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="ORT intra-op threads (0 = default)")
    ap.add_argument("--conf", type=float, default=0.25)
    ap.add_argument("--iou", type=float, default=0.45)
    ap.add_argument("--max-det", type=int, default=300)
    ap.add_argument("--pad", type=int, default=114)
    ap.add_argument("--provider", choices=("cpu", "cuda"), default="cpu",
                    help="onnxruntime execution provider (cuda: onnxruntime-gpu)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    images = list_images(args.input)
    if not images:
        print(f"error: no .png/.jpg images in {args.input}", file=sys.stderr)
        return 3
    opts = ort.SessionOptions()
    if args.threads > 0:
        opts.intra_op_num_threads = args.threads
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    t0 = time.perf_counter()
    if args.provider == "cuda":
        providers = [("CUDAExecutionProvider", {"device_id": 0, "use_tf32": 0}), "CPUExecutionProvider"]
    else:
        providers = ["CPUExecutionProvider"]
    sess = ort.InferenceSession(args.onnx, opts, providers=providers)
    load_s = time.perf_counter() - t0
    if args.provider == "cuda" and sess.get_providers()[0] != "CUDAExecutionProvider":
        print(f"error: CUDAExecutionProvider is not active (providers: {sess.get_providers()}; "
              f"available: {ort.get_available_providers()})", file=sys.stderr)
        return 4
    inp = sess.get_inputs()[0]
    size = (inp.shape[2], inp.shape[3])

    stages = {"decode": [], "pre": [], "execute": [], "post": [], "total": []}
    n_dets = 0
    for i in range(args.warmup + args.iterations):
        path = images[i % len(images)]
        t0 = time.perf_counter()
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        if bgr is None:
            print(f"error: cannot decode image {path}", file=sys.stderr)
            return 4
        t1 = time.perf_counter()
        blob, scale, pad_x, pad_y = preprocess(bgr, size, args.pad)
        t2 = time.perf_counter()
        (out,) = sess.run(None, {inp.name: blob})
        t3 = time.perf_counter()
        dets = postprocess(out, scale, pad_x, pad_y, bgr.shape[1], bgr.shape[0], args.conf,
                           args.iou, args.max_det)
        t4 = time.perf_counter()
        if i >= args.warmup:
            for k, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0)):
                stages[k].append(seconds * 1000.0)
            n_dets += len(dets)

    total_s = sum(stages["total"]) / 1000.0
    result = {
        "impl": "python",
        "provider": args.provider,
        "onnxruntime": ort.__version__,
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "images": len(images),
        "iterations": args.iterations,
        "load_ms": load_s * 1000.0,
        "images_per_s": args.iterations / total_s if total_s > 0 else 0.0,
        "mean_ms": {k: float(np.mean(v)) for k, v in stages.items()},
        "p50_ms": float(np.percentile(stages["total"], 50)),
        "p99_ms": float(np.percentile(stages["total"], 99)),
        "detections_per_image": n_dets / max(1, args.iterations),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        m = result["mean_ms"]
        print(f"python baseline: {result['images_per_s']:.1f} images/s "
              f"(decode {m['decode']:.2f} ms, pre {m['pre']:.2f} ms, execute {m['execute']:.2f} ms, "
              f"post {m['post']:.2f} ms; {result['detections_per_image']:.1f} detections/image)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
