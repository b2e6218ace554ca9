import io
import unittest

import _util  # noqa: F401
import torch
import torch.nn as nn
import torch.nn.functional as F

from foley_export import patches, tiny


class NearestExactTest(unittest.TestCase):
    def test_gather_equals_interpolate_for_many_lengths(self):
        pairs = [(i, o) for i in range(1, 130) for o in range(1, 130)]
        pairs += [(192, 400), (112, 250), (192, 345), (120, 750), (376, 431), (8, 1000), (1000, 7)]
        for i, o in pairs:
            x = torch.randn(2, 3, i)
            want = F.interpolate(x, size=o, mode="nearest-exact")
            got = patches.nearest_exact_resize(x, o)
            self.assertTrue(torch.equal(want, got), "in %d out %d" % (i, o))

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

        buf = io.BytesIO()
        with patches.nearest_exact_as_gather():
            torch.onnx.export(M(), (torch.randn(1, 2, 10), torch.randn(1, 2, 4)), buf,
                              input_names=["x", "s"], output_names=["y"],
                              dynamic_axes={"x": {2: "l"}, "s": {2: "n"}, "y": {2: "l"}}, opset_version=17)
        import onnx
        g = onnx.load_model_from_string(buf.getvalue()).graph
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


class FastPathTest(unittest.TestCase):
    def _export(self, layer):
        buf = io.BytesIO()
        torch.onnx.export(layer, (torch.randn(2, 5, 16),), buf, input_names=["x"], output_names=["y"],
                          opset_version=17)

    def test_fast_path_breaks_export_and_patch_fixes_it(self):
        layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True).eval()
        for p in layer.parameters():
            p.requires_grad_(False)
        with torch.no_grad():
            with self.assertRaises(Exception) as ctx:
                self._export(layer)
        self.assertIn("_transformer_encoder_layer_fwd", str(ctx.exception))
        with torch.no_grad(), patches.mha_fastpath_disabled(layer):
            self._export(layer)
        self.assertFalse(any(p.requires_grad for p in layer.parameters()))

    def test_affine_layer_norm_same_numbers(self):
        ln = nn.LayerNorm(8, elementwise_affine=False, eps=1e-6)
        x = torch.randn(3, 8)
        before = ln(x)
        self.assertEqual(patches.affine_layer_norms(ln), 1)
        self.assertTrue(torch.equal(before, ln(x)))
        self.assertTrue(ln.elementwise_affine)


if __name__ == "__main__":
    unittest.main()
