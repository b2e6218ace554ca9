import unittest

import _util  # noqa: F401
import torch

from foley_export import reference, tiny, wrappers


def foley4j_times(steps, shift):
    """foley4j's schedule (docs/bundle-format.md, Sampler): t_i = 1 - shift*s/(1+(shift-1)s), s = 1-i/steps."""
    s = torch.tensor([1 - i / steps for i in range(steps + 1)], dtype=torch.float64)
    return 1 - shift * s / (1 + (shift - 1) * s)


class HvfWrapperTest(unittest.TestCase):
    def setUp(self):
        self.models = tiny.build(tiny.default_config("hvf", 11))
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(1, 8, 40, generator=g)
        self.visual = torch.randn(1, 16, 24, generator=g)
        self.sync = torch.randn(1, 32, 20, generator=g)
        self.text = torch.randn(1, 7, 28, generator=g)

    def test_one_euler_step_matches_hvf_scheduler_step(self):
        foley = self.models["foley"]
        wrapped = wrappers.HvfDenoiser(foley, flow_reverse=True)
        for steps, shift in ((10, 1.0), (25, 3.0)):
            sig = reference.hvf_sigmas(steps, shift, reverse=True)
            ts = foley4j_times(steps, shift)
            self.assertTrue(torch.allclose(ts.float(), 1 - sig, atol=1e-6))  # same time points
            for i in (0, steps // 2, steps - 1):
                with torch.no_grad():
                    out = foley(x=self.x, t=(sig[i] * 1000).reshape(1), cond=self.text, clip_feat=self.visual,
                                sync_feat=self.sync)["x"]
                    hvf_next = self.x + out * (sig[i + 1] - sig[i])
                    t = torch.tensor([1.0 - float(sig[i])])
                    v = wrapped(self.x, t, self.visual, self.sync, self.text)
                    ours_next = self.x + (float(ts[i + 1] - ts[i])) * v
                self.assertTrue(torch.allclose(hvf_next, ours_next, rtol=1e-4, atol=1e-5), (steps, shift, i))
                # without the negation the step would go the other way
                self.assertFalse(torch.allclose(hvf_next, self.x - (float(ts[i + 1] - ts[i])) * v, atol=1e-4))

    def test_wrapper_feeds_sigma_times_1000(self):
        seen = []

        class Spy(torch.nn.Module):
            def forward(self, x, t, cond, clip_feat, sync_feat, return_dict=True):
                seen.append(t.clone())
                return {"x": x}

        w = wrappers.HvfDenoiser(Spy(), flow_reverse=True)
        v = w(self.x, torch.tensor([0.25]), self.visual, self.sync, self.text)
        self.assertTrue(torch.allclose(seen[0], torch.tensor([750.0])))
        self.assertTrue(torch.equal(v, -self.x))
        w = wrappers.HvfDenoiser(Spy(), flow_reverse=False)
        v = w(self.x, torch.tensor([0.25]), self.visual, self.sync, self.text)
        self.assertTrue(torch.allclose(seen[1], torch.tensor([250.0])))
        self.assertTrue(torch.equal(v, self.x))


class MmaudioWrapperTest(unittest.TestCase):
    def test_identity_in_t_and_axis_moved(self):
        m = tiny.build(tiny.default_config("mmaudio", 3))
        g = torch.Generator().manual_seed(1)
        x = torch.randn(2, 8, 30, generator=g)  # foley4j layout [B, C, L]
        vis, syn, txt = torch.randn(2, 12, 24, generator=g), torch.randn(2, 16, 20, generator=g), \
            torch.randn(2, 77, 28, generator=g)
        t = torch.tensor([0.1, 0.7])
        with torch.no_grad():
            v = wrappers.MmaDenoiser(m["net"])(x, t, vis, syn, txt)
            direct = m["net"](x.transpose(1, 2), vis, syn, txt, t).transpose(1, 2)
            other = m["net"](x.transpose(1, 2), vis, syn, txt, 1 - t).transpose(1, 2)
        self.assertTrue(torch.equal(v, direct))
        self.assertFalse(torch.allclose(v, other, atol=1e-4))
        # FlowMatching's time points are foley4j's with shift 1
        self.assertTrue(torch.allclose(torch.linspace(0, 1, 26).double(), foley4j_times(25, 1.0), atol=1e-6))

    def test_rows_independent(self):
        m = tiny.build(tiny.default_config("hvf", 5))
        w = wrappers.HvfDenoiser(m["foley"])
        g = torch.Generator().manual_seed(2)
        args = [torch.randn(2, 8, 20, generator=g), torch.tensor([0.3, 0.6]), torch.randn(2, 8, 24, generator=g),
                torch.randn(2, 16, 20, generator=g), torch.randn(2, 5, 28, generator=g)]
        with torch.no_grad():
            both = w(*args)
            first = w(*[a[:1] for a in args])
        self.assertTrue(torch.allclose(both[:1], first, rtol=1e-5, atol=1e-6))


if __name__ == "__main__":
    unittest.main()
