#!/usr/bin/env python3
"""The GPU benchmark of issue 16 item 5, in one run (bench/gpu/run_gpu_bench.sh calls this).

Runs, on the same models and the same images, each row in its own subprocess
with a timeout (a failing row prints its error, the table gets FAILED + the
reason, and the run goes on), and prints ONE markdown table, also written to
OUT/gpu_bench.md (rewritten after every row, so a run cut short still leaves
the rows it finished) with the raw outputs beside it:

  * end-to-end images/s, p50, p99: `aegisrt bench` on backend cuda with the
    device path and with the CPU path (--device-path off), vs
    bench/pipeline/python_baseline.py --provider cuda (onnxruntime-gpu +
    OpenCV), on the demo detector and a YOLOv8n-shaped export;
  * GPU JPEG decode (nvJPEG, `aegisrt bench --decode gpu`): the device path
    with nvJPEG decode vs the device path with CPU decode (--decode cpu) vs
    the Python baseline, all on JPEG copies (quality 95, OpenCV) of the same
    images (the demo images are PNGs, which always decode on the CPU);
  * the device path with ORT's CUDA graph replay (--backend-option
    cuda_graph=1) next to the device-path row, and its execute p50 against it;
  * end-to-end / inference-only latency (the bench's p50 total / p50 execute);
  * throughput with 1/2/4 pipelines in flight (`aegisrt bench --streams N`);
  * the fused pre-processing kernel's bandwidth as a share of a measured
    device-to-device copy (bench_vision_cuda);
  * ORT overhead on the micro model (bench_ort_overhead, CPU EP: the micro
    model is a CPU-overhead measurement);
  * the CPU pipeline vs Python on the GPU host's 16 quiet cores (the dev VM's
    bench/pipeline/run_pipeline_bench.sh comparison): ONNX Runtime's CPU EP on
    both sides, `aegisrt bench --backend onnx` (one image at a time and
    --prefetch 2) vs python_baseline.py --provider cpu, demo detector, on the
    PNGs and on their JPEG copies; CPU_ROUNDS alternating rounds, medians;
  * time to first output with a warm cache for ResNet-50 (~100 MB fp32):
    wall time of a whole `aegisrt exec` process, second of two runs (ORT CUDA:
    OS page cache warm; TVM cuda: artefact cache warm, the first run builds).

Models are built on the device by gpu_bench_models.py (random weights).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

TARGETS = {
    "speedup": ">= 2x (issue 16)",
    "ratio": "<= 1.10",
    "bandwidth": ">= 70 %",
    "overhead": "p50 <= 2 %",
    "cpu_speedup": ">= 1.5x (issue 16)",
}
CPU_ROUNDS = 3  # alternating rounds of the CPU-EP comparison (median reported)


def source_id():
    """The commit the tree on this machine was prepared from: $AEGISRT_SOURCE_COMMIT,
    else the SOURCE file scripts/gpu/prepare.sh writes into the parts (unpacked to
    /tmp/aegis-stage by run_all.sh) and into .gpu/. Not `git rev-parse HEAD`: the GPU
    machine's copy of the tree has no .git of its own commit (its HEAD is stale)."""
    env = os.environ.get("AEGISRT_SOURCE_COMMIT", "").strip()
    if env:
        return f"{env} (AEGISRT_SOURCE_COMMIT)"
    for path in (os.environ.get("AEGISRT_SOURCE_FILE", ""), "/tmp/aegis-stage/SOURCE",
                 os.path.join(ROOT, ".gpu", "SOURCE")):
        if path and os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                kv = dict(line.strip().split("=", 1) for line in f if "=" in line)
            commit = kv.get("commit", "")[:12] or "?"
            dirty = kv.get("dirty", "0")
            dirty_note = "" if dirty in ("", "0") else f" + {dirty} uncommitted file(s)"
            return f"{commit}{dirty_note} (prepared {kv.get('prepared', '?')}, scripts/gpu/prepare.sh)"
    return "unknown (no SOURCE from scripts/gpu/prepare.sh; set AEGISRT_SOURCE_COMMIT)"


class RowError(Exception):
    pass


class Bench:
    def __init__(self, args):
        self.a = args
        self.rows = []
        self.t0 = time.monotonic()
        self.out = args.out
        os.makedirs(self.out, exist_ok=True)
        self.cli = os.path.join(args.build, "tools", "aegisrt", "aegisrt")
        self.bpy = args.python
        self.log = open(os.path.join(self.out, "gpu_bench.log"), "w", encoding="utf-8")

    # ------------------------------------------------------------ plumbing
    def left(self):
        return self.a.budget - (time.monotonic() - self.t0)

    def sh(self, cmd, timeout, name):
        """Runs cmd; its stdout (and stderr) go to OUT/raw/NAME.*; RowError on failure."""
        timeout = min(timeout, max(5.0, self.left() - 5.0))
        raw = os.path.join(self.out, "raw")
        os.makedirs(raw, exist_ok=True)
        self.log.write(f"$ {' '.join(cmd)}\n")
        self.log.flush()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RowError(f"timed out after {timeout:.0f} s: {' '.join(cmd[:3])} ...") from None
        except OSError as e:
            raise RowError(f"cannot run {cmd[0]}: {e}") from None
        with open(os.path.join(raw, name + ".out"), "w", encoding="utf-8") as f:
            f.write(p.stdout)
        with open(os.path.join(raw, name + ".err"), "w", encoding="utf-8") as f:
            f.write(p.stderr)
        if p.returncode != 0:
            tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-3:]
            raise RowError(f"rc={p.returncode}: " + " | ".join(tail))
        return p.stdout

    @staticmethod
    def first_json(text):
        """The first JSON object in text (log lines may come before it)."""
        dec = json.JSONDecoder()
        for i, line_start in enumerate([0] + [k + 1 for k, c in enumerate(text) if c == "\n"]):
            if text.startswith("{", line_start):
                try:
                    return dec.raw_decode(text[line_start:])[0]
                except json.JSONDecodeError:
                    continue
        raise RowError("no JSON in the output")

    def row(self, measurement, model, config, fn, target=""):
        if self.left() < 10:
            result, note = "SKIPPED", "time budget of the run used up"
        else:
            try:
                result, note = fn()
            except RowError as e:
                result, note = "FAILED", str(e)
            except Exception as e:  # noqa: BLE001 - a broken row must not end the run
                result, note = "FAILED", f"{type(e).__name__}: {e}"
        note = note.replace("|", "/").replace("\n", " ")[:600]
        self.rows.append((measurement, model, config, result, target, note))
        print(f"[{time.monotonic() - self.t0:5.0f} s] {measurement} | {model} | {config} | {result} | {note}",
              file=sys.stderr, flush=True)
        self.write_table()

    def table(self):
        lines = ["| measurement | model | configuration | result | target | note |",
                 "|---|---|---|---|---|---|"]
        for r in self.rows:
            lines.append("| " + " | ".join(str(x) for x in r) + " |")
        return "\n".join(lines) + "\n"

    def write_table(self):
        with open(os.path.join(self.out, "gpu_bench.md"), "w", encoding="utf-8") as f:
            f.write(self.header + "\n" + self.table())

    # ------------------------------------------------------------ pieces
    def aegis_bench(self, model, mode, streams=1, iterations=None, name=None, extra=(), decode=None, images=None):
        it = iterations or self.a.iterations
        cmd = [self.cli, "bench", "--model", "yolo", "--variant", model["variant"], "--backend", "cuda",
               "--input", images or self.a.images, "--iterations", str(it), "--warmup", str(self.a.warmup),
               "--device-path", mode, "--streams", str(streams), "--json"] + model["args"] + list(extra)
        if decode:
            cmd += ["--decode", decode]
        key = name or f"bench_{model['key']}_{mode}_s{streams}" + (f"_{decode}" if decode else "")
        return self.cached(key, lambda: self.first_json(self.sh(cmd, 120, key)))

    def cached(self, key, fn):
        """fn() once per key; a failure is remembered too (rows that need the
        same run report the same error instead of running it again)."""
        if key not in self.cache:
            try:
                self.cache[key] = fn()
            except RowError as e:
                self.cache[key] = e
        v = self.cache[key]
        if isinstance(v, RowError):
            raise v
        return v

    @staticmethod
    def fmt_bench(j):
        w = j["warm_ms"]
        path = "device path" if j.get("device_path", {}).get("used") else \
            "CPU path (" + j.get("device_path", {}).get("reason", "?") + ")"
        res = (f"{j['wall_images_per_second']:.1f} img/s; p50 {w['total']['p50']:.2f} ms, "
               f"p99 {w['total']['p99']:.2f} ms")
        d = j.get("decoder", {})
        if d.get("configured") == "nvjpeg":
            path += f", nvJPEG decode ({d.get('gpu_decoded_images', 0)}/{j.get('iterations', '?')} images on the GPU)"
        elif d:
            path += ", CPU decode"
        note = (f"{path}; stages p50: decode {w['decode']['p50']:.2f}, pre {w['preprocess']['p50']:.2f}, "
                f"execute {w['execute']['p50']:.2f}, post {w['postprocess']['p50']:.2f} ms; "
                f"{j.get('detections_per_image', 0):.1f} det/img")
        return res, note

    def python_baseline(self, model, images=None, key=None):
        key = key or f"python_{model['key']}"
        cmd = [self.bpy, os.path.join(ROOT, "bench", "pipeline", "python_baseline.py"), "--onnx", model["onnx"],
               "--input", images or self.a.images, "--iterations", str(self.a.iterations), "--warmup", str(self.a.warmup),
               "--provider", "cuda", "--json"]
        return self.cached(key, lambda: self.first_json(self.sh(cmd, 150, key)))

    # ------------------------------------------------------------ rows
    def detector_rows(self, model):
        name = model["label"]

        def dev():
            j = self.aegis_bench(model, "require")
            return self.fmt_bench(j)

        def cpu():
            return self.fmt_bench(self.aegis_bench(model, "off"))

        def py(images=None, key=None):
            j = self.python_baseline(model, images, key)
            m = j["mean_ms"]
            return (f"{j['images_per_s']:.1f} img/s; p50 {j['p50_ms']:.2f} ms, p99 {j['p99_ms']:.2f} ms",
                    f"onnxruntime {j['onnxruntime']} ({j.get('provider')}), OpenCV {j['opencv']}; mean: decode "
                    f"{m['decode']:.2f}, pre {m['pre']:.2f}, execute {m['execute']:.2f}, post {m['post']:.2f} ms; "
                    f"{j['detections_per_image']:.1f} det/img")

        def speedup():
            a = self.aegis_bench(model, "require")
            p = self.python_baseline(model)
            return (f"{a['wall_images_per_second'] / p['images_per_s']:.2f}x",
                    f"aegisrt device path {a['wall_images_per_second']:.1f} vs python {p['images_per_s']:.1f} img/s, "
                    f"one image at a time")

        def speedup_cpu_path():
            a = self.aegis_bench(model, "require")
            c = self.aegis_bench(model, "off")
            return (f"{a['wall_images_per_second'] / c['wall_images_per_second']:.2f}x",
                    "device path / CPU path (images/s), both aegisrt on backend cuda")

        def ratio():
            w = self.aegis_bench(model, "require")["warm_ms"]
            ex = w["execute"]["p50"]
            no_decode = w["total"]["p50"] - w["decode"]["p50"]
            return (f"{w['total']['p50'] / ex:.2f}",
                    f"p50 end-to-end {w['total']['p50']:.2f} ms / p50 execute {ex:.2f} ms (execute = backend "
                    f"call incl. output download); without decode: {no_decode / ex:.2f}")

        def graph():
            # Backend option cuda_graph=1: ORT's CUDA provider captures the model
            # once per pipeline instance (inputs/outputs at fixed device addresses)
            # and replays it per image (docs/BACKENDS.md).
            j = self.aegis_bench(model, "require", name=f"bench_{model['key']}_cudagraph",
                                 extra=["--backend-option", "cuda_graph=1"])
            if not j.get("cuda_graph"):
                raise RowError("aegisrt bench JSON reports cuda_graph off")
            res, note = self.fmt_bench(j)
            a = self.aegis_bench(model, "require")
            ex, ex0 = j["warm_ms"]["execute"]["p50"], a["warm_ms"]["execute"]["p50"]
            return res, (f"CUDA graph replay; execute p50 {ex:.2f} vs {ex0:.2f} ms without; "
                         f"{j['wall_images_per_second'] / a['wall_images_per_second']:.2f}x images/s; " + note)

        self.row("end-to-end", name, "aegisrt bench, cuda, device path", dev)
        self.row("end-to-end", name, "aegisrt bench, cuda, device path + CUDA graph (cuda_graph=1)", graph)
        self.row("end-to-end", name, "aegisrt bench, cuda, CPU path (--device-path off)", cpu)
        self.row("end-to-end", name, "python_baseline.py --provider cuda", py)
        self.row("speedup vs python", name, "aegisrt device path / python", speedup, TARGETS["speedup"])
        self.row("device vs CPU path", name, "aegisrt, cuda", speedup_cpu_path)
        self.row("end-to-end / inference", name, "aegisrt device path, p50", ratio, TARGETS["ratio"])

        # GPU JPEG decode (nvJPEG): the same images as JPEGs, decoded on the GPU
        # vs on the CPU (both device path), and Python on the same JPEGs.
        if self.jpeg_images:
            jp = self.jpeg_images

            def nvjpeg():
                return self.fmt_bench(self.aegis_bench(model, "require", decode="gpu", images=jp,
                                                       name=f"bench_{model['key']}_nvjpeg"))

            def cpu_decode():
                return self.fmt_bench(self.aegis_bench(model, "require", decode="cpu", images=jp,
                                                       name=f"bench_{model['key']}_jpeg_cpudecode"))

            def nvjpeg_speedup():
                a = self.aegis_bench(model, "require", decode="gpu", images=jp, name=f"bench_{model['key']}_nvjpeg")
                p = self.python_baseline(model, jp, f"python_{model['key']}_jpeg")
                return (f"{a['wall_images_per_second'] / p['images_per_s']:.2f}x",
                        f"aegisrt device path + nvJPEG {a['wall_images_per_second']:.1f} vs python "
                        f"{p['images_per_s']:.1f} img/s on the same JPEGs, one image at a time")

            self.row("end-to-end (JPEG)", name, "aegisrt bench, cuda, device path + nvJPEG decode (--decode gpu)", nvjpeg)
            self.row("end-to-end (JPEG)", name, "aegisrt bench, cuda, device path, CPU decode (--decode cpu)", cpu_decode)
            self.row("end-to-end (JPEG)", name, "python_baseline.py --provider cuda",
                     lambda: py(jp, f"python_{model['key']}_jpeg"))
            self.row("speedup vs python (JPEG)", name, "aegisrt device path + nvJPEG / python", nvjpeg_speedup,
                     TARGETS["speedup"])

            def jpeg_ratio(decode, key):
                def fn():
                    j = self.aegis_bench(model, "require", decode=decode, images=jp, name=key)
                    w = j["warm_ms"]
                    ex = w["execute"]["p50"]
                    return (f"{w['total']['p50'] / ex:.2f}",
                            f"p50 end-to-end {w['total']['p50']:.2f} ms / p50 execute {ex:.2f} ms; stages p50: "
                            f"decode {w['decode']['p50']:.2f}, pre {w['preprocess']['p50']:.2f}, post "
                            f"{w['postprocess']['p50']:.2f} ms")
                return fn

            # The GPU's hardware JPEG engine (--decode gpu-hw: A100/H100 class); refused
            # with Unsupported on a card without one.
            def nvjpeg_hw():
                j = self.aegis_bench(model, "require", decode="gpu-hw", images=jp, name=f"bench_{model['key']}_nvjpeghw")
                if not j.get("decoder", {}).get("hardware"):
                    raise RowError("aegisrt bench JSON reports no hardware decoder")
                res, note = self.fmt_bench(j)
                p = self.python_baseline(model, jp, f"python_{model['key']}_jpeg")
                return res, f"{j['wall_images_per_second'] / p['images_per_s']:.2f}x python; " + note

            self.row("end-to-end / inference (JPEG)", name, "aegisrt device path + nvJPEG, p50",
                     jpeg_ratio("gpu", f"bench_{model['key']}_nvjpeg"), TARGETS["ratio"])
            self.row("end-to-end (JPEG)", name, "aegisrt bench, cuda, device path + nvJPEG hardware engine "
                     "(--decode gpu-hw)", nvjpeg_hw)
            self.row("end-to-end / inference (JPEG)", name, "aegisrt device path + nvJPEG hardware engine, p50",
                     jpeg_ratio("gpu-hw", f"bench_{model['key']}_nvjpeghw"), TARGETS["ratio"])


    def stream_rows(self, model):
        for n in (1, 2, 4):
            def fn(n=n):
                j = self.aegis_bench(model, "require", streams=n, iterations=self.a.iterations * n)
                w = j["warm_ms"]["total"]
                return (f"{j['wall_images_per_second']:.1f} img/s",
                        f"{n} pipeline(s) over one loaded model, device path; per image p50 {w['p50']:.2f} ms, "
                        f"p99 {w['p99']:.2f} ms")
            self.row("throughput, in flight", model["label"], f"--streams {n}", fn)

    def preprocess_rows(self):
        exe = os.path.join(self.a.build, "bench", "vision", "bench_vision_cuda")

        def fn():
            if not os.path.exists(exe):
                raise RowError(f"{exe} not built (AEGISRT_BUILD_BENCH=ON with CUDA)")
            j = self.first_json(self.sh([exe, "--benchmark_format=json"], 90, "bench_vision_cuda"))
            by = {b["name"]: b for b in j["benchmarks"]}
            for n, b in by.items():
                if b.get("error_occurred"):
                    raise RowError(f"{n}: {b.get('error_message', 'error')}")
            copy = next(b for n, b in by.items() if n.startswith("BM_CudaMemcpyD2D"))
            parts = []
            share = share_gpu = None
            for n, b in by.items():
                if n.startswith("BM_CudaPreprocess"):
                    s = 100.0 * b["GB/s_effective"] / copy["GB/s_effective"]
                    # CUDA events, launches queued back to back (no host launch cost).
                    sg = 100.0 * b.get("GB/s_gpu_b2b", 0.0) / copy["GB/s_gpu_b2b"] if copy.get("GB/s_gpu_b2b") else None
                    if share is None:
                        share, share_gpu = s, sg
                    kind = " (no resampling)" if b.get("identity") == 1 else ""
                    parts.append(f"{n.split('/', 1)[1].split('/manual')[0]}{kind}: wall {b['us_per_launch']:.1f} us "
                                 f"({s:.0f} %), GPU b2b {b.get('us_gpu_b2b', 0):.2f} us"
                                 + (f" ({sg:.0f} %)" if sg is not None else "")
                                 + f", single {b.get('us_gpu_single', 0):.2f}, 1+sync {b.get('us_wall_single', 0):.1f}")
            if share is None:
                raise RowError("no BM_CudaPreprocess result")
            res = f"{share:.0f} % of D2D copy"
            if share_gpu is not None:
                res += f" (host wall); {share_gpu:.0f} % (GPU events, back to back)"
            return (res,
                    f"D2D copy {copy['GB/s_effective']:.0f} GB/s, {copy['us_per_launch']:.2f} us wall; GPU b2b "
                    f"{copy.get('us_gpu_b2b', 0):.2f} us, single {copy.get('us_gpu_single', 0):.2f} us; "
                    + "; ".join(parts))
        self.row("pre-processing kernel bandwidth", "640x480 -> 1x3x640x640 (first figure)", "bench_vision_cuda", fn,
                 TARGETS["bandwidth"])

    @staticmethod
    def find_ncu():
        found = shutil.which("ncu")
        if found:
            return found
        import glob
        for pattern in ("/usr/local/cuda/bin/ncu", "/opt/nvidia/nsight-compute/*/ncu", "/usr/local/cuda*/bin/ncu"):
            hits = sorted(glob.glob(pattern))
            if hits:
                return hits[-1]
        return None

    def kernel_profile_row(self, model):
        """Nsight Compute over a few frames of the JPEG + nvJPEG device path: the GPU time of
        every kernel (gpu__time_duration), grouped by stage, per frame. Against the stages'
        host-clock p50 of the same configuration (the "end-to-end (JPEG)" row) it says how much
        of each stage the GPU is busy and how much is host work or waiting (issue 16: the
        end-to-end / execute gap explained with a profile). ncu serialises kernels and adds
        its own overhead per launch, so only the kernel durations are read from this run."""
        ncu = self.find_ncu()
        frames, warm = 10, 2

        def fn():
            if not ncu:
                raise RowError("ncu (Nsight Compute) not found")
            if not self.jpeg_images:
                raise RowError("no JPEG copies")
            cmd = [ncu, "--clock-control", "none", "--metrics", "gpu__time_duration.sum", "--csv", "--page", "raw",
                   self.cli, "bench", "--model", "yolo", "--variant", model["variant"], "--backend", "cuda",
                   "--input", self.jpeg_images, "--iterations", str(frames), "--warmup", str(warm),
                   "--device-path", "require", "--decode", "gpu", "--json"] + model["args"]
            out = self.sh(cmd, 150, f"ncu_{model['key']}")
            import csv
            lines = out.splitlines()
            start = next((i for i, ln in enumerate(lines) if ln.startswith('"ID"')), None)
            if start is None:
                raise RowError("no ncu CSV in the output")
            rows = list(csv.DictReader(lines[start:]))
            # Kernels in launch order; each frame launches the pre-processing kernel once, so a
            # new chunk starts at each one (a chunk holds that frame's pre-processing, model and
            # decode kernels, then the next frame's nvJPEG kernels: one of each per chunk). The
            # chunks of the warm-up frames (ORT/cuDNN's first-run algorithm search) and the last
            # one (no next decode) are left out.
            # nvJPEG's kernels run on the pipeline's stream, the pre-processing kernel's; the
            # model's on ORT's own stream.
            pre_streams = {r.get("Stream") for r in rows if "preprocess_kernel" in r.get("Kernel Name", "").lower()}
            chunks = [{}]
            for r in rows:
                try:
                    ns = float(r.get("gpu__time_duration.sum", "").replace(",", ""))
                except ValueError:
                    continue  # the units row
                low = r.get("Kernel Name", "").lower()
                if "preprocess_kernel" in low:
                    g = "pre-processing kernel (ours)"
                    chunks.append({})
                elif "yolo_select" in low:
                    g = "YOLO decode kernel (ours)"
                elif "strided_gather" in low:
                    g = "strided gather (ours)"
                elif "jpeg" in low or "huffman" in low or "idct" in low or r.get("Stream") in pre_streams:
                    g = "nvJPEG"
                else:
                    g = "model (ORT CUDA EP / cuDNN / cuBLAS)"
                c, t = chunks[-1].get(g, (0, 0.0))
                chunks[-1][g] = (c + 1, t + ns)
            use = chunks[1 + warm:-1]
            if len(use) < 3:
                raise RowError(f"only {len(chunks) - 1} frame(s) seen in the profile (pre-processing kernels)")

            def median(v):
                v = sorted(v)
                return v[len(v) // 2]
            names = sorted({g for ch in use for g in ch})
            med = {g: (median([ch.get(g, (0, 0.0))[1] for ch in use]) / 1000.0,
                       median([ch.get(g, (0, 0.0))[0] for ch in use])) for g in names}
            total = sum(ms for ms, _ in med.values()) / 1000.0
            parts = [f"{g}: {ms / 1000.0:.3f} ms in {n} kernel(s)" for g, (ms, n) in
                     sorted(med.items(), key=lambda kv: -kv[1][0])]
            return f"{total:.3f} ms GPU time per frame", (f"median of {len(use)} frames (ncu --clock-control none, "
                                                          f"gpu__time_duration.sum); " + "; ".join(parts))
        self.row("GPU kernel time per frame (profile)", model["label"], "ncu over aegisrt bench --decode gpu", fn)

    def nvjpeg_row(self):
        """nvJPEG's decode paths, one image at a time (bench_nvjpeg_backends), on the JPEG copies."""
        exe = os.path.join(self.a.build, "bench", "vision", "bench_nvjpeg_backends")

        def fn():
            if not os.path.exists(exe):
                raise RowError(f"{exe} not built (needs nvJPEG)")
            if not self.jpeg_images:
                raise RowError("no JPEG copies")
            files = sorted(os.path.join(self.jpeg_images, f) for f in os.listdir(self.jpeg_images))
            j = self.first_json(self.sh([exe, "--passes", "100"] + files, 120, "bench_nvjpeg_backends"))
            if "error" in j:
                raise RowError(j["error"])
            ok = [p for p in j["paths"] if p["status"] == "ok"]
            if not ok:
                raise RowError("; ".join(f"{p['name']}: {p['status']}" for p in j["paths"]))
            best = min(ok, key=lambda p: p["p50_us"])
            simple = next((p for p in ok if p["name"] == "simple"), None)
            res = f"fastest {best['name']} {best['p50_us']:.0f} us p50"
            if simple:
                res += f" vs simple (ours) {simple['p50_us']:.0f} us"
            parts = []
            for p in j["paths"]:
                if p["status"] == "ok":
                    parts.append(f"{p['name']}: p50 {p['p50_us']:.0f} / p99 {p['p99_us']:.0f} us, "
                                 f"max |diff| vs simple {p['max_abs_diff_vs_simple']}")
                else:
                    parts.append(f"{p['name']}: {p['status'][:120]}")
            return res, f"{j['images']} image(s) {', '.join(j['sizes'])}, decode + stream sync; " + "; ".join(parts)
        self.row("nvJPEG decode paths", "JPEG copies", "bench_nvjpeg_backends", fn)

    def overhead_row(self):
        exe = os.path.join(self.a.build, "bench", "onnxruntime", "bench_ort_overhead")

        def fn():
            if not os.path.exists(exe):
                raise RowError(f"{exe} not built")
            out = os.path.join(self.out, "raw", "ort_overhead.json")
            self.sh([exe, "--model", "micro", "--trials", "4", "--json", out], 120, "ort_overhead")
            with open(out, encoding="utf-8") as f:
                j = json.load(f)["micro"]
            return (f"{100.0 * (j['median_trial_ratio_p50'] - 1.0):+.1f} % p50",
                    f"raw ORT p50 {j['raw_p50_us']:.1f} us vs aegisrt {j['aegisrt_p50_us']:.1f} us "
                    f"(p99 ratio {j['ratio_p99']:.3f}); CPU EP, on the GPU host's CPU")
        self.row("ORT overhead", "micro", "bench_ort_overhead (CPU EP)", fn, TARGETS["overhead"])

    def cpu_ep_rows(self, model):
        """aegisrt (ONNX Runtime CPU EP) vs python_baseline.py --provider cpu, PNG and JPEG."""
        sets = [("PNG", self.a.images)]
        if self.jpeg_images:
            sets.append(("JPEG", self.jpeg_images))
        it = str(self.a.cpu_iterations)

        def runs(fmt, images):
            def fn():
                tag = f"{model['key']}_{fmt.lower()}"
                py, cc, cs = [], [], []
                for r in range(1, CPU_ROUNDS + 1):
                    k = f"cpu_python_{tag}_{r}"
                    py.append(self.first_json(self.sh(
                        [self.bpy, os.path.join(ROOT, "bench", "pipeline", "python_baseline.py"), "--onnx",
                         model["onnx"], "--input", images, "--iterations", it, "--warmup", str(self.a.warmup),
                         "--provider", "cpu", "--json"], 120, k)))
                    base = [self.cli, "bench", "--model", "yolo", "--variant", model["variant"], "--backend",
                            "onnx", "--input", images, "--iterations", it, "--warmup", str(self.a.warmup),
                            "--json"] + model["args"]
                    k = f"cpu_aegisrt_{tag}_{r}"
                    cc.append(self.first_json(self.sh(base, 120, k)))
                    k = f"cpu_aegisrt_prefetch_{tag}_{r}"
                    cs.append(self.first_json(self.sh(base + ["--prefetch", "2"], 120, k)))
                return py, cc, cs
            return lambda: self.cached(f"cpu_ep_{model['key']}_{fmt}", fn)

        med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
        for fmt, images in sets:
            get = runs(fmt, images)

            def aeg(get=get):
                _, cc, _ = get()
                ips = med([j["images_per_second"] for j in cc])  # as run_pipeline_bench.sh
                w = {k: med([j["warm_ms"][k]["mean"] for j in cc])
                     for k in ("decode", "preprocess", "execute", "postprocess", "total")}
                return (f"{ips:.1f} img/s",
                        f"one image at a time, median of {CPU_ROUNDS}; mean ms: decode {w['decode']:.2f}, pre "
                        f"{w['preprocess']:.2f}, execute {w['execute']:.2f}, post {w['postprocess']:.2f}, "
                        f"total {w['total']:.2f}; {cc[0].get('detections_per_image', 0):.1f} det/img")

            def aeg_prefetch(get=get):
                _, _, cs = get()
                ips = med([j["wall_images_per_second"] for j in cs])
                return f"{ips:.1f} img/s", f"--prefetch 2 (decode on a helper thread), wall clock, median of {CPU_ROUNDS}"

            def py(get=get):
                p, _, _ = get()
                ips = med([j["images_per_s"] for j in p])
                m = {k: med([j["mean_ms"][k] for j in p]) for k in ("decode", "pre", "execute", "post", "total")}
                return (f"{ips:.1f} img/s",
                        f"onnxruntime {p[0]['onnxruntime']} (cpu), OpenCV {p[0]['opencv']}; median of {CPU_ROUNDS}; "
                        f"mean ms: decode {m['decode']:.2f}, pre {m['pre']:.2f}, execute {m['execute']:.2f}, post "
                        f"{m['post']:.2f}, total {m['total']:.2f}; {p[0]['detections_per_image']:.1f} det/img")

            def speedup(get=get, fmt=fmt):
                p, cc, cs = get()
                ratios = [c["images_per_second"] / x["images_per_s"] for x, c in zip(p, cc)]
                ratios_s = [c["wall_images_per_second"] / x["images_per_s"] for x, c in zip(p, cs)]
                return (f"{med(ratios):.2f}x",
                        f"{fmt}, one image at a time, median of the round ratios "
                        f"({', '.join(f'{x:.2f}' for x in ratios)}); --prefetch 2: {med(ratios_s):.2f}x "
                        f"({', '.join(f'{x:.2f}' for x in ratios_s)}); ORT CPU EP on both sides, default threads")

            self.row(f"end-to-end, CPU EP ({fmt})", model["label"], "aegisrt bench, onnx (CPU EP)", aeg)
            self.row(f"end-to-end, CPU EP ({fmt})", model["label"], "aegisrt bench, onnx (CPU EP), --prefetch 2",
                     aeg_prefetch)
            self.row(f"end-to-end, CPU EP ({fmt})", model["label"], "python_baseline.py --provider cpu", py)
            self.row(f"speedup vs python, CPU EP ({fmt})", model["label"], "aegisrt / python", speedup,
                     TARGETS["cpu_speedup"])

    def resnet_rows(self, onnx):
        def exec_json(extra, name, n=1, warmup=0, timeout=120):
            cmd = [self.cli, "exec", "-m", onnx, "-n", str(n), "--warmup", str(warmup), "--json"] + extra
            t = time.perf_counter()
            out = self.sh(cmd, timeout, name)
            return time.perf_counter() - t, self.first_json(out)

        ort = ["--backend", "onnx", "--device", "cuda"]
        cache = os.path.join(self.out, "raw", "tvm_cache")
        tvm = ["--backend", "tvm", "--device", "cuda", "--cache-dir", cache]

        def inference(extra=ort, key="resnet50_exec_ort", what="ORT CUDA EP", timeout=120):
            def fn():
                _, j = exec_json(extra, key, n=50, warmup=5, timeout=timeout)
                lat = j["latency_ms"]
                return (f"p50 {lat['p50']:.2f} ms", f"aegisrt exec, {what}, host input/output, 50 runs")
            return fn

        def ttfo(extra, key, build_timeout):
            def fn():
                cold, _ = exec_json(extra, key + "_1", timeout=build_timeout)
                warm, _ = exec_json(extra, key + "_2")
                return (f"{warm * 1000:.0f} ms",
                        f"whole process, second run (first: {cold * 1000:.0f} ms); model "
                        f"{os.path.getsize(onnx) / 1e6:.0f} MB")
            return fn

        self.row("inference only", "ResNet-50 1x3x640x640", "ORT CUDA", inference())
        self.row("time to first output, warm cache", "ResNet-50 1x3x640x640", "ORT CUDA (aegisrt exec)",
                 ttfo(ort, "resnet50_ttfo_ort", 120))
        self.row("time to first output, warm cache", "ResNet-50 1x3x640x640", "TVM cuda (aegisrt exec)",
                 ttfo(tvm, "resnet50_ttfo_tvm", 240))
        # After the time-to-first-output rows the TVM artefact is in the cache:
        # this is TVM-CUDA's steady state (dlight GPU rules, no MetaSchedule tuning).
        self.row("inference only", "ResNet-50 1x3x640x640", "TVM cuda (dlight, untuned)",
                 inference(tvm, "resnet50_exec_tvm", "TVM cuda, cached artefact", 240))

    # ------------------------------------------------------------ main
    def run(self):
        self.cache = {}
        gpu = "unknown GPU"
        if shutil.which("nvidia-smi"):
            try:
                gpu = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                                     capture_output=True, text=True, timeout=20).stdout.strip().splitlines()[0]
            except Exception:  # noqa: BLE001
                pass
        self.header = (f"GPU benchmark (bench/gpu/run_gpu_bench.sh), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                       f"card: {gpu}, source {source_id()}, images: {self.a.images}, "
                       f"{self.a.iterations} timed + {self.a.warmup} warm-up images per row\n")
        print(self.header, file=sys.stderr, flush=True)
        models_dir = os.path.join(self.out, "models")
        os.makedirs(models_dir, exist_ok=True)
        demo_dir = os.path.join(self.a.build, "test_data", "demo")
        demo = {"key": "demo", "label": "demo detector", "variant": "demo",
                "onnx": os.path.join(demo_dir, "demo.onnx"), "args": ["--model-data", demo_dir]}
        y8 = {"key": "yolov8n", "label": "YOLOv8n (random weights)", "variant": "v8n",
              "onnx": os.path.join(models_dir, "yolov8n.onnx"), "args": []}
        y8["args"] = ["--onnx", y8["onnx"]]

        made = {}

        def make(kind):
            def fn():
                out = self.sh([self.bpy, os.path.join(HERE, "gpu_bench_models.py"), kind, models_dir], 180,
                              "make_" + kind)
                made[kind] = True
                return "built", out.strip().splitlines()[-1]
            return fn

        self.row("model export", "YOLOv8n", "ultralytics yolov8n.yaml -> ONNX", make("yolov8n"))

        # JPEG copies of the benchmark images (OpenCV, quality 95) for the nvJPEG rows.
        self.jpeg_images = ""
        jpeg_dir = os.path.join(self.out, "jpeg_images")

        def make_jpegs():
            code = ("import cv2, os, sys\n"
                    "src, dst = sys.argv[1], sys.argv[2]\n"
                    "os.makedirs(dst, exist_ok=True)\n"
                    "n = 0\n"
                    "for f in sorted(os.listdir(src)):\n"
                    "    if f.lower().endswith(('.png', '.jpg', '.jpeg', '.bmp')):\n"
                    "        im = cv2.imread(os.path.join(src, f))\n"
                    "        if im is not None and cv2.imwrite(os.path.join(dst, os.path.splitext(f)[0] + '.jpg'), im,\n"
                    "                                          [cv2.IMWRITE_JPEG_QUALITY, 95]):\n"
                    "            n += 1\n"
                    "print(f'{n} JPEG(s) in {dst}')\n")
            out = self.sh([self.bpy, "-c", code, self.a.images, jpeg_dir], 60, "make_jpegs")
            if not out.strip().endswith(jpeg_dir) or out.strip().startswith("0 "):
                raise RowError("no JPEG written: " + out.strip()[-200:])
            self.jpeg_images = jpeg_dir
            return "written", out.strip().splitlines()[-1]

        self.row("JPEG copies", "benchmark images", "OpenCV imwrite, quality 95", make_jpegs)
        self.row("model export", "ResNet-50", "torchvision resnet50 -> ONNX", make("resnet50"))

        self.detector_rows(demo)
        if made.get("yolov8n"):
            self.detector_rows(y8)
        self.stream_rows(demo)
        if made.get("yolov8n"):
            self.stream_rows(y8)
        self.preprocess_rows()
        self.nvjpeg_row()
        self.kernel_profile_row(demo)
        if made.get("yolov8n"):
            self.kernel_profile_row(y8)
        self.overhead_row()
        self.cpu_ep_rows(demo)
        if made.get("resnet50"):
            self.resnet_rows(os.path.join(models_dir, "resnet50.onnx"))
        self.write_table()
        print(self.header)
        print(self.table(), end="")
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "gpu"), help="CUDA build folder")
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "gpu_bench"))
    ap.add_argument("--images", default="", help="image folder (default: BUILD/test_data/demo)")
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--cpu-iterations", type=int, default=150,
                    help="timed images per run of the CPU-EP comparison rows")
    ap.add_argument("--python", default=os.environ.get("AEGISRT_BENCH_PYTHON", sys.executable),
                    help="Python with onnxruntime-gpu, OpenCV, torch (and ultralytics)")
    ap.add_argument("--budget", type=float, default=540.0, help="seconds for the whole run")
    a = ap.parse_args()
    if not a.images:
        a.images = os.path.join(a.build, "test_data", "demo")
    if not os.path.exists(os.path.join(a.build, "tools", "aegisrt", "aegisrt")):
        print(f"error: no aegisrt CLI in {a.build} (build it first: scripts/gpu/run_all.sh --build)", file=sys.stderr)
        return 2
    return Bench(a).run()


if __name__ == "__main__":
    sys.exit(main())
