#!/usr/bin/env bash
# Whole-pipeline throughput: AegisRT's C++ pipeline (`aegisrt bench`) against
# the Python pipeline users run today (bench/pipeline/python_baseline.py:
# onnxruntime + opencv-python-headless wheels), same model, same images, same
# ONNX Runtime thread count, in ONE run with the two alternating round by round
# so machine noise hits both alike. Each side: decode the file, letterbox +
# normalise, execute, decode + NMS, boxes back to the original image.
# Three contenders per round: the Python loop, `aegisrt bench` one image at a
# time (the same sequential loop), and `aegisrt bench --prefetch 2` (the next
# images are decoded on a helper thread while the current one runs: the
# C++ pipeline's stream mode; wall-clock images/s).
# Two row sets, each with its own rounds and table: the demo PNGs, then the
# same images saved as JPEG (quality 95, by OpenCV's cv2.imwrite) into a
# temporary folder, so both decoders (libpng and libjpeg-turbo on each side)
# are compared.
#
#   bench/pipeline/run_pipeline_bench.sh [BUILD_DIR]
# Environment: ROUNDS (default 5), ITERATIONS per round (default 150),
#   WARMUP (default 10), THREADS (ORT intra-op threads, default 0 = ORT's default),
#   RESULTS (JSON file to write, default BUILD_DIR/pipeline_bench.json:
#   {"png": {...}, "jpeg": {...}}).
# Needs a Release build of aegisrt_cli and .venv (scripts/setup.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build/release}"
ROUNDS="${ROUNDS:-5}"
ITERATIONS="${ITERATIONS:-150}"
WARMUP="${WARMUP:-10}"
THREADS="${THREADS:-0}"
RESULTS="${RESULTS:-$BUILD/pipeline_bench.json}"
PY="$ROOT/.venv/bin/python"
AEGISRT="$BUILD/tools/aegisrt/aegisrt"
DATA="$BUILD/bench_pipeline"

[ -x "$AEGISRT" ] || { echo "error: $AEGISRT not built (cmake --build $BUILD --target aegisrt_cli)" >&2; exit 1; }
[ -x "$PY" ] || { echo "error: $PY missing; run scripts/setup.sh" >&2; exit 1; }
"$PY" -c "import cv2, onnxruntime" 2>/dev/null ||
  { echo "error: the baseline needs opencv-python-headless and onnxruntime in .venv (scripts/setup.sh)" >&2; exit 1; }

"$PY" "$ROOT/python/gen_demo.py" "$DATA" >/dev/null
echo "model: $DATA/demo.onnx; images: $(ls "$DATA"/*.png | wc -l) demo PNGs (and as JPEG q95); $ROUNDS rounds x $ITERATIONS images per set, threads=$THREADS"


tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/jpeg"
"$PY" - "$DATA" "$tmp/jpeg" <<'PYEOF'
import os, sys, cv2
src, dst = sys.argv[1], sys.argv[2]
for f in sorted(os.listdir(src)):
    if f.lower().endswith(".png"):
        img = cv2.imread(os.path.join(src, f), cv2.IMREAD_UNCHANGED)
        if img is None or not cv2.imwrite(os.path.join(dst, f[:-4] + ".jpg"), img,
                                          [cv2.IMWRITE_JPEG_QUALITY, 95]):
            sys.exit(f"error: cannot convert {f} to JPEG")
PYEOF

# run_set NAME DIR: ROUNDS alternating rounds on the images of DIR, then the
# set's table; its summary goes to $tmp/NAME.json.
run_set() {
  local name="$1" dir="$2"
  echo
  echo "== $name: $(ls "$dir" | grep -Eic '\.(png|jpe?g)$') images in $dir =="
  for r in $(seq 1 "$ROUNDS"); do
    "$PY" "$ROOT/bench/pipeline/python_baseline.py" --onnx "$DATA/demo.onnx" --input "$dir" \
      --iterations "$ITERATIONS" --warmup "$WARMUP" --threads "$THREADS" --json >"$tmp/${name}_python_$r.json"
    "$AEGISRT" --models-dir "$ROOT/models" bench --model yolo --variant demo --backend onnx \
      --onnx "$DATA/demo.onnx" --input "$dir" --iterations "$ITERATIONS" --warmup "$WARMUP" \
      --threads "$THREADS" --json >"$tmp/${name}_cpp_$r.json"
    "$AEGISRT" --models-dir "$ROOT/models" bench --model yolo --variant demo --backend onnx \
      --onnx "$DATA/demo.onnx" --input "$dir" --iterations "$ITERATIONS" --warmup "$WARMUP" \
      --threads "$THREADS" --prefetch 2 --json >"$tmp/${name}_cpp_prefetch_$r.json"
    "$PY" - "$tmp" "$name" "$r" <<'PYEOF'
import json, sys
d, n, r = sys.argv[1], sys.argv[2], sys.argv[3]
p = json.load(open(f"{d}/{n}_python_{r}.json"))["images_per_s"]
c = json.load(open(f"{d}/{n}_cpp_{r}.json"))["images_per_second"]
s = json.load(open(f"{d}/{n}_cpp_prefetch_{r}.json"))["wall_images_per_second"]
print(f"{n} round {r}: python {p:6.1f} images/s | c++ {c:6.1f} ({c / p:4.2f}x) | "
      f"c++ --prefetch 2 {s:6.1f} ({s / p:4.2f}x)")
PYEOF
  done
  "$PY" - "$tmp" "$name" "$ROUNDS" "$THREADS" <<'PYEOF'
import json, os, platform, statistics, sys
d, n, rounds, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
py = [json.load(open(f"{d}/{n}_python_{r}.json")) for r in range(1, rounds + 1)]
cc = [json.load(open(f"{d}/{n}_cpp_{r}.json")) for r in range(1, rounds + 1)]
cs = [json.load(open(f"{d}/{n}_cpp_prefetch_{r}.json")) for r in range(1, rounds + 1)]
med = statistics.median
py_ips = med(x["images_per_s"] for x in py)
cc_ips = med(x["images_per_second"] for x in cc)
cs_ips = med(x["wall_images_per_second"] for x in cs)
stage = lambda xs, key: med(x["mean_ms"][key] for x in xs)
cstage = lambda key: med(x["warm_ms"][key]["mean"] for x in cc)
res = {
    "images": n, "rounds": rounds, "threads": threads, "cpu_count": os.cpu_count(),
    "machine": platform.platform(), "python": platform.python_version(),
    "onnxruntime": py[0]["onnxruntime"], "opencv": py[0]["opencv"],
    "python_images_per_s": py_ips, "cpp_images_per_s": cc_ips, "ratio": cc_ips / py_ips,
    "cpp_prefetch_images_per_s": cs_ips, "ratio_prefetch": cs_ips / py_ips,
    "round_ratios": [c["images_per_second"] / p["images_per_s"] for p, c in zip(py, cc)],
    "round_ratios_prefetch": [c["wall_images_per_second"] / p["images_per_s"] for p, c in zip(py, cs)],
    "python_ms": {k: stage(py, k) for k in ("decode", "pre", "execute", "post", "total")},
    "cpp_ms": {"decode": cstage("decode"), "pre": cstage("preprocess"), "execute": cstage("execute"),
               "post": cstage("postprocess"), "total": cstage("total")},
    "cpp_p50_ms": med(x["warm_ms"]["total"]["p50"] for x in cc),
    "cpp_p99_ms": med(x["warm_ms"]["total"]["p99"] for x in cc),
    "python_p50_ms": med(x["p50_ms"] for x in py), "python_p99_ms": med(x["p99_ms"] for x in py),
    "detections_per_image": {"python": py[0]["detections_per_image"], "cpp": cc[0]["detections_per_image"],
                             "cpp_prefetch": cs[0]["detections_per_image"]},
}
json.dump(res, open(f"{d}/{n}.json", "w"), indent=2)
print()
print(f"| stage (mean ms/image, {n}) | Python (ORT + OpenCV) | AegisRT C++ | speed-up |")
print("|---|---:|---:|---:|")
for k in ("decode", "pre", "execute", "post", "total"):
    p, c = res["python_ms"][k], res["cpp_ms"][k]
    print(f"| {k} | {p:.2f} | {c:.2f} | {p / c if c > 0 else float('inf'):.2f}x |")
print(f"| **images/s (median of {rounds} rounds)** | **{py_ips:.1f}** | **{cc_ips:.1f}** | **{res['ratio']:.2f}x** |")
print(f"| **images/s, C++ --prefetch 2 (wall clock)** | | **{cs_ips:.1f}** | **{res['ratio_prefetch']:.2f}x** |")
print(f"\nround ratios, c++ / python: {', '.join(f'{x:.2f}' for x in res['round_ratios'])}; "
      f"--prefetch 2: {', '.join(f'{x:.2f}' for x in res['round_ratios_prefetch'])}")
print(f"detections/image: python {res['detections_per_image']['python']:.2f}, "
      f"c++ {res['detections_per_image']['cpp']:.2f}")
PYEOF
}

run_set png "$DATA"
run_set jpeg "$tmp/jpeg"
"$PY" - "$tmp" "$RESULTS" <<'PYEOF'
import json, sys
d, out = sys.argv[1], sys.argv[2]
json.dump({n: json.load(open(f"{d}/{n}.json")) for n in ("png", "jpeg")}, open(out, "w"), indent=2)
print(f"\nresults: {out}")
PYEOF
