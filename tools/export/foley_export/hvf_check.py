"""``python -m foley_export hvf-check``: HunyuanVideo-Foley's OWN pipeline against foley4j.

Nothing of HVF is in this repository and nothing is downloaded: the user's checkout is put on
``sys.path`` and its classes are built with random weights:

* ``HunyuanVideoFoley`` (the MMDiT) from the config yaml's widths, with a reduced number of blocks
  unless ``--depth full``;
* SigLIP2's vision tower and CLAP's text model as HVF instantiates them (``transformers``'
  ``SiglipModel`` and ``ClapTextModelWithProjection``, here built from config objects with the real
  widths instead of ``from_pretrained``);
* HVF's ``Synchformer`` and its DAC-VAE (``DAC``, continuous, 128-d latents at 48 kHz, hop 960).

Parameters HVF zero-initialises (the MMDiT's adaLN modulations and final layer, the learned empty
features, Synchformer's 3-D patch embedding, ...) are redrawn with small random values
(:func:`redraw_zero_parameters`): with HVF's initial zeros the denoiser's output is zero and every
sync token is the same whatever the video, so the check would prove nothing.

The five stages are exported through ``export_bundle``; foley4j (the CLI jar) generates audio for
clips made with the ffmpeg CLI; HVF's own ``feature_process`` and ``denoise_process`` run on the
same clips with the same modules, prompts, guidance, steps and foley4j's initial noise (drawn by
``foley noise``), and the audio is compared (relative L2). docs/export.md, "HVF's own pipeline
against foley4j", has the commands and the numbers.
"""

import contextlib
import json
import os
import sys
import time
import types

import torch

from . import procstat, standins
from .compat import ensure_pruning_helpers, image_features

SIZES = {"xl": "configs/hunyuanvideo-foley-xl.yaml", "xxl": "configs/hunyuanvideo-foley-xxl.yaml"}
DEFAULT_DEPTH = (2, 2)      # triple-stream, single-stream blocks of the MMDiT
DEFAULT_ENCODER_LAYERS = 1  # SigLIP2 vision, CLAP text and Synchformer's space-time blocks

# the real encoders' widths (HVF model_utils.py: google/siglip2-base-patch16-512 and
# laion/larger_clap_general's text tower; Synchformer's own ViT config has 12 blocks)
SIGLIP2 = {"size": 512, "patch": 16, "dim": 768, "heads": 12, "intermediate": 3072, "layers": 12}
CLAP_TEXT = {"dim": 768, "heads": 12, "intermediate": 3072, "layers": 12, "max_positions": 512,
             "projection_dim": 512, "style": "roberta"}
SYNCHFORMER_BLOCKS = 12
# DAC-VAE "vae_128d_48k": 128-d continuous latents at 50/s decoded to 48 kHz (hop 2*3*4*5*8 = 960)
DAC_KWARGS = {"encoder_dim": 128, "encoder_rates": [2, 3, 4, 5, 8], "latent_dim": 128, "decoder_dim": 2048,
              "decoder_rates": [8, 5, 4, 3, 2], "sample_rate": 48000, "continuous": True}


# ---- random weights -------------------------------------------------------------------------------

def redraw_zero_parameters(module, seed, std=0.02):
    """Draws every parameter of ``module`` whose elements are all zero anew from N(0, std^2), in
    place; the others keep their values. Returns the names redrawn, in module order."""
    gen = torch.Generator().manual_seed(seed)
    redrawn = []
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.is_meta or p.numel() == 0 or bool(p.any()):
                continue
            p.copy_((torch.randn(p.shape, generator=gen, dtype=torch.float32) * std).to(p.dtype))
            redrawn.append(name)
    return redrawn


# ---- HVF's environment ----------------------------------------------------------------------------

def prepare_environment(hvf_repo):
    """Puts the checkout on ``sys.path`` with stand-ins for what this machine lacks (standins.py);
    returns the stand-ins written."""
    hvf_repo = os.path.abspath(hvf_repo)
    if not os.path.isdir(os.path.join(hvf_repo, "hunyuanvideo_foley")):
        raise SystemExit("%s is not a HunyuanVideo-Foley checkout (no hunyuanvideo_foley/)" % hvf_repo)
    standins.import_torchvision()
    for name in ("timm", "av", "einops", "loguru", "yaml"):
        if not standins.importable(name):
            raise SystemExit("hvf-check needs %s (one of HVF's requirements)" % name)
    _, stood_in = standins.install(standins.HVF)
    ensure_pruning_helpers()  # HVF's Synchformer imports a helper transformers 5.x removed
    if hvf_repo not in sys.path:
        sys.path.insert(0, hvf_repo)
    return stood_in


def parse_depth(values):
    """``["full"]`` -> None (the config's depth); ``["T", "S"]`` -> (T, S)."""
    if values is None:
        return DEFAULT_DEPTH
    if list(values) == ["full"]:
        return None
    if len(values) != 2 or not all(str(v).isdigit() and int(v) > 0 for v in values):
        raise SystemExit("--depth wants two positive block counts (triple single) or 'full', got %s" % " ".join(values))
    return int(values[0]), int(values[1])


# ---- the models -----------------------------------------------------------------------------------

def build_hvf(hvf_repo, size="xxl", depth=DEFAULT_DEPTH, seed=0, encoder_layers=None, device="cpu",
              foley_dtype=None):
    """HVF's classes with random weights, float32, in eval mode (``device="meta"``: shapes only).

    ``foley_dtype`` (torch.float32 or torch.bfloat16; CPU only): the MMDiT is built as
    ``hvf_arch_check.build_mmdit`` builds it instead (on the meta device, then every parameter
    drawn in place from ``seed``, values bfloat16-representable: one copy of the weights, so the
    full-depth model fits), in that dtype. Both dtypes hold the same values.

    ``depth``: (triple, single) MMDiT blocks, or None for the config's. ``encoder_layers``: layers
    of SigLIP2's vision tower, CLAP's text model and Synchformer's ViT; default 1, or the real
    counts (12 each) when ``depth`` is None. Each module is drawn from its own seed (seed + i), so
    a rebuild gives the same weights.

    Returns ``(config, models, handles)``: the export config (the dict ``export_bundle`` takes),
    ``torch.nn.ModuleDict`` {siglip2, synchformer, clap, foley, dac}, and a namespace with the
    HVF config (``cfg``, depth applied), HVF's modules ``model_utils`` / ``feature_utils``, the
    parameters redrawn per model (``redrawn``) and the stand-ins written (``standins``).
    """
    if size not in SIZES:
        raise SystemExit("--size must be one of %s" % ", ".join(SIZES))
    stood_in = prepare_environment(hvf_repo)
    from hunyuanvideo_foley.utils.config_utils import load_yaml
    from hunyuanvideo_foley.models.hifi_foley import HunyuanVideoFoley
    from hunyuanvideo_foley.models.synchformer import Synchformer
    from hunyuanvideo_foley.models.dac_vae.model.dac import DAC
    from hunyuanvideo_foley.utils import feature_utils, model_utils
    from . import tiny
    from .tokenizer import WordTokenizer

    cfg = load_yaml(os.path.join(os.path.abspath(hvf_repo), SIZES[size]))
    kw = cfg.model_config.model_kwargs
    if depth is not None:
        kw["depth_triple_blocks"], kw["depth_single_blocks"] = int(depth[0]), int(depth[1])
    layers = encoder_layers or (DEFAULT_ENCODER_LAYERS if depth is not None else None)
    device = torch.device(device)

    # on the meta device nothing is allocated: --depth full --build-only counts a full model here
    with (torch.device(device) if device.type == "meta" else contextlib.nullcontext()):
        torch.manual_seed(seed)
        if foley_dtype is None:
            foley = HunyuanVideoFoley(cfg, dtype=torch.float32, device=device)

        torch.manual_seed(seed + 1)
        # the audio branch (an AST) and the audio-visual transformer serve Synchformer's training and
        # desync score; HVF only calls forward(vis) -> vfeat_extractor: they are not built
        import hunyuanvideo_foley.models.synchformer.synchformer as sync_module
        # (its constructor reads a tensor's value: built on the CPU, moved to meta below)
        with _patched(sync_module, "AST", _unused), _patched(sync_module, "GlobalTransformer", _unused), \
                (torch.device("cpu") if device.type == "meta" else contextlib.nullcontext()):
            sync = Synchformer()
        vit = sync.vfeat_extractor
        vit.blocks = vit.blocks[:layers or SYNCHFORMER_BLOCKS]

        torch.manual_seed(seed + 2)
        siglip = tiny._siglip(dict(SIGLIP2, layers=layers or SIGLIP2["layers"]))

        torch.manual_seed(seed + 3)
        tok = WordTokenizer(CLAP_TEXT["style"])
        clap = tiny._clap_text(dict(CLAP_TEXT, layers=layers or CLAP_TEXT["layers"]), tok)

        torch.manual_seed(seed + 4)
        # HVF only decodes (DAC.decode: post_quant_conv, decoder): the encoder (4096 channels wide at
        # the end, 1.2 GB) is not built
        import hunyuanvideo_foley.models.dac_vae.model.dac as dac_module
        with _patched(dac_module, "Encoder", _unused):
            dac = DAC(**DAC_KWARGS)
        dac.quant_conv = torch.nn.Identity()

    if foley_dtype is not None:
        if device.type != "cpu":
            raise ValueError("foley_dtype builds on the CPU only")
        from .hvf_arch_check import build_mmdit
        foley = build_mmdit(cfg, seed, foley_dtype, round_to=torch.bfloat16)
    models = torch.nn.ModuleDict({"siglip2": siglip, "synchformer": sync, "clap": clap, "dac": dac}) \
        .to(device=device, dtype=torch.float32)
    models["foley"] = foley if foley_dtype is not None else foley.to(device=device, dtype=torch.float32)
    models = torch.nn.ModuleDict({k: models[k] for k in ("siglip2", "synchformer", "clap", "foley", "dac")}).eval()
    redrawn = {}
    for i, (name, m) in enumerate(models.items()):
        # a drawn MMDiT has no zero parameter left
        redrawn[name] = [] if name == "foley" and foley_dtype is not None else \
            redraw_zero_parameters(m, seed + 100 + i)

    dc = cfg.diffusion_config
    if dc.sample_use_flux_shift or dc.flow_solver != "euler":
        raise SystemExit("the config asks for flux shift or solver %s; foley4j integrates with Euler" % dc.flow_solver)
    config = {
        "kind": "hvf", "name": "hvf-check-%s-%s" % (size, "full" if depth is None else "%d+%d" % tuple(depth)),
        # model_utils.py: SigLIP2 Resize((512, 512)) + Normalize(0.5, 0.5); Synchformer Resize(224)
        # + CenterCrop(224); constants.py FPS_VISUAL
        "visual": {"size": SIGLIP2["size"], "fps": 8, "mean": [0.5] * 3, "std": [0.5] * 3},
        "sync": {"size": 224, "fps": 25},
        "text": {"max_tokens": int(kw.text_length), "max_positions": CLAP_TEXT["max_positions"],
                 "style": CLAP_TEXT["style"]},
        "denoiser": {"latent_channels": int(kw.audio_vae_latent_dim)},
        "vae": {"sample_rate": DAC_KWARGS["sample_rate"], "hop": int(round(DAC_KWARGS["sample_rate"]
                                                                          / float(kw.audio_frame_rate)))},
        "latent_rate": float(kw.audio_frame_rate),
        "flow_reverse": bool(dc.flow_reverse), "num_train_timesteps": 1000, "shift": float(dc.sample_flow_shift),
        "steps": 50, "cfg": 4.5, "negative_prompt": "noisy, harsh",
    }
    handles = types.SimpleNamespace(cfg=cfg, model_utils=model_utils, feature_utils=feature_utils,
                                    redrawn=redrawn, standins=stood_in, tokenizer=tok, size=size,
                                    depth=depth, encoder_layers=layers)
    return config, models, handles


def _unused(*args, **kwargs):
    """In place of a submodule HVF's inference never calls."""
    return torch.nn.Identity()


def fingerprint(models):
    """A float per model summing its parameters with position weights (equal builds agree)."""
    out = {}
    with torch.no_grad():
        for name, m in models.items():
            total = 0.0
            for p in m.parameters():
                flat = p.detach().reshape(-1).double()
                total += float((flat * torch.linspace(1.0, 2.0, flat.numel(), dtype=torch.float64)).sum())
            out[name] = total
    return out


class _Siglip2Features(torch.nn.Module):
    """HVF calls ``get_image_features`` and concatenates the results as tensors (transformers
    4.x); 5.x returns an output object. This view of the same model returns the tensor.

    HVF also encodes every frame of the clip in one call (``encode_video_with_siglip2``,
    batch_size -1), which on a CPU needs about 50 MiB per frame and layer for the attention alone
    (92 frames for 11.5 s): the view encodes ``chunk`` frames at a time. Frames are independent
    in SigLIP, so only the batching differs."""

    def __init__(self, siglip2, chunk=8):
        super().__init__()
        self.siglip2 = siglip2
        self.chunk = chunk

    def get_image_features(self, pixel_values, **kwargs):
        parts = [image_features(self.siglip2.get_image_features(pixel_values=pixel_values[i:i + self.chunk],
                                                                **kwargs))
                 for i in range(0, pixel_values.shape[0], self.chunk)]
        return torch.cat(parts, dim=0)


@contextlib.contextmanager
def _patched(obj, name, value):
    had = name in getattr(obj, "__dict__", {})  # its own attribute, not one it inherits
    old = getattr(obj, name, None)
    setattr(obj, name, value)
    try:
        yield
    finally:
        if had:
            setattr(obj, name, old)
        else:
            delattr(obj, name)


def hvf_model_dict(models, handles, tokenizer, config_path):
    """HVF's own ``load_model`` (model_utils.py), with every weight load answered by the modules
    built here: its preprocessing pipelines and model dict are HVF's. The MMDiT stays float32
    (HVF casts it to bfloat16; foley4j's bundles are float32)."""
    mu = handles.model_utils
    foley, dac, sync, clap = models["foley"], models["dac"], models["synchformer"], models["clap"]
    siglip = _Siglip2Features(models["siglip2"]).eval()

    def keep_float32(*args, **kwargs):
        kwargs.pop("dtype", None)
        args = tuple(a for a in args if not isinstance(a, torch.dtype))
        return torch.nn.Module.to(foley, *args, **kwargs)

    loaders = types.SimpleNamespace
    with contextlib.ExitStack() as stack:
        stack.enter_context(_patched(mu, "HunyuanVideoFoley", lambda cfg, dtype=None, device=None: foley))
        stack.enter_context(_patched(foley, "to", keep_float32))
        stack.enter_context(_patched(mu, "load_state_dict", lambda model, path: model))
        stack.enter_context(_patched(mu, "DAC", loaders(load=lambda path: dac)))
        stack.enter_context(_patched(mu, "AutoModel", loaders(from_pretrained=lambda name: siglip)))
        stack.enter_context(_patched(mu, "AutoTokenizer", loaders(from_pretrained=lambda name: tokenizer)))
        stack.enter_context(_patched(mu, "ClapTextModelWithProjection", loaders(from_pretrained=lambda name: clap)))
        stack.enter_context(_patched(mu, "Synchformer", lambda: sync))
        stack.enter_context(_patched(mu.torch, "load", lambda *a, **k: sync.state_dict()))
        model_dict, _ = mu.load_model("(random weights)", config_path, torch.device("cpu"), enable_offload=False)
    return model_dict


def hvf_tokenizer(tokenizer_json, pad_token="<pad>"):
    """The bundle's tokenizer.json through Hugging Face's tokenizers (what HVF's AutoTokenizer is)."""
    import transformers
    tok = transformers.PreTrainedTokenizerFast(tokenizer_file=tokenizer_json, pad_token=pad_token)
    tok.model_input_names = ["input_ids", "attention_mask"]
    return tok


# ---- clips, foley4j, HVF ---------------------------------------------------------------------------

# name -> (seconds, fps, width, height): short, the trained 8 s at NTSC 29.97, a long single pass, portrait
CLIPS = {
    "3s-25fps": (3.0, "25", 640, 360),
    "8s-29.97fps": (8.0, "30000/1001", 640, 360),
    "11.5s-25fps": (11.5, "25", 640, 360),
    "portrait-4s-25fps": (4.0, "25", 360, 640),
}
PROMPT = "footsteps on gravel and a dog barking in the distance"


def make_clip(path, seconds, rate, width, height):
    """An H.264 clip from ffmpeg's test pattern (moving content in every frame)."""
    import subprocess
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=%dx%d:rate=%s:duration=%s" % (width, height, rate, seconds),
                    "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "veryfast", path], check=True)
    return path


def default_jar():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "..", "foley-cli", "target", "foley.jar"))


def _status_mib(pid, key):
    """A memory figure (VmRSS, VmHWM) of a process from /proc, in MiB; None where unavailable."""
    kib = procstat.status_kib(key, pid)
    return None if kib is None else kib / 1024.0


class RssWatch:
    """Samples this process's resident memory (Linux /proc) and keeps the peak of each phase."""

    def __init__(self, interval=0.05):
        import threading
        self.peaks = {}
        self.phase = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval):
        while not self._stop.wait(interval):
            self.sample()

    def sample(self):
        rss = _status_mib("self", "VmRSS")
        if rss is not None and self.phase is not None:
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), rss)

    def enter(self, phase):
        self.sample()
        self.phase = phase
        self.sample()

    def close(self):
        self.sample()
        self._stop.set()


def _java(jar, args, peaks=None):
    """Runs the foley CLI; ``peaks``: a list that gets the child's peak resident memory (VmHWM)."""
    import subprocess
    p = subprocess.Popen(["java", "-jar", jar] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    hwm = None
    if peaks is not None:
        while p.poll() is None:
            hwm = _status_mib(p.pid, "VmHWM") or hwm
            time.sleep(0.1)
        peaks.append(hwm)
    out, err = p.communicate()
    if p.returncode != 0:
        raise RuntimeError("foley %s failed (%d): %s" % (args[0], p.returncode, err.strip()[-2000:]))
    return out


def generate_args(bundle, video, out_wav, prompt, negative, cfg, steps, seed):
    """``foley generate``'s arguments for the check: float WAV, no progress bar, no warm-up run (it
    changes no output)."""
    return ["generate", "--bundle", bundle, "--video", video, "--prompt", prompt, "--neg-prompt", negative,
            "--cfg", repr(float(cfg)), "--steps", str(steps), "--seed", str(seed), "--float", "--progress",
            "none", "--warm-up", "none", "--out", out_wav]


def foley_generate(jar, bundle, video, out_wav, prompt, negative, cfg, steps, seed, peaks=None):
    t0 = time.time()
    _java(jar, generate_args(bundle, video, out_wav, prompt, negative, cfg, steps, seed), peaks)
    return time.time() - t0


def foley_noise(jar, seed, channels, latents, out_npy, pass_index=0):
    import numpy as np
    _java(jar, ["noise", "--seed", str(seed), "--pass", str(pass_index), "--channels", str(channels),
                "--latents", str(latents), "--out", out_npy])
    return np.load(out_npy)


def read_float_wav(path):
    """Samples of a mono 32-bit float WAV (what ``foley generate --float`` writes)."""
    import struct
    import numpy as np
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("%s is not a WAV file" % path)
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", body[:16])
        elif cid == b"data":
            if fmt is None or fmt[0] not in (3, 0xFFFE) or fmt[5] != 32 or fmt[1] != 1:
                raise ValueError("%s: want mono 32-bit float, got format %s" % (path, fmt))
            return np.frombuffer(body, dtype="<f4").astype(np.float32), fmt[2]
        pos += 8 + size + (size & 1)
    raise ValueError("%s has no data chunk" % path)


def relative_l2(a, b):
    """||a - b|| / ||b||, in float64 (b the reference)."""
    import numpy as np
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError("shapes differ: %s and %s" % (a.shape, b.shape))
    nb = float(np.linalg.norm(b))
    if nb == 0.0:
        return 0.0 if float(np.linalg.norm(a)) == 0.0 else float("inf")
    return float(np.linalg.norm(a - b)) / nb


def compare_audio(foley, hvf):
    """foley4j's audio (the clip's duration) against HVF's (one pass: latents x hop samples). HVF
    keeps every decoded sample; foley4j's output is the clip's length, its pass's samples first
    and silence after them where the clip is longer. Compared on the samples both have; the rest
    is reported."""
    import numpy as np
    foley = np.asarray(foley, dtype=np.float32).reshape(-1)
    hvf = np.asarray(hvf, dtype=np.float32).reshape(-1)
    n = min(len(foley), len(hvf))
    tail = foley[len(hvf):]
    return {"compared_samples": n, "foley4j_samples": len(foley), "hvf_samples": len(hvf),
            "rel_l2": relative_l2(foley[:n], hvf[:n]),
            "max_abs_diff": float(np.max(np.abs(foley[:n] - hvf[:n]))) if n else 0.0,
            "foley4j_tail_max": float(np.max(np.abs(tail))) if len(tail) else 0.0,
            "hvf_rms": float(np.sqrt(np.mean(hvf[:n].astype(np.float64) ** 2))) if n else 0.0}


def latent_sensitivity(dac, latents, audio, seed, rel=1e-3):
    """How much the decoder passes on a change of its input: the audio's relative L2 change when
    the final latents change by ``rel`` (relative L2, random direction), divided by ``rel``. An
    audio distance divided by this estimates the latents' distance (a decoder that damps
    differences makes the audio figure look better than the latents are)."""
    import numpy as np
    gen = torch.Generator().manual_seed(seed + 7)
    d = torch.randn(latents.shape, generator=gen)
    d = d * (rel * latents.norm() / d.norm())
    with torch.no_grad():
        moved = dac.decode(latents + d).float().reshape(-1).numpy()
    n = min(len(moved), len(audio))
    return relative_l2(moved[:n], np.asarray(audio)[:n]) / rel


def format_table(rows, goal=1e-3):
    """The report's table (markdown), one row per clip."""
    lines = ["| clip | latents | samples compared (foley4j / HVF) | audio rel. L2 | max abs diff | within %.0e "
             "| audio change per latent change |" % goal, "|---|---|---|---|---|---|---|"]
    for r in rows:
        per = r.get("audio_per_latent_change")
        lines.append("| %s | %d | %d (%d / %d) | %.2e | %.2e | %s | %s |" % (
            r["clip"], r["latents"], r["compared_samples"], r["foley4j_samples"], r["hvf_samples"], r["rel_l2"],
            r["max_abs_diff"], "yes" if r["rel_l2"] <= goal else "NO", "%.2f" % per if per is not None else "-"))
    return "\n".join(lines)


@contextlib.contextmanager
def hvf_on_cpu():
    """HVF's encode_video_with_sync moves the frames with ``.cuda()`` and runs Synchformer under
    CUDA autocast (float16). On a CPU machine ``.cuda()`` is the identity and the CUDA autocast
    is off (PyTorch disables it without CUDA), so Synchformer runs in float32 as foley4j's
    bundle does."""
    if torch.cuda.is_available():
        yield
        return
    with _patched(torch.Tensor, "cuda", lambda self, *a, **k: self):
        import warnings
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*CUDA is not available.*")
            yield


def run_hvf(video, prompt, negative, cfg_scale, steps, model_dict, handles, noise_for, clock=None):
    """HVF's own feature_process and denoise_process on ``video``, its noise draw answered by
    ``noise_for(shape)`` (foley4j's noise). Returns the audio and what HVF computed on the way.
    ``clock``: a callable ``clock(phase)`` called as ``feature_process`` and ``denoise_process``
    start ("features", "denoise") and after ("end")."""
    clock = clock or (lambda phase: None)
    mu, fu = handles.model_utils, handles.feature_utils
    seen = {}

    def noise(shape, generator=None, device=None, dtype=None, layout=None):
        x = torch.from_numpy(noise_for(tuple(int(d) for d in shape))).to(dtype=dtype or torch.float32)
        seen["noise_shape"] = tuple(x.shape)
        return x

    with hvf_on_cpu(), _patched(mu, "randn_tensor", noise):
        clock("features")
        visual, text, seconds = fu.feature_process(video, prompt, model_dict, handles.cfg, neg_prompt=negative)
        clock("denoise")
        audio, sr = mu.denoise_process(visual, text, seconds, model_dict, handles.cfg, guidance_scale=cfg_scale,
                                       num_inference_steps=steps)
        clock("end")
    if "noise_shape" not in seen:
        raise RuntimeError("HVF's denoise_process did not draw its noise through randn_tensor")
    feats = {"siglip2": visual.siglip2_feat, "sync": visual.syncformer_feat, "text": text.text_feat,
             "uncond_text": text.uncond_text_feat}
    return audio.detach().reshape(-1).float().numpy(), int(sr), float(seconds), seen["noise_shape"], feats


def _write_report(path, args, config, handles, depth, params, tokens_agree, rows, timings, t_start, watch):
    java_peak = max((r.get("foley4j_peak_rss_mib") or 0.0) for r in rows)
    report = {"name": config["name"], "size": args.size, "depth": "full" if depth is None else list(depth),
              "encoder_layers": handles.encoder_layers, "seed": args.seed, "steps": args.steps, "cfg": args.cfg,
              "prompt": PROMPT, "negative_prompt": args.negative, "parameters": params,
              "tokenizers_agree": tokens_agree,
              "standins": handles.standins, "redrawn": handles.redrawn, "torch": torch.__version__,
              "transformers": __import__("transformers").__version__, "clips": rows, "timings_s": timings,
              "wall_s": time.time() - t_start,
              "peak_rss_mib": {"python_by_phase": dict(watch.peaks), "foley4j": java_peak}}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    return report


def run_check(args):
    import gc
    import numpy as np
    from .export import export_bundle

    t_start = time.time()
    depth = parse_depth(args.depth)
    if getattr(args, "build_only", False):
        return build_only(args.hvf_repo, args.size, depth, args.seed, args.encoder_layers)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    jar = os.path.abspath(args.foley_jar or default_jar())
    if not os.path.exists(jar):
        raise SystemExit("no foley CLI jar at %s: build it (mvn -B -o -pl foley-cli -am package -DskipTests) or "
                         "pass --foley-jar" % jar)
    clips = args.clips or list(CLIPS)
    for c in clips:
        if c not in CLIPS:
            raise SystemExit("unknown clip %s (known: %s)" % (c, ", ".join(CLIPS)))
    timings = {}
    watch = RssWatch()

    # 1. build and export
    watch.enter("build")
    t0 = time.time()
    config, models, handles = build_hvf(args.hvf_repo, args.size, depth, args.seed, args.encoder_layers)
    timings["build_s"] = time.time() - t0
    prints = fingerprint(models)
    params = {k: sum(p.numel() for p in m.parameters()) for k, m in models.items()}
    print("built %s: %s parameters; stand-ins for %s; redrawn zero-initialised: %s" % (
        config["name"], ", ".join("%s %.1f M" % (k, v / 1e6) for k, v in params.items()),
        ", ".join(handles.standins) or "nothing", ", ".join("%s %d" % (k, len(v)) for k, v in handles.redrawn.items())),
        flush=True)
    bundle = os.path.join(out, "bundle")
    watch.enter("export")
    t0 = time.time()
    export_bundle("hvf", models, config, bundle, external_data=True, opset=args.opset)
    timings["export_s"] = time.time() - t0
    print("exported %s in %.0f s" % (bundle, timings["export_s"]), flush=True)
    del models
    gc.collect()

    # 2. clips and foley4j
    watch.enter("foley4j (waiting)")
    clip_dir = os.path.join(out, "clips")
    os.makedirs(clip_dir, exist_ok=True)
    rows = []
    for c in clips:
        seconds, rate, w, h = CLIPS[c]
        video = make_clip(os.path.join(clip_dir, c + ".mp4"), seconds, rate, w, h)
        wav = os.path.join(out, c + ".foley4j.wav")
        java_peak = []
        took = foley_generate(jar, bundle, video, wav, PROMPT, args.negative, args.cfg, args.steps, args.seed,
                              java_peak)
        rows.append({"clip": c, "video": video, "seconds": seconds, "fps": rate, "size": "%dx%d" % (w, h),
                     "foley4j_s": took, "foley4j_peak_rss_mib": java_peak[0]})
        print("foley4j: %s in %.0f s" % (c, took), flush=True)

    # 3. HVF's own pipeline on the same modules (rebuilt from the same seeds)
    watch.enter("rebuild")
    t0 = time.time()
    config, models, handles = build_hvf(args.hvf_repo, args.size, depth, args.seed, args.encoder_layers)
    if fingerprint(models) != prints:
        raise RuntimeError("the rebuilt models differ from the exported ones")
    timings["rebuild_s"] = time.time() - t0
    tokenizer = hvf_tokenizer(os.path.join(bundle, "tokenizer.json"))
    pair = [args.negative, PROMPT]
    ids = tokenizer(pair, padding=True, return_tensors="pt")
    want = handles.tokenizer.pair_longest(pair, config["text"]["max_positions"])
    tokens_agree = ids["input_ids"].tolist() == want[0].tolist() and ids["attention_mask"].tolist() == want[1].tolist()
    model_dict = hvf_model_dict(models, handles, tokenizer,
                                os.path.join(os.path.abspath(args.hvf_repo), SIZES[args.size]))
    channels = config["denoiser"]["latent_channels"]
    watch.enter("hvf pipeline")
    for r in rows:
        noise_npy = os.path.join(out, r["clip"] + ".noise.npy")

        def noise_for(shape):
            if len(shape) != 3 or shape[0] != 1 or shape[1] != channels:
                raise RuntimeError("HVF asked for noise of shape %s" % (shape,))
            return foley_noise(jar, args.seed, channels, shape[2], noise_npy)[None]

        t0 = time.time()
        dac = model_dict.dac_model
        decoded = []

        def recording_decode(z, _decode=type(dac).decode):
            decoded.append(z.detach().clone())
            return _decode(dac, z)

        with _patched(dac, "decode", recording_decode):
            audio, sr, hvf_seconds, shape, feats = run_hvf(r["video"], PROMPT, args.negative, args.cfg, args.steps,
                                                           model_dict, handles, noise_for)
        r["hvf_s"] = time.time() - t0
        r["audio_per_latent_change"] = latent_sensitivity(dac, decoded[-1], audio, args.seed)
        foley, foley_sr = read_float_wav(os.path.join(out, r["clip"] + ".foley4j.wav"))
        if foley_sr != sr:
            raise RuntimeError("sample rates differ: foley4j %d, HVF %d" % (foley_sr, sr))
        np.save(os.path.join(out, r["clip"] + ".hvf.npy"), audio)
        np.savez(os.path.join(out, r["clip"] + ".hvf-features.npz"),
                 **{k: v.detach().float().numpy() for k, v in feats.items()})
        r.update(compare_audio(foley, audio))
        r.update({"latents": int(shape[2]), "hvf_pass_seconds": hvf_seconds,
                  "visual_frames": int(feats["siglip2"].shape[1]), "sync_tokens": int(feats["sync"].shape[1]),
                  "text_tokens": int(feats["text"].shape[1])})
        print("HVF: %s in %.0f s: rel. L2 %.2e" % (r["clip"], r["hvf_s"], r["rel_l2"]), flush=True)
        _write_report(os.path.join(out, "report.json"), args, config, handles, depth, params, tokens_agree,
                      [x for x in rows if "rel_l2" in x], timings, t_start, watch)  # so far

    watch.close()
    report = _write_report(os.path.join(out, "report.json"), args, config, handles, depth, params, tokens_agree, rows,
                           timings, t_start, watch)
    java_peak = report["peak_rss_mib"]["foley4j"]
    print(format_table(rows))
    print("wall %.0f s; peak RSS (MiB): %s; foley4j %.0f; report: %s" % (
        report["wall_s"], ", ".join("%s %.0f" % kv for kv in watch.peaks.items()), java_peak,
        os.path.join(out, "report.json")))
    worst = max(r["rel_l2"] for r in rows)
    return 0 if worst <= args.goal else 1


def build_only(hvf_repo, size, depth, seed=0, encoder_layers=None):
    """Builds the model set on the meta device (no memory) and prints its parameter counts."""
    t0 = time.time()
    config, models, handles = build_hvf(hvf_repo, size, depth, seed, encoder_layers, device="meta")
    params = {k: sum(p.numel() for p in m.parameters()) for k, m in models.items()}
    kw = handles.cfg.model_config.model_kwargs
    print(json.dumps({"name": config["name"], "triple_blocks": int(kw.depth_triple_blocks),
                      "single_blocks": int(kw.depth_single_blocks), "encoder_layers": handles.encoder_layers,
                      "parameters": params, "total": sum(params.values()),
                      "float32_gib": round(sum(params.values()) * 4 / (1 << 30), 2),
                      "standins": handles.standins, "seconds": round(time.time() - t0, 1)}, indent=1))
    return 0
