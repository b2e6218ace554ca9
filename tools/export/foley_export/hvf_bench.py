"""HVF's denoiser in PyTorch against the same denoiser exported and run by foley4j, side by side.

    PYTHONPATH=tools/export:HVF_CHECKOUT .venv/bin/python -m foley_export.hvf_bench \
        --config HVF_CHECKOUT/configs/hunyuanvideo-foley-xl.yaml \
        --onnx DIR/denoiser.onnx --jar foley-bench/target/foley-bench.jar [--torch-dtype float32 bfloat16]

The ONNX file is the one ``hvf_arch_check`` wrote with the same ``--config``, ``--depth``, ``--seed``
and ``--dtype``: ``hvf_arch_check.build`` draws the weights from the seed, so each PyTorch process
here builds the very same module again instead of loading 11.6 GB from disk. The inputs are an 8 s
pass of a guided request (batch 2: 400 latents, 64 visual frames, 192 sync tokens, 12 text tokens),
written once to ``WORK/inputs.npz``.

Each side runs in a process of its own, one process at a time (the full-size model does not fit
twice in this machine's memory), ``--rounds`` times in turn; each process makes one warm-up call
and ``--runs`` measured calls and reports its own peak resident set (VmHWM, the whole process:
interpreter or JVM, weights, activations). PyTorch sides:

* ``float32``: the module in float32 under ``torch.no_grad``;
* ``bfloat16``: HVF's own inference path (``denoise_process``, HVF ``model_utils.py:385-464``):
  the model built in bfloat16, inputs cast to it, the call under ``torch.autocast(bfloat16)``,
  the output cast to float32;
* ``float16``: the module as ``export --dtype denoiser=float16`` wraps it (``InDtype``).

The foley4j side is ``foley bench denoiser`` (foley-bench's ``DenoiserBench``): the file loaded by
foley4j's CPU backend with the engine's session settings, called on the same inputs; the first
PyTorch side's output is recorded and foley4j's relative L2 distance from it printed.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

from . import hvf_arch_check as arch
from .hvf_pipeline_bench import last_json

TORCH_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
CASE = "s8"


def _torch_child(a):
    """One PyTorch process: build, warm up, time ``runs`` calls; a JSON line on stdout."""
    t0 = time.time()
    dtype = TORCH_DTYPES[a.torch_child]
    cfg, model = arch.build(a.config, *(a.depth or (None, None)), seed=a.seed, dtype=dtype)
    build = time.time() - t0
    rss_build = arch._mib("VmRSS")
    data = np.load(a.inputs)
    inputs = [torch.from_numpy(data["%s.%s" % (CASE, k)]) for k in ("latents", "timestep", "visual", "sync", "text")]
    if dtype == torch.bfloat16:  # HVF's denoise_process
        from .wrappers import HvfDenoiser
        wrapped = HvfDenoiser(model, flow_reverse=bool(cfg.diffusion_config.flow_reverse)).eval()
        inputs = [x.to(dtype) for x in inputs]

        def call():
            with torch.no_grad(), torch.autocast(device_type="cpu", dtype=dtype):
                return wrapped(*inputs).float()
    else:
        wrapped = arch.denoiser_stage(cfg, model, dtype)

        def call():
            with torch.no_grad():
                return wrapped(*inputs)
    calls, out = [], None
    for i in range(a.runs + 1):
        c0 = time.time()
        out = call()
        sec = time.time() - c0
        print("torch %s call %d%s: %.2f s" % (a.torch_child, i, " (warm-up)" if i == 0 else "", sec),
              file=sys.stderr, flush=True)
        if i:
            calls.append(sec)
    if a.record:
        np.save(a.record, out.numpy())
    print(json.dumps({"side": "torch " + a.torch_child, "threads": torch.get_num_threads(),
                      "build_seconds": round(build, 1), "rss_after_build_mib": rss_build,
                      "calls_seconds": [round(x, 3) for x in calls], "best_call_seconds": round(min(calls), 3),
                      "peak_rss_mib": arch._mib("VmHWM")}), flush=True)


def _run(cmd, env=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=sys.stderr, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s" % (" ".join(cmd[:4]), p.returncode, p.stdout[-4000:]))
    return last_json(p.stdout)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m foley_export.hvf_bench")
    p.add_argument("--config", required=True)
    p.add_argument("--depth", type=int, nargs=2, default=None, metavar=("TRIPLE", "SINGLE"))
    p.add_argument("--seed", type=int, default=0, help="hvf_arch_check's --seed of the export")
    p.add_argument("--onnx", action="append", default=[], help="a denoiser .onnx (repeatable)")
    p.add_argument("--jar", default="foley-bench/target/foley-bench.jar")
    p.add_argument("--java", default="java")
    p.add_argument("--torch-dtype", nargs="+", default=["float32"], choices=sorted(TORCH_DTYPES))
    p.add_argument("--runs", type=int, default=2, help="measured calls per process, after one warm-up")
    p.add_argument("--rounds", type=int, default=1, help="times every side runs, in turn")
    p.add_argument("--work", help="directory for inputs.npz (required)")
    p.add_argument("--torch-child", choices=sorted(TORCH_DTYPES), help=argparse.SUPPRESS)
    p.add_argument("--inputs", help=argparse.SUPPRESS)
    p.add_argument("--record", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.torch_child:
        return _torch_child(a)
    if not a.work:
        p.error("--work is required")

    os.makedirs(a.work, exist_ok=True)
    arch._ensure_hvf_imports()
    from hunyuanvideo_foley.utils.config_utils import load_yaml
    kw = load_yaml(a.config).model_config.model_kwargs
    inputs = os.path.join(a.work, "inputs.npz")
    x = arch.case(kw, *arch.CHECK_CASES[CASE], gen=torch.Generator().manual_seed(a.seed + 7))
    np.savez(inputs, **{"%s.%s" % (CASE, k): v.numpy() for k, v in x.items()})
    me = [sys.executable, "-m", "foley_export.hvf_bench", "--config", a.config, "--seed", str(a.seed),
          "--runs", str(a.runs), "--inputs", inputs]
    if a.depth:
        me += ["--depth"] + [str(d) for d in a.depth]
    results = {}
    recorded = None
    for r in range(a.rounds):
        for dt in a.torch_dtype:
            cmd = me + ["--torch-child", dt]
            if recorded is None:
                recorded = os.path.join(a.work, "velocity.npy")
                cmd += ["--record", recorded]
            results.setdefault("torch " + dt, []).append(_run(cmd))
            print(json.dumps(results["torch " + dt][-1]), flush=True)
            if r == 0 and dt == a.torch_dtype[0]:  # foley4j compares with the first side's output
                data = dict(np.load(inputs))
                data["%s.velocity" % CASE] = np.load(recorded)
                np.savez(inputs, **data)
        for onnx in a.onnx:
            cmd = [a.java, "-jar", a.jar, "bench", "denoiser", onnx, "--inputs", inputs, "--case", CASE,
                   "--runs", str(a.runs)]
            key = "foley4j " + os.path.relpath(onnx)
            results.setdefault(key, []).append(_run(cmd))
            print(json.dumps(results[key][-1]), flush=True)

    base = min(x["best_call_seconds"] for x in results["torch " + a.torch_dtype[0]])
    print("\n%-40s %12s %10s %16s %14s" % ("side (8 s pass, batch 2)", "best call s", "x torch " + a.torch_dtype[0][-2:],
                                            "RSS loaded MiB", "peak RSS MiB"))
    for key, rs in results.items():
        best = min(x["best_call_seconds"] for x in rs)
        peak = max(x["peak_rss_mib"] for x in rs)
        loaded = max(x.get("rss_after_build_mib", x.get("rss_after_load_mib", -1)) for x in rs)
        print("%-40s %12.2f %10.3f %16d %14d" % (key, best, best / base, loaded, peak))
    l2 = [x.get("rel_l2_vs_recorded") for k, rs in results.items() if k.startswith("foley4j") for x in rs]
    print("foley4j output vs torch %s: relative L2 %s" % (a.torch_dtype[0], l2))


if __name__ == "__main__":
    main()
