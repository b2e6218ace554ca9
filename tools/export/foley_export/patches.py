"""Patches that let the legacy (TorchScript-based) torch.onnx exporter handle these models.

Each patch is a context manager or a module rewrite that keeps the numbers the same:

* ``explicit_rms_norm(model)``: replaces every ``torch.nn.RMSNorm`` (PyTorch >= 2.4, exported as
  ``aten::rms_norm``, which the legacy exporter cannot translate at opset 17) by
  :class:`ExplicitRMSNorm`, the same formula in elementary ops, keeping the module's ``eps``
  (``None`` means ``torch.finfo(x.dtype).eps``, as ``nn.RMSNorm`` does).
* ``mha_fastpath_disabled(model)``: ``nn.TransformerEncoderLayer`` and ``nn.MultiheadAttention``
  take a fused "fast path" in eval mode without autograd (``aten::_transformer_encoder_layer_fwd``,
  ``aten::_native_multi_head_attention``), which cannot be exported.  Where
  ``torch.backends.mha.set_fastpath_enabled`` exists (PyTorch >= 2.2) it is switched off; in every
  version autograd is also left on with the attention weights requiring grad, which is the other
  documented condition that keeps the modules on their exportable, op-by-op path.
* ``affine_layer_norms(model)``: ``nn.LayerNorm(..., elementwise_affine=False)`` (HVF's blocks use
  it throughout) is exported by PyTorch 1.13 as ``LayerNormalization`` with an empty ``Scale``
  input, which ONNX refuses ("input 1 is marked single but has an empty string"). Such norms get
  a weight of ones and a bias of zeros: the same numbers, a valid node.
* ``nearest_exact_as_gather()``: ``F.interpolate(x, size=n, mode="nearest-exact")`` on a 3-D
  tensor becomes an ``index_select`` with the source indices PyTorch's CPU kernel computes, built
  from the runtime lengths so that it exports with symbolic lengths.
"""

import contextlib
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    "ExplicitRMSNorm",
    "explicit_rms_norm",
    "affine_layer_norms",
    "mha_fastpath_disabled",
    "nearest_exact_indices",
    "nearest_exact_resize",
    "nearest_exact_as_gather",
    "export_patches",
]


class ExplicitRMSNorm(nn.Module):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the last ``len(normalized_shape)`` axes."""

    def __init__(self, normalized_shape, eps=None, weight=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        if weight is not None:
            self.weight = nn.Parameter(weight.detach().clone())
        else:
            self.register_parameter("weight", None)

    def forward(self, x):
        eps = self.eps if self.eps is not None else torch.finfo(x.dtype).eps
        dims = tuple(range(-len(self.normalized_shape), 0))
        y = x * torch.rsqrt(x.pow(2).mean(dim=dims, keepdim=True) + eps)
        if self.weight is not None:
            y = y * self.weight
        return y


def affine_layer_norms(model):
    """Gives every non-affine nn.LayerNorm a weight of ones and a bias of zeros (in place)."""
    count = 0
    for m in model.modules():
        if isinstance(m, nn.LayerNorm) and not m.elementwise_affine:
            ref = next(model.parameters(), torch.zeros(()))
            m.elementwise_affine = True
            m.weight = nn.Parameter(torch.ones(m.normalized_shape, dtype=ref.dtype))
            m.bias = nn.Parameter(torch.zeros(m.normalized_shape, dtype=ref.dtype))
            count += 1
    return count


def _torch_rms_norm_class():
    return getattr(nn, "RMSNorm", None)


def explicit_rms_norm(model):
    """Replaces every ``nn.RMSNorm`` inside ``model`` (in place). Returns how many were replaced.

    HunyuanVideo-Foley's own ``norm_layers.RMSNorm`` is already elementary ops (pow, mean, rsqrt)
    and is left as it is.
    """
    cls = _torch_rms_norm_class()
    if cls is None:
        return 0
    count = 0
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if type(child) is cls:
                setattr(parent, name, ExplicitRMSNorm(child.normalized_shape, child.eps,
                                                      child.weight if child.elementwise_affine else None))
                count += 1
    return count


@contextlib.contextmanager
def mha_fastpath_disabled(model):
    """Keeps nn.TransformerEncoderLayer / nn.MultiheadAttention on their exportable path."""
    mha = getattr(torch.backends, "mha", None)
    setter = getattr(mha, "set_fastpath_enabled", None) if mha is not None else None
    getter = getattr(mha, "get_fastpath_enabled", None) if mha is not None else None
    previous = getter() if getter is not None else True
    touched = []
    for m in model.modules():
        if isinstance(m, (nn.TransformerEncoderLayer, nn.MultiheadAttention)):
            for p in m.parameters(recurse=True):
                if not p.requires_grad:
                    touched.append(p)
                    p.requires_grad_(True)
    try:
        if setter is not None:
            setter(False)
        with torch.enable_grad():
            yield
    finally:
        if setter is not None:
            setter(previous)
        for p in touched:
            p.requires_grad_(False)


def nearest_exact_indices(in_len, out_len):
    """Source index for each output position, as PyTorch's CPU nearest-exact kernel computes it.

    ATen (UpSample.h, nearest_neighbor_exact_compute_source_index): ``scale`` is the float32
    ``in/out``; the product ``(dst + 0.5) * scale`` is formed in double, then passed to ``floorf``
    (so rounded to float32 first), and the result is clamped to ``in - 1``.  ``in_len`` and
    ``out_len`` may be 0-dim tensors (traced sizes), which keeps the lengths symbolic in ONNX.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # traced sizes stay traced; the warning is about constants
        in_t = torch.as_tensor(in_len)
        out_t = torch.as_tensor(out_len)
    scale = in_t.to(torch.float32) / out_t.to(torch.float32)
    dst = torch.arange(out_t, dtype=torch.float64)
    src = ((dst + 0.5) * scale.to(torch.float64)).to(torch.float32).floor().to(torch.int64)
    return torch.minimum(src, in_t.to(torch.int64) - 1)


def nearest_exact_resize(x, out_len):
    """``F.interpolate(x, size=out_len, mode="nearest-exact")`` for x of shape [B, C, L]."""
    idx = nearest_exact_indices(x.shape[-1], out_len)
    return x.index_select(-1, idx)


@contextlib.contextmanager
def nearest_exact_as_gather():
    """Routes 3-D ``F.interpolate(mode="nearest-exact", size=...)`` calls through the gather."""
    original = F.interpolate

    def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                    recompute_scale_factor=None, antialias=False):
        if mode == "nearest-exact" and input.dim() == 3 and size is not None and scale_factor is None:
            n = size[0] if isinstance(size, (tuple, list)) else size
            return nearest_exact_resize(input, n)
        return original(input, size=size, scale_factor=scale_factor, mode=mode,
                        align_corners=align_corners, recompute_scale_factor=recompute_scale_factor,
                        antialias=antialias)

    F.interpolate = interpolate
    try:
        yield
    finally:
        F.interpolate = original


@contextlib.contextmanager
def export_patches(model):
    """All patches at once: RMSNorm rewritten and LayerNorms made affine (in place), fast path off,
    nearest-exact as gather."""
    explicit_rms_norm(model)
    affine_layer_norms(model)
    with mha_fastpath_disabled(model), nearest_exact_as_gather():
        yield
