#!/usr/bin/env python3
"""Unit checks of python/aegisrt_tvm_build.py that need no TVM (fast):
name sanitising (a '/' in a CUDA kernel parameter breaks the build), the
first-error-line extraction for build failures, and the dtype pre-check.
Usage: test_tvm_build_script.py SOURCE_DIR MODELS_DIR"""
import json
import os
import subprocess
import sys

import onnx

src, models = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "python"))
import aegisrt_tvm_build as b  # noqa: E402

# 1. Names with '/' are renamed everywhere, consistently, and mapped back.
m = onnx.load(os.path.join(models, "slash_names.onnx"))
original = b.sanitize_names(m)
names = {v.name for v in list(m.graph.input) + list(m.graph.output)} | {t.name for t in m.graph.initializer}
for n in m.graph.node:
    names.update(n.input)
    names.update(n.output)
assert all(b._IDENT.match(n) for n in names if n), names
assert original[m.graph.input[0].name] == "gpu_0/data_0", original
assert original[m.graph.output[0].name] == "gpu_0/softmax_1", original
onnx.checker.check_model(m)  # still a valid graph: every use renamed with its definition

# Collisions: a name that is already the sanitised form of another keeps its own.
g = onnx.helper.make_graph(
    [onnx.helper.make_node("Relu", ["a/b"], ["a_b"]), onnx.helper.make_node("Relu", ["a_b"], ["y"])], "g",
    [onnx.helper.make_tensor_value_info("a/b", onnx.TensorProto.FLOAT, [1])],
    [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])])
m2 = onnx.helper.make_model(g)
orig2 = b.sanitize_names(m2)
assert m2.graph.input[0].name not in ("a/b", "a_b"), m2.graph.input[0].name
assert orig2 == {m2.graph.input[0].name: "a/b"}, orig2
onnx.checker.check_model(m2)

# 2. The first error line of a compiler's output, not a header or the last line.
nvcc = """Traceback (most recent call last):
  File "x.py", line 3, in <module>
RuntimeError: Compilation error:
/tmp/kernel.cu(12): error: expected a ")"
/tmp/kernel.cu(40): error: identifier "data_0_ptr" is undefined
2 errors detected in the compilation of "/tmp/kernel.cu"."""
assert b.first_error_line(nvcc) == '/tmp/kernel.cu(12): error: expected a ")"', b.first_error_line(nvcc)
assert b.first_error_line("just one line") == "just one line"
assert b.first_error_line("a\nValueError: bad thing\nz") == "ValueError: bad thing"

# 3. Unsupported types are refused before TVM is imported (exit 3, naming tensor and type).
r = subprocess.run([sys.executable, os.path.join(src, "python", "aegisrt_tvm_build.py"), "--model",
                    os.path.join(models, "dtype_string.onnx"), "--output", "/nonexistent/x.so"],
                   capture_output=True, text=True)
assert r.returncode == 3, (r.returncode, r.stderr)
last = r.stderr.strip().splitlines()[-1]
assert "input 'x'" in last and "STRING" in last, last
assert "import tvm" not in r.stdout, r.stdout  # progress never reached the TVM import
# 4. --tune-seconds: the kept records are the fastest measured one per workload
#    (failed runs, without run_secs or with MetaSchedule's 1e10 marker, never win).
def rec(workload, secs):
    return json.dumps([workload, [[], secs, {"kind": "llvm"}, []]])


lines = [rec(0, [3e-6, 5e-6]), rec(1, [1e10]), rec(0, [2e-6, 2e-6]), rec(2, None), rec(1, [9e-6]),
         "not json", rec(0, [1e-6, 9e-6])]
best = b.best_records(lines)
assert best == [rec(0, [2e-6, 2e-6]), rec(1, [9e-6])], best  # workload 0: means 4, 2, 5 us; 2 never ran
assert b.best_records([]) == []

# 5. Tuning arguments are checked before anything is imported (exit 2).
for extra, why in ((["--tune-seconds", "5"], "needs --records-out"),
                   (["--tune-seconds", "-1"], "is negative"),
                   (["--records-out", "/tmp/r.json"], "apply to a tuned build")):
    r = subprocess.run([sys.executable, os.path.join(src, "python", "aegisrt_tvm_build.py"), "--model",
                        os.path.join(models, "small_cnn.onnx"), "--output", "/nonexistent/x.so", *extra],
                       capture_output=True, text=True)
    assert r.returncode == 2, (extra, r.returncode, r.stderr)
    assert why in r.stderr.strip().splitlines()[-1], (extra, r.stderr)
    assert "load onnx" not in r.stdout, r.stdout
print("ok")
