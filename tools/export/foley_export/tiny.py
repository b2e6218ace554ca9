"""Tiny, randomly initialised stand-ins with the stage interfaces of HunyuanVideo-Foley (HVF) and
MMAudio. They are written for foley4j's tests (no trained weights, seconds on a CPU) and
reproduce the interface details that matter for an export:

HVF-shaped (``kind="hvf"``), each with the call HVF makes on the real module:
  * ``siglip2.get_image_features(pixel_values=[N,3,S,S]) -> [N, Dv]``  (SigLIP2)
  * ``synchformer([N,1,16,3,S2,S2]) -> [N,1,8,Ds]``                    (Synchformer)
  * ``clap(input_ids=, attention_mask=).last_hidden_state -> [B,T,Dt]``  (CLAP's RoBERTa text tower,
    RoBERTa position ids counted from the pad id, learned positions up to ``max_positions``)
  * ``foley(x=[B,C,L], t=[B] in 0..1000, cond=, clip_feat=, sync_feat=, return_dict=True)["x"]``
    (HunyuanVideoFoley.forward: learned ``empty_clip_feat``/``empty_sync_feat`` [1, D], sync tokens
    + ``sync_pos_emb`` per 8-token window, resized to the latent length with
    ``F.interpolate(mode="nearest-exact")``, a joint audio/visual self-attention through
    ``nn.MultiheadAttention``, cross-attention to the text WITHOUT a mask, a single-stream block
    with ``nn.RMSNorm`` q/k norms)
  * ``dac.decode([B,C,L]) -> [B,1,L*hop]``                            (DAC decoder, ConvTranspose1d)

MMAudio-shaped (``kind="mmaudio"``):
  * ``clip.encode_image(x, normalize=True) -> [N, Dv]``, ``clip.encode_text(ids, normalize=True)
    -> [B,77,Dt]`` (open_clip towers as MMAudio patches them; causal text attention)
  * ``synchformer`` as above
  * ``net(latent=[B,N,C], clip_f=, sync_f=, text_f=, t=[B] in 0..1) -> flow [B,N,C]`` with learned
    ``empty_string_feat`` [77, Dt], ``empty_clip_feat``/``empty_sync_feat`` [1, D],
    ``latent_mean``/``latent_std`` and ``unnormalize``
  * ``vae.decode([B,N,C]) -> spec``, ``vae.vocode(spec) -> [B,1,N*hop]``

Nothing here is copied from either project; the layer choices are the author's, sized 16-64 wide.

HVF-shaped with the real encoder classes (``kind="hvf"``, ``encoders="transformers"``): the
SigLIP2 and CLAP stand-ins are replaced by ``transformers.SiglipModel`` (vision tower at HVF's
google/siglip2-base-patch16-512 widths: 512 px, patch 16, hidden 768, 12 heads, MLP 3072) and
``transformers.ClapTextModelWithProjection`` (laion/larger_clap_general's text widths: hidden 768,
12 heads, MLP 3072, 514 positions, pad id 1), each built from a config with ONE layer and randomly
initialised by transformers (nothing is downloaded). The stand-in Synchformer emits HVF's 768-wide
tokens and the stand-in denoiser's input projections take the 768-wide features.
"""

import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG_FILE = "config.json"
STATE_FILE = "state.pt"


def default_config(kind, seed=0):
    if kind == "hvf":
        return {
            "kind": "hvf", "seed": seed, "name": "tiny-hvf",
            "visual": {"size": 64, "patch": 16, "dim": 32, "out": 24, "fps": 8,
                       "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
            "sync": {"size": 32, "patch": 16, "dim": 32, "out": 20, "fps": 25},
            "text": {"dim": 28, "layers": 2, "heads": 2, "max_positions": 128, "style": "roberta",
                     "max_tokens": 77},
            "denoiser": {"hidden": 32, "heads": 4, "latent_channels": 8},
            "vae": {"strides": [8, 8, 15], "sample_rate": 48000, "width": 16},
            "latent_rate": 50, "flow_reverse": True, "num_train_timesteps": 1000, "shift": 1.0,
            "steps": 50, "cfg": 4.5, "negative_prompt": "noisy, harsh",
        }
    if kind == "mmaudio":
        return {
            "kind": "mmaudio", "seed": seed, "name": "tiny-mmaudio",
            "visual": {"size": 64, "patch": 16, "dim": 32, "out": 24, "fps": 8,
                       "mean": [0.48145466, 0.4578275, 0.40821073],
                       "std": [0.26862954, 0.26130258, 0.27577711]},
            "sync": {"size": 32, "patch": 16, "dim": 32, "out": 20, "fps": 25},
            "text": {"dim": 28, "layers": 1, "heads": 2, "max_tokens": 77, "style": "clip"},
            "denoiser": {"hidden": 32, "heads": 4, "latent_channels": 8},
            "vae": {"strides": [8, 8, 16], "sample_rate": 44100, "width": 16},
            "steps": 25, "cfg": 4.5, "negative_prompt": "",
        }
    raise ValueError("kind must be hvf or mmaudio, got %r" % (kind,))


ENCODERS = ("tiny", "transformers")


def transformers_hvf_config(seed=0):
    """HVF-shaped set whose visual and text encoders are the real ``transformers`` classes at the
    real widths (1 layer each); sync, denoiser and DAC stay the stand-ins, widened to 768 inputs."""
    c = default_config("hvf", seed)
    c["name"] = "tiny-hvf-transformers"
    c["encoders"] = "transformers"
    # SigLIP2 vision tower, google/siglip2-base-patch16-512 widths (HVF model_utils.py:318)
    c["visual"] = {"size": 512, "patch": 16, "dim": 768, "heads": 12, "intermediate": 3072, "layers": 1,
                   "out": 768, "fps": 8, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
    # Synchformer stand-in: HVF's sync_feat_dim is 768
    c["sync"] = {"size": 32, "patch": 16, "dim": 32, "out": 768, "fps": 25}
    # CLAP text tower, laion/larger_clap_general widths (HVF model_utils.py:323-324): 512 usable
    # positions + pad id + 1 = max_position_embeddings 514
    c["text"] = {"dim": 768, "layers": 1, "heads": 12, "intermediate": 3072, "max_positions": 512,
                 "style": "roberta", "max_tokens": 77, "projection_dim": 512}
    return c


def _siglip(v):
    import transformers
    level = transformers.logging.get_verbosity()
    # SiglipConfig (5.x) checks its own class defaults' bos/eos ids against a default text vocabulary
    # and warns about them though the text config given here has none: silenced while it is built
    transformers.logging.set_verbosity_error()
    try:
        cfg = _siglip_config(transformers, v)
    finally:
        transformers.logging.set_verbosity(level)
    return transformers.SiglipModel(cfg)


def _siglip_config(transformers, v):
    return transformers.SiglipConfig(
        vision_config=dict(image_size=v["size"], patch_size=v["patch"], hidden_size=v["dim"],
                           intermediate_size=v["intermediate"], num_hidden_layers=v["layers"],
                           num_attention_heads=v["heads"]),
        # the text tower is part of SiglipModel but HVF never calls it: kept small
        text_config=dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=16, bos_token_id=None,
                         eos_token_id=None, pad_token_id=1))


def _clap_text(t, tok):
    import transformers
    cfg = transformers.ClapTextConfig(
        vocab_size=tok.vocab_size, hidden_size=t["dim"], intermediate_size=t["intermediate"],
        num_hidden_layers=t["layers"], num_attention_heads=t["heads"],
        max_position_embeddings=t["max_positions"] + tok.pad_id + 1, projection_dim=t["projection_dim"],
        pad_token_id=tok.pad_id, bos_token_id=tok.bos, eos_token_id=tok.eos)
    return transformers.ClapTextModelWithProjection(cfg)


def _encoder_layer(dim, heads):
    return nn.TransformerEncoderLayer(dim, heads, dim * 2, dropout=0.0, batch_first=True)


def timestep_embedding(t, dim, max_period=10000.0):
    """Sinusoidal embedding of a [B] float tensor (cos half first), in float32."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t.to(torch.float32)[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def positions(length, dim, like):
    """Sinusoidal positions [1, length, dim] built from a runtime length (exports symbolically)."""
    pos = torch.arange(length, dtype=torch.float32)
    return timestep_embedding(pos, dim).unsqueeze(0).to(like.dtype)


class _PatchImage(nn.Module):
    def __init__(self, size, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
        self.pos = nn.Parameter(torch.randn(1, (size // patch) ** 2, dim) * 0.1)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2) + self.pos


class TinySiglip2(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.patch = _PatchImage(c["size"], c["patch"], c["dim"])
        self.layer = _encoder_layer(c["dim"], 2)
        self.norm = nn.LayerNorm(c["dim"])
        self.head = nn.Linear(c["dim"], c["out"])

    def get_image_features(self, pixel_values):
        h = self.layer(self.patch(pixel_values))
        return self.head(self.norm(h.mean(dim=1)))


class TinySynchformer(nn.Module):
    """[N, 1, 16, 3, S, S] -> [N, 1, 8, D]: per-frame patches, time attention, pairs pooled."""

    def __init__(self, c):
        super().__init__()
        self.patch = _PatchImage(c["size"], c["patch"], c["dim"])
        self.time_pos = nn.Parameter(torch.randn(1, 16, c["dim"]) * 0.1)
        self.layer = _encoder_layer(c["dim"], 2)
        self.out = nn.Linear(c["dim"], c["out"])

    def forward(self, x):
        n, s, t, ch, h, w = x.shape
        f = self.patch(x.reshape(n * s * t, ch, h, w)).mean(dim=1)
        f = f.reshape(n * s, t, -1) + self.time_pos
        f = self.layer(f)
        f = f.reshape(n * s, t // 2, 2, -1).mean(dim=2)
        return self.out(f).reshape(n, s, t // 2, -1)


class _Output:
    def __init__(self, last_hidden_state):
        self.last_hidden_state = last_hidden_state


class TinyClapText(nn.Module):
    """RoBERTa-like: word + position embeddings (position ids from the pad id), key padding mask."""

    def __init__(self, c, vocab_size, pad_id):
        super().__init__()
        self.pad_id = pad_id
        self.words = nn.Embedding(vocab_size, c["dim"])
        self.positions = nn.Embedding(c["max_positions"] + pad_id + 1, c["dim"])
        self.layers = nn.ModuleList([_encoder_layer(c["dim"], c["heads"]) for _ in range(c["layers"])])
        self.norm = nn.LayerNorm(c["dim"])

    def forward(self, input_ids, attention_mask):
        not_pad = (input_ids != self.pad_id).to(torch.int64)
        pos = torch.cumsum(not_pad, dim=1) * not_pad + self.pad_id
        h = self.words(input_ids) + self.positions(pos)
        key_padding = attention_mask == 0
        for layer in self.layers:
            h = layer(h, src_key_padding_mask=key_padding)
        return _Output(self.norm(h))


def _make_rms_norm(dim):
    cls = getattr(nn, "RMSNorm", None)
    if cls is not None:  # PyTorch >= 2.4, as HVF's SingleStreamBlock uses it (default eps)
        return cls(dim)
    return _RMSNormFallback(dim)


class _RMSNormFallback(nn.Module):
    """nn.RMSNorm's semantics for PyTorch < 2.4: eps None means finfo(dtype).eps."""

    def __init__(self, dim):
        super().__init__()
        self.normalized_shape = (dim,)
        self.eps = None
        self.elementwise_affine = True
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        eps = torch.finfo(x.dtype).eps
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * self.weight


def _modulate(x, shift, scale):
    return x * (1 + scale) + shift


class _TripleBlock(nn.Module):
    def __init__(self, h, heads):
        super().__init__()
        self.mod_audio = nn.Linear(h, 6 * h)
        self.mod_visual = nn.Linear(h, 6 * h)
        self.norm_a = nn.LayerNorm(h, elementwise_affine=False, eps=1e-6)
        self.norm_v = nn.LayerNorm(h, elementwise_affine=False, eps=1e-6)
        self.joint = nn.MultiheadAttention(h, heads, batch_first=True)
        self.cross = nn.MultiheadAttention(h, heads, batch_first=True)
        self.norm_c = nn.LayerNorm(h, elementwise_affine=False, eps=1e-6)
        self.mlp_a = nn.Sequential(nn.Linear(h, 2 * h), nn.GELU(approximate="tanh"), nn.Linear(2 * h, h))
        self.mlp_v = nn.Sequential(nn.Linear(h, 2 * h), nn.GELU(approximate="tanh"), nn.Linear(2 * h, h))

    def forward(self, audio, cond, v_cond, vec):
        a_sh, a_sc, a_g, a_sh2, a_sc2, a_g2 = self.mod_audio(F.silu(vec)).unsqueeze(1).chunk(6, dim=-1)
        v_sh, v_sc, v_g, v_sh2, v_sc2, v_g2 = self.mod_visual(F.silu(vec)).unsqueeze(1).chunk(6, dim=-1)
        nv = v_cond.shape[1]
        joint_in = torch.cat([_modulate(self.norm_v(v_cond), v_sh, v_sc),
                              _modulate(self.norm_a(audio), a_sh, a_sc)], dim=1)
        joint, _ = self.joint(joint_in, joint_in, joint_in, need_weights=False)  # self-attention
        v_cond = v_cond + v_g * joint[:, :nv]
        audio = audio + a_g * joint[:, nv:]
        # cross-attention to the text, no mask: padded text rows take part, as in HVF
        both = torch.cat([self.norm_c(v_cond), self.norm_c(audio)], dim=1)
        crossed, _ = self.cross(both, cond, cond, need_weights=False)
        v_cond = v_cond + crossed[:, :nv]
        audio = audio + crossed[:, nv:]
        audio = audio + a_g2 * self.mlp_a(_modulate(self.norm_a(audio), a_sh2, a_sc2))
        v_cond = v_cond + v_g2 * self.mlp_v(_modulate(self.norm_v(v_cond), v_sh2, v_sc2))
        return audio, cond, v_cond


class _SingleBlock(nn.Module):
    def __init__(self, h, heads):
        super().__init__()
        self.heads = heads
        self.mod = nn.Linear(h, 6 * h)
        self.qkv = nn.Linear(h, 3 * h)
        self.q_norm = _make_rms_norm(h // heads)
        self.k_norm = _make_rms_norm(h // heads)
        self.norm1 = nn.LayerNorm(h, elementwise_affine=False)
        self.norm2 = nn.LayerNorm(h, elementwise_affine=False)
        self.proj = nn.Linear(h, h)
        self.mlp = nn.Sequential(nn.Linear(h, 2 * h), nn.GELU(approximate="tanh"), nn.Linear(2 * h, h))

    def forward(self, x, vec):
        sh, sc, g, sh2, sc2, g2 = self.mod(F.silu(vec)).chunk(6, dim=-1)  # vec: [B, L, H]
        b, n, h = x.shape
        qkv = self.qkv(_modulate(self.norm1(x), sh, sc)).reshape(b, n, 3, self.heads, h // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        q = self.q_norm(q)
        k = self.k_norm(k)
        w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(h // self.heads), dim=-1)
        out = (w @ v).transpose(1, 2).reshape(b, n, h)
        x = x + g * self.proj(out)
        return x + g2 * self.mlp(_modulate(self.norm2(x), sh2, sc2))


class TinyHunyuanVideoFoley(nn.Module):
    def __init__(self, c, clip_dim, sync_dim, cond_dim):
        super().__init__()
        h = c["hidden"]
        ch = c["latent_channels"]
        self.hidden = h
        self.sync_feat_dim = sync_dim
        self.audio_embedder = nn.Conv1d(ch, h, kernel_size=1)
        self.visual_proj = nn.Linear(clip_dim, h)
        self.visual_gate = nn.Linear(clip_dim, h)
        self.cond_in = nn.Sequential(nn.Linear(cond_dim, h), nn.SiLU(), nn.Linear(h, h))
        self.time_in = nn.Sequential(nn.Linear(64, h), nn.SiLU(), nn.Linear(h, h))
        self.sync_in = nn.Sequential(nn.Linear(sync_dim, h), nn.SiLU(), nn.Linear(h, h))
        self.sync_pos_emb = nn.Parameter(torch.randn(1, 1, 8, sync_dim) * 0.1)
        self.triple = _TripleBlock(h, c["heads"])
        self.single = _SingleBlock(h, c["heads"])
        self.final_norm = nn.LayerNorm(h, elementwise_affine=False, eps=1e-6)
        self.final_mod = nn.Linear(h, 2 * h)
        self.final = nn.Linear(h, ch)
        self.empty_clip_feat = nn.Parameter(torch.randn(1, clip_dim) * 0.5)
        self.empty_sync_feat = nn.Parameter(torch.randn(1, sync_dim) * 0.5)

    def get_empty_clip_sequence(self, bs=None, len=None):
        return self.empty_clip_feat.unsqueeze(0).expand(bs, len, -1)

    def get_empty_sync_sequence(self, bs=None, len=None):
        return self.empty_sync_feat.unsqueeze(0).expand(bs, len, -1)

    def forward(self, x, t, clip_feat=None, cond=None, audio_mask=None, cond_mask=None,
                sync_feat=None, drop_visual=None, return_dict=True):
        bs, _, tl = x.shape
        vec = self.time_in(timestep_embedding(t, 64).to(x.dtype))  # float math, then the model's dtype
        s = sync_feat.view(bs, sync_feat.shape[1] // 8, 8, self.sync_feat_dim) + self.sync_pos_emb
        s = self.sync_in(s.view(bs, -1, self.sync_feat_dim))
        add_sync = F.interpolate(s.transpose(1, 2), size=(tl), mode="nearest-exact").transpose(1, 2)
        cond = self.cond_in(cond)
        audio = self.audio_embedder(x).transpose(1, 2)
        audio = audio + positions(tl, self.hidden, audio) + add_sync
        v_cond = self.visual_proj(clip_feat) * torch.sigmoid(self.visual_gate(clip_feat))
        v_cond = v_cond + positions(v_cond.shape[1], self.hidden, v_cond)
        audio, cond, v_cond = self.triple(audio, cond, v_cond, vec)
        vec_seq = add_sync + vec.unsqueeze(1)
        audio = self.single(audio, vec_seq)
        shift, scale = self.final_mod(F.silu(vec_seq)).chunk(2, dim=-1)
        out = self.final(_modulate(self.final_norm(audio), shift, scale)).transpose(1, 2)
        return {"x": out} if return_dict else out


class TinyDacDecoder(nn.Module):
    def __init__(self, c, channels):
        super().__init__()
        w = c["width"]
        self.sample_rate = c["sample_rate"]
        self.hop = 1
        layers = [nn.Conv1d(channels, w, kernel_size=3, padding=1)]
        for s in c["strides"]:
            layers += [nn.SiLU(), nn.ConvTranspose1d(w, max(w // 2, 4), kernel_size=s, stride=s)]
            w = max(w // 2, 4)
            self.hop *= s
        layers += [nn.SiLU(), nn.Conv1d(w, 1, kernel_size=3, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def decode(self, z):
        return self.net(z)


class TinyOpenClip(nn.Module):
    """The two open_clip towers MMAudio uses: image features and per-token text features."""

    def __init__(self, v, t, vocab_size):
        super().__init__()
        self.visual = TinySiglip2(v)
        self.token_embedding = nn.Embedding(vocab_size, t["dim"])
        self.positional_embedding = nn.Parameter(torch.randn(t["max_tokens"], t["dim"]) * 0.1)
        self.text_layers = nn.ModuleList([_encoder_layer(t["dim"], t["heads"]) for _ in range(t["layers"])])
        self.ln_final = nn.LayerNorm(t["dim"])
        n = t["max_tokens"]
        self.register_buffer("attn_mask", torch.full((n, n), float("-inf")).triu(1), persistent=False)

    def encode_image(self, x, normalize=False):
        f = self.visual.get_image_features(x)
        return F.normalize(f, dim=-1) if normalize else f

    def encode_text(self, text, normalize=False):
        x = self.token_embedding(text) + self.positional_embedding
        for layer in self.text_layers:
            x = layer(x, src_mask=self.attn_mask)
        x = self.ln_final(x)
        return F.normalize(x, dim=-1) if normalize else x


class TinyMMAudio(nn.Module):
    def __init__(self, c, clip_dim, sync_dim, text_dim, text_len):
        super().__init__()
        h = c["hidden"]
        ch = c["latent_channels"]
        self.hidden = h
        self.latent_dim = ch
        self.sync_dim = sync_dim
        self.audio_input_proj = nn.Linear(ch, h)
        self.clip_input_proj = nn.Linear(clip_dim, h)
        self.sync_input_proj = nn.Linear(sync_dim, h)
        self.text_input_proj = nn.Linear(text_dim, h)
        self.clip_cond_proj = nn.Linear(h, h)
        self.text_cond_proj = nn.Linear(h, h)
        self.global_cond_mlp = nn.Sequential(nn.Linear(h, h), nn.SiLU(), nn.Linear(h, h))
        self.t_embed = nn.Sequential(nn.Linear(64, h), nn.SiLU(), nn.Linear(h, h))
        self.sync_pos_emb = nn.Parameter(torch.randn(1, 1, 8, sync_dim) * 0.1)
        self.mod = nn.Linear(h, 6 * h)
        self.norm = nn.LayerNorm(h, elementwise_affine=False, eps=1e-6)
        self.joint = nn.MultiheadAttention(h, c["heads"], batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(h, 2 * h), nn.GELU(approximate="tanh"), nn.Linear(2 * h, h))
        self.fused = _SingleBlock(h, c["heads"])
        self.final_mod = nn.Linear(h, 2 * h)
        self.final = nn.Linear(h, ch)
        self.empty_string_feat = nn.Parameter(torch.randn(text_len, text_dim) * 0.2, requires_grad=False)
        self.empty_clip_feat = nn.Parameter(torch.randn(1, clip_dim) * 0.5)
        self.empty_sync_feat = nn.Parameter(torch.randn(1, sync_dim) * 0.5)
        self.latent_mean = nn.Parameter(torch.randn(1, 1, ch) * 0.1, requires_grad=False)
        self.latent_std = nn.Parameter(torch.rand(1, 1, ch) + 0.5, requires_grad=False)

    def get_empty_string_sequence(self, bs):
        return self.empty_string_feat.unsqueeze(0).expand(bs, -1, -1)

    def get_empty_clip_sequence(self, bs, len):
        return self.empty_clip_feat.unsqueeze(0).expand(bs, len, -1)

    def get_empty_sync_sequence(self, bs, len):
        return self.empty_sync_feat.unsqueeze(0).expand(bs, len, -1)

    def unnormalize(self, x):
        return x * self.latent_std + self.latent_mean

    def forward(self, latent, clip_f, sync_f, text_f, t):
        bs, n, _ = latent.shape
        s = sync_f.view(bs, sync_f.shape[1] // 8, 8, self.sync_dim) + self.sync_pos_emb
        s = self.sync_input_proj(s.flatten(1, 2))
        s = F.interpolate(s.transpose(1, 2), size=n, mode="nearest-exact").transpose(1, 2)
        clip = self.clip_input_proj(clip_f)
        text = self.text_input_proj(text_f)
        global_c = self.global_cond_mlp(self.clip_cond_proj(clip.mean(dim=1)) + self.text_cond_proj(text.mean(dim=1)))
        global_c = self.t_embed(timestep_embedding(t * 1000.0, 64).to(latent.dtype)) + global_c
        extended = global_c.unsqueeze(1) + s
        x = self.audio_input_proj(latent) + positions(n, self.hidden, latent)
        sh, sc, g, sh2, sc2, g2 = self.mod(F.silu(extended)).chunk(6, dim=-1)
        joint_in = torch.cat([_modulate(self.norm(x), sh, sc), clip, text], dim=1)
        joint, _ = self.joint(joint_in, joint_in, joint_in, need_weights=False)
        x = x + g * joint[:, :n]
        x = x + g2 * self.mlp(_modulate(self.norm(x), sh2, sc2))
        x = self.fused(x, extended)
        shift, scale = self.final_mod(F.silu(global_c)).unsqueeze(1).chunk(2, dim=-1)
        return self.final(_modulate(self.norm(x), shift, scale))


class TinyMMAudioAutoencoder(nn.Module):
    """decode: latents [B,N,C] -> spectrogram-like [B,M,N]; vocode: -> waveform [B,1,N*hop]."""

    def __init__(self, c, channels):
        super().__init__()
        self.sample_rate = c["sample_rate"]
        self.dec = nn.Conv1d(channels, c["width"], kernel_size=3, padding=1)
        self.vocoder = TinyDacDecoder(c, c["width"])
        self.hop = self.vocoder.hop

    def decode(self, z):
        return self.dec(z.transpose(1, 2))

    def vocode(self, spec):
        return self.vocoder.decode(spec)


def build(config):
    """The ModuleDict of a tiny model set, randomly initialised from ``config["seed"]``."""
    from .tokenizer import WordTokenizer

    torch.manual_seed(int(config["seed"]))
    v, s, t, d = config["visual"], config["sync"], config["text"], config["denoiser"]
    tok = WordTokenizer(t["style"])
    if config["kind"] == "hvf" and config.get("encoders", "tiny") == "transformers":
        m = nn.ModuleDict({
            "siglip2": _siglip(v),
            "synchformer": TinySynchformer(s),
            "clap": _clap_text(t, tok),
            "foley": TinyHunyuanVideoFoley(d, v["out"], s["out"], t["dim"]),
            "dac": TinyDacDecoder(config["vae"], d["latent_channels"]),
        })
    elif config.get("encoders", "tiny") != "tiny":
        raise ValueError("encoders %r: 'transformers' is for kind hvf only" % (config["encoders"],))
    elif config["kind"] == "hvf":
        m = nn.ModuleDict({
            "siglip2": TinySiglip2(v),
            "synchformer": TinySynchformer(s),
            "clap": TinyClapText(t, tok.vocab_size, tok.pad_id),
            "foley": TinyHunyuanVideoFoley(d, v["out"], s["out"], t["dim"]),
            "dac": TinyDacDecoder(config["vae"], d["latent_channels"]),
        })
    else:
        m = nn.ModuleDict({
            "clip": TinyOpenClip(v, t, tok.vocab_size),
            "synchformer": TinySynchformer(s),
            "net": TinyMMAudio(d, v["out"], s["out"], t["dim"], t["max_tokens"]),
            "vae": TinyMMAudioAutoencoder(config["vae"], d["latent_channels"]),
        })
    return m.eval()


def save(config, models, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, CONFIG_FILE), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    torch.save(models.state_dict(), os.path.join(out_dir, STATE_FILE))


def load(ckpt_dir):
    with open(os.path.join(ckpt_dir, CONFIG_FILE)) as f:
        config = json.load(f)
    models = build(config)
    models.load_state_dict(torch.load(os.path.join(ckpt_dir, STATE_FILE), map_location="cpu"))
    return config, models.eval()


def create(kind, seed, out_dir, encoders="tiny"):
    if encoders not in ENCODERS:
        raise ValueError("encoders must be one of %s, got %r" % (ENCODERS, encoders))
    if encoders == "transformers":
        if kind != "hvf":
            raise ValueError("--encoders transformers is for --kind hvf only")
        config = transformers_hvf_config(seed)
    else:
        config = default_config(kind, seed)
    models = build(config)
    save(config, models, out_dir)
    return config, models
