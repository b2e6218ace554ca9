"""A Python implementation of the models' OWN inference semantics, run on the UNWRAPPED tiny
modules, independent of foley4j and of the export wrappers. The Java test compares foley4j's
output on the exported bundle with what this writes.

HunyuanVideo-Foley (kind "hvf"), after HVF@df7b005:
  * frames: ``get_frames_av`` (feature_utils.py:20-61) at 8 fps (SigLIP2) and 25 fps (Synchformer),
    accumulated grid time, frames after 15 s dropped, no truncation (max_length None).
  * pictures: SigLIP2 ``Resize((S,S))`` on the PIL image (bilinear), ToTensor, Normalize 0.5
    (model_utils.py:67-71); Synchformer frames: HVF resizes uint8 *tensors* (torchvision v2
    Resize(S, BICUBIC) + CenterCrop, model_utils.py:330-338, feature_utils.py:119-120), i.e. torch's
    uint8 antialiased bicubic of the short side + centre crop, which is foley4j's ``torch-bicubic``
    + ``center_crop`` (with a torch older than 2.1, which has no uint8 bicubic, PIL's bicubic, at
    most 1 level away).
  * windows ``(t - 16) // 8 + 1`` of 16 frames every 8 (feature_utils.py:87-93);
    ``audio_len_in_s = n_sync / 25`` (feature_utils.py:124).
  * text: ``[negative, prompt]`` tokenized together, padded to the longer (``padding=True``),
    encoded together, last hidden state cut to ``text_length`` 77 when longer
    (feature_utils.py:130-150).
  * sampler: FlowMatchDiscreteScheduler (scheduling_flow_match_discrete.py:131-171, 210-297):
    sigmas = linspace(1, 0, steps + 1), sd3 shift when shift != 1, network fed sigma * 1000,
    Euler ``x += (sigma_next - sigma) * out``; latent length int(audio_len_in_s * 50)
    (model_utils.py:407-414, 373-375); CFG only when cfg > 1, unconditional row FIRST, empties
    from get_empty_clip_sequence / get_empty_sync_sequence (model_utils.py:417-472);
    DAC decode and ``audio[:, :int(audio_len_in_s * sr)]`` (model_utils.py:476-480), which slices
    the channel axis of DAC's [B, 1, S] output and so trims nothing: all L * hop samples are kept.

MMAudio (kind "mmaudio"), after MMAudio@974010a:
  * frames: ``read_frames`` (av_utils.py:55-90), the same accumulated rule from 0 to
    ``duration``; then ``load_video`` shortens ``duration`` to what both streams cover and keeps
    ``int(8 * duration)`` / ``int(25 * duration)`` frames (eval_utils.py:200-214).
  * pictures: uint8 tensors through torchvision v2 (eval_utils.py:170-182): CLIP frames
    ``Resize((384, 384), BICUBIC)``, Synchformer frames ``Resize(224, BICUBIC)`` + ``CenterCrop``,
    i.e. torch's uint8 antialiased bicubic, foley4j's ``torch-bicubic`` (squash / centre crop).
  * lengths: SequenceConfig (sequence_config.py:27-41): latents ``ceil(duration * sr / 512 / 2)``.
  * text: open_clip's fixed 77 tokens, ``encode_text(normalize=True)``; negative prompt encoded
    when given, else the learned ``empty_string_feat`` (eval_utils.py:117-126, networks.py:310-318).
  * sampler: FlowMatching euler, ``linspace(0, 1 - min_sigma, steps + 1)``, ``x += dt * flow``
    (flow_matching.py:57-71); ``ode_wrapper``: conditional only when cfg < 1, else
    ``cfg * v_c + (1 - cfg) * v_u`` as two calls (networks.py:332-340); ``unnormalize``, decode,
    vocode; MMAudio's demo keeps all ``latents * hop`` samples (demo.py:123-129).

Segments (``--segments``): foley4j's plan, not the models' (neither model cuts long clips):
segments of ``seconds`` every ``seconds - overlap``, the last one end-aligned at D - seconds; frame
times on the accumulated grid (``frameGrid: accumulated``, see ``frames.accumulated_times``) by the
``at-or-after`` rule compared exactly; the trained segment's counts.
"""

import json
import math
import os

import numpy as np
import torch
from PIL import Image

from . import frames as fr
from .compat import image_features
from .tokenizer import WordTokenizer

HVF_TEXT_LENGTH = 77
HVF_END_SEC = 15.0
SEGMENT_SECONDS = 8.0
SEGMENT_OVERLAP = 1.0


# ---- conditioning ------------------------------------------------------------------------------

def _visual_pixels(config, frames, idx):
    v = config["visual"]
    if config["kind"] == "hvf":
        pics = [fr.resize_squash(frames[i], v["size"], Image.BILINEAR) for i in idx]
    else:
        pics = [fr.resize_squash_torch(frames[i], v["size"]) for i in idx]
    return torch.from_numpy(fr.to_tensor_array(pics, v["mean"], v["std"]))


def _sync_pixels(config, frames, idx):
    s = config["sync"]
    pics = [fr.resize_center_crop_torch(frames[i], s["size"]) for i in idx]
    return torch.from_numpy(fr.to_tensor_array(pics, [0.5] * 3, [0.5] * 3))


def _sync_tokens(synchformer, x):
    t = x.shape[0]
    windows = (t - 16) // 8 + 1
    segs = torch.stack([x[i * 8:i * 8 + 16] for i in range(windows)], dim=0)  # [w, 16, 3, S, S]
    out = synchformer(segs.unsqueeze(1))  # [(b s), 1, 8, D]
    return out.reshape(1, windows * 8, -1)


# ---- HunyuanVideo-Foley --------------------------------------------------------------------------

def hvf_sigmas(steps, shift=1.0, reverse=True):
    """FlowMatchDiscreteScheduler.set_timesteps (float32, as torch computes it)."""
    sigmas = torch.linspace(1, 0, steps + 1)
    if shift != 1.0:
        sigmas = (shift * sigmas) / (1 + (shift - 1) * sigmas)
    if not reverse:
        sigmas = 1 - sigmas
    return sigmas


def hvf_text(config, models, prompt, negative):
    tok = WordTokenizer(config["text"]["style"])
    ids, mask = tok.pair_longest([negative, prompt], config["text"].get("max_positions", 512))
    h = models["clap"](input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state
    cond, uncond = h[1:], h[:1]
    if HVF_TEXT_LENGTH < cond.shape[1]:
        cond, uncond = cond[:, :HVF_TEXT_LENGTH], uncond[:, :HVF_TEXT_LENGTH]
    return cond, uncond, ids, mask


def hvf_sample(config, models, visual, sync, cond, uncond, cfg, steps, noise, audio_len_in_s):
    foley, dac = models["foley"], models["dac"]
    sigmas = hvf_sigmas(steps, config.get("shift", 1.0), config.get("flow_reverse", True))
    timesteps = (sigmas[:-1] * config.get("num_train_timesteps", 1000)).to(torch.float32)
    length = int(audio_len_in_s * config["latent_rate"])
    x = torch.from_numpy(np.asarray(noise, np.float32)).reshape(1, config["denoiser"]["latent_channels"], -1)
    if x.shape[2] != length:
        raise ValueError("noise has %d latents, HVF's rule gives int(%r * %r) = %d"
                         % (x.shape[2], audio_len_in_s, config["latent_rate"], length))
    guide = cfg > 1.0
    for i, t in enumerate(timesteps):
        inp = torch.cat([x, x]) if guide else x
        t_expand = t.repeat(inp.shape[0])
        if guide:
            clip = torch.cat([foley.get_empty_clip_sequence(bs=1, len=visual.shape[1]), visual])
            syn = torch.cat([foley.get_empty_sync_sequence(bs=1, len=sync.shape[1]), sync])
            txt = torch.cat([uncond, cond])
        else:
            clip, syn, txt = visual, sync, cond
        out = foley(x=inp, t=t_expand, cond=txt, clip_feat=clip, sync_feat=syn, return_dict=True)["x"].float()
        if guide:
            u, c = out.chunk(2)
            out = u + cfg * (c - u)
        x = x + out * (sigmas[i + 1] - sigmas[i])
    audio = dac.decode(x).float()  # [1, 1, L * hop] (DAC.decode, dac.py:277-291)
    # HVF's ``audio[:, :int(audio_len_in_s * sr)]`` (model_utils.py:480) slices axis 1 of this
    # [B, 1, S] tensor, the channel axis, so it keeps every sample; done the same way here.
    audio = audio[:, :int(audio_len_in_s * dac.sample_rate)]
    return x[0], audio[0, 0]


# ---- MMAudio -----------------------------------------------------------------------------------

def mma_text(config, models, prompt, negative):
    tok = WordTokenizer(config["text"]["style"])
    n = config["text"]["max_tokens"]
    ids, _ = tok.fixed([prompt], n)
    cond = models["clip"].encode_text(torch.from_numpy(ids), normalize=True)
    if negative is not None:
        nids, _ = tok.fixed([negative], n)
        uncond = models["clip"].encode_text(torch.from_numpy(nids), normalize=True)
    else:
        uncond = models["net"].get_empty_string_sequence(1)
    return cond, uncond, ids


def mma_sample(config, models, visual, sync, cond, uncond, cfg, steps, noise, length):
    net, vae = models["net"], models["vae"]
    x = torch.from_numpy(np.asarray(noise, np.float32)).reshape(net.latent_dim, -1).t().unsqueeze(0)  # [1, L, C]
    if x.shape[1] != length:
        raise ValueError("noise has %d latents, MMAudio's rule gives %d" % (x.shape[1], length))
    empty_clip = net.get_empty_clip_sequence(1, visual.shape[1])
    empty_sync = net.get_empty_sync_sequence(1, sync.shape[1])
    ts = torch.linspace(0, 1 - 0.0, steps + 1)
    for i, t in enumerate(ts[:-1]):
        tb = t * torch.ones(len(x), dtype=x.dtype)
        if cfg < 1.0:
            flow = net(x, visual, sync, cond, tb)
        else:
            flow = cfg * net(x, visual, sync, cond, tb) + (1 - cfg) * net(x, empty_clip, empty_sync, uncond, tb)
        x = x + (ts[i + 1] - t) * flow
    audio = vae.vocode(vae.decode(net.unnormalize(x)))
    return x[0].t(), audio[0, 0]


# ---- one pass and segments ---------------------------------------------------------------------

def single_pass(config, models, frames, pts, prompt, negative, cfg, steps, noise, duration=None):
    kind = config["kind"]
    res = {}
    with torch.no_grad():
        if kind == "hvf":
            vis_idx = fr.pick_accumulating(pts, config["visual"]["fps"], end_sec=HVF_END_SEC)
            syn_idx = fr.pick_accumulating(pts, config["sync"]["fps"], end_sec=HVF_END_SEC)
            visual = image_features(models["siglip2"].get_image_features(
                pixel_values=_visual_pixels(config, frames, vis_idx)))  # transformers 5.x: an output object
            visual = visual.unsqueeze(0)
            sync = _sync_tokens(models["synchformer"], _sync_pixels(config, frames, syn_idx))
            audio_len_in_s = len(syn_idx) / config["sync"]["fps"]
            neg = negative if negative is not None else config["negative_prompt"]
            cond, uncond, ids, mask = hvf_text(config, models, prompt, neg)
            lat, audio = hvf_sample(config, models, visual, sync, cond, uncond, cfg, steps, noise, audio_len_in_s)
            res["duration"] = audio_len_in_s
        else:
            d = 8.0 if duration is None else float(duration)
            vfps, sfps = config["visual"]["fps"], config["sync"]["fps"]
            vis_idx = fr.pick_accumulating(pts, vfps, start_sec=0.0, end_sec=d)
            syn_idx = fr.pick_accumulating(pts, sfps, start_sec=0.0, end_sec=d)
            d = min(d, len(vis_idx) / vfps, len(syn_idx) / sfps)
            vis_idx = vis_idx[:int(vfps * d)]
            syn_idx = syn_idx[:int(sfps * d)]
            sr, hop = config["vae"]["sample_rate"], int(np.prod(config["vae"]["strides"]))
            length = int(math.ceil(d * sr / (hop // 2) / 2))
            visual = models["clip"].encode_image(_visual_pixels(config, frames, vis_idx), normalize=True).unsqueeze(0)
            sync = _sync_tokens(models["synchformer"], _sync_pixels(config, frames, syn_idx))
            cond, uncond, ids = mma_text(config, models, prompt, negative)
            lat, audio = mma_sample(config, models, visual, sync, cond, uncond, cfg, steps, noise, length)
            res["duration"] = d
            res["audio_trimmed"] = audio[:int(round(d * sr))].numpy()
    res.update({"latents_0": lat.numpy(), "audio_0": audio.numpy(), "audio": audio.numpy(),
                "text": cond[0].numpy(), "text_uncond": uncond[0].numpy(), "visual": visual[0].numpy(),
                "sync": sync[0].numpy(), "input_ids": ids, "frames_visual": np.asarray(vis_idx),
                "frames_sync": np.asarray(syn_idx)})
    res["counts"] = {"mode": "single", "n_visual": len(vis_idx), "n_sync": len(syn_idx),
                     "sync_tokens": int(sync.shape[1]), "latents": int(lat.shape[1]),
                     "samples": int(audio.shape[0]), "text_tokens": int(cond.shape[1]),
                     "duration": res["duration"]}
    return res


def segments(config, models, frames, pts, prompt, negative, cfg, steps, noises, duration):
    kind = config["kind"]
    starts = fr.segment_starts(duration, SEGMENT_SECONDS, SEGMENT_OVERLAP)
    if len(noises) != len(starts):
        raise ValueError("%d segments need %d noise arrays, got %d" % (len(starts), len(starts), len(noises)))
    vfps, sfps = config["visual"]["fps"], config["sync"]["fps"]
    nv, ns = int(round(SEGMENT_SECONDS * vfps)), int(round(SEGMENT_SECONDS * sfps))
    res = {"segment_starts": np.asarray(starts, np.float64)}
    counts = {"mode": "segments", "starts": starts, "segments": []}
    with torch.no_grad():
        if kind == "hvf":
            neg = negative if negative is not None else config["negative_prompt"]
            cond, uncond, ids, _ = hvf_text(config, models, prompt, neg)
        else:
            cond, uncond, ids = mma_text(config, models, prompt, negative)
        for k, start in enumerate(starts):
            # foley4j's segments keep the models' accumulated grid and exact comparison (frameGrid)
            vis_idx = fr.pick_at_or_after(pts, fr.accumulated_times(start, vfps, nv), tolerance=0.0)
            syn_idx = fr.pick_at_or_after(pts, fr.accumulated_times(start, sfps, ns), tolerance=0.0)
            if kind == "hvf":
                visual = image_features(models["siglip2"].get_image_features(
                    pixel_values=_visual_pixels(config, frames, vis_idx))).unsqueeze(0)
                sync = _sync_tokens(models["synchformer"], _sync_pixels(config, frames, syn_idx))
                lat, audio = hvf_sample(config, models, visual, sync, cond, uncond, cfg, steps, noises[k],
                                        ns / sfps)
            else:
                visual = models["clip"].encode_image(_visual_pixels(config, frames, vis_idx),
                                                     normalize=True).unsqueeze(0)
                sync = _sync_tokens(models["synchformer"], _sync_pixels(config, frames, syn_idx))
                sr, hop = config["vae"]["sample_rate"], int(np.prod(config["vae"]["strides"]))
                length = int(math.ceil(SEGMENT_SECONDS * sr / (hop // 2) / 2))
                lat, audio = mma_sample(config, models, visual, sync, cond, uncond, cfg, steps, noises[k], length)
            res["latents_%d" % k] = lat.numpy()
            res["audio_%d" % k] = audio.numpy()
            res["visual_%d" % k] = visual[0].numpy()
            res["sync_%d" % k] = sync[0].numpy()
            res["frames_visual_%d" % k] = np.asarray(vis_idx)
            res["frames_sync_%d" % k] = np.asarray(syn_idx)
            counts["segments"].append({"start": start, "n_visual": nv, "n_sync": ns,
                                       "sync_tokens": int(sync.shape[1]), "latents": int(lat.shape[1]),
                                       "samples": int(audio.shape[0])})
    res.update({"text": cond[0].numpy(), "text_uncond": uncond[0].numpy(), "input_ids": ids})
    counts["text_tokens"] = int(cond.shape[1])
    counts["duration"] = duration
    res["counts"] = counts
    return res


def _noises(spec, n):
    if "{k}" in spec:
        return [np.load(spec.format(k=k)) for k in range(n)]
    if "," in spec:
        return [np.load(p) for p in spec.split(",")]
    return [np.load(spec)]


def run_cli(args):
    from . import tiny
    config, models = tiny.load(args.checkpoint)
    if config["kind"] != args.kind:
        raise SystemExit("checkpoint is %s, not %s" % (config["kind"], args.kind))
    if args.video:
        frames, pts = fr.decode_video(args.video)
    else:
        if not (args.frames and args.pts):
            raise SystemExit("give --video, or --frames and --pts")
        frames, pts = np.load(args.frames), np.load(args.pts).astype(np.float64)
    if args.segments:
        d = args.duration if args.duration is not None else fr.default_duration(pts)
        n = len(fr.segment_starts(d, SEGMENT_SECONDS, SEGMENT_OVERLAP))
        res = segments(config, models, frames, pts, args.prompt, args.negative, args.cfg, args.steps,
                       _noises(args.noise, n), d)
    else:
        res = single_pass(config, models, frames, pts, args.prompt, args.negative, args.cfg, args.steps,
                          np.load(args.noise), args.duration)
    write(res, args.out)
    return res


def write(res, out):
    arrays = {k: v for k, v in res.items() if k != "counts" and k != "duration"}
    for k, v in res["counts"].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            arrays[k] = np.asarray(v)
    np.savez(out, **arrays)
    side = os.path.splitext(out)[0] + ".json"
    with open(side, "w") as f:
        json.dump(res["counts"], f, indent=2)
        f.write("\n")
