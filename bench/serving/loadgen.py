#!/usr/bin/env python3
"""Bounded load generator for an AegisRT model served by Triton (docs/SERVING.md).

Sends requests from C client threads (one tritonclient per thread), for each
concurrency level, and reports throughput and latency percentiles per level.
Every level is bounded by --requests and --max-seconds; every request by --timeout.
Three kinds of request (--mode):

  image   IMAGE (BYTES [1]): the encoded files given by --images, round robin
  frame   FRAME (UINT8 [H,W,3]): raw RGB frames, round robin; --images are .npy
          files holding uint8 [H,W,3] (or image files, decoded with Pillow if this
          Python has it)
  tensor  the model's own tensors (tensor mode): every input the model's metadata
          lists, from --input NAME=FILE.npy, else random (fixed --seed) in the
          metadata's shape, -1 dimensions taken from --shape NAME=1x3x320x320
          (or --batch for the first one); every output requested

  loadgen.py --url 127.0.0.1:8000 --model yolo --images a.png b.png \
             --concurrency 1 4 16 --requests 200 [--protocol http|grpc] [--json]
  loadgen.py --mode frame --model yolo --images a.npy b.npy ...
  loadgen.py --mode tensor --model yolo_tensor [--input images=x.npy] ...

A pipeline-mode model with max_batch_size > 0 (Triton's dynamic batching, `aegisrt
serve --max-batch-size N`) takes one image per request with a batch dimension of 1
(IMAGE [1,1], FRAME [1,H,W,3]); the model's configuration is read and the dimension
added. Every level also reports Triton's execution and inference counts for the
model over the level (model statistics), so batching shows as executions < requests.

Run it with third_party/triton/PYTHON (it has tritonclient).
"""
import argparse
import json
import statistics
import sys
import threading
import time

import numpy as np


def percentile(sorted_ms, q):
    if not sorted_ms:
        return float("nan")
    k = (len(sorted_ms) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(sorted_ms) - 1)
    return sorted_ms[lo] + (sorted_ms[hi] - sorted_ms[lo]) * (k - lo)


class Payloads:
    """What the workers send: `items` (round robin), each a list of (input name,
    Triton datatype, numpy value), and the output names requested."""

    def __init__(self, items, outputs):
        self.items = items
        self.outputs = outputs


TRITON_TO_NUMPY = {"BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32,
                   "UINT64": np.uint64, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32,
                   "INT64": np.int64, "FP16": np.float16, "FP32": np.float32, "FP64": np.float64}


def load_frame(path):
    if path.endswith(".npy"):
        frame = np.load(path)
    else:
        try:
            from PIL import Image
        except ImportError:
            raise SystemExit(f"--mode frame: {path} is not a .npy file and this Python has no Pillow to decode it "
                             "(give uint8 [H,W,3] .npy files)")
        with Image.open(path) as im:
            frame = np.asarray(im.convert("RGB"), dtype=np.uint8)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise SystemExit(f"--mode frame: {path} holds {frame.dtype} {list(frame.shape)}, expected uint8 [H,W,3]")
    return np.ascontiguousarray(frame)


def parse_shape(text):
    return [int(d) for d in text.replace(",", "x").split("x")]


def tensor_payloads(args):
    """The model's own tensors, from its metadata (HTTP or gRPC, whichever --protocol is)."""
    if args.protocol == "grpc":
        import tritonclient.grpc as tc
        meta = tc.InferenceServerClient(args.url).get_model_metadata(args.model, as_json=True)
    else:
        import tritonclient.http as tc
        meta = tc.InferenceServerClient(args.url, network_timeout=args.timeout).get_model_metadata(args.model)
    given = dict(kv.split("=", 1) for kv in args.input)
    shapes = {k: parse_shape(v) for k, v in (kv.split("=", 1) for kv in args.shape)}
    rng = np.random.default_rng(args.seed)
    item = []
    for spec in meta["inputs"]:
        name, datatype = spec["name"], spec["datatype"]
        if datatype not in TRITON_TO_NUMPY:
            raise SystemExit(f"--mode tensor: input '{name}' has datatype {datatype}, which loadgen does not fill")
        dtype = TRITON_TO_NUMPY[datatype]
        if name in given:
            value = np.load(given[name]).astype(dtype, copy=False)
        else:
            shape = shapes.get(name, [int(d) for d in spec["shape"]])
            if shape and shape[0] == -1:
                shape[0] = args.batch
            if any(d < 0 for d in shape):
                raise SystemExit(f"--mode tensor: input '{name}' has shape {spec['shape']}; give --shape {name}=...")
            if np.issubdtype(dtype, np.floating):
                value = rng.standard_normal(shape).astype(dtype)
            elif dtype == np.bool_:
                value = rng.integers(0, 2, shape).astype(np.bool_)
            else:
                value = rng.integers(0, 10, shape).astype(dtype)
        item.append((name, datatype, np.ascontiguousarray(value)))
    for k in given:
        if k not in [spec["name"] for spec in meta["inputs"]]:
            raise SystemExit(f"--input {k}: the model has no such input")
    return Payloads([item], args.outputs or [o["name"] for o in meta["outputs"]])


def client_for(args):
    if args.protocol == "grpc":
        import tritonclient.grpc as tc
        return tc.InferenceServerClient(args.url)
    import tritonclient.http as tc
    return tc.InferenceServerClient(args.url, network_timeout=args.timeout)


def max_batch_size(args):
    """The model configuration's max_batch_size (> 0: requests carry a batch dimension)."""
    client = client_for(args)
    if args.protocol == "grpc":
        cfg = client.get_model_config(args.model, as_json=True)["config"]
    else:
        cfg = client.get_model_config(args.model)
    return int(cfg.get("max_batch_size", 0))


def model_counts(args):
    """Triton's (execution_count, inference_count) for the model, summed over its versions."""
    client = client_for(args)
    if args.protocol == "grpc":
        stats = client.get_inference_statistics(args.model, as_json=True)
    else:
        stats = client.get_inference_statistics(args.model)
    ex = sum(int(m.get("execution_count", 0)) for m in stats.get("model_stats", []))
    inf = sum(int(m.get("inference_count", 0)) for m in stats.get("model_stats", []))
    return ex, inf


def make_payloads(args):
    if args.mode == "tensor":
        return tensor_payloads(args)
    if not args.images:
        raise SystemExit(f"--mode {args.mode} needs --images")
    outputs = args.outputs or ["DETECTIONS"]
    # Pipeline mode with dynamic batching: one image per request, batch dimension 1.
    batched = max_batch_size(args) > 0
    if args.mode == "frame":
        frames = [load_frame(p) for p in args.images]
        return Payloads([[("FRAME", "UINT8", f[np.newaxis] if batched else f)] for f in frames], outputs)
    items = []
    for path in args.images:
        with open(path, "rb") as f:
            data = np.array([f.read()], dtype=np.object_)
        items.append([("IMAGE", "BYTES", data.reshape(1, 1) if batched else data)])
    return Payloads(items, outputs)


def run_level(args, payloads, concurrency):
    if args.protocol == "grpc":
        import tritonclient.grpc as tc
    else:
        import tritonclient.http as tc
    lock = threading.Lock()
    latencies, errors = [], []
    sent = [0]
    deadline = time.monotonic() + args.max_seconds

    def take():
        with lock:
            if sent[0] >= args.requests or time.monotonic() >= deadline:
                return None
            sent[0] += 1
            return sent[0]

    def worker():
        if args.protocol == "grpc":
            client = tc.InferenceServerClient(args.url)
        else:
            client = tc.InferenceServerClient(args.url, network_timeout=args.timeout)
        outputs = [tc.InferRequestedOutput(o) for o in payloads.outputs]
        while (n := take()) is not None:
            inputs = []
            for name, datatype, value in payloads.items[n % len(payloads.items)]:
                inp = tc.InferInput(name, list(value.shape), datatype)
                inp.set_data_from_numpy(value)
                inputs.append(inp)
            t0 = time.perf_counter()
            try:
                if args.protocol == "grpc":
                    client.infer(args.model, inputs, outputs=outputs, client_timeout=args.timeout)
                else:
                    client.infer(args.model, inputs, outputs=outputs)
                ms = (time.perf_counter() - t0) * 1e3
                with lock:
                    latencies.append(ms)
            except Exception as e:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(str(e))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    counts0 = model_counts(args)
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.max_seconds + args.timeout + 5)
    wall = time.perf_counter() - t0
    counts1 = model_counts(args)
    lat = sorted(latencies)
    return {
        "concurrency": concurrency,
        "requests": len(lat),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "seconds": wall,
        "throughput_rps": len(lat) / wall if wall > 0 else 0.0,
        "p50_ms": percentile(lat, 0.50),
        "p90_ms": percentile(lat, 0.90),
        "p99_ms": percentile(lat, 0.99),
        "mean_ms": statistics.fmean(lat) if lat else float("nan"),
        # Triton's model statistics over the level: executions < inferences means batches ran.
        "executions": counts1[0] - counts0[0],
        "inferences": counts1[1] - counts0[1],
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="127.0.0.1:8000", help="host:port of the HTTP (or gRPC) endpoint")
    p.add_argument("--protocol", choices=("http", "grpc"), default="http")
    p.add_argument("--model", default="yolo")
    p.add_argument("--mode", choices=("image", "frame", "tensor"), default="image",
                   help="image: IMAGE (encoded files); frame: FRAME (raw RGB .npy); tensor: the model's own tensors")
    p.add_argument("--images", nargs="+", default=[], help="image mode: encoded files; frame mode: uint8 [H,W,3] .npy")
    p.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy", help="tensor mode: an input's value")
    p.add_argument("--shape", action="append", default=[], metavar="NAME=1x3x320x320",
                   help="tensor mode: shape of a random input with -1 dimensions")
    p.add_argument("--batch", type=int, default=1, help="tensor mode: a random input's -1 first dimension")
    p.add_argument("--seed", type=int, default=0, help="tensor mode: seed of the random inputs")
    p.add_argument("--outputs", nargs="+", default=[],
                   help="outputs to request (default: DETECTIONS; tensor mode: all the model's)")
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--requests", type=int, default=200, help="timed requests per level (upper bound)")
    p.add_argument("--warmup", type=int, default=8, help="untimed requests before the first level")
    p.add_argument("--max-seconds", type=float, default=120.0, help="time bound per level")
    p.add_argument("--timeout", type=float, default=60.0, help="per-request timeout (s)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if any(c < 1 or c > 256 for c in args.concurrency):
        p.error("--concurrency values must be in 1..256")
    payloads = make_payloads(args)
    if args.warmup > 0:
        warm = argparse.Namespace(**vars(args))
        warm.requests = args.warmup
        run_level(warm, payloads, 1)
    results = [run_level(args, payloads, c) for c in args.concurrency]
    if args.json:
        print(json.dumps({"model": args.model, "protocol": args.protocol, "mode": args.mode, "levels": results},
                         indent=2))
    else:
        print(f"{args.model} over {args.protocol} at {args.url}, {args.mode} mode, {len(payloads.items)} payload(s)")
        print(f"{'conc':>5} {'reqs':>6} {'err':>4} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
              f"{'execs':>6}")
        for r in results:
            print(f"{r['concurrency']:>5} {r['requests']:>6} {r['errors']:>4} {r['throughput_rps']:>8.1f} "
                  f"{r['p50_ms']:>8.1f} {r['p90_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['executions']:>6}")
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
