import json
import os
import unittest

import _util
import numpy as np
import onnx
import torch
import torch.nn as nn

from foley_export import export, safetensors_io, tiny


def ort_outputs(path, feeds):
    import onnxruntime as ort
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)


def rel_l2(a, b):
    return float(np.linalg.norm(np.asarray(a, np.float64) - b) / max(np.linalg.norm(np.asarray(b, np.float64)), 1e-30))


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
                # one export measures its working memory (test_memory.py checks it), the others use the graph
                m = export.export_bundle(kind, models, config, out, external_data=ext, parity_out=parity,
                                         working_memory="measured" if (kind, ext) == ("hvf", False) else "graph")
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

    def test_every_file_has_the_mode_the_umask_gives(self):
        # the external data of stages exported in the private work directory came out 0600
        umask = os.umask(0)
        os.umask(umask)
        for (kind, ext), (out, _, _) in self.bundles.items():
            for name in os.listdir(out):
                mode = os.stat(os.path.join(out, name)).st_mode & 0o777
                self.assertEqual(mode, 0o666 & ~umask, (kind, ext, name, oct(mode)))

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
        self.assertEqual((m["visual"]["filter"], m["sync"]["filter"]), ("torch-bicubic", "torch-bicubic"))
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

    def test_onnx_runtime_matches_pytorch_at_other_lengths(self):
        # the parity data (8 s, 12 text tokens) is unlike the export dummies (3 s / 5 s, 9 tokens)
        for (kind, ext), (out, m, parity) in self.bundles.items():
            z = np.load(parity)
            for st, e in m["stages"].items():
                feeds = {t["name"]: z["%s.%s" % (st, t["name"])] for t in e["inputs"]}
                (got,) = ort_outputs(os.path.join(out, e["file"]), feeds)
                want = z["%s.%s" % (st, e["outputs"][0]["name"])]
                self.assertEqual(got.shape, want.shape, (kind, ext, st))
                self.assertLess(rel_l2(got, want), 1e-5, (kind, ext, st))

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


class HalfStageTest(unittest.TestCase):
    def test_float16_stages(self):
        root = _util.tmpdir(self)
        config, models = tiny.create("hvf", 5, os.path.join(root, "ckpt"))
        full = export.export_bundle("hvf", models, config, os.path.join(root, "f32"), external_data=True,
                                    working_memory="graph")
        config, models = tiny.load(os.path.join(root, "ckpt"))
        half = export.export_bundle("hvf", models, config, os.path.join(root, "f16"), external_data=True,
                                    parity_out=os.path.join(root, "p.npz"),
                                    dtypes={"denoiser": "float16", "vae_decoder": "float16"}, working_memory="graph")
        self.assertIn("denoiser in float16", half["description"])
        z = np.load(os.path.join(root, "p.npz"))
        for st in ("denoiser", "vae_decoder", "text_encoder"):
            e = half["stages"][st]
            self.assertEqual({t["dtype"] for t in e["inputs"] + e["outputs"]} - {"int64"}, {"float32"})
            (got,) = ort_outputs(os.path.join(root, "f16", e["file"]),
                                 {t["name"]: z["%s.%s" % (st, t["name"])] for t in e["inputs"]})
            # against PyTorch computing the same stage in float16
            self.assertLess(rel_l2(got, z["%s.%s" % (st, e["outputs"][0]["name"])]), 1e-2 if st != "text_encoder" else 1e-5)
            model = onnx.load(os.path.join(root, "f16", e["file"]), load_external_data=False)
            types = {i.data_type for i in model.graph.initializer if i.data_type != onnx.TensorProto.INT64}
            self.assertEqual(types, {onnx.TensorProto.FLOAT16} if st != "text_encoder" else {onnx.TensorProto.FLOAT})
        size = lambda m, d, st: os.path.getsize(os.path.join(root, d, m["stages"][st]["externalData"][0]["file"]))
        self.assertLess(size(half, "f16", "denoiser"), 0.6 * size(full, "f32", "denoiser"))
        with self.assertRaises(ValueError):
            export.export_bundle("hvf", models, config, os.path.join(root, "bad"), dtypes={"denoiser": "int8"})

    def test_bfloat16_weights(self):
        """--dtype STAGE=bfloat16: the weights stored in bfloat16 behind casts, computed in float32, the
        parameters rounded first; inline and streamed weights."""
        import onnxruntime as ort
        from foley_export import storage
        root = _util.tmpdir(self)
        config, models = tiny.create("hvf", 5, os.path.join(root, "ckpt"))
        full = export.export_bundle("hvf", models, config, os.path.join(root, "f32"), external_data=True,
                                    working_memory="graph")
        for streamed in (False, True):
            with self.subTest(streamed=streamed):
                config, models = tiny.load(os.path.join(root, "ckpt"))
                out = os.path.join(root, "bf16-%s" % streamed)
                parity = os.path.join(root, "p-%s.npz" % streamed)
                m = export.export_bundle("hvf", models, config, out, external_data=True, parity_out=parity,
                                         dtypes={"denoiser": "bfloat16", "vae_decoder": "bfloat16"},
                                         working_memory="graph", **({"stream_threshold": 0} if streamed else {}))
                self.assertIn("denoiser weights stored in bfloat16", m["description"])
                # the parameters were rounded in place: the parity data is the rounded module's
                w = models["foley"].state_dict()
                self.assertTrue(all(torch.equal(t, t.bfloat16().float()) for t in w.values() if t.is_floating_point()))
                z = np.load(parity)
                for st, e in m["stages"].items():
                    self.assertEqual(e.get("weights"), "bfloat16" if st in ("denoiser", "vae_decoder") else None)
                    so = ort.SessionOptions()
                    for k, v in storage.ort_config(e).items():
                        so.add_session_config_entry(k, v)
                    s = ort.InferenceSession(os.path.join(out, e["file"]), so, providers=["CPUExecutionProvider"])
                    (got,) = s.run(None, {t["name"]: z["%s.%s" % (st, t["name"])] for t in e["inputs"]})
                    self.assertLess(rel_l2(got, z["%s.%s" % (st, e["outputs"][0]["name"])]), 1e-5, st)
                    g = onnx.load(os.path.join(out, e["file"]), load_external_data=False).graph
                    big = [i for i in g.initializer if np.prod(i.dims) * 4 >= 1024 and i.data_type in
                           (onnx.TensorProto.FLOAT, onnx.TensorProto.BFLOAT16)]
                    bf16 = [i for i in big if i.data_type == onnx.TensorProto.BFLOAT16]
                    if "weights" in e:  # the large weights are bfloat16, each widened by a cast
                        self.assertGreater(len(bf16), 0.5 * len(big), st)
                        casts = {n.input[0] for n in g.node if n.op_type == "Cast"}
                        self.assertTrue({i.name for i in bf16} <= casts, st)
                    else:
                        self.assertEqual(bf16, [], st)
                size = lambda mm, d, st: os.path.getsize(os.path.join(root, d, mm["stages"][st]["externalData"][0]["file"]))
                self.assertLess(size(m, "bf16-%s" % streamed, "denoiser"), 0.6 * size(full, "f32", "denoiser"))
                self.assertEqual(size(m, "bf16-%s" % streamed, "text_encoder"), size(full, "f32", "text_encoder"))
                export.verify_bundle(out)  # raises on a hash or a stage that does not check


class _Stack(nn.Module):
    """Linear layers on [B, N, D] inputs (exported as MatMul with transposed weights) and a conv."""

    def __init__(self, width, depth):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.conv = nn.Conv1d(width, width, 3, padding=1)
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return self.norm(self.conv(x.transpose(1, 2)).transpose(1, 2))


class StreamedWeightsTest(unittest.TestCase):
    """Stages above the stream threshold are exported without embedded weights and their weights
    written tensor by tensor to <stage>.onnx.data (the path a > 2 GiB stage takes)."""

    AXES = {"s": ({"x": {0: "batch", 1: "n"}}, {"y": {0: "batch", 1: "n"}})}

    def _export(self, module, threshold):
        d = _util.tmpdir(self)
        model, streamed = export._export_stage("s", module, {"x": torch.randn(2, 5, 64)}, self.AXES, 17,
                                               os.path.join(d, "work"), threshold)
        path = os.path.join(d, "s.onnx")
        data = export._save(model, path, True, streamed)
        return path, data, streamed is not None

    def test_just_over_threshold_streams_and_runs(self):
        torch.manual_seed(0)
        module = _Stack(64, 3).eval()
        size = export.parameter_bytes(module)
        x = torch.randn(3, 11, 64)
        with torch.no_grad():
            want = module(x).numpy()
        results = {}
        for threshold in (size - 1, size):  # just over the threshold / exactly at it
            path, data, streamed = self._export(module, threshold)
            self.assertEqual(streamed, threshold < size)
            onnx.checker.check_model(path, full_check=True)
            (got,) = ort_outputs(path, {"x": x.numpy()})
            self.assertLess(rel_l2(got, want), 1e-6)
            results[streamed] = got
            model = onnx.load(path, load_external_data=False)
            external = [i for i in model.graph.initializer if i.data_location == onnx.TensorProto.EXTERNAL]
            locations = {{kv.key: kv.value for kv in i.external_data}["location"] for i in external}
            self.assertEqual(locations, {"s.onnx.data"})
            if streamed:
                # every weight in the data file once: its size is the module's weights, less the small
                # tensors kept inline; the transposes the exporter would fold are folded
                inline = sum(len(i.raw_data) for i in model.graph.initializer
                             if i.data_location != onnx.TensorProto.EXTERNAL)
                self.assertEqual(os.path.getsize(os.path.join(os.path.dirname(path), data)) + inline, size)
                self.assertNotIn("Transpose", {n.op_type for n in model.graph.node
                                               if any(i.startswith("layers.") for i in n.input)})
                self.assertEqual([i.name for i in model.graph.input], ["x"])
        np.testing.assert_allclose(results[True], results[False], rtol=0, atol=1e-6)

    def test_streamed_into_the_output_directory_itself(self):
        # hvf_arch_check exports into its output directory: the data file is already in place
        torch.manual_seed(1)
        module = _Stack(64, 1).eval()
        d = _util.tmpdir(self)
        model, streamed = export._export_stage("s", module, {"x": torch.randn(2, 5, 64)}, self.AXES, 17, d, 0)
        self.assertEqual(streamed, os.path.join(d, "s.onnx.data"))
        export._save(model, os.path.join(d, "s.onnx"), True, streamed)
        x = torch.randn(1, 4, 64)
        (got,) = ort_outputs(os.path.join(d, "s.onnx"), {"x": x.numpy()})
        with torch.no_grad():
            self.assertLess(rel_l2(got, module(x).numpy()), 1e-6)

    def test_a_small_tensor_read_while_tracing_keeps_its_value(self):
        # a value the forward reads at trace time becomes a constant of the graph (BigVGAN's
        # anti-aliasing filter, once the export patch makes it one): a placeholder there silently
        # zeroed MMAudio's whole decoder stage. Tensors that stay inline are not swapped.
        class Gain(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = _Stack(64, 2)
                self.register_buffer("gain", torch.tensor([1.75, -0.5]))

            def forward(self, x):
                g0, g1 = self.gain.tolist()  # read at trace time: a constant of the graph
                return self.body(x) * g0 + g1

        torch.manual_seed(4)
        module = Gain().eval()
        path, _, streamed = self._export(module, 0)
        self.assertTrue(streamed)
        x = torch.randn(2, 7, 64)
        (got,) = ort_outputs(path, {"x": x.numpy()})
        with torch.no_grad():
            self.assertLess(rel_l2(got, module(x).numpy()), 1e-6)

    def test_weights_are_placeholders_while_tracing_and_come_back(self):
        # the trace of a streamed stage sees one-element placeholders, not the weights (the
        # exporter's passes keep tensors derived from what it traces), all of different values
        # (the exporter merges initializers of equal value); a tied weight stays one tensor, and
        # the module has its own tensors back afterwards
        class Tied(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(64, 64)
                self.b = nn.Linear(64, 64)
                self.c = nn.Linear(64, 64)
                self.c.weight = self.a.weight
                self.register_buffer("scale", torch.full((64,), 0.5))
                self.seen = []

            def forward(self, x):
                self.seen.append(max(t.untyped_storage().nbytes() for t in self.state_dict().values()))
                return self.c(torch.tanh(self.b(torch.tanh(self.a(x))))) * self.scale

        torch.manual_seed(2)
        module = Tied().eval()
        before = {k: (v, v.detach().clone()) for k, v in module.state_dict(keep_vars=True).items()}
        path, data, streamed = self._export(module, 0)
        self.assertTrue(streamed)
        # the trace's call: the 16 KiB weights were one-element placeholders; only tensors that stay
        # inline (the 256-byte biases and scale) kept their storage
        self.assertLess(module.seen[-1], export.EXTERNAL_THRESHOLD)
        self.assertGreater(64 * 64 * 4, export.EXTERNAL_THRESHOLD)
        for k, v in module.state_dict(keep_vars=True).items():
            self.assertIs(v, before[k][0], k)
            self.assertTrue(torch.equal(v, before[k][1]), k)
        self.assertIs(module.c.weight, module.a.weight)
        x = torch.randn(3, 7, 64)
        (got,) = ort_outputs(path, {"x": x.numpy()})
        with torch.no_grad():
            self.assertLess(rel_l2(got, module(x).numpy()), 1e-6)
        model = onnx.load(path, load_external_data=False)
        matrices = [i for i in model.graph.initializer if list(i.dims) == [64, 64]]
        self.assertEqual(len(matrices), 2)  # a's (= c's) and b's

    def test_inline_export_refuses_more_than_two_gib(self):
        class Big(nn.Module):
            def __init__(self):
                super().__init__()
                # 2.5 GiB of float32 declared on the meta device: nothing allocated
                self.w = nn.Parameter(torch.empty(5 << 27, device="meta"))

            def forward(self, x):
                return x

        with self.assertRaises(RuntimeError) as ctx:
            export._export_stage("s", Big(), {"x": torch.randn(2, 5, 64)}, self.AXES, 17, _util.tmpdir(self), None)
        self.assertIn("--external-data", str(ctx.exception))


if __name__ == "__main__":
    unittest.main()
