"""The HVF-shaped model set with the real ``transformers`` encoders (``tiny --kind hvf --encoders
transformers``): SiglipModel and ClapTextModelWithProjection at HVF's widths (768, 12 heads, MLP
3072; 512 px / patch 16; 514 positions, pad id 1), one layer each, random weights, no download;
the stand-in Synchformer, MMDiT and DAC decoder take their 768-wide features. Built, saved, loaded,
exported by the tool, and every stage run by ONNX Runtime against PyTorch."""

import json
import os
import tempfile
import unittest

import _util
import numpy as np
import torch

from foley_export import export, reference, tiny
from foley_export.tokenizer import WordTokenizer

try:
    import transformers
except ImportError:
    transformers = None


def ort_outputs(path, feeds):
    import onnxruntime as ort
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)


def rel_l2(a, b):
    return float(np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(np.asarray(b, np.float64)))


@unittest.skipIf(transformers is None, "transformers is not installed")
class TransformersSetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="foley_export_")
        root = cls._tmp.name
        cls.ckpt = os.path.join(root, "ckpt")
        cls.created_config, cls.created = tiny.create("hvf", 3, cls.ckpt, encoders="transformers")
        cls.config, cls.models = tiny.load(cls.ckpt)
        cls.bundle = os.path.join(root, "bundle")
        cls.parity = os.path.join(root, "stages.npz")
        cls.manifest = export.export_bundle("hvf", cls.models, cls.config, cls.bundle, parity_out=cls.parity,
                                            working_memory="graph")

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def test_real_classes_at_hvf_widths_one_layer(self):
        siglip, clap, foley = self.models["siglip2"], self.models["clap"], self.models["foley"]
        self.assertIsInstance(siglip, transformers.SiglipModel)
        self.assertIsInstance(clap, transformers.ClapTextModelWithProjection)
        v = siglip.config.vision_config
        self.assertEqual((v.image_size, v.patch_size, v.hidden_size, v.num_attention_heads, v.intermediate_size),
                         (512, 16, 768, 12, 3072))
        self.assertEqual(len(siglip.vision_model.encoder.layers), 1)
        self.assertEqual(siglip.vision_model.embeddings.position_embedding.num_embeddings, 1024)  # 32 x 32 patches
        t = clap.config
        self.assertEqual((t.hidden_size, t.num_attention_heads, t.intermediate_size, t.max_position_embeddings,
                          t.pad_token_id), (768, 12, 3072, 514, 1))
        self.assertEqual(len(clap.text_model.encoder.layer), 1)
        tok = WordTokenizer("roberta")
        self.assertEqual((t.vocab_size, t.pad_token_id, t.bos_token_id, t.eos_token_id),
                         (tok.vocab_size, tok.pad_id, tok.bos, tok.eos))
        # the stand-ins consume the 768-wide features
        self.assertEqual(foley.visual_proj.in_features, 768)
        self.assertEqual(foley.cond_in[0].in_features, 768)
        self.assertEqual(foley.sync_in[0].in_features, 768)
        self.assertEqual(self.models["synchformer"].out.out_features, 768)
        self.assertEqual(self.config["encoders"], "transformers")

    def test_saved_set_loads_back_identically_and_seed_matters(self):
        pixels = torch.rand(1, 3, 512, 512) * 2 - 1
        ids = torch.tensor([[0, 7, 9, 2, 1]])
        mask = torch.tensor([[1, 1, 1, 1, 0]])
        a, b = self.created, self.models  # as built by create(), and as loaded from config.json + state.pt
        with torch.no_grad():
            fa = a["siglip2"].vision_model(pixel_values=pixels).pooler_output
            fb = b["siglip2"].vision_model(pixel_values=pixels).pooler_output
            self.assertTrue(torch.equal(fa, fb))
            ta = a["clap"](input_ids=ids, attention_mask=mask).last_hidden_state
            tb = b["clap"](input_ids=ids, attention_mask=mask).last_hidden_state
            self.assertTrue(torch.equal(ta, tb))
        other = tiny.build(tiny.transformers_hvf_config(seed=4))
        w3 = self.models["siglip2"].vision_model.encoder.layers[0].self_attn.q_proj.weight.detach()
        w4 = other["siglip2"].vision_model.encoder.layers[0].self_attn.q_proj.weight.detach()
        self.assertFalse(torch.equal(w3, w4))
        self.assertGreater(float(w3.std()), 0)

    def test_only_for_hvf(self):
        with self.assertRaises(ValueError):
            tiny.create("mmaudio", 0, os.path.join(self._tmp.name, "no"), encoders="transformers")
        with self.assertRaises(ValueError):
            tiny.create("hvf", 0, os.path.join(self._tmp.name, "no"), encoders="open_clip")

    def test_manifest_declares_the_real_widths(self):
        m = self.manifest
        self.assertEqual(m["name"], "tiny-hvf-transformers")
        self.assertEqual(export.verify_bundle(self.bundle), m)
        st = m["stages"]
        self.assertEqual(st["visual_encoder"]["inputs"][0]["shape"], ["batch", 3, 512, 512])
        self.assertEqual(st["visual_encoder"]["outputs"][0]["shape"], ["batch", 768])
        self.assertEqual(st["sync_encoder"]["outputs"][0]["shape"], ["batch", 8, 768])
        self.assertEqual(st["text_encoder"]["outputs"][0]["shape"], ["batch", "text_tokens", 768])
        self.assertEqual([i["shape"][-1] for i in st["denoiser"]["inputs"][2:]], [768, 768, 768])
        self.assertEqual(m["visual"]["size"], 512)
        self.assertEqual(m["text"]["encoderMaxTokens"], 512)
        with open(os.path.join(self.bundle, "tokenizer.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["truncation"]["max_length"], 512)

    def test_onnx_runtime_matches_pytorch_per_stage(self):
        """The parity data (PyTorch, at 8 s, batch 2, 12 text tokens: lengths unlike the export's
        3 s / 9 tokens) against ONNX Runtime on the exported files."""
        par = np.load(self.parity)
        for st, e in self.manifest["stages"].items():
            feeds = {i["name"]: par["%s.%s" % (st, i["name"])] for i in e["inputs"]}
            want = par["%s.%s" % (st, e["outputs"][0]["name"])]
            (got,) = ort_outputs(os.path.join(self.bundle, e["file"]), feeds)
            self.assertEqual(got.shape, want.shape, st)
            self.assertGreater(np.abs(want).max(), 0, st)
            self.assertLess(rel_l2(got, want), 1e-5, st)
        self.assertEqual(par["text_encoder.input_ids"].shape, (2, 12))
        self.assertEqual(par["denoiser.visual"].shape[1:], (64, 768))

    def test_reference_features_are_the_exported_encoders(self):
        """The reference's own calls (get_image_features, last_hidden_state, unwrapped) give what
        the exported visual and text stages give in ONNX Runtime on the same inputs."""
        frames = _util.synthetic_frames(20, 48, 80, seed=2)  # 20 frames at 25 fps: 19 sync frames (0.76 s), one window, 38 latents; 7 SigLIP frames
        pts = np.arange(20) / 25.0
        noise = np.random.default_rng(0).standard_normal((8, 38)).astype(np.float32)
        res = reference.single_pass(self.config, self.models, frames, pts, "a door slams", "noisy, harsh",
                                    4.5, 2, noise)
        self.assertEqual((res["counts"]["n_visual"], res["counts"]["sync_tokens"], res["counts"]["latents"]),
                         (7, 8, 38))
        pixels = reference._visual_pixels(self.config, frames, res["frames_visual"]).numpy()
        (vis,) = ort_outputs(os.path.join(self.bundle, "visual_encoder.onnx"), {"pixels": pixels})
        self.assertEqual(res["visual"].shape, (7, 768))
        self.assertLess(rel_l2(vis, res["visual"]), 1e-5)
        ids = res["input_ids"]
        tok = WordTokenizer("roberta")
        mask = (ids != tok.pad_id).astype(np.int64)
        (txt,) = ort_outputs(os.path.join(self.bundle, "text_encoder.onnx"), {"input_ids": ids, "attention_mask": mask})
        self.assertLess(rel_l2(txt[1], res["text"]), 1e-5)
        self.assertLess(rel_l2(txt[0], res["text_uncond"]), 1e-5)
        self.assertTrue(np.isfinite(res["audio"]).all())


if __name__ == "__main__":
    unittest.main()
