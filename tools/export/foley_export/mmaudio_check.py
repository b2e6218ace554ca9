"""MMAudio's REAL classes through the export tool and foley4j, compared with MMAudio's own
``generate()`` (docs/export.md, "MMAudio's own pipeline").

    PYTHONPATH=tools/export PYTHON -m foley_export mmaudio-check --mmaudio-repo MMAUDIO_CHECKOUT \
        --out DIR [--steps 5] [--clip-layers 1] [--sync-layers 1] [--foley-cli foley-cli/target/foley.jar]

Nothing of MMAudio is in this repository: the classes are imported from the user's checkout.

1. Builds, randomly initialised (no download): MMAudio's ``get_my_mmaudio('small_44k')``; an
   open_clip ``CLIP`` with DFN5B-CLIP-ViT-H-14-384's configuration (open_clip's
   ``ViT-H-14-378-quickgelu`` widths at 384 px) patched by MMAudio's own ``patch_clip``; MMAudio's
   ``Synchformer``; MMAudio's 44.1 kHz ``VAE`` decoder (``get_my_vae('44k')``) and NVIDIA's
   ``BigVGAN`` v2 class from MMAudio's ``ext/bigvgan_v2`` with the 44 kHz 128-band 512x
   configuration. CLIP's two towers and Synchformer are cut to ``--clip-layers`` /
   ``--sync-layers`` blocks (0 = all) so that the check runs on a CPU; everything else is at full
   size. Parameters that the classes initialise to zero (MMAudio's adaLN gates, final layer,
   ``sync_pos_emb``, the learned empties; Synchformer's 3-D patch embedding; BigVGAN's log-scale
   Snake parameters) and MMAudio's NaN ``latent_mean``/``latent_std`` are drawn anew
   (``redraw_zero_parameters``), so that every path carries numbers.
2. Exports them with ``export_bundle`` (the tool's own path, ``--external-data``) into a bundle.
3. Writes clips with ffmpeg, runs ``foley generate`` on each (float WAV), and runs MMAudio's own
   ``generate()`` (its FlowMatching euler, CFG, empty/negative text, unnormalize, decode, vocode)
   on the same frames, with MMAudio's sequence lengths set the way its demo sets them
   (``SequenceConfig.duration`` then ``net.update_seq_lengths``) and foley4j's initial noise
   (``foley noise``: foley4j's public ``InitialNoise``, drawn as ``hvf-check`` draws it). Compares
   the audio (relative L2) and writes ``DIR/report.json``.
"""

import argparse
import contextlib
import dataclasses
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn

from . import frames as fr
from .hvf_check import foley_noise, read_float_wav

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# open_clip's ViT-H-14-378-quickgelu config at the 384 px of apple/DFN5B-CLIP-ViT-H-14-384, which
# MMAudio loads (features_utils.py:49-50; the 384 px: eval_utils.py:161, features_utils.py:91)
DFN5B_H14_384 = {
    "embed_dim": 1024, "quick_gelu": True,
    "vision_cfg": {"image_size": 384, "layers": 32, "width": 1280, "head_width": 80, "patch_size": 14},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 1024, "heads": 16, "layers": 24},
}

# nvidia/bigvgan_v2_44khz_128band_512x (MMAudio's 44 kHz vocoder, autoencoder.py:30-31)
BIGVGAN_44K = {
    "resblock": "1", "num_mels": 128, "upsample_rates": [8, 4, 2, 2, 2, 2],
    "upsample_kernel_sizes": [16, 8, 4, 4, 4, 4], "upsample_initial_channel": 1536,
    "resblock_kernel_sizes": [3, 7, 11], "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
    "activation": "snakebeta", "snake_logscale": True, "use_tanh_at_final": False,
    "use_bias_at_final": False, "sampling_rate": 44100, "hop_size": 512,
}

def mmaudio_config(seed=0, steps=25):
    """The tool's model-set config for MMAudio small_44k (what ``export.Spec`` reads)."""
    return {
        "kind": "mmaudio", "seed": seed, "name": "mmaudio-small_44k-random",
        "visual": {"size": 384, "fps": 8, "mean": CLIP_MEAN, "std": CLIP_STD},
        "sync": {"size": 224, "fps": 25},
        "text": {"max_tokens": 77, "style": "clip"},
        "denoiser": {"latent_channels": 40},
        "vae": {"sample_rate": 44100, "hop": 1024},
        "steps": steps, "cfg": 4.5, "negative_prompt": "",
    }


def redraw_zero_parameters(module, seed, std=0.02):
    """Draws anew, from N(0, std^2), every parameter that is all zeros or not finite, and leaves the
    others as the class initialised them; returns the names redrawn. A zero weight hides the
    computation behind it from a random-weight check (MMAudio zero-initialises its adaLN gates and
    final layer, Synchformer its 3-D patch embedding)."""
    gen = torch.Generator().manual_seed(seed)
    redrawn = []
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.numel() and (not torch.isfinite(p).all() or not p.any()):
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float32).to(p.dtype) * std)
                redrawn.append(name)
    return redrawn


def cut_blocks(blocks, n):
    """Keeps the first ``n`` modules of a block list (``n`` 0 or None: all)."""
    if n:
        del blocks[n:]
    return len(blocks)


class VaeStage(nn.Module):
    """``FeaturesUtils.decode``/``vocode`` without their ``inference_mode`` decorators (which the
    exporter's tracing does not need): decode takes MMAudio's [B, N, C] latents."""

    def __init__(self, tod):
        super().__init__()
        self.tod = tod

    def decode(self, z):
        return self.tod.vae.decode(z.transpose(1, 2))

    def vocode(self, spec):
        return self.tod.vocoder(spec)


def build(seed=0, clip_layers=1, sync_layers=1):
    """MMAudio's modules (real classes, random weights). Returns (models, feature_utils, info)."""
    import open_clip
    from mmaudio.ext.autoencoder import AutoEncoderModule
    from mmaudio.ext.autoencoder.vae import get_my_vae
    from mmaudio.ext.bigvgan_v2.bigvgan import BigVGAN as BigVGANv2
    from mmaudio.ext.bigvgan_v2.env import AttrDict
    from mmaudio.ext.synchformer import Synchformer
    from mmaudio.model.networks import get_my_mmaudio
    from mmaudio.model.utils.features_utils import FeaturesUtils, patch_clip

    torch.manual_seed(seed)
    info = {}
    net = get_my_mmaudio("small_44k").eval()
    with torch.no_grad():  # NaN until a checkpoint is loaded (networks.py:134-141)
        net.latent_mean.copy_(torch.randn(net.latent_mean.shape) * 0.5)
        net.latent_std.copy_(torch.rand(net.latent_std.shape) + 0.5)
    info["net_redrawn"] = redraw_zero_parameters(net, seed + 1)

    cfg = json.loads(json.dumps(DFN5B_H14_384))
    if clip_layers:
        cfg["vision_cfg"]["layers"] = clip_layers
        cfg["text_cfg"]["layers"] = clip_layers
    clip = open_clip.model.CLIP(**cfg).eval()
    clip = patch_clip(clip)
    info["clip_redrawn"] = len(redraw_zero_parameters(clip, seed + 2))
    info["clip_layers"] = [len(clip.visual.transformer.resblocks), len(clip.transformer.resblocks)]

    sync = Synchformer().eval()
    info["sync_layers"] = cut_blocks(sync.vfeat_extractor.blocks, sync_layers)
    info["sync_redrawn"] = redraw_zero_parameters(sync, seed + 3)

    vae = get_my_vae("44k").eval()
    vae.remove_weight_norm()
    del vae.encoder
    vocoder = BigVGANv2(AttrDict(dict(BIGVGAN_44K)), use_cuda_kernel=False).eval()
    # with autograd off, torch's remove_parametrizations leaves the weights as plain tensors
    # rather than parameters (then invisible to parameters() and to the redraw)
    with contextlib.redirect_stdout(sys.stderr), torch.enable_grad():
        vocoder.remove_weight_norm()
    info["vocoder_redrawn"] = len(redraw_zero_parameters(vocoder, seed + 4))
    tod = AutoEncoderModule.__new__(AutoEncoderModule)  # its __init__ loads checkpoints
    nn.Module.__init__(tod)
    tod.vae, tod.vocoder = vae, vocoder
    for p in tod.parameters():
        p.requires_grad = False

    fu = FeaturesUtils(tod_vae_ckpt=None, enable_conditions=False, mode="44k")
    fu.clip_model = clip
    fu.clip_preprocess = _normalize(CLIP_MEAN, CLIP_STD)
    fu.synchformer = sync
    fu.tokenizer = open_clip.get_tokenizer("ViT-H-14-378-quickgelu")  # MMAudio's own call: SimpleTokenizer
    fu.tod = tod
    fu = fu.eval()
    models = {"clip": clip, "synchformer": sync, "net": net, "vae": VaeStage(tod)}
    info["params_m"] = {k: round(sum(p.numel() for p in m.parameters()) / 1e6, 1) for k, m in
                        (("net", net), ("clip", clip), ("synchformer", sync), ("vae", vae), ("vocoder", vocoder))}
    return models, fu, info


def _normalize(mean, std):
    from torchvision.transforms import Normalize  # what features_utils.py:51-52 builds
    return Normalize(mean=mean, std=std)


# ---- MMAudio's side --------------------------------------------------------------------------------

@contextlib.contextmanager
def initial_noise(x0):
    """Makes the one ``torch.randn`` call of MMAudio's ``generate()`` (eval_utils.py:128-134)
    return ``x0`` [B, L, C]; refuses a call of any other shape (a wrong latent length)."""
    real = torch.randn
    calls = []

    def randn(*size, **kwargs):
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
        if shape != tuple(x0.shape):
            raise RuntimeError("MMAudio asked for noise of shape %s, foley4j's is %s" % (shape, tuple(x0.shape)))
        calls.append(shape)
        return x0.clone().to(kwargs.get("dtype") or x0.dtype)

    torch.randn = randn
    try:
        yield calls
    finally:
        torch.randn = real


def seq_lengths(duration):
    """MMAudio's own SequenceConfig (44.1 kHz) at ``duration``, as demo.py:109 sets it."""
    from mmaudio.model.sequence_config import CONFIG_44K
    seq = dataclasses.replace(CONFIG_44K, duration=duration)
    return seq.latent_seq_len, seq.clip_seq_len, seq.sync_seq_len


def latent_noise(noise, channels):
    """foley4j's noise of a pass, [channels, latents] (``foley noise``), as MMAudio's x0 [1, latents,
    channels]."""
    return torch.from_numpy(np.asarray(noise, np.float32)).reshape(channels, -1).t().unsqueeze(0)


def mma_generate(models, fu, clip_frames, sync_frames, prompt, negative, cfg, steps, noise, duration):
    """MMAudio's own generate() at ``duration`` (update_seq_lengths as demo.py:109-110)."""
    from mmaudio.eval_utils import generate
    from mmaudio.model.flow_matching import FlowMatching
    net = models["net"]
    lat, nclip, nsync = seq_lengths(duration)
    net.update_seq_lengths(lat, nclip, nsync)
    x0 = latent_noise(noise, net.latent_dim)
    fm = FlowMatching(min_sigma=0, inference_mode="euler", num_steps=steps)
    with torch.inference_mode(), initial_noise(x0) as calls:
        audio = generate(clip_frames.unsqueeze(0), sync_frames.unsqueeze(0), [prompt],
                         negative_text=None if negative is None else [negative], feature_utils=fu, net=net,
                         fm=fm, rng=torch.Generator().manual_seed(0), cfg_strength=cfg)
    if len(calls) != 1:
        raise RuntimeError("generate() drew noise %d times" % len(calls))
    return audio[0, 0].float().numpy(), {"latents": lat, "clip": nclip, "sync_tokens": nsync}


def clip_inputs(frames, vis_idx, syn_idx):
    """MMAudio's frame tensors for ``generate``: CLIP frames in [0, 1] at 384 (normalised by
    FeaturesUtils), Synchformer frames at 224 normalised with 0.5 (eval_utils.py:168-182), resized
    as load_video's torchvision v2 transforms resize uint8 tensors: torch's uint8 antialiased
    bicubic (the bundle's ``torch-bicubic``), squashed to 384 and short side 224 + centre crop."""
    clip = [fr.resize_squash_torch(frames[i], 384) for i in vis_idx]
    sync = [fr.resize_center_crop_torch(frames[i], 224) for i in syn_idx]
    return (torch.from_numpy(fr.to_tensor_array(clip, [0.0] * 3, [1.0] * 3)),
            torch.from_numpy(fr.to_tensor_array(sync, [0.5] * 3, [0.5] * 3)))


def own_frames(video, duration, frames, pts):
    """MMAudio's own ``load_video`` (eval_utils.py:168-223: PyAV decoding, torchvision v2 resizes)
    on ``video``, as its demo calls it, next to this check's own reading of the same rules
    (:func:`single_pass_frames` on the ffmpeg CLI's frames, :func:`clip_inputs`). Returns
    ``(clip_frames, sync_frames, duration, comparison)`` from MMAudio's side; ``comparison`` says
    whether both readings gave the same frame counts and by how much their pictures differ."""
    from pathlib import Path

    from mmaudio.eval_utils import load_video
    info = load_video(Path(video), duration)
    vis, syn, d = single_pass_frames(pts, duration)
    cf, sf = clip_inputs(frames, vis, syn)
    same = tuple(cf.shape) == tuple(info.clip_frames.shape) and tuple(sf.shape) == tuple(info.sync_frames.shape)
    comparison = {"duration": [float(info.duration_sec), d],
                  "clip_frames": [list(info.clip_frames.shape), list(cf.shape)],
                  "sync_frames": [list(info.sync_frames.shape), list(sf.shape)], "same_counts": same}
    if same:
        # in units of one 8-bit level: the CLIP frames are v/255, the sync frames (v/255 - 0.5)/0.5
        comparison["clip_max_levels"] = float((info.clip_frames - cf).abs().max()) * 255
        comparison["sync_max_levels"] = float((info.sync_frames - sf).abs().max()) * 255 / 2
    return info.clip_frames, info.sync_frames, float(info.duration_sec), comparison


def single_pass_frames(pts, requested=8.0):
    """read_frames + load_video (av_utils.py:55-90, eval_utils.py:168-223): the accumulated grid to
    the requested duration, then the duration both streams cover and int(fps * d) frames."""
    vis = fr.pick_accumulating(pts, 8.0, start_sec=0.0, end_sec=requested)
    syn = fr.pick_accumulating(pts, 25.0, start_sec=0.0, end_sec=requested)
    d = min(requested, len(vis) / 8.0, len(syn) / 25.0)
    return vis[:int(8.0 * d)], syn[:int(25.0 * d)], d


# ---- foley4j's side --------------------------------------------------------------------------------

class Foley4j:
    def __init__(self, cli_jar):
        self.jar = os.path.abspath(cli_jar)
        if not os.path.isfile(self.jar):
            raise SystemExit("no foley CLI jar at %s (build: mvn -B -q -o -pl foley-cli -am package -DskipTests)"
                             % self.jar)

    def noise(self, seed, k, channels, latents, path):
        """foley4j's initial noise of pass ``k`` [channels, latents] (``foley noise``)."""
        return foley_noise(self.jar, seed, channels, latents, path, pass_index=k)

    def generate(self, bundle, video, prompt, negative, cfg, steps, seed, out):
        cmd = ["java", "-jar", self.jar, "generate", "--bundle", bundle, "--video", video, "--prompt", prompt,
               "--cfg", repr(cfg), "--steps", str(steps), "--seed", str(seed), "--float", "--out", out,
               "--progress", "none", "--warm-up", "none", "--segments-in-flight", "1"]
        if negative is not None:
            cmd += ["--neg-prompt", negative]
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("foley generate failed (%d): %s" % (r.returncode, r.stderr[-3000:]))
        return read_float_wav(out)[0], time.time() - t0


def rel_l2(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


# ---- clips -----------------------------------------------------------------------------------------

CLIPS = [
    # name, ffmpeg rate, frames, prompt, negative, cfg
    ("3s-25fps", "25", 75, "dog barking", None, 4.5),
    ("7.97s-29.97fps", "30000/1001", 239, "Rain on a metal roof \u2014 it\u2019s loud", "wind noise", 4.5),
    ("10s-25fps-segments", "25", 250, "footsteps on gravel", None, 4.5),
]


def make_clip(path, rate, frames):
    """A synthetic clip: a moving box and a hue change over a test pattern (H.264, yuv420p)."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=%s" % rate, "-vf", "hue=h=t*40",
                    "-frames:v", str(frames), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "30", path],
                   check=True)


def run(args):
    t_start = time.time()
    from . import standins
    work = os.path.abspath(args.out)
    os.makedirs(work, exist_ok=True)
    # MMAudio's own load_video needs the real torchvision; without it the check reads the frames
    # itself by the same rules (a CUDA build of torchvision imports beside a CPU torch this way)
    with_load_video = importlib.util.find_spec("torchvision") is not None
    if with_load_video:
        standins.import_torchvision()
    _, stood_in = standins.install(standins.MMAUDIO, os.path.join(work, "standins"))
    sys.path.insert(0, os.path.abspath(args.mmaudio_repo))
    torch.set_grad_enabled(False)
    report = {"torch": torch.__version__, "standins": stood_in, "steps": args.steps, "seed": args.seed}

    t0 = time.time()
    models, fu, info = build(args.seed, args.clip_layers, args.sync_layers)
    report["build"] = info
    report["build_seconds"] = round(time.time() - t0, 1)
    print(json.dumps({"built": info["params_m"], "seconds": report["build_seconds"]}), flush=True)

    bundle = os.path.join(work, "bundle")
    if not args.skip_export:
        from . import openclip_tokenizer
        from .export import export_bundle
        t0 = time.time()
        if os.path.isdir(bundle):
            shutil.rmtree(bundle)
        with torch.enable_grad():
            tok = openclip_tokenizer.write(os.path.join(work, "tokenizer.json"))
            export_bundle("mmaudio", models, mmaudio_config(args.seed), bundle, external_data=True,
                          parity_out=os.path.join(work, "stages.npz") if args.parity else None, tokenizer_json=tok)
        report["export_seconds"] = round(time.time() - t0, 1)
        report["bundle_mib"] = round(sum(os.path.getsize(os.path.join(bundle, f)) for f in os.listdir(bundle)
                                         if os.path.isfile(os.path.join(bundle, f))) / (1 << 20), 1)
        print(json.dumps({"exported": bundle, "seconds": report["export_seconds"]}), flush=True)

    foley = Foley4j(args.foley_cli)
    channels = models["net"].latent_dim
    results = []
    names = [c for c in CLIPS if not args.clips or c[0] in args.clips.split(",")]
    for name, rate, nframes, prompt, negative, cfg in names:
        video = os.path.join(work, name + ".mp4")
        make_clip(video, rate, nframes)
        frames, pts = fr.decode_video(video)
        duration = fr.default_duration(pts)
        res = {"clip": name, "frames": len(pts), "duration": round(duration, 6), "prompt": prompt,
               "negative": negative, "cfg": cfg}
        got, res["foley4j_seconds"] = foley.generate(bundle, video, prompt, negative, cfg, args.steps, args.seed,
                                                     os.path.join(work, name + ".foley4j.wav"))
        res["foley4j_samples"] = int(got.shape[0])
        t0 = time.time()
        if duration <= 8.0 + 1e-9:
            vis, syn, d = single_pass_frames(pts)
            if with_load_video:
                cf, sf, d, res["load_video"] = own_frames(video, 8.0, frames, pts)
                res["frames_from"] = "MMAudio's load_video"
                if not res["load_video"]["same_counts"]:
                    raise RuntimeError("load_video and the check disagree on the frames: %s" % res["load_video"])
            else:
                cf, sf = clip_inputs(frames, vis, syn)
                res["frames_from"] = "the check's reading of load_video (no torchvision)"
            lat = seq_lengths(d)[0]
            noise = foley.noise(args.seed, 0, channels, lat, os.path.join(work, name + ".noise0.npy"))
            audio, lengths = mma_generate(models, fu, cf, sf, prompt, negative, cfg, args.steps, noise, d)
            keep = int(round(d * 44100))
            res.update({"mode": "single", "mmaudio_duration": d, "mmaudio_lengths": lengths,
                        "n_clip_frames": len(vis), "n_sync_frames": len(syn), "mmaudio_samples": int(audio.shape[0])})
            n = min(keep, got.shape[0], audio.shape[0])
            res["compared_samples"] = n
            res["rel_l2"] = rel_l2(got[:n], audio[:n])
            res["foley4j_tail_max_abs"] = float(np.abs(got[n:]).max()) if got.shape[0] > n else 0.0
        else:
            starts = fr.segment_starts(duration, 8.0, 1.0)
            seg_audio = []
            for k, start in enumerate(starts):
                vis = fr.pick_at_or_after(pts, fr.accumulated_times(start, 8.0, 64), tolerance=0.0)
                syn = fr.pick_at_or_after(pts, fr.accumulated_times(start, 25.0, 200), tolerance=0.0)
                cf, sf = clip_inputs(frames, vis, syn)
                noise = foley.noise(args.seed, k, channels, 345, os.path.join(work, "%s.noise%d.npy" % (name, k)))
                a, lengths = mma_generate(models, fu, cf, sf, prompt, negative, cfg, args.steps, noise, 8.0)
                seg_audio.append(a)
            sr = 44100
            first_end = int(round(starts[1] * sr))  # segment 0 alone until segment 1 starts
            last_start = int(round((starts[-2] + 8.0) * sr))  # the last segment alone after the one before ends
            off = int(round(starts[-1] * sr))
            end = min(got.shape[0], off + seg_audio[-1].shape[0])
            res.update({"mode": "segments", "starts": starts, "mmaudio_lengths": lengths,
                        "rel_l2_first_alone": rel_l2(got[:first_end], seg_audio[0][:first_end]),
                        "rel_l2_last_alone": rel_l2(got[last_start:end], seg_audio[-1][last_start - off:end - off]),
                        "compared_samples": [first_end, end - last_start]})
        res["mmaudio_seconds"] = round(time.time() - t0, 1)
        results.append(res)
        print(json.dumps(res), flush=True)
        _write_report(work, report, results, t_start)
    return _write_report(work, report, results, t_start)


def _write_report(work, report, results, t_start):
    """report.json, rewritten after every clip (a long run leaves what it measured)."""
    report["clips"] = results
    report["seconds"] = round(time.time() - t_start, 1)
    report["peak_rss_mib"] = {
        "python": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "children (largest: java)": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}
    with open(os.path.join(work, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    return report


def add_arguments(p):
    p.add_argument("--mmaudio-repo", required=True, help="a checkout of hkchengrex/MMAudio (its code is imported)")
    p.add_argument("--out", required=True, help="work directory: bundle, clips, report.json")
    p.add_argument("--steps", type=int, default=5, help="sampler steps on both sides (default 5)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--clip-layers", type=int, default=1,
                   help="blocks kept in each CLIP tower (0: all 32/24; default 1)")
    p.add_argument("--sync-layers", type=int, default=1, help="Synchformer blocks kept (0: all 12; default 1)")
    p.add_argument("--foley-cli", default="foley-cli/target/foley.jar", help="foley4j's CLI jar (lib/ beside it)")
    p.add_argument("--clips", default="", help="comma-separated clip names (default: all)")
    p.add_argument("--skip-export", action="store_true", help="reuse DIR/bundle")
    p.add_argument("--parity", action="store_true", help="also write DIR/stages.npz for 'foley bundle check'")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m foley_export mmaudio-check")
    add_arguments(p)
    report = run(p.parse_args(argv))
    print(json.dumps({k: report[k] for k in ("seconds", "peak_rss_mib")}))


if __name__ == "__main__":
    main()
