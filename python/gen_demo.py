#!/usr/bin/env python3
"""Writes AegisRT's demonstration detector and its demo images.

The detector is NOT a trained network. Its weights are constructed by hand so
that it really finds the objects in the generated demo images (saturated red
squares, green circles and blue triangles of different sizes on a noisy grey
background), and
it speaks YOLO v8's output layout so the C++ pipeline decodes it exactly like
an Ultralytics export:

  input  "images"  float32 [1, 3, 320, 320], RGB in [0, 1] (letterboxed, pad 114)
  output "output0" float32 [1, 4 + C, N]: cx, cy, w, h in input pixels, then one
                   score per class (no objectness), C = 3, N = 19200

How it works (all standard ONNX ops, opset 17):
  1. A 1x1 convolution + Clip + Mul turns each pixel into one soft mask per
     colour (red: r-g > 0.3 and r-b > 0.3, likewise green and blue).
  2. Per mask m it forms m, m*u, m*v, m*u^2, m*v^2 (u, v: pixel coordinates) and
     sums them over 8x8 cells (a 40x40 grid, stride 8 like YOLO's P3 head).
  3. For windows of K = 3, 5, 9, 15 cells centred on every cell (24..120 px), a
     second AveragePool gives the window sums; the centroid is E[u], E[v] and
     the box size comes from the variance, w = kx_c * sqrt(Var u) and
     h = ky_c * sqrt(Var v), with per-class constants (square sqrt(12), circle
     4, apex-up triangle sqrt(24) across and sqrt(18) down; a triangle's
     centroid lies h/6 below its box centre, which is corrected for).
  4. The score of a window is containment^12 * solidity^4 * gate:
     containment = mass in the window / mass in a window 8 px larger on every
     side (1 only when the whole object is inside and nothing of that colour is
     near), solidity = mass / (a_c * w * h) (1 for one whole object of the
     class's shape, low for two objects or a fragment), gate = enough mass.
  Each anchor belongs to one (class, scale, cell); its other class scores are 0.
  Every window that holds a whole object reports the same box, so NMS collapses
  them; fragments score low.

Also writes demo images (PNG; different sizes, one non-square so letterboxing
matters) and demo_ground_truth.json with every object's class and box in
original image pixels. `--verify` runs the model with ONNX's reference
evaluator (not ONNX Runtime), decodes + NMS in numpy and checks every ground
truth object is found with the right class and IoU > 0.8 and nothing else is.

Usage: gen_demo.py OUT_DIR [--images-dir DIR] [--verify]
  OUT_DIR gets demo.onnx; the images and demo_ground_truth.json go to
  --images-dir (default OUT_DIR).
Needs numpy and onnx only (scripts/requirements.txt).
"""
import argparse
import json
import math
import os
import struct
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
INPUT_SIZE = 320
CELL = 8
GRID = INPUT_SIZE // CELL
WINDOWS = (3, 5, 9, 15)  # in cells
# Must equal the `demo` variant's class_names in models/yolo/manifest.yaml.
CLASSES = ("red_square", "green_circle", "blue_triangle")
# Per class: w = KX * sqrt(Var x), h = KY * sqrt(Var y), area = A_AREA * w * h,
# box centre y = centroid y + Y_OFFSET * h.
KX = (math.sqrt(12.0), 4.0, math.sqrt(24.0))
KY = (math.sqrt(12.0), 4.0, math.sqrt(18.0))
A_AREA = (1.0, math.pi / 4.0, 0.5)
Y_OFFSET = (0.0, 0.0, -1.0 / 6.0)
PAD_VALUE = 114
COLOURS = {0: (220, 40, 35), 1: (40, 190, 60), 2: (35, 60, 215)}

# The demo scenes: (file name, width, height, [(class, cx, cy, w, h), ...]) in
# original image pixels; (cx, cy, w, h) is the shape's bounding box. Same-class objects are kept apart by more than the
# largest window so that no window holds two of them.
SCENES = (
    ("demo_shapes.png", 640, 480, [
        (0, 120, 110, 110, 110),
        (1, 330, 120, 120, 120),
        (2, 530, 130, 140, 130),
        (1, 130, 370, 80, 80),
        (0, 380, 360, 150, 150),
        (2, 560, 390, 90, 100),
    ]),
    ("demo_shapes_wide.png", 800, 400, [
        (0, 110, 200, 100, 100),
        (2, 330, 120, 150, 120),
        (1, 560, 230, 180, 180),
        (0, 720, 90, 60, 60),
        (2, 700, 320, 100, 90),
    ]),
    ("demo_shapes_square.png", 320, 320, [
        (1, 70, 70, 70, 70),
        (0, 230, 90, 70, 70),
        (2, 120, 235, 90, 90),
        (0, 260, 260, 40, 40),
    ]),
)


# --------------------------------------------------------------------------
# Images


def write_png(path, rgb):
    """Minimal PNG writer (8-bit RGB, no filter) so only numpy is needed."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data +
                struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def shape_coverage(cls, cx, cy, w, h, xs, ys):
    """Fraction of each pixel covered by the shape (4x4 supersampling)."""
    cover = np.zeros(xs.shape, dtype=np.float32)
    for oy in (0.125, 0.375, 0.625, 0.875):
        for ox in (0.125, 0.375, 0.625, 0.875):
            dx = (xs + ox - cx) / (w / 2.0)
            dy = (ys + oy - cy) / (h / 2.0)
            if cls == 0:  # square / rectangle
                inside = (np.abs(dx) <= 1) & (np.abs(dy) <= 1)
            elif cls == 1:  # circle / ellipse
                inside = dx * dx + dy * dy <= 1
            else:  # triangle, apex up: half-width grows linearly from apex to base
                t = (dy + 1) / 2
                inside = (t >= 0) & (t <= 1) & (np.abs(dx) <= t)
            cover += inside
    return cover / 16.0


def render_scene(width, height, objects, seed):
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), 128.0, dtype=np.float32)
    # A gentle gradient and sensor-like noise so the background is not flat.
    img += np.linspace(-12, 12, width, dtype=np.float32)[None, :, None]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    for cls, cx, cy, w, h in objects:
        cover = shape_coverage(cls, cx, cy, w, h, xs, ys)[..., None]
        colour = np.array(COLOURS[cls], dtype=np.float32)
        img = img * (1 - cover) + colour * cover
    img += rng.normal(0.0, 8.0, img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------
# The model


def build_model():
    nodes, inits = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def i64(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.int64), name))
        return name

    def node(op, inputs, output, **attrs):
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    # 1. Colour masks: six differences (r-g, r-b, g-r, g-b, b-r, b-g), each
    #    10*(d) - 3 clipped to [0, 1]; a colour's mask is the product of its two.
    # Rows 0-2 are the first condition of red, green, blue; rows 3-5 the second.
    diff = np.array([[1, -1, 0], [-1, 1, 0], [-1, 0, 1], [1, 0, -1], [0, 1, -1], [0, -1, 1]],
                    dtype=np.float32)
    node("Conv", ["images", const("colour_w", (10.0 * diff)[:, :, None, None]),
                  const("colour_b", np.full(6, -3.0))], "colour_lin")
    node("Clip", ["colour_lin", const("zero", 0.0), const("one", 1.0)], "colour_cl")
    nodes.append(helper.make_node("Split", ["colour_cl", i64("split_3_3", [3, 3])],
                                  ["cond_a", "cond_b"], axis=1))
    node("Mul", ["cond_a", "cond_b"], "mask")  # [1,3,H,W]

    # 2. Moment channels with centred, normalised coordinates u, v in [-0.5, 0.5).
    coord = (np.arange(INPUT_SIZE, dtype=np.float32) + 0.5) / INPUT_SIZE - 0.5
    u = np.broadcast_to(coord[None, :], (INPUT_SIZE, INPUT_SIZE))[None, None]
    v = np.broadcast_to(coord[:, None], (INPUT_SIZE, INPUT_SIZE))[None, None]
    node("Mul", ["mask", const("u", u)], "mu")
    node("Mul", ["mask", const("v", v)], "mv")
    node("Mul", ["mu", "u"], "muu")
    node("Mul", ["mv", "v"], "mvv")
    node("Concat", ["mask", "mu", "mv", "muu", "mvv"], "moments", axis=1)  # [1,15,H,W]
    node("AveragePool", ["moments"], "cells", kernel_shape=[CELL, CELL], strides=[CELL, CELL])

    eps = const("eps", 1e-6)
    cont_power = const("cont_power", 12.0)
    four = const("four", 4.0)
    eye = const("eye", np.eye(3, dtype=np.float32)[None, :, :, None, None])  # [1,3,3,1,1]
    per_class = lambda name, values: const(  # noqa: E731
        name, np.array(values, dtype=np.float32)[None, :, None, None])
    kx = per_class("kx", [k * INPUT_SIZE for k in KX])
    ky = per_class("ky", [k * INPUT_SIZE for k in KY])
    y_offset = per_class("y_offset", Y_OFFSET)
    a_area = per_class("a_area", A_AREA)
    half = const("half_input", INPUT_SIZE / 2.0)
    size = const("input_size", float(INPUT_SIZE))

    def channels(src, start, out):
        return node("Slice", [src, i64(out + "_s", [start]), i64(out + "_e", [start + 3]),
                              i64(out + "_a", [1])], out)

    per_scale = []
    for k in WINDOWS:
        p = f"k{k}_"
        node("AveragePool", ["cells"], p + "win", kernel_shape=[k, k], pads=[k // 2] * 4,
             count_include_pad=1)
        ko = k + 2
        node("AveragePool", [channels("cells", 0, p + "cmask")], p + "outer",
             kernel_shape=[ko, ko], pads=[ko // 2] * 4, count_include_pad=1)
        # Window sums in pixels: avg over cells * cell area * cells per window.
        node("Mul", [channels(p + "win", 0, p + "avg_m"), const(p + "px", CELL * CELL * k * k)],
             p + "mass")
        node("Mul", [p + "outer", const(p + "pxo", CELL * CELL * ko * ko)], p + "mass_o")
        node("Add", [p + "avg_m", eps], p + "den")
        node("Div", [channels(p + "win", 3, p + "s_u"), p + "den"], p + "eu")
        node("Div", [channels(p + "win", 6, p + "s_v"), p + "den"], p + "ev")
        node("Div", [channels(p + "win", 9, p + "s_uu"), p + "den"], p + "euu")
        node("Div", [channels(p + "win", 12, p + "s_vv"), p + "den"], p + "evv")
        node("Mul", [p + "eu", p + "eu"], p + "eu2")
        node("Mul", [p + "ev", p + "ev"], p + "ev2")
        node("Sub", [p + "euu", p + "eu2"], p + "varu_raw")
        node("Sub", [p + "evv", p + "ev2"], p + "varv_raw")
        node("Relu", [p + "varu_raw"], p + "varu")
        node("Relu", [p + "varv_raw"], p + "varv")
        node("Sqrt", [p + "varu"], p + "sdu")
        node("Sqrt", [p + "varv"], p + "sdv")
        node("Mul", [p + "sdu", kx], p + "w")  # [1,3,G,G] pixels
        node("Mul", [p + "sdv", ky], p + "h")
        node("Mul", [p + "eu", size], p + "cx0")
        node("Add", [p + "cx0", half], p + "cx")
        node("Mul", [p + "ev", size], p + "cy0")
        node("Add", [p + "cy0", half], p + "cy_c")
        node("Mul", [p + "h", y_offset], p + "cy_off")
        node("Add", [p + "cy_c", p + "cy_off"], p + "cy")
        # Score terms.
        node("Add", [p + "mass_o", eps], p + "mo_eps")
        node("Div", [p + "mass", p + "mo_eps"], p + "cont")
        node("Pow", [p + "cont", cont_power], p + "cont_p")
        node("Mul", [p + "w", p + "h"], p + "wh")
        node("Mul", [p + "wh", a_area], p + "pred")
        node("Add", [p + "pred", eps], p + "pred_eps")
        node("Div", [p + "mass", p + "pred_eps"], p + "sol")
        node("Add", [p + "sol", eps], p + "sol_eps")
        node("Reciprocal", [p + "sol_eps"], p + "inv_sol")
        node("Min", [p + "sol", p + "inv_sol"], p + "sym")
        node("Pow", [p + "sym", four], p + "sym_p")
        node("Sub", [p + "mass", const(p + "min_mass", 24.0)], p + "gate0")
        node("Div", [p + "gate0", const(p + "gate_den", 24.0)], p + "gate1")
        node("Clip", [p + "gate1", "zero", "one"], p + "gate")
        node("Mul", [p + "cont_p", p + "sym_p"], p + "score0")
        node("Mul", [p + "score0", p + "gate"], p + "score")  # [1,3,G,G]
        # Boxes [1,4,3*G*G]; scores one-hot over classes [1,3,3*G*G].
        node("Concat", [p + "cx", p + "cy", p + "w", p + "h"], p + "box_cat", axis=0)  # [4,3,G,G]
        node("Reshape", [p + "box_cat", i64(p + "box_shape", [1, 4, 3 * GRID * GRID])], p + "box")
        node("Unsqueeze", [p + "score", i64(p + "ax1", [1])], p + "score_u")  # [1,1,3,G,G]
        node("Mul", [p + "score_u", eye], p + "score_eye")  # [1,3,3,G,G]
        node("Reshape", [p + "score_eye", i64(p + "sc_shape", [1, 3, 3 * GRID * GRID])],
             p + "cls")
        node("Concat", [p + "box", p + "cls"], p + "out", axis=1)
        per_scale.append(p + "out")
    node("Concat", per_scale, "output0", axis=2)

    n = len(WINDOWS) * 3 * GRID * GRID
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, INPUT_SIZE, INPUT_SIZE])
    y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + len(CLASSES), n])
    graph = helper.make_graph(nodes, "aegisrt_demo_detector", [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="aegisrt gen_demo.py")
    model.ir_version = 8
    names = {str(i): c for i, c in enumerate(CLASSES)}
    meta = {"names": json.dumps(names), "imgsz": f"[{INPUT_SIZE}, {INPUT_SIZE}]",
            "description": "AegisRT demonstration detector with constructed weights "
                           "(colour shapes); not a trained model"}
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    return model


# --------------------------------------------------------------------------
# Reference letterbox / decode / NMS in numpy (used by --verify only)


def resize_bilinear(img, new_w, new_h):
    """Bilinear resize with half-pixel centres (OpenCV INTER_LINEAR's convention)."""
    h, w, _ = img.shape
    sx, sy = w / new_w, h / new_h
    x = np.clip((np.arange(new_w) + 0.5) * sx - 0.5, 0, w - 1)
    y = np.clip((np.arange(new_h) + 0.5) * sy - 0.5, 0, h - 1)
    x0 = np.floor(x).astype(int)
    y0 = np.floor(y).astype(int)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    fx = (x - x0)[None, :, None]
    fy = (y - y0)[:, None, None]
    f = img.astype(np.float32)
    top = f[y0][:, x0] * (1 - fx) + f[y0][:, x1] * fx
    bot = f[y1][:, x0] * (1 - fx) + f[y1][:, x1] * fx
    return top * (1 - fy) + bot * fy


def letterbox(img, size=INPUT_SIZE):
    h, w, _ = img.shape
    scale = min(size / w, size / h)
    new_w, new_h = int(round(w * scale)), int(round(h * scale))
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    canvas = np.full((size, size, 3), float(PAD_VALUE), dtype=np.float32)
    canvas[pad_y:pad_y + new_h, pad_x:pad_x + new_w] = resize_bilinear(img, new_w, new_h)
    blob = (canvas / 255.0).transpose(2, 0, 1)[None].astype(np.float32)
    return blob, scale, pad_x, pad_y


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def decode(output, scale, pad_x, pad_y, conf=0.25, iou_thr=0.45):
    pred = output[0].T  # [N, 4+C]
    cls = pred[:, 4:].argmax(1)
    score = pred[:, 4:].max(1)
    keep = score >= conf
    dets = []
    for (cx, cy, w, h), c, s in zip(pred[keep, :4], cls[keep], score[keep]):
        box = [(cx - w / 2 - pad_x) / scale, (cy - h / 2 - pad_y) / scale,
               (cx + w / 2 - pad_x) / scale, (cy + h / 2 - pad_y) / scale]
        dets.append((float(s), int(c), box))
    dets.sort(key=lambda d: -d[0])
    kept = []
    for d in dets:
        if all(k[1] != d[1] or iou(k[2], d[2]) <= iou_thr for k in kept):
            kept.append(d)
    return kept


def verify(model, out_dir, truth):
    from onnx.reference import ReferenceEvaluator

    ev = ReferenceEvaluator(model)
    ok = True
    for entry in truth["images"]:
        rgb = read_png_rgb(os.path.join(out_dir, entry["file"]))
        blob, scale, pad_x, pad_y = letterbox(rgb)
        (out,) = ev.run(None, {"images": blob})
        dets = decode(out, scale, pad_x, pad_y)
        matched = set()
        for obj in entry["objects"]:
            best = max(((iou(d[2], obj["box"]), i) for i, d in enumerate(dets)
                        if d[1] == obj["class_id"]), default=(0.0, -1))
            status = "ok" if best[0] > 0.8 else "MISSED"
            if best[0] <= 0.8:
                ok = False
            else:
                matched.add(best[1])
            print(f"  {entry['file']}: {obj['class_name']:>14} iou={best[0]:.3f} {status}")
        extra = [d for i, d in enumerate(dets) if i not in matched]
        for s, c, box in extra:
            ok = False
            print(f"  {entry['file']}: EXTRA {CLASSES[c]} score={s:.3f} box={np.round(box, 1)}")
    return ok


def read_png_rgb(path):
    """Reads back the PNGs this script writes (8-bit RGB, filter 0)."""
    data = open(path, "rb").read()
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if tag == b"IHDR":
            w, h = struct.unpack(">II", body[:8])
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + 3 * w)
    return raw[:, 1:].reshape(h, w, 3)


# --------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", help="folder for demo.onnx")
    parser.add_argument("--images-dir", help="folder for the images and ground truth (default: out_dir)")
    parser.add_argument("--verify", action="store_true",
                        help="check the model on the images with onnx.reference (slow)")
    args = parser.parse_args()
    images_dir = args.images_dir or args.out_dir
    os.makedirs(args.out_dir, exist_ok=True)
    os.makedirs(images_dir, exist_ok=True)

    model = build_model()
    onnx.save(model, os.path.join(args.out_dir, "demo.onnx"))

    truth = {"model": "demo.onnx", "classes": list(CLASSES), "box_format": "xyxy_pixels",
             "images": []}
    for seed, (name, width, height, objects) in enumerate(SCENES):
        write_png(os.path.join(images_dir, name), render_scene(width, height, objects, seed))
        truth["images"].append({
            "file": name, "width": width, "height": height,
            "objects": [{"class_id": c, "class_name": CLASSES[c],
                         "box": [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]}
                        for c, cx, cy, w, h in objects]})
    with open(os.path.join(images_dir, "demo_ground_truth.json"), "w") as f:
        json.dump(truth, f, indent=2)
    print(f"wrote {os.path.join(args.out_dir, 'demo.onnx')} and {len(SCENES)} images + "
          f"demo_ground_truth.json to {images_dir}")

    if args.verify:
        if not verify(model, images_dir, truth):
            print("verification FAILED", file=sys.stderr)
            return 1
        print("verification passed: every object found (class + IoU > 0.8), nothing extra")
    return 0


if __name__ == "__main__":
    sys.exit(main())
