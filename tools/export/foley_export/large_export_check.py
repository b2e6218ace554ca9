"""Peak memory of exporting one stage larger than 2 GiB (docs/export.md, "Stages above 2 GiB").

    python -m foley_export.large_export_check --gib 2.5 --out DIR [--run]

Builds a stack of float32 ``nn.Linear(width, width)`` layers applied to a [batch, tokens, width]
input (exported as MatMul with transposed weights, like a transformer's projections) holding about
``--gib`` GiB of weights, exports it through the tool's stage path with external data (the
streamed path), runs the strict checker, and prints the process's peak resident memory next to the
weights' size. ``--run`` also runs the file once in ONNX Runtime and compares with PyTorch (ONNX
Runtime then holds a second copy of the weights)."""

import argparse
import json
import os
import resource
import shutil
import time

import torch
import torch.nn as nn

from . import export


def _rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class Stack(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return x


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m foley_export.large_export_check")
    p.add_argument("--gib", type=float, default=2.5)
    p.add_argument("--width", type=int, default=8192)
    p.add_argument("--out", required=True)
    p.add_argument("--run", action="store_true")
    a = p.parse_args(argv)
    depth = max(1, round(a.gib * (1 << 30) / (4 * a.width * (a.width + 1))))
    torch.manual_seed(0)
    with torch.no_grad():
        module = Stack(a.width, depth).eval()
        for layer in module.layers:  # keep activations in range through the stack
            layer.weight.mul_(2.0)
    weights = export.parameter_bytes(module)
    base = _rss_mib()
    os.makedirs(a.out, exist_ok=True)
    axes = {"stage": ({"x": {0: "batch", 1: "tokens"}}, {"y": {0: "batch", 1: "tokens"}})}
    t0 = time.time()
    model, streamed = export._export_stage("stage", module, {"x": torch.randn(2, 3, a.width)}, axes, 17,
                                           os.path.join(a.out, "work"))
    path = os.path.join(a.out, "stage.onnx")
    data = export._save(model, path, True, streamed)
    del model
    shutil.rmtree(os.path.join(a.out, "work"), ignore_errors=True)
    export.onnx.checker.check_model(path, full_check=True)
    seconds = time.time() - t0
    report = {
        "torch": torch.__version__, "layers": depth, "width": a.width,
        "weights_mib": round(weights / (1 << 20)),
        "rss_after_build_mib": round(base),
        "peak_rss_mib": round(_peak_mib()),
        "peak_over_weights": round(_peak_mib() / (weights / (1 << 20)), 2),
        "export_seconds": round(seconds, 1),
        "onnx_bytes": os.path.getsize(path),
        "data_bytes": os.path.getsize(os.path.join(a.out, data)),
    }
    if a.run:
        import numpy as np
        import onnxruntime as ort
        x = torch.randn(1, 5, a.width)
        with torch.no_grad():
            want = module(x).numpy()
        (got,) = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})
        report["ort_rel_l2"] = float(np.linalg.norm(got - want) / np.linalg.norm(want))
        report["peak_rss_with_ort_mib"] = round(_peak_mib())
    print(json.dumps(report))


if __name__ == "__main__":
    main()
