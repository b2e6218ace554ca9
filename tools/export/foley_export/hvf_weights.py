"""``python -m foley_export hvf-weights``: random weights in the layout HunyuanVideo-Foley publishes,
so that the path a user takes with the real ones (``export --hvf-repo ... --checkpoint ...``, which
goes through HVF's own ``load_model``) can be run, timed and sized where the real weights cannot be
had. Nothing is downloaded; the classes are HVF's (from the user's checkout) and ``transformers``'.

What HVF's ``load_model`` (model_utils.py) reads, and what is written here:

* ``WEIGHTS/hunyuanvideo_foley.pth`` (XXL) or ``hunyuanvideo_foley_xl.pth`` (XL): the MMDiT's state
  dict, bfloat16 as HVF builds the module (``torch.load`` + ``load_state_dict(strict=False)``);
* ``WEIGHTS/synchformer_state_dict.pth``: the whole ``Synchformer()``'s state dict (loaded strictly);
* ``WEIGHTS/vae_128d_48k.pth``: the DAC-VAE as descript-audiotools saves a model
  (``{"state_dict": ..., "metadata": {"kwargs": <constructor arguments>}}``, read by ``DAC.load``);
* ``HF_HOME/hub/models--google--siglip2-base-patch16-512`` and ``models--laion--larger_clap_general``:
  Hugging Face cache entries (``refs/main`` -> ``snapshots/<rev>/``) that ``from_pretrained`` reads
  with ``HF_HUB_OFFLINE=1``, as it reads the real ones after a download. SigLIP2 at its real widths
  (the ``siglip`` architecture of the 512-px checkpoint); CLAP's text tower at its real widths and
  vocabulary size (50 265). The tokenizer is the project's word-level stand-in in RoBERTa form
  (``tokenizer.py``), not CLAP's byte-level BPE, which cannot be had here; ``--tokenizer`` takes
  that file as it would take CLAP's.

With ``--depth T S`` the MMDiT has fewer blocks and ``WEIGHTS/config.yaml`` is HVF's config with
those depths (pass it as ``--hvf-config``); by default the config's own depth is written.
Parameters HVF initialises to zero are drawn at random (``hvf_check.redraw_zero_parameters``).
"""

import json
import os
import time

import torch

from . import hvf_check
from .hvf_check import CLAP_TEXT, DAC_KWARGS, SIGLIP2, SIZES

MMDIT_FILES = {"xl": "hunyuanvideo_foley_xl.pth", "xxl": "hunyuanvideo_foley.pth"}
SIGLIP2_ID = "google/siglip2-base-patch16-512"
CLAP_ID = "laion/larger_clap_general"
CLAP_VOCAB = 50265  # RoBERTa's vocabulary, CLAP's text tower
REVISION = "0" * 40  # the snapshot name in the cache (a commit id there)


def _hf_snapshot(hf_home, repo_id):
    """Creates the cache entry's ``refs/main`` and returns its snapshot directory."""
    base = os.path.join(hf_home, "hub", "models--" + repo_id.replace("/", "--"))
    os.makedirs(os.path.join(base, "refs"), exist_ok=True)
    with open(os.path.join(base, "refs", "main"), "w") as f:
        f.write(REVISION)
    snap = os.path.join(base, "snapshots", REVISION)
    os.makedirs(snap, exist_ok=True)
    return snap


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def write(hvf_repo, out, hf_home, size="xl", depth=None, seed=0):
    """Writes the weights; returns a summary dict (files, bytes, seconds)."""
    import yaml
    if size not in SIZES:
        raise SystemExit("--size must be one of %s" % ", ".join(SIZES))
    hvf_check.prepare_environment(hvf_repo)
    import transformers
    from hunyuanvideo_foley.utils.config_utils import load_yaml
    from hunyuanvideo_foley.models.hifi_foley import HunyuanVideoFoley
    from hunyuanvideo_foley.models.synchformer import Synchformer
    from hunyuanvideo_foley.models.dac_vae.model.dac import DAC
    from . import tiny
    from .tokenizer import WordTokenizer

    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    files = {}
    config_path = os.path.join(os.path.abspath(hvf_repo), SIZES[size])
    cfg = load_yaml(config_path)
    if depth is not None:
        with open(config_path) as f:
            doc = yaml.safe_load(f)
        kw = doc["model_config"]["model_kwargs"]
        kw["depth_triple_blocks"], kw["depth_single_blocks"] = int(depth[0]), int(depth[1])
        files["config"] = os.path.join(out, "config.yaml")
        with open(files["config"], "w") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
        cfg = load_yaml(files["config"])

    # the MMDiT, built in bfloat16 as HVF's load_model builds it (one copy of the weights)
    torch.manual_seed(seed)
    foley = HunyuanVideoFoley(cfg, dtype=torch.bfloat16, device=torch.device("cpu"))
    hvf_check.redraw_zero_parameters(foley, seed + 100)
    files["mmdit"] = os.path.join(out, MMDIT_FILES[size])
    torch.save(foley.state_dict(), files["mmdit"])
    del foley

    torch.manual_seed(seed + 1)
    sync = Synchformer()
    hvf_check.redraw_zero_parameters(sync, seed + 101)
    files["synchformer"] = os.path.join(out, "synchformer_state_dict.pth")
    torch.save(sync.state_dict(), files["synchformer"])
    del sync

    torch.manual_seed(seed + 4)
    dac = DAC(**DAC_KWARGS)
    hvf_check.redraw_zero_parameters(dac, seed + 104)
    files["dac"] = os.path.join(out, "vae_128d_48k.pth")
    torch.save({"state_dict": dac.state_dict(), "metadata": {"kwargs": dict(DAC_KWARGS)}}, files["dac"])
    del dac

    torch.manual_seed(seed + 2)
    siglip = tiny._siglip(dict(SIGLIP2))
    hvf_check.redraw_zero_parameters(siglip, seed + 102)
    files["siglip2"] = _hf_snapshot(hf_home, SIGLIP2_ID)
    siglip.save_pretrained(files["siglip2"])
    del siglip

    torch.manual_seed(seed + 3)
    tok = WordTokenizer(CLAP_TEXT["style"])
    t = CLAP_TEXT
    clap_cfg = transformers.ClapTextConfig(
        vocab_size=CLAP_VOCAB, hidden_size=t["dim"], intermediate_size=t["intermediate"],
        num_hidden_layers=t["layers"], num_attention_heads=t["heads"],
        max_position_embeddings=t["max_positions"] + tok.pad_id + 1, projection_dim=t["projection_dim"],
        pad_token_id=tok.pad_id, bos_token_id=tok.bos, eos_token_id=tok.eos)
    clap = transformers.ClapTextModelWithProjection(clap_cfg)
    hvf_check.redraw_zero_parameters(clap, seed + 103)
    files["clap"] = _hf_snapshot(hf_home, CLAP_ID)
    clap.save_pretrained(files["clap"])
    del clap
    files["tokenizer"] = os.path.join(files["clap"], "tokenizer.json")
    tok.write(files["tokenizer"], int(cfg.model_config.model_kwargs.text_length))
    with open(os.path.join(files["clap"], "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": t["max_positions"],
                   "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
                   "model_input_names": ["input_ids", "attention_mask"]}, f, indent=1)
    return {"files": files, "bytes": {k: _size(v) for k, v in files.items()},
            "seconds": round(time.time() - t0, 1), "size": size,
            "depth": "config" if depth is None else "%d+%d" % tuple(depth)}
