"""HVF's REAL denoiser architecture through the export tool, with random weights.

    PYTHONPATH=tools/export:HVF_CHECKOUT[:SHIMS] .venv/bin/python -m foley_export.hvf_arch_check \
        --config HVF_CHECKOUT/configs/hunyuanvideo-foley-xxl.yaml --depth 1 1 --out DIR

Builds ``HunyuanVideoFoley`` from the user's HunyuanVideo-Foley checkout (nothing of HVF is in
this repository) with the config's widths and a reduced number of blocks, randomly initialised,
wraps it with the same ``HvfDenoiser`` wrapper and export patches as a real export, and writes:

* ``DIR/denoiser.onnx`` exported at a 3 s pass (150 latents, 24 visual frames, 64 sync tokens,
  9 text tokens), with the symbolic length axes of the foley4j contract;
* ``DIR/denoiser-check.npz``: inputs and PyTorch outputs at two other lengths (8 s and 11.48 s,
  12 text tokens), keys ``<case>.<tensor>``, for a runtime-side comparison (onnxruntime, or
  foley4j's ``StageCheck``), since a graph that baked the export length into a constant would
  only be right at 3 s.

Without HVF's requirements installed, put minimal stand-ins for einops / diffusers / transformers
/ packaging on PYTHONPATH (the experiment in docs/export.md did).
"""

import argparse
import os

import numpy as np
import torch

from .export import _export_stage, _save
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


def redraw_parameters(module, seed, std=0.02):
    """Draws every parameter of ``module`` anew from N(0, std^2). HVF zero-initialises some of its
    parameters (the denoiser's gates, Synchformer's 3-D patch embedding), and a zero weight hides
    the computation behind it from a random-weight export check: every path must carry numbers."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float32).to(p.dtype) * std)
    return module


def build(config_path, triple, single, seed):
    _ensure_rms_norm()
    _ensure_sdpa()
    from hunyuanvideo_foley.utils.config_utils import load_yaml  # the user's checkout
    cfg = load_yaml(config_path)
    kw = cfg.model_config.model_kwargs
    kw["depth_triple_blocks"] = triple
    kw["depth_single_blocks"] = single
    from hunyuanvideo_foley.models.hifi_foley import HunyuanVideoFoley
    torch.manual_seed(seed)
    model = HunyuanVideoFoley(cfg, dtype=torch.float32, device=torch.device("cpu")).float().eval()
    redraw_parameters(model, seed)  # HVF zero-initialises some gates
    return cfg, model


def case(kw, latents, visual, tokens, text_len, gen, batch=2):
    c = int(kw.audio_vae_latent_dim)
    return {
        "latents": torch.randn(batch, c, latents, generator=gen),
        "timestep": torch.rand(batch, generator=gen),
        "visual": torch.randn(batch, visual, int(kw.clip_dim), generator=gen),
        "sync": torch.randn(batch, tokens, int(kw.sync_feat_dim), generator=gen),
        "text": torch.randn(batch, text_len, int(kw.condition_dim), generator=gen),
    }


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--depth", type=int, nargs=2, default=[1, 1], metavar=("TRIPLE", "SINGLE"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    cfg, model = build(a.config, a.depth[0], a.depth[1], a.seed)
    kw = cfg.model_config.model_kwargs
    wrapped = HvfDenoiser(model, flow_reverse=bool(cfg.diffusion_config.flow_reverse)).eval()
    gen = torch.Generator().manual_seed(a.seed + 1)
    dummy = case(kw, 150, 24, 64, 9, gen)
    axes = {"denoiser": ({"latents": {0: "batch", 2: "latent_len"}, "timestep": {0: "batch"},
                          "visual": {0: "batch", 1: "visual_len"}, "sync": {0: "batch", 1: "sync_len"},
                          "text": {0: "batch", 1: "text_len"}},
                         {"velocity": {0: "batch", 2: "latent_len"}})}
    model_proto, streamed = _export_stage("denoiser", wrapped, dummy, axes, a.opset, a.out)
    import onnx
    _save(model_proto, os.path.join(a.out, "denoiser.onnx"), streamed is not None, streamed)
    onnx.checker.check_model(os.path.join(a.out, "denoiser.onnx"))
    print("exported; computing the PyTorch outputs at 8 s and 11.48 s", flush=True)
    arrays = {}
    for name, (l, v, s, t) in {"s8": (400, 64, 192, 12), "s11": (574, 92, 272, 12)}.items():
        inputs = case(kw, l, v, s, t, gen)
        with torch.no_grad():
            out = wrapped(*inputs.values())
        for k, x in inputs.items():
            arrays["%s.%s" % (name, k)] = x.numpy()
        arrays["%s.velocity" % name] = out.numpy()
    np.savez(os.path.join(a.out, "denoiser-check.npz"), **arrays)
    params = sum(x.numel() for x in model.parameters())
    print("exported HunyuanVideoFoley (%d triple + %d single blocks, hidden %d, %d parameters) to %s"
          % (a.depth[0], a.depth[1], int(kw.hidden_size), params, a.out))


if __name__ == "__main__":
    main()
