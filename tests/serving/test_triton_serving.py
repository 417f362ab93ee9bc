#!/usr/bin/env python3
"""End-to-end tests of `aegisrt serve` against the real Triton Inference Server.

Run by CTest (label `serving`) with the interpreter that has tritonclient
(third_party/triton/PYTHON, installed by scripts/deps/50-triton.sh):

  test_triton_serving.py --cli <aegisrt> --models-dir <src>/models --demo-dir <build>/test_data/demo

The server binds 127.0.0.1 only, on ports chosen free at run time; it is
stopped by the test (SIGTERM to `aegisrt serve`, which forwards it) even when a
test fails, and killed if it does not stop. Every wait is bounded.

The expectation is independent of the server: `aegisrt run --json` on the
same image, in-process, and the generated ground truth (object count).
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

ARGS = None
REF_OK = False
MODEL = "yolo"
SERVER_START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 30
IMAGES = ("demo_shapes.png", "demo_shapes_wide.png", "demo_shapes_square.png")


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def selection_args():
    return ["--model", MODEL, "--variant", "demo", "--backend", "onnx", "--threads", "1",
            "--model-data", ARGS.demo_dir]


def reference(image):
    """`aegisrt run --json` on one image: the in-process result."""
    out = tempfile.mkdtemp(prefix="aegisrt_serving_ref_")
    try:
        proc = subprocess.run(
            [ARGS.cli, "--models-dir", ARGS.models_dir, "run", *selection_args(),
             "--input", os.path.join(ARGS.demo_dir, image), "--output", out, "--json"],
            capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"aegisrt run failed ({proc.returncode}): {proc.stderr}")
        return json.loads(proc.stdout)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def rows_of(result_json):
    return np.array([[d["box"]["x1"], d["box"]["y1"], d["box"]["x2"], d["box"]["y2"], d["score"],
                      d["class_id"]] for d in result_json["detections"]], dtype=np.float32).reshape(-1, 6)


def ref_tool(*args, timeout=120):
    """tests/serving/reference_tools.py under the test Python (Pillow, onnx, onnxruntime)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_tools.py")
    proc = subprocess.run([ARGS.ref_python, script, *args], capture_output=True, text=True, timeout=timeout,
                          check=False)
    if proc.returncode != 0:
        raise AssertionError(f"reference_tools.py {args[0]} failed ({proc.returncode}): {proc.stderr}")


def decode_frame(path):
    """The image decoded independently (Pillow): RGB uint8 [H,W,3]."""
    with tempfile.TemporaryDirectory(prefix="aegisrt_serving_frame_") as d:
        out = os.path.join(d, "frame.npy")
        ref_tool("decode", path, out)
        return np.load(out)


def need_ref_python(test):
    if not REF_OK:
        test.skipTest("no test Python with Pillow, onnx and onnxruntime (--ref-python '"
                      + ARGS.ref_python + "'): this test needs an independent reference")


def frame_input(module, frame, dtype="UINT8"):
    inp = module.InferInput("FRAME", list(frame.shape), dtype)
    inp.set_data_from_numpy(frame)
    return inp


def infer_frame(client, module, frame):
    outs = [module.InferRequestedOutput("DETECTIONS"), module.InferRequestedOutput("RESULT_JSON")]
    res = client.infer(MODEL, [frame_input(module, frame)], outputs=outs)
    return res.as_numpy("DETECTIONS"), json.loads(res.as_numpy("RESULT_JSON").reshape(-1)[0])


def image_input(module, data):
    inp = module.InferInput("IMAGE", [1], "BYTES")
    inp.set_data_from_numpy(np.array([data], dtype=np.object_))
    return inp


def infer(client, module, data):
    outs = [module.InferRequestedOutput("DETECTIONS"), module.InferRequestedOutput("RESULT_JSON")]
    res = client.infer(MODEL, [image_input(module, data)], outputs=outs)
    dets = res.as_numpy("DETECTIONS")
    doc = res.as_numpy("RESULT_JSON")
    return dets, json.loads(doc.reshape(-1)[0])


class ServeProcess:
    """One `aegisrt serve <serve_args>` on loopback ports found free, in its own process
    group, its stdout and stderr in log_path. Every wait is bounded."""

    def __init__(self, serve_args, log_path):
        self.http_port, self.grpc_port, self.metrics_port = free_ports(3)
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [ARGS.cli, "--models-dir", ARGS.models_dir, "serve", *serve_args,
                 "--http-port", str(self.http_port), "--grpc-port", str(self.grpc_port),
                 "--metrics-port", str(self.metrics_port)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self, tail=6000):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return text[-tail:] if tail else text

    def wait_ready(self, paths):
        """Until each HTTP endpoint of `paths` answers 200, SERVER_START_TIMEOUT_S in all;
        AssertionError (with the log) on timeout or when the server exits."""
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        for path in paths:
            url = f"http://127.0.0.1:{self.http_port}{path}"
            while True:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{path} not ready within {SERVER_START_TIMEOUT_S} s:\n{self.log()}")
                if self.proc.poll() is not None:
                    raise AssertionError(f"aegisrt serve exited with {self.proc.returncode}:\n{self.log()}")
                try:
                    with urllib.request.urlopen(url, timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                time.sleep(0.25)

    def tritonserver_pid(self):
        """The pid `aegisrt serve` logged for the tritonserver it started, None before that."""
        m = re.search(r"tritonserver pid (\d+)", self.log(tail=None))
        return int(m.group(1)) if m else None

    def stop(self, sig=signal.SIGTERM):
        """`sig` to aegisrt serve (it forwards it to tritonserver); its exit code. If it does
        not stop within STOP_TIMEOUT_S: SIGKILL of the group, and AssertionError."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"aegisrt serve did not stop within {STOP_TIMEOUT_S} s:\n{self.log()}")

    def kill(self):
        """SIGKILL of the process group, if aegisrt serve still runs."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def tritonserver_running(pid):
    """Whether process `pid` (None: none) exists and is a tritonserver."""
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"tritonserver" in f.read()
    except OSError:
        return False


def write_repo(repo, serve_args):
    """`aegisrt serve <serve_args> --repo <repo> --write-repo-only` (no server)."""
    r = subprocess.run([ARGS.cli, "--models-dir", ARGS.models_dir, "serve", *serve_args, "--repo", repo,
                        "--write-repo-only"], capture_output=True, text=True, timeout=60, check=False)
    if r.returncode != 0:
        raise AssertionError(f"aegisrt serve --write-repo-only {serve_args}: {r.stderr}")


class _ServerBase(unittest.TestCase):
    """The server fixture of the classes below. setUpClass makes a work folder (`workdir`,
    `repo` = workdir/repo for a model repository), calls the class's prepare() (skips,
    references, the repository; it returns the `aegisrt serve` arguments), starts the
    server (ServeProcess) and waits, bounded, for the models in READY_MODELS.
    tearDownClass stops it (SIGTERM, SIGKILL of the group if it hangs), checks that it
    exited with 0 and that tritonserver is gone. The work folder is removed in both, also
    when setUpClass fails part way (unittest then skips tearDownClass)."""
    serve = None
    workdir = None
    READY_MODELS = (MODEL,)
    METRIC_MODEL = MODEL
    WORKDIR_PREFIX = "aegisrt_serving_"

    @classmethod
    def prepare(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls.serve = None
        cls.workdir = tempfile.mkdtemp(prefix=cls.WORKDIR_PREFIX)
        cls.repo = os.path.join(cls.workdir, "repo")
        try:
            serve_args = cls.prepare()
            cls.serve = ServeProcess(serve_args, os.path.join(cls.workdir, "serve.log"))
            cls.http_port, cls.grpc_port, cls.metrics_port = (
                cls.serve.http_port, cls.serve.grpc_port, cls.serve.metrics_port)
            cls.serve.wait_ready([f"/v2/models/{m}/ready" for m in cls.READY_MODELS])
        except BaseException:
            try:
                if cls.serve is not None:
                    cls.serve.stop()
            finally:
                shutil.rmtree(cls.workdir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            pid = cls.serve.tritonserver_pid()
            rc = cls.serve.stop()
            if rc != 0:
                raise AssertionError(f"aegisrt serve exited with {rc} after SIGTERM:\n{cls.serve.log()}")
            if tritonserver_running(pid):
                raise AssertionError("tritonserver still running after aegisrt serve stopped")
        finally:
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def metric(self, name):
        """Triton's Prometheus counter `name` for METRIC_MODEL, summed over the other labels
        (nv_inference_request_failure has one line per reason)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as r:
            text = r.read().decode()
        found = re.findall(r'^' + name + r'\{[^}]*model="' + self.METRIC_MODEL + r'"[^}]*\} (\d+)', text, re.M)
        self.assertTrue(found, f"{name} for {self.METRIC_MODEL} not in metrics:\n{text[:3000]}")
        return sum(int(v) for v in found)

    def http(self):
        return httpclient.InferenceServerClient(f"127.0.0.1:{self.http_port}", network_timeout=60.0)

    def grpc(self):
        return grpcclient.InferenceServerClient(f"127.0.0.1:{self.grpc_port}")


class ServingTest(_ServerBase):
    WORKDIR_PREFIX = "aegisrt_serving_test_"

    @classmethod
    def prepare(cls):
        cls.images = {}
        for name in IMAGES:
            with open(os.path.join(ARGS.demo_dir, name), "rb") as f:
                cls.images[name] = f.read()
        cls.refs = {name: reference(name) for name in IMAGES}
        with open(os.path.join(ARGS.demo_dir, "demo_ground_truth.json")) as f:
            truth = json.load(f)
        cls.truth_counts = {e["file"]: len(e["objects"]) for e in truth["images"]}
        return [*selection_args(), "--repo", cls.repo]

    def assert_matches(self, name, dets, doc):
        ref = self.refs[name]
        want = rows_of(ref)
        self.assertEqual(dets.dtype, np.float32)
        self.assertEqual(dets.shape, want.shape, f"{name}: {dets} vs {want}")
        np.testing.assert_allclose(dets[:, :4], want[:, :4], atol=1e-3, err_msg=name)
        np.testing.assert_allclose(dets[:, 4], want[:, 4], atol=1e-5, err_msg=name)
        np.testing.assert_array_equal(dets[:, 5], want[:, 5], err_msg=name)
        # The JSON is the one `aegisrt run` writes: same schema and content (timings and source aside).
        for key in ("schema", "image", "model", "output_type", "transform", "thresholds", "detections"):
            self.assertEqual(doc[key], ref[key], f"{name}: JSON field {key}")
        self.assertEqual(len(doc["detections"]), self.truth_counts[name], name)

    def test_01_health_and_metadata(self):
        c = self.http()
        self.assertTrue(c.is_server_live())
        self.assertTrue(c.is_server_ready())
        meta = c.get_model_metadata(MODEL)
        self.assertEqual(meta["platform"], "aegisrt")
        self.assertEqual([i["name"] for i in meta["inputs"]], ["IMAGE", "FRAME"])
        self.assertEqual(sorted(o["name"] for o in meta["outputs"]), ["DETECTIONS", "RESULT_JSON"])

    def test_02_http_matches_aegisrt_run(self):
        c = self.http()
        for name in IMAGES:
            dets, doc = infer(c, httpclient, self.images[name])
            self.assert_matches(name, dets, doc)

    def test_03_grpc_matches_aegisrt_run(self):
        c = self.grpc()
        for name in IMAGES:
            dets, doc = infer(c, grpcclient, self.images[name])
            self.assert_matches(name, dets, doc)

    def test_04_sixteen_concurrent_clients(self):
        def client(i):
            module = httpclient if i % 2 == 0 else grpcclient
            c = self.http() if i % 2 == 0 else self.grpc()
            got = []
            for k in range(3):
                name = IMAGES[(i + k) % len(IMAGES)]
                dets, doc = infer(c, module, self.images[name])
                got.append((name, dets, doc))
            return got

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(client, range(16), timeout=300))
        self.assertEqual(len(results), 16)
        for got in results:
            for name, dets, doc in got:
                self.assert_matches(name, dets, doc)

    def test_05_bad_requests_get_errors_server_carries_on(self):
        c = self.http()
        png = self.images["demo_shapes.png"]
        bad = {
            "not an image": b"this is not an image",
            "truncated PNG": png[: len(png) // 3],
            "empty": b"",
        }
        for what, data in bad.items():
            with self.assertRaises(InferenceServerException, msg=what) as ctx:
                infer(c, httpclient, data)
            self.assertIn("aegisrt", str(ctx.exception), what)
            self.assertTrue(c.is_model_ready(MODEL), what)
        # Wrong dtype and shape: refused (by Triton against config.pbtxt, or by us).
        wrong_dtype = httpclient.InferInput("IMAGE", [1], "FP32")
        wrong_dtype.set_data_from_numpy(np.zeros([1], dtype=np.float32))
        with self.assertRaises(InferenceServerException):
            c.infer(MODEL, [wrong_dtype])
        wrong_shape = httpclient.InferInput("IMAGE", [2], "BYTES")
        wrong_shape.set_data_from_numpy(np.array([png, png], dtype=np.object_))
        with self.assertRaises(InferenceServerException):
            c.infer(MODEL, [wrong_shape])
        # A bad request among good ones, at the same time: the good ones still succeed.
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            futs = [pool.submit(infer, self.http(), httpclient, png if i % 2 else b"junk") for i in range(8)]
            for i, f in enumerate(futs):
                if i % 2:
                    dets, doc = f.result(timeout=120)
                    self.assert_matches("demo_shapes.png", dets, doc)
                else:
                    self.assertRaises(InferenceServerException, f.result, 120)
        self.assertTrue(c.is_server_ready())
        self.assertTrue(c.is_model_ready(MODEL))

    def test_05b_raw_frames_match_aegisrt_run(self):
        need_ref_python(self)
        """FRAME (raw RGB uint8 [H,W,3], decoded by Pillow) gives what `aegisrt run` gives on the PNG."""
        for name in IMAGES:
            frame = decode_frame(os.path.join(ARGS.demo_dir, name))
            self.assertEqual(frame.dtype, np.uint8)
            self.assertEqual(frame.shape[2], 3)
            for c, module in ((self.http(), httpclient), (self.grpc(), grpcclient)):
                dets, doc = infer_frame(c, module, frame)
                self.assert_matches(name, dets, doc)

    def test_05c_bad_frames_get_errors_good_ones_succeed(self):
        need_ref_python(self)
        c = self.http()
        name = "demo_shapes.png"
        frame = decode_frame(os.path.join(ARGS.demo_dir, name))
        png = self.images[name]
        outs = [httpclient.InferRequestedOutput("DETECTIONS")]
        bad = {
            # refused by us (the backend): the message starts "aegisrt:"
            "both IMAGE and FRAME": ([image_input(httpclient, png), frame_input(httpclient, frame)], "both inputs"),
            "empty frame": ([frame_input(httpclient, np.zeros([0, 4, 3], np.uint8))], "height and width"),
            # refused by Triton against config.pbtxt (data type, rank, last dimension) or by us
            "FP32 frame": ([frame_input(httpclient, frame.astype(np.float32), "FP32")], None),
            "RGBA frame": ([frame_input(httpclient, np.zeros([8, 8, 4], np.uint8))], None),
            "2-D frame": ([frame_input(httpclient, np.zeros([8, 8], np.uint8))], None),
        }
        for what, (inputs, needle) in bad.items():
            with self.assertRaises(InferenceServerException, msg=what) as ctx:
                c.infer(MODEL, inputs, outputs=outs)
            if needle:
                self.assertIn("aegisrt", str(ctx.exception), what)
                self.assertIn(needle, str(ctx.exception), what)
            self.assertTrue(c.is_model_ready(MODEL), what)
        # Bad and good requests at the same time, both protocols: the good ones get their answers.
        def one(i):
            module = httpclient if i % 2 == 0 else grpcclient
            client = self.http() if i % 2 == 0 else self.grpc()
            kind = i % 4
            if kind == 0:
                return infer_frame(client, module, frame)
            if kind == 1:
                return infer(client, module, png)
            if kind == 2:
                return infer(client, module, png[: len(png) // 2])
            return client.infer(MODEL, [frame_input(module, np.zeros([0, 4, 3], np.uint8))])

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            futs = [pool.submit(one, i) for i in range(16)]
            for i, f in enumerate(futs):
                if i % 4 in (0, 1):
                    dets, doc = f.result(timeout=120)
                    self.assert_matches(name, dets, doc)
                else:
                    self.assertRaises(InferenceServerException, f.result, 120)
        self.assertTrue(c.is_server_ready())
        self.assertTrue(c.is_model_ready(MODEL))

    def test_06_metrics_count_inferences(self):
        c = self.http()
        before_ok = self.metric("nv_inference_count")
        before_fail = self.metric("nv_inference_request_failure")
        for _ in range(3):
            infer(c, httpclient, self.images["demo_shapes_square.png"])
        with self.assertRaises(InferenceServerException):
            infer(c, httpclient, b"junk")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.metric("nv_inference_count") >= before_ok + 3 and \
               self.metric("nv_inference_request_failure") >= before_fail + 1:
                break
            time.sleep(0.5)
        self.assertEqual(self.metric("nv_inference_count"), before_ok + 3)
        self.assertEqual(self.metric("nv_inference_request_failure"), before_fail + 1)

    def test_07_unload_load_and_a_broken_model(self):
        c = self.http()
        c.unload_model(MODEL)
        deadline = time.monotonic() + 30
        while c.is_model_ready(MODEL) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertFalse(c.is_model_ready(MODEL))
        with self.assertRaises(InferenceServerException):
            infer(c, httpclient, self.images["demo_shapes.png"])
        c.load_model(MODEL)
        self.assertTrue(c.is_model_ready(MODEL))
        dets, doc = infer(c, httpclient, self.images["demo_shapes.png"])
        self.assert_matches("demo_shapes.png", dets, doc)
        # A model AegisRT cannot load is UNAVAILABLE with AegisRT's message.
        with open(os.path.join(self.repo, MODEL, "config.pbtxt")) as f:
            cfg = f.read()
        broken = re.sub(r'name: "[^"]*"', 'name: "broken"', cfg, count=1)
        broken = broken.replace('string_value: "demo"', 'string_value: "no_such_variant"')
        self.assertIn("no_such_variant", broken)
        os.makedirs(os.path.join(self.repo, "broken", "1"), exist_ok=True)
        with open(os.path.join(self.repo, "broken", "config.pbtxt"), "w") as f:
            f.write(broken)
        with self.assertRaises(InferenceServerException) as ctx:
            c.load_model("broken")
        self.assertIn("no_such_variant", str(ctx.exception))
        index = {m["name"]: m for m in c.get_model_repository_index()}
        self.assertEqual(index["broken"]["state"], "UNAVAILABLE")
        self.assertIn("no_such_variant", index["broken"]["reason"])
        self.assertTrue(c.is_model_ready(MODEL))

    def test_08_load_generator(self):
        """bench/serving/loadgen.py runs bounded against the server and every request succeeds."""
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "serving",
                              "loadgen.py")
        for protocol, port in (("http", self.http_port), ("grpc", self.grpc_port)):
            proc = subprocess.run(
                [sys.executable, script, "--url", f"127.0.0.1:{port}", "--protocol", protocol, "--model", MODEL,
                 "--images", *(os.path.join(ARGS.demo_dir, n) for n in IMAGES), "--concurrency", "1", "4",
                 "--requests", "8", "--warmup", "1", "--max-seconds", "60", "--timeout", "30", "--json"],
                capture_output=True, text=True, timeout=180, check=False)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            report = json.loads(proc.stdout)
            self.assertEqual([lv["concurrency"] for lv in report["levels"]], [1, 4])
            for lv in report["levels"]:
                self.assertEqual((lv["requests"], lv["errors"]), (8, 0), lv)
                self.assertGreater(lv["throughput_rps"], 0.0)
                self.assertLessEqual(lv["p50_ms"], lv["p99_ms"])


GOLDEN = {  # Triton model name -> (catalog variant, committed golden ONNX)
    "seg": ("v8n-seg", "yolov8-seg-golden.onnx"),
    "pose": ("v8n-pose", "yolov8-pose-golden.onnx"),
}
GOLDEN_IMAGES = ("golden_street.png", "golden_portrait.png")


DEPTH_ONNX = None  # made by LayoutServingTest (reference_tools.py make-depth) when the test Python has onnx


def golden_args(model):
    if model == "depth":
        # depth_anything's manifest lists cuda, rocm and openvino (not onnx): OpenVINO on the CPU.
        return ["--model", "depth_anything", "--variant", "vits", "--backend", "openvino", "--onnx", DEPTH_ONNX]
    variant, onnx = GOLDEN[model]
    return ["--model", MODEL, "--variant", variant, "--backend", "onnx", "--threads", "1",
            "--onnx", os.path.join(ARGS.golden_dir, onnx)]


def golden_reference(model, image, keep_png=None):
    """`aegisrt run --json` with the golden model on one image (and its annotated PNG copied to keep_png)."""
    out = tempfile.mkdtemp(prefix="aegisrt_serving_ref_")
    try:
        proc = subprocess.run(
            [ARGS.cli, "--models-dir", ARGS.models_dir, "run", *golden_args(model),
             "--input", os.path.join(ARGS.golden_dir, image), "--output", out, "--json"],
            capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"aegisrt run failed ({proc.returncode}): {proc.stderr}")
        if keep_png:
            shutil.copy(os.path.join(out, os.path.splitext(image)[0] + ".annotated.png"), keep_png)
        return json.loads(proc.stdout)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def masks_from_rle(doc):
    """Dense [N,H,W] masks from the run JSON's per-detection window + run lengths (0s first)."""
    h, w = doc["image"]["height"], doc["image"]["width"]
    out = np.zeros([len(doc["detections"]), h, w], dtype=np.uint8)
    for i, d in enumerate(doc["detections"]):
        m = d["mask"]
        flat = np.zeros(m["width"] * m["height"], dtype=np.uint8)
        pos, val = 0, 0
        for run in m["rle"]:
            flat[pos:pos + run] = val
            pos += run
            val ^= 1
        assert pos == flat.size, (pos, flat.size)
        out[i, m["y0"]:m["y0"] + m["height"], m["x0"]:m["x0"] + m["width"]] = flat.reshape(m["height"], m["width"])
    return out


class LayoutServingTest(_ServerBase):
    """Segment and pose models (the committed golden ONNX files) served from a repository
    written by `aegisrt serve --write-repo-only`: every output equals `aegisrt run`'s JSON."""
    READY_MODELS = tuple(GOLDEN)
    WORKDIR_PREFIX = "aegisrt_serving_layouts_"

    @classmethod
    def prepare(cls):
        if not ARGS.golden_dir or not all(os.path.exists(os.path.join(ARGS.golden_dir, o)) for _, o in GOLDEN.values()):
            raise unittest.SkipTest(f"golden models not found in --golden-dir '{ARGS.golden_dir}'")
        global DEPTH_ONNX
        served = list(GOLDEN)
        cls.with_depth = REF_OK and "openvino" in compiled_backends()
        if cls.with_depth:
            DEPTH_ONNX = os.path.join(cls.workdir, "depth_test.onnx")
            ref_tool("make-depth", DEPTH_ONNX)
            served.append("depth")
            cls.READY_MODELS = tuple(served)
        for model in served:
            write_repo(cls.repo, [*golden_args(model), "--name", model])
        cls.refs = {(m, i): golden_reference(m, i) for m in GOLDEN for i in GOLDEN_IMAGES}
        if cls.with_depth:
            cls.depth_png = os.path.join(cls.workdir, "depth_run.png")
            cls.refs[("depth", GOLDEN_IMAGES[0])] = golden_reference("depth", GOLDEN_IMAGES[0], cls.depth_png)
        return ["--repo", cls.repo]

    def served(self, client, module, model, inp, outputs):
        res = client.infer(model, [inp], outputs=[module.InferRequestedOutput(o) for o in outputs])
        got = {o: res.as_numpy(o) for o in outputs}
        got["RESULT_JSON"] = json.loads(got["RESULT_JSON"].reshape(-1)[0])
        return got

    def assert_json_equal(self, what, doc, ref):
        for key in ("schema", "image", "model", "output_type", "output_layout", "transform", "thresholds",
                    "detections"):
            self.assertEqual(doc[key], ref[key], f"{what}: JSON field {key}")

    def test_metadata_per_layout(self):
        c = self.http()
        outs = {m: sorted(o["name"] for o in c.get_model_metadata(m)["outputs"]) for m in GOLDEN}
        self.assertEqual(outs["seg"], ["DETECTIONS", "MASKS", "RESULT_JSON"])
        self.assertEqual(outs["pose"], ["DETECTIONS", "KEYPOINTS", "RESULT_JSON"])
        if "depth" in self.READY_MODELS:
            self.assertEqual(sorted(o["name"] for o in c.get_model_metadata("depth")["outputs"]),
                             ["DEPTH", "DEPTH_COLOR", "RESULT_JSON"])

    def test_segment_outputs_equal_aegisrt_run(self):
        for image in GOLDEN_IMAGES:
            with open(os.path.join(ARGS.golden_dir, image), "rb") as f:
                data = f.read()
            ref = self.refs[("seg", image)]
            self.assertGreater(len(ref["detections"]), 0, image)
            for c, module in ((self.http(), httpclient), (self.grpc(), grpcclient)):
                got = self.served(c, module, "seg", image_input(module, data),
                                  ("DETECTIONS", "MASKS", "RESULT_JSON"))
                self.assert_json_equal(f"seg {image}", got["RESULT_JSON"], ref)
                np.testing.assert_array_equal(got["DETECTIONS"], rows_of(ref), err_msg=image)
                masks = got["MASKS"]
                self.assertEqual(masks.dtype, np.uint8)
                want = masks_from_rle(ref)
                self.assertEqual(masks.shape, want.shape, image)
                np.testing.assert_array_equal(masks, want, err_msg=image)
                self.assertEqual([int(m.sum()) for m in masks], [d["mask"]["area"] for d in ref["detections"]])

    def test_pose_outputs_equal_aegisrt_run(self):
        for image in GOLDEN_IMAGES:
            with open(os.path.join(ARGS.golden_dir, image), "rb") as f:
                data = f.read()
            ref = self.refs[("pose", image)]
            self.assertGreater(len(ref["detections"]), 0, image)
            want = np.array([[[k["x"], k["y"], k["score"]] for k in d["keypoints"]] for d in ref["detections"]],
                            dtype=np.float32)
            self.assertEqual(want.shape[1:], (17, 3))
            for c, module in ((self.http(), httpclient), (self.grpc(), grpcclient)):
                got = self.served(c, module, "pose", image_input(module, data),
                                  ("DETECTIONS", "KEYPOINTS", "RESULT_JSON"))
                self.assert_json_equal(f"pose {image}", got["RESULT_JSON"], ref)
                np.testing.assert_array_equal(got["DETECTIONS"], rows_of(ref), err_msg=image)
                self.assertEqual(got["KEYPOINTS"].dtype, np.float32)
                np.testing.assert_array_equal(got["KEYPOINTS"], want, err_msg=image)

    def test_depth_outputs(self):
        """Depth (a stand-in network with depth_anything's tensors): DEPTH holds the raw values
        whose range is the run JSON's, DEPTH_COLOR is the PNG `aegisrt run` writes, and the
        JSON is the same."""
        need_ref_python(self)
        if not self.with_depth:
            self.skipTest("OpenVINO not compiled in (depth_anything's manifest offers no onnx backend)")
        image = GOLDEN_IMAGES[0]
        ref = self.refs[("depth", image)]
        with open(os.path.join(ARGS.golden_dir, image), "rb") as f:
            data = f.read()
        got = self.served(self.http(), httpclient, "depth", image_input(httpclient, data),
                          ("DEPTH", "DEPTH_COLOR", "RESULT_JSON"))
        doc = got["RESULT_JSON"]
        for key in ("schema", "image", "model", "output_type", "output_layout", "transform", "depth"):
            self.assertEqual(doc[key], ref[key], f"depth: JSON field {key}")
        h, w = ref["image"]["height"], ref["image"]["width"]
        depth = got["DEPTH"]
        self.assertEqual((depth.dtype, depth.shape), (np.float32, (h, w)))
        np.testing.assert_allclose([depth.min(), depth.max()], [ref["depth"]["min"], ref["depth"]["max"]], rtol=1e-6)
        # Independent sanity: the stand-in is 2 * (mean normalised pixel) + 1, so the map's mean is
        # close to that of the original image (resampling aside).
        pixels = decode_frame(os.path.join(ARGS.golden_dir, image)).astype(np.float64) / 255.0
        norm = (pixels - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
        self.assertAlmostEqual(float(depth.mean()), float(2 * norm.mean(axis=2).mean() + 1), delta=0.05)
        color = got["DEPTH_COLOR"]
        self.assertEqual((color.dtype, color.shape), (np.uint8, (h, w, 3)))
        np.testing.assert_array_equal(color, decode_frame(self.depth_png))

    def test_frames_for_segment_and_pose(self):
        need_ref_python(self)
        image = GOLDEN_IMAGES[0]
        frame = decode_frame(os.path.join(ARGS.golden_dir, image))
        c = self.http()
        seg = self.served(c, httpclient, "seg", frame_input(httpclient, frame), ("MASKS", "RESULT_JSON"))
        self.assert_json_equal("seg frame", seg["RESULT_JSON"], self.refs[("seg", image)])
        np.testing.assert_array_equal(seg["MASKS"], masks_from_rle(self.refs[("seg", image)]))
        pose = self.served(c, httpclient, "pose", frame_input(httpclient, frame), ("KEYPOINTS", "RESULT_JSON"))
        self.assert_json_equal("pose frame", pose["RESULT_JSON"], self.refs[("pose", image)])


TENSOR_TOL = {"onnx": 1e-5, "openvino": 1e-4, "tvm": 1e-4}  # atol = rtol; float32 sums of 48 products


def tensor_config(name, backend, onnx, max_batch=0, batching=False, cache_dir="", input_dims=(3, 4, 4),
                  ragged=False):
    """A tensor-mode config.pbtxt for the test model (reference_tools.py make-model).
    `input_dims` looser than the model's [3,4,4] (e.g. [3,-1,-1]) lets a request of another
    shape past Triton's own check; `ragged` lets the dynamic batcher gather requests of
    different shapes into one execute (`allow_ragged_batch`)."""
    lead = [] if max_batch > 0 else [-1]
    dims = lambda d: "[ " + ", ".join(str(x) for x in lead + list(d)) + " ]"  # noqa: E731
    ragged_text = " allow_ragged_batch: true" if ragged else ""
    cfg = [f'name: "{name}"', 'backend: "aegisrt"', f"max_batch_size: {max_batch}",
           f'input [ {{ name: "x" data_type: TYPE_FP32 dims: {dims(input_dims)}{ragged_text} }} ]',
           "output [",
           f'  {{ name: "y" data_type: TYPE_FP32 dims: {dims([2, 4, 4])} }},',
           f'  {{ name: "s" data_type: TYPE_FP32 dims: {dims([1])} }},',
           f'  {{ name: "idx" data_type: TYPE_INT64 dims: {dims([1])} }}',
           "]",
           "instance_group [ { count: 1 kind: KIND_CPU } ]"]
    if batching:
        # A long queue delay: requests that arrive within it are gathered into one execute.
        # 5 s so that the "fewer executions than requests" check holds however loaded the
        # machine is (16 threads would have to start more than 5 s apart each to miss).
        cfg.append("dynamic_batching { max_queue_delay_microseconds: 5000000 }")
    params = {"mode": "tensor", "backend": backend, "onnx": onnx}
    if backend == "onnx":
        params["threads"] = "1"  # ONNX Runtime's intra-op threads (other backends refuse the option)
    if cache_dir:
        params["cache_dir"] = cache_dir
    for k, v in params.items():
        cfg.append(f'parameters {{ key: "{k}" value: {{ string_value: "{v}" }} }}')
    return "\n".join(cfg) + "\n"


def compiled_backends():
    out = subprocess.run([ARGS.cli, "info"], capture_output=True, text=True, timeout=60, check=False).stdout
    return {b for b in ("onnx", "openvino", "tvm") if re.search(rf"^\s*{b}: compiled in", out, re.M)}


class TensorServingTest(_ServerBase):
    """Tensor mode (the model file's own tensors) on each AegisRT backend this build has,
    against ONNX Runtime run in-process by the test Python; dynamic batching."""
    WORKDIR_PREFIX = "aegisrt_serving_tensor_"

    @classmethod
    def prepare(cls):
        if not REF_OK:
            raise unittest.SkipTest("no test Python with onnx and onnxruntime (--ref-python '"
                                    + ARGS.ref_python + "'): tensor mode needs the model and its reference")
        cls.backends = sorted(compiled_backends())
        if "onnx" not in cls.backends:
            raise unittest.SkipTest("ONNX Runtime not compiled in")
        cls.onnx = os.path.join(cls.workdir, "tensor_model.onnx")
        ref_tool("make-model", cls.onnx)
        models = {f"t_{b}": tensor_config(f"t_{b}", b, cls.onnx, cache_dir=os.path.join(cls.workdir, "cache"))
                  for b in cls.backends}
        models["t_batched"] = tensor_config("t_batched", "onnx", cls.onnx, max_batch=8, batching=True)
        # Looser than the model ([3,-1,-1] vs [3,4,4]) and ragged: Triton lets a request of a shape the
        # model cannot take through, and its batcher puts it into the same execute as good requests.
        models["t_ragged"] = tensor_config("t_ragged", "onnx", cls.onnx, max_batch=8, batching=True,
                                           input_dims=(3, -1, -1), ragged=True)
        for name, cfg in models.items():
            os.makedirs(os.path.join(cls.repo, name, "1"))
            with open(os.path.join(cls.repo, name, "config.pbtxt"), "w") as f:
                f.write(cfg)
        cls.READY_MODELS = tuple(models)
        return ["--repo", cls.repo]

    def reference(self, x):
        with tempfile.TemporaryDirectory(prefix="aegisrt_serving_ort_") as d:
            np.savez(os.path.join(d, "in.npz"), x=x)
            ref_tool("ort", self.onnx, os.path.join(d, "in.npz"), os.path.join(d, "out.npz"))
            with np.load(os.path.join(d, "out.npz")) as z:
                return {k: z[k] for k in z.files}

    def run_tensor(self, client, module, model, x):
        inp = module.InferInput("x", list(x.shape), "FP32")
        inp.set_data_from_numpy(x)
        res = client.infer(model, [inp], outputs=[module.InferRequestedOutput(o) for o in ("y", "s", "idx")])
        return {o: res.as_numpy(o) for o in ("y", "s", "idx")}

    def assert_outputs(self, what, got, want, tol):
        for k in ("y", "s"):
            self.assertEqual(got[k].dtype, np.float32, f"{what} {k}")
            self.assertEqual(got[k].shape, want[k].shape, f"{what} {k}")
            np.testing.assert_allclose(got[k], want[k], atol=tol, rtol=tol, err_msg=f"{what} {k}")
        self.assertEqual(got["idx"].dtype, np.int64, what)
        np.testing.assert_array_equal(got["idx"], want["idx"], err_msg=f"{what} idx")

    def test_each_backend_matches_onnxruntime(self):
        rng = np.random.default_rng(3)
        for batch in (1, 3):
            x = rng.standard_normal((batch, 3, 4, 4)).astype(np.float32)
            want = self.reference(x)
            for b in self.backends:
                for c, module in ((self.http(), httpclient), (self.grpc(), grpcclient)):
                    got = self.run_tensor(c, module, f"t_{b}", x)
                    self.assert_outputs(f"{b} batch {batch} {module.__name__}", got, want, TENSOR_TOL[b])

    def test_bad_tensor_requests_and_a_model_that_cannot_load(self):
        c = self.http()
        for shape, dtype in (([1, 3, 4, 5], np.float32), ([1, 3, 4, 4], np.float64)):
            inp = httpclient.InferInput("x", shape, "FP32" if dtype == np.float32 else "FP64")
            inp.set_data_from_numpy(np.zeros(shape, dtype))
            with self.assertRaises(InferenceServerException, msg=str((shape, dtype))):
                c.infer("t_onnx", [inp])
        self.assertTrue(c.is_model_ready("t_onnx"))
        missing = os.path.join(self.workdir, "no_such_model.onnx")
        os.makedirs(os.path.join(self.repo, "t_missing", "1"), exist_ok=True)
        with open(os.path.join(self.repo, "t_missing", "config.pbtxt"), "w") as f:
            f.write(tensor_config("t_missing", "onnx", missing))
        with self.assertRaises(InferenceServerException) as ctx:
            c.load_model("t_missing")
        self.assertIn("no_such_model.onnx", str(ctx.exception))
        index = {m["name"]: m for m in c.get_model_repository_index()}
        self.assertEqual(index["t_missing"]["state"], "UNAVAILABLE")
        self.assertIn("no_such_model.onnx", index["t_missing"]["reason"])
        # (Triton's server readiness is strict: it counts the UNAVAILABLE model; the others serve on.)
        self.assertTrue(c.is_server_live())
        self.assertTrue(c.is_model_ready("t_onnx"))
        x = np.zeros([1, 3, 4, 4], np.float32)
        self.assert_outputs("after a failed load", self.run_tensor(c, httpclient, "t_onnx", x), self.reference(x),
                            TENSOR_TOL["onnx"])

    def stats(self, model):
        st = self.http().get_inference_statistics(model)["model_stats"][0]
        return int(st["inference_count"]), int(st["execution_count"])

    def fail_count(self, model):
        st = self.http().get_inference_statistics(model)["model_stats"][0]
        return int(st["inference_stats"]["fail"]["count"])

    def test_bad_requests_inside_one_batch(self):
        """Dynamic batching, good and bad requests in one execute(): only the bad ones fail.

        t_ragged declares x as [3,-1,-1] with allow_ragged_batch, so Triton accepts a request
        the model ([N,3,4,4]) cannot take and its batcher gathers it with the good ones; the
        backend must refuse exactly that request and still run and slice the others. (A
        wrong data type cannot get this far: Triton checks it against the configuration.)
        The 7 requests carry 8 samples = max_batch_size and the queue delay is 5 s, so they
        meet in one execute however loaded the machine is; no timing is asserted."""
        rng = np.random.default_rng(23)
        plan = [("good", (1, 3, 4, 4)), ("bad", (1, 3, 5, 5)), ("good", (2, 3, 4, 4)), ("good", (1, 3, 4, 4)),
                ("bad", (1, 3, 4, 6)), ("good", (1, 3, 4, 4)), ("bad", (1, 3, 2, 4))]
        self.assertEqual(sum(shape[0] for _, shape in plan), 8)
        xs = [rng.standard_normal(shape).astype(np.float32) for _, shape in plan]
        goods = [i for i, (kind, _) in enumerate(plan) if kind == "good"]
        # Independent reference: ONNX Runtime on all good samples at once, sliced per request.
        want_all = self.reference(np.concatenate([xs[i] for i in goods]))
        want, row = {}, 0
        for i in goods:
            n = xs[i].shape[0]
            want[i] = {k: v[row:row + n] for k, v in want_all.items()}
            row += n
        infer0, exec0 = self.stats("t_ragged")
        fail0 = self.fail_count("t_ragged")

        def send(i):
            if i % 2 == 0:
                return self.run_tensor(self.http(), httpclient, "t_ragged", xs[i])
            return self.run_tensor(self.grpc(), grpcclient, "t_ragged", xs[i])

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(plan)) as pool:
            futs = [pool.submit(send, i) for i in range(len(plan))]
            for i, f in enumerate(futs):
                kind, shape = plan[i]
                if kind == "good":
                    self.assert_outputs(f"good request {i} {shape}", f.result(timeout=120), want[i],
                                        TENSOR_TOL["onnx"])
                else:
                    with self.assertRaises(InferenceServerException, msg=f"bad request {i} {shape}") as ctx:
                        f.result(timeout=120)
                    msg = str(ctx.exception)
                    self.assertIn("aegisrt", msg, f"bad request {i}")
                    self.assertIn("[" + ",".join(str(d) for d in shape) + "]", msg, f"bad request {i}")
        good_samples = sum(plan[i][1][0] for i in goods)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (self.stats("t_ragged")[0] < infer0 + good_samples or
                                               self.fail_count("t_ragged") < fail0 + 3):
            time.sleep(0.2)
        infer1, exec1 = self.stats("t_ragged")
        self.assertEqual(infer1 - infer0, good_samples)
        self.assertEqual(self.fail_count("t_ragged") - fail0, len(plan) - len(goods))
        self.assertGreaterEqual(exec1 - exec0, 1)
        self.assertLess(exec1 - exec0, len(goods), "the good requests were not executed together")
        # The server and the model carry on.
        c = self.http()
        self.assertTrue(c.is_server_live())
        self.assertTrue(c.is_model_ready("t_ragged"))
        x = rng.standard_normal((1, 3, 4, 4)).astype(np.float32)
        self.assert_outputs("after the mixed batch", self.run_tensor(self.grpc(), grpcclient, "t_ragged", x),
                            self.reference(x), TENSOR_TOL["onnx"])

    def test_dynamic_batching_same_answers_fewer_executions(self):
        rng = np.random.default_rng(11)
        batches = [1] * 12 + [2] * 4  # 16 requests, 20 samples
        xs = [rng.standard_normal((b, 3, 4, 4)).astype(np.float32) for b in batches]
        # One by one, on the unbatched model (same file, same backend).
        alone = [self.run_tensor(self.http(), httpclient, "t_onnx", x) for x in xs]
        infer0, exec0 = self.stats("t_batched")

        def send(i):
            if i % 2 == 0:
                return self.run_tensor(self.http(), httpclient, "t_batched", xs[i])
            return self.run_tensor(self.grpc(), grpcclient, "t_batched", xs[i])

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(xs)) as pool:
            together = list(pool.map(send, range(len(xs)), timeout=120))
        for i, (got, want) in enumerate(zip(together, alone)):
            self.assert_outputs(f"request {i}", got, want, TENSOR_TOL["onnx"])
        want0 = self.reference(xs[0])
        self.assert_outputs("request 0 vs onnxruntime", together[0], want0, TENSOR_TOL["onnx"])
        deadline = time.monotonic() + 20
        while self.stats("t_batched")[0] < infer0 + sum(batches) and time.monotonic() < deadline:
            time.sleep(0.2)
        infer1, exec1 = self.stats("t_batched")
        self.assertEqual(infer1 - infer0, sum(batches))
        self.assertGreaterEqual(exec1 - exec0, 1)
        self.assertLess(exec1 - exec0, len(xs), "no two requests were executed together")


BATCH_MODEL = "seg_b"          # pipeline mode, dynamic batching, on a dynamic-batch export
FIXED_BATCH_MODEL = "demo_b"   # the demo detector (fixed batch of 1) asked to batch 4: must not load
BATCH_MAX = 8
BATCH_DELAY_US = 200000        # long enough that requests sent together meet; nothing timing is asserted
BATCH_IMAGES = ("golden_street.png", "golden_portrait.png")


def batch_onnx():
    return os.path.join(ARGS.batch_models_dir, "yolov8-seg-golden-dynbatch.onnx") if ARGS.batch_models_dir else ""


def batched_seg_args():
    return ["--model", MODEL, "--variant", "v8n-seg", "--backend", "onnx", "--threads", "1", "--onnx", batch_onnx()]


def batched_reference(image):
    """`aegisrt run --json` (in-process, one image per execute) with the same export."""
    out = tempfile.mkdtemp(prefix="aegisrt_serving_ref_")
    try:
        proc = subprocess.run(
            [ARGS.cli, "--models-dir", ARGS.models_dir, "run", *batched_seg_args(),
             "--input", os.path.join(ARGS.golden_dir, image), "--output", out, "--json"],
            capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"aegisrt run failed ({proc.returncode}): {proc.stderr}")
        return json.loads(proc.stdout)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def batched_image_input(module, data):
    """One encoded image with the batch dimension a max_batch_size > 0 model needs: BYTES [1,1]."""
    inp = module.InferInput("IMAGE", [1, 1], "BYTES")
    inp.set_data_from_numpy(np.array([[data]], dtype=np.object_))
    return inp


class BatchedPipelineServingTest(_ServerBase):
    """Pipeline mode with Triton's dynamic batching: `aegisrt serve --max-batch-size 8
    --batch-delay-us 200000` on the dynamic-batch copy of the golden segment model
    (tests/data/gen_dynamic_batch.py; the demo detector's export has a fixed batch of 1).
    Requests sent together are answered as if alone (equal to `aegisrt run`), Triton's
    metrics show fewer executions than requests, a corrupt image inside a batch fails
    alone. No timing is asserted: the queue delay only makes the requests meet."""
    READY_MODELS = (BATCH_MODEL,)
    METRIC_MODEL = BATCH_MODEL
    WORKDIR_PREFIX = "aegisrt_serving_batched_"

    @classmethod
    def prepare(cls):
        if not ARGS.golden_dir or not os.path.exists(batch_onnx()):
            raise unittest.SkipTest(f"dynamic-batch golden model not found (--batch-models-dir "
                                    f"'{ARGS.batch_models_dir}', target aegisrt_batch_models)")
        for args in ([*batched_seg_args(), "--name", BATCH_MODEL, "--max-batch-size", str(BATCH_MAX),
                      "--batch-delay-us", str(BATCH_DELAY_US)],
                     [*selection_args(), "--name", FIXED_BATCH_MODEL, "--max-batch-size", "4"]):
            write_repo(cls.repo, args)
        cls.images = {}
        for name in BATCH_IMAGES:
            with open(os.path.join(ARGS.golden_dir, name), "rb") as f:
                cls.images[name] = f.read()
        cls.refs = {name: batched_reference(name) for name in BATCH_IMAGES}
        return ["--repo", cls.repo]

    def counters(self):
        return {k: self.metric(k) for k in ("nv_inference_request_success", "nv_inference_request_failure",
                                            "nv_inference_count", "nv_inference_exec_count")}

    def wait_counters(self, before, success, failure):
        """The counters once they include `success` + `failure` more requests (bounded)."""
        deadline = time.monotonic() + 30
        while True:
            now = self.counters()
            done = (now["nv_inference_request_success"] - before["nv_inference_request_success"] >= success and
                    now["nv_inference_request_failure"] - before["nv_inference_request_failure"] >= failure)
            if done or time.monotonic() > deadline:
                return {k: now[k] - before[k] for k in now}
            time.sleep(0.2)

    def infer(self, client, module, data):
        outs = [module.InferRequestedOutput(o) for o in ("DETECTIONS", "MASKS", "RESULT_JSON")]
        res = client.infer(BATCH_MODEL, [batched_image_input(module, data)], outputs=outs)
        return {o: res.as_numpy(o) for o in ("DETECTIONS", "MASKS", "RESULT_JSON")}

    def assert_matches(self, what, name, got):
        """One request's outputs against `aegisrt run` on its image: the same tensors as unbatched,
        with the batch dimension of 1 first. Tolerances allow float rounding of a batched execute
        (ONNX Runtime may sum in another order for a batch than for one image)."""
        ref = self.refs[name]
        want = rows_of(ref)
        self.assertGreater(len(want), 0, name)
        dets = got["DETECTIONS"]
        self.assertEqual(dets.dtype, np.float32, what)
        self.assertEqual(dets.shape, (1, *want.shape), what)
        np.testing.assert_allclose(dets[0, :, :4], want[:, :4], atol=1e-2, err_msg=what)
        np.testing.assert_allclose(dets[0, :, 4], want[:, 4], atol=1e-4, err_msg=what)
        np.testing.assert_array_equal(dets[0, :, 5], want[:, 5], err_msg=what)
        self.assertEqual(got["RESULT_JSON"].shape, (1, 1), what)
        doc = json.loads(got["RESULT_JSON"].reshape(-1)[0])
        for key in ("schema", "image", "model", "output_type", "output_layout", "transform", "thresholds"):
            self.assertEqual(doc[key], ref[key], f"{what}: JSON field {key}")
        self.assertEqual([d["class_id"] for d in doc["detections"]], [d["class_id"] for d in ref["detections"]],
                         what)
        masks = got["MASKS"]
        want_masks = masks_from_rle(ref)
        self.assertEqual(masks.shape, (1, *want_masks.shape), what)
        agree = float(np.mean(masks[0] == want_masks))
        self.assertGreaterEqual(agree, 0.999, f"{what}: mask pixels agreeing with aegisrt run")

    def send_together(self, plan):
        """Sends plan[i] = (protocol, payload) from len(plan) threads released together by a
        barrier; returns the result (dict) or the exception of each, in order."""
        barrier = threading.Barrier(len(plan))

        def one(i):
            protocol, data = plan[i]
            client, module = (self.http(), httpclient) if protocol == "http" else (self.grpc(), grpcclient)
            barrier.wait(timeout=120)
            try:
                return self.infer(client, module, data)
            except InferenceServerException as e:
                return e

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(plan)) as pool:
            return list(pool.map(one, range(len(plan)), timeout=600))

    def test_config_and_a_model_that_cannot_batch(self):
        cfg = self.http().get_model_config(BATCH_MODEL)
        self.assertEqual(cfg["max_batch_size"], BATCH_MAX)
        self.assertEqual(int(cfg["dynamic_batching"]["max_queue_delay_microseconds"]), BATCH_DELAY_US)
        # The demo detector takes a fixed batch of 1: asking for 4 leaves it UNAVAILABLE, naming both.
        index = {m["name"]: m for m in self.http().get_model_repository_index()}
        self.assertEqual(index[FIXED_BATCH_MODEL]["state"], "UNAVAILABLE", index[FIXED_BATCH_MODEL])
        reason = index[FIXED_BATCH_MODEL]["reason"]
        self.assertIn("max_batch_size 4", reason)
        self.assertIn("fixed batch of 1", reason)

    def test_sixteen_concurrent_clients_batched(self):
        """16 requests (half HTTP, half gRPC, two images) released together: each gets its
        image's answer, and Triton executed the model fewer times than it answered requests."""
        plan = [("http" if i % 2 == 0 else "grpc", BATCH_IMAGES[(i // 2) % 2]) for i in range(16)]
        before = self.counters()
        got = self.send_together([(p, self.images[name]) for p, name in plan])
        for i, ((protocol, name), res) in enumerate(zip(plan, got)):
            self.assertNotIsInstance(res, Exception, f"request {i} ({protocol}, {name}): {res}")
            self.assert_matches(f"request {i} ({protocol}, {name})", name, res)
        delta = self.wait_counters(before, 16, 0)
        self.assertEqual(delta["nv_inference_request_success"], 16, delta)
        self.assertEqual(delta["nv_inference_request_failure"], 0, delta)
        self.assertEqual(delta["nv_inference_count"], 16, delta)
        self.assertGreaterEqual(delta["nv_inference_exec_count"], 1, delta)
        self.assertLess(delta["nv_inference_exec_count"], 16, f"no two requests ran as one batch: {delta}")

    def test_corrupt_images_inside_a_batch(self):
        """8 requests (= max_batch_size, so the batcher sends them as soon as they are all in):
        a truncated PNG and bytes that are no image get their own errors; the 6 good ones their
        answers, executed together (fewer executions than good requests)."""
        street = self.images[BATCH_IMAGES[0]]
        plan = [("http", "good", BATCH_IMAGES[0]), ("grpc", "truncated", None), ("grpc", "good", BATCH_IMAGES[1]),
                ("http", "good", BATCH_IMAGES[1]), ("http", "garbage", None), ("grpc", "good", BATCH_IMAGES[0]),
                ("http", "good", BATCH_IMAGES[0]), ("grpc", "good", BATCH_IMAGES[1])]
        self.assertEqual(len(plan), BATCH_MAX)
        payload = {"truncated": street[:len(street) // 3], "garbage": b"this is not an image" * 10}
        before = self.counters()
        got = self.send_together([(p, self.images[n] if kind == "good" else payload[kind]) for p, kind, n in plan])
        goods = 0
        for i, ((protocol, kind, name), res) in enumerate(zip(plan, got)):
            what = f"request {i} ({protocol}, {kind})"
            if kind == "good":
                goods += 1
                self.assertNotIsInstance(res, Exception, f"{what}: {res}")
                self.assert_matches(what, name, res)
            else:
                self.assertIsInstance(res, InferenceServerException, what)
                self.assertIn("aegisrt", str(res), what)
        delta = self.wait_counters(before, goods, len(plan) - goods)
        self.assertEqual(delta["nv_inference_request_success"], goods, delta)
        self.assertEqual(delta["nv_inference_request_failure"], len(plan) - goods, delta)
        self.assertGreaterEqual(delta["nv_inference_exec_count"], 1, delta)
        self.assertLess(delta["nv_inference_exec_count"], goods, f"the good requests did not run together: {delta}")
        c = self.http()
        self.assertTrue(c.is_model_ready(BATCH_MODEL))
        self.assert_matches("after the mixed batch", BATCH_IMAGES[1],
                            self.infer(c, httpclient, self.images[BATCH_IMAGES[1]]))

    def test_one_image_per_request(self):
        """The shape contract: the batch dimension of a pipeline-mode request is 1."""
        inp = httpclient.InferInput("IMAGE", [2, 1], "BYTES")
        inp.set_data_from_numpy(np.array([[self.images[n]] for n in BATCH_IMAGES], dtype=np.object_))
        with self.assertRaises(InferenceServerException) as ctx:
            self.http().infer(BATCH_MODEL, [inp])
        self.assertIn("batch dimension 1", str(ctx.exception))

    def test_load_generator_on_the_batched_model(self):
        """bench/serving/loadgen.py sends the batch dimension the configuration asks for and
        reports Triton's executions: 8 clients on one instance, fewer executions than requests."""
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "serving",
                              "loadgen.py")
        for protocol, port in (("http", self.http_port), ("grpc", self.grpc_port)):
            proc = subprocess.run(
                [sys.executable, script, "--url", f"127.0.0.1:{port}", "--protocol", protocol, "--model",
                 BATCH_MODEL, "--images", *(os.path.join(ARGS.golden_dir, n) for n in BATCH_IMAGES),
                 "--concurrency", "8", "--requests", "16", "--warmup", "1", "--max-seconds", "120",
                 "--timeout", "60", "--json"],
                capture_output=True, text=True, timeout=300, check=False)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            (lv,) = json.loads(proc.stdout)["levels"]
            self.assertEqual((lv["requests"], lv["errors"]), (16, 0), lv)
            self.assertEqual(lv["inferences"], 16, lv)
            self.assertGreaterEqual(lv["executions"], 1, lv)
            self.assertLess(lv["executions"], 16, lv)

    def test_raw_frame_with_batch_dimension(self):
        need_ref_python(self)
        name = BATCH_IMAGES[1]
        frame = decode_frame(os.path.join(ARGS.golden_dir, name))[np.newaxis]  # [1,H,W,3]
        for client, module in ((self.http(), httpclient), (self.grpc(), grpcclient)):
            res = client.infer(BATCH_MODEL, [frame_input(module, frame)],
                               outputs=[module.InferRequestedOutput(o) for o in ("DETECTIONS", "MASKS", "RESULT_JSON")])
            self.assert_matches(f"FRAME {list(frame.shape)} {module.__name__}", name,
                                {o: res.as_numpy(o) for o in ("DETECTIONS", "MASKS", "RESULT_JSON")})


class ServeCommandTest(unittest.TestCase):
    """`aegisrt serve` itself: refusals before any server starts, the repository it writes,
    and SIGINT handling."""

    def serve(self, *args, timeout=60):
        return subprocess.run([ARGS.cli, "--models-dir", ARGS.models_dir, "serve", *args],
                              capture_output=True, text=True, timeout=timeout, check=False)

    def test_refusals(self):
        r = self.serve("--model", "no_such_model")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("no_such_model", r.stderr)
        r = self.serve("--model", MODEL, "--variant", "no_such_variant")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("no_such_variant", r.stderr)
        r = self.serve()
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("--model", r.stderr)
        with tempfile.TemporaryDirectory() as d:
            r = self.serve(*selection_args(), "--repo", os.path.join(d, "r"), "--tritonserver",
                           os.path.join(d, "missing_tritonserver"))
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertIn("missing_tritonserver", r.stderr)
        r = self.serve(*selection_args(), "--batch-delay-us", "1000")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("--max-batch-size", r.stderr)

    def test_write_repo_only(self):
        with tempfile.TemporaryDirectory() as d:
            repo = os.path.join(d, "repo")
            r = self.serve(*selection_args(), "--name", "det", "--instances", "2", "--repo", repo,
                           "--write-repo-only")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(os.path.isdir(os.path.join(repo, "det", "1")))
            with open(os.path.join(repo, "det", "config.pbtxt")) as f:
                cfg = f.read()
            self.assertIn('name: "det"', cfg)
            self.assertIn('backend: "aegisrt"', cfg)
            self.assertIn("count: 2", cfg)
            # Unbatched unless asked.
            self.assertIn("max_batch_size: 0\n", cfg)
            self.assertNotIn("dynamic_batching", cfg)
            params = dict(re.findall(r'parameters \{ key: "([^"]+)" value: \{ string_value: "([^"]*)" \} \}', cfg))
            self.assertEqual(params["model"], MODEL)
            self.assertEqual(params["variant"], "demo")
            self.assertEqual(params["backend"], "onnx")
            self.assertEqual(params["threads"], "1")
            self.assertEqual(params["models_dir"], ARGS.models_dir)
            self.assertIn(ARGS.demo_dir, params["model_data"].split(":"))

    def test_sigint_stops_server_and_removes_temporary_repository(self):
        with tempfile.TemporaryDirectory() as d:
            server = ServeProcess(selection_args(), os.path.join(d, "serve.log"))
            try:
                server.wait_ready(["/v2/health/ready"])
                text = server.log(tail=None)
                pid = server.tritonserver_pid()
                self.assertIsNotNone(pid, text[-4000:])
                repo = re.search(r"model repository: (\S+)", text).group(1)
                self.assertTrue(os.path.isdir(repo))
                self.assertEqual(server.stop(signal.SIGINT), 0)
                self.assertFalse(tritonserver_running(pid))
                self.assertFalse(os.path.exists(repo), "temporary repository left behind")
            finally:
                server.kill()


def main():
    global ARGS, REF_OK
    p = argparse.ArgumentParser()
    p.add_argument("--cli", required=True)
    p.add_argument("--models-dir", required=True)
    p.add_argument("--demo-dir", required=True)
    p.add_argument("--ref-python", default="",
                   help="Python with Pillow, onnx, onnxruntime (AEGISRT_TEST_PYTHON) for independent references")
    p.add_argument("--golden-dir", default="", help="tests/data/golden (segment and pose golden models)")
    p.add_argument("--batch-models-dir", default="",
                   help="dynamic-batch copies of the golden models (tests/data/gen_dynamic_batch.py)")
    ARGS, rest = p.parse_known_args()
    if ARGS.golden_dir:
        ARGS.golden_dir = os.path.abspath(ARGS.golden_dir)
    if ARGS.batch_models_dir:
        ARGS.batch_models_dir = os.path.abspath(ARGS.batch_models_dir)
    ok = False
    if ARGS.ref_python and os.path.exists(ARGS.ref_python):
        probe = subprocess.run([ARGS.ref_python, "-c", "import PIL, onnx, onnxruntime, numpy"],
                               capture_output=True, timeout=60, check=False)
        ok = probe.returncode == 0
    REF_OK = ok
    ARGS.cli, ARGS.models_dir, ARGS.demo_dir = (os.path.abspath(x) for x in (ARGS.cli, ARGS.models_dir, ARGS.demo_dir))
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
