#!/usr/bin/env python3
"""TVM-CUDA with and without MetaSchedule tuning vs ORT's CUDA provider on
ResNet-50 (1x3x640x640 fp32, torchvision, random weights), side by side in
one run on one GPU (issue 16 item 4). One device call of < 10 minutes:

  scripts/gpu/run_all.sh --tune      # = this script with the GPU machine's environment

Steps, each timed, each printed as a table row (and $OUT/tvm_tune.md):
  1. make resnet50.onnx (bench/gpu/gpu_bench_models.py, torch on the GPU machine);
  2. ORT CUDA: `aegisrt exec -n 50` p50, outputs saved;
  3. TVM cuda, untuned (dlight rules): `aegisrt build` wall time, then exec
     with backend option tune=off: p50, outputs saved;
  4. TVM cuda, tuned: `aegisrt build --tune SECONDS` wall time and its
     summary line, then exec with the default tune=auto (which must load the
     -tuned library: checked in the -v log): p50, outputs saved;
  5. the outputs of 3 and 4 against ORT's (max abs difference, same seeded input).

Usage: tvm_tune_bench.py --build build/gpu --out DIR [--seconds 240] [--python PY]
       tvm_tune_bench.py --build build/dev --out DIR --device cpu --model M.onnx   # the CPU counterpart
(--model skips step 1; --device cpu compares TVM llvm with ORT's CPU provider.)
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build/gpu")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=int, default=240, help="MetaSchedule budget")
    ap.add_argument("--python", default=sys.executable, help="Python with torch/torchvision (model export)")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--model", help="an ONNX model instead of the exported ResNet-50")
    a = ap.parse_args()
    cli = os.path.join(a.build, "tools", "aegisrt", "aegisrt")
    raw = os.path.join(a.out, "tune_raw")
    os.makedirs(raw, exist_ok=True)
    cache = os.path.join(raw, "tvm_cache")
    rows = []

    def table():
        if a.device == "cuda":
            card = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                                  capture_output=True, text=True).stdout.strip()
        else:
            card = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo", encoding="utf-8")
                         if l.startswith("model name")), "unknown CPU") + f", {os.cpu_count()} logical CPUs"
        text = (f"TVM tuning benchmark (bench/gpu/tvm_tune_bench.py), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                f"{a.device}: {card}, {model_label}, MetaSchedule budget {a.seconds} s\n\n"
                "| step | result | notes |\n|---|---|---|\n")
        text += "".join(f"| {s} | {r} | {n} |\n" for s, r, n in rows)
        with open(os.path.join(a.out, "tvm_tune.md"), "w", encoding="utf-8") as f:
            f.write(text)
        return text

    def sh(cmd, timeout, name):
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        dt = time.perf_counter() - t
        with open(os.path.join(raw, name + ".log"), "w", encoding="utf-8") as f:
            f.write(" ".join(cmd) + f"\n# rc={p.returncode} in {dt:.1f} s\n# stdout\n{p.stdout}\n# stderr\n{p.stderr}")
        if p.returncode != 0:
            tail = (p.stderr.strip().splitlines() or ["(no stderr)"])[-1]
            raise RuntimeError(f"{name}: rc={p.returncode}: {tail}")
        return p, dt

    def step(name, fn):
        try:
            result, notes = fn()
        except Exception as e:  # noqa: BLE001 - every row reports its own failure
            result, notes = "FAILED", str(e).replace("|", "/")[:300]
        rows.append((name, result, notes))
        print(f"{name}: {result} ({notes})", flush=True)
        table()
        return result != "FAILED"

    onnx = a.model or os.path.join(raw, "resnet50.onnx")
    model_label = os.path.basename(a.model) if a.model else "ResNet-50 1x3x640x640 fp32"
    ort_name = "ORT CUDA" if a.device == "cuda" else "ORT CPU"
    tvm_name = "TVM cuda" if a.device == "cuda" else "TVM llvm"

    def make():
        p, dt = sh([a.python, os.path.join(HERE, "gpu_bench_models.py"), "resnet50", raw], 240, "make_resnet50")
        return "built", f"{os.path.getsize(onnx) / 1e6:.0f} MB in {dt:.0f} s"

    def exec_p50(extra, name):
        out_dir = os.path.join(raw, "outputs_" + name)
        p, _ = sh([cli, "-v", "exec", "-m", onnx, "-n", "50", "--warmup", "5", "--seed", "7", "--json",
                   "--save-outputs", out_dir] + extra, 300, "exec_" + name)
        j = json.loads(p.stdout[p.stdout.index("{"):])
        loaded = re.findall(r"loaded '([^']+)'", p.stderr)
        return j["latency_ms"]["p50"], j["latency_ms"].get("p99"), out_dir, (loaded[-1] if loaded else "")

    latency = {}

    def ort():
        p50, p99, out, _ = exec_p50(["--backend", "onnx", "--device", a.device], "ort")
        latency["ort"] = (p50, out)
        return f"p50 {p50:.2f} ms", f"aegisrt exec, {ort_name} EP, 50 runs (p99 {p99:.2f} ms)"

    tvm = ["--backend", "tvm", "--device", a.device, "--cache-dir", cache]

    def build(extra, name, timeout):
        p, dt = sh([cli, "build", "--model-file", onnx, "--backend", "tvm", "--device", a.device, "--cache-dir", cache]
                   + extra, timeout, name)
        lines = [l.strip() for l in p.stdout.splitlines() if l.strip()]
        return dt, lines

    def untuned_build():
        dt, lines = build([], "build_untuned", 300)
        return f"{dt:.0f} s", lines[0] if lines else ""

    def untuned():
        p50, p99, out, lib = exec_p50(tvm + ["--backend-option", "tune=off"], "tvm_untuned")
        latency["untuned"] = (p50, out)
        return f"p50 {p50:.2f} ms", f"{tvm_name}, default schedules (cuda: dlight rules), no tuning; {os.path.basename(lib)}; p99 {p99:.2f} ms"

    def tuned_build():
        dt, lines = build(["--tune", str(a.seconds)], "build_tuned", a.seconds + 400)
        summary = next((l for l in lines if l.startswith("tuned:")), "no tuning summary printed")
        return f"{dt:.0f} s", summary

    def tuned():
        p50, p99, out, lib = exec_p50(tvm, "tvm_tuned")
        if not lib.endswith("-tuned.so"):
            raise RuntimeError(f"tune=auto loaded '{lib}', not the tuned library")
        latency["tuned"] = (p50, out)
        return f"p50 {p50:.2f} ms", f"{tvm_name}, MetaSchedule {a.seconds} s, default schedules for the rest; {os.path.basename(lib)}; p99 {p99:.2f} ms"

    def agree():
        import numpy as np

        notes = []
        ref = sorted(glob.glob(os.path.join(latency["ort"][1], "*.npy")))
        if not ref:
            raise RuntimeError("ORT saved no output")
        worst = 0.0
        for key in ("untuned", "tuned"):
            if key not in latency:
                continue
            for r in ref:
                x = np.load(r)
                y = np.load(os.path.join(latency[key][1], os.path.basename(r)))
                d = float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64))))
                scale = float(np.max(np.abs(x))) or 1.0
                worst = max(worst, d / scale)
                notes.append(f"{key}: max |diff| {d:.2e} (output max |x| {scale:.2e})")
        return ("agree" if worst <= 1e-3 else "DIFFER"), "; ".join(notes) + "; bound 1e-3 of the output's max"

    def ratios():
        o = latency["ort"][0]
        parts = [f"untuned {latency['untuned'][0] / o:.2f}x" if "untuned" in latency else "",
                 f"tuned {latency['tuned'][0] / o:.2f}x" if "tuned" in latency else ""]
        gain = (f"; tuning: {latency['untuned'][0] / latency['tuned'][0]:.2f}x faster than untuned"
                if "tuned" in latency and "untuned" in latency else "")
        return ", ".join(p for p in parts if p), f"TVM p50 / {ort_name} p50 (above 1 = TVM slower)" + gain

    if a.model or step("make ResNet-50", make):
        step(f"{ort_name} inference", ort)
        if step(f"{tvm_name} build, untuned", untuned_build):
            step(f"{tvm_name} inference, untuned", untuned)
        if step(f"{tvm_name} build, --tune {a.seconds}", tuned_build):
            step(f"{tvm_name} inference, tuned", tuned)
        step(f"outputs vs {ort_name} (same seeded input)", agree)
        step("TVM / ORT latency", ratios)
    print(table())
    return 0 if all(r != "FAILED" for _, r, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
