"""Small modules of the kinds HVF's real stages are built from, written for these tests (no HVF
code), exported through the tool's patches with the TorchScript exporter and run by ONNX Runtime
at shapes unlike the export's:

* DAC's decoder: weight-normalised (transposed) convolutions and Snake activations computed by a
  ``torch.jit.script`` function;
* the denoiser's rotary position embeddings, built on every call from the sequence length;
* Synchformer's divided space-time attention (einops rearranges over frames and patches) behind a
  zero-initialised 3-D patch embedding, and the random-weight path that redraws such parameters.
"""

import math
import os
import unittest

import _util
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from foley_export import export
from foley_export.hvf_arch_check import redraw_parameters

try:
    import einops
except ImportError:
    einops = None


def export_and_compare(test, module, args, names, axes, other_args, tol=1e-5):
    """Exports with the tool's patches at ``args`` and returns the relative L2 of ONNX Runtime
    against PyTorch at ``other_args``."""
    import onnxruntime as ort
    d = _util.tmpdir(test)
    in_axes = {n: axes.get(n, {}) for n in names[0]}
    out_axes = {n: axes.get(n, {}) for n in names[1]}
    model, streamed = export._export_stage("m", module, dict(zip(names[0], args)), {"m": (in_axes, out_axes)}, 17,
                                           d, None)
    path = os.path.join(d, "m.onnx")
    export._save(model, path, False, streamed)
    with torch.no_grad():
        want = module(*other_args).numpy()
    (got,) = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(
        None, {n: a.numpy() for n, a in zip(names[0], other_args)})
    err = float(np.linalg.norm(got - want) / np.linalg.norm(want))
    test.assertLess(err, tol)
    return err


# ---- DAC-like decoder: weight norm + scripted Snake ------------------------------------------------

@torch.jit.script
def snake(x, alpha):
    return x + torch.sin(alpha * x).pow(2) / (alpha + 1e-9)


class Snake(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.alpha = nn.Parameter(torch.rand(1, channels, 1) + 0.5)

    def forward(self, x):
        return snake(x, self.alpha)


class WnDecoder(nn.Module):
    def __init__(self, channels=8, width=16, new_api=False):
        super().__init__()
        wn = nn.utils.parametrizations.weight_norm if new_api else nn.utils.weight_norm
        self.inp = wn(nn.Conv1d(channels, width, 7, padding=3))
        self.up = wn(nn.ConvTranspose1d(width, width // 2, 8, stride=4, padding=2))
        self.res = wn(nn.Conv1d(width // 2, width // 2, 3, padding=1, dilation=1))
        self.act1, self.act2 = Snake(width), Snake(width // 2)
        self.out = wn(nn.Conv1d(width // 2, 1, 7, padding=3))

    def forward(self, z):
        h = self.up(self.act1(self.inp(z)))
        h = h + self.res(self.act2(h))
        return torch.tanh(self.out(h))[:, 0]


class DacKindTest(unittest.TestCase):
    def test_weight_norm_and_scripted_snake(self):
        import warnings
        for new_api in (False, True):
            torch.manual_seed(1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # nn.utils.weight_norm is deprecated
                m = WnDecoder(new_api=new_api).eval()
            with torch.no_grad():  # weight norm's g differs from ||v||: the normalisation matters
                for p in m.parameters():
                    p.add_(torch.randn_like(p) * 0.1)
            export_and_compare(self, m, (torch.randn(2, 8, 30),), (["latents"], ["audio"]),
                               {"latents": {0: "batch", 2: "latent_len"}, "audio": {0: "batch", 1: "audio_len"}},
                               (torch.randn(3, 8, 47),))

    def test_snake_is_not_an_identity_here(self):
        x = torch.randn(2, 4, 9)
        self.assertGreater(float((Snake(4)(x) - x).abs().max()), 1e-3)


# ---- rotary embeddings built per call ------------------------------------------------------------

def rotary_tables(length, dim, theta=10000.0):
    """cos/sin [length, dim] for interleaved pairs, built from the length of this call."""
    freqs = 1.0 / theta ** (torch.arange(0, dim, 2).float() / dim)
    angles = torch.outer(torch.arange(length).float(), freqs)
    return angles.cos().repeat_interleave(2, dim=1), angles.sin().repeat_interleave(2, dim=1)


def rotate(x, cos, sin):
    pairs = x.unflatten(-1, (-1, 2))
    turned = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)
    return x * cos + turned * sin


class RotaryAttention(nn.Module):
    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, text):
        seq = torch.cat([x, text], dim=1)
        q, k, v = self.qkv(seq).unflatten(-1, (3, self.heads, -1)).permute(2, 0, 3, 1, 4)
        cos, sin = rotary_tables(x.shape[1], q.shape[-1])  # audio tokens only, as HVF ropes its audio
        n = x.shape[1]
        q = torch.cat([rotate(q[:, :, :n], cos, sin), q[:, :, n:]], dim=2)
        k = torch.cat([rotate(k[:, :, :n], cos, sin), k[:, :, n:]], dim=2)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).flatten(2))[:, :n]


class RotaryKindTest(unittest.TestCase):
    def test_rotary_tables_follow_the_runtime_length(self):
        torch.manual_seed(2)
        m = RotaryAttention().eval()
        export_and_compare(self, m, (torch.randn(2, 150, 32), torch.randn(2, 9, 32)), (["x", "text"], ["y"]),
                           {"x": {0: "batch", 1: "latent_len"}, "text": {0: "batch", 1: "text_len"},
                            "y": {0: "batch", 1: "latent_len"}},
                           (torch.randn(2, 400, 32), torch.randn(2, 12, 32)))

    def test_rotation_changes_attention(self):
        cos, sin = rotary_tables(5, 8)
        x = torch.randn(1, 5, 8)
        self.assertFalse(torch.allclose(rotate(x, cos, sin), x))
        self.assertTrue(torch.allclose(rotate(x, cos, sin).norm(dim=-1), x.norm(dim=-1), rtol=1e-5))


# ---- Synchformer-like divided space-time attention -------------------------------------------------

class DividedBlock(nn.Module):
    """Attention over time for each patch, then over space for each frame, with einops."""

    def __init__(self, dim, heads, frames, patches):
        super().__init__()
        self.frames, self.patches = frames, patches
        self.time_norm, self.space_norm, self.mlp_norm = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.time = nn.TransformerEncoderLayer(dim, heads, 2 * dim, dropout=0.0, batch_first=True).self_attn
        self.space = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):  # [B, 1 + F*N, D]: a class token, then frames x patches
        cls, tokens = x[:, :1], x[:, 1:]
        t = einops.rearrange(self.time_norm(tokens), "b (f n) d -> (b n) f d", f=self.frames)
        t = self.time(t, t, t, need_weights=False)[0]
        tokens = tokens + einops.rearrange(t, "(b n) f d -> b (f n) d", n=self.patches)
        s = einops.rearrange(self.space_norm(tokens), "b (f n) d -> (b f) n d", f=self.frames)
        cls_rep = einops.repeat(cls, "b 1 d -> (b f) 1 d", f=self.frames)
        s = self.space(torch.cat([cls_rep, s], 1), torch.cat([cls_rep, s], 1), torch.cat([cls_rep, s], 1),
                       need_weights=False)[0]
        cls = cls + einops.reduce(s[:, :1], "(b f) 1 d -> b 1 d", "mean", f=self.frames)
        tokens = tokens + einops.rearrange(s[:, 1:], "(b f) n d -> b (f n) d", f=self.frames)
        x = torch.cat([cls, tokens], 1)
        return x + self.mlp(self.mlp_norm(x))


class TinyVideoEncoder(nn.Module):
    """[B, 16, 3, S, S] -> [B, 8, D]: a zero-initialised 3-D patch embedding (2 frames x 8 px),
    two divided blocks, per-frame-pair mean over patches."""

    def __init__(self, size=32, dim=32, heads=4):
        super().__init__()
        self.frames, self.patches = 8, (size // 8) ** 2
        self.embed = nn.Conv3d(3, dim, (2, 8, 8), stride=(2, 8, 8))
        nn.init.zeros_(self.embed.weight)  # as Synchformer's patch_embed_3d starts
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.blocks = nn.ModuleList(DividedBlock(dim, heads, self.frames, self.patches) for _ in range(2))

    def forward(self, frames):
        x = self.embed(frames.transpose(1, 2))  # [B, D, 8, h, w]
        x = einops.rearrange(x, "b d f h w -> b (f h w) d")
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1)
        for block in self.blocks:
            x = block(x)
        return einops.reduce(x[:, 1:], "b (f n) d -> b f d", "mean", f=self.frames)


@unittest.skipIf(einops is None, "einops is not installed (HVF's requirements have it)")
class SynchformerKindTest(unittest.TestCase):
    def test_zero_initialised_embedding_is_redrawn(self):
        torch.manual_seed(3)
        m = TinyVideoEncoder().eval()
        self.assertEqual(float(m.embed.weight.abs().sum()), 0.0)
        frames = torch.randn(2, 16, 3, 32, 32)
        with torch.no_grad():
            before = m(frames)
            moved = m(frames + torch.randn_like(frames))
        self.assertTrue(torch.allclose(before, moved))  # zero weights: the pixels do not matter at all
        redraw_parameters(m, seed=0)
        self.assertGreater(float(m.embed.weight.abs().min()), 0.0)
        self.assertGreater(float(m.cls.abs().min()), 0.0)
        with torch.no_grad():
            self.assertFalse(torch.allclose(m(frames), m(frames + torch.randn_like(frames))))

    def test_divided_attention_exports(self):
        torch.manual_seed(4)
        m = TinyVideoEncoder().eval()
        redraw_parameters(m, seed=1)
        err = export_and_compare(self, m, (torch.randn(2, 16, 3, 32, 32),), (["frames"], ["tokens"]),
                                 {"frames": {0: "batch"}, "tokens": {0: "batch"}}, (torch.randn(3, 16, 3, 32, 32),))
        self.assertTrue(math.isfinite(err))


if __name__ == "__main__":
    unittest.main()
