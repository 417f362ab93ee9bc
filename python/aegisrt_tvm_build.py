#!/usr/bin/env python3
"""Compiles an ONNX model into a TVM Relax VM library for AegisRT.

ONNX -> Relax (tvm.relax.frontend.onnx) -> tvm.compile(target) -> export_library(.so).
AegisRT's TVM backend runs this through the artefact cache's builder hook; it
can also be run by hand:

  aegisrt_tvm_build.py --model m.onnx --output m_fp32.so --target llvm \
      [--precision fp32|fp16] [--input-shape x:1x4] [--io-json io.json]
      [--tune-seconds 600 --records-out records.json]

Progress goes to stdout as lines "AEGISRT_PROGRESS <fraction> <stage>"; the
model's input/output specs (names, dtypes, shapes with -1 for symbolic dims)
are written as JSON to --io-json. Exit codes: 0 ok, 2 bad arguments/model,
3 unsupported request (also: an input/output element type or value kind TVM
cannot take, checked before TVM is imported), 4 compilation failed. The last
stderr line is always "aegisrt_tvm_build: error: ..." on failure; for a
compiler failure it quotes the FIRST error line of the compiler's output.

--tune-seconds N runs a MetaSchedule search of about N seconds before the
build (the clock starts after MetaSchedule's own imports, which take 10-110 s,
and stops at the first measured batch past N; the final build comes after):
the model's fused TIR functions are extracted, heaviest first (FLOPs x uses),
and searched round-robin, 16 random candidates of MetaSchedule's design space
per task and round (replay-trace with a random cost model: xgboost,
MetaSchedule's default cost model, is not a dependency), built by up to 8
worker processes and measured on the target's device (the GPU for cuda); the
search ends at the first measured batch past N. The build then applies the
best record of every tuned function (compile_relax) and schedules the others
with the dlight rules, as an untuned build does. The records (MetaSchedule's
JSON database: workloads and tuning records, one JSON line each) are written
to --records-out as {"workloads": [...], "records": [...], "trials": N,
"tasks": N, "search_seconds": S}; --records-in seeds the search with such a
file (records of other workloads are ignored), and the functions it already
covers are searched after the others, so a re-tune with a longer budget
reaches functions an earlier one did not.

Tensor names that are not C identifiers (e.g. "gpu_0/data_0", common in
exported CNNs) are renamed on the way into TVM (a '/' in a kernel parameter
name breaks the CUDA build); the io JSON keeps the model's own names, so
AegisRT binds inputs and names outputs as the model does.
"""
import argparse
import json
import os
import re
import sys
import time
import traceback

# ONNX TensorProto.DataType codes the TVM backend binds: must match
# tvm_dtypes() in src/backends/tvm/tvm_backend.cpp (every DType with a DLPack
# type there).
TVM_ELEM_TYPES = {1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32",
                  7: "INT64", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32",
                  13: "UINT64", 16: "BFLOAT16"}


def progress(fraction, stage):
    print(f"AEGISRT_PROGRESS {fraction:.3f} {stage}", flush=True)


def fail(code, message):
    print(f"aegisrt_tvm_build: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def parse_shapes(items):
    shapes = {}
    for item in items or []:
        name, sep, dims = item.rpartition(":")
        if not sep or not name:
            fail(2, f"--input-shape '{item}' must look like name:1x3x224x224")
        try:
            shapes[name] = [int(d) for d in dims.split("x")]
        except ValueError:
            fail(2, f"--input-shape '{item}' has a non-integer dimension")
    return shapes


def check_value_types(model):
    """Refuses inputs/outputs TVM cannot take, before the (slow) TVM import."""
    from onnx import TensorProto

    initializers = {i.name for i in model.graph.initializer}
    values = [("input", v) for v in model.graph.input if v.name not in initializers]
    values += [("output", v) for v in model.graph.output]
    for role, v in values:
        kind = v.type.WhichOneof("value")
        if kind != "tensor_type":
            kind_name = {"sequence_type": "sequence", "map_type": "map", "optional_type": "optional",
                         "sparse_tensor_type": "sparse tensor"}.get(kind, str(kind))
            fail(3, f"{role} '{v.name}' is a {kind_name} value, not a tensor; the TVM backend binds tensors only")
        et = v.type.tensor_type.elem_type
        if et not in TVM_ELEM_TYPES:
            try:
                tname = TensorProto.DataType.Name(et)
            except ValueError:
                tname = f"ONNX data type {et}"
            fail(3, f"{role} '{v.name}' has element type {tname}, which the TVM backend does not "
                    f"support (supported: {', '.join(sorted(TVM_ELEM_TYPES.values()))})")


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def sanitize_names(model):
    """Renames every tensor name that is not a C identifier, in place, in the
    graph and its subgraphs. Returns {new: original} for the renamed ones."""
    used = set()

    def collect(graph):
        for v in list(graph.input) + list(graph.output) + list(graph.value_info):
            used.add(v.name)
        for t in graph.initializer:
            used.add(t.name)
        for n in graph.node:
            used.update(x for x in n.input if x)
            used.update(x for x in n.output if x)
            for a in n.attribute:
                if a.HasField("g"):
                    collect(a.g)
                for g in a.graphs:
                    collect(g)

    collect(model.graph)
    mapping = {}

    def new_name(name):
        if not name or _IDENT.match(name):
            return name
        if name not in mapping:
            base = re.sub(r"[^A-Za-z0-9_]", "_", name)
            if not base or base[0].isdigit():
                base = "t_" + base
            cand, k = base, 1
            while cand in used:
                cand, k = f"{base}_{k}", k + 1
            used.add(cand)
            mapping[name] = cand
        return mapping[name]

    def rename(graph):
        for v in list(graph.input) + list(graph.output) + list(graph.value_info):
            v.name = new_name(v.name)
        for t in graph.initializer:
            t.name = new_name(t.name)
        for n in graph.node:
            for i, x in enumerate(n.input):
                n.input[i] = new_name(x)
            for i, x in enumerate(n.output):
                n.output[i] = new_name(x)
            for a in n.attribute:
                if a.HasField("g"):
                    rename(a.g)
                for g in a.graphs:
                    rename(g)

    rename(model.graph)
    return {v: k for k, v in mapping.items()}


def declared_shape(value_info):
    """The ONNX-declared dims of a tensor ValueInfo (-1 for symbolic), or None
    when the rank is not declared."""
    tt = value_info.type.tensor_type
    if not tt.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim]


def tensorize_shape_outputs(mod):
    """Outputs Relax keeps as shapes (e.g. ONNX Shape folded to R.shape([2, 3]))
    become int64 tensors, as ONNX declares them: main is wrapped by a function
    that converts those fields with shape_to_tensor."""
    from tvm import relax

    main = mod["main"]
    ret = getattr(main, "ret_ty", None) or getattr(main, "ret_struct_info")
    tuple_types = tuple(getattr(relax, n) for n in ("TupleType", "TupleStructInfo") if hasattr(relax, n))
    shape_types = tuple(getattr(relax, n) for n in ("ShapeType", "ShapeStructInfo") if hasattr(relax, n))
    is_tuple = isinstance(ret, tuple_types)
    fields = list(ret.fields) if is_tuple else [ret]
    if not any(isinstance(f, shape_types) for f in fields):
        return mod
    bb = relax.BlockBuilder()
    inner = bb.add_func(main.without_attr("global_symbol"), "main_inner")
    params = [relax.Var(getattr(p, "name_hint", None) or p.name, type_of(p)) for p in main.params]
    with bb.function("main", params, attrs={"num_input": len(params)}):
        with bb.dataflow():
            res = bb.emit(relax.Call(inner, params))
            outs = []
            for i, f in enumerate(fields):
                item = bb.emit(relax.TupleGetItem(res, i)) if is_tuple else res
                if isinstance(f, shape_types):
                    item = bb.emit(relax.op.shape_to_tensor(item))
                outs.append(item)
            gv = bb.emit_output(relax.Tuple(outs) if is_tuple else outs[0])
        bb.emit_func_output(gv)
    new = bb.get()
    for gvar, func in mod.functions.items():
        if gvar.name_hint != "main":
            new[gvar.name_hint] = func
    return new


def first_error_line(text):
    """The first line of a compiler's output that reports an error (a line
    like "kernel.cu(5): error: ..." rather than a bare "Compilation error:"
    header), else the first line mentioning an error, else the first line:
    what a user needs, where tracebacks and later errors bury it."""
    lines = [l.strip() for l in str(text).splitlines() if l.strip()]
    for l in lines:
        m = re.search(r"\berror\b", l, re.IGNORECASE)
        if m and l[m.end():].strip(" :"):
            return l
    for l in lines:
        if re.search(r"error", l, re.IGNORECASE):
            return l
    return lines[0] if lines else "(no output)"


def type_of(node):
    """Relax type of a Var / function return (TVM >= 0.27 says `ty`, older `struct_info`)."""
    for attr in ("ty", "struct_info"):
        value = getattr(node, attr, None)
        if value is not None:
            return value
    raise ValueError(f"cannot read the Relax type of {node}")


def struct_info_to_spec(name, sinfo, declared=None):
    """Relax TensorType -> {"name", "dtype", "shape"} with -1 for symbolic dims.
    Where Relax did not infer the shape, the model's declared one is used."""
    shape = []
    if getattr(sinfo, "shape", None) is None:
        if declared is not None:
            return {"name": name, "dtype": str(sinfo.dtype), "shape": declared}
        raise ValueError(f"tensor '{name}' has unknown rank: TVM did not infer it and the model does not declare it")
    for dim in sinfo.shape.values:
        value = getattr(dim, "value", None)
        shape.append(int(value) if isinstance(value, int) else -1)
    return {"name": name, "dtype": str(sinfo.dtype), "shape": shape}


def io_specs(onnx_model, relax_mod, original=None):
    """Specs under the model's own names (`original` maps sanitised -> original)."""
    from tvm import relax

    original = original or {}
    main = relax_mod["main"]
    initializers = {i.name for i in onnx_model.graph.initializer}
    graph_inputs = [i for i in onnx_model.graph.input if i.name not in initializers]
    input_names = [original.get(i.name, i.name) for i in graph_inputs]
    params = list(main.params)
    if len(params) < len(input_names):
        raise ValueError(f"Relax main has {len(params)} params, ONNX declares {len(input_names)} inputs")
    inputs = [struct_info_to_spec(n, type_of(p), declared_shape(v))
              for n, p, v in zip(input_names, params, graph_inputs)]
    out_names = [original.get(o.name, o.name) for o in onnx_model.graph.output]
    out_declared = [declared_shape(o) for o in onnx_model.graph.output]
    ret = getattr(main, "ret_ty", None) or getattr(main, "ret_struct_info")
    tuple_types = tuple(getattr(relax, n) for n in ("TupleType", "TupleStructInfo") if hasattr(relax, n))
    if isinstance(ret, tuple_types):
        ret_fields = list(ret.fields)
    else:
        ret_fields = [ret]
    if len(ret_fields) != len(out_names):
        raise ValueError(f"Relax main returns {len(ret_fields)} values, ONNX declares {len(out_names)} outputs")
    outputs = [struct_info_to_spec(n, s, d) for n, s, d in zip(out_names, ret_fields, out_declared)]
    return {"inputs": inputs, "outputs": outputs, "tuple_output": isinstance(ret, tuple_types)}


def _build_candidate(mod, target, _params):
    """MetaSchedule's builder function without its `import tvm.s_tir.tensor_intrin`
    (46-110 s per worker process on a small machine, which timed every trial out):
    no tensor intrinsic is used by the search space AegisRT tunes with."""
    from tvm.driver import build as tvm_build
    from tvm.s_tir.transform import RemoveWeightLayoutRewriteBlock

    mod = RemoveWeightLayoutRewriteBlock(skip_tensor_rewrite=True)(mod)
    return tvm_build(mod, target=target)


def _read_lines(path):
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f if l.strip()]


def best_records(lines):
    """The fastest measured record of every workload (the one compile_relax
    applies): a JSON database line is [workload_index, [trace, run_secs, target,
    args_info]]; a failed run has no run_secs or MetaSchedule's 1e10 marker."""
    best = {}
    for line in lines:
        try:
            workload, (_trace, run_secs, *_rest) = json.loads(line)
            secs = [float(x) for x in run_secs or []]
        except (ValueError, TypeError):
            continue
        if not secs or max(secs) >= 1e9:
            continue
        mean = sum(secs) / len(secs)
        if workload not in best or mean < best[workload][0]:
            best[workload] = (mean, line)
    return [line for _, line in sorted(best.values(), key=lambda v: json.loads(v[1])[0])]


def tune(mod, target, seconds, work_dir, records_in=None):
    """A MetaSchedule search of about `seconds` over `mod`'s fused TIR functions.
    Returns (database, summary): the JSON database in work_dir and
    {"workloads", "records", "trials", "tasks", "search_seconds"}."""
    import tvm.s_tir.tensor_intrin  # noqa: F401  (TuneContext imports it; done before the clock starts)
    from tvm.ir.utils import derived_object
    from tvm.s_tir import meta_schedule as ms

    seed_records = 0
    if records_in:
        # Records of an earlier search of this model (a re-tune): unreadable
        # ones (another TVM, a damaged file) only cost the head start.
        try:
            with open(records_in, encoding="utf-8") as f:
                seed = json.load(f)
            workloads, records = list(seed["workloads"]), list(seed["records"])
            for name, lines in (("database_workload.json", workloads), ("database_tuning_record.json", records)):
                with open(os.path.join(work_dir, name), "w", encoding="utf-8") as f:
                    f.writelines(str(l) + "\n" for l in lines)
            seed_records = len(ms.database.JSONDatabase(work_dir=work_dir).get_all_tuning_records())
        except Exception as e:  # noqa: BLE001 - any failure only drops the seed
            print(f"aegisrt_tvm_build: warning: records in '{records_in}' not used: {first_error_line(e)}",
                  file=sys.stderr, flush=True)
            for name in ("database_workload.json", "database_tuning_record.json"):
                if os.path.exists(os.path.join(work_dir, name)):
                    os.remove(os.path.join(work_dir, name))
            seed_records = 0
    database = ms.database.JSONDatabase(work_dir=work_dir)
    start = time.time()
    deadline = start + seconds
    state = {"trials": 0}

    @derived_object
    class Deadline(ms.measure_callback.PyMeasureCallback):
        """Ends the search at the first measured batch past the deadline."""

        def apply(self, task_scheduler, task_id, measure_candidates, builder_results, runner_results):
            state["trials"] += len(measure_candidates)
            done = time.time() - start
            progress(0.40 + 0.40 * min(1.0, done / seconds),
                     f"tune: {state['trials']} trials in {done:.0f} of {seconds} s")
            if time.time() >= deadline:
                for i, task in enumerate(task_scheduler.tasks_):
                    if not task.is_terminated:
                        task_scheduler.terminate_task(i)

    with target:
        builder = ms.builder.LocalBuilder(f_build=_build_candidate, max_workers=max(1, min(8, os.cpu_count() or 1)),
                                          timeout_sec=120)
    runner = ms.runner.LocalRunner(timeout_sec=60)
    # The fused TIR functions compile_relax looks up: the same preparation as
    # its pipeline (dispatch, legalize, fuse), so the database keys match.
    from tvm import relax
    from tvm import transform as tvm_transform
    from tvm.relax import pipeline as relax_pipeline

    try:
        dispatch = relax_pipeline.library_dispatch_passes(target)
    except (ValueError, AttributeError):
        dispatch = []
    with target, tvm_transform.PassContext(opt_level=3):
        fused = tvm_transform.Sequential([
            *dispatch, relax.transform.LegalizeOps(), relax.transform.AnnotateTIROpPattern(),
            relax.transform.FoldConstant(), relax.transform.FuseOps(), relax.transform.FuseTIR()])(mod)
    tasks = ms.relax_integration.extract_tasks(fused, target)
    if not tasks:
        raise ValueError("the model has no TIR function to tune")

    # The heaviest functions first (FLOPs x occurrences): a budget shorter than
    # one pass over every function goes where the time is.
    def cost(task):
        try:
            from tvm.s_tir.analysis import estimate_tir_flops

            return float(estimate_tir_flops(task.dispatched[0])) * task.weight
        except Exception:  # noqa: BLE001 - an estimate only orders the tasks
            return 0.0

    def seeded(task):
        try:
            return bool(database.has_workload(task.dispatched[0]))
        except Exception:  # noqa: BLE001
            return False

    # Functions the seed records already cover go last: a re-tune with a
    # longer budget reaches the ones the earlier search did not.
    tasks.sort(key=lambda t: (seeded(t), -cost(t)))
    progress(0.40, f"tune: {len(tasks)} tasks, {seconds} s")
    # Round-robin, not MetaSchedule's default gradient scheduler: the gradient
    # scheduler joins no result (so no callback, no deadline) until every task
    # has had its first batch, 10+ minutes for ResNet-50 on CUDA. Replay-trace,
    # not evolutionary search: with the random cost model (xgboost is not a
    # dependency) evolution picks candidates at random too, after spending
    # 10-20 s per batch generating and mutating a population of 512.
    contexts, weights = ms.relax_integration.extracted_tasks_to_tune_contexts(
        tasks, work_dir, strategy="replay-trace", seed=0)
    # A budget, not a trial count, ends the search: the trial caps only have
    # to be out of reach.
    ms.tune.tune_tasks(
        tasks=contexts, task_weights=weights, work_dir=work_dir,
        max_trials_global=1_000_000, max_trials_per_task=1_000_000, num_trials_per_iter=16,
        builder=builder, runner=runner, database=database, cost_model="random",
        measure_callbacks=ms.measure_callback.MeasureCallback.create("default") + [Deadline()],
        task_scheduler="round-robin")
    summary = {"workloads": _read_lines(os.path.join(work_dir, "database_workload.json")),
               "records": best_records(_read_lines(os.path.join(work_dir, "database_tuning_record.json"))),
               "trials": state["trials"], "tasks": len(tasks), "budget_seconds": seconds,
               "search_seconds": round(time.time() - start, 1), "seed_records": seed_records}
    return database, summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="ONNX model")
    ap.add_argument("--output", required=True, help="library to write (.so)")
    ap.add_argument("--target", default="llvm", help="TVM target kind (llvm, cuda) or a JSON target dict")
    ap.add_argument("--arch", help="GPU architecture for cuda, e.g. sm_90 (default: the local GPU's)")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "int8"])
    ap.add_argument("--input-shape", action="append", help="name:1x3x224x224 (pins a dynamic input)")
    ap.add_argument("--io-json", help="write input/output specs here")
    ap.add_argument("--opset", type=int, default=None, help="override the ONNX opset for the importer")
    ap.add_argument("--tune-seconds", type=int, default=0, help="MetaSchedule search budget (0 = no tuning)")
    ap.add_argument("--records-out", help="with --tune-seconds: write the tuning records here (JSON)")
    ap.add_argument("--records-in", help="with --tune-seconds: seed the search with these records")
    args = ap.parse_args()

    if not os.path.isfile(args.model):
        fail(2, f"model '{args.model}' does not exist")
    if args.precision == "int8":
        fail(3, "int8 is not supported by the TVM build step (use fp32, or fp16 on cuda)")
    shapes = parse_shapes(args.input_shape)
    if args.tune_seconds < 0:
        fail(2, f"--tune-seconds {args.tune_seconds} is negative")
    if args.tune_seconds > 0 and not args.records_out:
        fail(2, "--tune-seconds needs --records-out (the records are kept with the library)")
    if args.tune_seconds == 0 and (args.records_out or args.records_in):
        fail(2, "--records-out/--records-in apply to a tuned build (--tune-seconds N)")

    start = time.time()
    # The model is checked before TVM is imported (slow): a bad file fails fast.
    progress(0.02, "load onnx")
    try:
        import onnx
    except Exception as e:  # pragma: no cover - environment problem
        fail(3, f"cannot import onnx ({e}); run scripts/setup.sh or set AEGISRT_PYTHON")
    try:
        model = onnx.load(args.model)
        onnx.checker.check_model(model)
    except Exception as e:
        fail(2, f"'{args.model}' is not a valid ONNX model: {e}")
    check_value_types(model)
    original_names = sanitize_names(model)
    for key in list(shapes):  # --input-shape uses the model's own names
        for new, old in original_names.items():
            if old == key:
                shapes[new] = shapes.pop(key)

    progress(0.10, "import tvm")
    try:
        import tvm
        from tvm import relax
        from tvm.relax.frontend.onnx import from_onnx
    except Exception as e:  # pragma: no cover - environment problem
        fail(3, f"cannot import TVM ({e}); run scripts/setup.sh or set AEGISRT_PYTHON")

    progress(0.20, "import to relax")
    try:
        mod = from_onnx(model, shape_dict=shapes or None, opset=args.opset, keep_params_in_input=False)
        mod = relax.transform.DecomposeOpsForInference()(mod)
        mod = tensorize_shape_outputs(mod)
    except Exception as e:
        traceback.print_exc()
        fail(4, f"Relax ONNX import failed: {first_error_line(e)}")

    try:
        if args.target.lstrip().startswith("{"):
            spec = json.loads(args.target)
        else:
            spec = {"kind": args.target}
        if args.arch:
            spec["arch"] = args.arch
        target = tvm.target.Target(spec)
    except Exception as e:
        fail(2, f"bad TVM target '{args.target}': {e}")
    if args.precision == "fp16":
        if target.kind.name == "llvm":
            fail(3, "fp16 on the llvm (CPU) target is not supported; build fp32 for CPU")
        progress(0.30, "convert to fp16")
        # fp16 operands, fp32 accumulation; the model's I/O stays as declared.
        mod = relax.transform.ToMixedPrecision(out_dtype="float32")(mod)
    try:
        specs = io_specs(model, mod, original_names)
    except Exception as e:
        traceback.print_exc()
        fail(4, f"cannot read the model's input/output types: {e}")

    tuned = None
    if args.tune_seconds > 0:
        import tempfile

        if target.kind.name == "llvm" and "num-cores" not in spec:
            # MetaSchedule's CPU search spaces need the core count (parallel loops).
            try:
                import psutil

                cores = psutil.cpu_count(logical=False) or os.cpu_count() or 1
            except ImportError:
                cores = os.cpu_count() or 1
            spec["num-cores"] = int(cores)
            target = tvm.target.Target(spec)
        elif target.kind.name == "cuda" and "max_threads_per_block" not in spec:
            # MetaSchedule's GPU search spaces need the block limits; the
            # device's own where it answers, else what every CUDA GPU since
            # sm_20 has (1024 threads, 48 KiB static shared memory, warp 32).
            dev = tvm.cuda(0)
            have = dev.exist
            spec.update({"max_threads_per_block": int(dev.max_threads_per_block) if have else 1024,
                         "max_num_threads": int(dev.max_threads_per_block) if have else 1024,
                         "max_shared_memory_per_block": int(dev.max_shared_memory_per_block) if have else 49152,
                         "thread_warp_size": int(dev.warp_size) if have else 32,
                         "registers_per_block": 65536})
            target = tvm.target.Target(spec)

        with tempfile.TemporaryDirectory(prefix="aegisrt_tune_") as work_dir:
            try:
                database, tuned = tune(mod, target, args.tune_seconds, work_dir, args.records_in)
            except SystemExit:
                raise
            except Exception as e:
                traceback.print_exc()
                fail(4, f"MetaSchedule tuning for '{args.target}' failed: {first_error_line(e)}")
            if not tuned["records"]:
                fail(4, f"MetaSchedule found no valid schedule in {args.tune_seconds} s "
                        f"({tuned['trials']} trials over {tuned['tasks']} tasks); give it more time")
            progress(0.80, f"compile for {target.kind.name} with {len(tuned['records'])} tuning records")
            try:
                from tvm.s_tir import meta_schedule as ms

                ex = ms.relax_integration.compile_relax(database, mod, target, params=None)
            except Exception as e:
                traceback.print_exc()
                fail(4, f"compilation for '{args.target}' with the tuning records failed: {first_error_line(e)}")
        try:
            with open(args.records_out, "w", encoding="utf-8") as f:
                json.dump(tuned, f)
        except OSError as e:
            fail(4, f"cannot write the tuning records to '{args.records_out}': {e}")
    else:
        progress(0.40, f"compile for {target.kind.name}")
        try:
            ex = tvm.compile(mod, target=target)
        except Exception as e:
            traceback.print_exc()
            fail(4, f"compilation for '{args.target}' failed: {first_error_line(e)}")

    progress(0.85, "export library")
    try:
        out_dir = os.path.dirname(os.path.abspath(args.output))
        os.makedirs(out_dir, exist_ok=True)
        ex.export_library(args.output)
    except Exception as e:
        traceback.print_exc()
        fail(4, f"export to '{args.output}' failed: {e}")

    specs["target"] = str(target)
    specs["precision"] = args.precision
    specs["tvm_version"] = tvm.__version__
    if tuned is not None:
        specs["tuning"] = {k: v for k, v in tuned.items() if k not in ("workloads", "records")}
        specs["tuning"]["records"] = len(tuned["records"])
    if args.io_json:
        with open(args.io_json, "w", encoding="utf-8") as f:
            json.dump(specs, f, indent=1)
    progress(1.0, f"done in {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
