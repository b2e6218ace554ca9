"""The HVF wrappers on the real ``transformers`` classes (SigLIP2 = SiglipModel at 512 px, CLAP's
text tower), built from small configs with random weights (no download), exported by the tool and
run by ONNX Runtime at a batch and text length unlike the export's. Runs on transformers 4.x and
5.x (docs/export.md, "Versions")."""

import os
import unittest

import _util
import numpy as np
import torch

from foley_export import compat, export
from foley_export.wrappers import HvfText, HvfVisual

try:
    import transformers
except ImportError:  # the tool itself needs transformers only for real HVF
    transformers = None


def ort_outputs(path, feeds):
    import onnxruntime as ort
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)


def rel_l2(a, b):
    return float(np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(np.asarray(b, np.float64)))


def export_stage(test, name, module, inputs, stream=False):
    """Embedded weights, or (``stream``) streamed to external data as a stage above the threshold."""
    d = _util.tmpdir(test)
    model, streamed = export._export_stage(name, module, inputs, export.AXES, 17, os.path.join(d, "work"),
                                           0 if stream else None)
    test.assertEqual(streamed is not None, stream)
    path = os.path.join(d, name + ".onnx")
    export._save(model, path, stream, streamed)
    return path


@unittest.skipIf(transformers is None, "transformers is not installed")
class TransformersWrappersTest(unittest.TestCase):
    def test_siglip2_visual_at_512(self):
        torch.manual_seed(0)
        cfg = transformers.SiglipConfig(
            vision_config=dict(image_size=512, patch_size=16, hidden_size=32, intermediate_size=64,
                               num_hidden_layers=2, num_attention_heads=2),
            text_config=dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                             num_attention_heads=2, max_position_embeddings=16, bos_token_id=None,
                             eos_token_id=None, pad_token_id=1))
        model = transformers.SiglipModel(cfg).eval()
        wrapper = HvfVisual(model).eval()
        pixels = torch.rand(3, 3, 512, 512) * 2 - 1
        with torch.no_grad():
            want = wrapper(pixels)
            pooled = model.vision_model(pixel_values=pixels).pooler_output
        self.assertEqual(tuple(want.shape), (3, 32))
        self.assertTrue(torch.equal(want, pooled))  # 4.x: the tensor; 5.x: pooler_output
        self.assertEqual(model.vision_model.embeddings.position_embedding.num_embeddings, 1024)  # 32 x 32 patches
        for stream in (False, True):
            path = export_stage(self, "visual_encoder", wrapper, {"pixels": torch.rand(2, 3, 512, 512) * 2 - 1},
                                stream)
            (got,) = ort_outputs(path, {"pixels": pixels.numpy()})
            self.assertLess(rel_l2(got, want.numpy()), 1e-5, "streamed" if stream else "embedded")

    def test_clap_text_symbolic_length_with_padding(self):
        torch.manual_seed(0)
        cfg = transformers.ClapTextConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                          num_attention_heads=2, max_position_embeddings=40, projection_dim=16,
                                          pad_token_id=1, bos_token_id=0, eos_token_id=2)
        model = transformers.ClapTextModelWithProjection(cfg).eval()
        wrapper = HvfText(model).eval()

        def pair(n, pad):
            ids = torch.randint(4, 64, (2, n))
            ids[:, 0], ids[:, -1] = 0, 2
            mask = torch.ones(2, n, dtype=torch.int64)
            ids[0, n - pad:], mask[0, n - pad:] = 1, 0  # the shorter prompt padded, as HVF pads the pair
            ids[0, n - pad - 1] = 2
            return ids, mask

        ids, mask = pair(14, 6)
        with torch.no_grad():
            want = wrapper(ids, mask).numpy()
            self.assertEqual(want.shape, (2, 14, 32))
        for stream in (False, True):
            path = export_stage(self, "text_encoder", wrapper, dict(zip(("input_ids", "attention_mask"), pair(9, 3))),
                                stream)
            (got,) = ort_outputs(path, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})
            self.assertLess(rel_l2(got, want), 1e-5, "streamed" if stream else "embedded")
        # padded rows are kept (HVF neither zeroes nor drops them) and depend on the mask
        self.assertGreater(np.abs(got[0, -1]).sum(), 0)

    def test_pruning_helper_for_hvf_synchformer(self):
        compat.ensure_pruning_helpers()
        from transformers.pytorch_utils import find_pruneable_heads_and_indices as installed
        cases = [({1}, 3, 2, set()), ({0, 2}, 4, 3, set()), ({2, 3}, 4, 2, {0}), ({0}, 2, 2, {0})]
        for heads, n, size, done in cases:
            mine = compat.find_pruneable_heads_and_indices(heads, n, size, done)
            theirs = installed(heads, n, size, done)
            self.assertEqual(mine[0], theirs[0])
            self.assertTrue(torch.equal(mine[1], theirs[1]))
        # worked by hand: 3 heads of 2 rows, prune head 1 -> rows 0, 1, 4, 5 stay
        self.assertEqual(compat.find_pruneable_heads_and_indices({1}, 3, 2, set())[1].tolist(), [0, 1, 4, 5])
        # head 0 already gone: pruning original head 2 removes current head 1 (rows 2, 3)
        self.assertEqual(compat.find_pruneable_heads_and_indices({2}, 3, 2, {0})[1].tolist(), [0, 1, 4, 5])

    def test_image_features_of_either_api(self):
        t = torch.randn(2, 4)
        self.assertIs(compat.image_features(t), t)
        out = transformers.modeling_outputs.BaseModelOutputWithPooling(last_hidden_state=torch.randn(2, 3, 4),
                                                                       pooler_output=t)
        self.assertIs(compat.image_features(out), t)
        self.assertIs(compat.image_features((torch.randn(2, 3, 4), t)), t)
        with self.assertRaises(TypeError):
            compat.image_features(object())


if __name__ == "__main__":
    unittest.main()
