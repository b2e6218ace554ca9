"""The command line's answer to input it cannot use: one line on stderr and exit status 2, the
files it would write untouched (not a traceback, not a file written with impossible values)."""
import contextlib
import gzip
import io
import json
import os
import tempfile
import unittest

from foley_export import __main__ as cli


def run(*argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            cli.main(list(argv))
        except SystemExit as e:
            return e.code, err.getvalue()
    return 0, err.getvalue()


class OpenClipTokenizerArgumentsTest(unittest.TestCase):
    def test_each_unusable_argument_is_refused_in_one_line(self):
        with tempfile.TemporaryDirectory() as d:
            not_gzip = os.path.join(d, "vocab.txt.gz")
            with open(not_gzip, "w") as f:
                f.write("plain text")
            cases = [
                (["--out", os.path.join(d, "t.json"), "--context", "0"], "--context must be at least 2"),
                (["--out", os.path.join(d, "t.json"), "--context", "-3"], "--context must be at least 2"),
                (["--out", os.path.join(d, "no-such-dir", "t.json")], "does not exist"),
                (["--out", d], "is a directory"),
                (["--out", os.path.join(d, "t.json"), "--bpe", os.path.join(d, "missing.gz")], "is not a file"),
                (["--out", os.path.join(d, "t.json"), "--bpe", not_gzip], "cannot read the vocabulary"),
            ]
            for args, says in cases:
                code, err = run("openclip-tokenizer", *args)
                self.assertEqual(2, code, (args, err))
                self.assertIn(says, err, args)
                self.assertNotIn("Traceback", err)
                self.assertEqual(1, len(err.strip().splitlines()), err)
            self.assertEqual(["vocab.txt.gz"], os.listdir(d), "nothing written")


class MemoryArgumentsTest(unittest.TestCase):
    def test_stages_are_checked_before_anything_is_measured(self):
        with tempfile.TemporaryDirectory() as d:
            manifest = os.path.join(d, "foley-bundle.json")
            doc = {"stages": {"denoiser": {"file": "denoiser.onnx"}, "vae_decoder": {"file": "vae_decoder.onnx"}}}
            with open(manifest, "w") as f:
                json.dump(doc, f)
            for stages, says in (("nosuchstage", "no stage nosuchstage in %s (it has denoiser, vae_decoder)" % manifest),
                                 ("denoiser,nosuchstage", "no stage nosuchstage"), ("", "found ''"), (",", "found ','")):
                code, err = run("memory", "--bundle", d, "--stages", stages)
                self.assertEqual(2, code, (stages, err))
                self.assertIn(says, err)
                self.assertNotIn("Traceback", err)
            with open(manifest) as f:
                self.assertEqual(doc, json.load(f), "the manifest as it was")
            code, err = run("memory", "--bundle", os.path.join(d, "nope"))
            self.assertEqual(2, code)
            self.assertIn("has no foley-bundle.json", err)


@unittest.skipUnless(__import__("importlib").util.find_spec("ftfy") is not None, "ftfy not installed")
class TokenizerFileModeTest(unittest.TestCase):
    def test_the_file_is_written_as_open_would_write_it(self):
        from foley_export import openclip_tokenizer as oc
        with tempfile.TemporaryDirectory() as d:
            bpe = os.path.join(d, "v.txt.gz")
            with gzip.open(bpe, "wt", encoding="utf-8") as f:
                f.write("header\n" + "\n".join("%s %s" % (a, b) for a, b in [("t", "h"), ("th", "e</w>")]) + "\n")
            old = os.umask(0o022)
            try:
                path = oc.write(os.path.join(d, "tokenizer.json"), bpe_path=bpe)
            except ValueError as e:  # a vocabulary this small may not satisfy the tool's own checks
                self.skipTest(str(e))
            finally:
                os.umask(old)
            self.assertEqual(0o644, os.stat(path).st_mode & 0o777)


if __name__ == "__main__":
    unittest.main()
