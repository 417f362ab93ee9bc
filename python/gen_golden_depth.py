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

Two exports of the same weights:
  fixed size      518x518 (the catalog's fixed export): the reference is run
                  at that size (keep_aspect_ratio=False), and the pipeline
                  stretches every image to it;
  dynamic size    batch/height/width axes dynamic (the catalog's `source.export`):
                  the reference is the processor's own default policy,
                  keep_aspect_ratio=True, ensure_multiple_of=14 (scale as
                  little as possible so one side becomes 518, each side
                  rounded to the nearest multiple of 14, half to even), which
                  the pipeline applies per image (input.preprocessing.keep_aspect,
                  docs/PIPELINE.md). Its section of the reference JSON
                  (`keep_aspect`) also holds a table of the processor's
                  input size for several odd image sizes, computed by
                  calling the processor itself.

Outputs (tests/data/golden):
  depth-anything-v2-golden.onnx   the tiny model
  depth_anything_reference.json   per image: size, full-map min/max, and the
                                  sampling grid of the .npy
  depth_anything_<image>.npy      float32 reference depth at every 4th pixel
                                  (rows 1,5,9,..., columns 1,5,9,...), which
                                  keeps the committed files small
  depth-anything-v2-golden-dynamic.onnx   the same weights, dynamic batch/height/width
  depth_anything_keep_aspect_<image>.npy  keep-aspect reference depth at every
                                  8th pixel (rows 3,11,..., the `keep_aspect.grid`)

Run (PyTorch + transformers, generator only; see scripts/deps/50-golden-generator.sh):
    .venv/bin/python python/gen_golden_depth.py tests/data/golden
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import golden_common as gc  # noqa: E402

SEED = 20261127
SIZE = 518
IMAGES = ["golden_street.png", "golden_portrait.png"]
# (height, width) of images whose keep-aspect input size the processor reports
# (the C++ size function is tested against this table): landscape, portrait,
# square, tiny, huge, ties of the rounding and of the "scale as little as
# possible" choice.
SIZE_TABLE = [(480, 640), (1280, 720), (2560, 1920), (518, 518), (517, 519), (100, 37), (37, 100),
              (333, 777), (777, 333), (1000, 60), (60, 1000), (259, 518), (21, 21), (7, 7), (4000, 3000),
              (3000, 4000), (1037, 1036), (545, 999), (14, 2000)]
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


def processor(keep_aspect_ratio: bool = False):
    """keep_aspect_ratio=True: the Depth Anything processor's own policy
    (keep_aspect_ratio true, ensure_multiple_of 14, size 518x518, bicubic, as
    the brief of this change gives depth-anything/Depth-Anything-V2-*-hf's
    preprocessor_config.json; not re-read here, no network)."""
    from transformers.models.dpt.image_processing_pil_dpt import DPTImageProcessorPil

    return DPTImageProcessorPil(size={"height": SIZE, "width": SIZE}, keep_aspect_ratio=keep_aspect_ratio,
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
    import transformers

    import PIL

    if int(PIL.__version__.split(".")[0]) >= 13:
        sys.exit(f"Pillow {PIL.__version__}: the reference needs Pillow < 13 (horizontal pass first; "
                 "see the module docstring); install scripts/requirements-golden.txt")
    out = gc.output_folder(__doc__)
    proc = processor()
    model = build_model()
    images = gc.load_rgb_images(out, IMAGES)
    batch = torch.cat([proc(images=im, return_tensors="pt")["pixel_values"] for im in images])
    calibrate(model, batch)

    onnx_path = out / "depth-anything-v2-golden.onnx"
    gc.export_onnx(model, torch.zeros(1, 3, SIZE, SIZE), onnx_path, "image", "depth")
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
        depth = gc.full_size_depth(proc.post_process_depth_estimation(outputs, target_sizes=[(im.height, im.width)]),
                                   im)
        _, err = gc.onnx_vs_torch(sess, "image", pv, outputs.predicted_depth.numpy())
        gc.record_depth(out, doc, "depth_anything", name, depth)
        print(f"  {name}: depth {depth.min():.4f}..{depth.max():.4f} (std {depth.std():.4f}, "
              f"{100 * (depth <= 0).mean():.2f}% <= 0); ONNX vs PyTorch max rel {err:.2e}", file=sys.stderr)
    doc["keep_aspect"] = keep_aspect_reference(out, model, images)
    gc.write_reference(out / "depth_anything_reference.json", doc)
    return 0


@contextlib.contextmanager
def traceable_head(model):
    """transformers' DepthAnythingDepthEstimationHead upsamples to
    (int(patch_height * 14), int(patch_width * 14)); under the ONNX tracer the
    int() turns the traced size into a constant, and the export's output
    would stay 518x518 whatever the input size. While exporting, the head
    runs the same code with the size kept symbolic (transformers' torch_int);
    the computation is unchanged (the ONNX run is checked against PyTorch)."""
    from torch import nn
    from transformers.utils import torch_int

    head = model.head

    def forward(hidden_states, patch_height, patch_width):
        x = head.conv1(hidden_states[head.head_in_index])
        x = nn.functional.interpolate(x, (torch_int(patch_height * head.patch_size),
                                          torch_int(patch_width * head.patch_size)),
                                      mode="bilinear", align_corners=True)
        x = head.activation2(head.conv3(head.activation1(head.conv2(x)))) * head.max_depth
        return x.squeeze(dim=1)

    head.forward = forward
    try:
        yield
    finally:
        del head.forward


def keep_aspect_reference(out: Path, model, images) -> dict:
    """The same weights exported with dynamic height/width, and transformers'
    end-to-end result with the processor's keep-aspect default on the golden
    images, plus the processor's input size for SIZE_TABLE."""
    import torch

    proc = processor(keep_aspect_ratio=True)
    onnx_path = out / "depth-anything-v2-golden-dynamic.onnx"
    with traceable_head(model):
        gc.export_onnx(model, torch.zeros(1, 3, SIZE, SIZE), onnx_path, "image", "depth",
                       dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"},
                                     "depth": {0: "batch", 1: "height", 2: "width"}})
    sess = gc.onnx_session(onnx_path, model)
    section = gc.keep_aspect_section(onnx_path.name, [SIZE, SIZE], 14)
    # ValueError: a side rounds to 0, the processor refuses the image.
    section["sizes"] = gc.keep_aspect_sizes(proc, SIZE_TABLE, (ValueError,))
    for name, im in zip(IMAGES, images):
        pv = proc(images=im, return_tensors="pt")["pixel_values"]
        assert pv.shape[2] % 14 == 0 and pv.shape[3] % 14 == 0 and (pv.shape[2], pv.shape[3]) != (SIZE, SIZE)
        with torch.no_grad():
            outputs = model(pixel_values=pv)
        depth = gc.full_size_depth(proc.post_process_depth_estimation(outputs, target_sizes=[(im.height, im.width)]),
                                   im)
        onnx_depth, err = gc.onnx_vs_torch(sess, "image", pv, outputs.predicted_depth.numpy())
        # The batch axis is dynamic too: two copies give the single result twice.
        pair = sess.run(None, {"image": np.concatenate([pv.numpy()] * 2)})[0]
        assert pair.shape[0] == 2 and gc.max_rel(pair[1:], onnx_depth) < 1e-5, gc.max_rel(pair[1:], onnx_depth)
        gc.record_depth(out, section, "depth_anything_keep_aspect", name, depth, grid=gc.KEEP_ASPECT_GRID,
                        input_width=int(pv.shape[3]), input_height=int(pv.shape[2]))
        print(f"  keep aspect {name}: input {pv.shape[3]}x{pv.shape[2]}, depth {depth.min():.4f}..{depth.max():.4f}; "
              f"ONNX vs PyTorch max rel {err:.2e}", file=sys.stderr)
    return section


if __name__ == "__main__":
    sys.exit(main())
