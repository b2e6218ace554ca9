"""Command line: .venv/bin/python -m foley_export {tiny,export,reference,quantize,memory,hvf-check,hvf-weights,mmaudio-check,openclip-tokenizer} ..."""

import argparse
import json
import os
import sys


def _tiny(args):
    from . import tiny
    config, _ = tiny.create(args.kind, args.seed, args.out, args.encoders)
    print("wrote %s (%s, seed %d)" % (args.out, config["name"], args.seed))


class UsageError(Exception):
    """Input the user gave that cannot be used: printed as one line, exit status 2 (as argparse's)."""


def _output_file(path, what):
    """``path`` as a file to write: its folder must exist and it must not be a folder itself."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError("%s %s is a directory: give a file name" % (what, path))
    if not os.path.isdir(folder):
        raise UsageError("%s %s: the directory %s does not exist" % (what, path, folder))
    return path


def _openclip_tokenizer(args):
    import gzip
    import zlib
    from . import openclip_tokenizer
    if args.context < 2:
        raise UsageError("--context must be at least 2 (a start and an end id), found %d" % args.context)
    _output_file(args.out, "--out")
    if args.bpe is not None and not os.path.isfile(args.bpe):
        raise UsageError("--bpe %s is not a file: give open_clip's bpe_simple_vocab_16e6.txt.gz" % args.bpe)
    try:
        openclip_tokenizer.write(args.out, args.bpe, args.context)
    except (gzip.BadGzipFile, EOFError, zlib.error, UnicodeDecodeError, ValueError) as e:
        raise UsageError("cannot read the vocabulary %s (%s): give open_clip's bpe_simple_vocab_16e6.txt.gz"
                         % (args.bpe or "of the installed open_clip", e))
    print("wrote %s (open_clip's SimpleTokenizer, %d ids per text)" % (args.out, args.context))


def _load(args):
    if os.path.exists(os.path.join(args.checkpoint, "config.json")) and not args.hvf_repo:
        from . import tiny
        config, models = tiny.load(args.checkpoint)
        if config["kind"] != args.kind:
            sys.exit("checkpoint %s is a %s model set, not %s" % (args.checkpoint, config["kind"], args.kind))
        return config, models
    if args.kind != "hvf" or not args.hvf_repo:
        sys.exit("%s has no tiny config.json; for real HunyuanVideo-Foley weights pass --hvf-repo "
                 "(and --hvf-config, --tokenizer)" % args.checkpoint)
    from . import hvf_real
    return hvf_real.load(args.hvf_repo, args.checkpoint, args.hvf_config, args.hvf_model_size)


def _stage_dtype(text):
    stage, sep, dtype = text.partition("=")
    if not sep:
        sys.exit("--dtype wants STAGE=TYPE (e.g. denoiser=bfloat16), got %r" % text)
    return stage, dtype


def _export(args):
    from .export import export_bundle
    config, models = _load(args)
    if args.hvf_repo and not args.tokenizer:
        sys.exit("real HunyuanVideo-Foley needs --tokenizer (CLAP's tokenizer.json)")
    m = export_bundle(args.kind, models, config, args.out, external_data=args.external_data, opset=args.opset,
                      parity_out=args.parity_out, tokenizer_json=args.tokenizer,
                      stream_threshold=int(args.stream_threshold * (1 << 30)),
                      dtypes=dict(_stage_dtype(x) for x in args.dtype),
                      working_memory=None if args.working_memory == "none" else args.working_memory)
    print("wrote bundle %s (%s, formatVersion %d%s)" % (args.out, m["name"], m["formatVersion"],
                                                         ", external data" if args.external_data else ""))
    if args.parity_out:
        print("wrote parity data %s" % args.parity_out)


def _reference(args):
    from . import reference
    result = reference.run_cli(args)
    print(json.dumps(result["counts"]))


def _hvf_weights(args):
    from . import hvf_weights
    summary = hvf_weights.write(args.hvf_repo, args.out, args.hf_home, args.size, args.depth, args.seed)
    print(json.dumps(summary))


def _quantize(args):
    from . import quantize
    stages = tuple(s for s in args.stages.split(",") if s)
    before = quantize.bytes_of(args.bundle)
    m, rewritten = quantize.quantize_bundle(args.bundle, args.out, stages=stages, mode=args.mode,
                                            per_channel=args.per_channel)
    after = quantize.bytes_of(args.out)
    print("wrote bundle %s (%s): %s; %.1f MB -> %.1f MB (%.2fx)" % (
        args.out, m["name"], ", ".join("%s %d nodes" % kv for kv in sorted(rewritten.items())),
        before / 1e6, after / 1e6, after / before))


def _mmaudio_check(args):
    from . import mmaudio_check
    report = mmaudio_check.run(args)
    print(json.dumps({k: report[k] for k in ("seconds", "peak_rss_mib")}))


def _memory(args):
    from . import memory
    if not os.path.isfile(os.path.join(args.bundle, "foley-bundle.json")):
        raise UsageError("--bundle %s is not a bundle directory: it has no foley-bundle.json" % args.bundle)
    stages = None
    if args.stages is not None:
        stages = [s.strip() for s in args.stages.split(",") if s.strip()]
        if not stages:
            raise UsageError("--stages must name one or more stages of the bundle, found %r" % args.stages)

    def log(st, entry, details):
        print(json.dumps({"stage": st, "workingMemory": entry, "details": details}))
    try:
        memory.annotate(args.bundle, method=args.method, stages=stages, log=log, every_point=args.every_point,
                        jar=args.foley_jar)
    except memory.UnknownStage as e:
        raise UsageError("--stages: %s" % e)
    print("wrote the workingMemory of %s into %s" % (", ".join(stages) if stages else "every stage",
                                                     os.path.join(args.bundle, "foley-bundle.json")))


def _hvf_check(args):
    from . import hvf_check
    sys.exit(hvf_check.run_check(args))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m foley_export")
    sub = p.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("tiny", help="write a tiny random stand-in model set (config.json + state.pt)")
    t.add_argument("--kind", choices=["hvf", "mmaudio"], required=True)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--encoders", choices=["tiny", "transformers"], default="tiny",
                   help="hvf only: 'transformers' builds SigLIP2 vision and CLAP text from the real transformers "
                        "classes at their real widths, 1 layer each, random weights (no download)")
    t.add_argument("--out", required=True)
    t.set_defaults(func=_tiny)

    e = sub.add_parser("export", help="export a model set to a foley4j bundle (format v2)")
    e.add_argument("--kind", choices=["hvf", "mmaudio"], required=True)
    e.add_argument("--checkpoint", required=True,
                   help="tiny checkpoint directory, or HVF's weights directory with --hvf-repo")
    e.add_argument("--out", required=True)
    e.add_argument("--external-data", action="store_true", help="weights in one <stage>.onnx.data per stage")
    e.add_argument("--opset", type=int, default=17)
    e.add_argument("--stream-threshold", type=float, default=1.0, metavar="GIB",
                   help="with --external-data: stages with more weights than this (GiB, default 1) are exported "
                        "without embedded weights, which are then streamed to <stage>.onnx.data")
    e.add_argument("--dtype", action="append", default=[], metavar="STAGE=TYPE",
                   help="STAGE (visual_encoder, sync_encoder, text_encoder, denoiser, vae_decoder) as TYPE: "
                        "float16 (computed and stored in float16) or bfloat16 (weights stored in bfloat16, "
                        "parameters rounded to it, computed in float32); inputs/outputs stay float32; repeatable")
    e.add_argument("--working-memory", choices=["measured", "graph", "none"], default="measured",
                   help="each stage's workingMemory in the manifest: measured (default; the graph's live-tensor "
                        "peaks scaled by one ONNX Runtime CPU call at the trained segment), graph (scaled by a "
                        "fixed factor, nothing run) or none")
    e.add_argument("--parity-out", help="write per-stage inputs/outputs (npz) for 'foley bundle check'")
    e.add_argument("--hvf-repo", help="a HunyuanVideo-Foley checkout (real weights)")
    e.add_argument("--hvf-config", default="configs/hunyuanvideo-foley-xxl.yaml",
                   help="HVF config yaml (relative to --hvf-repo)")
    e.add_argument("--hvf-model-size", default="xxl", help="xl or xxl (HVF's load_model model_size)")
    e.add_argument("--tokenizer", help="tokenizer.json to copy into the bundle (CLAP's, for real HVF)")
    e.set_defaults(func=_export)

    r = sub.add_parser("reference", help="run the model's own inference semantics in PyTorch")
    r.add_argument("--kind", choices=["hvf", "mmaudio"], required=True)
    r.add_argument("--checkpoint", required=True, help="tiny checkpoint directory")
    r.add_argument("--prompt", required=True)
    r.add_argument("--negative", default=None,
                   help="negative prompt (HVF default 'noisy, harsh'; MMAudio: none = learned empty text)")
    r.add_argument("--cfg", type=float, required=True)
    r.add_argument("--steps", type=int, required=True)
    r.add_argument("--frames", help="uint8 [N,H,W,3] RGB frames (.npy)")
    r.add_argument("--pts", help="float64 [N] presentation times in seconds (.npy)")
    r.add_argument("--video", help="a video file, decoded with the ffmpeg CLI")
    r.add_argument("--noise", required=True,
                   help="float32 [C,L] initial noise (.npy); with --segments a comma list or a pattern with {k}")
    r.add_argument("--duration", type=float, default=None,
                   help="clip duration D in seconds (MMAudio: the requested duration, default 8; segments: "
                        "default last pts + one frame)")
    r.add_argument("--segments", action="store_true", help="foley4j's segment plan (long clips)")
    r.add_argument("--out", required=True, help="expected.npz (a .json sidecar is written beside it)")
    r.set_defaults(func=_reference)

    w = sub.add_parser("hvf-weights", help="random weights in HunyuanVideo-Foley's published layout (to run the "
                                           "export path a user takes where the real weights cannot be had)")
    w.add_argument("--hvf-repo", required=True, help="a HunyuanVideo-Foley checkout")
    w.add_argument("--out", required=True, help="the weights directory (HVF's MODEL_PATH)")
    w.add_argument("--hf-home", required=True, help="the Hugging Face cache to write SigLIP2 and CLAP into (HF_HOME)")
    w.add_argument("--size", choices=["xl", "xxl"], default="xl")
    w.add_argument("--depth", nargs=2, type=int, metavar=("TRIPLE", "SINGLE"),
                   help="fewer MMDiT blocks (also writes OUT/config.yaml); default: the config's")
    w.add_argument("--seed", type=int, default=0)
    w.set_defaults(func=_hvf_weights)

    q = sub.add_parser("quantize", help="write an INT8 variant of a bundle (onnxruntime.quantization)")
    q.add_argument("--bundle", required=True, help="a bundle directory")
    q.add_argument("--out", required=True, help="the new bundle directory (absent or empty)")
    q.add_argument("--mode", choices=["dynamic", "weight-only"], default="dynamic",
                   help="dynamic: int8 weights and run-time int8 activations (MatMulInteger); weight-only: int8 "
                        "weights dequantised to float32 in the graph")
    q.add_argument("--stages", default="visual_encoder,sync_encoder,text_encoder,denoiser",
                   help="comma-separated stages to quantise (default: the encoders and the denoiser)")
    q.add_argument("--per-channel", action="store_true", help="one scale per output channel")
    q.set_defaults(func=_quantize)

    wm = sub.add_parser("memory", help="write each stage's workingMemory (the memory one call works in) into a "
                                       "bundle's manifest: from the ONNX graph, calibrated by one ONNX Runtime call")
    wm.add_argument("--bundle", required=True, help="a bundle directory (its foley-bundle.json is rewritten)")
    wm.add_argument("--method", choices=["measured", "graph"], default="measured")
    wm.add_argument("--stages", default=None, help="comma-separated stages (default: all five)")
    wm.add_argument("--every-point", action="store_true",
                    help="measured: measure the denoiser's and the VAE decoder's every point (at batch b and 2b) "
                         "instead of scaling the graph's curve by the trained segment's call")
    wm.add_argument("--foley-jar", default=None,
                    help="measured: measure the denoiser with foley4j's own ONNX Runtime through this foley-bench jar "
                         "(its 'bench denoiser') instead of this Python's")
    wm.set_defaults(func=_memory)

    ot = sub.add_parser("openclip-tokenizer", help="write open_clip's text tokenizer (MMAudio's) as a tokenizer.json "
                                                   "that gives foley4j the same ids")
    ot.add_argument("--out", required=True, help="the file to write (a bundle's tokenizer.json)")
    ot.add_argument("--bpe", default=None, help="a bpe_simple_vocab_16e6.txt.gz (default: the installed open_clip's)")
    ot.add_argument("--context", type=int, default=77, help="ids per text (open_clip's context length)")
    ot.set_defaults(func=_openclip_tokenizer)

    m = sub.add_parser("mmaudio-check", help="MMAudio's real classes (random weights) exported, run by foley4j "
                                             "and compared with MMAudio's own generate() (needs a checkout)")
    from .mmaudio_check import add_arguments
    add_arguments(m)
    m.set_defaults(func=_mmaudio_check)

    c = sub.add_parser("hvf-check", help="HunyuanVideo-Foley's own pipeline (random weights) against foley4j on "
                                         "generated clips")
    c.add_argument("--hvf-repo", required=True, help="a HunyuanVideo-Foley checkout (its code only; no weights)")
    c.add_argument("--out", required=True, help="a directory for the bundle, clips, audio and report.json")
    c.add_argument("--size", choices=["xl", "xxl"], default="xxl", help="the config whose widths are used")
    c.add_argument("--depth", nargs="+", metavar="N", default=None,
                   help="MMDiT blocks: TRIPLE SINGLE (default 2 2), or 'full' for the config's (and the encoders' "
                        "real 12 layers)")
    c.add_argument("--encoder-layers", type=int, default=None,
                   help="layers of SigLIP2's vision tower, CLAP's text model and Synchformer's ViT (default 1, or "
                        "12 with --depth full)")
    c.add_argument("--steps", type=int, default=4)
    c.add_argument("--cfg", type=float, default=4.5)
    c.add_argument("--negative", default="noisy, harsh")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--clips", nargs="+", default=None, metavar="CLIP",
                   help="which generated clips (default all): 3s-25fps 8s-29.97fps 11.5s-25fps portrait-4s-25fps")
    c.add_argument("--opset", type=int, default=17)
    c.add_argument("--goal", type=float, default=1e-3, help="exit 1 when a clip's audio rel. L2 is above this")
    c.add_argument("--build-only", action="store_true",
                   help="build the model set on the meta device (no weights in memory), print its parameter "
                        "counts and stop (e.g. with --depth full)")
    c.add_argument("--foley-jar", help="the foley CLI jar (default: foley-cli/target/foley.jar of this checkout)")
    c.set_defaults(func=_hvf_check)

    args = p.parse_args(argv)
    try:
        args.func(args)
    except UsageError as e:
        p.exit(2, "%s %s: error: %s\n" % (p.prog, args.cmd, e))


if __name__ == "__main__":
    main()
