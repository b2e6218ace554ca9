"""Export a model set to a foley4j bundle (format v2): five ONNX stages, tokenizer.json,
unconditional.safetensors and foley-bundle.json, plus optional per-stage parity data."""

import hashlib
import io
import json
import math
import os
import shutil
import warnings

import numpy as np
import onnx
import torch

from . import safetensors_io
from .patches import export_patches
from .tokenizer import WordTokenizer
from .wrappers import stage_modules

MANIFEST = "foley-bundle.json"
STAGES = ("visual_encoder", "sync_encoder", "text_encoder", "denoiser", "vae_decoder")
EXTERNAL_THRESHOLD = 1024  # bytes: smaller tensors stay inline (shape inference reads them)

# input/output names and which axes are symbolic, with foley4j's axis names
AXES = {
    "visual_encoder": ({"pixels": {0: "batch"}}, {"features": {0: "batch"}}),
    "sync_encoder": ({"frames": {0: "batch"}}, {"tokens": {0: "batch"}}),
    "text_encoder": ({"input_ids": {0: "batch", 1: "text_tokens"},
                      "attention_mask": {0: "batch", 1: "text_tokens"}},
                     {"text_embeds": {0: "batch", 1: "text_tokens"}}),
    "denoiser": ({"latents": {0: "batch", 2: "latent_len"}, "timestep": {0: "batch"},
                  "visual": {0: "batch", 1: "visual_len"}, "sync": {0: "batch", 1: "sync_len"},
                  "text": {0: "batch", 1: "text_len"}},
                 {"velocity": {0: "batch", 2: "latent_len"}}),
    "vae_decoder": ({"latents": {0: "batch", 2: "latent_len"}}, {"audio": {0: "batch", 1: "audio_len"}}),
}


def axes_for(spec):
    """AXES, with the text axes fixed (maxTokens) when the text padding is "fixed"."""
    import copy
    axes = copy.deepcopy(AXES)
    if spec.text_padding == "fixed":
        for d in axes["text_encoder"][0].values():
            d.pop(1, None)
        axes["text_encoder"][1]["text_embeds"].pop(1, None)
        axes["denoiser"][0]["text"].pop(1, None)
    return axes


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Spec:
    """Everything the manifest says about a model set, from its config (tiny or real)."""

    def __init__(self, config):
        self.config = config
        self.kind = config["kind"]
        v, s, t = config["visual"], config["sync"], config["text"]
        self.visual_fps = float(v["fps"])
        self.visual_size = int(v["size"])
        self.visual_mean = v["mean"]
        self.visual_std = v["std"]
        self.sync_fps = float(s["fps"])
        self.sync_size = int(s["size"])
        self.max_tokens = int(t["max_tokens"])
        self.latent_channels = int(config["denoiser"]["latent_channels"])
        self.sample_rate = int(config["vae"]["sample_rate"])
        self.hop = int(np.prod(config["vae"]["strides"])) if "strides" in config["vae"] else int(config["vae"]["hop"])
        if self.kind == "hvf":
            self.latent_rate = float(config["latent_rate"])
            self.text_padding = "pair-longest"
            self.encoder_max_tokens = int(t.get("max_positions", 512))
            self.segment = {"seconds": 8.0, "overlapSeconds": 1.0, "singlePassMaxSeconds": 15.0,
                            "singlePassLength": "sync-frames", "latents": 400, "samples": 400 * self.hop}
            self.guidance = "above-one"
            self.visual_filter = "pil-bilinear"
            # Synchformer frames: torchvision v2.Resize(224, BICUBIC) on uint8 tensors, i.e. torch's
            # uint8 antialiased bicubic (model_utils.py:330-338)
            self.sync_filter = "torch-bicubic"
        else:
            self.latent_rate = self.sample_rate / self.hop
            self.text_padding = "fixed"
            self.encoder_max_tokens = self.max_tokens
            lat = int(math.ceil(8.0 * self.sample_rate / self.hop))
            self.segment = {"seconds": 8.0, "overlapSeconds": 1.0, "singlePassMaxSeconds": 8.0,
                            "singlePassLength": "shortest-stream", "latents": lat, "samples": lat * self.hop}
            self.guidance = "at-least-one"
            self.visual_filter = "pil-bicubic"
            self.sync_filter = "pil-bicubic"

    def lengths(self, seconds):
        """Pass lengths for ``seconds`` by foley4j's formulas (used for dummy/parity inputs)."""
        n_sync = max(16, int(round(seconds * self.sync_fps)))
        n_visual = int(round(seconds * self.visual_fps))
        windows = (n_sync - 16) // 8 + 1
        whole = n_sync * self.latent_rate / self.sync_fps
        latents = int(round(whole)) if abs(whole - round(whole)) < 1e-9 else int(math.ceil(seconds * self.latent_rate))
        return {"visual": n_visual, "sync_frames": n_sync, "sync": 8 * windows, "latents": latents}


def stage_inputs(spec, seconds, text_len, batch, gen, dims, tokenizer=None, prompts=None):
    """Example inputs per stage (float32/int64 tensors) at a pass of ``seconds``."""
    n = spec.lengths(seconds)
    S, S2, C = spec.visual_size, spec.sync_size, spec.latent_channels

    def randn(*shape):
        return torch.randn(*shape, generator=gen)

    if tokenizer is not None and prompts is not None:
        if spec.text_padding == "pair-longest":
            ids, mask = tokenizer.pair_longest(prompts, spec.encoder_max_tokens)
        else:
            ids, mask = tokenizer.fixed(prompts, spec.max_tokens)
        ids, mask = torch.from_numpy(ids), torch.from_numpy(mask)
    else:
        t = text_len if spec.text_padding == "pair-longest" else spec.max_tokens
        ids = torch.randint(4, dims.get("vocab", 16), (batch, t), generator=gen)
        mask = torch.ones(batch, t, dtype=torch.int64)
        ids[0, -2:] = tokenizer.pad_id if tokenizer is not None else 1
        mask[0, -2:] = 0
    t_len = ids.shape[1] if spec.text_padding == "pair-longest" else spec.max_tokens
    return {
        "visual_encoder": {"pixels": randn(batch, 3, S, S).clamp(-1, 1)},
        "sync_encoder": {"frames": randn(batch, 16, 3, S2, S2).clamp(-1, 1)},
        "text_encoder": {"input_ids": ids, "attention_mask": mask},
        "denoiser": {"latents": randn(batch, C, n["latents"]),
                     "timestep": torch.linspace(0.2, 0.9, batch),
                     "visual": randn(batch, n["visual"], dims["Dv"]),
                     "sync": randn(batch, n["sync"], dims["Ds"]),
                     "text": randn(batch, t_len, dims["Dt"])},
        "vae_decoder": {"latents": randn(batch, C, n["latents"])},
    }


def _probe_dims(spec, stages, vocab):
    with torch.no_grad():
        f = stages["visual_encoder"](torch.zeros(1, 3, spec.visual_size, spec.visual_size))
        s = stages["sync_encoder"](torch.zeros(1, 16, 3, spec.sync_size, spec.sync_size))
        ids = torch.tensor([[0, 5, 2] + [1] * (spec.max_tokens - 3)]) if spec.text_padding == "fixed" \
            else torch.tensor([[0, 5, 2]])
        t = stages["text_encoder"](ids, torch.ones_like(ids))
    return {"Dv": int(f.shape[-1]), "Ds": int(s.shape[-1]), "Dt": int(t.shape[-1]), "vocab": vocab}


def _run(module, inputs):
    with torch.no_grad():
        return module(*inputs.values())


def _shape_for(name, tensor, axes):
    return [axes[i] if i in axes else int(d) for i, d in enumerate(tensor.shape)]


def _export_stage(name, module, inputs, axes, opset):
    in_axes, out_axes = axes[name]
    dynamic = dict(in_axes)
    dynamic.update(out_axes)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with export_patches(module):
            kwargs = {}
            if "dynamo" in torch.onnx.export.__code__.co_varnames:
                kwargs["dynamo"] = False  # PyTorch >= 2.5: the TorchScript exporter
            torch.onnx.export(module, tuple(inputs.values()), buf, input_names=list(in_axes),
                              output_names=list(out_axes), dynamic_axes=dynamic, opset_version=opset,
                              do_constant_folding=True, **kwargs)
    return onnx.load_model_from_string(buf.getvalue())


def _save(model, path, external):
    """Saves inline, or with all large tensors in ONE external file ``<stage>.onnx.data``."""
    data_name = os.path.basename(path) + ".data"
    data_path = os.path.join(os.path.dirname(path), data_name)
    if os.path.exists(data_path):
        os.remove(data_path)
    if external:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data_name, size_threshold=EXTERNAL_THRESHOLD, convert_attribute=False)
        return data_name if os.path.exists(data_path) else None
    onnx.save_model(model, path)
    return None


def _dims_of(value_info):
    out = []
    for d in value_info.type.tensor_type.shape.dim:
        out.append(d.dim_param if d.HasField("dim_param") else int(d.dim_value))
    return out


ONNX_DTYPES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64"}


def check_stage(path, declared):
    """onnx.checker (path-based, so external data is read) and names/types/shapes vs manifest."""
    onnx.checker.check_model(path, full_check=True)
    model = onnx.load(path, load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    for kind, values in (("inputs", [v for v in model.graph.input if v.name not in inits]),
                         ("outputs", list(model.graph.output))):
        got = [{"name": v.name, "dtype": ONNX_DTYPES.get(v.type.tensor_type.elem_type, "?"),
                "shape": _dims_of(v)} for v in values]
        if got != declared[kind]:
            raise RuntimeError("%s: %s %s do not match the manifest %s" % (path, kind, got, declared[kind]))


def export_bundle(kind, models, config, out_dir, external_data=False, opset=17, parity_out=None,
                  tokenizer_json=None, name=None, description=None):
    """Writes the bundle; returns the manifest dict."""
    spec = Spec(config)
    os.makedirs(out_dir, exist_ok=True)
    tokenizer = WordTokenizer(config["text"]["style"]) if tokenizer_json is None else None
    stages = stage_modules(kind, models, config)
    for m in stages.values():
        m.eval()
    dims = _probe_dims(spec, stages, tokenizer.vocab_size if tokenizer else 1000)

    # parity data first, from the unpatched modules, at lengths unlike the export dummies
    gen = torch.Generator().manual_seed(1234)
    dummy_seconds = 3.0 if kind == "hvf" else 5.0
    dummy = stage_inputs(spec, dummy_seconds, 9, 2, gen, dims, tokenizer)
    if parity_out:
        prompts = ["noisy, harsh", "footsteps on gravel and a dog barking in the distance"] \
            if spec.text_padding == "pair-longest" else ["dog barking", "rain on a metal roof"]
        par = stage_inputs(spec, 8.0, 12, 2, torch.Generator().manual_seed(99), dims, tokenizer, prompts)
        arrays = {}
        for st in STAGES:
            if spec.text_padding == "pair-longest" and st == "text_encoder":
                assert par[st]["input_ids"].shape[1] != dummy[st]["input_ids"].shape[1]
            outs = _run(stages[st], par[st])
            for k, v in par[st].items():
                arrays["%s.%s" % (st, k)] = v.numpy()
            arrays["%s.%s" % (st, list(AXES[st][1])[0])] = outs.numpy()
        np.savez(parity_out, **arrays)

    axes = axes_for(spec)
    manifest_stages = {}
    for st in STAGES:
        module = stages[st]
        inputs = dummy[st]
        output = _run(module, inputs)
        in_axes, out_axes = axes[st]
        declared = {
            "inputs": [{"name": k, "dtype": "int64" if v.dtype == torch.int64 else "float32",
                        "shape": _shape_for(k, v, in_axes[k])} for k, v in inputs.items()],
            "outputs": [{"name": k, "dtype": "float32", "shape": _shape_for(k, output, out_axes[k])}
                        for k in out_axes],
        }
        model = _export_stage(st, module, inputs, axes, opset)
        _stamp_dims(model, declared)
        path = os.path.join(out_dir, st + ".onnx")
        data = _save(model, path, external_data)
        check_stage(path, declared)
        entry = {"file": st + ".onnx", "sha256": sha256(path)}
        if data is not None:
            entry["externalData"] = [{"file": data, "sha256": sha256(os.path.join(out_dir, data))}]
        entry.update(declared)
        manifest_stages[st] = entry

    tok_path = os.path.join(out_dir, "tokenizer.json")
    if tokenizer_json is not None:
        shutil.copyfile(tokenizer_json, tok_path)
    else:
        tokenizer.write(tok_path, spec.encoder_max_tokens)
    unc_path = os.path.join(out_dir, "unconditional.safetensors")
    safetensors_io.write(unc_path, unconditional_tensors(kind, models),
                         {"format": "pt", "producer": "foley_export"})

    manifest = build_manifest(spec, manifest_stages, sha256(tok_path), sha256(unc_path),
                              name or config.get("name", kind), description)
    with open(os.path.join(out_dir, MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def _stamp_dims(model, declared):
    """Writes the declared dims (fixed sizes and foley4j's axis names) on the graph's inputs and
    outputs; the exporter leaves some fixed output sizes unnamed-symbolic. ``check_stage`` then
    runs ONNX's strict shape inference, which refuses a stamp that contradicts the graph."""
    by_name = {t["name"]: t for t in declared["inputs"] + declared["outputs"]}
    for v in list(model.graph.input) + list(model.graph.output):
        t = by_name.get(v.name)
        if t is None:
            continue
        dims = v.type.tensor_type.shape.dim
        if len(dims) != len(t["shape"]):
            raise RuntimeError("%s has rank %d, expected %s" % (v.name, len(dims), t["shape"]))
        for d, want in zip(dims, t["shape"]):
            d.Clear()
            if isinstance(want, str):
                d.dim_param = want
            else:
                d.dim_value = want


def unconditional_tensors(kind, models):
    """The learned empties, one vector each (foley4j repeats it for every frame/token)."""
    if kind == "hvf":
        net = models["foley"]
        t = {"visual": net.empty_clip_feat.detach().float().reshape(-1).numpy(),
             "sync": net.empty_sync_feat.detach().float().reshape(-1).numpy()}
    else:
        net = models["net"]
        t = {"visual": net.empty_clip_feat.detach().float().reshape(-1).numpy(),
             "sync": net.empty_sync_feat.detach().float().reshape(-1).numpy(),
             "text": net.empty_string_feat.detach().float().numpy()}
    return t


def build_manifest(spec, stages, tok_sha, unc_sha, name, description=None):
    c = spec.config
    m = {
        "format": "foley-bundle",
        "formatVersion": 2,
        "name": name,
        "description": description or ("exported by foley_export (tools/export) from a %s model set, "
                                       "float32, opset %s" % (spec.kind, "17")),
        "stages": stages,
        "files": {"tokenizer": {"file": "tokenizer.json", "sha256": tok_sha},
                  "unconditional": {"file": "unconditional.safetensors", "sha256": unc_sha}},
        "visual": {"fps": spec.visual_fps, "size": spec.visual_size, "resize": "squash",
                   "filter": spec.visual_filter, "mean": spec.visual_mean, "std": spec.visual_std},
        "sync": {"fps": spec.sync_fps, "size": spec.sync_size, "resize": "center_crop", "filter": spec.sync_filter,
                 "window": 16, "stride": 8, "tokensPerWindow": 8,
                 "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
        "text": {"maxTokens": spec.max_tokens, "padding": spec.text_padding,
                 "encoderMaxTokens": spec.encoder_max_tokens},
        "latent": {"rate": spec.latent_rate, "channels": spec.latent_channels},
        "audio": {"sampleRate": spec.sample_rate, "channels": 1},
        "segment": dict(spec.segment),
        "sampler": {"steps": int(c["steps"]), "cfgScale": float(c["cfg"]), "shift": float(c.get("shift", 1.0)),
                    "negativePrompt": c["negative_prompt"], "guidance": spec.guidance},
        "frameRule": "at-or-after",
        "frameGrid": "accumulated",
    }
    return m


def verify_bundle(out_dir):
    """Re-checks a written bundle: every sha256 and every stage (checker + declared shapes)."""
    with open(os.path.join(out_dir, MANIFEST), encoding="utf-8") as f:
        m = json.load(f)
    for st, e in m["stages"].items():
        if sha256(os.path.join(out_dir, e["file"])) != e["sha256"]:
            raise RuntimeError("sha256 mismatch: " + e["file"])
        for x in e.get("externalData", []):
            if sha256(os.path.join(out_dir, x["file"])) != x["sha256"]:
                raise RuntimeError("sha256 mismatch: " + x["file"])
        check_stage(os.path.join(out_dir, e["file"]), {"inputs": e["inputs"], "outputs": e["outputs"]})
    for e in m["files"].values():
        if sha256(os.path.join(out_dir, e["file"])) != e["sha256"]:
            raise RuntimeError("sha256 mismatch: " + e["file"])
    return m
