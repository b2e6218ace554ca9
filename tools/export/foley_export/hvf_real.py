"""Loads REAL HunyuanVideo-Foley modules from a user's checkout and weights, for the same export
path the tiny stand-ins take (``python -m foley_export export --kind hvf --hvf-repo ...``).

Nothing of HVF is shipped here: the user's checkout is put on ``sys.path`` and HVF's own
``load_model`` (hunyuanvideo_foley/utils/model_utils.py:259) builds the modules, which needs HVF's
requirements (transformers, diffusers, einops, loguru, ...) and downloads SigLIP2 and CLAP from
Hugging Face on first use. NOT exercised by foley4j's CI (no weights, no transformers there).
"""

import os

import torch


def load(hvf_repo, weights_dir, config_path, model_size="xxl"):
    hvf_repo = os.path.abspath(hvf_repo)
    if not os.path.isdir(os.path.join(hvf_repo, "hunyuanvideo_foley")):
        raise SystemExit("%s is not a HunyuanVideo-Foley checkout (no hunyuanvideo_foley/)" % hvf_repo)
    if not os.path.isabs(config_path):
        config_path = os.path.join(hvf_repo, config_path)
    from .hvf_check import prepare_environment
    # the checkout on sys.path; stand-ins only for HVF requirements this machine lacks (standins.py),
    # and the pruning helper transformers 5.x removed (compat.py)
    stood_in = prepare_environment(hvf_repo)
    if stood_in:
        print("stand-ins for missing HVF requirements: %s" % ", ".join(stood_in))
    from hunyuanvideo_foley.utils.model_utils import load_model  # noqa: E402  (user's checkout)

    model_dict, cfg = load_model(weights_dir, config_path, torch.device("cpu"), enable_offload=False,
                                 model_size=model_size)
    kw = cfg.model_config.model_kwargs
    dc = cfg.diffusion_config
    if dc.sample_use_flux_shift:
        raise SystemExit("sample_use_flux_shift has no equivalent in the foley4j manifest")
    if dc.flow_solver != "euler":
        raise SystemExit("foley4j integrates with Euler; the config asks for %s" % dc.flow_solver)
    models = {
        "siglip2": model_dict.siglip2_model.float().eval(),
        "synchformer": model_dict.syncformer_model.float().eval(),
        "clap": model_dict.clap_model.float().eval(),
        "foley": model_dict.foley_model.float().eval(),  # loaded in bf16 (model_utils.py:47)
        "dac": model_dict.dac_model.float().eval(),
    }
    sr = int(model_dict.dac_model.sample_rate)
    config = {
        "kind": "hvf", "name": cfg.model_config.model_name,
        "visual": {"size": 512, "fps": 8, "mean": [0.5] * 3, "std": [0.5] * 3},   # model_utils.py:67-72
        "sync": {"size": 224, "fps": 25},                                           # model_utils.py:330-338
        "text": {"max_tokens": int(kw.text_length), "max_positions": 512, "style": "roberta"},
        "denoiser": {"latent_channels": int(kw.audio_vae_latent_dim)},
        "vae": {"sample_rate": sr, "hop": int(round(sr / float(kw.audio_frame_rate)))},
        "latent_rate": float(kw.audio_frame_rate),
        "flow_reverse": bool(dc.flow_reverse), "num_train_timesteps": 1000,
        "shift": float(dc.sample_flow_shift),
        "steps": 50, "cfg": 4.5, "negative_prompt": "noisy, harsh",                 # constants.py:29-38
    }
    return config, models
