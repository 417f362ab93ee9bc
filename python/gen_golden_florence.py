#!/usr/bin/env python3
"""Golden Florence-2 model, tokenizer and reference generations (issue #18 item 4).

Builds an architecture-faithful tiny Florence-2 WITH THE REFERENCE CODE (PyPI
`transformers` 5.23: Florence2ForConditionalGeneration = DaViT vision tower +
multi-modal projector + BART encoder/decoder) from small configs, a tiny
byte-level BPE tokenizer trained with the `tokenizers` library plus Florence-2's
special/added tokens (<s> <pad> </s> <unk>, task tokens such as <od>, the
location tokens <loc_0>..<loc_999>, the image token <image>), loaded as the
Florence2Processor's BartTokenizer, and records the reference's end-to-end result
on tests/data/golden/golden_street.png:

  processor       Florence2Processor (CLIPImageProcessorPil: resize to 128x128,
                  bicubic, /255, ImageNet mean/std; task token -> question
                  mapping; `<image>`*17 + <s> + question + </s>)
  model           model.generate(...) GREEDY (num_beams=1, do_sample=False,
                  max_new_tokens=MAX_NEW): see "Beam search" below
  post-processing processor.batch_decode(skip_special_tokens=False) +
                  processor.post_process_generation(task=, image_size=(w, h))

Weights: seeded random init, then TRAIN_STEPS Adam steps of teacher forcing of the
BART part (vision tower + projector keep their seeded init) on one fixed target
sequence per task (below), so that greedy decoding produces
meaningful sequences (a caption; phrases with <loc_*> boxes). The recorded
reference is what generate() produces AFTER training (not the targets), token
for token.

Beam search: the published Florence-2 generation_config (num_beams=3,
no_repeat_ngram_size=3, forced_bos_token_id=0, forced_eos_token_id=2,
early_stopping=True; BEAM_GEN) is recorded per task as well ("beam" list of each
task, first entry), with BEAM_EXTRA settings that exercise min_length, the forced
EOS at max_length - 1, length_penalty 0 / 0.5, early_stopping False / "never",
2 / 4 beams and no_repeat_ngram_size 2 (on this tiny model the published
setting gives the greedy result; most extra ones do not: "differs_from_greedy").
Each is transformers' own generate(); ort_beam() (the exported parts, one
decoder run per beam at batch 1 with the KV cache gathered by parent beam, as
the C++ generator) must give the same ids, and records the smallest score gap
that decides a beam choice (N-th vs next candidate, N-th vs next running one,
adjacent finished hypotheses, best running vs worst finished): a setting where it
is <= BEAM_MIN_GAP (1e-3) is refused, so that float rounding differences between
CPUs cannot flip a choice. The greedy reference stays as it was.

ONNX parts (opset 17, legacy TorchScript exporter: onnxscript is not installed,
so the dynamo exporter cannot be used), the onnx-community layout except the
decoder:
  florence2_golden_vision_encoder.onnx  pixel_values [1,3,128,128] -> image_features [1,17,D]
  florence2_golden_embed_tokens.onnx    input_ids [1,n] int64 -> inputs_embeds [1,n,D]
  florence2_golden_encoder_model.onnx   inputs_embeds [1,n,D], attention_mask [1,n] int64
                                        -> last_hidden_state [1,n,D]
  florence2_golden_decoder_model.onnx   first step: input_ids [1,t], encoder_hidden_states,
                                        encoder_attention_mask -> logits [1,t,V],
                                        present.{i}.decoder.key/value, present.{i}.encoder.key/value
  florence2_golden_decoder_with_past_model.onnx
                                        later steps: input_ids [1,1], encoder_attention_mask,
                                        past_key_values.{i}.decoder.key/value [1,H,p,Dh],
                                        past_key_values.{i}.encoder.key/value [1,H,n,Dh]
                                        -> logits [1,1,V], present.{i}.decoder.key/value
(onnx-community's decoder_model_merged.onnx is these two decoders behind an If on
`use_cache_branch`; the split form is what optimum exports without --merge.)
Every part is checked against PyTorch with ONNX Runtime here (the script fails
otherwise) and the exported-parts greedy loop is checked to give the same ids.

Outputs (tests/data/golden/florence/):
  *.onnx (above), tokenizer.json (the BartTokenizer's own, saved by
  save_pretrained), florence_reference.json (configs, per task: prompt, question,
  input ids, generated ids, raw text, parsed result; tokenizer cases: text ->
  ids, decode with and without special tokens).

Run (PyTorch + transformers, generator only; see scripts/deps/50-golden-generator.sh):
    .venv/bin/python python/gen_golden_florence.py tests/data/golden
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

SEED = 20261127
SIZE = 128
D_MODEL = 8
MAX_POS = 128
MAX_NEW = 40
TRAIN_STEPS = 150
MIN_MARGIN = 1e-2  # the recorded margins must exceed this (the C++ test asserts > 1e-3)
# Beam search as Florence-2's published generation_config (microsoft/Florence-2-base,
# onnx-community/Florence-2-base-ft generation_config.json: num_beams 3, no_repeat_ngram_size 3,
# forced_bos_token_id 0, forced_eos_token_id 2, early_stopping true; length_penalty and
# min_length are transformers' defaults 1.0 and 0).
BEAM_GEN = {"num_beams": 3, "no_repeat_ngram_size": 3, "forced_bos_token_id": 0, "forced_eos_token_id": 2,
            "early_stopping": True, "length_penalty": 1.0, "min_length": 0, "max_new_tokens": MAX_NEW,
            "decoder_start_token_id": 2, "eos_token_id": 2}
# Further settings that exercise what the published one does not on this tiny model (whose
# published-setting beam result equals its greedy one): min_length (EOS banned, so the beams
# must continue past the trained sequence, where no_repeat_ngram_size bites), the forced EOS at
# max_length - 1, length_penalty != 1, early_stopping False / "never", other beam counts.
# (Settings whose smallest deciding gap on this model is <= BEAM_MIN_GAP, e.g. num_beams=4,
# min_length=18, length_penalty=2.0, are left out: the script refuses them.)
BEAM_EXTRA = [
    dict(BEAM_GEN, num_beams=2, min_length=14, max_new_tokens=16, early_stopping="never", length_penalty=0.5),
    dict(BEAM_GEN, num_beams=3, max_new_tokens=6),
    dict(BEAM_GEN, num_beams=4, min_length=14, max_new_tokens=18, early_stopping=False, length_penalty=0.0),
    dict(BEAM_GEN, num_beams=3, no_repeat_ngram_size=2, min_length=16, max_new_tokens=20),
]
BEAM_MIN_GAP = 1e-3  # the smallest score gap deciding a beam choice must exceed this (C++ asserts the same)
IMAGE = "golden_street.png"
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]

# Florence-2's added tokens (microsoft/Florence-2-base tokenizer), in order, before the locations.
TASK_TOKENS = ["<od>", "</od>", "<ocr>", "</ocr>", "<poly>", "</poly>", "<cap>", "</cap>", "<dcap>",
               "</dcap>", "<ncap>", "</ncap>", "<grounding>", "</grounding>", "<seg>", "</seg>", "<sep>",
               "<region_cap>", "</region_cap>", "<region_to_desciption>", "</region_to_desciption>",
               "<proposal>", "</proposal>", "<and>"]
LOC_TOKENS = [f"<loc_{i}>" for i in range(1000)]

TRAIN_TEXT = [
    "What does the image describe?",
    "Describe in detail what is shown in the image.",
    "Locate the objects with category name in the image.",
    "Locate the phrases in the caption: a red car and a person on the street",
    "A street with a red car, a blue bus and a person walking on the road.",
    "car person bus bicycle road tree building sky traffic light sign",
    "Numbers 0123456789 and punctuation: hello, world! (test) 'quoted' \"double\" a-b_c.",
]

# florence-community/Florence-2-base processor_config.json's post_processor_config.
POST_PROCESSOR_CONFIG = {
    "ocr": {"pattern": r"(.+?)<loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)>",
            "area_threshold": 0.0},
    "phrase_grounding": {"banned_grounding_tokens": ["the image"]},
    "pure_text": {}, "description_with_bboxes": {}, "description_with_polygons": {}, "polygons": {},
    "bboxes": {}, "description_with_bboxes_or_polygons": {},
}
PHRASE = "a red car and a person"
TASKS = [
    # (task, text input or None, training target text after <s> ... </s>)
    ("<CAPTION>", None, "a street with a red car and a person"),
    ("<OD>", None, "car<loc_112><loc_500><loc_431><loc_812>person<loc_640><loc_300><loc_702><loc_905>"),
    ("<CAPTION_TO_PHRASE_GROUNDING>", PHRASE,
     "a red car<loc_100><loc_480><loc_420><loc_800>a person<loc_650><loc_310><loc_700><loc_890>"),
]

TOKENIZER_CASES = [
    "What does the image describe?",
    "Locate the phrases in the caption: a red car and a person",
    "hello world",
    "  two  spaces and\ttab\nnewline ",
    "punctuation!!! ... ,;:?' \"q\" (x) [y] {z} a-b_c/d",
    "digits 0 12 345 6789 2026",
    "it's we'll they're I'M don't",
    "café naïve Zürich",
    "日本語 テキスト",
    "emoji 🚗 ok",
    "<s>car<loc_12><loc_999></s>",
    "<od>a<loc_0></od><pad>",
]


def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import BartTokenizer

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=360, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(TRAIN_TEXT * 4 + [t[2] for t in TASKS], trainer=trainer)
    model_json = json.loads(tok.to_str())["model"]
    vocab = dict(model_json["vocab"])
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model_json["merges"]]
    vocab["<mask>"] = len(vocab)
    # BART's id order: <s>=0 <pad>=1 </s>=2 <unk>=3 (the trainer's special tokens), <mask> after the BPE vocab.
    bart = BartTokenizer(vocab=vocab, merges=merges, errors="replace",
                         extra_special_tokens={"image_token": "<image>"})
    bart.add_tokens(TASK_TOKENS + LOC_TOKENS)
    return bart


def build_processor(tokenizer):
    from transformers import Florence2Processor
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    image_processor = CLIPImageProcessorPil(
        size={"height": SIZE, "width": SIZE}, do_center_crop=False, resample=3, do_resize=True,
        do_rescale=True, rescale_factor=1 / 255, do_normalize=True, image_mean=MEAN, image_std=STD,
        do_convert_rgb=True)
    image_processor.image_seq_length = (SIZE // 32) ** 2 + 1
    return Florence2Processor(image_processor=image_processor, tokenizer=tokenizer,
                              num_additional_image_tokens=0, post_processor_config=POST_PROCESSOR_CONFIG)


def build_model(vocab_size: int, image_token_id: int):
    import torch
    from transformers import BartConfig, Florence2Config, Florence2ForConditionalGeneration, GenerationConfig
    from transformers import Florence2VisionConfig

    torch.manual_seed(SEED)
    vision = Florence2VisionConfig(depths=[1, 1, 1, 1], embed_dim=[8, 16, 16, 16], num_heads=[1, 2, 2, 2],
                                   num_groups=[1, 2, 2, 2], window_size=2, drop_path_rate=0.0,
                                   mlp_ratio=2.0, projection_dim=D_MODEL, max_position_embeddings=50,
                                   max_temporal_embeddings=10)
    text = BartConfig(vocab_size=vocab_size, d_model=D_MODEL, encoder_layers=1, decoder_layers=1,
                      encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                      decoder_ffn_dim=32, max_position_embeddings=MAX_POS, scale_embedding=True,
                      dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
                      bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2,
                      forced_eos_token_id=None, forced_bos_token_id=None)
    cfg = Florence2Config(vision_config=vision.to_dict(), text_config=text.to_dict(),
                          image_token_id=image_token_id)
    model = Florence2ForConditionalGeneration(cfg)
    model.generation_config = GenerationConfig(bos_token_id=0, pad_token_id=1, eos_token_id=2,
                                               decoder_start_token_id=2, num_beams=1, do_sample=False)
    return model, cfg


def train(model, processor, image):
    """Teacher forcing of the language model only (the vision tower and projector keep their
    seeded init; their features are computed once and merged as the model does)."""
    import torch

    batches = []
    for task, text_input, target in TASKS:
        prompt = task + (text_input or "")
        enc = processor(text=prompt, images=image, return_tensors="pt")
        labels = processor.tokenizer("<s>" + target + "</s>", add_special_tokens=False,
                                     return_tensors="pt").input_ids
        with torch.no_grad():
            feats = model.get_image_features(enc.pixel_values).pooler_output
        batches.append((enc, feats, labels))
    params = list(model.model.language_model.parameters())
    opt = torch.optim.Adam(params, lr=3e-2)
    model.train()
    for step in range(TRAIN_STEPS):
        opt.zero_grad()
        loss = 0
        for enc, feats, labels in batches:
            embeds = model.get_input_embeddings()(enc.input_ids)
            mask = (enc.input_ids == model.config.image_token_id).unsqueeze(-1)
            embeds = embeds.masked_scatter(mask, feats)
            out = model(inputs_embeds=embeds, attention_mask=enc.attention_mask, labels=labels)
            loss = loss + out.loss
        loss.backward()
        opt.step()
        if step % 25 == 0 or step == TRAIN_STEPS - 1:
            print(f"train step {step}: loss {float(loss.detach()):.4f}", file=sys.stderr, flush=True)
    model.eval()


# ----------------------------------------------------------------------------------------------
# ONNX export wrappers


class VisionEncoder:
    @staticmethod
    def make(model):
        import torch

        class M(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.m = model

            def forward(self, pixel_values):
                return self.m.get_image_features(pixel_values).pooler_output
        return M()


def make_embed(model):
    import torch

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.e = model.get_input_embeddings()

        def forward(self, input_ids):
            return self.e(input_ids)
    return M()


def make_encoder(model):
    import torch

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = model.model.language_model.encoder

        def forward(self, inputs_embeds, attention_mask):
            return self.enc(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state
    return M()


def make_decoder(model, with_past: bool, n_layers: int):
    import torch
    from transformers import EncoderDecoderCache

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dec = model.model.language_model.decoder
            self.head = model.lm_head

        def forward(self, input_ids, encoder_hidden_states, encoder_attention_mask, *past):
            cache = None
            if with_past:
                cache = EncoderDecoderCache([tuple(past[4 * i:4 * i + 4]) for i in range(n_layers)])
            else:
                cache = EncoderDecoderCache([])
                from transformers import DynamicCache
                cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
            out = self.dec(input_ids=input_ids, encoder_hidden_states=encoder_hidden_states,
                           encoder_attention_mask=encoder_attention_mask, past_key_values=cache,
                           use_cache=True)
            logits = self.head(out.last_hidden_state)
            pkv = out.past_key_values
            res = [logits]
            for i in range(n_layers):
                sl = pkv.self_attention_cache.layers[i]
                cl = pkv.cross_attention_cache.layers[i]
                res += [sl.keys, sl.values]
                if not with_past:
                    res += [cl.keys, cl.values]
            return tuple(res)
    return M()


def kv_names(prefix: str, n_layers: int, with_encoder: bool):
    names = []
    for i in range(n_layers):
        names += [f"{prefix}.{i}.decoder.key", f"{prefix}.{i}.decoder.value"]
        if with_encoder:
            names += [f"{prefix}.{i}.encoder.key", f"{prefix}.{i}.encoder.value"]
    return names


def export_parts(model, out: Path, pixel_values, input_ids, n_layers: int):
    import torch

    D = D_MODEL
    n = input_ids.shape[1]
    with torch.no_grad():
        feats = model.get_image_features(pixel_values).pooler_output
        embeds = model.get_input_embeddings()(input_ids)
    files = {}

    def export(mod, args, name, in_names, out_names, dyn):
        path = out / name
        torch.onnx.export(mod, args, str(path), input_names=in_names, output_names=out_names,
                          dynamic_axes=dyn, opset_version=17, dynamo=False, do_constant_folding=True)
        files[name] = path
        return path

    export(VisionEncoder.make(model).eval(), (pixel_values,), "florence2_golden_vision_encoder.onnx",
           ["pixel_values"], ["image_features"], None)
    export(make_embed(model).eval(), (input_ids,), "florence2_golden_embed_tokens.onnx",
           ["input_ids"], ["inputs_embeds"], {"input_ids": {1: "seq"}, "inputs_embeds": {1: "seq"}})
    mask = torch.ones(1, n, dtype=torch.long)
    export(make_encoder(model).eval(), (embeds, mask), "florence2_golden_encoder_model.onnx",
           ["inputs_embeds", "attention_mask"], ["last_hidden_state"],
           {"inputs_embeds": {1: "enc"}, "attention_mask": {1: "enc"}, "last_hidden_state": {1: "enc"}})
    with torch.no_grad():
        enc_h = make_encoder(model)(embeds, mask)
    dec_ids = torch.tensor([[2, 0]], dtype=torch.long)
    present_first = kv_names("present", n_layers, True)
    dyn = {"input_ids": {1: "dec"}, "encoder_hidden_states": {1: "enc"},
           "encoder_attention_mask": {1: "enc"}, "logits": {1: "dec"}}
    for nm in present_first:
        dyn[nm] = {2: "enc" if ".encoder." in nm else "dec"}
    export(make_decoder(model, False, n_layers).eval(), (dec_ids, enc_h, mask),
           "florence2_golden_decoder_model.onnx",
           ["input_ids", "encoder_hidden_states", "encoder_attention_mask"], ["logits"] + present_first, dyn)
    with torch.no_grad():
        first = make_decoder(model, False, n_layers)(dec_ids, enc_h, mask)
    past = list(first[1:])
    past_names = kv_names("past_key_values", n_layers, True)
    present_past = kv_names("present", n_layers, False)
    dyn = {"encoder_hidden_states": {1: "enc"}, "encoder_attention_mask": {1: "enc"}}
    for nm in past_names:
        dyn[nm] = {2: "enc" if ".encoder." in nm else "past"}
    for nm in present_past:
        dyn[nm] = {2: "total"}
    step_ids = torch.tensor([[5]], dtype=torch.long)
    export(make_decoder(model, True, n_layers).eval(), (step_ids, enc_h, mask, *past),
           "florence2_golden_decoder_with_past_model.onnx",
           ["input_ids", "encoder_hidden_states", "encoder_attention_mask"] + past_names,
           ["logits"] + present_past, dyn)
    return files


def ort_greedy(files, pixel_values, input_ids, n_layers, image_token_id, eos_id, max_new):
    """The exported parts' greedy loop (numpy + ONNX Runtime): the C++ pipeline's algorithm."""
    import onnxruntime as ort

    def sess(name):
        return ort.InferenceSession(str(files[name]), providers=["CPUExecutionProvider"])

    vis = sess("florence2_golden_vision_encoder.onnx")
    emb = sess("florence2_golden_embed_tokens.onnx")
    enc = sess("florence2_golden_encoder_model.onnx")
    dec = sess("florence2_golden_decoder_model.onnx")
    decp = sess("florence2_golden_decoder_with_past_model.onnx")
    feats = vis.run(None, {"pixel_values": pixel_values})[0]
    ids = input_ids
    text_ids = ids[:, ids[0] != image_token_id]
    text_emb = emb.run(None, {"input_ids": text_ids})[0]
    embeds = np.concatenate([feats, text_emb], axis=1)
    mask = np.ones((1, embeds.shape[1]), dtype=np.int64)
    h = enc.run(None, {"inputs_embeds": embeds, "attention_mask": mask})[0]
    out = dec.run(None, {"input_ids": np.array([[2]], dtype=np.int64), "encoder_hidden_states": h,
                         "encoder_attention_mask": mask})
    generated = [2]
    past = out[1:]
    logits = out[0][:, -1]
    for _ in range(max_new):
        nxt = int(np.argmax(logits[0]))
        generated.append(nxt)
        if nxt == eos_id:
            break
        feed = {"input_ids": np.array([[nxt]], dtype=np.int64), "encoder_hidden_states": h,
                "encoder_attention_mask": mask}
        names = kv_names("past_key_values", n_layers, True)
        for i, nm in enumerate(names):
            feed[nm] = past[i]
        o = decp.run(None, feed)
        logits = o[0][:, -1]
        new_past = []
        for i in range(n_layers):
            new_past += [o[1 + 2 * i], o[2 + 2 * i], past[4 * i + 2], past[4 * i + 3]]
        past = new_past
    return generated


# ----------------------------------------------------------------------------------------------
# Beam search over the exported parts (numpy + ONNX Runtime, one decoder run per beam at batch 1):
# the C++ generator's algorithm, written from transformers' _beam_search (batch 1) and checked
# below to give transformers' generate(num_beams=...) ids. It also records the smallest score
# gap that decides a beam choice (ISA robustness, see BEAM_MIN_GAP).

REAL = -1.0e8  # scores below this carry the -1e9 masks of dummy/finished beams (never compared)


def log_softmax32(x):
    x = x.astype(np.float32)
    y = x - x.max()
    return (y - np.float32(np.log(np.exp(y.astype(np.float64)).sum()))).astype(np.float32)


def apply_processors(seq, scores, gen, max_length):
    """transformers' NoRepeatNGram, MinLength, ForcedBOS, ForcedEOS on one row (in place)."""
    cur_len = len(seq)
    n = gen.get("no_repeat_ngram_size") or 0
    if n > 0 and cur_len >= n:
        prefix = seq[cur_len + 1 - n:]
        for s in range(cur_len - n + 1):
            if seq[s:s + n - 1] == prefix:
                scores[seq[s + n - 1]] = -np.inf
    if (gen.get("min_length") or 0) > cur_len:
        scores[gen["eos_token_id"]] = -np.inf
    if gen.get("forced_bos_token_id") is not None and cur_len == 1:
        scores[:] = -np.inf
        scores[gen["forced_bos_token_id"]] = 0
    if gen.get("forced_eos_token_id") is not None and cur_len == max_length - 1:
        scores[:] = -np.inf
        scores[gen["forced_eos_token_id"]] = 0
    return scores


def sorted_real_gaps(values, upto):
    """Adjacent gaps of the `upto` + 1 best real (> REAL, finite) values."""
    v = sorted((float(x) for x in values if np.isfinite(x) and x > REAL), reverse=True)[:upto + 1]
    return [v[i] - v[i + 1] for i in range(len(v) - 1)]


def ort_beam(files, pixel_values, input_ids, n_layers, image_token_id, gen):
    N = gen["num_beams"]
    eos = gen["eos_token_id"]
    lp = gen["length_penalty"]
    es = gen["early_stopping"]
    max_length = 1 + gen["max_new_tokens"]
    NEG = np.float32(-1.0e9)
    s = {k: __import__("onnxruntime").InferenceSession(str(files[k]), providers=["CPUExecutionProvider"])
         for k in files}
    feats = s["florence2_golden_vision_encoder.onnx"].run(None, {"pixel_values": pixel_values})[0]
    text_ids = input_ids[:, input_ids[0] != image_token_id]
    text_emb = s["florence2_golden_embed_tokens.onnx"].run(None, {"input_ids": text_ids})[0]
    embeds = np.concatenate([feats, text_emb], axis=1)
    mask = np.ones((1, embeds.shape[1]), dtype=np.int64)
    h = s["florence2_golden_encoder_model.onnx"].run(None, {"inputs_embeds": embeds, "attention_mask": mask})[0]
    start = gen["decoder_start_token_id"]
    out = s["florence2_golden_decoder_model.onnx"].run(
        None, {"input_ids": np.array([[start]], dtype=np.int64), "encoder_hidden_states": h,
               "encoder_attention_mask": mask})
    logits = [out[0][0, -1]] * N
    self_kv = [[out[1 + 4 * i + k] for i in range(n_layers) for k in (0, 1)]] * N
    cross_kv = [out[1 + 4 * i + k] for i in range(n_layers) for k in (2, 3)]
    run_seq = [[start] for _ in range(N)]
    run_score = np.array([0.0] + [-1.0e9] * (N - 1), dtype=np.float32)
    fin_seq = [[start] for _ in range(N)]
    fin_score = np.full(N, -1.0e9, dtype=np.float32)
    fin_done = [False] * N
    unsat = True
    cur_len = 1
    gaps = []
    K = 2 * N
    while True:
        V = logits[0].shape[-1]
        rows = [apply_processors(run_seq[b], log_softmax32(logits[b]), gen, max_length) + run_score[b]
                for b in range(N)]
        flat = np.concatenate(rows).astype(np.float32)
        order = np.argsort(-flat, kind="stable")
        cand = [(np.float32(flat[i]), int(i // V), int(i % V)) for i in order[:K]]
        hits = [tok == eos or cur_len + 1 >= max_length for _, _, tok in cand]
        # decisions: the N-th candidate vs the next (who is in the top N), the N-th running one vs the next
        g = sorted_real_gaps(flat, N)
        if len(g) >= N:
            gaps.append(g[N - 1])
        nonhit = [flat[i] for i in order[:K + N] if not (int(i % V) == eos or cur_len + 1 >= max_length)]
        g = sorted_real_gaps(nonhit, N)
        if len(g) >= N:
            gaps.append(g[N - 1])
        # running beams for the next step
        rs = np.array([c[0] + (NEG if hit else np.float32(0)) for c, hit in zip(cand, hits)], dtype=np.float32)
        keep = np.argsort(-rs, kind="stable")[:N]
        # finished hypotheses
        denom = np.float32(float(cur_len) ** lp)
        full = all(fin_done) and es is True
        fs = []
        for k, (c, hit) in enumerate(zip(cand, hits)):
            v = np.float32(c[0] / denom)
            if full:
                v = np.float32(v + NEG)
            if not unsat:
                v = np.float32(v + NEG)
            if not (hit and k < N):
                v = np.float32(v + NEG)
            fs.append(v)
        merged_score = np.concatenate([fin_score, np.array(fs, dtype=np.float32)])
        merged_seq = fin_seq + [run_seq[b] + [tok] for _, b, tok in cand]
        merged_done = fin_done + [hit and k < N for k, hit in enumerate(hits)]
        gaps += sorted_real_gaps(merged_score, N)
        top = np.argsort(-merged_score, kind="stable")[:N]
        fin_seq = [merged_seq[i] for i in top]
        fin_score = merged_score[top]
        fin_done = [merged_done[i] for i in top]
        new_seq = [run_seq[cand[k][1]] + [cand[k][2]] for k in keep]
        parents = [cand[k][1] for k in keep]
        run_seq = new_seq
        run_score = rs[keep]
        self_kv = [self_kv[p] for p in parents]
        cur_len += 1
        best_len = (max_length - 1) if (es == "never" and lp > 0) else (cur_len - 1)
        best = np.float32(run_score[0] / np.float32(float(best_len) ** lp))
        if all(fin_done):
            worst = np.float32(fin_score.min())
            if best > REAL and worst > REAL:
                gaps.append(abs(float(best) - float(worst)))
            unsat = unsat and bool(best > worst)
        else:
            unsat = unsat and bool(best > np.float32(-1.0e9))
        if not unsat or (all(fin_done) and es is True) or all(hits):
            break
        logits, new_kv = [], []
        for b in range(N):
            feed = {"input_ids": np.array([[run_seq[b][-1]]], dtype=np.int64), "encoder_hidden_states": h,
                    "encoder_attention_mask": mask}
            for i in range(n_layers):
                feed[f"past_key_values.{i}.decoder.key"] = self_kv[b][2 * i]
                feed[f"past_key_values.{i}.decoder.value"] = self_kv[b][2 * i + 1]
                feed[f"past_key_values.{i}.encoder.key"] = cross_kv[2 * i]
                feed[f"past_key_values.{i}.encoder.value"] = cross_kv[2 * i + 1]
            o = s["florence2_golden_decoder_with_past_model.onnx"].run(None, feed)
            logits.append(o[0][0, -1])
            new_kv.append([o[1 + k] for k in range(2 * n_layers)])
        self_kv = new_kv
    return fin_seq[0], (min(gaps) if gaps else float("inf"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("golden_dir", type=Path)
    args = ap.parse_args()

    import torch
    from PIL import Image

    torch.set_num_threads(1)
    out = args.golden_dir / "florence"
    out.mkdir(parents=True, exist_ok=True)
    image = Image.open(args.golden_dir / IMAGE).convert("RGB")

    tokenizer = build_tokenizer()
    assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id) == (0, 1, 2)
    processor = build_processor(tokenizer)
    image_token_id = tokenizer.image_token_id
    model, cfg = build_model(len(tokenizer), image_token_id)
    n_layers = cfg.text_config.decoder_layers
    train(model, processor, image)

    tasks = []
    first_inputs = None
    for task, text_input, _target in TASKS:
        prompt = task + (text_input or "")
        enc = processor(text=prompt, images=image, return_tensors="pt")
        with torch.no_grad():
            res = model.generate(input_ids=enc.input_ids, pixel_values=enc.pixel_values,
                                 attention_mask=enc.attention_mask, max_new_tokens=MAX_NEW,
                                 num_beams=1, do_sample=False, output_logits=True,
                                 return_dict_in_generate=True)
        gen = res.sequences
        ids = gen[0].tolist()
        # Smallest top1 - top2 logit gap over the generated steps: how far each argmax is
        # from flipping (the C++ test requires > 1e-3 so that float rounding differences
        # between CPUs, e.g. AVX2 vs AVX-512 kernels, cannot change a token).
        margins = []
        for step_logits in res.logits:
            top2 = torch.topk(step_logits[0].float(), 2).values
            margins.append(float(top2[0] - top2[1]))
        min_margin = min(margins)
        if min_margin <= MIN_MARGIN:
            print(f"{task}: smallest top1-top2 logit margin {min_margin} <= {MIN_MARGIN}; "
                  "change SEED/TRAIN_STEPS", file=sys.stderr)
            return 1
        raw = processor.batch_decode(gen, skip_special_tokens=False)[0]
        parsed = processor.post_process_generation(raw, task=task, image_size=(image.width, image.height))
        text_ids = [i for i in enc.input_ids[0].tolist() if i != image_token_id]
        beams = []
        for bg in [BEAM_GEN] + BEAM_EXTRA:
            with torch.no_grad():
                beam = model.generate(input_ids=enc.input_ids, pixel_values=enc.pixel_values,
                                      attention_mask=enc.attention_mask, do_sample=False,
                                      num_beams=bg["num_beams"], no_repeat_ngram_size=bg["no_repeat_ngram_size"],
                                      forced_bos_token_id=bg["forced_bos_token_id"],
                                      forced_eos_token_id=bg["forced_eos_token_id"],
                                      early_stopping=bg["early_stopping"], length_penalty=bg["length_penalty"],
                                      min_length=bg["min_length"], max_new_tokens=bg["max_new_tokens"])
            beam_raw = processor.batch_decode(beam, skip_special_tokens=False)[0]
            beam_parsed = processor.post_process_generation(beam_raw, task=task,
                                                            image_size=(image.width, image.height))
            beams.append({"generation": bg, "generated_ids": beam[0].tolist(), "raw_text": beam_raw,
                          "parsed": beam_parsed[task],
                          "differs_from_greedy": beam[0].tolist() != ids})
            print(task, "beam", bg, beam[0].tolist(), beam_raw, file=sys.stderr)
        tasks.append({
            "task": task, "text_input": text_input, "prompt": prompt,
            "question": processor._construct_prompts(prompt)[0],
            "encoder_text_ids": text_ids,
            "num_image_tokens": int((enc.input_ids[0] == image_token_id).sum()),
            "generated_ids": ids, "raw_text": raw,
            "text_skip_special": processor.batch_decode(gen, skip_special_tokens=True)[0],
            "parsed": parsed[task],
            "min_logit_margin": min_margin,
            "beam": beams,
        })
        print(task, ids, raw, parsed, file=sys.stderr)
        if first_inputs is None:
            first_inputs = enc

    files = export_parts(model, out, first_inputs.pixel_values, first_inputs.input_ids, n_layers)
    for t, (task, text_input, _target) in zip(tasks, TASKS):
        enc = processor(text=task + (text_input or ""), images=image, return_tensors="np")
        got = ort_greedy(files, enc["pixel_values"].astype(np.float32), enc["input_ids"].astype(np.int64),
                         n_layers, image_token_id, 2, MAX_NEW)
        if got != t["generated_ids"]:
            print(f"ONNX parts greedy differs for {task}:\n ort   {got}\n torch {t['generated_ids']}",
                  file=sys.stderr)
            return 1
        print(f"ONNX parts greedy == reference for {task}", file=sys.stderr)
        for b in t["beam"]:
            got, gap = ort_beam(files, enc["pixel_values"].astype(np.float32), enc["input_ids"].astype(np.int64),
                                n_layers, image_token_id, b["generation"])
            if got != b["generated_ids"]:
                print(f"ONNX parts beam search {b['generation']} differs for {task}:\n ort   {got}\n"
                      f" torch {b['generated_ids']}", file=sys.stderr)
                return 1
            print(f"ONNX parts beam search == reference for {task} {b['generation']} (smallest deciding gap "
                  f"{gap})", file=sys.stderr)
            if gap <= BEAM_MIN_GAP:
                print(f"{task}: a beam choice is decided by a score gap {gap} <= {BEAM_MIN_GAP}; "
                      "change SEED/TRAIN_STEPS or the settings", file=sys.stderr)
                return 1
            b["min_score_gap"] = gap
        t["pixel_values_sum"] = float(enc["pixel_values"].astype(np.float64).sum())

    with tempfile.TemporaryDirectory() as td:
        tokenizer.save_pretrained(td)
        (out / "tokenizer.json").write_bytes((Path(td) / "tokenizer.json").read_bytes())
    from tokenizers import Tokenizer
    fast = Tokenizer.from_file(str(out / "tokenizer.json"))
    cases = []
    for s in TOKENIZER_CASES:
        ids = tokenizer(s, add_special_tokens=False).input_ids
        assert ids == fast.encode(s, add_special_tokens=False).ids, s
        cases.append({"text": s, "ids": ids,
                      "decoded": tokenizer.decode(ids, skip_special_tokens=False),
                      "decoded_skip_special": tokenizer.decode(ids, skip_special_tokens=True)})

    ref = {
        "generator": "python/gen_golden_florence.py",
        "transformers": __import__("transformers").__version__,
        "torch": torch.__version__,
        "image": IMAGE, "image_size": [image.width, image.height],
        "input_size": SIZE, "mean": MEAN, "std": STD, "resample": "bicubic (PIL)",
        "generation": {"num_beams": 1, "do_sample": False, "max_new_tokens": MAX_NEW,
                       "decoder_start_token_id": 2, "eos_token_id": 2},
        "special_ids": {"bos": 0, "pad": 1, "eos": 2, "unk": 3, "image": image_token_id},
        "vocab_size": len(tokenizer), "d_model": D_MODEL, "decoder_layers": n_layers,
        "decoder_heads": cfg.text_config.decoder_attention_heads,
        "tasks": tasks, "tokenizer_cases": cases,
    }
    (out / "florence_reference.json").write_text(json.dumps(ref, indent=1, ensure_ascii=False) + "\n",
                                                 encoding="utf-8")
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {out} ({total} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
