"""Stage wrappers: each turns one model's module into the tensor contract foley4j runs.

foley4j's denoiser convention: ``timestep`` t in [0, 1], t = 0 pure noise, t = 1 data; the output
``velocity`` is dx/dt; foley4j integrates ``x += (t_next - t) * v``.

* HVF (``flow_reverse: true``): HVF's scheduler works in sigma = 1 - t (1 = noise), feeds the
  network ``sigma * 1000`` and steps ``x += (sigma_next - sigma) * out``, so ``out`` = dx/dsigma =
  -dx/dt. The wrapper feeds ``(1 - t) * 1000`` and returns ``-out``. (With ``flow_reverse: false``
  sigma = t and the wrapper is ``t * 1000`` and ``out``.)
* MMAudio: FlowMatching integrates t from 0 (noise) to 1 (data) with ``x += dt * flow`` and passes
  t unscaled: the wrapper is the identity in t; it only moves the latent axis (MMAudio's latents
  are [B, N, C], foley4j's [B, C, N]).
"""

import torch
import torch.nn as nn

from .compat import image_features


# ---- HunyuanVideo-Foley -------------------------------------------------------------------------

class HvfVisual(nn.Module):
    """SigLIP2's pooled image features (a tensor in transformers 4.x, ``pooler_output`` in 5.x)."""

    def __init__(self, siglip2):
        super().__init__()
        self.siglip2 = siglip2

    def forward(self, pixels):
        return image_features(self.siglip2.get_image_features(pixel_values=pixels))


class SyncWindows(nn.Module):
    """One 16-frame window per row: Synchformer takes [N, 1, 16, 3, S, S], returns [N, 1, 8, D]."""

    def __init__(self, synchformer):
        super().__init__()
        self.synchformer = synchformer

    def forward(self, frames):
        return self.synchformer(frames.unsqueeze(1))[:, 0]


class HvfText(nn.Module):
    """CLAP's last hidden state, padded rows kept (HVF does not zero or mask them)."""

    def __init__(self, clap):
        super().__init__()
        self.clap = clap

    def forward(self, input_ids, attention_mask):
        return self.clap(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


class HvfDenoiser(nn.Module):
    def __init__(self, foley, flow_reverse=True, num_train_timesteps=1000.0):
        super().__init__()
        self.foley = foley
        self.flow_reverse = bool(flow_reverse)
        self.num_train_timesteps = float(num_train_timesteps)

    def forward(self, latents, timestep, visual, sync, text):
        sigma = 1.0 - timestep if self.flow_reverse else timestep
        out = self.foley(x=latents, t=sigma * self.num_train_timesteps, cond=text, clip_feat=visual,
                         sync_feat=sync, return_dict=True)["x"]
        return -out if self.flow_reverse else out


class HvfVae(nn.Module):
    """DAC decode, channel axis dropped; no trimming (foley4j trims to the pass's length)."""

    def __init__(self, dac):
        super().__init__()
        self.dac = dac

    def forward(self, latents):
        return self.dac.decode(latents)[:, 0, :]


# ---- MMAudio ---------------------------------------------------------------------------------------

class MmaVisual(nn.Module):
    """CLIP image features, L2-normalised (features_utils.encode_video_with_clip, normalize=True).
    The CLIP mean/std normalisation is done by foley4j from the manifest."""

    def __init__(self, clip):
        super().__init__()
        self.clip = clip

    def forward(self, pixels):
        return self.clip.encode_image(pixels, normalize=True)


class MmaText(nn.Module):
    """Per-token CLIP text features, L2-normalised. open_clip's text tower takes no mask (it pads
    with zeros and attends causally), so ``attention_mask`` only keeps the stage's two inputs: it
    is multiplied by zero and added, which changes no value."""

    def __init__(self, clip):
        super().__init__()
        self.clip = clip

    def forward(self, input_ids, attention_mask):
        h = self.clip.encode_text(input_ids, normalize=True)
        return h + (attention_mask[:, :1, None] * 0).to(h.dtype)


class MmaDenoiser(nn.Module):
    """MMAudio's real network keeps its sequence lengths as state (``update_seq_lengths``: the
    rotary tables of the latents and of the CLIP frames, whose frequencies are scaled by
    latents/frames, the sync resize target and the input checks). The wrapper sets them from the
    inputs' lengths on every call, through MMAudio's own method, so that the exported graph
    computes them from its runtime lengths (symbolic axes) exactly as MMAudio's demo does before
    ``generate`` (demo.py:109-110)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, latents, timestep, visual, sync, text):
        if hasattr(self.net, "update_seq_lengths"):
            self.net.update_seq_lengths(latents.shape[2], visual.shape[1], sync.shape[1])
        flow = self.net(latent=latents.transpose(1, 2), clip_f=visual, sync_f=sync, text_f=text, t=timestep)
        return flow.transpose(1, 2)


class MmaVae(nn.Module):
    """unnormalize (latent mean/std), VAE decode to a spectrogram, vocoder to the waveform.
    MMAudio's ``unnormalize`` works in place (``mul_``/``add_``): it gets a copy, never the input."""

    def __init__(self, net, vae):
        super().__init__()
        self.net = net
        self.vae = vae

    def forward(self, latents):
        z = self.net.unnormalize(latents.transpose(1, 2).clone())
        return self.vae.vocode(self.vae.decode(z))[:, 0, :]


# Computed in these types (InDtype). bfloat16 is not computed in (the TorchScript exporter's opsets
# <= 20 have no bfloat16 Conv, and ONNX Runtime's CPU provider runs almost no bfloat16 kernels):
# export's "bfloat16" stores the weights in it and computes in float32 (storage.py).
DTYPES = {"float32": torch.float32, "float16": torch.float16}


class InDtype(nn.Module):
    """A stage computed in ``dtype`` (its weights cast to it, float inputs cast on entry) whose
    outputs are float32 again: the graph's inputs and outputs stay float32, as the manifest
    declares them, and the weights are stored in ``dtype`` (half the bytes for 16-bit types)."""

    def __init__(self, stage, dtype):
        super().__init__()
        self.stage = stage.to(dtype)
        self.dtype = dtype

    def forward(self, *inputs):
        cast = [x.to(self.dtype) if x.is_floating_point() else x for x in inputs]
        return self.stage(*cast).to(torch.float32)


def stage_modules(kind, models, config):
    """The five wrapped stages, keyed by foley4j's stage names."""
    if kind == "hvf":
        return {
            "visual_encoder": HvfVisual(models["siglip2"]),
            "sync_encoder": SyncWindows(models["synchformer"]),
            "text_encoder": HvfText(models["clap"]),
            "denoiser": HvfDenoiser(models["foley"], config.get("flow_reverse", True),
                                    config.get("num_train_timesteps", 1000)),
            "vae_decoder": HvfVae(models["dac"]),
        }
    return {
        "visual_encoder": MmaVisual(models["clip"]),
        "sync_encoder": SyncWindows(models["synchformer"]),
        "text_encoder": MmaText(models["clip"]),
        "denoiser": MmaDenoiser(models["net"]),
        "vae_decoder": MmaVae(models["net"], models["vae"]),
    }
