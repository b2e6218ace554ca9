import unittest

from foley_export import gemm_bench


class GemmBenchTest(unittest.TestCase):
    def test_every_runtime_and_precision_gets_a_row_and_the_ratio_is_of_the_printed_times(self):
        results = gemm_bench.measure([("small", 128, 256, 256)], threads=1, runs=2)
        self.assertEqual(1, len(results))
        rows = results[0]["rows"]
        self.assertEqual(["onnxruntime float32", "onnxruntime float16", "onnxruntime bfloat16", "torch float32",
                          "torch bfloat16"], list(rows))
        for name in ("onnxruntime float32", "torch float32", "torch bfloat16"):
            self.assertIsInstance(rows[name], float, name)
            self.assertGreater(rows[name], 0, name)
        self.assertIn(rows["onnxruntime bfloat16"], (gemm_bench.NO_KERNEL, gemm_bench.NOT_TIMED))
        t = gemm_bench.table(results).splitlines()
        self.assertEqual(2 + 5, len(t))
        base = [l for l in t if "| onnxruntime float32 |" in l][0].split("|")
        self.assertEqual("1.00", base[5].strip(), "ORT float32 over itself")
        torch_row = [l for l in t if "| torch float32 |" in l][0].split("|")
        ms, ratio = float(torch_row[3]), float(torch_row[5])
        self.assertAlmostEqual(float(base[3]) / ms, ratio, delta=0.006)

    def test_a_bad_shape_is_refused_by_the_command(self):
        with self.assertRaises(SystemExit) as e:
            gemm_bench.main(["--shape", "1,2"])
        self.assertEqual(2, e.exception.code)
        with self.assertRaises(SystemExit):
            gemm_bench.main(["--shape", "a,b,c"])


if __name__ == "__main__":
    unittest.main()
