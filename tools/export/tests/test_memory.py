"""foley_export.memory: the working memory of a stage call from its ONNX graph, and the manifest field."""

import json
import os
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from _util import tmpdir
from foley_export import memory

F = TensorProto.FLOAT


def mlp(width, path=None, depth=2, features=16):
    """x[batch, length, features] -> depth x (MatMul to width, Relu, MatMul back) -> Reshape -> y."""
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    h = "x"
    for i in range(depth):
        inits.append(numpy_helper.from_array(rng.standard_normal((features, width)).astype(np.float32), "w%da" % i))
        inits.append(numpy_helper.from_array(rng.standard_normal((width, features)).astype(np.float32), "w%db" % i))
        nodes += [helper.make_node("MatMul", [h, "w%da" % i], ["u%d" % i]),
                  helper.make_node("Relu", ["u%d" % i], ["r%d" % i]),
                  helper.make_node("MatMul", ["r%d" % i, "w%db" % i], ["h%d" % i])]
        h = "h%d" % i
    inits.append(numpy_helper.from_array(np.array([0, -1], dtype=np.int64), "flat"))
    nodes.append(helper.make_node("Reshape", [h, "flat"], ["y"]))
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", F, ["batch", "length", features])],
                          [helper.make_tensor_value_info("y", F, ["batch", None])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    if path:
        onnx.save(m, path)
    return m


class GraphPeakTest(unittest.TestCase):
    def test_a_small_graph_matches_the_hand_count(self):
        # x[2, 3, 4]; a = x + x; b = Reshape(a) (a view of a); c = Relu(b); d = Exp(x); y = c * d
        g = helper.make_graph(
            [helper.make_node("Add", ["x", "x"], ["a"]),
             helper.make_node("Reshape", ["a", "shape"], ["b"]),
             helper.make_node("Relu", ["b"], ["c"]),
             helper.make_node("Exp", ["x"], ["d"]),
             helper.make_node("Mul", ["c", "d"], ["y"])],
            "hand", [helper.make_tensor_value_info("x", F, ["batch", 3, 4])],
            [helper.make_tensor_value_info("y", F, ["batch", 12])],
            [numpy_helper.from_array(np.array([2, 12], dtype=np.int64), "shape")])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        r = memory.working_memory(m, {"batch": 2})
        t = 2 * 3 * 4 * 4  # 96 bytes a tensor
        # live at each node: x+a; (b is a's view); x+a+c, then a is freed (Relu was its last reader);
        # x+c+d; x+c+d+y at the Mul, whose inputs live while it writes (the caller holds x throughout)
        self.assertEqual(4 * t, r["bytes"])
        self.assertEqual("Mul", r["node"])
        self.assertEqual(t, r["inputs"])
        self.assertEqual(t, r["outputs"])
        self.assertEqual(5, r["tensors"], "x, a, c, d and y; b is a view of a")

    def test_an_output_nobody_reads_is_freed_after_its_node_only(self):
        # x[2, 3, 4]; a = Exp(x); ignored = Sigmoid(a), which no node reads; y = Neg(a)
        g = helper.make_graph(
            [helper.make_node("Exp", ["x"], ["a"]),
             helper.make_node("Sigmoid", ["a"], ["ignored"]),
             helper.make_node("Neg", ["a"], ["y"])],
            "unread", [helper.make_tensor_value_info("x", F, ["batch", 3, 4])],
            [helper.make_tensor_value_info("y", F, ["batch", 3, 4])])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        t = 2 * 3 * 4 * 4
        # x+a, x+a+ignored (freed after its node), x+a+y: never x+a+ignored+y, never below x+a
        self.assertEqual(3 * t, memory.working_memory(m, {"batch": 2})["bytes"])

    def test_it_grows_with_width_length_and_batch_but_not_with_depth(self):
        base = memory.working_memory(mlp(64), {"batch": 1, "length": 100})["bytes"]
        self.assertGreater(memory.working_memory(mlp(256), {"batch": 1, "length": 100})["bytes"], 3 * base)
        self.assertEqual(2 * base, memory.working_memory(mlp(64), {"batch": 1, "length": 200})["bytes"])
        self.assertEqual(4 * base, memory.working_memory(mlp(64), {"batch": 4, "length": 100})["bytes"])
        self.assertEqual(base, memory.working_memory(mlp(64, depth=5), {"batch": 1, "length": 100})["bytes"],
                         "each layer's activations are freed before the next: depth adds weights, not activations")
        # the hand count: x, then u (width) beside x, then r beside u, then h: the peak is x + u + r
        self.assertEqual(4 * 100 * (16 + 64 + 64), base)

    def test_weights_and_what_only_they_compute_are_not_counted(self):
        m = mlp(64)
        m.graph.node.insert(0, helper.make_node("Transpose", ["w0a"], ["w0a_t"]))  # folded at load
        m.graph.node.insert(1, helper.make_node("Transpose", ["w0a_t"], ["unused"]))
        self.assertEqual(4 * 100 * (16 + 64 + 64), memory.working_memory(m, {"batch": 1, "length": 100})["bytes"])

    def test_a_symbolic_axis_without_a_size_is_an_error_naming_it(self):
        with self.assertRaises(ValueError) as c:
            memory.working_memory(mlp(64), {"batch": 1})
        self.assertIn("length", str(c.exception))

    def test_weights_in_external_data_are_not_read(self):
        d = tmpdir(self)
        p = os.path.join(d, "m.onnx")
        m = mlp(64)
        onnx.save(m, p, save_as_external_data=True, all_tensors_to_one_file=True, location="m.onnx.data",
                  size_threshold=0)
        os.remove(os.path.join(d, "m.onnx.data"))  # absent: it must not be needed
        self.assertEqual(4 * 100 * (16 + 64 + 64), memory.working_memory(p, {"batch": 1, "length": 100})["bytes"])


def manifest_for(stage_files):
    """A manifest's fields the memory entry reads: HVF's rates, one pass up to 15 s."""
    return {
        "stages": stage_files,
        "visual": {"fps": 8}, "sync": {"fps": 25, "window": 16, "stride": 8, "tokensPerWindow": 8},
        "text": {"maxTokens": 77}, "latent": {"rate": 50, "channels": 128},
        "segment": {"seconds": 8.0, "latents": 400, "singlePassMaxSeconds": 15.0},
    }


def decoder(width, path):
    """A "vae_decoder": latents[batch, 128, latent_len] -> a width-wide MLP per latent -> audio."""
    rng = np.random.default_rng(1)
    inits = [numpy_helper.from_array(rng.standard_normal((128, width)).astype(np.float32), "wa"),
             numpy_helper.from_array(rng.standard_normal((width, 4)).astype(np.float32), "wb"),
             numpy_helper.from_array(np.array([0, -1], dtype=np.int64), "flat")]
    nodes = [helper.make_node("Transpose", ["latents"], ["t"], perm=[0, 2, 1]),
             helper.make_node("MatMul", ["t", "wa"], ["u"]),
             helper.make_node("Relu", ["u"], ["r"]),
             helper.make_node("MatMul", ["r", "wb"], ["v"]),
             helper.make_node("Reshape", ["v", "flat"], ["audio"])]
    g = helper.make_graph(nodes, "dec", [helper.make_tensor_value_info("latents", F, ["batch", 128, "latent_len"])],
                          [helper.make_tensor_value_info("audio", F, ["batch", "audio_len"])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, path)


def manifest_for(path):
    """The manifest fields the memory entry reads: HVF's rates, one pass up to 15 s."""
    return {
        "stages": {"vae_decoder": {"file": os.path.basename(path), "inputs": [
            {"name": "latents", "dtype": "float32", "shape": ["batch", 128, "latent_len"]}]}},
        "visual": {"fps": 8}, "sync": {"fps": 25, "window": 16, "stride": 8, "tokensPerWindow": 8},
        "text": {"maxTokens": 77}, "latent": {"rate": 50, "channels": 128},
        "segment": {"seconds": 8.0, "latents": 400, "singlePassMaxSeconds": 15.0},
    }


def ranged_decoder(width, path):
    """``decoder`` with a ramp over the latents made by Range from the input's length (as MMAudio's
    sequence lengths are worked out inside its graph): shape inference cannot size the ramp."""
    decoder(width, path)
    m = onnx.load(path)
    g = m.graph
    g.initializer.extend([numpy_helper.from_array(np.array(2, dtype=np.int64), "axis2"),
                          numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
                          numpy_helper.from_array(np.array(1, dtype=np.int64), "one"),
                          numpy_helper.from_array(np.array([1], dtype=np.int64), "ax1"),
                          numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zerof")])
    relu = [i for i, n in enumerate(g.node) if n.op_type == "Relu"][0]
    g.node[relu].output[0] = "r0"
    extra = [helper.make_node("Shape", ["latents"], ["shape"]),
             helper.make_node("Gather", ["shape", "axis2"], ["length"], axis=0),
             # plus 0 x a value of the input: a length no shape inference can know before the call
             helper.make_node("Cast", ["length"], ["lengthf"], to=F),
             helper.make_node("ReduceMax", ["latents"], ["top"], keepdims=0),
             helper.make_node("Mul", ["top", "zerof"], ["nothing"]),
             helper.make_node("Add", ["lengthf", "nothing"], ["lengthf1"]),
             helper.make_node("Cast", ["lengthf1"], ["length1"], to=TensorProto.INT64),
             helper.make_node("Range", ["zero", "length1", "one"], ["ramp"]),
             helper.make_node("Cast", ["ramp"], ["rampf"], to=F),
             helper.make_node("Unsqueeze", ["rampf", "ax1"], ["ramp2"]),
             helper.make_node("Mul", ["r0", "ramp2"], ["r"])]
    nodes = list(g.node[:relu + 1]) + extra + list(g.node[relu + 1:])
    del g.node[:]
    g.node.extend(nodes)
    onnx.save(m, path)


class ManifestEntryTest(unittest.TestCase):
    def test_a_graph_whose_shapes_depend_on_values_is_measured_at_every_point(self):
        d = tmpdir(self)
        p = os.path.join(d, "vae.onnx")
        ranged_decoder(256, p)
        m = manifest_for(p)
        with self.assertRaises(memory.UnknownShape):
            memory.working_memory(p, {"batch": 1, "latent_len": 100})
        with self.assertRaises(memory.UnknownShape) as e:
            memory.stage_entry(p, m, "vae_decoder", "graph")
        self.assertIn("can only be measured", str(e.exception))
        entry, details = memory.stage_entry(p, m, "vae_decoder", "measured")
        self.assertIsNone(details["graph_bytes"])
        lat = [x["latents"] for x in entry["points"]]
        self.assertTrue({100, 400, 750} <= set(lat), lat)
        self.assertEqual(sorted(lat), lat)
        for got in details["measured"]:
            self.assertEqual(1, got["batch"], "no graph peak to size the batch by")
            self.assertGreaterEqual(memory.charge(entry["points"], 1, got["latents"]), got["bytes"])
            self.assertGreaterEqual(memory.charge(entry["points"], 2, got["latents"]), got["bytes_2x"])

    def test_points_cover_a_quarter_segment_the_segment_and_the_longest_pass(self):
        d = tmpdir(self)
        p = os.path.join(d, "vae.onnx")
        decoder(512, p)
        m = manifest_for(p)
        self.assertEqual([100, 400, 750], memory.point_latents(m, "vae_decoder"))
        self.assertEqual({"batch": 2, "latent_len": 400}, memory.stage_dims(m, "vae_decoder", 2))
        fixed = manifest_for(p)
        fixed["stages"]["vae_decoder"]["inputs"][0]["shape"] = ["batch", 128, 400]
        self.assertEqual([400], memory.point_latents(fixed, "vae_decoder"), "a fixed length: one point")
        self.assertEqual({"visual": 64, "sync": 192}, memory.pass_counts(m, 400))

    def test_graph_points_scale_the_live_peak_and_measured_ones_calibrate_it(self):
        d = tmpdir(self)
        p = os.path.join(d, "vae.onnx")
        decoder(512, p)
        m = manifest_for(p)
        g, details = memory.stage_entry(p, m, "vae_decoder", "graph")
        self.assertEqual("graph", g["method"])
        self.assertEqual(1, g["batch"])
        # live at the peak: latents + t + u + r at batch 1 (t freed after the first MatMul: no, u's
        # node reads t, so t, u live; then r beside u), i.e. latents, u and r, plus t until u is made
        for n, point in zip([100, 400, 750], g["points"]):
            peak = 4 * n * (128 + 128 + 512)  # latents, t and u live as the first MatMul writes u
            peak = max(peak, 4 * n * (128 + 512 + 512))  # latents, u and r at the Relu
            self.assertEqual(n, point["latents"])
            self.assertEqual(int(np.ceil(peak * memory.GRAPH_FACTOR)), point["bytes"])
        wide, _ = memory.stage_entry(p, m, "vae_decoder", "graph")
        decoder(2048, p)
        wider, _ = memory.stage_entry(p, m, "vae_decoder", "graph")
        self.assertGreater(wider["points"][1]["bytes"], 3 * wide["points"][1]["bytes"], "width counts")
        e, details = memory.stage_entry(p, m, "vae_decoder", "measured")
        self.assertEqual("measured", e["method"])
        self.assertEqual({"batch": details["calibration_dims"]["batch"], "latent_len": 400},
                         details["calibration_dims"], "calibrated at the trained segment")
        self.assertGreaterEqual(details["factor"], 1.0)
        self.assertGreater(details["calibration_measured_bytes"], 0, "ONNX Runtime's call took memory")
        b = [x["bytes"] for x in e["points"]]
        self.assertTrue(b[0] < b[1] < b[2], b)
        # measured at batch r and 2r: the entry (fixed + rows x points) gives back the first
        # measurement, and the second one unless the rows' part was raised to the graph's
        r = details["calibration_dims"]["batch"]
        self.assertIn("calibration_measured_bytes_2x", details)
        self.assertEqual(e.get("fixed", 0), details["fixed"])
        one = details["fixed"] + r * b[1]
        self.assertAlmostEqual(one / details["calibration_measured_bytes"], 1.0, delta=0.05)
        two = details["fixed"] + 2 * r * b[1]
        self.assertGreaterEqual(two / details["calibration_measured_bytes_2x"], 0.95)
        # every point measured (the memory command's --every-point): the middle of each interval is
        # measured too, and every measured call is charged at least what it used, at b and 2b rows
        e, details = memory.stage_entry(p, m, "vae_decoder", "measured", every_point=True)
        lat = [x["latents"] for x in details["measured"]]
        self.assertEqual(lat, [x["latents"] for x in e["points"]])
        self.assertTrue({100, 250, 400, 575, 750} <= set(lat), lat)
        self.assertEqual([250, 575], [c["latents"] for c in details["refinement"]][:2])
        self.assertNotIn("fixed", e, "each point has its own")
        b = [x["bytes"] for x in e["points"]]
        self.assertEqual(b, sorted(b))
        for got in details["measured"]:
            self.assertGreaterEqual(memory.charge(e["points"], got["batch"], got["latents"]), got["bytes"])
            self.assertGreaterEqual(memory.charge(e["points"], 2 * got["batch"], got["latents"]), got["bytes_2x"])
        longest = details["measured"][-1]
        self.assertAlmostEqual(memory.charge(e["points"], longest["batch"], 750) / longest["bytes"], 1.0, delta=0.01)

    def test_refinement_splits_where_the_curve_bends_and_nowhere_else(self):
        def straight(n):
            return 1, 1000 * n, 5000 + 1000 * n, 5000 + 2000 * n
        cal, checks = memory.refine([100, 400, 750], straight)
        self.assertEqual([100, 250, 400, 575, 750], sorted(cal))
        self.assertEqual([0.0, 0.0], [c["error"] for c in checks], "a straight curve: each middle as read")

        def bent(n):  # a row grows with the square of the length (attention), plus a call's part
            return 1, 1, 7000 + n * n, 7000 + 2 * n * n
        cal, checks = memory.refine([100, 400, 750], bent, max_points=64)
        points = memory.every_point_entry(cal)
        for n in range(100, 751, 5):
            got = bent(n)
            for rows, used in ((1, got[2]), (2, got[3])):
                c = memory.charge(points, rows, n)
                self.assertGreaterEqual(c, used * 0.999, (n, rows))
                self.assertLessEqual(c / used, 1.0 + memory.REFINE_TOLERANCE, (n, rows, c, used))
        few, _ = memory.refine([100, 400, 750], bent)
        self.assertEqual(memory.MAX_POINTS, len(few), "capped")
        # the first point was far off without the middles: a chord over a square
        ends = memory.every_point_entry({n: bent(n) for n in (100, 400)})
        self.assertGreater(memory.charge(ends, 1, 250) / bent(250)[2], 1.3)

    def test_the_charge_reads_points_as_foley4j_does(self):
        pts = [{"latents": 100, "bytes": 10, "fixed": 200}, {"latents": 400, "bytes": 40}]
        self.assertEqual(210, memory.charge(pts, 1, 50), "below the first point: the first")
        self.assertEqual(200 // 2 + 2 * 25, memory.charge(pts, 2, 250), "the fixed part read between points too")
        self.assertEqual(80, memory.charge(pts, 2, 400))
        self.assertEqual(50, memory.charge(pts, 1, 500), "past the last: the last two's slope, fixed not below 0")

    def test_the_charges_foley4j_gives(self):
        """The table WorkingMemoryTest checks foley4j's WorkingMemory.bytesFor against: the same
        charges to the byte (the same doubles, a sum beyond Java's long saturating)."""
        here = os.path.dirname(os.path.abspath(__file__))
        table = os.path.join(here, "..", "..", "..", "foley-core", "src", "test", "resources", "io", "foley4j",
                             "bundle", "working-memory-charges.json")
        with open(table) as f:
            cases = json.load(f)["cases"]
        self.assertGreaterEqual(len(cases), 300)
        for c in cases:
            self.assertEqual(c["charge"], memory.charge(c["points"], c["rows"], c["latents"], c["batch"], c["fixed"]),
                             (c["why"], c))

    @unittest.skipUnless(os.path.isfile(os.environ.get("FOLEY_BENCH_JAR", "")),
                         "FOLEY_BENCH_JAR (foley-bench/target/foley-bench.jar) not given")
    def test_the_denoiser_measured_with_foley4js_own_runtime(self):
        from foley_export import export, tiny
        d = tmpdir(self)
        config, models = tiny.create("hvf", 0, os.path.join(d, "ck"))
        m = export.export_bundle("hvf", models, config, os.path.join(d, "b"), working_memory=None)
        path = os.path.join(d, "b", m["stages"]["denoiser"]["file"])
        jar = os.environ["FOLEY_BENCH_JAR"]
        got = memory.measure_with_jar(jar, path, m, "denoiser", memory.stage_dims(m, "denoiser", 8, 400),
                                      memory.stage_dims(m, "denoiser", 1, 25))
        self.assertGreaterEqual(got["bytes"], 0)
        self.assertEqual(got["bytes"] % (1 << 20), 0, "whole MiB, as the bench prints them")
        e, details = memory.stage_entry(path, m, "denoiser", "measured", jar=jar)
        self.assertEqual([100, 400, 750], [p["latents"] for p in e["points"]])
        self.assertIn("calibration_measured_bytes_2x", details)
        with self.assertRaises(ValueError):
            memory.measure_with_jar(jar, path, m, "vae_decoder", {}, {})

    def test_a_tiny_export_records_every_stage_and_foley4j_reads_it(self):
        from foley_export import export, tiny
        d = tmpdir(self)
        config, models = tiny.create("hvf", 0, os.path.join(d, "ck"))
        m = export.export_bundle("hvf", models, config, os.path.join(d, "b"), working_memory="measured")
        with open(os.path.join(d, "b", "foley-bundle.json")) as f:
            self.assertEqual(m, json.load(f))
        for st, e in m["stages"].items():
            w = e["workingMemory"]
            self.assertEqual(1, w["batch"])
            self.assertEqual("measured", w["method"])
            if st in ("denoiser", "vae_decoder"):
                self.assertEqual([100, 400, 750], [p["latents"] for p in w["points"]], st)
                b = [p["bytes"] for p in w["points"]]
                self.assertTrue(0 < b[0] < b[1] < b[2], (st, b))
            else:
                self.assertEqual(1, len(w["points"]))
                self.assertNotIn("latents", w["points"][0])
                self.assertGreater(w["points"][0]["bytes"], 0)
        g = export.export_bundle("hvf", models, config, os.path.join(d, "g"), working_memory="graph")
        den = g["stages"]["denoiser"]["workingMemory"]
        self.assertEqual("graph", den["method"])
        peak = memory.working_memory(os.path.join(d, "g", "denoiser.onnx"),
                                     memory.stage_dims(g, "denoiser", 1, 400))["bytes"]
        self.assertEqual(int(np.ceil(peak * memory.GRAPH_FACTOR)), den["points"][1]["bytes"])
        n = export.export_bundle("hvf", models, config, os.path.join(d, "n"), working_memory=None)
        self.assertNotIn("workingMemory", n["stages"]["denoiser"])


if __name__ == "__main__":
    unittest.main()
