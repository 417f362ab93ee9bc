#!/usr/bin/env python3
"""Golden data for Segment Anything through the pipeline (docs/PIPELINE.md "Segment Anything").

Writes into the output folder (tests/data/golden):

* sam-golden-encoder.onnx: a *tiny* SAM image encoder built with Meta's own
  package (PyPI `segment-anything` 1.0): ImageEncoderViT with img_size 1024 and
  patch 16 (so the embedding is 64x64, as in vit_b/l/h), embed_dim 16, depth 2
  (one windowed block, window 14, one global block, relative positions),
  neck out_chans 32. Exported as the manifest's export command does:
  torch.onnx.export(sam.image_encoder, ...), input `image` [1, 3, 1024, 1024],
  output `image_embeddings` [1, 32, 64, 64], opset 17.
* sam-golden-decoder.onnx: the package's PromptEncoder (embed_dim 32) and
  MaskDecoder (TwoWayTransformer depth 2, dim 32) exported through the
  package's own `segment_anything.utils.onnx.SamOnnxModel`, exactly as its
  scripts/export_onnx_model.py does with --return-single-mask: inputs
  image_embeddings, point_coords [1, N, 2], point_labels [1, N], mask_input
  [1, 1, 256, 256], has_mask_input [1], orig_im_size [2]; outputs masks
  [1, 1, H, W] (logits at the original size), iou_predictions [1, 1],
  low_res_masks [1, 1, 256, 256]; num_points dynamic.
  Weights: the package's initialisation under a fixed seed, except the
  prompt encoder's random Fourier matrix, drawn with scale 8 instead of 1 so
  that a one-pixel change of a prompt changes the mask measurably (the golden
  test must catch an off-by-one in the coordinate transform), the encoder's
  relative-position tables (zeros in the package) drawn N(0, 0.5), and the
  mask decoder's two upscaling transposed convolutions made constant over
  their 2x2 taps (smooth low-res masks, see build_sam()).
* sam_reference.json: the reference's end-to-end result: SamPredictor (its
  ResizeLongestSide via PIL, normalisation, bottom/right zero padding,
  set_image, predict) with the same weights, on golden_street.png (640x480,
  upscaled) and golden_portrait.png (720x1280, downscaled), for four prompts
  each: one foreground point, two points (one background), a box, a box with
  a point. The mask per prompt as COCO RLE (uncompressed, column-major counts
  starting with background), its area, the predicted IoU. Written compactly
  (no indent).
  Plus, under "detector_prompts": SamPredictor's masks on golden_people.png
  (1920x2560) for box prompts equal to the golden person detector's reference
  boxes, i.e. the Ultralytics predictor's boxes on yolov8-person-golden.onnx
  that python/gen_golden_rtmpose.py recorded in rtmpose_reference.json (read
  from the output folder; not recomputed here). What the pipeline must give
  when segment_anything has a `detector` part and no --point/--box: one mask
  per detected box (pipeline_sam_test, GoldenSam.DetectorBoxesArePrompts).

The decoder's `masks` output: under torch 2.15's TorchScript exporter,
SamOnnxModel.mask_postprocessing's crop `masks[..., :int(prepadded_size[0]),
:int(prepadded_size[1])]` is traced to constants (the dummy orig_im_size
1500x2250 gives 683x1024), so `masks` is right only for images of that
aspect. `low_res_masks` [1, 1, 256, 256] is exact for every size; the
pipeline upsamples it itself as SamPredictor/Sam.postprocess_masks does
(bilinear to 1024x1024, crop to the resized image, bilinear to the original
size), and so does the check below.

Which mask is "the" mask: SamOnnxModel(return_single_mask=True) chooses by
the number of prompt points N it receives (the padding point and the two box
corners included): N <= 2 (one point + padding, or a box alone) takes the
best-scoring of the three multimask outputs, N >= 3 takes the single-mask
output. The reference is therefore SamPredictor.predict(multimask_output=
(N <= 2)), and with multimask the mask of the highest predicted IoU, which is
the same rule; the script asserts that the decoder ONNX (run with ONNX
Runtime on the predictor's own embedding) agrees with it.

Run: .venv/bin/python python/gen_golden_sam.py [--out tests/data/golden]
(needs torch, torchvision, segment-anything, onnx, onnxruntime: scripts/deps/50-golden-generator.sh).
"""
from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from PIL import Image
from segment_anything import SamPredictor
from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer
from segment_anything.utils.onnx import SamOnnxModel

ROOT = Path(__file__).resolve().parents[1]
SEED = 3
PE_SCALE = 8.0
ENC_DIM = 16
PROMPT_DIM = 32

# (image, name, points [[x, y, label]], box [x0, y0, x1, y1] or None), image pixels.
PROMPTS = [
    ("golden_street.png", "point", [[320.0, 240.0, 1]], None),
    ("golden_street.png", "two_points", [[200.0, 300.0, 1], [450.0, 120.0, 0]], None),
    ("golden_street.png", "box", [], [100.0, 80.0, 420.0, 360.0]),
    ("golden_street.png", "box_point", [[300.0, 200.0, 1]], [150.0, 120.0, 500.0, 420.0]),
    ("golden_portrait.png", "point", [[360.0, 500.0, 1]], None),
    ("golden_portrait.png", "two_points", [[300.0, 700.0, 1], [600.0, 200.0, 0]], None),
    ("golden_portrait.png", "box", [], [120.0, 300.0, 620.0, 1000.0]),
    ("golden_portrait.png", "box_point", [[400.0, 640.0, 1]], [80.0, 400.0, 680.0, 1100.0]),
]


def build_sam() -> Sam:
    torch.manual_seed(SEED)
    encoder = ImageEncoderViT(depth=2, embed_dim=ENC_DIM, img_size=1024, mlp_ratio=4,
                              norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=2, patch_size=16,
                              qkv_bias=True, use_rel_pos=True, global_attn_indexes=[1], window_size=14,
                              out_chans=PROMPT_DIM)
    prompt = PromptEncoder(embed_dim=PROMPT_DIM, image_embedding_size=(64, 64), input_image_size=(1024, 1024),
                           mask_in_chans=4)
    decoder = MaskDecoder(num_multimask_outputs=3,
                          transformer=TwoWayTransformer(depth=2, embedding_dim=PROMPT_DIM, mlp_dim=64, num_heads=2),
                          transformer_dim=PROMPT_DIM, iou_head_depth=3, iou_head_hidden_dim=32)
    sam = Sam(image_encoder=encoder, prompt_encoder=prompt, mask_decoder=decoder,
              pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375])
    with torch.no_grad():
        pe = sam.prompt_encoder.pe_layer.positional_encoding_gaussian_matrix
        pe.copy_(PE_SCALE * torch.randn(pe.shape))
        # Relative-position tables start at zero in the package; give them values.
        for blk in sam.image_encoder.blocks:
            blk.attn.rel_pos_h.normal_(0.0, 0.5)
            blk.attn.rel_pos_w.normal_(0.0, 0.5)
        # The two 2x2 stride-2 transposed convolutions that upscale the embedding
        # 64 -> 256: one weight per channel pair for all four kernel taps (a
        # nearest-neighbour upsampling), so the low-res masks are smooth rather
        # than a random 4x4 checkerboard whose sign flips with rounding noise.
        for i in (0, 3):
            w = sam.mask_decoder.output_upscaling[i].weight
            w.copy_(w.mean(dim=(2, 3), keepdim=True).expand_as(w))
    return sam.eval()


def rle(mask: np.ndarray) -> dict:
    """COCO RLE, uncompressed: counts of runs in column-major (Fortran) order, starting with 0s."""
    flat = mask.astype(np.uint8).flatten(order="F")
    # Run boundaries where the value changes (vectorised: 1920x2560 masks).
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        counts = [0] + counts  # the first run counts background
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": [int(c) for c in counts]}


def onnx_prompt(predictor: SamPredictor, points, box, hw):
    coords = [[p[0], p[1]] for p in points]
    labels = [float(p[2]) for p in points]
    if box is None:
        coords.append([0.0, 0.0])
        labels.append(-1.0)
    else:
        coords += [[box[0], box[1]], [box[2], box[3]]]
        labels += [2.0, 3.0]
    c = predictor.transform.apply_coords(np.array(coords, dtype=np.float64)[None], hw).astype(np.float32)
    return c, np.array([labels], dtype=np.float32)


def predict_case(sam, predictor: SamPredictor, dec, hw, points, box, what: str):
    """SamPredictor's mask for one prompt (the SamOnnxModel single-mask rule),
    checked against the decoder ONNX on the predictor's own embedding."""
    n_onnx = len(points) + (1 if box is None else 2)
    multimask = n_onnx <= 2
    with torch.no_grad():
        masks, scores, _ = predictor.predict(
            point_coords=np.array([p[:2] for p in points], dtype=np.float32) if points else None,
            point_labels=np.array([p[2] for p in points], dtype=np.float32) if points else None,
            box=np.array(box, dtype=np.float32) if box is not None else None,
            multimask_output=multimask)
    best = int(np.argmax(scores))
    mask = masks[best]
    iou = float(scores[best])
    # The decoder ONNX on the predictor's embedding must agree (same selection rule).
    c, l = onnx_prompt(predictor, points, box, hw)
    emb = predictor.get_image_embedding().cpu().numpy()
    _, s, low = dec.run(None, {"image_embeddings": emb, "point_coords": c, "point_labels": l,
                             "mask_input": np.zeros((1, 1, 256, 256), np.float32),
                             "has_mask_input": np.zeros(1, np.float32),
                             "orig_im_size": np.array(hw, np.float32)})
    # low_res_masks upsampled as SamPredictor does (see the docstring: the
    # exported `masks` output has the dummy size's crop baked in).
    with torch.no_grad():
        up = sam.postprocess_masks(torch.from_numpy(low), predictor.input_size, predictor.original_size)
    onnx_mask = up.numpy()[0, 0] > sam.mask_threshold
    inter = np.logical_and(onnx_mask, mask).sum()
    union = np.logical_or(onnx_mask, mask).sum()
    agree = float(inter / max(union, 1))
    assert abs(float(s[0, 0]) - iou) < 1e-4 and agree > 0.999, (what, s, iou, agree)
    return mask, iou, multimask, agree


def detector_prompts(sam, predictor: SamPredictor, dec, out: Path) -> dict:
    """Masks for the golden person detector's reference boxes (see the docstring)."""
    det_ref = json.loads((out / "rtmpose_reference.json").read_text())
    im = det_ref["images"][0]
    image_name = im["file"]
    image = np.array(Image.open(out / image_name).convert("RGB"))
    hw = image.shape[:2]
    assert (hw[1], hw[0]) == (im["width"], im["height"]), (hw, im["width"], im["height"])
    with torch.no_grad():
        predictor.set_image(image, image_format="RGB")
    masks = []
    for i, person in enumerate(im["persons"]):
        box = [float(v) for v in person["box"]]
        mask, iou, multimask, agree = predict_case(sam, predictor, dec, hw, [], box, f"{image_name} person {i}")
        area = int(mask.sum())
        entry = {"box": box, "detector_score": float(person["score"]), "multimask_output": multimask,
                 "iou_prediction": iou, "area": area, "rle": rle(mask)}
        if area > 0:
            ys, xs = np.nonzero(mask)
            entry["bbox"] = [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]
            bbox = entry["bbox"]
        else:
            bbox = None
        masks.append(entry)
        print(f"{image_name:20s} person {i:2d} box {[round(v, 1) for v in box]} area {area / mask.size:.3f} "
              f"iou {iou:.4f} onnx agree {agree:.5f} bbox {bbox}")
    # The boxes must give different masks (the prompt matters), not one blob.
    distinct = {tuple(m["rle"]["counts"]) for m in masks}
    assert len(distinct) >= len(masks) // 2, f"only {len(distinct)} distinct masks for {len(masks)} boxes"
    return {"image": image_name, "detector": "yolov8-person-golden.onnx",
            "boxes_from": "rtmpose_reference.json (python/gen_golden_rtmpose.py: " + det_ref["reference"] + ")",
            "detector_settings": det_ref["settings"], "masks": masks}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "golden")
    args = ap.parse_args()
    out = args.out
    sam = build_sam()

    enc_path = out / "sam-golden-encoder.onnx"
    torch.onnx.export(sam.image_encoder, (torch.zeros(1, 3, 1024, 1024),), str(enc_path), opset_version=17,
                      input_names=["image"], output_names=["image_embeddings"], dynamo=False)
    # The decoder, as segment-anything's scripts/export_onnx_model.py --return-single-mask.
    onnx_model = SamOnnxModel(model=sam, return_single_mask=True, use_stability_score=False,
                              return_extra_metrics=False)
    embed_size = sam.prompt_encoder.image_embedding_size
    dummy = {
        "image_embeddings": torch.randn(1, PROMPT_DIM, *embed_size, dtype=torch.float),
        "point_coords": torch.randint(low=0, high=1024, size=(1, 5, 2), dtype=torch.float),
        "point_labels": torch.randint(low=0, high=4, size=(1, 5), dtype=torch.float),
        "mask_input": torch.randn(1, 1, *[4 * x for x in embed_size], dtype=torch.float),
        "has_mask_input": torch.tensor([1], dtype=torch.float),
        "orig_im_size": torch.tensor([1500, 2250], dtype=torch.float),
    }
    dec_path = out / "sam-golden-decoder.onnx"
    torch.onnx.export(onnx_model, tuple(dummy.values()), str(dec_path), export_params=True, verbose=False,
                      opset_version=17, do_constant_folding=True, input_names=list(dummy.keys()),
                      output_names=["masks", "iou_predictions", "low_res_masks"],
                      dynamic_axes={"point_coords": {1: "num_points"}, "point_labels": {1: "num_points"}},
                      dynamo=False)
    dec = ort.InferenceSession(str(dec_path), providers=["CPUExecutionProvider"])

    predictor = SamPredictor(sam)
    cases = []
    current = None
    for image_name, name, points, box in PROMPTS:
        image = np.array(Image.open(out / image_name).convert("RGB"))
        hw = image.shape[:2]
        if current != image_name:
            with torch.no_grad():
                predictor.set_image(image, image_format="RGB")
            current = image_name
        mask, iou, multimask, agree = predict_case(sam, predictor, dec, hw, points, box, f"{image_name} {name}")
        area = int(mask.sum())
        frac = area / mask.size
        assert 0.02 < frac < 0.98, f"{image_name} {name}: mask covers {frac:.3f} of the image"
        ys, xs = np.nonzero(mask)
        print(f"{image_name:20s} {name:10s} area {frac:.3f} iou {iou:.4f} onnx agree {agree:.5f} "
              f"bbox {xs.min()},{ys.min()},{xs.max()},{ys.max()}")
        cases.append({"image": image_name, "name": name, "points": points, "box": box,
                      "multimask_output": multimask, "iou_prediction": iou, "area": area,
                      "bbox": [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())], "rle": rle(mask)})
    # Different prompts must give different masks (per image).
    for i in range(len(cases)):
        for j in range(i + 1, len(cases)):
            if cases[i]["image"] == cases[j]["image"]:
                assert cases[i]["rle"]["counts"] != cases[j]["rle"]["counts"], (cases[i]["name"], cases[j]["name"])
    ref = {
        "generator": "python/gen_golden_sam.py",
        "reference": "segment_anything.SamPredictor (segment-anything 1.0): set_image + predict; "
                     "multimask_output = (ONNX prompt points <= 2), best predicted IoU (SamOnnxModel "
                     "return_single_mask rule)",
        "encoder": enc_path.name,
        "decoder": dec_path.name,
        "mask_threshold": float(sam.mask_threshold),
        "rle": "COCO uncompressed: column-major run lengths, first run = background",
        "cases": cases,
        "detector_prompts": detector_prompts(sam, predictor, dec, out),
    }
    # Compact (no indent, no spaces; floats as Python prints them, which round-trip): the
    # RLE counts make an indented file several MB.
    (out / "sam_reference.json").write_text(json.dumps(ref, separators=(",", ":")) + "\n")
    print("wrote", enc_path, enc_path.stat().st_size, dec_path, dec_path.stat().st_size)


if __name__ == "__main__":
    main()
