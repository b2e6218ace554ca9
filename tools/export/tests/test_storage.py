"""Weights stored in bfloat16 and computed in float32 (storage.py): the rewrite of a graph, inline
and in external data, what ONNX Runtime computes from it, what it holds in memory, and the graph's
working memory with the casts left unfolded."""

import json
import os
import subprocess
import sys
import unittest

import _util
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from foley_export import memory, storage

WIDTH = 512


def _chain(layers, width=WIDTH, seed=0, bfloat16_values=True):
    """x -> (MatMul W_i, Tanh) x layers; float32 weights, bfloat16 numbers unless told otherwise."""
    rng = np.random.default_rng(seed)
    nodes, inits, x = [], [], "x"
    for i in range(layers):
        w = rng.standard_normal((width, width), dtype=np.float32) * 0.05
        if bfloat16_values:
            w = (w.view(np.uint32) & 0xFFFF0000).view(np.float32)
        inits.append(numpy_helper.from_array(w, "w%d" % i))
        nodes.append(helper.make_node("MatMul", [x, "w%d" % i], ["h%d" % i]))
        nodes.append(helper.make_node("Tanh", ["h%d" % i], ["a%d" % i]))
        x = "a%d" % i
    inits.append(numpy_helper.from_array(np.float32([0.5, 0.25]), "small"))  # under min_bytes: stays float32
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", width])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["n", width])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def _run(path, x, config=None):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    for k, v in (config or {}).items():
        so.add_session_config_entry(k, v)
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


class StoreTest(unittest.TestCase):
    def setUp(self):
        self.dir = _util.tmpdir(self)
        self.x = np.random.default_rng(1).standard_normal((8, WIDTH), dtype=np.float32)

    def _save(self, model, name, external):
        path = os.path.join(self.dir, name)
        if external:
            onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                            location=name + ".data", size_threshold=1024)
        else:
            onnx.save_model(model, path)
        return path

    def test_inline_and_external_give_the_float32_results_in_half_the_bytes(self):
        f32 = self._save(_chain(3), "f32.onnx", external=True)
        want = _run(f32, self.x)
        for external in (False, True):
            with self.subTest(external=external):
                name = "bf16-%s.onnx" % external
                if external:  # rewrite a model whose weights are already in external data
                    path = self._save(_chain(3), name, external=True)
                    m = onnx.load(path, load_external_data=False)
                    stats = storage.store_bfloat16(m, self.dir)
                    onnx.save_model(m, path)
                    self.assertEqual(os.path.getsize(path + ".data"), 3 * WIDTH * WIDTH * 2)
                    self.assertFalse(os.path.exists(path + ".data.bf16"))
                else:
                    m = _chain(3)
                    stats = storage.store_bfloat16(m)
                    path = self._save(m, name, external=False)
                self.assertEqual((stats["converted"], stats["kept"], stats["not_bfloat16"]), (3, 0, 0))
                self.assertEqual(stats["bytes_after"] * 2, stats["bytes_before"])
                onnx.checker.check_model(path, full_check=True)
                g = onnx.load(path, load_external_data=False).graph
                types = sorted((i.name, i.data_type) for i in g.initializer)
                self.assertEqual(types, [("small", TensorProto.FLOAT)] + [
                    ("w%d%s" % (i, storage.SUFFIX), TensorProto.BFLOAT16) for i in range(3)])
                # the casts come first, then the graph's own nodes in their order
                self.assertEqual([n.op_type for n in g.node[:3]], ["Cast"] * 3)
                self.assertEqual([n.op_type for n in g.node[3:]], ["MatMul", "Tanh"] * 3)
                for config in ({}, storage.ORT_CONFIG):
                    # the same float32 arithmetic; a MatMul whose weight is not a constant packs it per
                    # call, which may order the sums otherwise (a few units in the last place)
                    got = _run(path, self.x, config)
                    self.assertLess(np.linalg.norm(got - want) / np.linalg.norm(want), 1e-6, config)

    def test_values_that_are_not_bfloat16_numbers_stay_float32(self):
        m = _chain(2, bfloat16_values=False)
        stats = storage.store_bfloat16(m)
        self.assertEqual((stats["converted"], stats["not_bfloat16"], stats["kept"]), (0, 2, 2))
        self.assertEqual({i.data_type for i in m.graph.initializer}, {TensorProto.FLOAT})
        self.assertFalse(any(n.op_type == "Cast" for n in m.graph.node))

    def test_a_name_already_taken_gets_another(self):
        m = _chain(1)
        m.graph.node.append(helper.make_node("Identity", ["a0"], ["w0" + storage.SUFFIX]))
        storage.store_bfloat16(m)
        stored = [i.name for i in m.graph.initializer if i.data_type == TensorProto.BFLOAT16]
        self.assertEqual(stored, ["w0" + storage.SUFFIX + "_"])

    def test_round_parameters(self):
        import torch
        lin = torch.nn.Linear(64, 64)
        before = lin.weight.detach().clone()
        changed, total = storage.round_parameters(lin)
        self.assertEqual(total, 64 * 64 + 64)
        self.assertGreater(changed, total // 2)
        self.assertTrue(torch.equal(lin.weight, before.bfloat16().float()))
        self.assertEqual(storage.round_parameters(lin), (0, total))  # bfloat16 numbers already

    def test_working_memory_counts_each_widened_weight_between_its_readers(self):
        m = _chain(4)
        storage.store_bfloat16(m)
        dims = {"n": 8}
        act = 8 * WIDTH * 4
        folded = memory.working_memory(m, dims)["bytes"]
        unfolded = memory.working_memory(m, dims, folding=False)["bytes"]
        self.assertLess(folded, 4 * act + 1)  # activations only: the casts are weights
        weight = WIDTH * WIDTH * 4
        # one widened weight at a time (made at its MatMul, freed after it), not four
        self.assertGreaterEqual(unfolded, weight)
        self.assertLess(unfolded, weight + 4 * act + 1)


_RSS = """
import json, sys, onnxruntime as ort, numpy as np
def kib(f):
    for l in open('/proc/self/status'):
        if l.startswith(f + ':'):
            return int(l.split()[1])
before = kib('VmRSS')
so = ort.SessionOptions()
so.intra_op_num_threads = 1
for k, v in json.loads(sys.argv[2]).items():
    so.add_session_config_entry(k, v)
s = ort.InferenceSession(sys.argv[1], so, providers=['CPUExecutionProvider'])
s.run(None, {'x': np.ones((4, %d), np.float32)})
print(json.dumps({'loaded_kib': kib('VmRSS') - before}))
""" % WIDTH


@unittest.skipUnless(sys.platform.startswith("linux"), "reads /proc")
class ResidentTest(unittest.TestCase):
    def test_onnx_runtime_holds_half_the_weight_bytes_with_the_session_config(self):
        d = _util.tmpdir(self)
        layers = 32  # 32 MiB of float32 weights
        f32 = os.path.join(d, "f32.onnx")
        onnx.save_model(_chain(layers), f32, save_as_external_data=True, location="f32.data", size_threshold=1024)
        m = _chain(layers)
        storage.store_bfloat16(m)
        bf16 = os.path.join(d, "bf16.onnx")
        onnx.save_model(m, bf16, save_as_external_data=True, location="bf16.data", size_threshold=1024)

        def resident(path, config):
            p = subprocess.run([sys.executable, "-c", _RSS, path, json.dumps(config)], capture_output=True,
                               text=True, check=True)
            return json.loads(p.stdout.strip().splitlines()[-1])["loaded_kib"] / 1024.0

        weights = layers * WIDTH * WIDTH * 4 / (1 << 20)
        got_f32 = resident(f32, {})
        got_bf16 = resident(bf16, storage.ORT_CONFIG)
        folded = resident(bf16, {})
        msg = "MiB above the interpreter: float32 %.1f, bfloat16 %.1f, bfloat16 folded %.1f (weights %.0f)" % (
            got_f32, got_bf16, folded, weights)
        self.assertGreater(got_f32, weights, msg)
        self.assertLess(got_bf16, got_f32 - 0.35 * weights, msg)  # about half the weights fewer
        self.assertGreater(folded, got_bf16 + 0.35 * weights, msg)  # folding makes the float32 copies


if __name__ == "__main__":
    unittest.main()
