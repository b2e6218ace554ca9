"""INT8 variants of a bundle's stages with ONNX Runtime's quantisation tools.

``python -m foley_export quantize --bundle IN --out OUT`` copies a bundle and replaces the chosen
stages (by default the three encoders and the denoiser) with INT8 ones:

* ``dynamic`` (the default): ``onnxruntime.quantization.quantize_dynamic``. The weights of MatMul
  and Gemm nodes are stored as signed 8-bit integers with one scale per tensor (per output channel
  with ``--per-channel``), and activations are quantised at run time from their own range, so no
  calibration data is needed. The graphs keep their float32 inputs and outputs, so the manifest's
  tensors are unchanged and foley4j runs them as any other bundle.
* ``weight-only``: the same weights in int8 behind a DequantizeLinear, computed in float32: the file
  is as small, the arithmetic and the result as close to float32 as int8 weights allow, and no
  integer kernels are needed (what a GPU backend without int8 kernels can still run).

The VAE decoder stays float32 unless named: it is made of convolutions, which dynamic quantisation
leaves alone in ONNX Runtime's default op list, and its output is the audio itself.

Each rewritten stage gets its new SHA-256 in the manifest; external data of a quantised stage is
written inline when it fits under 2 GiB, else to ``<stage>.onnx.data``. The manifest's name gains
``-int8`` and its description says what was quantised and how. Quality on real weights is not
measured here: random stand-in weights only say the graphs run and how far they move.
"""

import json
import os
import shutil
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

from .export import MANIFEST, sha256, verify_bundle

DEFAULT_STAGES = ("visual_encoder", "sync_encoder", "text_encoder", "denoiser")
TWO_GIB = 2 ** 31


def _weight_only(src, dst, per_channel):
    """Rewrites every float32 MatMul/Gemm weight initializer as int8 + scale behind DequantizeLinear."""
    model = onnx.load(src, load_external_data=True)
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    weight_names = set()
    for node in graph.node:
        if node.op_type == "MatMul" and len(node.input) == 2 and node.input[1] in inits:
            weight_names.add(node.input[1])
        if node.op_type == "Gemm" and len(node.input) >= 2 and node.input[1] in inits:
            trans_b = any(a.name == "transB" and a.i == 1 for a in node.attribute)
            if not trans_b:
                weight_names.add(node.input[1])
    new_inits = []
    new_nodes = []
    for name in sorted(weight_names):
        t = inits[name]
        if t.data_type != onnx.TensorProto.FLOAT:
            continue
        w = numpy_helper.to_array(t)
        if w.ndim != 2 or w.size < 256:
            continue
        # symmetric int8: per output column (axis 1 of a [K, N] MatMul weight) or per tensor
        if per_channel:
            scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / 127.0
            q = np.clip(np.round(w / scale[None, :]), -127, 127).astype(np.int8)
        else:
            scale = np.array(max(float(np.abs(w).max()), 1e-12) / 127.0, dtype=np.float32)
            q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        scale = scale.astype(np.float32)
        graph.initializer.remove(t)
        new_inits.append(numpy_helper.from_array(q, name + "_int8"))
        new_inits.append(numpy_helper.from_array(scale, name + "_scale"))
        attrs = {"axis": 1} if per_channel else {}
        new_nodes.append(onnx.helper.make_node("DequantizeLinear", [name + "_int8", name + "_scale"], [name],
                                               name=name + "_dequantize", **attrs))
    graph.initializer.extend(new_inits)
    for n in reversed(new_nodes):
        graph.node.insert(0, n)
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=13)
    if per_channel and opset < 13:
        for o in model.opset_import:
            if o.domain in ("", "ai.onnx"):
                o.version = 13
    _save(model, dst)
    return len(new_nodes)


def _save(model, dst):
    data = os.path.basename(dst) + ".data"
    if os.path.exists(os.path.join(os.path.dirname(dst), data)):
        os.remove(os.path.join(os.path.dirname(dst), data))
    if model.ByteSize() < TWO_GIB - (64 << 20):
        onnx.save_model(model, dst)
    else:
        onnx.save_model(model, dst, save_as_external_data=True, all_tensors_to_one_file=True, location=data,
                        size_threshold=1024)


def _dynamic(src, dst, per_channel):
    from onnxruntime.quantization import QuantType, quantize_dynamic
    model = onnx.load(src, load_external_data=True)
    large = model.ByteSize() >= TWO_GIB - (64 << 20)
    with tempfile.TemporaryDirectory() as tmp:
        staged = os.path.join(tmp, "in.onnx")
        onnx.save_model(model, staged, save_as_external_data=large, all_tensors_to_one_file=True,
                        location="in.onnx.data") if large else onnx.save_model(model, staged)
        del model
        out = os.path.join(tmp, "out.onnx")
        quantize_dynamic(staged, out, weight_type=QuantType.QInt8, per_channel=per_channel,
                         op_types_to_quantize=["MatMul", "Gemm"], use_external_data_format=large)
        q = onnx.load(out, load_external_data=True)
    n = sum(1 for node in q.graph.node if node.op_type in ("MatMulInteger", "DynamicQuantizeLinear",
                                                            "QGemm", "DynamicQuantizeMatMul"))
    _save(q, dst)
    return n


def quantize_bundle(bundle_dir, out_dir, stages=DEFAULT_STAGES, mode="dynamic", per_channel=False):
    """Writes ``out_dir``: ``bundle_dir`` with ``stages`` quantised; returns the new manifest."""
    if mode not in ("dynamic", "weight-only"):
        raise ValueError("mode must be dynamic or weight-only, got %r" % (mode,))
    with open(os.path.join(bundle_dir, MANIFEST), encoding="utf-8") as f:
        manifest = json.load(f)
    unknown = [s for s in stages if s not in manifest["stages"]]
    if unknown:
        raise ValueError("the bundle has no stage %s (it has %s)" % (", ".join(unknown),
                                                                   ", ".join(manifest["stages"])))
    if os.path.exists(out_dir) and os.listdir(out_dir):
        raise ValueError("%s exists and is not empty" % out_dir)
    os.makedirs(out_dir, exist_ok=True)
    rewritten = {}
    for stage, entry in manifest["stages"].items():
        src = os.path.join(bundle_dir, entry["file"])
        dst = os.path.join(out_dir, entry["file"])
        if stage not in stages:
            shutil.copy2(src, dst)
            for x in entry.get("externalData", []):
                shutil.copy2(os.path.join(bundle_dir, x["file"]), os.path.join(out_dir, x["file"]))
            continue
        n = (_dynamic if mode == "dynamic" else _weight_only)(src, dst, per_channel)
        if n == 0:
            raise ValueError("stage %s has no MatMul or Gemm weights to quantise" % stage)
        rewritten[stage] = n
        entry["sha256"] = sha256(dst)
        # the float graph's working memory does not describe the rewritten one: foley4j falls back to
        # its shape estimate (run `foley_export memory --bundle OUT` to record the new graph's)
        entry.pop("workingMemory", None)
        data = os.path.basename(dst) + ".data"
        if os.path.exists(os.path.join(out_dir, data)):
            entry["externalData"] = [{"file": data, "sha256": sha256(os.path.join(out_dir, data))}]
        else:
            entry.pop("externalData", None)
    for e in manifest["files"].values():
        shutil.copy2(os.path.join(bundle_dir, e["file"]), os.path.join(out_dir, e["file"]))
    manifest["name"] = manifest["name"] + ("-int8" if mode == "dynamic" else "-int8-weights")
    manifest["description"] = ("%s; INT8 (%s%s) in %s by foley_export quantize (onnxruntime.quantization)"
                               % (manifest.get("description", manifest["name"]), mode,
                                  ", per channel" if per_channel else "", ", ".join(sorted(rewritten))))
    with open(os.path.join(out_dir, MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
    verify_bundle(out_dir)
    return manifest, rewritten


def bytes_of(bundle_dir):
    return sum(os.path.getsize(os.path.join(bundle_dir, n)) for n in os.listdir(bundle_dir)
               if os.path.isfile(os.path.join(bundle_dir, n)))
