import unittest
from fractions import Fraction

import _util
import numpy as np
from PIL import Image

from foley_export import frames as fr


def grid(fps, seconds):
    n = int(seconds * fps)
    return [float(Fraction(k) / fps) for k in range(n)]


class AccumulatingRuleTest(unittest.TestCase):
    def test_29_97_fps(self):
        pts = grid(Fraction(30000, 1001), 10)  # 299 frames
        sync = fr.pick_accumulating(pts, 25)
        vis = fr.pick_accumulating(pts, 8)
        self.assertEqual((len(sync), len(vis)), (249, 80))
        # each grid time gets the first frame at or after it
        self.assertEqual(sync, fr.pick_at_or_after(pts, [i / 25 for i in range(249)]))
        self.assertEqual(vis[:3], [0, 4, 8])  # 0, 0.125 -> 0.1335 (frame 4), 0.25 -> 0.2669 (frame 8)

    def test_25_fps_accumulated_grid_drifts_past_exact_frame_times(self):
        pts = grid(25, 8)  # 200 frames at exactly k/25
        sync = fr.pick_accumulating(pts, 25)
        # 0.04 added six times is 0.24000000000000002 > 0.24: frame 6 is skipped, frame 7 fills slots
        # 6 and 7; the drift comes and goes, and the last
        # slot is never reached: 199 frames, not 200 (HVF's own rule, feature_utils.py:46-52)
        self.assertEqual(sync[:8], [0, 1, 2, 3, 4, 5, 7, 7])
        self.assertEqual(len(sync), 199)
        self.assertNotEqual(sync, fr.pick_at_or_after(pts, [i / 25 for i in range(199)]))
        self.assertEqual(len(fr.pick_accumulating(pts, 8)), 64)

    def test_24_fps(self):
        pts = grid(24, 4)  # 96 frames
        sync = fr.pick_accumulating(pts, 25)
        self.assertEqual(len(sync), 99)  # grid times up to the last frame's pts 95/24
        self.assertEqual(sync[1], 1)  # 0.04 -> frame 1 at 0.0417
        self.assertEqual(sync[:25], fr.pick_at_or_after(pts, [i / 25 for i in range(25)]))

    def test_negative_and_late_frames(self):
        pts = [-0.04, 0.0, 0.5, 1.0, 15.0, 15.04, 15.08]
        out = fr.pick_accumulating(pts, 2)
        self.assertEqual(out[0], 1)
        self.assertEqual(out[-1], 4)  # 15.0 kept, later frames dropped
        self.assertEqual(len(out), 31)  # grid 0, 0.5, ... 15.0
        mma = fr.pick_accumulating(pts, 2, start_sec=0.0, end_sec=1.0)
        self.assertEqual(mma, [1, 2, 3])


class AtOrAfterTest(unittest.TestCase):
    def test_rule_and_bounds(self):
        pts = [0.0, 0.1, 0.2, 0.3]
        self.assertEqual(fr.pick_at_or_after(pts, [0.0, 0.05, 0.1 + 5e-10, 0.1 + 2e-9, 0.31, 9.0]),
                         [0, 1, 1, 2, 3, 3])

    def test_segment_plan(self):
        self.assertEqual(fr.segment_starts(11.5, 8.0, 1.0), [0.0, 3.5])
        self.assertEqual(fr.segment_starts(20.0, 8.0, 1.0), [0.0, 7.0, 12.0])
        self.assertEqual(fr.segment_starts(15.0, 8.0, 1.0), [0.0, 7.0])
        self.assertEqual(fr.segment_starts(16.0, 8.0, 1.0), [0.0, 7.0, 8.0])


class ResizeTest(unittest.TestCase):
    def test_center_crop_geometry(self):
        f = _util.synthetic_frames(1, 48, 80)[0]
        out = fr.resize_center_crop(f, 32, Image.BICUBIC)
        self.assertEqual(out.shape, (32, 32, 3))
        # short side 48 -> 32, long side int(32 * 80 / 48) = 53, left = round(10.5) = 10 (half to even)
        full = np.asarray(Image.fromarray(f).resize((53, 32), Image.BICUBIC))
        np.testing.assert_array_equal(out, full[:, 10:42])
        self.assertFalse(np.array_equal(out, full[:, 11:43]))

    def test_torch_center_crop_is_torchs_uint8_bicubic_of_the_same_geometry(self):
        import torch
        f = _util.synthetic_frames(1, 48, 80)[0]
        out = fr.resize_center_crop_torch(f, 32)
        self.assertEqual((out.shape, out.dtype), ((32, 32, 3), np.uint8))
        t = torch.from_numpy(np.ascontiguousarray(f)).permute(2, 0, 1)[None]
        try:
            full = torch.nn.functional.interpolate(t, size=(32, 53), mode="bicubic", antialias=True)
        except RuntimeError:
            self.skipTest("this torch has no uint8 bicubic")
        np.testing.assert_array_equal(out, full[0, :, :, 10:42].permute(1, 2, 0).numpy())
        pil = fr.resize_center_crop(f, 32, Image.BICUBIC)
        self.assertLessEqual(np.abs(out.astype(int) - pil.astype(int)).max(), 1)

    def test_torch_squash_is_mmaudios_clip_resize(self):
        # v2.Resize((S, S), BICUBIC) on a uint8 tensor: both axes straight to S, torch's rounding,
        # which is not PIL's (at most one level apart, and not equal everywhere on noise)
        import torch
        rng = np.random.default_rng(5)
        f = rng.integers(0, 256, (61, 97, 3), dtype=np.uint8)
        out = fr.resize_squash_torch(f, 40)
        self.assertEqual((out.shape, out.dtype), ((40, 40, 3), np.uint8))
        t = torch.from_numpy(f.copy()).permute(2, 0, 1)[None]
        want = torch.nn.functional.interpolate(t, size=(40, 40), mode="bicubic", antialias=True)
        np.testing.assert_array_equal(out, want[0].permute(1, 2, 0).numpy())
        pil = fr.resize_squash(f, 40, Image.BICUBIC)
        d = np.abs(out.astype(int) - pil.astype(int))
        self.assertLessEqual(d.max(), 1)
        self.assertGreater(int((d > 0).sum()), 0)

    def test_squash_and_normalise(self):
        f = _util.synthetic_frames(1, 48, 80)[0]
        out = fr.resize_squash(f, 16, Image.BILINEAR)
        np.testing.assert_array_equal(out, np.asarray(Image.fromarray(f).resize((16, 16), Image.BILINEAR)))
        x = fr.to_tensor_array([out], [0.5] * 3, [0.5] * 3)
        self.assertEqual(x.shape, (1, 3, 16, 16))
        self.assertAlmostEqual(float(x[0, 0, 0, 0]), out[0, 0, 0] / 255 * 2 - 1, places=6)


if __name__ == "__main__":
    unittest.main()
