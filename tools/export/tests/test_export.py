import json
import os
import unittest

import _util
import numpy as np
import onnx

from foley_export import export, safetensors_io, tiny


class ExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls._tmp = tempfile.TemporaryDirectory(prefix="foley_export_")
        cls.root = cls._tmp.name
        cls.bundles = {}
        for kind in ("hvf", "mmaudio"):
            config, models = tiny.create(kind, 7, os.path.join(cls.root, "ckpt-" + kind))
            for ext in (False, True):
                config, models = tiny.load(os.path.join(cls.root, "ckpt-" + kind))
                out = os.path.join(cls.root, "%s-%s" % (kind, "ext" if ext else "inline"))
                parity = out + ".npz"
                m = export.export_bundle(kind, models, config, out, external_data=ext, parity_out=parity)
                cls.bundles[(kind, ext)] = (out, m, parity)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def test_checker_and_hashes(self):
        for (kind, ext), (out, m, _) in self.bundles.items():
            again = export.verify_bundle(out)  # onnx.checker (full), declared shapes, every sha256
            self.assertEqual(again, m)
            self.assertEqual(m["formatVersion"], 2)
            names = sorted(os.listdir(out))
            listed = sorted([e["file"] for e in m["stages"].values()]
                            + [x["file"] for e in m["stages"].values() for x in e.get("externalData", [])]
                            + [e["file"] for e in m["files"].values()] + ["foley-bundle.json"])
            self.assertEqual(names, listed, (kind, ext))

    def test_tampering_is_detected(self):
        out, m, _ = self.bundles[("hvf", True)]
        data = os.path.join(out, m["stages"]["denoiser"]["externalData"][0]["file"])
        with open(data, "r+b") as f:
            b = f.read(1)
            f.seek(0)
            f.write(bytes([b[0] ^ 1]))
        try:
            with self.assertRaises(RuntimeError):
                export.verify_bundle(out)
        finally:
            with open(data, "r+b") as f:
                f.write(b)

    def test_external_data_one_file_per_stage_small_tensors_inline(self):
        for kind in ("hvf", "mmaudio"):
            out, m, _ = self.bundles[(kind, True)]
            for st, e in m["stages"].items():
                model = onnx.load(os.path.join(out, e["file"]), load_external_data=False)
                locations = set()
                for init in model.graph.initializer:
                    if init.data_location == onnx.TensorProto.EXTERNAL:
                        loc = {kv.key: kv.value for kv in init.external_data}["location"]
                        locations.add(loc)
                        self.assertGreaterEqual(int({kv.key: kv.value for kv in init.external_data}["length"]),
                                                export.EXTERNAL_THRESHOLD)
                    else:
                        self.assertLess(len(init.raw_data), export.EXTERNAL_THRESHOLD + 1, init.name)
                self.assertEqual(locations, {st + ".onnx.data"})
                self.assertEqual([x["file"] for x in e["externalData"]], [st + ".onnx.data"])
            out, m, _ = self.bundles[(kind, False)]
            for e in m["stages"].values():
                self.assertNotIn("externalData", e)

    def test_symbolic_axes(self):
        _, m, _ = self.bundles[("hvf", False)]
        shapes = {(st, t["name"]): t["shape"] for st, e in m["stages"].items() for t in e["inputs"] + e["outputs"]}
        self.assertEqual(shapes[("text_encoder", "input_ids")], ["batch", "text_tokens"])
        self.assertEqual(shapes[("text_encoder", "text_embeds")][:2], ["batch", "text_tokens"])
        self.assertEqual(shapes[("denoiser", "latents")], ["batch", 8, "latent_len"])
        self.assertEqual(shapes[("denoiser", "visual")][:2], ["batch", "visual_len"])
        self.assertEqual(shapes[("denoiser", "sync")][:2], ["batch", "sync_len"])
        self.assertEqual(shapes[("denoiser", "text")][:2], ["batch", "text_len"])
        self.assertEqual(shapes[("vae_decoder", "audio")], ["batch", "audio_len"])
        self.assertEqual(shapes[("sync_encoder", "tokens")][:2], ["batch", 8])
        _, mm, _ = self.bundles[("mmaudio", False)]
        shapes = {(st, t["name"]): t["shape"] for st, e in mm["stages"].items() for t in e["inputs"] + e["outputs"]}
        self.assertEqual(shapes[("text_encoder", "input_ids")], ["batch", 77])
        self.assertEqual(shapes[("denoiser", "text")][:2], ["batch", 77])
        self.assertEqual(shapes[("denoiser", "latents")], ["batch", 8, "latent_len"])

    def test_v2_fields(self):
        _, h, _ = self.bundles[("hvf", False)]
        self.assertEqual(h["text"], {"maxTokens": 77, "padding": "pair-longest", "encoderMaxTokens": 128})
        self.assertEqual(h["segment"], {"seconds": 8.0, "overlapSeconds": 1.0, "singlePassMaxSeconds": 15.0,
                                        "singlePassLength": "sync-frames", "latents": 400, "samples": 384000})
        self.assertEqual(h["sampler"]["guidance"], "above-one")
        self.assertEqual(h["frameRule"], "at-or-after")
        self.assertEqual(h["frameGrid"], "accumulated")
        self.assertEqual((h["visual"]["filter"], h["sync"]["filter"]), ("pil-bilinear", "torch-bicubic"))
        self.assertEqual(h["latent"]["rate"] * 960, h["audio"]["sampleRate"])
        _, m, _ = self.bundles[("mmaudio", False)]
        self.assertEqual(m["text"]["padding"], "fixed")
        self.assertEqual(m["segment"]["latents"], 345)
        self.assertEqual(m["segment"]["samples"], 353280)
        self.assertEqual(m["segment"]["singlePassMaxSeconds"], 8.0)
        self.assertEqual(m["segment"]["singlePassLength"], "shortest-stream")
        self.assertEqual(m["frameGrid"], "accumulated")
        self.assertEqual(m["latent"]["rate"], 44100 / 1024)
        self.assertEqual(m["sampler"]["guidance"], "at-least-one")

    def test_unconditional_tensors(self):
        out, m, _ = self.bundles[("hvf", False)]
        u = safetensors_io.read(os.path.join(out, "unconditional.safetensors"))
        self.assertEqual(sorted(u), ["sync", "visual"])
        _, models = tiny.load(os.path.join(self.root, "ckpt-hvf"))
        np.testing.assert_array_equal(u["visual"], models["foley"].empty_clip_feat.detach().numpy()[0])
        np.testing.assert_array_equal(u["sync"], models["foley"].empty_sync_feat.detach().numpy()[0])
        out, m, _ = self.bundles[("mmaudio", False)]
        u = safetensors_io.read(os.path.join(out, "unconditional.safetensors"))
        self.assertEqual(u["text"].shape, (77, 28))
        with open(os.path.join(out, "unconditional.safetensors"), "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            self.assertEqual(n % 8, 0)
            json.loads(f.read(n))

    def test_parity_data(self):
        for kind in ("hvf", "mmaudio"):
            _, m, parity = self.bundles[(kind, False)]
            z = np.load(parity)
            for st, e in m["stages"].items():
                for t in e["inputs"] + e["outputs"]:
                    a = z["%s.%s" % (st, t["name"])]
                    self.assertEqual(a.shape[0], 2)
                    self.assertEqual(a.dtype, np.int64 if t["dtype"] == "int64" else np.float32)
                    for d, want in zip(a.shape, t["shape"]):
                        if not isinstance(want, str):
                            self.assertEqual(d, want)
            lat = 400 if kind == "hvf" else 345
            self.assertEqual(z["denoiser.latents"].shape[2], lat)  # export dummy: 150 / 216
            self.assertEqual(z["vae_decoder.audio"].shape[1], m["segment"]["samples"])
            self.assertFalse(np.allclose(z["denoiser.velocity"][0], z["denoiser.velocity"][1]))
        z = np.load(self.bundles[("hvf", False)][2])
        self.assertNotEqual(z["text_encoder.input_ids"].shape[1], 9)  # export dummy: 9 tokens
        self.assertEqual(z["text_encoder.attention_mask"][0].sum(), 5)  # "noisy, harsh" padded


if __name__ == "__main__":
    unittest.main()
