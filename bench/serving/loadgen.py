#!/usr/bin/env python3
"""Bounded load generator for an AegisRT model served by Triton (docs/SERVING.md).

Sends the given images (round robin) as IMAGE (BYTES) requests from C client
threads (one tritonclient per thread), for each concurrency level, and reports
throughput and latency percentiles per level. Every level is bounded by
--requests and --max-seconds; every request by --timeout.

  loadgen.py --url 127.0.0.1:8000 --model yolo --images a.png b.png \
             --concurrency 1 4 16 --requests 200 [--protocol http|grpc] [--json]

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


def run_level(args, images, concurrency):
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
        outputs = [tc.InferRequestedOutput("DETECTIONS")]
        while (n := take()) is not None:
            inp = tc.InferInput("IMAGE", [1], "BYTES")
            inp.set_data_from_numpy(np.array([images[n % len(images)]], dtype=np.object_))
            t0 = time.perf_counter()
            try:
                if args.protocol == "grpc":
                    client.infer(args.model, [inp], outputs=outputs, client_timeout=args.timeout)
                else:
                    client.infer(args.model, [inp], outputs=outputs)
                ms = (time.perf_counter() - t0) * 1e3
                with lock:
                    latencies.append(ms)
            except Exception as e:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(str(e))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.max_seconds + args.timeout + 5)
    wall = time.perf_counter() - t0
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
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="127.0.0.1:8000", help="host:port of the HTTP (or gRPC) endpoint")
    p.add_argument("--protocol", choices=("http", "grpc"), default="http")
    p.add_argument("--model", default="yolo")
    p.add_argument("--images", nargs="+", required=True)
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--requests", type=int, default=200, help="timed requests per level (upper bound)")
    p.add_argument("--warmup", type=int, default=8, help="untimed requests before the first level")
    p.add_argument("--max-seconds", type=float, default=120.0, help="time bound per level")
    p.add_argument("--timeout", type=float, default=60.0, help="per-request timeout (s)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if any(c < 1 or c > 256 for c in args.concurrency):
        p.error("--concurrency values must be in 1..256")
    images = []
    for path in args.images:
        with open(path, "rb") as f:
            images.append(f.read())
    if args.warmup > 0:
        warm = argparse.Namespace(**vars(args))
        warm.requests = args.warmup
        run_level(warm, images, 1)
    results = [run_level(args, images, c) for c in args.concurrency]
    if args.json:
        print(json.dumps({"model": args.model, "protocol": args.protocol, "levels": results}, indent=2))
    else:
        print(f"{args.model} over {args.protocol} at {args.url}, {len(images)} image(s)")
        print(f"{'conc':>5} {'reqs':>6} {'err':>4} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}")
        for r in results:
            print(f"{r['concurrency']:>5} {r['requests']:>6} {r['errors']:>4} {r['throughput_rps']:>8.1f} "
                  f"{r['p50_ms']:>8.1f} {r['p90_ms']:>8.1f} {r['p99_ms']:>8.1f}")
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
