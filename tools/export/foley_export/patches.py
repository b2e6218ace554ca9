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
* ``explicit_multihead_attention(model)``: ``nn.MultiheadAttention`` computed by the same formula
  with heads split by ``reshape(B, -1, H, D)``, so that no length is fixed in the graph (PyTorch
  2.13's TorchScript export of ``F.multi_head_attention_forward`` fixes the query length to the
  export's; ``unflatten``/``flatten`` can fix a batch computed by einops).
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
    "explicit_multihead_attention",
    "kernel_fuses_multiply_subtract",
    "nearest_exact_indices",
    "nearest_exact_resize",
    "nearest_exact_as_gather",
    "export_patches",
]


class ExplicitRMSNorm(nn.Module):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the last ``len(normalized_shape)`` axes, with
    ``nn.RMSNorm``'s precision rules (float16/bfloat16 inputs normalised in float32)."""

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
        # As torch's own rms_norm: float16 and bfloat16 are normalised in float32 (their "opmath"
        # type, whose epsilon is also the default eps), cast back, then scaled by the weight.
        reduced = x.dtype in (torch.float16, torch.bfloat16)
        xc = x.float() if reduced else x
        eps = self.eps if self.eps is not None else torch.finfo(xc.dtype).eps
        dims = tuple(range(-len(self.normalized_shape), 0))
        y = xc * torch.rsqrt(xc.pow(2).mean(dim=dims, keepdim=True) + eps)
        if reduced:
            y = y.to(x.dtype)
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


_FUSED = None
_ORIGINAL_INTERPOLATE = F.interpolate  # the kernel itself, also while the gather patch is on


def kernel_fuses_multiply_subtract():
    """Whether this PyTorch's CPU kernel rounds ``scale * (dst + 0.5) - 0.5`` once (a fused
    multiply-subtract) or twice.  ATen writes the expression in float; builds that compile the
    kernel with FMA (x86 AVX2/AVX512 kernels, and compilers that contract by default) round it once,
    the x86 ``DEFAULT`` build twice.  Read from the running kernel itself, on the one pair where the
    two differ first: in 2, out 41, output 20 (exactly 1 in real numbers; 1 fused, 0 not)."""
    global _FUSED
    if _FUSED is None:
        with torch.no_grad():
            probe = _ORIGINAL_INTERPOLATE(torch.arange(2, dtype=torch.float32).reshape(1, 1, 2), size=41,
                                          mode="nearest-exact")
        _FUSED = bool(probe[0, 0, 20].item() == 1.0)
    return _FUSED


def nearest_exact_indices(in_len, out_len, fused=None):
    """Source index for each output position, as PyTorch's CPU nearest-exact kernel computes it.

    ATen (UpSampleKernel.cpp / UpSample.h): ``scale`` is the float32 ``in / out``;
    ``src = scale * (dst + 0.5) - 0.5`` in float32 (``area_pixel_compute_source_index``), then
    ``floorf(src + 0.5)`` (the sum formed in double, rounded to float32 by ``floorf``'s argument),
    clamped to ``in - 1``.  ``fused`` says whether the multiply-subtract is rounded once (FMA) or
    twice; None reads it from the running kernel (:func:`kernel_fuses_multiply_subtract`).  The fused
    form is computed in float64, where the product and the difference are exact, and rounded to
    float32 once.  ``in_len`` and ``out_len`` may be 0-dim tensors (traced sizes), which keeps the
    lengths symbolic in ONNX.
    """
    if fused is None:
        fused = kernel_fuses_multiply_subtract()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # traced sizes stay traced; the warning is about constants
        in_t = torch.as_tensor(in_len)
        out_t = torch.as_tensor(out_len)
    scale = in_t.to(torch.float32) / out_t.to(torch.float32)
    half_steps = torch.arange(out_t, dtype=torch.float64) + 0.5
    if fused:
        src = (half_steps * scale.to(torch.float64) - 0.5).to(torch.float32)
    else:
        src = half_steps.to(torch.float32) * scale - 0.5
    rounded = (src.to(torch.float64) + 0.5).to(torch.float32)
    return torch.minimum(rounded.floor().to(torch.int64), in_t.to(torch.int64) - 1)


def nearest_exact_resize(x, out_len):
    """``F.interpolate(x, size=out_len, mode="nearest-exact")`` for x of shape [B, C, L]."""
    idx = nearest_exact_indices(x.shape[-1], out_len)
    return x.index_select(-1, idx)


@contextlib.contextmanager
def nearest_exact_as_gather():
    """Routes 3-D ``F.interpolate(mode="nearest-exact")`` calls with ``size=`` or an integral
    ``scale_factor=`` through the gather."""
    original = F.interpolate
    kernel_fuses_multiply_subtract()  # probe the kernel before it is patched over

    def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                    recompute_scale_factor=None, antialias=False):
        if mode == "nearest-exact" and input.dim() == 3 and size is not None and scale_factor is None:
            n = size[0] if isinstance(size, (tuple, list)) else size
            return nearest_exact_resize(input, n)
        if mode == "nearest-exact" and input.dim() == 3 and size is None and not recompute_scale_factor:
            # an integral factor (MMAudio's VAE upsamples by 2.0): out = L * s, and ATen's scale
            # 1/s equals the float32 in/out the gather uses
            s = scale_factor[0] if isinstance(scale_factor, (tuple, list)) else scale_factor
            if s is not None and float(s).is_integer() and s >= 1:
                return nearest_exact_resize(input, input.shape[-1] * int(s))
        return original(input, size=size, scale_factor=scale_factor, mode=mode,
                        align_corners=align_corners, recompute_scale_factor=recompute_scale_factor,
                        antialias=antialias)

    F.interpolate = interpolate
    try:
        yield
    finally:
        F.interpolate = original


def _additive_mask(mask, dtype):
    if mask is None:
        return None
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype).masked_fill(mask, float("-inf"))
    return mask.to(dtype)


def _explicit_mha_forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                          average_attn_weights=True, is_causal=False):
    """nn.MultiheadAttention's inference formula, written so that every length stays a function
    of the inputs' shapes in the traced graph: heads split and merged by ``reshape`` with the
    length left to -1 (the TorchScript exporter's ``unflatten``/``flatten`` read the traced, static
    sizes of their input, which behind a computed reshape, e.g. einops', are the export's)."""
    if self.bias_k is not None or self.add_zero_attn or (self.training and self.dropout > 0):
        raise NotImplementedError("explicit attention: bias_k/bias_v, add_zero_attn and training "
                                  "dropout are not supported")
    if query.dim() != 3:
        raise NotImplementedError("explicit attention: only batched (3-D) inputs")
    if not self.batch_first:
        query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
    h = self.num_heads
    if self._qkv_same_embed_dim:
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
    else:
        w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
    b_q, b_k, b_v = self.in_proj_bias.chunk(3) if self.in_proj_bias is not None else (None, None, None)
    def heads(x, w, b):  # [B, L, E] -> [B, H, L, D]; the length left to Reshape's -1
        return F.linear(x, w, b).reshape(x.shape[0], -1, h, self.head_dim).transpose(1, 2)

    q, k, v = heads(query, w_q, b_q), heads(key, w_k, b_k), heads(value, w_v, b_v)
    scores = torch.matmul(q, k.transpose(-2, -1)) * (float(self.head_dim) ** -0.5)  # [B, H, Lq, Lk]
    m = _additive_mask(attn_mask, scores.dtype)
    if m is not None:
        scores = scores + (m.reshape(-1, h, m.shape[-2], m.shape[-1]) if m.dim() == 3 else m)
    elif is_causal:
        raise RuntimeError("is_causal needs attn_mask (as nn.MultiheadAttention requires)")
    kpm = _additive_mask(key_padding_mask, scores.dtype)
    if kpm is not None:
        scores = scores + kpm[:, None, None, :]
    weights = torch.softmax(scores, dim=-1)
    out = torch.matmul(weights, v).transpose(1, 2).reshape(query.shape[0], -1, self.embed_dim)  # [B, Lq, E]
    out = F.linear(out, self.out_proj.weight, self.out_proj.bias)
    if not self.batch_first:
        out = out.transpose(0, 1)
    if not need_weights:
        return out, None
    return out, (weights.mean(dim=1) if average_attn_weights else weights)


@contextlib.contextmanager
def explicit_multihead_attention(model):
    """Routes every ``nn.MultiheadAttention`` in ``model`` through :func:`_explicit_mha_forward`.

    PyTorch's own formula (``F.multi_head_attention_forward``) reshapes the queries with the
    sequence length read from ``query.shape``; on PyTorch 2.13 the TorchScript tracer records that
    length as a constant of the export length (a graph exported at 150 latents fails to run at 400:
    "The input tensor cannot be reshaped to the requested shape")."""
    patched = []
    for m in model.modules():
        if isinstance(m, nn.MultiheadAttention) and "forward" not in m.__dict__:
            m.forward = _explicit_mha_forward.__get__(m, type(m))
            patched.append(m)
    try:
        yield
    finally:
        for m in patched:
            del m.forward


@contextlib.contextmanager
def constant_depthwise_filters():
    """A depthwise 1-D convolution whose weight is built on every call from a fixed filter and the
    input's channel count (BigVGAN's anti-aliased activations: ``filter.expand(C, -1, -1)`` with
    ``groups=C``) traces with a weight of unknown shape, which the TorchScript exporter refuses
    ("convolution for kernel of unknown shape"). During the export such a weight (not a
    parameter, one filter per group) becomes a constant of its traced value; the channel count
    of a model's layer is fixed, so nothing symbolic is lost."""
    originals = {"conv1d": F.conv1d, "conv_transpose1d": F.conv_transpose1d}

    def constant(weight, groups):
        """(weight, groups), both constants when the weight is a run-time depthwise filter."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a traced channel count read as a number
            g = int(groups)
            if (isinstance(weight, nn.Parameter) or g <= 1 or weight.dim() != 3 or int(weight.shape[0]) != g
                    or int(weight.shape[1]) != 1):
                return weight, groups
            return torch.from_numpy(weight.detach().cpu().numpy().copy()).to(weight.dtype), g

    def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        weight, groups = constant(weight, groups)
        return originals["conv1d"](input, weight, bias, stride, padding, dilation, groups)

    def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        weight, groups = constant(weight, groups)
        return originals["conv_transpose1d"](input, weight, bias, stride, padding, output_padding, groups, dilation)

    F.conv1d, F.conv_transpose1d = conv1d, conv_transpose1d
    try:
        yield
    finally:
        F.conv1d, F.conv_transpose1d = originals["conv1d"], originals["conv_transpose1d"]


@contextlib.contextmanager
def export_patches(model):
    """All patches at once: RMSNorm rewritten and LayerNorms made affine (in place), fast path off,
    explicit multi-head attention, nearest-exact as gather, run-time depthwise filters constant."""
    explicit_rms_norm(model)
    affine_layer_norms(model)
    with mha_fastpath_disabled(model), explicit_multihead_attention(model), nearest_exact_as_gather(), \
            constant_depthwise_filters():
        yield
