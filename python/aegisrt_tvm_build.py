#!/usr/bin/env python3
"""Compiles an ONNX model into a TVM Relax VM library for AegisRT.

ONNX -> Relax (tvm.relax.frontend.onnx) -> tvm.compile(target) -> export_library(.so).
AegisRT's TVM backend runs this through the artefact cache's builder hook; it
can also be run by hand:

  aegisrt_tvm_build.py --model m.onnx --output m_fp32.so --target llvm \
      [--precision fp32|fp16] [--input-shape x:1x4] [--io-json io.json]

Progress goes to stdout as lines "AEGISRT_PROGRESS <fraction> <stage>"; the
model's input/output specs (names, dtypes, shapes with -1 for symbolic dims)
are written as JSON to --io-json. Exit codes: 0 ok, 2 bad arguments/model,
3 unsupported request, 4 compilation failed.
"""
import argparse
import json
import os
import sys
import time
import traceback


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


def type_of(node):
    """Relax type of a Var / function return (TVM >= 0.27 says `ty`, older `struct_info`)."""
    for attr in ("ty", "struct_info"):
        value = getattr(node, attr, None)
        if value is not None:
            return value
    raise ValueError(f"cannot read the Relax type of {node}")


def struct_info_to_spec(name, sinfo):
    """Relax TensorType -> {"name", "dtype", "shape"} with -1 for symbolic dims."""
    shape = []
    if getattr(sinfo, "shape", None) is None:
        raise ValueError(f"tensor '{name}' has unknown rank")
    for dim in sinfo.shape.values:
        value = getattr(dim, "value", None)
        shape.append(int(value) if isinstance(value, int) else -1)
    return {"name": name, "dtype": str(sinfo.dtype), "shape": shape}


def io_specs(onnx_model, relax_mod):
    from tvm import relax

    main = relax_mod["main"]
    initializers = {i.name for i in onnx_model.graph.initializer}
    input_names = [i.name for i in onnx_model.graph.input if i.name not in initializers]
    params = list(main.params)
    if len(params) < len(input_names):
        raise ValueError(f"Relax main has {len(params)} params, ONNX declares {len(input_names)} inputs")
    inputs = [struct_info_to_spec(n, type_of(p)) for n, p in zip(input_names, params)]
    out_names = [o.name for o in onnx_model.graph.output]
    ret = getattr(main, "ret_ty", None) or getattr(main, "ret_struct_info")
    tuple_types = tuple(getattr(relax, n) for n in ("TupleType", "TupleStructInfo") if hasattr(relax, n))
    if isinstance(ret, tuple_types):
        ret_fields = list(ret.fields)
    else:
        ret_fields = [ret]
    if len(ret_fields) != len(out_names):
        raise ValueError(f"Relax main returns {len(ret_fields)} values, ONNX declares {len(out_names)} outputs")
    outputs = [struct_info_to_spec(n, s) for n, s in zip(out_names, ret_fields)]
    return {"inputs": inputs, "outputs": outputs, "tuple_output": isinstance(ret, tuple_types)}


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
    args = ap.parse_args()

    if not os.path.isfile(args.model):
        fail(2, f"model '{args.model}' does not exist")
    if args.precision == "int8":
        fail(3, "int8 is not supported by the TVM build step (use fp32, or fp16 on cuda)")
    shapes = parse_shapes(args.input_shape)

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
    except Exception as e:
        traceback.print_exc()
        fail(4, f"Relax ONNX import failed: {e}")

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
        specs = io_specs(model, mod)
    except Exception as e:
        traceback.print_exc()
        fail(4, f"cannot read the model's input/output types: {e}")

    progress(0.40, f"compile for {target.kind.name}")
    try:
        ex = tvm.compile(mod, target=target)
    except Exception as e:
        traceback.print_exc()
        fail(4, f"compilation for '{args.target}' failed: {e}")

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
    if args.io_json:
        with open(args.io_json, "w", encoding="utf-8") as f:
            json.dump(specs, f, indent=1)
    progress(1.0, f"done in {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
