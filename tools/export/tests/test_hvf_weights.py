"""The parts of ``hvf-weights`` that need no HVF checkout: the Hugging Face cache entries it writes
are what ``from_pretrained`` finds offline, and the descript-audiotools stand-in reads a model in
the format audiotools saves (what HVF's ``DAC.load`` reads)."""

import importlib
import os
import sys
import unittest

import _util
import torch

from foley_export import hvf_weights, standins


class HfCacheEntryTest(unittest.TestCase):
    def test_from_pretrained_finds_the_snapshot_offline(self):
        try:
            import transformers
        except ImportError:
            self.skipTest("transformers not installed")
        hf_home = _util.tmpdir(self)
        cfg = transformers.ClapTextConfig(vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                          num_attention_heads=2, max_position_embeddings=20, projection_dim=8)
        torch.manual_seed(0)
        model = transformers.ClapTextModelWithProjection(cfg)
        snap = hvf_weights._hf_snapshot(hf_home, hvf_weights.CLAP_ID)
        model.save_pretrained(snap)
        with open(os.path.join(hf_home, "hub", "models--laion--larger_clap_general", "refs", "main")) as f:
            self.assertEqual(f.read(), hvf_weights.REVISION)
        again = transformers.ClapTextModelWithProjection.from_pretrained(
            hvf_weights.CLAP_ID, cache_dir=os.path.join(hf_home, "hub"), local_files_only=True)
        for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
            self.assertTrue(torch.equal(a, b), name)


class AudiotoolsStandInTest(unittest.TestCase):
    def setUp(self):
        directory = _util.tmpdir(self)
        standins.write(["audiotools"], directory)
        sys.path.insert(0, directory)
        self.addCleanup(sys.path.remove, directory)
        saved = {m: sys.modules.pop(m) for m in list(sys.modules) if m == "audiotools" or m.startswith("audiotools.")}
        self.addCleanup(sys.modules.update, saved)
        importlib.invalidate_caches()
        self.ml = importlib.import_module("audiotools.ml")

    def test_base_model_load_reads_state_dict_and_constructor_arguments(self):
        class Net(self.ml.BaseModel):
            def __init__(self, width=3, depth=1):
                super().__init__()
                self.layers = torch.nn.ModuleList(torch.nn.Linear(width, width) for _ in range(depth))

        torch.manual_seed(1)
        net = Net(width=5, depth=2)
        path = os.path.join(_util.tmpdir(self), "net.pth")
        torch.save({"state_dict": net.state_dict(), "metadata": {"kwargs": {"width": 5, "depth": 2}}}, path)
        again = Net.load(path)
        self.assertEqual(len(again.layers), 2)
        self.assertEqual(again.layers[0].weight.shape, (5, 5))
        for (name, a), (_, b) in zip(net.state_dict().items(), again.state_dict().items()):
            self.assertTrue(torch.equal(a, b), name)
        self.assertEqual(again.metadata["kwargs"], {"width": 5, "depth": 2})


if __name__ == "__main__":
    unittest.main()
