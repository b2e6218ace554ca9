"""Export a model set to a foley4j bundle (format v2): five ONNX stages, tokenizer.json,
unconditional.safetensors and foley-bundle.json, plus optional per-stage parity data."""

import contextlib
import hashlib
import inspect
import json
import math
import os
import shutil
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn

from . import memory, safetensors_io, storage
from .patches import export_patches
from .tokenizer import WordTokenizer
from .wrappers import DTYPES, InDtype, stage_modules

MANIFEST = "foley-bundle.json"
STAGES = ("visual_encoder", "sync_encoder", "text_encoder", "denoiser", "vae_decoder")
# what --dtype offers: computed in float32 or float16, or computed in float32 with the weights stored
# in bfloat16 (storage.py)
EXPORT_DTYPES = ("float32", "float16", "bfloat16")
EXTERNAL_THRESHOLD = 1024  # bytes: smaller tensors stay inline (shape inference reads them)
# bytes of weights above which a stage is exported without embedded weights and its weights are
# streamed to <stage>.onnx.data (must stay below protobuf's 2 GiB; --stream-threshold)
STREAM_THRESHOLD = 1 << 30
INLINE_LIMIT = (1 << 31) - (64 << 20)  # weights an embedded (inline) stage may have
# stage bytes (file and external data) above which export does not measure a stage's working memory
# (a second process would hold its weights beside the exporter's): see --working-memory
MEASURE_LIMIT = 1 << 30

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
            # MMAudio resizes uint8 tensors too (eval_utils.py load_video): CLIP frames with
            # v2.Resize((384, 384), BICUBIC), Synchformer's with v2.Resize(224, BICUBIC) + CenterCrop
            self.visual_filter = "torch-bicubic"
            self.sync_filter = "torch-bicubic"

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


def torchscript_export(module, args, path, input_names, output_names, dynamic_axes, opset,
                       export_params=True, do_constant_folding=True):
    """``torch.onnx.export`` with the TorchScript-based ("legacy") exporter, chosen explicitly.

    PyTorch >= 2.9 defaults to the torch.export-based exporter (``dynamo=True``); from 2.5 the
    argument exists and is set to False here; 2.4 (HVF's floor) has only this exporter. Why this
    one: docs/export.md, "Which exporter"."""
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    # without autograd: a traced forward of parameters that require grad keeps every activation
    # for a backward pass that never comes (HVF's DAC at the 3 s export dummy: about 11 GiB)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", DeprecationWarning)  # 2.9+: "You are using the legacy ..."
        torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=opset, export_params=export_params,
                          do_constant_folding=do_constant_folding, **kwargs)


def parameter_bytes(module):
    """Bytes of the module's parameters and persistent buffers (what an export writes as weights)."""
    seen, total = set(), 0
    for t in module.state_dict(keep_vars=True).values():
        if t.data_ptr() in seen:
            continue
        seen.add(t.data_ptr())
        total += t.numel() * t.element_size()
    return total


def _export_stage(name, module, inputs, axes, opset, work_dir, stream_threshold=STREAM_THRESHOLD):
    """Exports one stage into ``work_dir`` and returns ``(model, data_file)``: the graph (a small
    ModelProto) and, when the weights were streamed, the external data file it points at.

    ``stream_threshold`` None (inline weights wanted): the weights are embedded, and a stage with
    more than INLINE_LIMIT bytes of them (an ONNX file holds at most 2 GiB) is refused. Otherwise,
    up to ``stream_threshold`` bytes the exporter embeds the weights and folds constants (transposed
    weights, ...) as usual; above it the graph is exported WITHOUT its weights and every weight is
    appended to ``<name>.onnx.data`` straight from the module's own tensor, one tensor at a time
    (``_stream_weights``): peak memory stays at about one copy of the weights."""
    in_axes, out_axes = axes[name]
    dynamic = dict(in_axes)
    dynamic.update(out_axes)
    os.makedirs(work_dir, exist_ok=True)
    path = os.path.join(work_dir, name + ".export.onnx")
    weights = parameter_bytes(module)
    if stream_threshold is None and weights > INLINE_LIMIT:
        raise RuntimeError("%s has %.2f GiB of weights, more than an ONNX file can embed (2 GiB): "
                           "export with --external-data" % (name, weights / (1 << 30)))
    stream = stream_threshold is not None and weights > stream_threshold
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if stream:
            _map_large_allocations()
        with export_patches(module), (_placeholder_weights(module) if stream else _nothing()):
            torchscript_export(module, tuple(inputs.values()), path, list(in_axes), list(out_axes), dynamic,
                               opset, export_params=not stream, do_constant_folding=not stream)
    if not stream:
        model = onnx.load(path)
        os.remove(path)
        return model, None
    model = onnx.load(path)  # no weights in it
    os.remove(path)
    data_path = os.path.join(work_dir, name + ".onnx.data")
    _stream_weights(model, module, data_path, list(in_axes))
    return model, data_path


def _map_large_allocations(threshold=1 << 16):
    """glibc's malloc serves requests up to a threshold from its heap, which keeps freed memory
    in the process, and raises that threshold (up to 32 MiB) each time a larger block is freed.
    Tracing a deep network allocates and frees thousands of activations and weight-sized
    temporaries of a few MiB each: measured on HVF's XL denoiser, the heap kept about 200 MiB per
    block that the process no longer used (19 GiB at the peak of the 36-block export, where the
    weights are 10.9 GiB). A fixed threshold (``mallopt(M_MMAP_THRESHOLD)``, which also stops the
    raising) gives every block above 64 KiB its own mapping, returned to the system when freed.
    Process-wide and left so; a no-op where there is no glibc."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-3, int(threshold)))  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


@contextlib.contextmanager
def _nothing():
    yield


@contextlib.contextmanager
def _placeholder_weights(module):
    """While the graph of a streamed stage is traced, every floating-point parameter and persistent
    buffer of at least ``EXTERNAL_THRESHOLD`` bytes (smaller ones stay inline and keep their values,
    which the trace may read) is replaced by a placeholder of its shape and type that holds one element (a zero-stride
    ``expand`` of its own 1-element tensor of a value no other placeholder has, so that the
    exporter's deduplication of equal initializers merges none of them; a tensor used in two
    places gets one placeholder). Without weights in the graph (``export_params=False``) the
    trace needs only their shapes, and the weight-sized temporaries that the traced forward and
    the exporter's passes make from them are not made: measured on HVF's XL denoiser at 4 + 4
    blocks (2.7 GiB of weights), the export's peak above the built model fell from 590 to 356 MiB
    (with ``_map_large_allocations``). The module's own tensors are put back afterwards, and
    ``_stream_weights`` writes those."""
    saved = []  # (owner, kind, name, original)
    fakes = {}
    with torch.no_grad():
        for owner in module.modules():
            persistent = [n for n in owner._buffers if n not in owner._non_persistent_buffers_set]
            for kind, names in (("_parameters", list(owner._parameters)), ("_buffers", persistent)):
                table = getattr(owner, kind)
                for name in names:
                    t = table[name]
                    if t is None or not t.is_floating_point():
                        continue  # integer tensors (position ids, ...) are indices: their values count
                    if t.numel() * t.element_size() < EXTERNAL_THRESHOLD:
                        # stays inline anyway, and its value may be read while tracing (a filter made
                        # a constant by a patch, a gain read with .tolist()): a placeholder would be
                        # baked into the graph
                        continue
                    fake = fakes.get(id(t))
                    if fake is None:
                        one = _distinct_scalar(len(fakes) + 1, t.dtype)
                        one = one.expand(t.shape) if t.dim() else one.reshape(())
                        fake = nn.Parameter(one, requires_grad=False) if kind == "_parameters" else one
                        fakes[id(t)] = fake
                    saved.append((table, name, t))
                    table[name] = fake
    try:
        yield
    finally:
        for table, name, t in saved:
            table[name] = t


def _distinct_scalar(i, dtype):
    """A 1-element tensor of the floating-point ``dtype`` whose value differs for every ``i`` >= 1
    (the finite value with bit pattern ``i``): the exporter merges initializers of equal value
    (``_jit_pass_onnx_deduplicate_initializers``), so placeholders must all differ."""
    bits = {torch.float32: torch.int32, torch.float64: torch.int64, torch.float16: torch.int16,
            torch.bfloat16: torch.int16}[dtype]
    limit = 0x7C00 if dtype == torch.float16 else 0x7F80 if dtype == torch.bfloat16 else 0x7F800000
    if i >= limit:
        raise RuntimeError("more than %d weight tensors to stream in %s" % (limit - 1, dtype))
    return torch.tensor([i], dtype=bits).view(dtype)


def _stream_weights(model, module, data_path, input_names):
    """Turns the weight inputs of a graph exported with ``export_params=False`` into initializers
    whose bytes live in ``data_path``, written tensor by tensor from the module's state. A weight
    used only through a ``Transpose`` is written transposed and the node dropped (what constant
    folding does in the embedded export); small tensors (< EXTERNAL_THRESHOLD bytes) stay inline."""
    state = {k: v.detach() for k, v in module.state_dict(keep_vars=True).items()}
    g = model.graph
    weight_inputs = [v for v in g.input if v.name in state]
    others = [v.name for v in g.input if v.name not in state]
    if others != list(input_names):
        raise RuntimeError("graph inputs %s are neither the stage inputs %s nor weights" % (others, input_names))
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    drop = []
    folded = {}  # weight name -> perm of the Transpose that consumes it alone
    for v in weight_inputs:
        users = consumers.get(v.name, [])
        if len(users) == 1 and users[0].op_type == "Transpose":
            perm = [list(a.ints) for a in users[0].attribute if a.name == "perm"]
            folded[v.name] = (users[0], perm[0] if perm else None)
    offset = 0
    with open(data_path, "wb") as f:
        for v in weight_inputs:
            t = state[v.name]
            out_name = v.name
            if v.name in folded:
                node, perm = folded[v.name]
                t = t.permute(*perm) if perm is not None else t.permute(*reversed(range(t.dim())))
                out_name = node.output[0]
                drop.append(node)
            t = t.contiguous()
            if t.dtype == torch.bfloat16:
                raw = t.view(torch.int16).numpy()
            else:
                raw = t.numpy()
            tensor = onnx.TensorProto()
            tensor.name = out_name
            tensor.data_type = onnx.helper.np_dtype_to_tensor_dtype(raw.dtype) if t.dtype != torch.bfloat16 \
                else onnx.TensorProto.BFLOAT16
            tensor.dims.extend(t.shape)
            nbytes = raw.nbytes
            if nbytes < EXTERNAL_THRESHOLD:
                tensor.raw_data = raw.tobytes()
            else:
                f.write(memoryview(raw.reshape(-1)).cast("B"))
                tensor.data_location = onnx.TensorProto.EXTERNAL
                for key, value in (("location", os.path.basename(data_path)), ("offset", str(offset)),
                                   ("length", str(nbytes))):
                    entry = tensor.external_data.add()
                    entry.key, entry.value = key, value
                offset += nbytes
            g.initializer.append(tensor)
            del t, raw
    for node in drop:
        g.node.remove(node)
    keep = [v for v in g.input if v.name not in state]
    del g.input[:]
    g.input.extend(keep)


def _save(model, path, external, streamed_data=None):
    """Saves inline, or with all large tensors in ONE external file ``<stage>.onnx.data``.
    ``streamed_data``: the data file ``_export_stage`` already wrote (moved beside ``path``)."""
    data_name = os.path.basename(path) + ".data"
    data_path = os.path.join(os.path.dirname(path), data_name)
    in_place = streamed_data is not None and os.path.abspath(streamed_data) == os.path.abspath(data_path)
    if os.path.exists(data_path) and not in_place:
        os.remove(data_path)
    if streamed_data is not None:
        if not external:
            raise RuntimeError("%s: the weights were streamed to external data" % os.path.basename(path))
        if not in_place:
            shutil.move(streamed_data, data_path)
        for init in model.graph.initializer:
            for entry in init.external_data:
                if entry.key == "location":
                    entry.value = data_name
        onnx.save_model(model, path)
        return data_name
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
                  tokenizer_json=None, name=None, description=None, stream_threshold=STREAM_THRESHOLD,
                  dtypes=None, working_memory="measured"):
    """Writes the bundle; returns the manifest dict. ``stream_threshold``: see ``_export_stage``.
    ``dtypes``: {stage: "float16"} computes those stages in float16 (``InDtype``); their inputs
    and outputs stay float32. ``working_memory``: how each stage's ``workingMemory`` is found
    ("measured" or "graph", see ``memory.stage_entry``), or None for no such field."""
    if working_memory not in (None,) + memory.METHODS:
        raise ValueError("working_memory must be one of %s or None, got %r" % (", ".join(memory.METHODS), working_memory))
    dtypes = dict(dtypes or {})
    for st, dt in dtypes.items():
        if st not in STAGES or dt not in EXPORT_DTYPES:
            raise ValueError("dtype %s=%s: stage must be one of %s, type one of %s"
                             % (st, dt, ", ".join(STAGES), ", ".join(EXPORT_DTYPES)))
    if not 0 <= stream_threshold < INLINE_LIMIT:
        raise ValueError("stream_threshold must be in [0, 2 GiB - 64 MiB), got %r" % (stream_threshold,))
    spec = Spec(config)
    os.makedirs(out_dir, exist_ok=True)
    import tempfile
    with tempfile.TemporaryDirectory(prefix=".export-", dir=out_dir) as work_dir:
        manifest = _export_bundle(kind, models, config, spec, out_dir, work_dir, external_data, opset, parity_out,
                                  tokenizer_json, name, description, stream_threshold, dtypes, working_memory)
    _readable_as_umask_allows(out_dir)
    return manifest


def _readable_as_umask_allows(out_dir):
    """Files made in the private work directory (mode 0600 where the exporter used a temporary
    file) get the mode an ordinary file gets under the process's umask, like the others: a
    service reading the bundle under another account must not find some stages unreadable."""
    umask = os.umask(0)
    os.umask(umask)
    for name in os.listdir(out_dir):
        path = os.path.join(out_dir, name)
        if os.path.isfile(path):
            os.chmod(path, 0o666 & ~umask)


def _export_bundle(kind, models, config, spec, out_dir, work_dir, external_data, opset, parity_out,
                   tokenizer_json, name, description, stream_threshold, dtypes, working_memory):
    tokenizer = WordTokenizer(config["text"]["style"]) if tokenizer_json is None else None
    stages = stage_modules(kind, models, config)
    for m in stages.values():
        m.eval()
    dims = _probe_dims(spec, stages, tokenizer.vocab_size if tokenizer else 1000)
    for st, dt in dtypes.items():
        if dt == "bfloat16":  # stored in bfloat16, computed in float32: the values must be bfloat16's
            changed, total = storage.round_parameters(stages[st])
            if changed:
                warnings.warn("%s: %d of %d parameter values are not bfloat16 numbers and were rounded to the "
                              "nearest (a bfloat16 checkpoint has none)" % (st, changed, total))
        elif dt != "float32":
            stages[st] = InDtype(stages[st], DTYPES[dt]).eval()

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
        model, streamed = _export_stage(st, module, inputs, axes, opset, work_dir,
                                        stream_threshold if external_data else None)
        if dtypes.get(st) == "bfloat16":
            stored = storage.store_bfloat16(model, work_dir, EXTERNAL_THRESHOLD)
            if not stored["converted"]:
                raise RuntimeError("%s: no weight could be stored in bfloat16 (%s)" % (st, stored))
        _stamp_dims(model, declared)
        path = os.path.join(out_dir, st + ".onnx")
        data = _save(model, path, external_data, streamed)
        del model
        check_stage(path, declared)
        entry = {"file": st + ".onnx", "sha256": sha256(path)}
        if data is not None:
            entry["externalData"] = [{"file": data, "sha256": sha256(os.path.join(out_dir, data))}]
        entry.update(declared)
        if dtypes.get(st) == "bfloat16":
            entry["weights"] = "bfloat16"
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
                              name or config.get("name", kind), description, opset, dtypes)
    if working_memory:
        for st in STAGES:
            entry = manifest["stages"][st]
            method = working_memory
            size = sum(os.path.getsize(os.path.join(out_dir, f["file"])) for f in [entry] + entry.get("externalData", []))
            if method == "measured" and size > MEASURE_LIMIT:
                # the measuring process loads the stage beside this one, which holds the model
                method = "graph"
                warnings.warn("%s: %.1f GB of weights, not measured while the model is in memory; its workingMemory "
                              "is the graph's (x %s). Measure it in a fresh process: python -m foley_export memory "
                              "--bundle %s --stages %s" % (st, size / 1e9, memory.GRAPH_FACTOR, out_dir, st))
            try:
                entry["workingMemory"], _ = memory.stage_entry(os.path.join(out_dir, entry["file"]), manifest, st,
                                                               method)
            except memory.UnknownShape as e:
                # shapes computed from values (a Range of a length the graph works out): nothing to
                # walk, and too big to measure here; foley4j then estimates from the stage's inputs
                warnings.warn("%s: no workingMemory written (%s). Measure it in a fresh process: python -m "
                              "foley_export memory --bundle %s --stages %s" % (st, e, out_dir, st))
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


def build_manifest(spec, stages, tok_sha, unc_sha, name, description=None, opset=17, dtypes=None):
    c = spec.config
    computed = ", ".join(("%s weights stored in bfloat16" if dt == "bfloat16" else "%s in %s") % ((st,) if dt == "bfloat16" else (st, dt))
                         for st, dt in sorted((dtypes or {}).items()) if dt != "float32")
    m = {
        "format": "foley-bundle",
        "formatVersion": 2,
        "name": name,
        "description": description or ("exported by foley_export (tools/export) from a %s model set, "
                                       "float32%s, opset %s" % (spec.kind, " (" + computed + ")" if computed else "",
                                                                 opset)),
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
