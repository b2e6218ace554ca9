"""HVF's whole pipeline, foley4j against HVF's own PyTorch inference: time, CPU time and memory.

    PYTHONPATH=tools/export PYTHON -m foley_export.hvf_pipeline_bench --hvf-repo HVF_CHECKOUT --out DIR \\
        [--size xl] [--depth full | --depth T S] [--encoder-layers N] [--clip 3s-25fps] [--steps 2] \\
        [--weights float32|bfloat16] [--torch bfloat16 float32] [--reuse-bundle] [--verified-files DIR]

One invocation, one clip, one step count. Every heavy part runs in a child process of its own, one
at a time (the full-depth XL model set does not fit twice in 24 GB), and each child's wall time,
CPU time (user + system) and peak resident set (``ru_maxrss`` from ``wait4``, cross-checked with
``VmHWM`` sampled from /proc) are recorded, with the load average while it ran:

1. **export**: ``hvf_check.build_hvf`` builds HVF's classes with random weights (the MMDiT drawn in
   place by ``hvf_arch_check.build_mmdit``: one copy, values bfloat16-representable; the encoders
   and the DAC at their real widths) and ``export_bundle`` writes the bundle, the denoiser's
   weights streamed to ``denoiser.onnx.data`` (in bfloat16 with ``--weights bfloat16``: computed
   in float32 from the same values, half the bytes; storage.py);
2. **foley4j**: ``java -jar foley.jar generate --bundle DIR/bundle ...`` (float WAV, CPU backend,
   no warm-up run); its ``StageTimings`` line gives the inference time without the bundle load.
   Opening the bundle hashes every file (SHA-256, about 5 s for 7 GB); with ``--verified-files``
   an unmeasured 1-step run first records them, and the measured run hashes none (as a node that
   has opened the bundle before);
3. **torch ROW** for each ``--torch`` row: the same classes rebuilt from the same seeds (the same
   weights), HVF's own ``load_model`` model dict, and HVF's own ``feature_process`` +
   ``denoise_process`` (DAC decode included) on the same clip, prompts, guidance, steps and
   foley4j's initial noise. ``bfloat16`` is what HVF's code does on a CPU: ``load_model`` builds
   the MMDiT in bfloat16 and ``denoise_process`` runs it under ``torch.autocast("cpu", bfloat16)``;
   Synchformer's ``torch.autocast("cuda", float16)`` is off on a CPU, so Synchformer, SigLIP2,
   CLAP and the DAC run in float32. ``float32`` is the same with the MMDiT in float32 (no
   autocast): the computation foley4j's float32 bundle does.

It then prints the table (process wall, CPU and peak RSS; inference wall and CPU; ratios to each
torch row), the relative L2 distance of foley4j's audio from each torch row's and each side's
phases (foley4j's ``StageTimings``; HVF's features, denoising steps and DAC decode, wall and
CPU), and writes ``DIR/bench.json`` (after each side). docs/export.md, "The whole pipeline at full depth", has the numbers.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time

from . import hvf_check

TORCH_ROWS = ("bfloat16", "float32")
DEFAULT_CLIP = "3s-25fps"
DEFAULT_STEPS = 2


# ---- arguments -----------------------------------------------------------------------------------

def parser():
    p = argparse.ArgumentParser(prog="python -m foley_export.hvf_pipeline_bench",
                                description="foley4j against HVF's own PyTorch pipeline: wall, CPU and peak RSS")
    p.add_argument("--hvf-repo", required=True, help="a HunyuanVideo-Foley checkout (its code only; no weights)")
    p.add_argument("--out", required=True, help="work directory (bundle, clip, audio, bench.json)")
    p.add_argument("--size", choices=sorted(hvf_check.SIZES), default="xl")
    p.add_argument("--depth", nargs="+", default=["full"], metavar="N",
                   help="MMDiT blocks: 'full' (the config's; default) or TRIPLE SINGLE")
    p.add_argument("--encoder-layers", type=int, default=None,
                   help="SigLIP2, CLAP text and Synchformer layers (default: 12 at full depth, else 1)")
    p.add_argument("--clip", default=DEFAULT_CLIP, choices=sorted(hvf_check.CLIPS))
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cfg", type=float, default=4.5)
    p.add_argument("--negative", default="noisy, harsh")
    p.add_argument("--torch", nargs="+", default=list(TORCH_ROWS), choices=TORCH_ROWS, dest="torch_rows",
                   help="PyTorch rows: bfloat16 (HVF's own CPU path) and/or float32")
    p.add_argument("--weights", choices=("float32", "bfloat16"), default="float32",
                   help="how the bundle stores the MMDiT's weights (computed in float32 either way)")
    p.add_argument("--foley-jar", help="foley CLI jar (default: foley-cli/target/foley.jar)")
    p.add_argument("--java", default="java")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--verified-files", metavar="DIR", default=None,
                   help="foley4j keeps its record of the bundle files it hashed in DIR (generate --verified-files): "
                        "an unmeasured open first writes it, and the measured run hashes none of the unchanged files")
    p.add_argument("--reuse-bundle", action="store_true",
                   help="use DIR/bundle from an earlier run with the same model arguments instead of exporting")
    p.add_argument("--child", choices=("export", "torch"), help=argparse.SUPPRESS)
    p.add_argument("--dtype", choices=TORCH_ROWS, help=argparse.SUPPRESS)
    p.add_argument("--video", help=argparse.SUPPRESS)
    return p


def parse_args(argv=None):
    """Parsed arguments, checked: ``depth`` becomes None (full) or (T, S)."""
    p = parser()
    a = p.parse_args(argv)
    a.depth = hvf_check.parse_depth(a.depth)
    if a.steps < 1:
        p.error("--steps must be at least 1, got %d" % a.steps)
    if a.encoder_layers is not None and a.encoder_layers < 1:
        p.error("--encoder-layers must be at least 1, got %d" % a.encoder_layers)
    if a.child == "torch" and (a.dtype is None or a.video is None):
        p.error("--child torch needs --dtype and --video")
    return a


def foley_side(weights):
    """The table's name of foley4j's row."""
    return "foley4j float32" if weights == "float32" else "foley4j float32, bf16 weights"


def model_args(a):
    """The arguments that decide the model set (passed on to the children)."""
    out = ["--hvf-repo", a.hvf_repo, "--out", a.out, "--size", a.size, "--seed", str(a.seed),
           "--depth"] + (["full"] if a.depth is None else [str(d) for d in a.depth]) + ["--weights", a.weights]
    if a.encoder_layers is not None:
        out += ["--encoder-layers", str(a.encoder_layers)]
    return out


# ---- measuring a child process -------------------------------------------------------------------

def _proc_cpu_s(pid):
    """User + system CPU seconds of a running process (/proc/PID/stat); None where unavailable."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))  # utime, stime


def cpu_in_window(samples, t_end, cpu_end, window):
    """CPU seconds a process spent in its last ``window`` seconds: ``cpu_end`` (its total at
    ``t_end``) less its CPU time at ``t_end - window``, interpolated between the (time, CPU)
    ``samples`` taken while it ran. None where no sample is at or before that time."""
    t0 = t_end - window
    before = [(t, c) for t, c in samples if t <= t0]
    after = [(t, c) for t, c in samples if t > t0]
    if not before:
        return None
    ta, ca = before[-1]
    tb, cb = after[0] if after else (t_end, cpu_end)
    at = ca if tb == ta else ca + (cb - ca) * (t0 - ta) / (tb - ta)
    return cpu_end - at


class PhaseClock:
    """Marks wall and CPU time (this process) at named points; ``phases()`` -> {name: (wall s,
    CPU s)} from each mark to the next."""

    def __init__(self, cpu=None):
        self.marks = []
        self._cpu = cpu or _cpu_s

    def __call__(self, name):
        self.marks.append((name, time.time(), self._cpu()))

    def phases(self):
        return {a[0]: (b[1] - a[1], b[2] - a[2]) for a, b in zip(self.marks, self.marks[1:])}


class LoadWatch:
    """Samples the 1-minute load average, a process's VmHWM and its CPU time while it runs."""

    def __init__(self, pid, interval=1.0):
        self.pid = pid
        self.loads = []
        self.cpu = []  # (monotonic time, CPU seconds)
        self.hwm_mib = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval):
        while True:
            self.sample()
            if self._stop.wait(interval):
                return

    def sample(self):
        self.loads.append(os.getloadavg()[0])
        hwm = hvf_check._status_mib(self.pid, "VmHWM")
        if hwm is not None:
            self.hwm_mib = max(self.hwm_mib or 0.0, hwm)
        cpu = _proc_cpu_s(self.pid)
        if cpu is not None:
            self.cpu.append((time.monotonic(), cpu))

    def stop(self):
        self._stop.set()
        self._thread.join()


def measure(cmd, log_path, env=None, cwd=None):
    """Runs ``cmd`` to completion; returns its measurements:

    ``wall_s``; ``user_s``, ``sys_s``, ``cpu_s`` and ``max_rss_mib`` from ``wait4``'s rusage (the
    child and the descendants it waited for); ``vmhwm_mib``, the child's VmHWM last sampled
    (about once a second; None if it ended before a sample); ``cpu_samples``, (seconds since the
    start, CPU seconds) about once a second, for ``cpu_in_window``; the load average at the
    start, at the end, and its mean and maximum over once-a-second samples; ``returncode``;
    ``stdout``.
    stdout and stderr go to ``log_path`` (stdout also returned)."""
    load_start = os.getloadavg()[0]
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, env=env, cwd=cwd, text=True)
        watch = LoadWatch(p.pid)
        chunks = []

        def pump():
            for line in p.stdout:
                chunks.append(line)
                log.write(line)
                log.flush()
        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        reader.join()  # stdout closes when the child ends
        # wait4 on the child itself: its rusage (Popen.wait would reap it without one)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        watch.stop()
        p.returncode = os.waitstatus_to_exitcode(status)
    loads = watch.loads or [load_start]
    return {"wall_s": wall, "user_s": ru.ru_utime, "sys_s": ru.ru_stime, "cpu_s": ru.ru_utime + ru.ru_stime,
            "max_rss_mib": ru.ru_maxrss / 1024.0, "vmhwm_mib": watch.hwm_mib,
            "load_start": load_start, "load_end": os.getloadavg()[0], "load_mean": sum(loads) / len(loads),
            "load_max": max(loads), "returncode": p.returncode, "stdout": "".join(chunks),
            "cpu_samples": [(t - t0, c) for t, c in watch.cpu]}


def last_json(text):
    """The last line of ``text`` that is a JSON object."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in: %s" % text[-2000:])


_TIMING = re.compile(r"([a-z_]+)=([0-9.]+)ms")


def stage_timings(stdout):
    """``foley generate``'s StageTimings line -> {phase: seconds}; {} if there is none."""
    for line in stdout.splitlines():
        if line.startswith("StageTimings["):
            return {k: float(v) / 1000.0 for k, v in _TIMING.findall(line)}
    return {}


# ---- the children --------------------------------------------------------------------------------

def _mib(key):
    return hvf_check._status_mib("self", key)


def _cpu_s():
    import resource
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _export_child(a):
    import torch
    from .export import export_bundle
    t0 = time.time()
    config, models, handles = hvf_check.build_hvf(a.hvf_repo, a.size, a.depth, a.seed, a.encoder_layers,
                                                  foley_dtype=torch.float32)
    build_s = time.time() - t0
    params = {k: sum(p.numel() for p in m.parameters()) for k, m in models.items()}
    print("built %s: %s; RSS %.0f MiB" % (config["name"], ", ".join("%s %.1f M" % (k, v / 1e6)
                                                                     for k, v in params.items()),
                                           _mib("VmRSS")), file=sys.stderr, flush=True)
    t0 = time.time()
    export_bundle("hvf", models, config, os.path.join(a.out, "bundle"), external_data=True, opset=a.opset,
                  dtypes={"denoiser": a.weights})
    print(json.dumps({"build_s": build_s, "export_s": time.time() - t0, "parameters": params,
                      "encoder_layers": handles.encoder_layers or hvf_check.SYNCHFORMER_BLOCKS, "name": config["name"],
                      "vmhwm_mib": _mib("VmHWM")}), flush=True)
    return 0


def hvf_latents(feature_utils, video, latent_rate):
    """The latent count HVF's ``denoise_process`` asks noise for: its Synchformer frames at 25/s
    (HVF's own ``get_frames_av``) over 25, times the latent rate (``prepare_latents``)."""
    frames, _ = feature_utils.get_frames_av(video, 25)
    return int(len(frames) / 25 * latent_rate)


def _torch_child(a):
    import numpy as np
    import torch
    dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32}[a.dtype]
    t0 = time.time()
    config, models, handles = hvf_check.build_hvf(a.hvf_repo, a.size, a.depth, a.seed, a.encoder_layers,
                                                  foley_dtype=dtype)
    bundle = os.path.join(a.out, "bundle")
    tokenizer = hvf_check.hvf_tokenizer(os.path.join(bundle, "tokenizer.json"))
    model_dict = hvf_check.hvf_model_dict(models, handles, tokenizer,
                                          os.path.join(os.path.abspath(a.hvf_repo), hvf_check.SIZES[a.size]))
    if model_dict.foley_model.dtype != dtype:
        raise RuntimeError("HVF's model dict holds the MMDiT in %s, not %s" % (model_dict.foley_model.dtype, dtype))
    build_s = time.time() - t0
    rss_built = _mib("VmRSS")

    # foley4j's initial noise, drawn before the timed part (a JVM of its own)
    channels = config["denoiser"]["latent_channels"]
    kw = handles.cfg.model_config.model_kwargs
    latents = hvf_latents(handles.feature_utils, a.video, float(kw.audio_frame_rate))
    jar = os.path.abspath(a.foley_jar or hvf_check.default_jar())
    noise_npy = os.path.join(a.out, "noise-%d.npy" % latents)
    noise = hvf_check.foley_noise(jar, a.seed, channels, latents, noise_npy)[None]

    def noise_for(shape):
        if tuple(shape) != tuple(noise.shape):
            raise RuntimeError("HVF asked for noise of shape %s, not the %s drawn" % (shape, noise.shape))
        return noise

    clock = PhaseClock()
    dac = model_dict.dac_model

    def timed_decode(z, _decode=type(dac).decode):
        clock("vae")
        out = _decode(dac, z)
        clock("after vae")
        return out

    with hvf_check._patched(dac, "decode", timed_decode):
        audio, sr, seconds, shape, feats = hvf_check.run_hvf(a.video, hvf_check.PROMPT, a.negative, a.cfg, a.steps,
                                                             model_dict, handles, noise_for, clock)
    phases = clock.phases()
    infer_s = clock.marks[-1][1] - clock.marks[0][1]
    infer_cpu_s = clock.marks[-1][2] - clock.marks[0][2]
    np.save(os.path.join(a.out, "torch-%s.npy" % a.dtype), audio)
    print(json.dumps({"build_s": build_s, "rss_built_mib": rss_built, "infer_s": infer_s, "infer_cpu_s": infer_cpu_s,
                      "phases_s": {k: v[0] for k, v in phases.items()},
                      "phases_cpu_s": {k: v[1] for k, v in phases.items()},
                      "latents": int(shape[2]), "sample_rate": sr, "pass_seconds": seconds,
                      "visual_frames": int(feats["siglip2"].shape[1]), "sync_tokens": int(feats["sync"].shape[1]),
                      "text_tokens": int(feats["text"].shape[1]), "threads": torch.get_num_threads(),
                      "mmdit_dtype": str(model_dict.foley_model.dtype), "vmhwm_mib": _mib("VmHWM")}), flush=True)
    return 0


# ---- the table -----------------------------------------------------------------------------------

def format_table(rows, base_names):
    """Markdown rows: process wall, CPU, peak RSS, inference wall and CPU, and ratios to each base
    row."""
    head = "| side | process wall s | process CPU s | peak RSS MiB | inference s | inference CPU s | load avg (mean, max) |"
    sep = "|---|---|---|---|---|---|---|"
    for b in base_names:
        head += " wall × %s | inference × %s | inference CPU × %s | RSS × %s |" % (b, b, b, b)
        sep += "---|---|---|---|"
    lines = [head, sep]
    by = {r["side"]: r for r in rows}

    def ratio(x, y):
        return "%.3f" % (x / y) if x is not None and y else "-"

    def num(x, fmt="%.1f"):
        return fmt % x if x is not None else "-"

    for r in rows:
        line = "| %s | %.1f | %.1f | %.0f | %s | %s | %.1f, %.1f |" % (
            r["side"], r["wall_s"], r["cpu_s"], r["peak_rss_mib"], num(r.get("infer_s")), num(r.get("infer_cpu_s")),
            r["load_mean"], r["load_max"])
        for b in base_names:
            base = by[b]
            line += " %s | %s | %s | %s |" % (
                ratio(r["wall_s"], base["wall_s"]), ratio(r.get("infer_s"), base.get("infer_s")),
                ratio(r.get("infer_cpu_s"), base.get("infer_cpu_s")), ratio(r["peak_rss_mib"], base["peak_rss_mib"]))
        lines.append(line)
    return "\n".join(lines)


def _row(side, m, inner=None):
    r = {"side": side, "wall_s": m["wall_s"], "cpu_s": m["cpu_s"], "user_s": m["user_s"], "sys_s": m["sys_s"],
         "peak_rss_mib": max(m["max_rss_mib"], m["vmhwm_mib"] or 0.0), "max_rss_mib": m["max_rss_mib"],
         "vmhwm_mib": m["vmhwm_mib"], "load_start": m["load_start"], "load_end": m["load_end"],
         "load_mean": m["load_mean"], "load_max": m["load_max"]}
    r.update(inner or {})
    return r


def _check(m, what, log):
    if m["returncode"] != 0:
        raise SystemExit("%s failed (exit %d); see %s" % (what, m["returncode"], log))


def _write(out, report):
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")


def run(a):
    import numpy as np
    out = a.out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    jar = os.path.abspath(a.foley_jar or hvf_check.default_jar())
    if not os.path.exists(jar):
        raise SystemExit("no foley CLI jar at %s: build it (mvn -B -o -pl foley-cli -am package -DskipTests) or "
                         "pass --foley-jar" % jar)
    bundle = os.path.join(out, "bundle")
    from .export import MANIFEST
    if a.reuse_bundle and not os.path.exists(os.path.join(bundle, MANIFEST)):
        raise SystemExit("--reuse-bundle: no bundle at %s (run once without it)" % bundle)
    if a.reuse_bundle:
        with open(os.path.join(bundle, MANIFEST), encoding="utf-8") as f:
            stored = json.load(f)["stages"]["denoiser"].get("weights", "float32")
        if stored != a.weights:
            raise SystemExit("--reuse-bundle: the bundle at %s stores the denoiser's weights in %s, not %s"
                             % (bundle, stored, a.weights))
    me = [sys.executable, "-m", "foley_export.hvf_pipeline_bench"] + model_args(a) + ["--foley-jar", jar]
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    report = {"command": sys.argv, "clip": a.clip, "steps": a.steps, "seed": a.seed, "cfg": a.cfg, "size": a.size, "weights": a.weights,
              "depth": "full" if a.depth is None else list(a.depth), "cores": os.cpu_count(), "rows": []}

    seconds, rate, w, h = hvf_check.CLIPS[a.clip]
    os.makedirs(os.path.join(out, "clips"), exist_ok=True)
    video = hvf_check.make_clip(os.path.join(out, "clips", a.clip + ".mp4"), seconds, rate, w, h)

    # 1. export (a child: its memory is given back before foley4j starts)
    if not a.reuse_bundle:
        log = os.path.join(out, "export.log")
        print("exporting the model set to %s ..." % bundle, flush=True)
        m = measure(me + ["--child", "export", "--opset", str(a.opset)], log, env)
        _check(m, "the export", log)
        report["export"] = _row("export", m, last_json(m["stdout"]))
        _write(out, report)
        print("exported: %.0f s, peak RSS %.0f MiB" % (m["wall_s"], report["export"]["peak_rss_mib"]), flush=True)

    # 2. foley4j
    wav = os.path.join(out, "foley4j.wav")
    log = os.path.join(out, "foley4j.log")
    args = hvf_check.generate_args(bundle, video, wav, hvf_check.PROMPT, a.negative, a.cfg, a.steps, a.seed)
    if a.verified_files:
        args = args[:1] + ["--verified-files", os.path.abspath(a.verified_files)] + args[1:]
        print("foley4j: writing the record of hashed files (unmeasured: 1 step) ...", flush=True)
        prime = list(args)
        prime[prime.index("--steps") + 1] = "1"
        _check(measure([a.java, "-jar", jar] + prime, log, env), "foley generate (record)", log)
    report["verified_files"] = bool(a.verified_files)
    print("foley4j generate ...", flush=True)
    m = measure([a.java, "-jar", jar] + args, log, env)
    _check(m, "foley generate", log)
    phases = stage_timings(m["stdout"])
    infer_cpu = cpu_in_window(m["cpu_samples"], m["wall_s"], m["cpu_s"], phases["total"]) if phases else None
    rows = report["rows"] = [_row(foley_side(a.weights), m, {"infer_s": phases.get("total"), "infer_cpu_s": infer_cpu,
                                                         "phases_s": phases})]
    _write(out, report)  # so far: a later side that fails or is stopped leaves the earlier ones
    print("foley4j: %.0f s, CPU %.0f s, peak RSS %.0f MiB" % (m["wall_s"], m["cpu_s"], rows[0]["peak_rss_mib"]),
          flush=True)

    # 3. HVF's own pipeline in PyTorch, one process per row
    for dt in a.torch_rows:
        log = os.path.join(out, "torch-%s.log" % dt)
        print("torch %s (HVF's feature_process + denoise_process) ..." % dt, flush=True)
        m = measure(me + ["--child", "torch", "--dtype", dt, "--video", video, "--steps", str(a.steps),
                          "--cfg", repr(a.cfg), "--negative", a.negative], log, env)
        _check(m, "the torch %s run" % dt, log)
        rows.append(_row("torch " + dt, m, last_json(m["stdout"])))
        _write(out, report)
        print("torch %s: %.0f s, CPU %.0f s, peak RSS %.0f MiB" % (dt, m["wall_s"], m["cpu_s"],
                                                                    rows[-1]["peak_rss_mib"]), flush=True)

    # 4. the audio
    foley, sr = hvf_check.read_float_wav(wav)
    for r in rows[1:]:
        torch_audio = np.load(os.path.join(out, "torch-%s.npy" % r["side"].split()[1]))
        r["audio"] = hvf_check.compare_audio(foley, torch_audio)
    _write(out, report)
    base = [r["side"] for r in rows[1:]]
    print()
    print("%s, %s, %d steps, cfg %s, seed %d; %d cores" % (
        "HVF-%s %s" % (a.size.upper(), report["depth"] if a.depth is not None else "full depth"), a.clip, a.steps,
        a.cfg, a.seed, os.cpu_count()))
    print(format_table(rows, base))
    for r in rows[1:]:
        print("foley4j audio vs %s: relative L2 %.3e over %d samples (max abs diff %.2e)" % (
            r["side"], r["audio"]["rel_l2"], r["audio"]["compared_samples"], r["audio"]["max_abs_diff"]))
    if phases:
        print("foley4j phases (s; visual and sync are summed item times and overlap): %s"
              % ", ".join("%s %.1f" % kv for kv in phases.items()))
    for r in rows[1:]:
        print("%s phases (s, wall / CPU): %s" % (r["side"], ", ".join(
            "%s %.1f / %.1f" % (k, r["phases_s"][k], r["phases_cpu_s"][k]) for k in r["phases_s"])))
    print("report: %s" % os.path.join(out, "bench.json"))
    return 0


def main(argv=None):
    a = parse_args(argv)
    if a.child == "export":
        return _export_child(a)
    if a.child == "torch":
        return _torch_child(a)
    return run(a)


if __name__ == "__main__":
    sys.exit(main())
