#!/usr/bin/env bash
# Serving figures in one command (docs/SERVING.md, "Load generator and figures"):
# starts `aegisrt serve` with the demo detector in pipeline mode (model `yolo`)
# and the same ONNX file in tensor mode (model `yolo_tensor`), runs
# bench/serving/loadgen.py at each concurrency for image, frame and tensor
# requests over HTTP and gRPC, runs the in-process references on the same
# inputs (`aegisrt bench` for images, `aegisrt exec` for the tensors), prints
# one table with the overhead ratio served p50 / in-process p50 (the in-process
# runs come before the server starts and after it stops; their mean is used),
# and stops the server (also on error or Ctrl-C).
#
#   bench/serving/run_figures.sh [--backend onnx|openvino|cuda|tensorrt|tvm] [--build DIR]
#       [--requests N] [--concurrency "1 4 16"] [--threads T] [--max-seconds S] [--out DIR] [--demo-dir DIR]
#       [--protocols "http grpc"] [--instances N]
#       [--batch N [--batch-delay-us D] [--batch-concurrency "16"] [--batch-onnx FILE] [--batch-only]]
#
# --batch N: also measures Triton's dynamic batching in pipeline mode, in the same
# server run: two models on one dynamic-batch export (--batch-onnx, default the
# tiny one-class YOLOv8 detector <build>/test_data/batch/yolov8-person-golden-dynbatch.onnx
# from tests/data/gen_dynamic_batch.py, target aegisrt_batch_models; the demo
# detector's export has a fixed batch of 1), served as yolo/v8n: `yolo_batch_off`
# (max_batch_size 0) and `yolo_batch_on` (`aegisrt serve --max-batch-size N
# --batch-delay-us D`, default 1000), image requests (the demo PNGs) at
# --batch-concurrency (default 16), off then on, per protocol; a second table with
# Triton's executions per level. --batch-only skips everything else.
#
# --protocols: which clients to run (the GPU machine's Python 3.12 has only the
# gRPC one: tritonclient's HTTP client needs geventhttpclient<=2.0.2, no 3.12 wheel).
# --instances: Triton instances of each model (one loaded model shared by them).
# --build: the build tree (default: build/release if it has the CLI and the
# backend, else build/dev); --demo-dir: the demo data (default <build>/test_data/demo,
# target aegisrt_demo_data). --threads: ONNX Runtime intra-op threads (onnx only).
# tritonserver: $AEGISRT_TRITONSERVER, else $AEGISRT_TRITON_DIR/bin/tritonserver
# (AEGISRT_TRITON_DIR defaults to third_party/triton, where scripts/deps/50-triton.sh
# installs it and where the serving tests find it). The client Python:
# $AEGISRT_TRITON_PYTHON, else the one named in $AEGISRT_TRITON_DIR/PYTHON. The
# frames are decoded by tests/serving/reference_tools.py with $AEGISRT_TEST_PYTHON
# (default .venv/bin/python, which has Pillow). Loopback only; ports found free.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BACKEND=onnx
BUILD=""
REQUESTS=60
CONCURRENCY="1 4 16"
THREADS=1
MAX_SECONDS=120
OUT=""
DEMO=""
PROTOCOLS="http grpc"
INSTANCES=1
BATCH=0
BATCH_DELAY_US=1000
BATCH_CONCURRENCY="16"
BATCH_ONNX=""
BATCH_ONLY=0
START_TIMEOUT=${AEGISRT_SERVE_START_TIMEOUT:-900}  # a TensorRT/TVM build at first load takes a while

usage() { sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --backend) BACKEND=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --max-seconds) MAX_SECONDS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --demo-dir) DEMO=$2; shift 2 ;;
    --protocols) PROTOCOLS=$2; shift 2 ;;
    --instances) INSTANCES=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --batch-delay-us) BATCH_DELAY_US=$2; shift 2 ;;
    --batch-concurrency) BATCH_CONCURRENCY=$2; shift 2 ;;
    --batch-onnx) BATCH_ONNX=$2; shift 2 ;;
    --batch-only) BATCH_ONLY=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "run_figures.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

die() { echo "run_figures.sh: $*" >&2; exit 1; }
if [[ -z "$BUILD" ]]; then
  BUILD="$ROOT/build/dev"
  [[ -x "$ROOT/build/release/tools/aegisrt/aegisrt" && -f "$ROOT/build/release/triton_backends/aegisrt/libtriton_aegisrt.so" ]] &&
    BUILD="$ROOT/build/release"
fi
BUILD=$(cd "$BUILD" && pwd) || die "no build folder $BUILD"
CLI="$BUILD/tools/aegisrt/aegisrt"
BACKEND_DIR=${AEGISRT_TRITON_BACKEND_DIR:-$BUILD/triton_backends}
[[ -n "$DEMO" ]] || DEMO="$BUILD/test_data/demo"
DEMO=$(cd "$DEMO" 2>/dev/null && pwd) || die "no demo data folder $DEMO (build the target aegisrt_demo_data)"
TRITON_DIR=${AEGISRT_TRITON_DIR:-$ROOT/third_party/triton}
TRITONSERVER=${AEGISRT_TRITONSERVER:-$TRITON_DIR/bin/tritonserver}
CLIENT_PY=${AEGISRT_TRITON_PYTHON:-}
[[ -z "$CLIENT_PY" && -f "$TRITON_DIR/PYTHON" ]] && CLIENT_PY=$(head -n1 "$TRITON_DIR/PYTHON")
REF_PY=${AEGISRT_TEST_PYTHON:-$ROOT/.venv/bin/python}
[[ -x "$CLI" ]] || die "no aegisrt CLI at $CLI (build the target aegisrt_cli, or pass --build)"
[[ -f "$BACKEND_DIR/aegisrt/libtriton_aegisrt.so" ]] || die "no $BACKEND_DIR/aegisrt/libtriton_aegisrt.so (target triton_aegisrt)"
[[ -x "$TRITONSERVER" ]] || die "no tritonserver at $TRITONSERVER (scripts/deps/50-triton.sh, or set AEGISRT_TRITONSERVER / AEGISRT_TRITON_DIR)"
[[ -n "$CLIENT_PY" && -x "$CLIENT_PY" ]] || die "no Python with tritonclient (set AEGISRT_TRITON_PYTHON)"
[[ -x "$REF_PY" ]] || die "no Python with Pillow to decode the frames (set AEGISRT_TEST_PYTHON)"
[[ -f "$DEMO/demo.onnx" ]] || die "no demo data in $DEMO (build the target aegisrt_demo_data)"
IMAGES=("$DEMO/demo_shapes.png" "$DEMO/demo_shapes_wide.png" "$DEMO/demo_shapes_square.png")
[[ "$BATCH" =~ ^[0-9]+$ ]] || die "--batch takes a number"
[[ $BATCH_ONLY == 0 || $BATCH -gt 0 ]] || die "--batch-only needs --batch N"
if [[ $BATCH -gt 0 ]]; then
  [[ -n "$BATCH_ONNX" ]] || BATCH_ONNX="$BUILD/test_data/batch/yolov8-person-golden-dynbatch.onnx"
  [[ -f "$BATCH_ONNX" ]] || die "no dynamic-batch export $BATCH_ONNX (build the target aegisrt_batch_models, or pass --batch-onnx)"
  BATCH_ONNX=$(cd "$(dirname "$BATCH_ONNX")" && pwd)/$(basename "$BATCH_ONNX")
fi
# `aegisrt exec` takes registry names: the vocabulary's "cuda" is ONNX Runtime with its CUDA provider
# (src/backend/backend_vocabulary.cpp), which is what tensor mode loads for backend "cuda".
DEVICE=cpu
EXEC_BACKEND=$BACKEND
THREAD_ARGS=()
EXEC_OPTS=()
case "$BACKEND" in
  onnx) THREAD_ARGS=(--threads "$THREADS"); EXEC_OPTS=(--backend-option "intra_op_threads=$THREADS") ;;
  cuda) DEVICE=cuda; EXEC_BACKEND=onnx; EXEC_OPTS=(--backend-option provider=cuda) ;;
  tensorrt) DEVICE=cuda ;;
esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/aegisrt_figures_XXXXXX")
[[ -n "$OUT" ]] || OUT="$WORK/out"
mkdir -p "$OUT" "$WORK/images" "$WORK/frames" "$WORK/cache"
SERVER_PID=""
stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "run_figures.sh: aegisrt serve did not stop in 30 s; killing its process group" >&2
      kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    fi
  fi
  SERVER_PID=""
}
cleanup() {
  stop_server
  rm -rf "$WORK/repo" "$WORK/images" "$WORK/frames" "$WORK/cache" "$WORK/probe.json"
  [[ "$OUT" == "$WORK/out" ]] || rmdir "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ISA=$(grep -m1 '^flags' /proc/cpuinfo | grep -ow 'avx2\|avx512f' | sort -u | paste -sd, - || true)
MACHINE_LINE="machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), ${ISA:-no AVX2}; load average at start $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"
BUILD_LINE="build: $BUILD ($(grep -m1 '^CMAKE_BUILD_TYPE' "$BUILD/CMakeCache.txt" 2>/dev/null | cut -d= -f2)); backend $BACKEND; threads $THREADS; $INSTANCES instance(s) per model; $REQUESTS requests per level"
[[ $BATCH -gt 0 ]] && BUILD_LINE+="; batching: max_batch_size $BATCH, max_queue_delay ${BATCH_DELAY_US} us, $(basename "$BATCH_ONNX")"
echo "== $MACHINE_LINE"
echo "== $BUILD_LINE"

# Inputs: the three demo images, their frames (decoded by Pillow), the tensor-mode model's shapes.
cp "${IMAGES[@]}" "$WORK/images/"
FRAMES=()
for img in "${IMAGES[@]}"; do
  f="$WORK/frames/$(basename "$img" .png).npy"
  "$REF_PY" "$ROOT/tests/serving/reference_tools.py" decode "$img" "$f"
  FRAMES+=("$f")
done
"$CLI" exec -m "$DEMO/demo.onnx" -b "$EXEC_BACKEND" --device "$DEVICE" --cache-dir "$WORK/cache" -n 1 --json \
  "${EXEC_OPTS[@]}" > "$WORK/probe.json"

# In-process references on the same inputs, same backend and threads: `aegisrt bench`
# (images, decode included) and `aegisrt exec` (the tensors). Run before the server
# starts and again after it stopped; the ratio uses the mean of the two p50s (a
# machine shared with other work drifts; both are printed).
in_process() {
  "$CLI" --models-dir "$ROOT/models" bench --model yolo --variant demo --backend "$BACKEND" "${THREAD_ARGS[@]}" \
    --model-data "$DEMO" --cache-dir "$WORK/cache" --input "$WORK/images" -n "$REQUESTS" --warmup 5 --json \
    > "$OUT/bench_$1.json" 2> "$OUT/bench_$1.log" || { tail -n 5 "$OUT/bench_$1.log" >&2; die "aegisrt bench failed"; }
  "$CLI" exec -m "$DEMO/demo.onnx" -b "$EXEC_BACKEND" --device "$DEVICE" --cache-dir "$WORK/cache" -n "$REQUESTS" \
    --warmup 5 --json "${EXEC_OPTS[@]}" > "$OUT/exec_$1.json"
}
if [[ $BATCH_ONLY == 0 ]]; then
  echo "== in-process (before): aegisrt bench (images), aegisrt exec (tensors)"
  in_process before
fi

# Repository: `yolo` (pipeline mode, written by aegisrt serve) and `yolo_tensor` (tensor mode, same file).
"$CLI" --models-dir "$ROOT/models" serve --model yolo --variant demo --backend "$BACKEND" "${THREAD_ARGS[@]}" \
  --instances "$INSTANCES" --model-data "$DEMO" --cache-dir "$WORK/cache" --repo "$WORK/repo" --write-repo-only > /dev/null
mkdir -p "$WORK/repo/yolo_tensor/1"
"$CLIENT_PY" - "$WORK/probe.json" "$DEMO/demo.onnx" "$BACKEND" "$THREADS" "$WORK/cache" "$INSTANCES" \
  > "$WORK/repo/yolo_tensor/config.pbtxt" <<'PY'
import json, sys
probe, onnx, backend, threads, cache, instances = sys.argv[1:]
doc = json.load(open(probe))
types = {"float32": "FP32", "float16": "FP16", "float64": "FP64", "int64": "INT64", "int32": "INT32",
         "int8": "INT8", "uint8": "UINT8", "bool": "BOOL"}
def entries(ts):
    return ",\n".join(f'  {{ name: "{t["name"]}" data_type: TYPE_{types[t["dtype"]]} dims: '
                      f'[ {", ".join(str(d) for d in t["shape"])} ] }}' for t in ts)
print('name: "yolo_tensor"\nbackend: "aegisrt"\nmax_batch_size: 0')
print(f"input [\n{entries(doc['inputs'])}\n]\noutput [\n{entries(doc['outputs'])}\n]")
print(f"instance_group [ {{ count: {int(instances)} kind: KIND_CPU }} ]")
params = {"mode": "tensor", "backend": backend, "onnx": onnx, "cache_dir": cache}
if backend == "onnx":
    params["threads"] = threads
for k, v in params.items():
    print(f'parameters {{ key: "{k}" value: {{ string_value: "{v}" }} }}')
PY
READY_MODELS="yolo yolo_tensor"
if [[ $BATCH -gt 0 ]]; then
  # The same dynamic-batch export twice: unbatched, and with Triton's dynamic batching.
  BATCH_SEL=(--model yolo --variant v8n --backend "$BACKEND" "${THREAD_ARGS[@]}" --instances "$INSTANCES"
             --onnx "$BATCH_ONNX" --cache-dir "$WORK/cache" --repo "$WORK/repo" --write-repo-only)
  "$CLI" --models-dir "$ROOT/models" serve "${BATCH_SEL[@]}" --name yolo_batch_off > /dev/null
  "$CLI" --models-dir "$ROOT/models" serve "${BATCH_SEL[@]}" --name yolo_batch_on --max-batch-size "$BATCH" \
    --batch-delay-us "$BATCH_DELAY_US" > /dev/null
  READY_MODELS+=" yolo_batch_off yolo_batch_on"
fi

read -r HTTP_PORT GRPC_PORT METRICS_PORT < <("$CLIENT_PY" -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
setsid "$CLI" --models-dir "$ROOT/models" serve --repo "$WORK/repo" --tritonserver "$TRITONSERVER" \
  --backend-directory "$BACKEND_DIR" --http-port "$HTTP_PORT" --grpc-port "$GRPC_PORT" \
  --metrics-port "$METRICS_PORT" > "$OUT/serve.log" 2>&1 &
SERVER_PID=$!
"$CLIENT_PY" - "$HTTP_PORT" "$START_TIMEOUT" "$SERVER_PID" $READY_MODELS <<'PY' || { tail -n 40 "$OUT/serve.log" >&2; die "server not ready"; }
import os, sys, time, urllib.request
port, timeout, pid = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + timeout
for model in sys.argv[4:]:
    while True:
        if time.monotonic() > deadline or not os.path.exists(f"/proc/{pid}"):
            sys.exit(1)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/models/{model}/ready", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        time.sleep(0.5)
PY
echo "== server ready (HTTP $HTTP_PORT, gRPC $GRPC_PORT); log: $OUT/serve.log"

# Served figures.
LOADGEN=("$CLIENT_PY" "$ROOT/bench/serving/loadgen.py" --concurrency $CONCURRENCY --requests "$REQUESTS"
         --max-seconds "$MAX_SECONDS" --json)
for proto in $PROTOCOLS; do
  [[ $BATCH_ONLY == 0 ]] || break
  port=$HTTP_PORT
  [[ $proto == grpc ]] && port=$GRPC_PORT
  echo "== loadgen $proto: image, frame, tensor"
  "${LOADGEN[@]}" --protocol "$proto" --url "127.0.0.1:$port" --model yolo --mode image --images "${IMAGES[@]}" \
    > "$OUT/image_$proto.json"
  "${LOADGEN[@]}" --protocol "$proto" --url "127.0.0.1:$port" --model yolo --mode frame --images "${FRAMES[@]}" \
    > "$OUT/frame_$proto.json"
  "${LOADGEN[@]}" --protocol "$proto" --url "127.0.0.1:$port" --model yolo_tensor --mode tensor \
    > "$OUT/tensor_$proto.json"
done

if [[ $BATCH -gt 0 ]]; then
  for proto in $PROTOCOLS; do
    port=$HTTP_PORT
    [[ $proto == grpc ]] && port=$GRPC_PORT
    for model in yolo_batch_off yolo_batch_on; do
      echo "== loadgen $proto: $model (image requests)"
      "$CLIENT_PY" "$ROOT/bench/serving/loadgen.py" --concurrency $BATCH_CONCURRENCY --requests "$REQUESTS" \
        --max-seconds "$MAX_SECONDS" --json --protocol "$proto" --url "127.0.0.1:$port" --model "$model" \
        --mode image --images "${IMAGES[@]}" > "$OUT/${model}_$proto.json"
    done
  done
fi

echo "== stopping the server"
stop_server
if [[ $BATCH_ONLY == 0 ]]; then
  echo "== in-process (after)"
  in_process after
fi

echo "== results (JSON of every run, serve.log, figures.md) in $OUT"
{ echo "$MACHINE_LINE"; echo "$BUILD_LINE"; echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
"$CLIENT_PY" - "$OUT" "$BATCH" <<'PY'
import json, os, sys
out, batch = sys.argv[1], int(sys.argv[2])
def load(name):
    with open(os.path.join(out, name)) as f:
        return json.load(f)
failed = 0
if batch > 0:
    print()
    print("| model | max_batch_size | protocol | concurrency | requests | errors | req/s | p50 ms | p90 ms | p99 ms "
          "| Triton executions | requests per execution |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for proto in ("http", "grpc"):
        for model, mbs in (("yolo_batch_off", 0), ("yolo_batch_on", batch)):
            path = os.path.join(out, f"{model}_{proto}.json")
            if not os.path.exists(path):
                continue
            for lv in json.load(open(path))["levels"]:
                failed += lv["errors"]
                per = lv["inferences"] / lv["executions"] if lv["executions"] else float("nan")
                print(f"| {model} | {mbs} | {'HTTP' if proto == 'http' else 'gRPC'} | {lv['concurrency']} | "
                      f"{lv['requests']} | {lv['errors']} | {lv['throughput_rps']:.1f} | {lv['p50_ms']:.1f} | "
                      f"{lv['p90_ms']:.1f} | {lv['p99_ms']:.1f} | {lv['executions']} | {per:.2f} |")
    print("Triton executions: the model's execution_count over the level (model statistics); "
          "requests per execution = inference_count / execution_count.")
if not os.path.exists(os.path.join(out, "bench_before.json")):  # --batch-only
    sys.exit(1 if failed else 0)
runs = {}
for when in ("before", "after"):
    b = load(f"bench_{when}.json")["warm_ms"]
    runs[when] = {"image": b["total"]["p50"],
                  # No in-process run starts from raw pixels: the bench's p50 without its decode stage's p50.
                  "frame": b["total"]["p50"] - b["decode"]["p50"],
                  "tensor": load(f"exec_{when}.json")["latency_ms"]["p50"],
                  "decode": b["decode"]["p50"], "p99": b["total"]["p99"]}
what = {"image": "aegisrt bench p50 (decode included)",
        "frame": "aegisrt bench p50 - its decode p50 (approx.)",
        "tensor": "aegisrt exec p50"}
ref = {m: (runs["before"][m] + runs["after"][m]) / 2 for m in what}
print()
print("| mode | protocol | concurrency | requests | errors | req/s | p50 ms | p90 ms | p99 ms | in-process p50 ms | p50 ratio |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for mode in ("image", "frame", "tensor"):
    for proto in ("http", "grpc"):
        if not os.path.exists(os.path.join(out, f"{mode}_{proto}.json")):
            continue  # --protocols left it out
        doc = json.load(open(os.path.join(out, f"{mode}_{proto}.json")))
        for lv in doc["levels"]:
            failed += lv["errors"]
            r = ref[mode]
            print(f"| {mode} | {'HTTP' if proto == 'http' else 'gRPC'} | {lv['concurrency']} | {lv['requests']} | "
                  f"{lv['errors']} | {lv['throughput_rps']:.1f} | {lv['p50_ms']:.1f} | {lv['p90_ms']:.1f} | "
                  f"{lv['p99_ms']:.1f} | {r:.1f} | {lv['p50_ms'] / r:.2f} |")
print()
for mode in what:
    print(f"in-process {mode}: {ref[mode]:.1f} ms = mean of before {runs['before'][mode]:.1f} / after "
          f"{runs['after'][mode]:.1f}; {what[mode]}")
for when in ("before", "after"):
    print(f"in-process bench {when}: p99 {runs[when]['p99']:.1f} ms, decode p50 {runs[when]['decode']:.1f} ms")
print("p50 ratio = served p50 / in-process p50; at concurrency > 1 it includes queueing in Triton.")
sys.exit(1 if failed else 0)
PY
} | tee "$OUT/figures.md"
