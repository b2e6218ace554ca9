"""Weights stored in bfloat16, computed in float32 (``export --dtype STAGE=bfloat16``).

ONNX Runtime's x86 CPU provider has no bfloat16 kernels, so a stage cannot be computed in
bfloat16 there; but its weights can be *kept* in bfloat16. Every large float32 weight whose values
are all bfloat16 numbers (the low 16 bits of each float32 are zero) is written as a bfloat16
initializer, and a ``Cast`` node widens it back to float32 where the graph reads it: the arithmetic
is the float32 stage's on the same values (a runtime may sum in another order when a weight is no
longer a constant: a few units in the last place), and the weights take half the bytes on disk and
in memory.

HunyuanVideo-Foley's checkpoints are bfloat16, so for its real weights nothing is rounded: the
bundle holds exactly the float32 export's values. A module with other values has its parameters
rounded to bfloat16 first (``round_parameters``, round to nearest even, what ``tensor.bfloat16()``
does), and the parity data is computed from the rounded module.

A runtime must not fold those casts into float32 constants when it loads the stage (that is what
constant folding does with a node whose inputs are all constants: the memory would be the float32
one again). The manifest marks such a stage (``"weights": "bfloat16"``) and foley4j turns ONNX
Runtime's ``ConstantFolding`` off for it (``ORT_CONFIG``); each cast's float32 output then lives only
from the cast to its last reader, inside a call.

The cast nodes are placed first in the node list: ONNX Runtime's default execution order (a
depth-first walk back from the outputs) then runs each cast right before the node that reads its
weight, rather than all of them at the start of the call, which would hold every weight in float32
at once (measured: 8 weights of 64 MiB, 405 MiB peak with the casts first in the list, 863 MiB with
each cast just before its reader).
"""

import os

import numpy as np
from onnx import TensorProto, helper

# ONNX Runtime session settings a stage with bfloat16-stored weights needs
ORT_CONFIG = {"optimization.disable_specified_optimizers": "ConstantFolding"}
SUFFIX = "__bf16"


def ort_config(stage_entry):
    """The session config entries for a manifest stage entry (empty for float32 weights)."""
    return dict(ORT_CONFIG) if stage_entry.get("weights") == "bfloat16" else {}


def round_parameters(module):
    """Rounds every floating-point parameter of ``module`` to the nearest bfloat16 value, in place.
    Returns ``(changed, total)``: how many values changed, of how many (0 for a bfloat16 checkpoint
    loaded in float32)."""
    import torch
    changed = total = 0
    seen = set()
    with torch.no_grad():
        for p in module.parameters():
            if not p.is_floating_point() or p.data_ptr() in seen:
                continue
            seen.add(p.data_ptr())
            rounded = p.data.to(torch.bfloat16).to(p.dtype)
            changed += int((rounded != p.data).sum())
            total += p.numel()
            p.data.copy_(rounded)
    return changed, total


def _external(init):
    return {e.key: e.value for e in init.external_data}


def _read_external(base_dir, ext, nbytes):
    """``nbytes`` bytes of an external tensor, read into memory of their own: a plain read, not a
    mapping, so that the file's pages are not counted in this process's resident set (mapping a
    streamed 11 GB data file put its pages on top of the model the export still holds)."""
    with open(os.path.join(base_dir, ext["location"]), "rb") as f:
        f.seek(int(ext.get("offset", 0)))
        data = np.empty(nbytes, dtype=np.uint8)
        if f.readinto(memoryview(data)) != nbytes:
            raise ValueError("%s: external data shorter than %d bytes at offset %s"
                             % (ext["location"], nbytes, ext.get("offset", 0)))
    return data


def _read_float32(init, base_dir):
    """The initializer's float32 values."""
    if init.data_location == TensorProto.EXTERNAL:
        count = int(np.prod(init.dims, dtype=np.int64))
        return _read_external(base_dir, _external(init), 4 * count).view(np.float32)
    if init.raw_data:
        return np.frombuffer(init.raw_data, dtype=np.float32)
    return np.asarray(init.float_data, dtype=np.float32)


def store_bfloat16(model, base_dir=None, min_bytes=1024):
    """Rewrites ``model`` (a ModelProto, changed in place) so that every float32 initializer of at
    least ``min_bytes`` whose values are all bfloat16 numbers is stored in bfloat16 behind a Cast
    to float32. Weights in external data are read from ``base_dir``; when there are any, ONE new
    data file replaces each one they came from (``<file>``, rewritten through ``<file>.bf16``), with
    the unconverted tensors copied as they were. Returns counts: ``converted`` and ``kept``
    (tensors), ``bytes_before`` and ``bytes_after`` (of the float32 initializers considered),
    ``not_bfloat16`` (large float32 tensors kept because some value is not a bfloat16 number)."""
    g = model.graph
    names = {i.name for i in g.initializer} | {o for n in g.node for o in n.output} | {v.name for v in g.input}
    writers = {}  # old external file -> (handle, new path, offset)
    stats = {"converted": 0, "kept": 0, "not_bfloat16": 0, "bytes_before": 0, "bytes_after": 0}
    casts = []
    graph_inputs = {v.name for v in g.input}
    try:
        for init in g.initializer:
            if init.name in graph_inputs:
                continue  # an overridable initializer: its name is part of the graph's interface
            ext = _external(init) if init.data_location == TensorProto.EXTERNAL else None
            count = int(np.prod(init.dims, dtype=np.int64))
            candidate = init.data_type == TensorProto.FLOAT and count * 4 >= min_bytes
            if not candidate and ext is None:
                continue
            values = None
            convert = False
            if candidate:
                values = _read_float32(init, base_dir)
                convert = not np.any(values.view(np.uint32) & 0xFFFF)
                stats["bytes_before"] += count * 4
                if not convert:
                    stats["not_bfloat16"] += 1
            if convert:
                payload = (values.view(np.uint32) >> 16).astype(np.uint16)
                stats["bytes_after"] += count * 2
                stats["converted"] += 1
            else:
                stats["kept"] += int(candidate)
                stats["bytes_after"] += count * 4 if candidate else 0
                payload = None
            if ext is not None:  # copy or convert into the new data file
                old = os.path.join(base_dir, ext["location"])
                if old not in writers:
                    writers[old] = [open(old + ".bf16", "wb"), 0]
                w = writers[old]
                if payload is None:
                    size = int(ext["length"]) if "length" in ext else \
                        count * np.dtype(helper.tensor_dtype_to_np_dtype(init.data_type)).itemsize
                    data = values.view(np.uint8) if values is not None else _read_external(base_dir, ext, size)
                else:
                    data = payload.view(np.uint8)
                w[0].write(memoryview(np.ascontiguousarray(data)).cast("B"))
                del init.external_data[:]
                for key, value in (("location", ext["location"]), ("offset", str(w[1])), ("length", str(data.nbytes))):
                    entry = init.external_data.add()
                    entry.key, entry.value = key, value
                w[1] += data.nbytes
            elif payload is not None:
                del init.float_data[:]
                init.raw_data = payload.tobytes()
            if convert:
                stored = init.name + SUFFIX
                while stored in names:
                    stored += "_"
                names.add(stored)
                casts.append(helper.make_node("Cast", [stored], [init.name], to=TensorProto.FLOAT,
                                              name="widen_" + stored))
                init.name = stored
                init.data_type = TensorProto.BFLOAT16
            del values, payload
    finally:
        for w in writers.values():
            w[0].close()
    for old in writers:
        os.replace(old + ".bf16", old)
    # the casts first: see the module's docstring
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)
    return stats
