#!/usr/bin/env python3
"""Golden Depth Anything V2 model and reference depth for the pipeline's depth decoder.

Builds an architecture-faithful tiny Depth Anything V2 WITH THE REFERENCE CODE
(PyPI `transformers`: DepthAnythingForDepthEstimation with a small Dinov2
backbone: DINOv2 patch-14 ViT encoder, DPT reassemble/fusion neck, relative
depth head ending in ReLU), exports it to ONNX (opset 17, fixed 518x518 input
named `image`, output `depth` [1, 518, 518]: the I/O contract of the catalog's
depth_anything manifest), and records transformers' own end-to-end result on
the committed golden test images (tests/data/golden/golden_*.png, made by
python/gen_golden_models.py):

  pre-processing  transformers' DPTImageProcessorPil (the PIL backend of the
                  Depth Anything image processor): PIL bicubic resize of the
                  uint8 RGB image to 518x518, x/255, ImageNet mean/std;
  model           the PyTorch model (not the ONNX file);
  post-processing post_process_depth_estimation(target_sizes=[(h, w)]):
                  torch bicubic interpolation (align_corners=False) back to
                  the image size.

Pillow version: the generator requires Pillow < 13 (scripts/requirements-golden.txt
pins 12.3.0). Up to 12.x Pillow's Resample.c always resizes horizontally first,
then vertically, with a uint8 image in between; the pipeline implements exactly
that (vision::resize_bicubic). Pillow 13 resizes vertically first when the
height shrinks much more than the width (python-pillow/Pillow#9549), which
moves some pixels by a few grey levels (e.g. 720x1280 -> 518x518).

Fixed size, not the reference's aspect-keeping policy: the catalog's export
(models/depth_anything/manifest.yaml, `source.export`) has a fixed 518x518
input, so the reference is run at that size (keep_aspect_ratio=False); the
processor's own default (keep aspect, multiple of 14) needs an export with
dynamic height/width, which the pipeline does not feed yet (docs/PIPELINE.md).

Outputs (tests/data/golden):
  depth-anything-v2-golden.onnx   the tiny model
  depth_anything_reference.json   per image: size, full-map min/max, and the
                                  sampling grid of the .npy
  depth_anything_<image>.npy      float32 reference depth at every 4th pixel
                                  (rows 1,5,9,..., columns 1,5,9,...), which
                                  keeps the committed files small

Run (PyTorch + transformers, generator only; see scripts/deps/50-golden-generator.sh):
    .venv/bin/python python/gen_golden_depth.py tests/data/golden
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import golden_common as gc  # noqa: E402

SEED = 20261127
SIZE = 518
IMAGES = ["golden_street.png", "golden_portrait.png"]
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def build_model():
    import torch
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    torch.manual_seed(SEED)
    backbone = Dinov2Config(image_size=SIZE, patch_size=14, hidden_size=32, num_hidden_layers=4,
                            num_attention_heads=2, intermediate_size=64, out_indices=[1, 2, 3, 4],
                            reshape_hidden_states=False, apply_layernorm=True)
    cfg = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=32,
                              neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16,
                              head_hidden_size=8, depth_estimation_type="relative")
    return DepthAnythingForDepthEstimation(cfg).eval()


def processor():
    from transformers.models.dpt.image_processing_pil_dpt import DPTImageProcessorPil

    return DPTImageProcessorPil(size={"height": SIZE, "width": SIZE}, keep_aspect_ratio=False,
                                ensure_multiple_of=14, resample=3, do_rescale=True, rescale_factor=1 / 255,
                                do_normalize=True, image_mean=MEAN, image_std=STD)


def calibrate(model, pixel_values) -> None:
    """Scale the head's last convolution so the (ReLU) depth is O(1), varied
    and mostly positive on the test images: seeded default initialisation
    alone gives values around 1e-7."""
    import torch

    head = model.head
    captured = {}
    h = head.conv3.register_forward_hook(lambda m, i, o: captured.__setitem__("pre", o.detach()))
    with torch.no_grad():
        model(pixel_values=pixel_values)
    h.remove()
    pre = captured["pre"]
    mean, std = pre.mean().item(), pre.std().item()
    with torch.no_grad():
        head.conv3.weight /= std
        head.conv3.bias.copy_((head.conv3.bias - mean) / std + 2.5)


def main() -> int:
    import torch
    from PIL import Image
    import transformers

    import PIL

    if int(PIL.__version__.split(".")[0]) >= 13:
        sys.exit(f"Pillow {PIL.__version__}: the reference needs Pillow < 13 (horizontal pass first; "
                 "see the module docstring); install scripts/requirements-golden.txt")
    out = gc.output_folder(__doc__)
    proc = processor()
    model = build_model()
    images = [Image.open(out / f).convert("RGB") for f in IMAGES]
    batch = torch.cat([proc(images=im, return_tensors="pt")["pixel_values"] for im in images])
    calibrate(model, batch)

    onnx_path = out / "depth-anything-v2-golden.onnx"
    torch.onnx.export(model, (torch.zeros(1, 3, SIZE, SIZE),), str(onnx_path), opset_version=17,
                      input_names=["image"], output_names=["depth"], dynamo=False)
    sess = gc.onnx_session(onnx_path, model)
    doc = gc.depth_reference_doc(
        "python/gen_golden_depth.py",
        f"transformers {transformers.__version__} DPTImageProcessorPil (Pillow {PIL.__version__}) (PIL bicubic to "
        f"{SIZE}x{SIZE}, ImageNet mean/std) + DepthAnythingForDepthEstimation (PyTorch "
        f"{torch.__version__}) + post_process_depth_estimation (bicubic to the image size)",
        onnx_path.name)
    for name, im in zip(IMAGES, images):
        pv = proc(images=im, return_tensors="pt")["pixel_values"]
        with torch.no_grad():
            outputs = model(pixel_values=pv)
        depth = proc.post_process_depth_estimation(outputs, target_sizes=[(im.height, im.width)])[0]
        depth = depth["predicted_depth"].numpy().astype(np.float32)
        assert depth.shape == (im.height, im.width), depth.shape
        onnx_depth = sess.run(None, {"image": pv.numpy()})[0]
        err = np.abs(onnx_depth - outputs.predicted_depth.numpy()).max() / np.abs(onnx_depth).max()
        gc.record_depth(out, doc, "depth_anything", name, depth)
        print(f"  {name}: depth {depth.min():.4f}..{depth.max():.4f} (std {depth.std():.4f}, "
              f"{100 * (depth <= 0).mean():.2f}% <= 0); ONNX vs PyTorch max rel {err:.2e}", file=sys.stderr)
    gc.write_reference(out / "depth_anything_reference.json", doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
