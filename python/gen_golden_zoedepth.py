#!/usr/bin/env python3
"""Golden ZoeDepth model and reference metric depth for the pipeline's depth decoder.

Builds an architecture-faithful tiny ZoeDepth WITH THE REFERENCE CODE (PyPI
`transformers`: ZoeDepthForDepthEstimation with a small BEiT backbone with
relative position bias, the DPT reassemble/fusion neck, the relative depth
head and ONE metric bins head (seed bin regressor, attractor layers,
conditional log-binomial; softplus bin centres, 0.001..10 m: the NYU head),
with seeded non-trivial weights, see build_model), exports it to ONNX (opset 17, fixed
384x512 input named `pixel_values`, output `predicted_depth` [1, 384, 512]:
the I/O contract of the catalog's zoedepth manifest), and records
transformers' own end-to-end result on the committed golden test images
(tests/data/golden/golden_*.png, made by python/gen_golden_models.py):

  pre-processing  transformers' ZoeDepthImageProcessor (the torchvision
                  backend, what AutoImageProcessor gives): x/255, reflect
                  padding of int(sqrt(h/2)*3) rows top and bottom and
                  int(sqrt(w/2)*3) columns left and right, torch bilinear
                  interpolate with align_corners=True to 384x512, mean/std 0.5;
  model           the PyTorch model (not the ONNX file);
  post-processing post_process_depth_estimation(source_sizes=[(h, w)]), as
                  transformers' depth-estimation pipeline calls it: torch
                  bicubic (align_corners=False, no antialias) to the padded
                  size (h + 2*pad_h, w + 2*pad_w), then the padding cropped.
                  No flipped-input pass: `outputs_flipped` defaults to None
                  and the transformers pipeline does not pass it.

Two exports of the same weights:
  fixed size      384x512 (the catalog's fixed export; the BEiT backbone's
                  position bias is built for one patch grid and interpolated
                  for others): the reference is run at that size
                  (keep_aspect_ratio=False), and the pipeline stretches every
                  (bordered) image to it;
  dynamic size    height/width axes dynamic (the catalog's `source.export`):
                  the reference is the Intel/zoedepth-* processors' policy
                  (keep_aspect_ratio true, ensure_multiple_of 32, size
                  384x512, as the brief of this change gives their
                  preprocessor_config.json; not re-read here, no network):
                  the input size is
                  computed from the BORDERED image (scale as little as
                  possible so one side meets its target, each side rounded to
                  the nearest multiple of 32, half to even), which the
                  pipeline applies per image (input.preprocessing.keep_aspect,
                  docs/PIPELINE.md). (ZoeDepthImageProcessor's class default
                  ensure_multiple_of is 1/32, not 32, so the generator sets 32.)
                  Its section of the reference JSON (`keep_aspect`) also
                  holds a table of the processor's input size for several odd
                  image sizes, computed by calling the processor itself.

Outputs (tests/data/golden):
  zoedepth-golden.onnx            the tiny model
  zoedepth_reference.json         per image: size, padding, full-map min/max,
                                  and the sampling grid of the .npy
  zoedepth_<image>.npy            float32 reference depth (metres) at every
                                  4th pixel (rows 1,5,9,..., columns 1,5,9,...)
  zoedepth-golden-dynamic.onnx    the same weights, dynamic height/width
  zoedepth_keep_aspect_<image>.npy  keep-aspect reference depth at every 8th
                                  pixel (rows 3,11,..., the `keep_aspect.grid`)

Run (PyTorch + torchvision + transformers, generator only; see
scripts/deps/50-golden-generator.sh):
    .venv/bin/python python/gen_golden_zoedepth.py tests/data/golden
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import golden_common as gc  # noqa: E402

SEED = 20261127
HEIGHT, WIDTH = 384, 512
IMAGES = ["golden_street.png", "golden_portrait.png"]
# Keep aspect: the street image's bordered size (572x746) gives 384x512, the
# fixed size; the portrait (1430x832 bordered: a rounding tie, 27.5 * 32) and
# the people image (2774x2104) give other sizes.
KEEP_ASPECT_IMAGES = ["golden_street.png", "golden_portrait.png", "golden_people.png"]
# (height, width) of images whose keep-aspect input size the processor reports
# (the C++ size function is tested against this table).
SIZE_TABLE = [(480, 640), (1280, 720), (2560, 1920), (384, 512), (383, 513), (100, 37), (37, 100),
              (333, 777), (777, 333), (1000, 60), (60, 1000), (259, 518), (21, 21), (7, 7), (4000, 3000),
              (3000, 4000), (545, 999), (3, 2000)]
GAIN = 1.3  # weight scale: default initialisation gives a constant map (softplus(0)); larger gains make the
#              map chaotic (a 1e-5 input change then moves it by >1e-3)


def build_model():
    import torch
    from transformers import BeitConfig, ZoeDepthConfig, ZoeDepthForDepthEstimation

    torch.manual_seed(SEED)
    backbone = BeitConfig(image_size=HEIGHT, patch_size=16, num_hidden_layers=4, hidden_size=32,
                          intermediate_size=64, num_attention_heads=2, use_relative_position_bias=True,
                          reshape_hidden_states=False, out_features=["stage1", "stage2", "stage3", "stage4"])
    cfg = ZoeDepthConfig(backbone_config=backbone, neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=8,
                         num_relative_features=8, bottleneck_features=8, bin_embedding_dim=16,
                         bin_centers_type="softplus",
                         bin_configurations=[{"n_bins": 16, "min_depth": 0.001, "max_depth": 10.0}])
    model = ZoeDepthForDepthEstimation(cfg).eval()
    # Seeded non-trivial weights: matrices ~ N(0, GAIN^2 / fan_in), norm
    # scales ~ 1 + N(0, 0.01), biases ~ N(0, 0.01). This gives metric depth
    # spread over ~0.6..1 m on the golden images.
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.copy_(GAIN * torch.randn(p.shape, generator=g) / p[0].numel() ** 0.5)
            elif name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
        # The conditional log-binomial head computes p = p0 / (p0 + p1) and
        # t = t0 / (t0 + t1) from softplus outputs (+1e-4). With random
        # weights the pre-activations are often very negative, softplus is
        # ~1e-6 there, and the ratio of two such values is ill-conditioned:
        # OpenVINO CPU and PyTorch then differ by >1e-3 in the depth (their
        # softplus differs far out in the tail). Pre-activations are kept
        # in about -2..+2 (softplus >= 0.1), still varying over the image; t0/t1
        # close (temperature ~20..30, not down to min_temp 0.0212).
        last = model.metric_head.conditional_log_binomial.mlp[2]
        last.weight[:2] *= 0.05
        last.bias[:2] = torch.tensor([1.0, 1.2])
        last.weight[2:] *= 0.1
        last.bias[2:] = 1.0
    return model


def processor(keep_aspect_ratio: bool = False):
    from transformers import ZoeDepthImageProcessor

    return ZoeDepthImageProcessor(do_pad=True, do_resize=True, size={"height": HEIGHT, "width": WIDTH},
                                  keep_aspect_ratio=keep_aspect_ratio, ensure_multiple_of=32, resample=2,
                                  do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
                                  image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5])


def export(model, path: Path, dynamic: bool = False) -> None:
    """ONNX with the I/O contract of the catalog's export: pixel_values
    [1, 3, 384, 512] -> predicted_depth [1, 384, 512], opset 17.

    Traced with dynamic height/width and then pinned to 384x512: a trace at a
    fixed size stores BEiT's relative position index (an int64
    (patches+1)^2 table per layer, cached by transformers) as constants, 20 MB
    for this tiny model; traced with symbolic sizes it stays a small subgraph
    that computes the same table (OpenVINO folds it when compiling). The
    computation is the same either way; the file is ~0.7 MB instead of 20.
    Source locations (doc strings) are dropped for the same reason.
    dynamic=True: the same export with height and width left dynamic (the
    batch stays 1: traced with a dynamic batch, a Split in the metric head
    keeps the traced batch size in its attribute and fails at batch 2).
    """
    import onnx
    import torch
    from onnx.tools import update_model_dims

    gc.export_onnx(model, torch.zeros(1, 3, HEIGHT, WIDTH), path, "pixel_values", "predicted_depth",
                   dynamic_axes={"pixel_values": {2: "height", 3: "width"},
                                 "predicted_depth": {1: "height", 2: "width"}})
    m = onnx.load(str(path))
    # Short names: the traced graph has ~4000 nodes whose generated names
    # (module paths) would take as much space as the weights.
    keep = {t.name for t in m.graph.initializer} | {"pixel_values", "predicted_depth"}
    rename = {}
    for i, n in enumerate(m.graph.node):
        n.doc_string = ""
        n.name = f"n{i}"
        for j, o in enumerate(n.output):
            if o and o not in keep:
                rename[o] = f"t{i}_{j}"
                n.output[j] = rename[o]
        for j, x in enumerate(n.input):
            n.input[j] = rename.get(x, x)
    if not dynamic:
        m = update_model_dims.update_inputs_outputs_dims(m, {"pixel_values": [1, 3, HEIGHT, WIDTH]},
                                                         {"predicted_depth": [1, HEIGHT, WIDTH]})
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def main() -> int:
    import torch
    import transformers

    out = gc.output_folder(__doc__)
    proc = processor()
    model = build_model()
    images = gc.load_rgb_images(out, IMAGES)

    onnx_path = out / "zoedepth-golden.onnx"
    export(model, onnx_path)
    sess = gc.onnx_session(onnx_path, model)
    doc = gc.depth_reference_doc(
        "python/gen_golden_zoedepth.py",
        f"transformers {transformers.__version__} ZoeDepthImageProcessor (x/255, reflect pad "
        f"int(sqrt(side/2)*3), torch bilinear align_corners=True to {HEIGHT}x{WIDTH}, mean/std 0.5) "
        f"+ ZoeDepthForDepthEstimation (PyTorch {torch.__version__}) + "
        "post_process_depth_estimation(source_sizes) (bicubic to the padded size, padding removed)",
        onnx_path.name)
    for name, im in zip(IMAGES, images):
        pv = proc(images=im, return_tensors="pt")["pixel_values"]
        assert tuple(pv.shape) == (1, 3, HEIGHT, WIDTH), pv.shape
        with torch.no_grad():
            outputs = model(pixel_values=pv)
            # Sensitivity: a 1e-5 input change must not move the depth by
            # anything near the test's 1e-3 tolerance.
            nudged = model(pixel_values=pv + 1e-5 * torch.randn(pv.shape, generator=torch.Generator().manual_seed(1)))
        depth = gc.full_size_depth(proc.post_process_depth_estimation(outputs, source_sizes=[(im.height, im.width)]),
                                   im)
        ref = outputs.predicted_depth.numpy()
        sens = gc.max_rel(nudged.predicted_depth.numpy(), ref)
        _, err = gc.onnx_vs_torch(sess, "pixel_values", pv, ref)
        pad_h, pad_w = int(np.sqrt(im.height / 2) * 3), int(np.sqrt(im.width / 2) * 3)
        gc.record_depth(out, doc, "zoedepth", name, depth, pad_h=pad_h, pad_w=pad_w)
        print(f"  {name}: pad {pad_h}x{pad_w}, depth {depth.min():.4f}..{depth.max():.4f} m "
              f"(median {np.median(depth):.4f}, std {depth.std():.4f}); ONNX vs PyTorch max rel {err:.2e}; "
              f"1e-5 input nudge moves it by {sens:.2e}", file=sys.stderr)
    doc["keep_aspect"] = keep_aspect_reference(out, model)
    gc.write_reference(out / "zoedepth_reference.json", doc)
    return 0


def keep_aspect_reference(out: Path, model) -> dict:
    """The same weights exported with dynamic height/width, and transformers'
    end-to-end result with the processor's keep-aspect policy on the golden
    images, plus the processor's input size for SIZE_TABLE."""
    import torch

    proc = processor(keep_aspect_ratio=True)
    onnx_path = out / "zoedepth-golden-dynamic.onnx"
    export(model, onnx_path, dynamic=True)
    sess = gc.onnx_session(onnx_path, model)
    section = gc.keep_aspect_section(onnx_path.name, [HEIGHT, WIDTH], 32)
    # ValueError, RuntimeError: the border is not smaller than the image, or a side rounds to 0.
    section["sizes"] = gc.keep_aspect_sizes(proc, SIZE_TABLE, (ValueError, RuntimeError))
    for name, im in zip(KEEP_ASPECT_IMAGES, gc.load_rgb_images(out, KEEP_ASPECT_IMAGES)):
        pv = proc(images=im, return_tensors="pt")["pixel_values"]
        assert pv.shape[2] % 32 == 0 and pv.shape[3] % 32 == 0, pv.shape
        with torch.no_grad():
            outputs = model(pixel_values=pv)
        depth = gc.full_size_depth(proc.post_process_depth_estimation(outputs, source_sizes=[(im.height, im.width)]),
                                   im)
        _, err = gc.onnx_vs_torch(sess, "pixel_values", pv, outputs.predicted_depth.numpy())
        gc.record_depth(out, section, "zoedepth_keep_aspect", name, depth, grid=gc.KEEP_ASPECT_GRID,
                        input_width=int(pv.shape[3]), input_height=int(pv.shape[2]))
        print(f"  keep aspect {name}: input {pv.shape[3]}x{pv.shape[2]}, depth {depth.min():.4f}..{depth.max():.4f} m; "
              f"ONNX vs PyTorch max rel {err:.2e}", file=sys.stderr)
    return section


if __name__ == "__main__":
    sys.exit(main())
