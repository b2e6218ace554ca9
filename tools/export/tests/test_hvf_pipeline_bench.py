"""hvf_pipeline_bench's parts that do not need HunyuanVideo-Foley's code: its arguments, the
measurement of a child process (wall, CPU, peak resident memory, load average), the parsing of
foley4j's timings and of a child's JSON line, the table, and the bfloat16-representable draw that
lets a float32 export and HVF's bfloat16 build hold the same weights. The benchmark itself runs
outside CI (docs/export.md, "The whole pipeline at full depth")."""

import json
import os
import sys
import time
import unittest
from unittest import mock

import torch
import torch.nn as nn

from _util import tmpdir
from foley_export import hvf_arch_check, hvf_pipeline_bench as bench


class ArgumentsTest(unittest.TestCase):
    def parse(self, *argv):
        return bench.parse_args(["--hvf-repo", "H", "--out", "O"] + list(argv))

    def test_defaults_are_full_depth_xl_one_clip_two_steps_both_torch_rows(self):
        a = self.parse()
        self.assertIsNone(a.depth)  # the config's depth
        self.assertEqual((a.size, a.clip, a.steps), ("xl", "3s-25fps", 2))
        self.assertEqual(a.torch_rows, ["bfloat16", "float32"])
        self.assertIsNone(a.child)

    def test_a_reduced_depth_and_the_arguments_passed_to_the_children(self):
        a = self.parse("--depth", "4", "4", "--encoder-layers", "2", "--seed", "7", "--torch", "float32")
        self.assertEqual(a.depth, (4, 4))
        self.assertEqual(a.torch_rows, ["float32"])
        args = bench.model_args(a)
        self.assertEqual(args[args.index("--depth") + 1:args.index("--depth") + 3], ["4", "4"])
        self.assertEqual(args[args.index("--encoder-layers") + 1], "2")
        self.assertEqual(args[args.index("--seed") + 1], "7")
        # a child parses what the parent passes and builds the same model set
        child = bench.parse_args(args + ["--child", "export"])
        self.assertEqual((child.depth, child.encoder_layers, child.seed, child.size), ((4, 4), 2, 7, "xl"))
        full = bench.model_args(self.parse())
        self.assertEqual(full[full.index("--depth") + 1], "full")
        self.assertNotIn("--encoder-layers", full)

    def test_bad_arguments_are_refused_with_a_message(self):
        for argv, says in ((["--steps", "0"], "--steps"), (["--encoder-layers", "0"], "--encoder-layers"),
                           (["--clip", "nope"], "--clip"), (["--torch", "float16"], "--torch"),
                           (["--child", "torch"], "--dtype and --video")):
            with self.subTest(argv=argv):
                err = _stderr_of_exit(self, lambda: self.parse(*argv))
                self.assertIn(says, err)
        with self.assertRaises(SystemExit) as c:  # hvf_check.parse_depth's message
            self.parse("--depth", "3")
        self.assertIn("--depth wants two positive block counts", str(c.exception.code))


    def test_reuse_bundle_without_a_bundle_is_refused_before_any_work(self):
        d = tmpdir(self)
        jar = os.path.join(d, "foley.jar")
        open(jar, "w").close()
        out = os.path.join(d, "out")
        a = bench.parse_args(["--hvf-repo", "H", "--out", out, "--foley-jar", jar, "--reuse-bundle"])
        with self.assertRaises(SystemExit) as c:
            bench.run(a)
        self.assertIn("--reuse-bundle: no bundle at %s" % os.path.join(out, "bundle"), str(c.exception.code))
        self.assertEqual(os.listdir(out), [])  # no clip made, nothing exported
        # with the exporter's manifest there, it goes on to make the clip
        os.makedirs(os.path.join(out, "bundle"))
        from foley_export.export import MANIFEST
        with open(os.path.join(out, "bundle", MANIFEST), "w") as f:
            json.dump({"stages": {"denoiser": {"weights": "bfloat16"}}}, f)
        # a bundle whose denoiser weights are stored otherwise than asked is refused, before the clip
        with self.assertRaises(SystemExit) as c:
            bench.run(a)
        self.assertIn("stores the denoiser's weights in bfloat16, not float32", str(c.exception.code))
        a = bench.parse_args(["--hvf-repo", "H", "--out", out, "--foley-jar", jar, "--reuse-bundle",
                              "--weights", "bfloat16"])
        with mock.patch.object(bench.hvf_check, "make_clip", side_effect=RuntimeError("clip made")), \
                self.assertRaisesRegex(RuntimeError, "clip made"):
            bench.run(a)
        a = bench.parse_args(["--hvf-repo", "H", "--out", out, "--foley-jar", os.path.join(d, "none.jar")])
        with self.assertRaises(SystemExit) as c:
            bench.run(a)
        self.assertIn("no foley CLI jar", str(c.exception.code))


class VerifiedFilesTest(unittest.TestCase):
    def test_an_unmeasured_one_step_run_writes_the_record_before_the_measured_run(self):
        d = tmpdir(self)
        jar = os.path.join(d, "foley.jar")
        open(jar, "w").close()
        out = os.path.join(d, "out")
        os.makedirs(os.path.join(out, "bundle"))
        from foley_export.export import MANIFEST
        with open(os.path.join(out, "bundle", MANIFEST), "w") as f:
            json.dump({"stages": {"denoiser": {}}}, f)
        a = bench.parse_args(["--hvf-repo", "H", "--out", out, "--foley-jar", jar, "--reuse-bundle", "--steps", "3",
                              "--verified-files", os.path.join(d, "rec")])
        calls = []

        def fake(cmd, log, env=None, cwd=None):
            calls.append(cmd)
            if len(calls) == 2:
                raise RuntimeError("measured run")
            return {"rc": 0, "stdout": "", "wall_s": 1.0}

        with mock.patch.object(bench.hvf_check, "make_clip", side_effect=lambda p, *x: p), \
                mock.patch.object(bench, "measure", side_effect=fake), \
                mock.patch.object(bench, "_check"), self.assertRaisesRegex(RuntimeError, "measured run"):
            bench.run(a)
        first, second = calls
        for cmd in calls:
            self.assertEqual(os.path.join(d, "rec"), cmd[cmd.index("--verified-files") + 1])
        self.assertEqual("1", first[first.index("--steps") + 1], "the record's run: one step")
        self.assertEqual("3", second[second.index("--steps") + 1])


def _stderr_of_exit(test, fn):
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stderr(buf), test.assertRaises(SystemExit) as c:
        fn()
    test.assertEqual(c.exception.code, 2)
    return buf.getvalue()


class MeasureTest(unittest.TestCase):
    def test_a_child_that_holds_memory_and_burns_cpu(self):
        d = tmpdir(self)
        code = ("import time, json\n"
                "b = bytearray(300 << 20)\n"            # 300 MiB, touched
                "for i in range(0, len(b), 4096): b[i] = 1\n"
                "t = time.process_time()\n"
                "while time.process_time() - t < 0.3: pass\n"
                "time.sleep(1.5)\n"
                "print('noise'); print(json.dumps({'x': 1}))\n")
        m = bench.measure([sys.executable, "-c", code], os.path.join(d, "log"))
        self.assertEqual(m["returncode"], 0)
        self.assertGreaterEqual(m["max_rss_mib"], 300)
        self.assertLess(m["max_rss_mib"], 2000)
        self.assertGreaterEqual(m["wall_s"], 1.5)
        self.assertGreaterEqual(m["cpu_s"], 0.25)  # the busy loop's CPU time is the child's
        self.assertAlmostEqual(m["cpu_s"], m["user_s"] + m["sys_s"])
        self.assertLessEqual(m["cpu_s"], m["wall_s"] * os.cpu_count() + 0.1)
        self.assertIsNotNone(m["vmhwm_mib"])  # sampled while it slept
        self.assertGreaterEqual(m["vmhwm_mib"], 300)
        self.assertGreaterEqual(m["load_max"], m["load_mean"])
        times = [t for t, _ in m["cpu_samples"]]
        self.assertGreaterEqual(len(times), 1)
        self.assertEqual(times, sorted(times))
        # the CPU time of its last second or so (asleep) is less than that of its whole life
        busy = bench.cpu_in_window(m["cpu_samples"], m["wall_s"], m["cpu_s"], m["wall_s"] - times[0])
        self.assertIsNotNone(busy)
        self.assertLessEqual(busy, m["cpu_s"] + 1e-9)
        self.assertEqual(bench.last_json(m["stdout"]), {"x": 1})
        with open(os.path.join(d, "log")) as f:
            self.assertIn("noise", f.read())

    def test_a_failing_child_reports_its_exit_status_and_stderr_goes_to_the_log(self):
        d = tmpdir(self)
        log = os.path.join(d, "log")
        m = bench.measure([sys.executable, "-c", "import sys; sys.stderr.write('bad input'); sys.exit(3)"], log)
        self.assertEqual(m["returncode"], 3)
        with open(log) as f:
            self.assertIn("bad input", f.read())
        with self.assertRaises(SystemExit) as c:
            bench._check(m, "the export", log)
        self.assertIn("exit 3", str(c.exception.code))
        self.assertIn(log, str(c.exception.code))


class ParsingTest(unittest.TestCase):
    def test_stage_timings_of_foley_generate(self):
        out = ("wrote x.wav: 144000 samples, 3.000 s at 48000 Hz\ndecoder: ffmpeg\n"
               "StageTimings[decode=120.5ms, text=800.0ms, visual=30000.0ms, sync=25000.0ms, denoise=90000.0ms, "
               "vae=7000.0ms, total=153000.5ms]\n")
        t = bench.stage_timings(out)
        self.assertAlmostEqual(t["total"], 153.0005)
        self.assertAlmostEqual(t["decode"], 0.1205)
        self.assertEqual(len(t), 7)
        self.assertEqual(bench.stage_timings("no timings here"), {})

    def test_last_json_takes_the_last_object_line(self):
        self.assertEqual(bench.last_json('{"a": 1}\nlog line\n{"b": 2}\n'), {"b": 2})
        with self.assertRaises(ValueError):
            bench.last_json("nothing\n")

    def test_table_ratios_are_to_each_base_row(self):
        def row(side, wall, infer, cpu, rss):
            return {"side": side, "wall_s": wall, "cpu_s": wall * 2, "peak_rss_mib": rss, "infer_s": infer,
                    "infer_cpu_s": cpu, "load_mean": 2.0, "load_max": 3.0}
        rows = [row("foley4j float32", 80.0, 60.0, None, 12000.0), row("torch bfloat16", 100.0, 50.0, 40.0, 8000.0),
                row("torch float32", 160.0, 120.0, 90.0, 13000.0)]
        table = bench.format_table(rows, ["torch bfloat16", "torch float32"])
        foley = [l for l in table.splitlines() if l.startswith("| foley4j")][0]
        cells = [c.strip() for c in foley.strip("|").split("|")]
        # wall, inference, inference CPU (unknown here) and RSS against bfloat16, then against float32
        self.assertEqual(cells[-8:], ["0.800", "1.200", "-", "1.500", "0.500", "0.500", "-", "0.923"])
        torch32 = [c.strip() for c in table.splitlines()[-1].strip("|").split("|")]
        self.assertEqual(torch32[-8:-4], ["1.600", "2.400", "2.250", "1.625"])
        self.assertEqual(len(table.splitlines()), 5)


class CpuTimeTest(unittest.TestCase):
    def test_cpu_in_the_last_seconds_interpolates_between_samples(self):
        samples = [(0.0, 0.0), (1.0, 1.0), (2.0, 3.0), (3.0, 3.5)]
        self.assertAlmostEqual(bench.cpu_in_window(samples, 4.0, 4.5, 2.5), 4.5 - 2.0)  # t = 1.5: 2.0
        self.assertAlmostEqual(bench.cpu_in_window(samples, 4.0, 4.5, 2.0), 4.5 - 3.0)  # a sample exactly
        self.assertAlmostEqual(bench.cpu_in_window(samples, 4.0, 4.5, 0.5), 0.5)        # after the last sample
        self.assertAlmostEqual(bench.cpu_in_window(samples, 4.0, 4.5, 4.0), 4.5)        # the whole life
        self.assertIsNone(bench.cpu_in_window(samples, 4.0, 4.5, 4.5))                  # before the first sample
        self.assertIsNone(bench.cpu_in_window([], 4.0, 4.5, 1.0))

    def test_phase_clock_gives_each_mark_to_the_next(self):
        ticks = iter([10.0, 12.5, 13.0])
        clock = bench.PhaseClock(cpu=lambda: next(ticks))
        clock("features")
        time.sleep(0.05)
        clock("denoise")
        clock("end")
        phases = clock.phases()
        self.assertEqual(list(phases), ["features", "denoise"])
        self.assertGreaterEqual(phases["features"][0], 0.05)
        self.assertEqual([v[1] for v in phases.values()], [2.5, 0.5])


class BfloatDrawTest(unittest.TestCase):
    def test_a_float32_draw_rounded_to_bfloat16_holds_the_bfloat16_builds_values(self):
        def net(dtype):
            torch.manual_seed(0)
            return nn.Sequential(nn.Linear(33, 70), nn.Conv1d(70, 20, 3)).to(dtype)

        f32 = hvf_arch_check.redraw_parameters(net(torch.float32), seed=5, round_to=torch.bfloat16)
        bf16 = hvf_arch_check.redraw_parameters(net(torch.bfloat16), seed=5)
        plain = hvf_arch_check.redraw_parameters(net(torch.float32), seed=5)
        for a, b, c in zip(f32.parameters(), bf16.parameters(), plain.parameters()):
            self.assertEqual(a.dtype, torch.float32)
            self.assertTrue(torch.equal(a, b.float()))          # the same values in both dtypes
            self.assertTrue(torch.equal(a, c.to(torch.bfloat16).float()))  # the plain draw, rounded
            self.assertFalse(torch.equal(a, c))                  # which the plain draw is not
        other = hvf_arch_check.redraw_parameters(net(torch.float32), seed=6, round_to=torch.bfloat16)
        self.assertFalse(torch.equal(next(f32.parameters()), next(other.parameters())))


if __name__ == "__main__":
    unittest.main()
