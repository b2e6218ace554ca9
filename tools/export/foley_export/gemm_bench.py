"""How fast each runtime multiplies matrices on this CPU, in each precision, side by side.

HVF's own code runs its MMDiT in bfloat16; foley4j runs every stage through ONNX Runtime's CPU
provider. This bench times one MatMul of the denoiser's and the encoders' shapes in both, in one
process on the same threads, so that the time goal of a full-size run (docs/export.md) can be read
against what the arithmetic itself allows:

    PYTHONPATH=tools/export .venv/bin/python -m foley_export.gemm_bench [--threads 2] [--runs 5]

Rows: ONNX Runtime's MatMul in float32, float16 and bfloat16 (a precision without a CPU kernel is
printed as such, not timed), torch.matmul in float32 and bfloat16. Columns: the best of ``runs``
calls in ms and GFLOP/s, and each row's speed over ONNX Runtime's float32.
"""

import argparse
import json
import sys
import time

import numpy as np

# (what, M, K, N): HVF-XL (hidden 1408, MLP x4) on a 3 s pass (148 latent tokens) as a CFG pair, and
# SigLIP2-base on 4 frames of 512 px (1024 patches each, hidden 768, MLP 3072)
SHAPES = [("denoiser qkv/out, 2 x 148 tokens", 296, 1408, 1408),
          ("denoiser mlp up", 296, 1408, 5632),
          ("denoiser mlp down", 296, 5632, 1408),
          ("siglip2 mlp up, 4 frames", 4096, 768, 3072)]
NO_KERNEL = "no CPU kernel"
NOT_TIMED = "a CPU kernel, not timed"


def _ort_session(dtype, m, k, n, threads):
    import onnxruntime as ort
    from onnx import TensorProto, helper
    elem = {"float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16, "bfloat16": TensorProto.BFLOAT16}[dtype]
    g = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "mm",
                          [helper.make_tensor_value_info("a", elem, [m, k]), helper.make_tensor_value_info("b", elem, [k, n])],
                          [helper.make_tensor_value_info("c", elem, [m, n])])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    except Exception as e:  # NOT_IMPLEMENTED: no kernel for this type on the CPU provider
        if "NOT_IMPLEMENTED" in str(e) or "Could not find an implementation" in str(e):
            return None
        raise


def _best(call, runs):
    call()
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t)
    return best


def measure(shapes=SHAPES, threads=2, runs=5, seed=0):
    """[{shape, M, K, N, rows: {name: seconds or NO_KERNEL}}] for each shape."""
    import torch
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    out = []
    for what, m, k, n in shapes:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        rows = {}
        for dtype in ("float32", "float16", "bfloat16"):
            s = _ort_session(dtype, m, k, n, threads)
            if s is None:
                rows["onnxruntime " + dtype] = NO_KERNEL
                continue
            if dtype == "bfloat16":  # a kernel there, but numpy has no bfloat16 to feed it
                rows["onnxruntime " + dtype] = NOT_TIMED
                continue
            feed = {"a": a.astype(dtype), "b": b.astype(dtype)}
            rows["onnxruntime " + dtype] = _best(lambda: s.run(None, feed), runs)
        for dtype in (torch.float32, torch.bfloat16):
            ta, tb = torch.from_numpy(a).to(dtype), torch.from_numpy(b).to(dtype)
            with torch.inference_mode():
                rows["torch " + str(dtype).replace("torch.", "")] = _best(lambda: torch.matmul(ta, tb), runs)
        out.append({"shape": what, "M": m, "K": k, "N": n, "rows": rows})
    return out


def table(results):
    """Markdown: a row per (shape, runtime) with ms, GFLOP/s and the speed over ORT float32."""
    lines = ["| shape (M x K x N) | runtime | ms | GFLOP/s | speed over onnxruntime float32 |", "|---|---|---|---|---|"]
    for r in results:
        flops = 2.0 * r["M"] * r["K"] * r["N"]
        base = r["rows"]["onnxruntime float32"]
        for name, s in r["rows"].items():
            if isinstance(s, str):
                lines.append("| %s (%dx%dx%d) | %s | %s | | |" % (r["shape"], r["M"], r["K"], r["N"], name, s))
                continue
            ms = max(0.001, round(s * 1000, 3))
            lines.append("| %s (%dx%dx%d) | %s | %.3f | %.0f | %.2f |" % (
                r["shape"], r["M"], r["K"], r["N"], name, ms, flops / s / 1e9, max(0.001, round(base * 1000, 3)) / ms))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m foley_export.gemm_bench", description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--shape", action="append", default=None, metavar="M,K,N", help="instead of the default shapes")
    a = p.parse_args(argv)
    shapes = SHAPES
    if a.shape:
        try:
            shapes = [("given",) + tuple(int(x) for x in s.split(",")) for s in a.shape]
        except ValueError:
            p.error("--shape wants M,K,N (three integers), got %s" % a.shape)
        if any(len(s) != 4 or min(s[1:]) < 1 for s in shapes):
            p.error("--shape wants M,K,N (three positive integers), got %s" % a.shape)
    import onnxruntime
    import torch
    results = measure(shapes, a.threads, a.runs)
    print("onnxruntime %s, torch %s, %d threads, best of %d" % (onnxruntime.__version__, torch.__version__,
                                                                 a.threads, a.runs))
    print(table(results))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
