"""Working memory of one stage call, from the ONNX graph itself.

The symbolic axes of a stage's inputs are bound to concrete sizes, ONNX shape inference gives
every intermediate tensor its shape, and the graph's nodes are walked in their stored order (a
topological order, the one the exporter wrote): a tensor is allocated when its node runs and
freed after its last reader, so the working memory is the largest sum of live tensor bytes at
any node (its inputs and outputs both live). Weights (initializers) are not counted: they are
loaded once, before any call. Views do not allocate: the outputs of Reshape, Squeeze,
Unsqueeze, Flatten and Identity share their input's buffer (ONNX Runtime's CPU kernels reuse
it), so the buffer lives until the last reader of any of its views.

``working_memory`` returns that peak for one binding; ``manifest_entry`` the manifest's
``workingMemory`` field of a stage (docs/bundle-format.md): the peak at batch 1 at a few pass
lengths. The engine scales it by the call's rows and by a factor for ONNX Runtime's allocator,
calibrated against measured peaks (docs/tuning.md, "Memory admission of a device").
"""

import math
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, shape_inference

from . import procstat, storage

# outputs that are views of their first input in ONNX Runtime (no new buffer)
ALIASING = {"Reshape", "Squeeze", "Unsqueeze", "Flatten", "Identity"}


class UnknownShape(RuntimeError):
    """A tensor's shape stays unknown after shape inference: its bytes cannot be counted."""


class UnknownStage(ValueError):
    """A stage asked for that the bundle's manifest does not have."""


def _itemsize(elem_type):
    if elem_type == TensorProto.BOOL:
        return 1
    if elem_type == TensorProto.STRING:
        raise UnknownShape("string tensors have no fixed size")
    return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)).itemsize


def _load(model):
    if isinstance(model, onnx.ModelProto):
        m = onnx.ModelProto()
        m.CopyFrom(model)
        return m
    return onnx.load(os.fspath(model), load_external_data=False)


def _bind(model, dims):
    """Fixes every symbolic dimension of the graph's inputs named in ``dims``; drops the stored
    intermediate shapes so that inference starts from the inputs."""
    g = model.graph
    inits = {i.name for i in g.initializer}
    for v in g.input:
        if v.name in inits:
            continue
        for d in v.type.tensor_type.shape.dim:
            if d.HasField("dim_param"):
                if d.dim_param not in dims:
                    raise ValueError("input %s: no size given for symbolic axis %r (given: %s)"
                                     % (v.name, d.dim_param, sorted(dims)))
                size = int(dims[d.dim_param])
                d.Clear()
                d.dim_value = size
    for v in g.output:
        for d in v.type.tensor_type.shape.dim:
            if d.HasField("dim_param") and d.dim_param in dims:
                size = int(dims[d.dim_param])
                d.Clear()
                d.dim_value = size
    del g.value_info[:]


def _infer(m):
    """Shapes of every tensor: ONNX Runtime's symbolic shape inference (which computes shape
    arithmetic ONNX's own inference leaves unknown), else ONNX's. Weights stored outside the file
    become inputs of their shape, so that no weight is read."""
    try:
        from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference
    except ImportError:  # pragma: no cover - onnxruntime is a dependency of the tool
        return shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)
    g = m.graph
    inline = []
    for i in g.initializer:
        if i.data_location == TensorProto.EXTERNAL:
            g.input.append(helper.make_tensor_value_info(i.name, i.data_type, list(i.dims)))
        else:
            inline.append(i)
    del g.initializer[:]
    g.initializer.extend(inline)
    try:
        return SymbolicShapeInference.infer_shapes(m, auto_merge=False, guess_output_rank=False, verbose=0)
    except Exception:  # its own limits (an output declared without a shape, an op it does not know)
        return shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)


def working_memory(model, dims, folding=True):
    """Peak bytes of live tensors over one call with the symbolic axes bound to ``dims`` (name →
    size). ``model``: a path (external data is not read) or a ModelProto. ``folding`` False: the
    runtime does not fold constants (a stage with bfloat16-stored weights, storage.py), so the
    float32 output of a Cast of a weight is working memory, made right before its first reader
    (where ONNX Runtime's order runs it) and freed after its last. Returns a dict: ``bytes``
    (the peak), ``inputs`` and ``outputs`` (their bytes, part of the peak), ``node`` (where the
    peak is) and ``tensors`` (how many were counted)."""
    m = _load(model)
    _bind(m, dims)
    inits = {i.name for i in m.graph.initializer}
    m = _infer(m)
    g = m.graph
    shapes = {}
    for v in list(g.input) + list(g.value_info) + list(g.output):
        tt = v.type.tensor_type
        if not tt.HasField("shape"):
            continue
        ds = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        if v.name in shapes and None not in shapes[v.name][1] and None in ds:
            continue  # keep what inference computed over a declaration with a symbolic size
        shapes[v.name] = (tt.elem_type, ds)

    def nbytes(name):
        if name not in shapes or any(d is None for d in shapes[name][1]):
            raise UnknownShape("the shape of %s is unknown after shape inference with %s" % (name, dims))
        et, ds = shapes[name]
        return int(np.prod(ds, dtype=np.int64)) * _itemsize(et)

    graph_inputs = [v.name for v in g.input if v.name not in inits]
    graph_outputs = [v.name for v in g.output]
    # buffers: each tensor name maps to the buffer it lives in (a view maps to its source's)
    buffer_of = {}
    size = {}
    for n in graph_inputs:
        buffer_of[n] = n
        size[n] = nbytes(n)
    constants = set(inits)
    last_use = {}
    for i, node in enumerate(g.node):
        for x in node.input:
            if x:
                last_use[x] = i
    end = len(g.node)
    for o in graph_outputs:
        last_use[o] = end
    for n in graph_inputs:
        last_use[n] = end  # the caller holds its inputs for the whole call
    # a buffer dies after the last use of any tensor that lives in it (a buffer nobody reads, right
    # after the node that wrote it)
    first_use = {}
    for i, node in enumerate(g.node):
        for x in node.input:
            if x and x not in first_use:
                first_use[x] = i
    produced_at = {}
    for i, node in enumerate(g.node):
        for j, o in enumerate(node.output):
            if not o:
                continue
            src = node.input[0] if node.input else ""
            if node.op_type in ALIASING and j == 0 and src in buffer_of:
                buffer_of[o] = buffer_of[src]
            elif not folding and node.op_type == "Cast" and node.input and node.input[0] in inits:
                buffer_of[o] = o  # a widened weight: lives from its first reader to its last
                size[o] = nbytes(o)
                produced_at[o] = first_use.get(o, i)
            elif node.op_type == "Constant" or all(not x or x in constants for x in node.input):
                constants.add(o)  # folded at load time: a weight, not working memory
            else:
                buffer_of[o] = o
                size[o] = nbytes(o)
                produced_at[o] = i
    buffer_end = dict(produced_at)
    for t, b in buffer_of.items():
        buffer_end[b] = max(buffer_end.get(b, -1), last_use.get(t, -1))
    frees = {}
    for b in produced_at:
        frees.setdefault(buffer_end[b], []).append(b)
    born = {}
    for b, i in produced_at.items():
        born.setdefault(i, []).append(b)
    live = sum(size[n] for n in graph_inputs)
    peak, peak_node = live, None
    for i, node in enumerate(g.node):
        for b in born.pop(i, []):
            live += size[b]
        if live > peak:
            peak, peak_node = live, node.name or node.op_type
        for b in frees.pop(i, []):
            live -= size[b]
    return {"bytes": int(peak), "inputs": int(sum(size[n] for n in graph_inputs)),
            "outputs": int(sum(size[buffer_of[o]] for o in graph_outputs if o in buffer_of)),
            "node": peak_node, "tensors": len(size)}


def _status_kib(field):
    kib = procstat.status_kib(field)
    if kib is None:
        raise RuntimeError("no %s in /proc/self/status" % field)
    return kib


def _feed(session, dims, seed=0):
    rng = np.random.default_rng(seed)
    feed = {}
    for i in session.get_inputs():
        shape = [d if isinstance(d, int) else int(dims[d]) for d in i.shape]
        if i.type == "tensor(int64)":
            feed[i.name] = np.ones(shape, dtype=np.int64)
        elif i.type == "tensor(float16)":
            feed[i.name] = rng.uniform(-1, 1, shape).astype(np.float16)
        else:
            feed[i.name] = rng.uniform(-1, 1, shape).astype(np.float32)
    return feed


def measure(path, dims, warm_dims=None, calls=2, threads=0, config=None):
    """What one process of ONNX Runtime's CPU provider really uses for calls at ``dims``, with the
    engine's session settings (optimization ALL, memory arena and patterns on): the model is loaded
    and, with ``warm_dims``, called twice at those sizes, so that weights kept in external data are
    resident, then the peak resident set (VmHWM, reset through /proc/self/clear_refs) over
    ``calls`` calls at ``dims`` minus the resident set before them. ``config``: session config
    entries the stage needs (``storage.ort_config``). Linux only."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.enable_cpu_mem_arena = True
    so.enable_mem_pattern = True
    so.intra_op_num_threads = threads
    for k, v in (config or {}).items():
        so.add_session_config_entry(k, v)
    s = ort.InferenceSession(os.fspath(path), so, providers=["CPUExecutionProvider"])
    if warm_dims:
        for _ in range(2):
            s.run(None, _feed(s, warm_dims))
    feed = _feed(s, dims)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_kib("VmRSS")
    peaks = []
    for _ in range(calls):
        s.run(None, feed)
        peaks.append(_status_kib("VmHWM") - before)
    return {"bytes": peaks[-1] * 1024, "first_call_bytes": peaks[0] * 1024, "rss_before_bytes": before * 1024}


# ---- the manifest field ------------------------------------------------------------------------

LENGTH_STAGES = ("denoiser", "vae_decoder")  # stages whose working memory follows the pass's latents
METHODS = ("measured", "graph")
# ONNX Runtime's CPU working memory over the graph's live-tensor peak, used without a measurement
# (method "graph"): the arena keeps the first call's allocations and the memory pattern of later
# calls takes one more block of the planned size, each grown in powers of two, so at most about
# 2 x 2 the peak; measured 1.65 (the reference model's MLP) to 3.8 (HunyuanVideo-Foley's blocks).
GRAPH_FACTOR = 4.0
CALIBRATION_BYTES = 64 << 20  # live-tensor peak the calibration call is scaled up to (by its batch)


def pass_counts(manifest, latents):
    """The denoiser's visual frames and sync tokens of a pass of ``latents`` latents."""
    seconds = latents / float(manifest["latent"]["rate"])
    v, s = manifest["visual"], manifest["sync"]
    frames = max(int(s["window"]), int(round(seconds * float(s["fps"]))))
    windows = (frames - int(s["window"])) // int(s["stride"]) + 1
    return {"visual": max(1, int(round(seconds * float(v["fps"])))), "sync": windows * int(s["tokensPerWindow"])}


def stage_dims(manifest, stage, batch, latents=None):
    """Sizes for every symbolic axis of ``stage``'s declared inputs: batch ``batch``, a pass of
    ``latents`` latents (the trained segment's when None), text at ``text.maxTokens``."""
    seg = manifest["segment"]
    n = int(latents if latents is not None else seg.get("latents", round(seg["seconds"] * manifest["latent"]["rate"])))
    counts = pass_counts(manifest, n)
    per_axis = {("denoiser", "latents", 2): n, ("denoiser", "visual", 1): counts["visual"],
                ("denoiser", "sync", 1): counts["sync"], ("vae_decoder", "latents", 2): n}
    dims = {}
    for t in manifest["stages"][stage]["inputs"]:
        for axis, d in enumerate(t["shape"]):
            if not isinstance(d, str):
                continue
            if axis == 0:
                size = batch
            elif stage in ("text_encoder", "denoiser") and t["name"] in ("input_ids", "attention_mask", "text"):
                size = int(manifest["text"]["maxTokens"])
            elif (stage, t["name"], axis) in per_axis:
                size = per_axis[(stage, t["name"], axis)]
            else:
                raise ValueError("stage %s input %s axis %d (%s): no rule for its size" % (stage, t["name"], axis, d))
            if dims.setdefault(d, size) != size:
                raise ValueError("stage %s: axis %s would be both %d and %d" % (stage, d, dims[d], size))
    return dims


def trained_latents(manifest):
    seg = manifest["segment"]
    return int(seg.get("latents", round(seg["seconds"] * manifest["latent"]["rate"])))


def point_latents(manifest, stage):
    """The pass lengths (latents) the field records for ``stage``: a quarter segment, the trained
    segment and the longest single pass, as far as the stage's length axes are symbolic."""
    if stage not in LENGTH_STAGES:
        return [None]
    seg = manifest["segment"]
    trained = trained_latents(manifest)
    lat = next(t for t in manifest["stages"][stage]["inputs"] if t["name"] == "latents")
    if not isinstance(lat["shape"][2], str):
        return [trained]
    out = [max(1, trained // 4), trained]
    if seg.get("singlePassMaxSeconds"):
        longest = int(math.ceil(float(seg["singlePassMaxSeconds"]) * float(manifest["latent"]["rate"])))
        if longest > trained:
            out.append(longest)
    return out


def _has_external_data(path):
    m = onnx.load(os.fspath(path), load_external_data=False)
    return any(i.data_location == TensorProto.EXTERNAL for i in m.graph.initializer)


def _measure_in_subprocess(path, dims, warm_dims, config=None):
    import json
    import subprocess
    import sys
    code = ("import json, sys; from foley_export.memory import measure; "
            "print(json.dumps(measure(sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), calls=2, "
            "config=json.loads(sys.argv[4]))))")
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    p = subprocess.run([sys.executable, "-c", code, os.fspath(path), json.dumps(dims), json.dumps(warm_dims),
                        json.dumps(config or {})],
                       capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError("measuring %s at %s failed (%d): %s" % (path, dims, p.returncode, p.stderr[-2000:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


def _inputs_at(manifest, stage, dims, prefix, rng):
    """Random float inputs of ``stage`` at ``dims`` (the manifest's declared shapes, symbolic axes
    bound), keyed ``prefix.name``."""
    out = {}
    for t in manifest["stages"][stage]["inputs"]:
        shape = [int(dims[d]) if isinstance(d, str) else int(d) for d in t["shape"]]
        out["%s.%s" % (prefix, t["name"])] = rng.standard_normal(shape).astype(np.float32)
    return out


def measure_with_jar(jar, path, manifest, stage, dims, warm_dims, java="java"):
    """What foley4j's own runtime uses for calls of the denoiser at ``dims``: ``foley bench
    denoiser`` (its ONNX Runtime, its session settings, bfloat16 weights as the manifest beside the
    file says) with random inputs, after two calls at ``warm_dims``, its peak over 2 calls less its
    resident set before them. Returns {"bytes": ...}."""
    import json
    import subprocess
    import tempfile
    if stage != "denoiser":
        raise ValueError("measuring with foley4j's runtime is for the denoiser only (bench denoiser), not %s" % stage)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="foley-memory-") as d:
        npz = os.path.join(d, "inputs.npz")
        arrays = _inputs_at(manifest, stage, dims, "m", rng)
        arrays.update(_inputs_at(manifest, stage, warm_dims, "w", rng))
        np.savez(npz, **arrays)
        p = subprocess.run([java, "--add-modules", "jdk.incubator.vector", "-jar", os.fspath(jar), "bench", "denoiser",
                            os.fspath(path), "--inputs", npz, "--case", "m", "--warm-case", "w", "--runs", "1"],
                           capture_output=True, text=True)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        raise RuntimeError("bench denoiser at %s failed (%d): %s" % (dims, p.returncode, (p.stderr or p.stdout)[-2000:]))
    got = json.loads(lines[-1])["calls_over_warm_mib"]
    if got is None:
        raise RuntimeError("bench denoiser could not reset its peak (Linux /proc/self/clear_refs needed)")
    return {"bytes": int(got) << 20}


def _calibrate(path, manifest, stage, n, graph_peak, warm, config, folding, jar=None):
    """One measured length: the call at batch b (graph peak about 64 MiB) and at 2b, in a Python
    subprocess, or with foley4j's own runtime when ``jar`` is given (the denoiser). Returns (b,
    graph bytes at b, measured at b, measured at 2b)."""
    if graph_peak is None:  # shapes that depend on values: no graph peak to size the batch by
        b, graph = 1, 0
    else:
        b = int(min(64, max(1, math.ceil(CALIBRATION_BYTES / max(1, graph_peak)))))
    dims = stage_dims(manifest, stage, b, n)
    if graph_peak is not None:
        # the graph's walk takes minutes at full depth: not again for the batch-1 peak already known
        graph = graph_peak if b == 1 else working_memory(path, dims, folding)["bytes"]
    dims2 = stage_dims(manifest, stage, 2 * b, n)
    if jar is not None and stage == "denoiser":
        warm_dims = warm or stage_dims(manifest, stage, 1, max(1, n // 4))
        got = measure_with_jar(jar, path, manifest, stage, dims, warm_dims)["bytes"]
        got2 = measure_with_jar(jar, path, manifest, stage, dims2, warm_dims)["bytes"]
    else:
        got = _measure_in_subprocess(path, dims, warm, config)["bytes"]
        got2 = _measure_in_subprocess(path, dims2, warm, config)["bytes"]
    return b, graph, got, got2


REFINE_TOLERANCE = 0.10  # largest error of a length's charge, read between two measured neighbours
MAX_POINTS = 8  # measured lengths of one stage at most
MIN_GAP = 8  # latents: intervals narrower than twice this are not split


def every_point_entry(cal):
    """The ``points`` of a stage measured at each length: ``cal`` maps a pass length to ``_calibrate``'s
    (b, graph bytes at b, measured at b, measured at 2b). Each point's ``bytes`` is what a row adds at
    that length (at least the graph's live peak of a row, and never less than a shorter pass's), its
    ``fixed`` what a call of that length works in whatever its rows (the rest of the call at b; ONNX
    Runtime's arena, which grows in steps, puts a different part there at each length)."""
    points, rows_before = [], 0
    for n in sorted(cal):
        b, graph, got, got2 = cal[n]
        rows = int(math.ceil(max(graph / b, (got2 - got) / b, rows_before)))
        rows_before = rows
        p = {"latents": int(n), "bytes": rows}
        fixed = int(max(0, got - b * rows))
        if fixed:
            p["fixed"] = fixed
        points.append(p)
    return points


def _interpolate(xs, ys, x):
    """foley4j's reading of a curve of points (WorkingMemory.bytesFor): the first value below the
    first point, linear between points, the last two's slope past the last (in proportion with one)."""
    if x <= xs[0]:
        return float(ys[0])
    if len(xs) == 1:
        return ys[0] * (x / float(xs[0]))
    i = 1
    while i < len(xs) - 1 and xs[i] < x:
        i += 1
    # the same operations in the same order as Java's, so the same doubles
    slope = (ys[i] - ys[i - 1]) / float(xs[i] - xs[i - 1])
    return ys[i - 1] + slope * (x - xs[i - 1])


JAVA_LONG_MAX = (1 << 63) - 1


def _to_long(v):
    """Java's (long) cast of a double: toward zero, saturating at the long range."""
    return max(-JAVA_LONG_MAX - 1, min(JAVA_LONG_MAX, int(v)))


def charge(points, rows, n, batch=1, fixed=0):
    """What foley4j charges a call of ``rows`` rows on a pass of ``n`` latents for ``points`` (the
    manifest's, with per-point ``fixed``) and the entry's own ``fixed``, as WorkingMemory.bytesFor does
    (the same doubles; the sum saturates at Java's largest long)."""
    xs = [p["latents"] for p in points]
    at = _interpolate(xs, [p["bytes"] for p in points], n)
    point_fixed = max(0.0, _interpolate(xs, [p.get("fixed", 0) for p in points], n))
    total = int(fixed) + _to_long(math.ceil(point_fixed)) + _to_long(math.ceil(at * rows / batch))
    return min(total, JAVA_LONG_MAX)


def refine(lats, calibrate, tolerance=REFINE_TOLERANCE, max_points=MAX_POINTS, min_gap=MIN_GAP):
    """Measures ``lats`` with ``calibrate(n)`` (``_calibrate``'s tuple), then the middle of each interval
    between two measured lengths: where the entry read from the interval's ends misses the middle's
    measured calls (at b and 2b rows) by more than ``tolerance``, both halves are split again, up to
    ``max_points`` lengths in all. A curve that bends (attention grows with the square of the tokens,
    the arena in steps) is so followed where it bends; a straight one costs one check per interval.
    Returns ({n: tuple}, the checks: [{latents, predicted, measured, error}])."""
    cal = {n: calibrate(n) for n in lats}
    todo = [(a, c) for a, c in zip(lats, lats[1:])]
    checks = []
    while todo and len(cal) < max_points:
        a, c = todo.pop(0)
        mid = (a + c) // 2
        if mid - a < min_gap or mid in cal:
            continue
        b, graph, got, got2 = cal[mid] = calibrate(mid)
        ends = every_point_entry({n: cal[n] for n in (a, c)})
        pred = [charge(ends, b, mid), charge(ends, 2 * b, mid)]
        err = max(abs(pred[0] / float(got) - 1.0), abs(pred[1] / float(got2) - 1.0)) if got > 0 and got2 > 0 else 0.0
        checks.append({"latents": mid, "predicted": pred, "measured": [got, got2], "error": round(err, 4)})
        if err > tolerance:
            todo += [(a, mid), (mid, c)]
    return cal, checks


def stage_entry(path, manifest, stage, method="measured", every_point=False, jar=None):
    """The ``workingMemory`` field of ``stage`` (its ONNX file at ``path``): ONNX Runtime's CPU
    working memory of one call at batch 1 at each of ``point_latents``. The graph's live-tensor
    peak at each point gives the shape of the curve; ``measured`` scales it by what one process
    of ONNX Runtime really used at the trained segment (in a subprocess, at a batch b that makes
    the call's live tensors about 64 MiB, and again at 2b: the difference is what b rows add, the
    rest of the first call's bytes the entry's ``fixed`` part, charged once per call), ``graph``
    by ``GRAPH_FACTOR``. ``every_point`` (measured only): each point is measured that way instead
    of following the graph's curve, with its own ``fixed`` part, and lengths between them are
    measured where the points' straight lines miss them (``refine``). The graph's curve can have
    another shape than the runtime's: at full depth with bfloat16 weights the graph's peak grew
    1.2 x from 100 to 400 latents, the measured rows 2.9 x from 148 to 400.
    ``jar`` (a foley-bench jar): the denoiser is measured with foley4j's own ONNX Runtime
    (``measure_with_jar``) instead of this Python's (at full depth with bfloat16 weights the two
    agreed within 0.3 %: 846 and 844 MiB for one row at 400 latents).
    Returns (entry, details)."""
    if method not in METHODS:
        raise ValueError("method must be one of %s, got %r" % (", ".join(METHODS), method))
    lats = point_latents(manifest, stage)
    fixed = 0
    config = storage.ort_config(manifest["stages"][stage])
    folding = not config
    try:
        peaks = [working_memory(path, stage_dims(manifest, stage, 1, n), folding)["bytes"] for n in lats]
    except UnknownShape as e:
        # shapes computed from values inside the graph (MMAudio's sequence lengths, a Range): the
        # graph cannot be walked, so each point is measured, or there is nothing to give
        if method != "measured":
            raise UnknownShape("%s: %s; its working memory can only be measured (method 'measured')" % (stage, e))
        peaks, every_point = None, True
    details = {"graph_bytes": peaks}
    warm = None
    if method == "measured" and _has_external_data(path):
        # weights in external data become resident at their first use: a small call first (which
        # would only shrink the measurement of weights read at load)
        warm = stage_dims(manifest, stage, 1, max(1, lats[0] // 4) if lats[0] is not None else None)
    if peaks is None and stage not in LENGTH_STAGES:
        b, _, got, got2 = _calibrate(path, manifest, stage, None, None, warm, config, folding, jar)
        rows = int(math.ceil(max(0, got2 - got) / b))
        entry = {"batch": 1, "method": method, "points": [{"bytes": rows}]}
        if got > b * rows:
            entry["fixed"] = int(got - b * rows)
        details.update({"measured": [{"batch": b, "bytes": got, "bytes_2x": got2}]})
        return entry, details
    if method == "measured" and every_point and stage in LENGTH_STAGES:
        def calibrate(n):
            if peaks is None:
                g = None
            elif n in lats:
                g = peaks[lats.index(n)]
            else:
                g = working_memory(path, stage_dims(manifest, stage, 1, n), folding)["bytes"]
            return _calibrate(path, manifest, stage, n, g, warm, config, folding, jar)
        cal, checks = refine(lats, calibrate)
        points = every_point_entry(cal)
        details.update({"measured": [{"latents": n, "batch": b, "graph_bytes": g, "bytes": m1, "bytes_2x": m2}
                                     for n, (b, g, m1, m2) in sorted(cal.items())], "refinement": checks})
        return {"batch": 1, "method": method, "points": points}, details
    if method == "measured":
        # calibrated at the trained segment (the length most calls have), at a batch that makes the
        # call's live tensors about 64 MiB, so that the allocator's growth steps are small beside it
        k = lats.index(trained_latents(manifest)) if stage in LENGTH_STAGES else 0
        # and at twice the batch: what grows with the rows, and what a call works in whatever its rows
        # (ONNX Runtime's buffers for the weights it widens or packs at each call, say), so that a
        # call of many rows is not charged that part once per row
        b, graph, got, got2 = _calibrate(path, manifest, stage, lats[k], peaks[k], warm, config, folding, jar)
        per_row = max(graph / b, (got2 - got) / b)
        fixed = int(max(0, got - b * per_row))
        factor = max(1.0, per_row * b / graph)
        details.update({"calibration_dims": stage_dims(manifest, stage, b, lats[k]), "calibration_graph_bytes": graph,
                        "calibration_measured_bytes": got, "calibration_measured_bytes_2x": got2, "fixed": fixed})
    else:
        factor = GRAPH_FACTOR
    details["factor"] = factor
    points = []
    for n, peak in zip(lats, peaks):
        p = {"bytes": int(math.ceil(peak * factor))}
        if n is not None:
            p = {"latents": int(n), "bytes": p["bytes"]}
        points.append(p)
    entry = {"batch": 1, "method": method, "points": points}
    if fixed:
        entry["fixed"] = fixed
    return entry, details


def annotate(bundle_dir, method="measured", stages=None, log=None, every_point=False, jar=None):
    """Writes the ``workingMemory`` field of every stage (or ``stages``) into the bundle's manifest."""
    import json
    path = os.path.join(bundle_dir, "foley-bundle.json")
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    unknown = [st for st in stages or [] if st not in manifest["stages"]]
    if unknown:  # before anything is measured
        raise UnknownStage("no stage %s in %s (it has %s)" % (", ".join(unknown), path, ", ".join(manifest["stages"])))
    for st in stages or list(manifest["stages"]):
        entry, details = stage_entry(os.path.join(bundle_dir, manifest["stages"][st]["file"]), manifest, st, method,
                                     every_point, jar)
        manifest["stages"][st]["workingMemory"] = entry
        if log:
            log(st, entry, details)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return manifest
