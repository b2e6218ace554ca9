import json
import os
import tempfile
import unittest

import _util  # noqa: F401  (puts foley_export on the path)
import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from foley_export import export, quantize, tiny


def _rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


class QuantizeTest(unittest.TestCase):
    """INT8 variants of an exported tiny HVF-shaped bundle: valid bundles, what changed, how far it moved."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="foley_quantize_")
        root = cls._tmp.name
        config, models = tiny.create("hvf", 11, os.path.join(root, "ckpt"))
        cls.src = os.path.join(root, "fp32")
        cls.parity = os.path.join(root, "parity.npz")
        cls.manifest = export.export_bundle("hvf", models, config, cls.src, parity_out=cls.parity,
                                            working_memory="graph")
        cls.dynamic = os.path.join(root, "int8")
        cls.dyn_manifest, cls.dyn_rewritten = quantize.quantize_bundle(cls.src, cls.dynamic)
        cls.weights = os.path.join(root, "int8w")
        cls.w_manifest, cls.w_rewritten = quantize.quantize_bundle(cls.src, cls.weights, stages=("denoiser",),
                                                                   mode="weight-only", per_channel=True)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def _run(self, bundle, stage):
        m = json.load(open(os.path.join(bundle, export.MANIFEST), encoding="utf-8"))
        e = m["stages"][stage]
        z = np.load(self.parity)
        sess = ort.InferenceSession(os.path.join(bundle, e["file"]), providers=["CPUExecutionProvider"])
        feeds = {t["name"]: z["%s.%s" % (stage, t["name"])] for t in e["inputs"]}
        return sess.run(None, feeds)[0], z["%s.%s" % (stage, e["outputs"][0]["name"])]

    def test_the_variants_are_valid_bundles_with_new_hashes_and_names(self):
        self.assertEqual(self.manifest["name"] + "-int8", self.dyn_manifest["name"])
        self.assertEqual(self.manifest["name"] + "-int8-weights", self.w_manifest["name"])
        export.verify_bundle(self.dynamic)  # every sha256, checker, declared shapes
        export.verify_bundle(self.weights)
        self.assertEqual(set(self.dyn_rewritten), set(quantize.DEFAULT_STAGES))
        for stage, e in self.manifest["stages"].items():
            same = self.dyn_manifest["stages"][stage]["sha256"] == e["sha256"]
            self.assertEqual(stage == "vae_decoder", same, stage)
            self.assertEqual(e["inputs"], self.dyn_manifest["stages"][stage]["inputs"], "float32 boundary kept")
            # the float graph's working memory does not describe a rewritten graph
            self.assertEqual(same, "workingMemory" in self.dyn_manifest["stages"][stage], stage)
        self.assertEqual(self.manifest["files"], self.dyn_manifest["files"])

    def test_dynamic_uses_integer_kernels_and_stays_close(self):
        g = onnx.load(os.path.join(self.dynamic, "denoiser.onnx"))
        ops = {n.op_type for n in g.graph.node}
        self.assertTrue(ops & {"MatMulInteger", "DynamicQuantizeMatMul"}, ops)
        self.assertIn("DynamicQuantizeLinear", ops)
        inits = {t.name for t in g.graph.initializer}
        float_matmuls = [n.name for n in g.graph.node if n.op_type == "MatMul" and len(n.input) == 2
                         and n.input[1] in inits]
        self.assertEqual([], float_matmuls, "no float32 MatMul with a stored weight is left")
        got, want = self._run(self.dynamic, "denoiser")
        ref, _ = self._run(self.src, "denoiser")
        self.assertLess(_rel(ref, want), 1e-5, "the float32 bundle reproduces its parity data")
        d = _rel(got, want)
        self.assertGreater(d, 0, "int8 changes the numbers")
        self.assertLess(d, 0.1, "int8 of random 32-wide layers stays within 10 %")
        print("[quantize] tiny hvf denoiser, dynamic int8: relative L2 %.4f" % d)

    def test_weight_only_stores_int8_and_dequantizes_exactly(self):
        src = onnx.load(os.path.join(self.src, "denoiser.onnx"))
        q = onnx.load(os.path.join(self.weights, "denoiser.onnx"))
        originals = {t.name: numpy_helper.to_array(t) for t in src.graph.initializer}
        qinits = {t.name: numpy_helper.to_array(t) for t in q.graph.initializer}
        deq = [n for n in q.graph.node if n.op_type == "DequantizeLinear"]
        self.assertEqual(len(deq), self.w_rewritten["denoiser"])
        for n in deq:
            w8, scale = qinits[n.input[0]], qinits[n.input[1]]
            self.assertEqual(w8.dtype, np.int8)
            w = originals[n.output[0]]
            self.assertNotIn(n.output[0], qinits, "the float32 weight is gone from the file")
            back = w8.astype(np.float32) * scale[None, :]
            self.assertTrue(np.all(np.abs(back - w) <= scale[None, :] / 2 + 1e-7), n.output[0])
        got, want = self._run(self.weights, "denoiser")
        d = _rel(got, want)
        self.assertGreater(d, 0)
        self.assertLess(d, 0.05)
        print("[quantize] tiny hvf denoiser, weight-only int8 per channel: relative L2 %.4f" % d)

    def test_bad_requests_are_refused(self):
        with tempfile.TemporaryDirectory() as out:
            with self.assertRaises(ValueError) as e:
                quantize.quantize_bundle(self.src, os.path.join(out, "x"), stages=("nope",))
            self.assertIn("no stage nope", str(e.exception))
            with open(os.path.join(out, "taken"), "w") as f:
                f.write("x")
            with self.assertRaises(ValueError):
                quantize.quantize_bundle(self.src, out)
            with self.assertRaises(ValueError):
                quantize.quantize_bundle(self.src, os.path.join(out, "y"), mode="int4")


if __name__ == "__main__":
    unittest.main()
