import json
import math
import os
import unittest

import _util
import numpy as np

from foley_export import __main__ as cli
from foley_export import reference, tiny


class ReferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls._tmp = tempfile.TemporaryDirectory(prefix="foley_export_ref_")
        d = cls.root = cls._tmp.name
        tiny.create("hvf", 21, os.path.join(d, "hvf"))
        tiny.create("mmaudio", 22, os.path.join(d, "mma"))
        n = 75  # 3 s at 29.97 fps
        pts = np.arange(n) * 1001 / 30000.0
        np.save(os.path.join(d, "frames.npy"), _util.synthetic_frames(n))
        np.save(os.path.join(d, "pts.npy"), pts)
        rng = np.random.default_rng(5)
        # HVF: n_sync = 62 (grid times up to 74 * 1001/30000 = 2.469 s) -> 2.48 s -> 124 latents
        np.save(os.path.join(d, "noise_hvf.npy"), rng.standard_normal((8, 124)).astype(np.float32))
        np.save(os.path.join(d, "noise_mma.npy"), rng.standard_normal((8, 107)).astype(np.float32))

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def _run(self, kind, out, cfg=4.5, extra=()):
        d = self.root
        ck = os.path.join(d, "hvf" if kind == "hvf" else "mma")
        noise = os.path.join(d, "noise_hvf.npy" if kind == "hvf" else "noise_mma.npy")
        cli.main(["reference", "--kind", kind, "--checkpoint", ck, "--prompt", "footsteps on gravel",
                  "--cfg", str(cfg), "--steps", "6", "--frames", os.path.join(d, "frames.npy"),
                  "--pts", os.path.join(d, "pts.npy"), "--noise", noise, "--out", os.path.join(d, out)]
                 + list(extra))
        return np.load(os.path.join(d, out)), json.load(open(os.path.join(d, os.path.splitext(out)[0] + ".json")))

    def test_hvf_counts_and_determinism(self):
        a, counts = self._run("hvf", "a.npz")
        b, _ = self._run("hvf", "b.npz")
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k], k)
        self.assertEqual(counts["n_sync"], 62)
        self.assertEqual(counts["n_visual"], 20)
        self.assertEqual(counts["sync_tokens"], 8 * ((62 - 16) // 8 + 1))
        self.assertEqual(counts["latents"], 124)
        self.assertEqual(counts["samples"], 124 * 960)  # HVF's slice hits the channel axis: L * hop kept
        self.assertEqual(a["latents_0"].shape, (8, 124))
        self.assertEqual(a["audio"].shape, (124 * 960,))
        self.assertEqual(a["text"].shape[0], a["text_uncond"].shape[0])  # the pair is padded together
        self.assertTrue(np.isfinite(a["audio"]).all())

    def test_hvf_guidance_only_above_one(self):
        one, _ = self._run("hvf", "one.npz", cfg=1.0)
        half, _ = self._run("hvf", "half.npz", cfg=0.5)
        guided, _ = self._run("hvf", "g.npz", cfg=3.0)
        np.testing.assert_array_equal(one["latents_0"], half["latents_0"])  # both unguided
        self.assertFalse(np.allclose(one["latents_0"], guided["latents_0"], atol=1e-4))

    def test_mmaudio_single_pass(self):
        a, counts = self._run("mmaudio", "m.npz", extra=["--duration", "3.0"])
        # both streams stop at the last frame (2.469 s): duration min(3, 20/8, 62/25) = 2.48
        self.assertAlmostEqual(counts["duration"], 2.48)
        self.assertEqual(counts["n_visual"], int(8 * 2.48))
        self.assertEqual(counts["latents"], 107)  # ceil(2.48 * 44100 / 512 / 2) = ceil(106.8)
        self.assertEqual(counts["samples"], 107 * 1024)
        self.assertEqual(a["text"].shape, (77, 28))
        learned = tiny.load(os.path.join(self.root, "mma"))[1]["net"].empty_string_feat.detach().numpy()
        np.testing.assert_array_equal(a["text_uncond"], learned)  # no --negative: learned empty text
        neg, _ = self._run("mmaudio", "mn.npz", extra=["--duration", "3.0", "--negative", "noisy"])
        self.assertFalse(np.allclose(neg["text_uncond"], learned))
        self.assertFalse(np.allclose(neg["latents_0"], a["latents_0"], atol=1e-5))

    def test_mmaudio_segments(self):
        d = self.root
        n = int(11.5 * 25)
        pts = np.arange(n) / 25.0
        np.save(os.path.join(d, "long.npy"), _util.synthetic_frames(n, seed=3))
        np.save(os.path.join(d, "long_pts.npy"), pts)
        rng = np.random.default_rng(9)
        for k in range(2):
            np.save(os.path.join(d, "noise_%d.npy" % k), rng.standard_normal((8, 345)).astype(np.float32))
        cli.main(["reference", "--kind", "mmaudio", "--checkpoint", os.path.join(d, "mma"), "--prompt", "rain",
                  "--cfg", "4.5", "--steps", "3", "--frames", os.path.join(d, "long.npy"), "--pts",
                  os.path.join(d, "long_pts.npy"), "--noise", os.path.join(d, "noise_{k}.npy"), "--segments",
                  "--duration", "11.5", "--out", os.path.join(d, "seg.npz")])
        z = np.load(os.path.join(d, "seg.npz"))
        np.testing.assert_array_equal(z["segment_starts"], [0.0, 3.5])
        self.assertEqual(z["latents_1"].shape, (8, 345))
        self.assertEqual(z["audio_1"].shape, (353280,))
        self.assertEqual(z["frames_sync_1"][0], 88)  # first frame at or after 3.5 s: 3.52 s
        self.assertEqual(z["frames_visual_1"].tolist(),
                         [math.ceil((3.5 + i / 8) * 25 - 1e-6) for i in range(64)])
        self.assertFalse(np.allclose(z["latents_0"], z["latents_1"]))

    def test_wrong_noise_length_is_refused(self):
        with self.assertRaises(ValueError):
            config, models = tiny.load(os.path.join(self.root, "hvf"))
            reference.single_pass(config, models, np.load(os.path.join(self.root, "frames.npy")),
                                  np.load(os.path.join(self.root, "pts.npy")), "rain", None, 4.5, 2,
                                  np.zeros((8, 125), np.float32))


if __name__ == "__main__":
    unittest.main()
