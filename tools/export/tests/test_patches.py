import os
import subprocess
import sys
import unittest

import _util
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from foley_export import export, patches, tiny

# HVF's and MMAudio's real (sync tokens, latents) pairs and a few far ones
REAL_PAIRS = [(192, 400), (112, 250), (192, 345), (120, 750), (376, 431), (8, 1000), (1000, 7)]


def torch_indices(i, o):
    """The source index PyTorch's own kernel picks for each output position (an index ramp resized)."""
    x = torch.arange(i, dtype=torch.float32).reshape(1, 1, i)
    return F.interpolate(x, size=o, mode="nearest-exact")[0, 0].to(torch.int64)


def export_file(module, args, path, input_names, output_names, dynamic_axes):
    export.torchscript_export(module, args, path, input_names, output_names, dynamic_axes, 17)
    return path


def ort_run(path, feeds):
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(None, {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in feeds.items()})


def rel_l2(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


class NearestExactTest(unittest.TestCase):
    def test_indices_equal_torch_kernel_for_every_pair(self):
        pairs = [(i, o) for i in range(1, 130) for o in range(1, 130)] + REAL_PAIRS
        for i, o in pairs:
            self.assertTrue(torch.equal(patches.nearest_exact_indices(i, o), torch_indices(i, o)),
                            "in %d out %d" % (i, o))
        x = torch.randn(2, 3, 41)
        self.assertTrue(torch.equal(F.interpolate(x[..., :2], size=41, mode="nearest-exact"),
                                    patches.nearest_exact_resize(x[..., :2], 41)))

    def test_both_roundings_are_needed(self):
        # the fused and the twice-rounded forms differ on some pairs; the running kernel is one of them
        fused = patches.kernel_fuses_multiply_subtract()
        differ = [(i, o) for i in range(1, 130) for o in range(1, 130)
                  if not torch.equal(patches.nearest_exact_indices(i, o, True),
                                     patches.nearest_exact_indices(i, o, False))]
        self.assertIn((2, 41), differ)
        for i, o in differ:
            self.assertTrue(torch.equal(patches.nearest_exact_indices(i, o, fused), torch_indices(i, o)))
            self.assertFalse(torch.equal(patches.nearest_exact_indices(i, o, not fused), torch_indices(i, o)))

    def test_other_cpu_kernel_build_too(self):
        # ATEN_CPU_CAPABILITY=default runs the x86 kernel compiled without FMA (twice rounded)
        code = ("import sys; sys.path.insert(0, %r); import torch, torch.nn.functional as F; "
                "from foley_export import patches\n"
                "bad = [(i, o) for i in range(1, 80) for o in range(1, 130) if not torch.equal("
                "patches.nearest_exact_indices(i, o), F.interpolate(torch.arange(i, dtype=torch.float32)"
                ".reshape(1, 1, i), size=o, mode='nearest-exact')[0, 0].long())]\n"
                "print(torch.backends.cpu.get_cpu_capability(), patches.kernel_fuses_multiply_subtract(), len(bad))"
                % os.path.dirname(_util.HERE))
        env = dict(os.environ, ATEN_CPU_CAPABILITY="default")
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        cap, fused, bad = out.stdout.split()
        self.assertEqual(bad, "0", out.stdout)
        if cap == "DEFAULT" and torch.backends.cpu.get_cpu_capability() != "DEFAULT" and sys.platform == "linux":
            self.assertNotEqual(fused == "True", patches.kernel_fuses_multiply_subtract())

    def test_context_routes_only_nearest_exact(self):
        x = torch.randn(1, 2, 10)
        with patches.nearest_exact_as_gather():
            self.assertIsNot(F.interpolate, patches.nearest_exact_resize)
            a = F.interpolate(x, size=17, mode="nearest-exact")
            b = F.interpolate(x, size=17, mode="linear", align_corners=False)
        self.assertTrue(torch.equal(a, patches.nearest_exact_resize(x, 17)))
        self.assertTrue(torch.allclose(b, F.interpolate(x, size=17, mode="linear", align_corners=False)))

    def test_gather_exports_with_symbolic_lengths(self):
        class M(nn.Module):
            def forward(self, x, s):
                return x + F.interpolate(s, size=x.shape[2], mode="nearest-exact")

        path = os.path.join(_util.tmpdir(self), "gather.onnx")
        with patches.nearest_exact_as_gather():
            export_file(M(), (torch.randn(1, 2, 10), torch.randn(1, 2, 4)), path, ["x", "s"], ["y"],
                        {"x": {2: "l"}, "s": {2: "n"}, "y": {2: "l"}})
        # ONNX Runtime picks the same rows as PyTorch at lengths unlike the export's, ties included
        for i, o in [(2, 41), (2, 61), (4, 82), (6, 123)] + REAL_PAIRS + [(7, 3), (33, 100)]:
            x, s = torch.zeros(1, 2, o), torch.randn(1, 2, i)
            (got,) = ort_run(path, {"x": x, "s": s})
            np.testing.assert_array_equal(got, M()(x, s).numpy(), "in %d out %d" % (i, o))
        import onnx
        g = onnx.load(path).graph
        ops = {n.op_type for n in g.node}
        self.assertIn("Range", ops)
        self.assertIn("Gather", ops)
        self.assertNotIn("Resize", ops)
        # the gather's index range is built from the runtime length of x, not a constant
        producer = {o: n for n in g.node for o in n.output}

        def sources(name):
            n = producer.get(name)
            if n is None:
                return {name}
            out = {n.op_type}
            for i in n.input:
                out |= sources(i)
            return out

        rng = next(n for n in g.node if n.op_type == "Range")
        self.assertIn("x", sources(rng.input[1]))


class RmsNormTest(unittest.TestCase):
    def test_explicit_equals_original(self):
        for eps in (None, 1e-6, 1e-5):
            if hasattr(nn, "RMSNorm"):
                orig = nn.RMSNorm(8, eps=eps)
            else:
                orig = tiny._RMSNormFallback(8)
                orig.eps = eps
                if eps is not None:
                    continue  # the fallback mirrors only nn.RMSNorm's default
            with torch.no_grad():
                orig.weight.copy_(torch.randn(8))
            x = torch.randn(3, 5, 8) * 0.001  # small values: eps matters
            patched = patches.ExplicitRMSNorm(8, eps, orig.weight)
            self.assertTrue(torch.allclose(orig(x), patched(x), rtol=1e-5, atol=1e-7), str(eps))

    def test_reduced_precision_computes_as_torch_does(self):
        # torch's own RMSNorm on float16/bfloat16 normalises in float32 (with float32's epsilon as the
        # default eps), casts back, then applies the weight; a float16 x.pow(2) overflows above 256
        # and float16's epsilon (1e-3) swamps small inputs.
        if not hasattr(nn, "RMSNorm"):
            self.skipTest("nn.RMSNorm needs PyTorch >= 2.4")
        torch.manual_seed(0)
        for dtype in (torch.float16, torch.bfloat16):
            for eps in (None, 1e-6):
                orig = nn.RMSNorm(64, eps=eps).to(dtype)
                with torch.no_grad():
                    orig.weight.copy_(torch.randn(64))
                patched = patches.ExplicitRMSNorm(64, eps, orig.weight)
                for scale in (0.01, 1.0, 300.0):
                    x = (torch.randn(3, 5, 64) * scale).to(dtype)
                    want, got = orig(x), patched(x)
                    self.assertEqual(got.dtype, dtype)
                    self.assertTrue(torch.isfinite(got).all(), (dtype, eps, scale))
                    # equal up to one rounding of the result in the reduced type
                    tol = 2 * torch.finfo(dtype).eps * want.float().abs().max().item()
                    self.assertLessEqual((got.float() - want.float()).abs().max().item(), tol,
                                         (dtype, eps, scale))

    def test_default_eps_is_dtype_epsilon(self):
        x = torch.full((1, 4), 1e-4)
        y = patches.ExplicitRMSNorm(4, None)(x)
        expect = x / torch.sqrt(torch.tensor(1e-8) + torch.finfo(torch.float32).eps)
        self.assertTrue(torch.allclose(y, expect, rtol=1e-6))
        self.assertFalse(torch.allclose(y, patches.ExplicitRMSNorm(4, 1e-6)(x), rtol=1e-3))

    def test_replaces_torch_rmsnorm_in_tiny_denoiser(self):
        m = tiny.build(tiny.default_config("hvf", 0))
        x = torch.randn(2, 8, 30)
        args = dict(x=x, t=torch.tensor([100.0, 900.0]), cond=torch.randn(2, 6, 28),
                    clip_feat=torch.randn(2, 10, 24), sync_feat=torch.randn(2, 16, 20))
        with torch.no_grad():
            before = m["foley"](**args)["x"]
            n = patches.explicit_rms_norm(m)
            after = m["foley"](**args)["x"]
        self.assertEqual(n, 2 if hasattr(nn, "RMSNorm") else 0)
        self.assertTrue(torch.allclose(before, after, rtol=1e-5, atol=1e-6))


class _Root(nn.Module):
    """The layer called as a stage calls it (a root module's keyword defaults would become inputs)."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x)


class FastPathTest(unittest.TestCase):
    def _export(self, layer, name):
        return export_file(_Root(layer), (torch.randn(2, 5, 16),), os.path.join(self.dir, name), ["x"], ["y"],
                           {"x": {0: "b", 1: "n"}, "y": {0: "b", 1: "n"}})

    def _check(self, layer, path):
        x = torch.randn(3, 7, 16)
        with torch.no_grad():
            want = layer(x).numpy()
        (got,) = ort_run(path, {"x": x})
        self.assertLess(rel_l2(got, want), 1e-5)

    def test_fast_path_export_and_patch(self):
        self.dir = _util.tmpdir(self)
        layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True).eval()
        for p in layer.parameters():
            p.requires_grad_(False)
        # Without the patch, PyTorch up to at least 2.3 traces the fused kernel, which cannot be
        # exported; newer ones leave the fast path while tracing. Either it fails with that kernel's
        # name, or the graph it writes computes the layer.
        try:
            with torch.no_grad():
                path = self._export(layer, "plain.onnx")
        except Exception as e:  # noqa: BLE001 (the exporter's own error types vary by version)
            self.assertIn("_transformer_encoder_layer_fwd", str(e))
        else:
            self._check(layer, path)
        mha = getattr(torch.backends, "mha", None)
        before = mha.get_fastpath_enabled() if mha is not None else None
        with torch.no_grad(), patches.mha_fastpath_disabled(layer), patches.explicit_multihead_attention(layer):
            if mha is not None:
                self.assertFalse(mha.get_fastpath_enabled())
            path = self._export(layer, "patched.onnx")
        self._check(layer, path)
        self.assertFalse(any(p.requires_grad for p in layer.parameters()))
        if mha is not None:
            self.assertEqual(mha.get_fastpath_enabled(), before)

    def test_explicit_attention_equals_torch_and_exports_at_symbolic_lengths(self):
        self.dir = _util.tmpdir(self)
        torch.manual_seed(0)

        class Cross(nn.Module):
            def __init__(self, batch_first, kdim):
                super().__init__()
                self.batch_first = batch_first
                self.attn = nn.MultiheadAttention(16, 4, batch_first=batch_first, kdim=kdim, vdim=kdim).eval()

            def forward(self, q, kv, pad):
                if not self.batch_first:
                    q, kv = q.transpose(0, 1), kv.transpose(0, 1)
                out, w = self.attn(q, kv, kv, key_padding_mask=pad, need_weights=True)
                out = out if self.batch_first else out.transpose(0, 1)
                return out, w

        for batch_first, kdim in ((True, None), (False, 12)):
            m = Cross(batch_first, kdim)
            kd = kdim or 16

            def inputs(b, lq, lk):
                pad = torch.zeros(b, lk, dtype=torch.bool)
                pad[0, -2:] = True
                return torch.randn(b, lq, 16), torch.randn(b, lk, kd), pad

            with torch.no_grad():
                args = inputs(2, 5, 7)
                want = m(*args)
                with patches.explicit_multihead_attention(m):
                    self.assertIn("forward", m.attn.__dict__)
                    got = m(*args)
                self.assertNotIn("forward", m.attn.__dict__)
                for a, b in zip(got, want):
                    self.assertTrue(torch.allclose(a, b, rtol=1e-5, atol=1e-6))
                path = os.path.join(self.dir, "cross-%s.onnx" % batch_first)
                with patches.explicit_multihead_attention(m):
                    export_file(m, args, path, ["q", "kv", "pad"], ["y", "w"],
                                {"q": {0: "b", 1: "lq"}, "kv": {0: "b", 1: "lk"}, "pad": {0: "b", 1: "lk"},
                                 "y": {0: "b", 1: "lq"}, "w": {0: "b", 1: "lq", 2: "lk"}})
                other = inputs(3, 9, 4)
                got = ort_run(path, {"q": other[0], "kv": other[1], "pad": other[2].numpy()})
                for a, b in zip(got, m(*other)):
                    self.assertLess(rel_l2(a, b.numpy()), 1e-5)

    def test_affine_layer_norm_same_numbers(self):
        ln = nn.LayerNorm(8, elementwise_affine=False, eps=1e-6)
        x = torch.randn(3, 8)
        before = ln(x)
        self.assertEqual(patches.affine_layer_norms(ln), 1)
        self.assertTrue(torch.equal(before, ln(x)))
        self.assertTrue(ln.elementwise_affine)


if __name__ == "__main__":
    unittest.main()
