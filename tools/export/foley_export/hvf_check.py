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

from . import standins
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
    _, stood_in = standins.install()
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

def build_hvf(hvf_repo, size="xxl", depth=DEFAULT_DEPTH, seed=0, encoder_layers=None, device="cpu"):
    """HVF's classes with random weights, float32, in eval mode.

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

    torch.manual_seed(seed)
    foley = HunyuanVideoFoley(cfg, dtype=torch.float32, device=device)

    torch.manual_seed(seed + 1)
    sync = Synchformer()
    vit = sync.vfeat_extractor
    vit.blocks = vit.blocks[:layers or SYNCHFORMER_BLOCKS]
    # the audio branch (an AST) and the audio-visual transformer serve Synchformer's training and
    # desync score; HVF only calls forward(vis) -> vfeat_extractor
    sync.afeat_extractor = torch.nn.Identity()
    sync.transformer = torch.nn.Identity()

    torch.manual_seed(seed + 2)
    siglip = tiny._siglip(dict(SIGLIP2, layers=layers or SIGLIP2["layers"]))

    torch.manual_seed(seed + 3)
    tok = WordTokenizer(CLAP_TEXT["style"])
    clap = tiny._clap_text(dict(CLAP_TEXT, layers=layers or CLAP_TEXT["layers"]), tok)

    torch.manual_seed(seed + 4)
    dac = DAC(**DAC_KWARGS)
    # HVF only decodes (DAC.decode: post_quant_conv, decoder); the encoder is 4096 channels wide
    dac.encoder = torch.nn.Identity()
    dac.quant_conv = torch.nn.Identity()

    models = torch.nn.ModuleDict({"siglip2": siglip, "synchformer": sync, "clap": clap, "foley": foley,
                                  "dac": dac}).to(device=device, dtype=torch.float32).eval()
    redrawn = {}
    for i, (name, m) in enumerate(models.items()):
        redrawn[name] = redraw_zero_parameters(m, seed + 100 + i)

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
    4.x); 5.x returns an output object. This view of the same model returns the tensor."""

    def __init__(self, siglip2):
        super().__init__()
        self.siglip2 = siglip2

    def get_image_features(self, **kwargs):
        return image_features(self.siglip2.get_image_features(**kwargs))


@contextlib.contextmanager
def _patched(obj, name, value):
    had = name in vars(obj) if isinstance(obj, types.ModuleType) or isinstance(obj, type) else hasattr(obj, name)
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


def main_build_only(hvf_repo, size="xxl", depth=DEFAULT_DEPTH, seed=0):
    """Builds and prints what was built (a quick look; not a CLI command)."""
    t0 = time.time()
    config, models, handles = build_hvf(hvf_repo, size, depth, seed)
    params = {k: sum(p.numel() for p in m.parameters()) for k, m in models.items()}
    print(json.dumps({"name": config["name"], "params": params, "standins": handles.standins,
                      "redrawn": {k: len(v) for k, v in handles.redrawn.items()},
                      "seconds": round(time.time() - t0, 1)}, indent=1))
    return config, models, handles
