"""HVF's REAL denoiser architecture through the export tool, with random weights.

    PYTHONPATH=tools/export:HVF_CHECKOUT .venv/bin/python -m foley_export.hvf_arch_check \
        --config HVF_CHECKOUT/configs/hunyuanvideo-foley-xl.yaml [--depth 1 1] [--dtype float16] --out DIR

Builds ``HunyuanVideoFoley`` from the user's HunyuanVideo-Foley checkout (nothing of HVF is in
this repository) with the config's widths and its full depth (or ``--depth`` blocks), every
weight drawn from ``--seed`` in place (``build``: one copy of the weights, so the full-depth XL
model fits a 24 GB machine; docs/export.md, "Full size"), wraps it with the same ``HvfDenoiser``
wrapper and export patches as a real export, streams weights above ``--stream-threshold`` to
``denoiser.onnx.data``, prints a JSON line (build and export seconds, peak resident memory,
sizes) and writes:

* ``DIR/denoiser.onnx`` exported at a 3 s pass (150 latents, 24 visual frames, 64 sync tokens,
  9 text tokens), with the symbolic length axes of the foley4j contract;
* unless ``--no-check``, ``DIR/denoiser-check.npz``: inputs and PyTorch outputs at two other
  lengths (8 s and 11.48 s, 12 text tokens), keys ``<case>.<tensor>``, for a runtime-side
  comparison (onnxruntime, or foley4j's ``StageCheck``), since a graph that baked the export
  length into a constant would only be right at 3 s.

Without diffusers installed, ``standins`` provides what HVF's model module imports from it.
"""

import argparse
import json
import os
import time

import numpy as np
import torch

from . import procstat
from .export import STREAM_THRESHOLD, _export_stage, _save, parameter_bytes
from .wrappers import HvfDenoiser


def _ensure_rms_norm():
    """HVF's SingleStreamBlock builds ``nn.RMSNorm`` (PyTorch >= 2.4). Below 2.4 the experiment
    supplies a module with its formula, weight and default eps (the export patch then rewrites
    either the same way)."""
    if hasattr(torch.nn, "RMSNorm"):
        return False
    from .patches import ExplicitRMSNorm

    class RMSNorm(ExplicitRMSNorm):
        def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
            shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
            super().__init__(shape, eps, torch.ones(shape) if elementwise_affine else None)
            self.elementwise_affine = elementwise_affine

    torch.nn.RMSNorm = RMSNorm
    return True


def _ensure_sdpa():
    """HVF's attention calls ``F.scaled_dot_product_attention`` (PyTorch >= 2.0). Below 2.0 the
    experiment supplies its formula: softmax(q k^T / sqrt(d) + mask) v."""
    import torch.nn.functional as F
    if hasattr(F, "scaled_dot_product_attention"):
        return False

    def sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
        s = (1.0 / q.shape[-1] ** 0.5) if scale is None else scale
        w = torch.matmul(q, k.transpose(-2, -1)) * s
        if is_causal:
            n, m = w.shape[-2], w.shape[-1]
            w = w.masked_fill(torch.ones(n, m, dtype=torch.bool).triu(1), float("-inf"))
        if attn_mask is not None:
            w = w.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool else w + attn_mask
        return torch.matmul(torch.softmax(w, dim=-1), v)

    F.scaled_dot_product_attention = sdpa
    return True


def redraw_parameters(module, seed, std=0.02, round_to=None):
    """Draws every parameter of ``module`` anew from N(0, std^2). HVF zero-initialises some of its
    parameters (the denoiser's gates, Synchformer's 3-D patch embedding), and a zero weight hides
    the computation behind it from a random-weight export check: every path must carry numbers.

    A parameter of another dtype than float32 gets the same numbers as in float32, rounded.
    ``round_to`` (e.g. ``torch.bfloat16``): float32 parameters are rounded to that dtype and kept
    in float32, so a float32 build and a build in ``round_to`` hold the same values (HVF's
    checkpoints are bfloat16, and an export casts them to float32)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            if p.dtype == torch.float32:
                p.normal_(0.0, std, generator=gen)  # in place: no temporary the size of the tensor
                if round_to is not None:
                    p.copy_(p.to(round_to))  # one tensor's worth at a time
            else:  # the same numbers as in float32, rounded
                p.copy_(torch.empty(p.shape, dtype=torch.float32).normal_(0.0, std, generator=gen))
    return module


def _ensure_hvf_imports():
    """HVF's model module imports ``diffusers`` for two base classes and a decorator (loading and
    saving, not the computation); without diffusers installed, ``standins`` provides them."""
    from .standins import install
    return bool(install(["diffusers"])[1])


def build(config_path, triple=None, single=None, seed=0, dtype=torch.float32):
    """HVF's ``HunyuanVideoFoley`` with the config's widths, ``triple`` + ``single`` blocks (None:
    the config's depth), every parameter drawn by ``redraw_parameters``, in ``dtype``.

    The module is constructed on the meta device (no memory), then given uninitialised CPU
    storage (``to_empty``) and drawn in place, parameter by parameter: the process holds one copy
    of the weights, in ``dtype``, and never the float32 copy HVF's own initialisation would fill
    first (the full-depth XL denoiser is 11.6 GB in float32)."""
    _ensure_rms_norm()
    _ensure_sdpa()
    _ensure_hvf_imports()
    from hunyuanvideo_foley.utils.config_utils import load_yaml  # the user's checkout
    cfg = load_yaml(config_path)
    kw = cfg.model_config.model_kwargs
    if triple is not None:
        kw["depth_triple_blocks"] = triple
    if single is not None:
        kw["depth_single_blocks"] = single
    return cfg, build_mmdit(cfg, seed, dtype)


def build_mmdit(cfg, seed=0, dtype=torch.float32, round_to=None):
    """``HunyuanVideoFoley(cfg)`` constructed on the meta device, given uninitialised CPU storage
    and every parameter drawn in place (``redraw_parameters(seed, round_to=...)``): one copy of
    the weights, in ``dtype``. The same ``cfg`` and ``seed`` give the same weights in any
    process; a float32 build with ``round_to=torch.bfloat16`` holds the values of the bfloat16
    build."""
    from hunyuanvideo_foley.models.hifi_foley import HunyuanVideoFoley
    meta = torch.device("meta")
    with meta:
        # HVF makes a few parameters without its dtype argument, and casts after (model_utils.py:47)
        model = HunyuanVideoFoley(cfg, dtype=dtype, device=meta).to(dtype)
    model = model.to_empty(device="cpu").eval()
    redraw_parameters(model, seed, round_to=round_to)  # HVF zero-initialises some gates
    return model


def case(kw, latents, visual, tokens, text_len, gen, batch=2):
    c = int(kw.audio_vae_latent_dim)
    return {
        "latents": torch.randn(batch, c, latents, generator=gen),
        "timestep": torch.rand(batch, generator=gen),
        "visual": torch.randn(batch, visual, int(kw.clip_dim), generator=gen),
        "sync": torch.randn(batch, tokens, int(kw.sync_feat_dim), generator=gen),
        "text": torch.randn(batch, text_len, int(kw.condition_dim), generator=gen),
    }


def _mib(key):
    """VmRSS (now) or VmHWM (peak so far) of this process, MiB."""
    kib = procstat.status_kib(key)
    return None if kib is None else round(kib / 1024)


DTYPES = {"float32": torch.float32, "float16": torch.float16}
AXES = {"denoiser": ({"latents": {0: "batch", 2: "latent_len"}, "timestep": {0: "batch"},
                      "visual": {0: "batch", 1: "visual_len"}, "sync": {0: "batch", 1: "sync_len"},
                      "text": {0: "batch", 1: "text_len"}},
                     {"velocity": {0: "batch", 2: "latent_len"}})}
CHECK_CASES = {"s8": (400, 64, 192, 12), "s11": (574, 92, 272, 12)}


def denoiser_stage(cfg, model, dtype=torch.float32):
    """The exporter's denoiser stage around ``model``: ``HvfDenoiser``, and for a 16-bit model
    ``InDtype`` (float32 inputs and output, as ``export --dtype denoiser=float16`` makes it)."""
    from .wrappers import InDtype
    wrapped = HvfDenoiser(model, flow_reverse=bool(cfg.diffusion_config.flow_reverse)).eval()
    return wrapped if dtype == torch.float32 else InDtype(wrapped, dtype).eval()


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m foley_export.hvf_arch_check")
    p.add_argument("--config", required=True)
    p.add_argument("--depth", type=int, nargs=2, default=None, metavar=("TRIPLE", "SINGLE"),
                   help="blocks (default: the config's full depth)")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="float32",
                   help="weights and computation (float16: as export --dtype denoiser=float16)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--no-check", action="store_true",
                   help="skip the PyTorch outputs at 8 s and 11.48 s (denoiser-check.npz)")
    p.add_argument("--stream-threshold", type=int, default=STREAM_THRESHOLD,
                   help="weight bytes above which the weights are streamed to denoiser.onnx.data "
                        "(as export --external-data --stream-threshold)")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    dtype = DTYPES[a.dtype]
    t0 = time.time()
    triple, single = a.depth if a.depth else (None, None)
    cfg, model = build(a.config, triple, single, a.seed, dtype)
    kw = cfg.model_config.model_kwargs
    report = {"torch": torch.__version__, "config": os.path.basename(a.config),
              "triple": int(kw.depth_triple_blocks), "single": int(kw.depth_single_blocks),
              "hidden": int(kw.hidden_size), "dtype": a.dtype,
              "parameters": sum(x.numel() for x in model.parameters()),
              "weight_bytes": parameter_bytes(model),
              "build_seconds": round(time.time() - t0, 1), "rss_after_build_mib": _mib("VmRSS"),
              "peak_rss_build_mib": _mib("VmHWM")}
    print("built: %s" % json.dumps(report), flush=True)
    wrapped = denoiser_stage(cfg, model, dtype)
    gen = torch.Generator().manual_seed(a.seed + 1)
    dummy = case(kw, 150, 24, 64, 9, gen)
    t0 = time.time()
    model_proto, streamed = _export_stage("denoiser", wrapped, dummy, AXES, a.opset, a.out,
                                            a.stream_threshold)
    import onnx
    path = os.path.join(a.out, "denoiser.onnx")
    _save(model_proto, path, streamed is not None, streamed)
    del model_proto
    onnx.checker.check_model(path, full_check=True)
    report.update({"export_seconds": round(time.time() - t0, 1), "peak_rss_mib": _mib("VmHWM"),
                   "onnx_bytes": os.path.getsize(path),
                   "data_bytes": os.path.getsize(streamed) if streamed else 0})
    report["peak_over_weights"] = round(report["peak_rss_mib"] / (report["weight_bytes"] / (1 << 20)), 2)
    if not a.no_check:
        print("exported; computing the PyTorch outputs at 8 s and 11.48 s", flush=True)
        arrays = {}
        for name, (l, v, s, t) in CHECK_CASES.items():
            inputs = case(kw, l, v, s, t, gen)
            with torch.no_grad():
                out = wrapped(*inputs.values())
            for k, x in inputs.items():
                arrays["%s.%s" % (name, k)] = x.numpy()
            arrays["%s.velocity" % name] = out.numpy()
        np.savez(os.path.join(a.out, "denoiser-check.npz"), **arrays)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
