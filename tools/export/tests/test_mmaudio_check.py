"""What ``mmaudio-check`` relies on that runs without MMAudio's code (which is never in the repository
nor downloaded by a test): MMAudio's fixed sequence-length state handled by the denoiser wrapper,
the stand-in packages, the parameter redraw, the noise injection into ``generate()``, the float
WAV reader, and the manifest rules of an MMAudio small_44k bundle.

The length-state network below is written for this test: a module that, like MMAudio's
``networks.MMAudio``, keeps its latent/CLIP/sync lengths as state set by ``update_seq_lengths``
(rotary tables for the latents and for the CLIP frames, the CLIP table's frequencies scaled by
latents/frames, the sync resize target) and refuses inputs of other lengths.
"""

import json
import math
import os
import struct
import subprocess
import sys
import unittest
from unittest import mock

import _util
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from foley_export import export, mmaudio_check, standins
from foley_export.wrappers import MmaDenoiser


def rope(length, dim, scaling=1.0):
    pos = torch.arange(length, dtype=torch.float32)
    freqs = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    freqs = freqs * scaling
    ang = pos[:, None] * freqs[None, :]
    return torch.stack([torch.cos(ang), torch.sin(ang)], dim=-1)  # [N, dim/2, 2]


def apply_rope(x, rot):
    x2 = x.reshape(*x.shape[:-1], -1, 2)
    c, s = rot[..., 0], rot[..., 1]
    out = torch.stack([x2[..., 0] * c - x2[..., 1] * s, x2[..., 0] * s + x2[..., 1] * c], dim=-1)
    return out.reshape(x.shape)


class LengthStateNet(nn.Module):
    """latent [B,N,C], clip_f [B,Nc,Dc], sync_f [B,Ns,Ds], text_f [B,77,Dt], t [B] -> flow [B,N,C]."""

    def __init__(self, c=6, dc=10, ds=12, dt=8, h=16, lengths=(216, 40, 112)):
        super().__init__()
        self.latent_dim = c
        self.h = h
        self.audio = nn.Linear(c, h)
        self.clip = nn.Linear(dc, h)
        self.sync = nn.Linear(ds, h)
        self.text = nn.Linear(dt, h)
        self.t_proj = nn.Linear(1, h)
        self.sync_pos = nn.Parameter(torch.randn(1, 1, 8, ds) * 0.3)
        self.qkv = nn.Linear(h, 3 * h)
        self.out = nn.Linear(h, c)
        self.update_seq_lengths(*lengths)

    def update_seq_lengths(self, latent_seq_len, clip_seq_len, sync_seq_len):
        self._latent_seq_len, self._clip_seq_len, self._sync_seq_len = latent_seq_len, clip_seq_len, sync_seq_len
        self.latent_rot = nn.Buffer(rope(latent_seq_len, self.h), persistent=False)
        self.clip_rot = nn.Buffer(rope(clip_seq_len, self.h, 1.0 * latent_seq_len / clip_seq_len), persistent=False)

    def forward(self, latent, clip_f, sync_f, text_f, t):
        assert latent.shape[1] == self._latent_seq_len
        assert clip_f.shape[1] == self._clip_seq_len
        assert sync_f.shape[1] == self._sync_seq_len
        bs = latent.shape[0]
        s = (sync_f.view(bs, self._sync_seq_len // 8, 8, -1) + self.sync_pos).flatten(1, 2)
        s = F.interpolate(self.sync(s).transpose(1, 2), size=self._latent_seq_len, mode="nearest-exact")
        x = self.audio(latent) + s.transpose(1, 2) + self.t_proj(t[:, None])[:, None]
        c = self.clip(clip_f)
        q, k, v = self.qkv(torch.cat([x, c, self.text(text_f)], dim=1)).chunk(3, dim=-1)
        n, nc = x.shape[1], c.shape[1]
        rot = torch.cat([self.latent_rot, self.clip_rot], dim=0)
        q = torch.cat([apply_rope(q[:, :n + nc], rot), q[:, n + nc:]], dim=1)
        k = torch.cat([apply_rope(k[:, :n + nc], rot), k[:, n + nc:]], dim=1)
        a = F.scaled_dot_product_attention(q, k, v)
        return self.out(a[:, :n])


class FixedLengths(nn.Module):
    """The control: calls the network without setting its lengths (what an export of MMAudio's
    network as it stands, after one update_seq_lengths, would do)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, latents, timestep, visual, sync, text):
        return self.net(latents.transpose(1, 2), visual, sync, text, timestep).transpose(1, 2)


NAMES = (["latents", "timestep", "visual", "sync", "text"], ["velocity"])
AXES = {"latents": {0: "batch", 2: "latent_len"}, "timestep": {0: "batch"}, "visual": {0: "batch", 1: "visual_len"},
        "sync": {0: "batch", 1: "sync_len"}, "text": {0: "batch"}, "velocity": {0: "batch", 2: "latent_len"}}


def denoiser_inputs(gen, batch, lat, nclip, nsync, net):
    return [torch.randn(batch, net.latent_dim, lat, generator=gen), torch.rand(batch, generator=gen),
            torch.randn(batch, nclip, 10, generator=gen), torch.randn(batch, nsync, 12, generator=gen),
            torch.randn(batch, 77, 8, generator=gen)]


def export_one(test, module, inputs, in_axes, out_axes):
    """``module`` exported by the tool's own stage path as stage "m"; returns the .onnx path."""
    d = _util.tmpdir(test)
    model, streamed = export._export_stage("m", module, inputs, {"m": (in_axes, out_axes)}, 17, d, None)
    path = os.path.join(d, "m.onnx")
    export._save(model, path, False, streamed)
    return path


def export_denoiser(test, wrapper, args):
    return export_one(test, wrapper, dict(zip(NAMES[0], args)), {n: AXES.get(n, {}) for n in NAMES[0]},
                      {n: AXES.get(n, {}) for n in NAMES[1]})


def mmaudio_way(net, args):
    """What MMAudio's demo does: update_seq_lengths from the pass, then the network itself."""
    latents, t, visual, sync, text = args
    net.update_seq_lengths(latents.shape[2], visual.shape[1], sync.shape[1])
    with torch.no_grad():
        return net(latents.transpose(1, 2), visual, sync, text, t).transpose(1, 2).numpy()


class SeqLengthStateTest(unittest.TestCase):
    # MMAudio's lengths at 5 s (the export's dummy pass), 8 s (345, 64, 192: sequence_config.py:53-56)
    # and two single passes of the check's clips (2.96 s and 7.96 s)
    EXPORT = (216, 40, 112)
    OTHERS = [(345, 64, 192), (128, 23, 64), (343, 63, 184)]

    def test_wrapper_sets_the_lengths_from_the_inputs_in_the_graph(self):
        import onnxruntime as ort
        torch.manual_seed(0)
        net = LengthStateNet().eval()
        gen = torch.Generator().manual_seed(1)
        path = export_denoiser(self, MmaDenoiser(net).eval(), denoiser_inputs(gen, 2, *self.EXPORT, net))
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        for batch, lengths in zip((1, 3, 2), self.OTHERS):
            args = denoiser_inputs(gen, batch, *lengths, net)
            (got,) = sess.run(None, {n: a.numpy() for n, a in zip(NAMES[0], args)})
            want = mmaudio_way(net, args)
            err = float(np.linalg.norm(got - want) / np.linalg.norm(want))
            self.assertLess(err, 1e-5, "lengths %s" % (lengths,))

    def test_eager_wrapper_equals_update_then_call(self):
        torch.manual_seed(0)
        net = LengthStateNet().eval()
        gen = torch.Generator().manual_seed(2)
        for lengths in self.OTHERS:
            args = denoiser_inputs(gen, 2, *lengths, net)
            with torch.no_grad():
                got = MmaDenoiser(net)(*args).numpy()
            np.testing.assert_array_equal(got, mmaudio_way(net, args))
            self.assertEqual((net._latent_seq_len, net._clip_seq_len, net._sync_seq_len), lengths)

    def test_control_without_the_update_is_wrong_at_other_lengths(self):
        """The state matters: a graph of the network at its export lengths fails or differs at
        another pass length (so the test above could fail)."""
        import onnxruntime as ort
        torch.manual_seed(0)
        net = LengthStateNet(lengths=self.EXPORT).eval()
        gen = torch.Generator().manual_seed(3)
        path = export_denoiser(self, FixedLengths(net).eval(), denoiser_inputs(gen, 2, *self.EXPORT, net))
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        args = denoiser_inputs(gen, 2, *self.OTHERS[0], net)
        try:
            (got,) = sess.run(None, {n: a.numpy() for n, a in zip(NAMES[0], args)})
        except Exception:  # noqa: BLE001 - onnxruntime's error types differ by version
            return
        want = mmaudio_way(net, args)
        self.assertGreater(float(np.linalg.norm(got - want) / np.linalg.norm(want)), 1e-3)


class StandInsTest(unittest.TestCase):
    def run_py(self, directory, code):
        r = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, %r)\n%s" % (directory, code)],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_written_stand_ins_import_and_behave(self):
        d = _util.tmpdir(self)
        written = standins.write(standins.MMAUDIO, d)
        self.assertEqual(sorted({os.path.relpath(p, d).split(os.sep)[0] for p in written}), sorted(standins.MMAUDIO))
        with open(os.path.join(d, "cfg.yaml"), "w") as f:
            f.write("VIT:\n  DEPTH: 12\n  PATCH_SIZE: 16\nDATA:\n  MEAN: [0.5, 0.5, 0.5]\n")
        out = self.run_py(d, """
import torch
from torchvision.transforms import Normalize, InterpolationMode
from torchvision.transforms import v2
import torchvision.transforms.functional as F
from torchvision.ops.misc import FrozenBatchNorm2d
x = torch.rand(2, 5, 3, 4, 4)
m, s = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
want = (x - torch.tensor(m).view(-1, 1, 1)) / torch.tensor(s).view(-1, 1, 1)
assert torch.equal(Normalize(m, s)(x), want)
assert InterpolationMode.BICUBIC.value == "bicubic" and F.InterpolationMode is InterpolationMode
try:
    v2.Resize(384)
    raise SystemExit("a stand-in name was usable")
except NotImplementedError as e:
    assert "torchvision.transforms.v2.Resize: a foley_export stand-in" in str(e), e
from omegaconf import OmegaConf
cfg = OmegaConf.load(%r)
cfg.VIT.ATTN_DROPOUT = 0.0
assert cfg.VIT.DEPTH == 12 and cfg.VIT.ATTN_DROPOUT == 0.0 and cfg.DATA.MEAN == [0.5, 0.5, 0.5]
from librosa.filters import mel
from torchdiffeq import odeint
from colorlog import ColoredFormatter
import logging
r = logging.LogRecord("x", logging.INFO, "f", 1, "hello", None, None)
assert ColoredFormatter("%%(log_color)s%%(message)s%%(reset)s").format(r) == "hello"
print("ok")
""" % os.path.join(d, "cfg.yaml"))
        self.assertEqual(out.strip(), "ok")

    def test_install_stands_in_only_what_does_not_import(self):
        """mmaudio-check's call: the packages that cannot be found get a stand-in in the given
        directory, which then comes first; the others (none here, or all where installed) are left."""
        d = os.path.join(_util.tmpdir(self), "standins")
        here = os.path.dirname(os.path.dirname(os.path.abspath(mmaudio_check.__file__)))
        out = self.run_py(here, """
import importlib, importlib.util, json
from foley_export import standins
absent = [p for p in standins.MMAUDIO if importlib.util.find_spec(p) is None]
directory, stood_in = standins.install(standins.MMAUDIO, %r)
files = {p: importlib.import_module(p).__file__ for p in standins.MMAUDIO}
print(json.dumps({"absent": absent, "stood_in": stood_in, "directory": directory, "files": files}))
""" % d)
        got = json.loads(out.strip().splitlines()[-1])
        self.assertEqual(got["stood_in"], got["absent"])
        self.assertEqual(got["directory"], d if got["absent"] else None)
        for p, f in got["files"].items():
            self.assertEqual(f.startswith(d + os.sep), p in got["absent"], (p, f))


class RedrawTest(unittest.TestCase):
    def test_zero_and_nan_parameters_redrawn_others_kept(self):
        m = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 3))
        with torch.no_grad():
            m[1].weight.zero_()
            m[1].bias.fill_(float("nan"))
        kept = m[0].weight.detach().clone()
        names = mmaudio_check.redraw_zero_parameters(m, 0)
        self.assertEqual(sorted(names), ["1.bias", "1.weight"])
        self.assertTrue(torch.equal(m[0].weight, kept))
        for p in m.parameters():
            self.assertTrue(torch.isfinite(p).all())
            self.assertTrue(p.any())
        self.assertEqual(mmaudio_check.redraw_zero_parameters(m, 0), [])

    def test_cut_blocks(self):
        blocks = nn.ModuleList([nn.Identity() for _ in range(12)])
        self.assertEqual(mmaudio_check.cut_blocks(blocks, 2), 2)
        self.assertEqual(mmaudio_check.cut_blocks(blocks, 0), 2)


class NoiseInjectionTest(unittest.TestCase):
    def test_the_one_randn_call_gets_foley4js_noise(self):
        x0 = torch.randn(1, 7, 4)
        real = torch.randn
        with mmaudio_check.initial_noise(x0) as calls:
            got = torch.randn(1, 7, 4, dtype=torch.float32, generator=torch.Generator())
            self.assertTrue(torch.equal(got, x0))
            with self.assertRaises(RuntimeError) as e:
                torch.randn(1, 8, 4)
            self.assertIn("(1, 8, 4)", str(e.exception))
        self.assertEqual(calls, [(1, 7, 4)])
        self.assertIs(torch.randn, real)

    def test_foley_noise_becomes_mmaudios_latent_layout(self):
        """``foley noise`` writes [channels, latents]; MMAudio draws [1, latents, channels]."""
        noise = np.arange(40 * 7, dtype=np.float32).reshape(40, 7)
        x0 = mmaudio_check.latent_noise(noise, 40)
        self.assertEqual(tuple(x0.shape), (1, 7, 40))
        for t in range(7):
            for c in range(40):
                self.assertEqual(float(x0[0, t, c]), float(noise[c, t]))

    def test_noise_comes_from_the_foley_noise_command(self):
        d = _util.tmpdir(self)
        jar = os.path.join(d, "foley.jar")
        open(jar, "w").close()
        seen = []
        with mock.patch.object(mmaudio_check, "foley_noise",
                               lambda *a, **k: seen.append((a, k)) or np.zeros((40, 3), np.float32)):
            got = mmaudio_check.Foley4j(jar).noise(7, 2, 40, 3, os.path.join(d, "n.npy"))
        self.assertEqual(got.shape, (40, 3))
        self.assertEqual(seen, [((jar, 7, 40, 3, os.path.join(d, "n.npy")), {"pass_index": 2})])
        with self.assertRaises(SystemExit):
            mmaudio_check.Foley4j(os.path.join(d, "absent.jar"))


class FloatWavTest(unittest.TestCase):
    """mmaudio-check reads foley4j's WAVs with hvf-check's reader (16-bit refused: test_hvf_check)."""

    def write(self, path, samples, fmt=3, bits=32, extra=b""):
        data = samples.astype("<f4").tobytes() if bits == 32 else (samples * 32767).astype("<i2").tobytes()
        fmt_chunk = struct.pack("<HHIIHH", fmt, 1, 44100, 44100 * bits // 8, bits // 8, bits)
        body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk + extra
        body += b"data" + struct.pack("<I", len(data)) + data
        with open(path, "wb") as f:
            f.write(b"RIFF" + struct.pack("<I", len(body)) + body)

    def test_reads_float_samples_past_other_chunks(self):
        d = _util.tmpdir(self)
        x = np.random.default_rng(0).standard_normal(1001).astype(np.float32)
        p = os.path.join(d, "a.wav")
        self.write(p, x, extra=b"LIST" + struct.pack("<I", 5) + b"abcde" + b"\0")
        got, rate = mmaudio_check.read_float_wav(p)
        self.assertEqual(rate, 44100)
        np.testing.assert_array_equal(got, x)


class ManifestRulesTest(unittest.TestCase):
    def test_small_44k_spec(self):
        spec = export.Spec(mmaudio_check.mmaudio_config())
        self.assertEqual(spec.latent_rate, 44100 / 1024)
        self.assertEqual(spec.text_padding, "fixed")
        self.assertEqual((spec.max_tokens, spec.encoder_max_tokens), (77, 77))
        self.assertEqual(spec.guidance, "at-least-one")
        # MMAudio's CONFIG_44K at 8 s: 345 latents, 353 280 samples (sequence_config.py:53-56)
        self.assertEqual(spec.segment, {"seconds": 8.0, "overlapSeconds": 1.0, "singlePassMaxSeconds": 8.0,
                                        "singlePassLength": "shortest-stream", "latents": 345, "samples": 353280})
        # the parity data's 8 s pass and the export's 5 s dummy: SequenceConfig's latent, clip, sync
        for seconds, want in ((8.0, (345, 64, 192)), (5.0, (216, 40, 112))):
            n = spec.lengths(seconds)
            self.assertEqual((n["latents"], n["visual"], n["sync"]), want)
            self.assertEqual(n["latents"], int(math.ceil(seconds * 44100 / 512 / 2)))
        m = export.build_manifest(spec, {}, "0" * 64, "0" * 64, "x")
        self.assertEqual((m["visual"]["size"], m["visual"]["fps"], m["sync"]["size"], m["sync"]["fps"]),
                         (384, 8.0, 224, 25.0))
        self.assertEqual(m["visual"]["mean"], mmaudio_check.CLIP_MEAN)
        self.assertEqual(m["sampler"]["negativePrompt"], "")
        self.assertEqual(m["audio"], {"sampleRate": 44100, "channels": 1})

    def test_single_pass_frames_follow_load_video(self):
        pts = np.arange(75) / 25.0  # 3 s at 25 fps
        vis, syn, d = mmaudio_check.single_pass_frames(pts)
        # the accumulated 25 fps grid never reaches the 75th frame: 74 sync frames, d = 2.96 s,
        # then int(8 * 2.96) = 23 CLIP frames
        self.assertAlmostEqual(d, 2.96, places=12)
        self.assertEqual((len(vis), len(syn)), (23, 74))
        pts = np.arange(239) / (30000 / 1001)
        vis, syn, d = mmaudio_check.single_pass_frames(pts)
        self.assertEqual((len(vis), len(syn)), (63, 199))
        self.assertAlmostEqual(d, 7.96, places=12)


class ScaleFactorUpsampleTest(unittest.TestCase):
    """MMAudio's VAE decoder upsamples with ``F.interpolate(x, scale_factor=2.0,
    mode="nearest-exact")`` (which the TorchScript exporter cannot translate): the export patch
    routes integral factors through the same gather as ``size=``."""

    def test_patched_equals_pytorch(self):
        from foley_export.patches import nearest_exact_as_gather
        for n in list(range(1, 130)) + [216, 345, 690]:
            x = torch.randn(1, 2, n)
            for s in (2.0, 3.0, 4):
                want = F.interpolate(x, scale_factor=s, mode="nearest-exact")
                with nearest_exact_as_gather():
                    got = F.interpolate(x, scale_factor=s, mode="nearest-exact")
                self.assertTrue(torch.equal(got, want), (n, s))

    def test_exported_at_one_length_runs_at_others(self):
        import onnxruntime as ort

        class Up(nn.Module):
            def forward(self, x):
                return F.interpolate(x, scale_factor=2.0, mode="nearest-exact") * 2.0

        path = export_one(self, Up(), {"x": torch.randn(2, 3, 50)}, {"x": {0: "batch", 2: "n"}},
                          {"y": {0: "batch", 2: "m"}})
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        for n in (1, 77, 345):
            x = torch.randn(1, 3, n)
            (got,) = sess.run(None, {"x": x.numpy()})
            np.testing.assert_array_equal(got, Up()(x).numpy())


class RuntimeFilterTest(unittest.TestCase):
    """BigVGAN's anti-aliased activations build a depthwise filter per call from the input's channel
    count (``filter.expand(C, -1, -1)``, ``groups=C``); the export patch makes it a constant."""

    def test_exported_at_one_length_runs_at_others(self):
        import onnxruntime as ort

        class Resample(nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("filter", torch.hann_window(12).view(1, 1, 12) / 6)
                self.conv = nn.Conv1d(5, 5, 3, padding=1, groups=5)

            def forward(self, x):
                _, c, _ = x.shape
                x = F.pad(x, (5, 5), mode="replicate")
                x = 2 * F.conv_transpose1d(x, self.filter.expand(c, -1, -1), stride=2, groups=c)
                x = F.conv1d(x, self.filter.expand(c, -1, -1), stride=2, groups=c)
                return self.conv(x)

        m = Resample().eval()
        with torch.no_grad():
            path = export_one(self, m, {"x": torch.randn(2, 5, 50)}, {"x": {0: "batch", 2: "n"}},
                              {"y": {0: "batch", 2: "m"}})
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        for n in (7, 77, 345):
            x = torch.randn(3, 5, n)
            (got,) = sess.run(None, {"x": x.numpy()})
            with torch.no_grad():
                want = m(x).numpy()
            self.assertLess(float(np.linalg.norm(got - want) / np.linalg.norm(want)), 1e-6)



class OwnFramesTest(unittest.TestCase):
    """``own_frames`` hands MMAudio's own load_video frames on and says how far the check's own
    reading of the same rules is from them (MMAudio itself is replaced by a module that returns
    what the check computes, then a changed copy)."""

    def _run(self, change):
        import types
        rng = np.random.default_rng(3)
        frames = rng.integers(0, 256, (90, 48, 64, 3), dtype=np.uint8)
        pts = [i / 25.0 for i in range(90)]
        vis, syn, d = mmaudio_check.single_pass_frames(pts, 8.0)
        cf, sf = mmaudio_check.clip_inputs(frames, vis, syn)
        cf2, sf2 = change(cf.clone(), sf.clone())
        info = types.SimpleNamespace(clip_frames=cf2, sync_frames=sf2, duration_sec=d)
        seen = []
        eval_utils = types.ModuleType("mmaudio.eval_utils")
        eval_utils.load_video = lambda path, duration: seen.append((str(path), duration)) or info
        with mock.patch.dict(sys.modules, {"mmaudio": types.ModuleType("mmaudio"), "mmaudio.eval_utils": eval_utils}):
            got = mmaudio_check.own_frames("clip.mp4", 8.0, frames, pts)
        self.assertEqual(seen, [("clip.mp4", 8.0)])
        self.assertIs(got[0], cf2)
        self.assertIs(got[1], sf2)
        return got[3]

    def test_the_same_frames_compare_equal(self):
        c = self._run(lambda cf, sf: (cf, sf))
        self.assertTrue(c["same_counts"])
        self.assertEqual((c["clip_max_levels"], c["sync_max_levels"]), (0.0, 0.0))

    def test_a_level_apart_is_one_level(self):
        def bump(cf, sf):
            cf[0, 0, 0, 0] += 1 / 255
            sf[1, 2, 3, 4] -= 2 / 255  # one level after Normalize(0.5, 0.5)
            return cf, sf
        c = self._run(bump)
        self.assertAlmostEqual(c["clip_max_levels"], 1.0, places=4)
        self.assertAlmostEqual(c["sync_max_levels"], 1.0, places=4)

    def test_other_counts_are_reported_not_compared(self):
        c = self._run(lambda cf, sf: (cf[:-1], sf))
        self.assertFalse(c["same_counts"])
        self.assertNotIn("clip_max_levels", c)

if __name__ == "__main__":
    unittest.main()
