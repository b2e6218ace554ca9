"""hvf-check's parts that do not need HunyuanVideo-Foley's code: the stand-ins it writes for
missing requirements, the redraw of zero-initialised parameters, the run-time adaptations around
HVF's functions (noise, CPU, float32 MMDiT) with HVF-shaped fakes, and the comparison and report.
The check itself runs outside CI (docs/export.md, "HVF's own pipeline against foley4j")."""

import contextlib
import io
import json
import os
import struct
import subprocess
import sys
import types
import unittest
from unittest import mock

import numpy as np
import torch
import torch.nn as nn

from _util import tmpdir
from foley_export import hvf_check, standins


def _run_python(test, code, path_first):
    """Runs ``code`` in a fresh interpreter with ``path_first`` ahead of everything on sys.path."""
    prog = "import sys; sys.path.insert(0, %r)\n%s" % (path_first, code)
    r = subprocess.run([sys.executable, "-c", prog], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    test.assertEqual(r.returncode, 0, r.stderr)
    return r.stdout


class StandinsTest(unittest.TestCase):
    def test_every_standin_imports_with_the_names_hvf_uses(self):
        d = tmpdir(self)
        written = standins.write(standins.HVF, d)
        self.assertTrue(all(p.startswith(d) for p in written))
        out = _run_python(self, r'''
import json, os, tempfile, torch
from diffusers.models import ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.utils import BaseOutput, logging
from diffusers.utils.torch_utils import randn_tensor
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from diffusers.schedulers import DDPMScheduler, EulerDiscreteScheduler
import audiotools
from audiotools import AudioSignal, STFTParams, ml
from audiotools.ml import BaseModel
from audiotools.core import util
import argbind, torchaudio, omegaconf, easydict

class Net(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, width, depth=3):
        super().__init__()
        assert self.config.width == width  # registered before __init__ runs, as HVF's scheduler needs
        self.lin = torch.nn.Linear(width, width)

class Sched(SchedulerMixin, ConfigMixin):
    @register_to_config
    def __init__(self, num_train_timesteps=1000, shift=1.0):
        self.sigmas = torch.linspace(1, 0, num_train_timesteps + 1)

n = Net(4)
s = Sched(shift=2.0)
audiotools.ml.BaseModel.INTERN += ["dac.**"]

@argbind.bind(group="download", positional=True, without_prefix=True)
def download(tag="latest"):
    return tag

p = os.path.join(tempfile.mkdtemp(), "c.yaml")
with open(p, "w") as f:
    f.write("VIT:\n  DEPTH: 12\n  PATCH_SIZE: 16\nDATA:\n  MEAN: [0.5, 0.5]\n")
cfg = omegaconf.OmegaConf.load(p)
cfg.VIT.ATTN_DROPOUT = 0.0
refused = []
for make in (lambda: AudioSignal(None, 44100), lambda: torchaudio.transforms.MelSpectrogram(),
             lambda: DDPMScheduler(), lambda: torchaudio.load("x.wav"), lambda: ml.Accelerator()):
    try:
        make()
    except NotImplementedError as e:
        refused.append("stand-in" in str(e))
ed = easydict.EasyDict(a=1)
ed.b = 2
print(json.dumps({
    "config": [n.config.width, n.config.depth, s.config.num_train_timesteps, s.config.shift],
    "dtype": [str(n.dtype), str(n.double().dtype)],
    "noise": list(randn_tensor((2, 3, 5), dtype=torch.float32).shape),
    "intern": BaseModel.INTERN, "stft": STFTParams(window_length=2048).window_length,
    "bound": download(), "vit": [cfg.VIT.DEPTH, cfg.VIT.PATCH_SIZE, cfg.VIT.ATTN_DROPOUT, cfg.DATA.MEAN],
    "refused": refused, "easydict": [ed.a, ed["b"]], "module": isinstance(n, torch.nn.Module),
    "logger": logging.get_logger("x").name}))
''', d)
        got = json.loads(out.strip().splitlines()[-1])
        self.assertEqual(got["config"], [4, 3, 1000, 2.0])
        self.assertEqual(got["dtype"], ["torch.float32", "torch.float64"])
        self.assertEqual(got["noise"], [2, 3, 5])
        self.assertEqual(got["intern"], ["dac.**"])
        self.assertEqual(got["stft"], 2048)
        self.assertEqual(got["bound"], "latest")
        self.assertEqual(got["vit"], [12, 16, 0.0, [0.5, 0.5]])
        self.assertEqual(got["refused"], [True] * 5)
        self.assertEqual(got["easydict"], [1, 2])
        self.assertTrue(got["module"])
        self.assertEqual(got["logger"], "x")

    def test_only_packages_that_cannot_be_imported_are_stood_in(self):
        self.assertTrue(standins.importable("json"))
        self.assertFalse(standins.importable("foley_no_such_package_x"))
        d = tmpdir(self)
        fake = {"json": {"json/__init__.py": "RAISE = 1\n"},
                "foley_no_such_package_x": {"foley_no_such_package_x/__init__.py": "VALUE = 7\n"}}
        with mock.patch.dict(standins.STANDINS, fake):
            saved = list(sys.path)
            try:
                directory, stood_in = standins.install(["json", "foley_no_such_package_x"], directory=d)
                import foley_no_such_package_x
                self.assertEqual(foley_no_such_package_x.VALUE, 7)
            finally:
                sys.path[:] = saved
                sys.modules.pop("foley_no_such_package_x", None)
        self.assertEqual(directory, d)
        self.assertEqual(stood_in, ["foley_no_such_package_x"])
        self.assertFalse(os.path.exists(os.path.join(d, "json")))  # the real one is used
        self.assertFalse(hasattr(__import__("json"), "RAISE"))

    def test_nothing_is_written_when_all_are_importable(self):
        with mock.patch.dict(standins.STANDINS, {"json": {"json/__init__.py": ""}}, clear=True):
            self.assertEqual(standins.install(["json"]), (None, []))


class _ToyVideoEncoder(nn.Module):
    """A Synchformer-like start: a 3-D patch embedding HVF zero-initialises, then a linear layer."""

    def __init__(self):
        super().__init__()
        self.patch_embed_3d = nn.Conv3d(3, 16, kernel_size=(2, 8, 8), stride=(2, 8, 8))
        nn.init.zeros_(self.patch_embed_3d.weight)
        nn.init.zeros_(self.patch_embed_3d.bias)
        self.cls = nn.Parameter(torch.zeros(1, 16))
        self.proj = nn.Linear(16, 8)
        self.ln = nn.LayerNorm(16)

    def forward(self, x):  # [B, 3, T, H, W] -> [B, T/2, 8]
        t = self.patch_embed_3d(x).flatten(3).mean(-1).transpose(1, 2)
        return self.proj(self.ln(t + self.cls))


class RedrawTest(unittest.TestCase):
    def test_zero_parameters_are_redrawn_so_the_video_matters(self):
        torch.manual_seed(0)
        m = _ToyVideoEncoder().eval()
        a, b = torch.randn(1, 3, 16, 32, 32), torch.randn(1, 3, 16, 32, 32)
        with torch.no_grad():
            self.assertTrue(torch.equal(m(a), m(b)))  # zero embedding: every token the same, any video
        kept = {k: v.clone() for k, v in m.state_dict().items()}
        redrawn = hvf_check.redraw_zero_parameters(m, seed=5, std=0.02)
        # LayerNorm's bias starts at zero too; its weight (ones) and the linear layer are kept
        self.assertEqual(redrawn, ["cls", "patch_embed_3d.weight", "patch_embed_3d.bias", "ln.bias"])
        for name in ("proj.weight", "proj.bias", "ln.weight"):
            self.assertTrue(torch.equal(m.state_dict()[name], kept[name]), name)
        w = m.patch_embed_3d.weight.detach()
        self.assertGreater(float(w.abs().min()), 0.0)
        self.assertAlmostEqual(float(w.std()), 0.02, delta=0.004)
        with torch.no_grad():
            out_a, out_b = m(a), m(b)
            self.assertFalse(torch.allclose(out_a, out_b))
            self.assertGreater(float(out_a[0].std(dim=0).mean()), 0.0)  # tokens differ from each other

    def test_layer_norm_bias_counts_and_same_seed_same_values(self):
        torch.manual_seed(0)
        m1, m2 = _ToyVideoEncoder(), _ToyVideoEncoder()
        m2.load_state_dict(m1.state_dict())
        r1 = hvf_check.redraw_zero_parameters(m1, seed=9)
        r2 = hvf_check.redraw_zero_parameters(m2, seed=9)
        self.assertEqual(r1, r2)
        self.assertIn("ln.bias", r1)
        self.assertNotIn("ln.weight", r1)  # ones are not zero
        for (k, v1), v2 in zip(m1.state_dict().items(), m2.state_dict().values()):
            self.assertTrue(torch.equal(v1, v2), k)
        self.assertEqual(hvf_check.redraw_zero_parameters(m1, seed=9), [])  # nothing left at zero

    def test_fingerprint_tells_builds_apart(self):
        torch.manual_seed(1)
        a = nn.ModuleDict({"x": nn.Linear(4, 4)})
        b = nn.ModuleDict({"x": nn.Linear(4, 4)})
        b.load_state_dict(a.state_dict())
        self.assertEqual(hvf_check.fingerprint(a), hvf_check.fingerprint(b))
        with torch.no_grad():
            w = b["x"].weight
            w[0, 0], w[0, 1] = w[0, 1].clone(), w[0, 0].clone()  # same sum, other order
        self.assertNotEqual(hvf_check.fingerprint(a), hvf_check.fingerprint(b))


class _FakeFoley(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(3))


class AdaptationsTest(unittest.TestCase):
    """hvf_model_dict / run_hvf around HVF-shaped fakes of model_utils and feature_utils."""

    def _fake_model_utils(self, calls):
        mu = types.SimpleNamespace(torch=torch)

        def load_model(model_path, config_path, device, enable_offload=False, model_size=None):
            # the calls HVF's load_model makes (model_utils.py), in its order
            foley = mu.HunyuanVideoFoley("cfg", dtype=torch.bfloat16, device=device).to(device=device,
                                                                                        dtype=torch.bfloat16)
            foley = mu.load_state_dict(foley, os.path.join(model_path, "x.pth"))
            dac = mu.DAC.load(os.path.join(model_path, "vae_128d_48k.pth"))
            siglip = mu.AutoModel.from_pretrained("google/siglip2-base-patch16-512").to(device).eval()
            tok = mu.AutoTokenizer.from_pretrained("laion/larger_clap_general")
            clap = mu.ClapTextModelWithProjection.from_pretrained("laion/larger_clap_general").to(device)
            sync = mu.Synchformer()
            sync.load_state_dict(mu.torch.load("synchformer_state_dict.pth", weights_only=False, map_location="cpu"))
            calls.append(config_path)
            return types.SimpleNamespace(foley_model=foley, dac_model=dac, siglip2_model=siglip, clap_tokenizer=tok,
                                         clap_model=clap, syncformer_model=sync), "cfg"

        mu.load_model = load_model
        for name in ("HunyuanVideoFoley", "load_state_dict", "DAC", "AutoModel", "AutoTokenizer",
                     "ClapTextModelWithProjection", "Synchformer"):
            setattr(mu, name, None)
        return mu

    def test_model_dict_answers_every_load_with_the_built_modules_and_keeps_float32(self):
        calls = []
        mu = self._fake_model_utils(calls)
        torch.manual_seed(0)

        class Siglip(nn.Module):
            def __init__(self):
                super().__init__()
                self.p = nn.Linear(2, 2)

            def get_image_features(self, pixel_values):
                return types.SimpleNamespace(pooler_output=pixel_values * 2)  # transformers 5.x shape

        models = nn.ModuleDict({"foley": _FakeFoley(), "dac": nn.Linear(2, 2), "synchformer": nn.Linear(3, 3),
                                "clap": nn.Linear(4, 4), "siglip2": Siglip()})
        sync_before = {k: v.clone() for k, v in models["synchformer"].state_dict().items()}
        real_load = torch.load
        d = hvf_check.hvf_model_dict(models, types.SimpleNamespace(model_utils=mu), "TOKENIZER", "cfg.yaml")
        self.assertEqual(calls, ["cfg.yaml"])
        self.assertIs(d.foley_model, models["foley"])
        self.assertEqual(models["foley"].w.dtype, torch.float32)  # HVF's .to(bfloat16) did not apply
        self.assertIs(d.dac_model, models["dac"])
        self.assertIs(d.clap_model, models["clap"])
        self.assertIs(d.syncformer_model, models["synchformer"])
        self.assertEqual(d.clap_tokenizer, "TOKENIZER")
        for k, v in models["synchformer"].state_dict().items():
            self.assertTrue(torch.equal(v, sync_before[k]))
        x = torch.randn(2, 2)
        self.assertTrue(torch.equal(d.siglip2_model.get_image_features(pixel_values=x), x * 2))  # a tensor
        # everything patched is back as it was
        self.assertIs(torch.load, real_load)
        self.assertNotIn("to", vars(models["foley"]))
        models["foley"].to(torch.float64)
        self.assertEqual(models["foley"].w.dtype, torch.float64)
        self.assertIsNone(mu.HunyuanVideoFoley)
        self.assertIsNone(mu.AutoModel)

    def test_run_hvf_feeds_foley4j_noise_and_runs_on_cpu(self):
        drawn = []

        def feature_process(video, prompt, model_dict, cfg, neg_prompt=None):
            x = torch.zeros(2)
            self.assertIs(x.cuda(), x)  # HVF's encode_video_with_sync moves frames with .cuda()
            feats = types.SimpleNamespace(siglip2_feat=torch.zeros(1, 24, 4), syncformer_feat=torch.zeros(1, 64, 4))
            text = types.SimpleNamespace(text_feat=torch.zeros(1, 9, 4), uncond_text_feat=torch.zeros(1, 9, 4))
            return feats, text, 2.96

        mu = types.SimpleNamespace(randn_tensor=None)

        def denoise_process(visual, text, seconds, model_dict, cfg, guidance_scale=4.5, num_inference_steps=50):
            lat = mu.randn_tensor((1, 3, int(seconds * 50)), device="cpu", dtype=torch.float32)
            return lat.reshape(1, 1, -1) * guidance_scale + num_inference_steps, 48000

        mu.denoise_process = denoise_process
        handles = types.SimpleNamespace(model_utils=mu, cfg="cfg",
                                        feature_utils=types.SimpleNamespace(feature_process=feature_process))

        def noise_for(shape):
            drawn.append(shape)
            return np.arange(np.prod(shape), dtype=np.float32).reshape(shape)

        cuda = torch.Tensor.cuda
        audio, sr, seconds, shape, feats = hvf_check.run_hvf("v.mp4", "p", "n", 2.0, 3, None, handles, noise_for)
        self.assertIs(torch.Tensor.cuda, cuda)
        self.assertIsNone(mu.randn_tensor)
        self.assertEqual(drawn, [(1, 3, 148)])
        self.assertEqual(shape, (1, 3, 148))
        np.testing.assert_array_equal(audio, np.arange(3 * 148, dtype=np.float32) * 2.0 + 3)
        self.assertEqual((sr, seconds), (48000, 2.96))
        self.assertEqual(sorted(feats), ["siglip2", "sync", "text", "uncond_text"])

        events = []
        handles.feature_utils = types.SimpleNamespace(
            feature_process=lambda *a, **k: (events.append("feature_process"), feature_process(*a, **k))[1])
        mu.denoise_process = lambda *a, **k: (events.append("denoise_process"), denoise_process(*a, **k))[1]
        hvf_check.run_hvf("v.mp4", "p", "n", 2.0, 3, None, handles, noise_for, clock=events.append)
        # the clock marks each phase as it starts, and the end (for hvf_pipeline_bench's times)
        self.assertEqual(events, ["features", "feature_process", "denoise", "denoise_process", "end"])

        def no_draw(*args, **kwargs):
            return torch.zeros(1, 1, 4), 48000

        handles.model_utils = types.SimpleNamespace(randn_tensor=None, denoise_process=no_draw)
        with self.assertRaisesRegex(RuntimeError, "did not draw its noise"):
            hvf_check.run_hvf("v.mp4", "p", "n", 2.0, 3, None, handles, noise_for)

    def test_siglip2_view_returns_tensors_in_chunks_equal_to_one_batch(self):
        torch.manual_seed(0)
        lin = nn.Linear(6, 4)
        calls = []

        class Siglip(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lin

            def get_image_features(self, pixel_values):
                calls.append(pixel_values.shape[0])
                return types.SimpleNamespace(pooler_output=self.lin(pixel_values.mean(dim=(2, 3))))

        view = hvf_check._Siglip2Features(Siglip(), chunk=8)
        x = torch.randn(19, 6, 5, 5)
        with torch.no_grad():
            got = view.get_image_features(pixel_values=x)
            want = lin(x.mean(dim=(2, 3)))
        self.assertEqual(calls, [8, 8, 3])
        self.assertIsInstance(got, torch.Tensor)
        torch.testing.assert_close(got, want, rtol=0, atol=1e-6)

    def test_rss_watch_keeps_a_peak_per_phase(self):
        w = hvf_check.RssWatch(interval=0.01)
        try:
            w.enter("a")
            block = bytearray(64 << 20)  # 64 MiB, touched
            for i in range(0, len(block), 4096):
                block[i] = 1
            w.sample()
            w.enter("b")
            del block
            w.sample()
        finally:
            w.close()
        if hvf_check._status_mib("self", "VmRSS") is None:
            self.skipTest("no /proc on this system")
        self.assertEqual(sorted(w.peaks), ["a", "b"])
        self.assertGreater(w.peaks["a"], 64)

    def test_parse_depth(self):
        self.assertEqual(hvf_check.parse_depth(None), hvf_check.DEFAULT_DEPTH)
        self.assertEqual(hvf_check.parse_depth(["3", "5"]), (3, 5))
        self.assertIsNone(hvf_check.parse_depth(["full"]))
        for bad in (["2"], ["0", "1"], ["a", "b"], ["1", "2", "3"]):
            with self.assertRaises(SystemExit):
                hvf_check.parse_depth(bad)


def _write_wav(path, samples, rate=48000, fmt=3, bits=32):
    data = np.asarray(samples, dtype="<f4").tobytes() if fmt == 3 else \
        (np.asarray(samples) * 32767).astype("<i2").tobytes()
    block = bits // 8
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<IHHIIHH", 16, fmt, 1, rate, rate * block, block, bits))
        f.write(b"LIST" + struct.pack("<I", 5) + b"INFOx\x00")  # an odd-sized chunk before the data (padded)
        f.write(b"data" + struct.pack("<I", len(data)) + data)


class ReportTest(unittest.TestCase):
    def test_relative_l2(self):
        b = np.array([3.0, 4.0])
        self.assertAlmostEqual(hvf_check.relative_l2(b + [0.0, 0.05], b), 0.01)
        self.assertEqual(hvf_check.relative_l2(np.zeros(2), np.zeros(2)), 0.0)
        self.assertEqual(hvf_check.relative_l2(np.ones(2), np.zeros(2)), float("inf"))
        with self.assertRaises(ValueError):
            hvf_check.relative_l2(np.ones(3), np.ones(2))

    def test_compare_audio_on_hvfs_pass_with_foley4j_tail_reported(self):
        rng = np.random.default_rng(0)
        hvf = rng.standard_normal(960 * 148).astype(np.float32)
        foley = np.concatenate([hvf * (1 + 1e-4), np.zeros(1920, np.float32)])  # a 3 s clip, 2.96 s pass
        r = hvf_check.compare_audio(foley, hvf)
        self.assertEqual((r["compared_samples"], r["foley4j_samples"], r["hvf_samples"]),
                         (142080, 144000, 142080))
        self.assertAlmostEqual(r["rel_l2"], 1e-4, delta=1e-6)
        self.assertEqual(r["foley4j_tail_max"], 0.0)
        foley[-5] = 0.5
        self.assertEqual(hvf_check.compare_audio(foley, hvf)["foley4j_tail_max"], 0.5)
        worse = hvf_check.compare_audio(hvf[::-1].copy(), hvf)
        self.assertGreater(worse["rel_l2"], 1.0)

    def test_table_marks_clips_over_the_goal(self):
        rows = [{"clip": "a", "latents": 148, "compared_samples": 10, "foley4j_samples": 12, "hvf_samples": 10,
                 "rel_l2": 5e-7, "max_abs_diff": 1e-8},
                {"clip": "b", "latents": 400, "compared_samples": 10, "foley4j_samples": 10, "hvf_samples": 10,
                 "rel_l2": 2e-3, "max_abs_diff": 1e-4}]
        rows[0]["audio_per_latent_change"] = 0.25
        t = hvf_check.format_table(rows).splitlines()
        self.assertEqual(len(t), 4)
        self.assertTrue(t[2].startswith("| a | 148 | 10 (12 / 10) | 5.00e-07 |") and t[2].endswith("| yes | 0.25 |"),
                        t[2])
        self.assertTrue(t[3].endswith("| NO | - |"), t[3])

    def test_latent_sensitivity_of_a_linear_decoder_is_one_and_of_a_damping_one_less(self):
        lat = torch.randn(1, 4, 50)

        class Dec:
            def __init__(self, f):
                self.decode = f

        ident = Dec(lambda z: z.reshape(1, 1, -1))
        audio = ident.decode(lat).reshape(-1).numpy()
        self.assertAlmostEqual(hvf_check.latent_sensitivity(ident, lat, audio, seed=0), 1.0, places=4)
        offset = torch.full((1, 1, 200), 10.0)
        damp = Dec(lambda z: z.reshape(1, 1, -1) * 0.1 + offset)  # a constant part hides the input's changes
        audio = damp.decode(lat).reshape(-1).numpy()
        self.assertLess(hvf_check.latent_sensitivity(damp, lat, audio, seed=0), 0.2)

    def test_float_wav_is_read_and_pcm_refused(self):
        d = tmpdir(self)
        x = np.linspace(-1, 1, 101, dtype=np.float32)
        _write_wav(os.path.join(d, "f.wav"), x)
        got, rate = hvf_check.read_float_wav(os.path.join(d, "f.wav"))
        self.assertEqual(rate, 48000)
        np.testing.assert_array_equal(got, x)
        _write_wav(os.path.join(d, "p.wav"), x, fmt=1, bits=16)
        with self.assertRaisesRegex(ValueError, "32-bit float"):
            hvf_check.read_float_wav(os.path.join(d, "p.wav"))


class _FakeDac(nn.Module):
    """decode: [1, C, L] -> [1, 1, 960 L] (a fixed linear map), what HVF's DAC returns."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.linspace(0.5, 1.5, 960))

    def decode(self, z):
        return (z.mean(dim=1, keepdim=True)[..., None] * self.w).reshape(1, 1, -1)


class RunCheckTest(unittest.TestCase):
    """run_check's orchestration with every heavy part faked: the build, the export, the clips,
    foley4j (writes HVF's audio scaled by 1 + 1e-4) and HVF's two functions."""

    def test_report_and_exit_code(self):
        out = tmpdir(self)
        jar = os.path.join(out, "foley.jar")
        open(jar, "w").close()
        fake_dac = _FakeDac()

        def noise_audio(latents):
            z = torch.from_numpy(hvf_check_noise(latents))[None]
            return fake_dac.decode(z).reshape(-1).detach().numpy()

        def hvf_check_noise(latents):
            return np.full((3, latents), 0.5, np.float32) + np.arange(latents, dtype=np.float32) / latents

        def build(hvf_repo, size, depth, seed, encoder_layers=None):
            from foley_export.tokenizer import WordTokenizer
            mu = types.SimpleNamespace()

            def feature_process(video, prompt, model_dict, cfg, neg_prompt=None):
                seconds = float(os.path.basename(video).split("s-")[0].replace("portrait-", "")) - 0.04
                return (types.SimpleNamespace(siglip2_feat=torch.zeros(1, 8, 2), syncformer_feat=torch.zeros(1, 16, 2)),
                        types.SimpleNamespace(text_feat=torch.zeros(1, 5, 2), uncond_text_feat=torch.zeros(1, 5, 2)),
                        seconds)

            @torch.no_grad()  # as HVF's
            def denoise_process(visual, text, seconds, model_dict, cfg, guidance_scale=4.5, num_inference_steps=50):
                lat = mu.randn_tensor((1, 3, int(seconds * 50)), dtype=torch.float32)
                return model_dict.dac_model.decode(lat), 48000

            mu.denoise_process = denoise_process
            handles = types.SimpleNamespace(model_utils=mu, cfg="cfg", redrawn={"dac": []}, standins=["x"],
                                            tokenizer=WordTokenizer("roberta"), encoder_layers=1,
                                            feature_utils=types.SimpleNamespace(feature_process=feature_process))
            config = {"name": "fake", "text": {"max_positions": 512}, "denoiser": {"latent_channels": 3}}
            return config, nn.ModuleDict({"dac": fake_dac}), handles

        def generate(jar_, bundle, video, wav, prompt, negative, cfg, steps, seed, peaks=None):
            seconds = float(os.path.basename(video).split("s-")[0].replace("portrait-", ""))
            audio = noise_audio(int((seconds - 0.04) * 50)) * (1 + 1e-4)
            _write_wav(wav, np.concatenate([audio, np.zeros(int(seconds * 48000) - len(audio), np.float32)]))
            peaks.append(1000.0)
            return 1.0

        def tokenizer(path):
            from foley_export.tokenizer import WordTokenizer

            def call(texts, padding=True, return_tensors="pt"):
                ids, mask = WordTokenizer("roberta").pair_longest(texts, 512)
                return {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
            return call

        def model_dict(models, handles, tok, config_path):
            return types.SimpleNamespace(dac_model=models["dac"])

        args = types.SimpleNamespace(hvf_repo="HVF", out=out, size="xxl", depth=None, encoder_layers=None, steps=4,
                                     cfg=4.5, negative="noisy, harsh", seed=0, clips=["3s-25fps", "portrait-4s-25fps"],
                                     opset=17, goal=1e-3, foley_jar=jar, build_only=False)
        with mock.patch.object(hvf_check, "build_hvf", build), \
                mock.patch("foley_export.export.export_bundle", lambda *a, **k: None), \
                mock.patch.object(hvf_check, "make_clip", lambda path, *a: path), \
                mock.patch.object(hvf_check, "foley_generate", generate), \
                mock.patch.object(hvf_check, "foley_noise", lambda jar_, seed, c, l, path: hvf_check_noise(l)), \
                mock.patch.object(hvf_check, "hvf_tokenizer", tokenizer), \
                mock.patch.object(hvf_check, "hvf_model_dict", model_dict), \
                contextlib.redirect_stdout(io.StringIO()):
            rc = hvf_check.run_check(args)
            args.goal = 1e-5
            rc_strict = hvf_check.run_check(args)
        self.assertEqual((rc, rc_strict), (0, 1))
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
        self.assertEqual([c["clip"] for c in report["clips"]], ["3s-25fps", "portrait-4s-25fps"])
        c = report["clips"][0]
        self.assertEqual((c["latents"], c["hvf_samples"], c["foley4j_samples"]), (148, 142080, 144000))
        self.assertAlmostEqual(c["rel_l2"], 1e-4, delta=2e-6)
        # the fake decoder averages the 3 channels: a random change passes on about 1/sqrt(3) of itself
        self.assertAlmostEqual(c["audio_per_latent_change"], 3 ** -0.5, delta=0.1)
        self.assertEqual(c["foley4j_tail_max"], 0.0)
        self.assertTrue(report["tokenizers_agree"])
        self.assertEqual(report["peak_rss_mib"]["foley4j"], 1000.0)
        self.assertTrue({"build", "export", "rebuild", "hvf pipeline"} <= set(report["peak_rss_mib"]["python_by_phase"]))
        self.assertTrue(os.path.exists(os.path.join(out, "3s-25fps.hvf-features.npz")))


if __name__ == "__main__":
    unittest.main()
