"""Code the golden-data generators share (python/gen_golden_*.py).

* The tiny Ultralytics YOLOv8 recipe (gen_golden_models.py: segment and pose;
  gen_golden_rtmpose.py: the one-class detect part): a width-0.0625,
  reg_max-4 variant of Ultralytics' own model yaml, seeded, BatchNorm
  calibrated on the test images, class bias shifted so that a small fraction
  of anchors scores above the confidence threshold, exported by Ultralytics'
  own ONNX exporter (opset 17, static shape).
* The depth references (gen_golden_depth.py, gen_golden_zoedepth.py): the
  golden images loaded as RGB, the legacy (TorchScript) ONNX export, the
  ONNX Runtime vs PyTorch check, the reference's full-size depth map sampled
  on a grid (every STRIDE-th pixel from OFFSET) and written as float32 .npy,
  one entry per image in the reference JSON, and the keep-aspect section
  (its head and the processor's input-size table).

Imports of torch / ultralytics happen inside the functions: importing this
module needs numpy only.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from pathlib import Path

import numpy as np

# ---------------------------------------------------------------- command line


def output_folder(doc: str) -> Path:
    """The generator's one argument, the output folder (created), resolved;
    the first paragraph of `doc` (the module docstring) is the --help text."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="output folder, e.g. tests/data/golden")
    out = ap.parse_args().out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    return out


@contextlib.contextmanager
def work_folder(path: Path):
    """A scratch folder (for yaml files and exporter leftovers), emptied and removed afterwards."""
    path.mkdir(exist_ok=True)
    yield path
    for f in path.iterdir():
        f.unlink()
    path.rmdir()


# ---------------------------------------------------------------- tiny YOLOv8

# Fraction of anchors whose best class score is pushed above the threshold.
TARGET_FRACTION = 0.001
BN_VAR_FLOOR = 0.01


def tiny_yolo_yaml(base: str, folder: Path, nc: int | None = None) -> Path:
    """Ultralytics' cfg/models/v8/<base> with width 0.0625, max_channels 256
    and reg_max 4 (and `nc` classes when given), written as tiny-<base>."""
    import ultralytics
    import yaml

    d = yaml.safe_load((Path(ultralytics.__file__).parent / "cfg/models/v8" / base).read_text())
    d["scales"] = {"n": [0.33, 0.0625, 256]}
    d["reg_max"] = 4
    if nc is not None:
        d["nc"] = nc
    p = folder / f"tiny-{base}"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    return p


def letterboxed_batch(paths: list[Path], imgsz: int):
    """The images as Ultralytics' predictor feeds them: LetterBox to imgsz, RGB, /255."""
    import cv2
    import torch
    from ultralytics.data.augment import LetterBox

    lb = LetterBox((imgsz, imgsz), auto=False)
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


def build_tiny_yolo(task: str, yaml_path: Path, seed: int, images: list[Path], conf: float, imgsz: int):
    """An Ultralytics YOLO of `yaml_path` for `task`, seeded with `seed`, with
    non-trivial weights for `images` (see gen_golden_models.py's docstring)."""
    import torch
    from ultralytics import YOLO

    torch.manual_seed(seed)
    yolo = YOLO(str(yaml_path), task=task)
    net = yolo.model
    x = letterboxed_batch(images, imgsz)
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
        shift = math.log(conf / (1 - conf)) - math.log(q / (1 - q)) + 0.05
        for seq in head.cv3:
            seq[-1].bias += shift
        y = first_tensor(net(x))
        frac = (y[:, 4 : 4 + nc].amax(1) > conf).float().mean().item()
    print(f"{task}: {sum(p.numel() for p in net.parameters())} parameters, "
          f"{100 * frac:.2f}% anchors above {conf}", file=sys.stderr)
    return yolo


def export_yolo_onnx(yolo, dst: Path, imgsz: int) -> Path:
    """Ultralytics' own ONNX exporter (opset 17, static imgsz x imgsz, fp32), moved to dst."""
    f = yolo.export(format="onnx", opset=17, imgsz=imgsz, simplify=False, dynamic=False, half=False)
    Path(f).replace(dst)
    return dst


# ---------------------------------------------------------------- test images


def draw_stick_figure(img: np.ndarray, cx: int, cy: int, s: int, col, body: int, limb: int) -> None:
    """A dark stick figure (head, body, arms, legs) of size s centred at (cx, cy),
    body line `body` and limb lines `limb` pixels thick (cv2, in place)."""
    import cv2

    cv2.circle(img, (cx, cy - s), s // 3, col, -1)
    cv2.line(img, (cx, cy - s), (cx, cy + s), col, body)
    cv2.line(img, (cx, cy), (cx - s, cy - s // 2), col, limb)
    cv2.line(img, (cx, cy), (cx + s, cy - s // 2), col, limb)
    cv2.line(img, (cx, cy + s), (cx - s // 2, cy + 2 * s), col, limb)
    cv2.line(img, (cx, cy + s), (cx + s // 2, cy + 2 * s), col, limb)


# ---------------------------------------------------------------- depth references


def onnx_session(onnx_path: Path, model):
    """Prints the exported file's size and the PyTorch model's parameter count;
    an ONNX Runtime CPU session of the file (to check the export against PyTorch)."""
    import onnxruntime as ort

    print(f"{onnx_path.name}: {onnx_path.stat().st_size} bytes, "
          f"{sum(p.numel() for p in model.parameters())} parameters", file=sys.stderr)
    return ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])


GRID_STRIDE = 4
GRID_OFFSET = 1


def depth_reference_doc(generator: str, reference: str, model: str) -> dict:
    """The reference JSON's head; depth images are appended by record_depth."""
    return {"generator": generator, "reference": reference, "model": model,
            "grid": {"offset": GRID_OFFSET, "stride": GRID_STRIDE}, "images": []}


def max_rel(ours: np.ndarray, ref: np.ndarray) -> float:
    """max |ours - ref| relative to ref's largest magnitude."""
    return float(np.abs(ours - ref).max() / np.abs(ref).max())


def load_rgb_images(folder: Path, names: list[str]) -> list:
    """The images `names` of `folder` as PIL RGB images."""
    from PIL import Image

    return [Image.open(folder / n).convert("RGB") for n in names]


def export_onnx(model, example, path: Path, input_name: str, output_name: str, dynamic_axes=None) -> None:
    """torch.onnx.export of `model` traced on `example` (one input tensor):
    opset 17, the legacy TorchScript exporter (dynamo=False), one named input
    and output, `dynamic_axes` as torch.onnx.export takes them (None: none)."""
    import torch

    kwargs = {} if dynamic_axes is None else {"dynamic_axes": dynamic_axes}
    torch.onnx.export(model, (example,), str(path), opset_version=17, input_names=[input_name],
                      output_names=[output_name], dynamo=False, **kwargs)


def onnx_vs_torch(sess, input_name: str, pixel_values, torch_depth: np.ndarray) -> tuple[np.ndarray, float]:
    """The ONNX Runtime session's output for `pixel_values` (a torch tensor)
    and its max_rel from PyTorch's `torch_depth` (the export check)."""
    onnx_depth = sess.run(None, {input_name: pixel_values.numpy()})[0]
    return onnx_depth, max_rel(onnx_depth, torch_depth)


def full_size_depth(post_processed: list, im) -> np.ndarray:
    """float32 predicted_depth of transformers' post_process_depth_estimation
    result (one image), checked to be the size of the PIL image `im`."""
    depth = post_processed[0]["predicted_depth"].numpy().astype(np.float32)
    assert depth.shape == (im.height, im.width), depth.shape
    return depth


# The keep-aspect references' (coarser) grid: every 8th pixel from 3.
KEEP_ASPECT_GRID = {"offset": 3, "stride": 8}


def keep_aspect_section(model: str, size: list[int], multiple_of: int) -> dict:
    """The reference JSON's `keep_aspect` section head; images are appended by
    record_depth(..., grid=KEEP_ASPECT_GRID), sizes by keep_aspect_sizes."""
    return {"model": model, "policy": {"size": size, "multiple_of": multiple_of},
            "grid": KEEP_ASPECT_GRID, "images": [], "sizes": []}


def keep_aspect_sizes(proc, table: list[tuple[int, int]], refused: tuple) -> list[dict]:
    """The processor's input size for a blank image of each (height, width) of
    `table`, computed by calling the processor itself; an image for which it
    raises one of `refused` is listed as refused."""
    from PIL import Image

    sizes = []
    for h, w in table:
        try:
            pv = proc(images=Image.new("RGB", (w, h)), return_tensors="pt")["pixel_values"]
        except refused:
            sizes.append({"height": h, "width": w, "refused": True})
            continue
        sizes.append({"height": h, "width": w, "input_height": int(pv.shape[2]), "input_width": int(pv.shape[3])})
    return sizes


def record_depth(out: Path, doc: dict, prefix: str, name: str, depth: np.ndarray, grid: dict | None = None,
                 **extra) -> dict:
    """Samples the full-size reference `depth` of image `name` on `grid`
    (default: the GRID_OFFSET/GRID_STRIDE one), writes them as
    <prefix>_<stem>.npy (float32) into out and appends the image's entry
    (size, `extra` keys, full-map min/max, samples) to doc."""
    offset, stride = (GRID_OFFSET, GRID_STRIDE) if grid is None else (grid["offset"], grid["stride"])
    height, width = depth.shape
    sample = np.ascontiguousarray(depth[offset::stride, offset::stride].astype(np.float32))
    npy = f"{prefix}_{Path(name).stem}.npy"
    np.save(out / npy, sample)
    entry = {"file": name, "width": width, "height": height, **extra,
             "min": float(depth.min()), "max": float(depth.max()), "samples": npy,
             "sample_shape": list(sample.shape)}
    doc["images"].append(entry)
    return entry


def write_reference(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, indent=1) + "\n")
