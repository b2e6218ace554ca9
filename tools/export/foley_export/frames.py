"""Frames: the models' own frame picking, foley4j's segment rule, PIL resizing, ffmpeg decoding."""

import json
import math
import subprocess

import numpy as np
from PIL import Image


def pick_accumulating(pts, fps, start_sec=None, end_sec=15.0):
    """Indices of the frames HVF's ``get_frames_av`` (and MMAudio's ``read_frames``) emit.

    For each decoded frame in order: frames with time < 0 (HVF) / < start_sec (MMAudio) are
    skipped, a frame with time > end_sec ends the decode; otherwise the frame is emitted once for
    every pending grid time, where the grid time starts at 0.0 and is advanced by repeated
    addition of ``1/fps`` (an accumulated float, not ``i/fps``):
    ``while this_time >= next_time: emit; next_time += 1/fps``.
    """
    lo = 0.0 if start_sec is None else start_sec
    delta = 1 / fps
    next_time = 0.0
    out = []
    for i, t in enumerate(pts):
        t = float(t)
        if t < lo:
            continue
        if t > end_sec:
            break
        while t >= next_time:
            out.append(i)
            next_time += delta
    return out


def pick_at_or_after(pts, times, tolerance=1e-9):
    """foley4j's ``at-or-after`` rule: the first frame whose pts >= t (1 ns slack), else the last."""
    pts = np.asarray(pts, dtype=np.float64)
    out = []
    for t in times:
        j = int(np.searchsorted(pts, t - tolerance, side="left"))
        out.append(min(j, len(pts) - 1))
    return out


def accumulated_times(start, fps, n):
    """foley4j's sampling times of one segment with ``frameGrid: accumulated``: advanced by adding
    ``1/fps``, from the global grid's accumulated time when the segment starts on it (start * fps
    whole), else from ``start``."""
    delta = 1 / fps
    g = start * fps
    if abs(g - round(g)) <= 1e-6:
        t = 0.0
        for _ in range(int(round(g))):
            t += delta
    else:
        t = start
    out = []
    for _ in range(n):
        out.append(t)
        t += delta
    return out


def segment_starts(duration, seconds, overlap):
    """foley4j's plan for a clip longer than one pass: starts every (seconds - overlap) while a
    segment still ends before ``duration``, then one END-ALIGNED segment at duration - seconds."""
    hop = seconds - overlap
    starts = []
    k = 0
    while k * hop + seconds < duration - 1e-9:
        starts.append(k * hop)
        k += 1
    starts.append(max(0.0, duration - seconds))
    return starts


def resize_squash(frame, size, resample):
    """torchvision ``Resize((size, size))`` on a PIL image: ``img.resize((size, size), resample)``."""
    return np.asarray(Image.fromarray(frame).convert("RGB").resize((size, size), resample))


def resize_center_crop(frame, size, resample):
    """torchvision ``Resize(size)`` + ``CenterCrop(size)`` on a PIL image: the short side becomes
    ``size``, the long side ``int(size * long / short)``; then the centred square, offsets
    ``int(round((w' - size) / 2))``."""
    img = Image.fromarray(frame).convert("RGB")
    w, h = img.size
    if w <= h:
        nw, nh = size, int(size * h / w)
    else:
        nw, nh = int(size * w / h), size
    img = img.resize((nw, nh), resample)
    left = int(round((nw - size) / 2.0))
    top = int(round((nh - size) / 2.0))
    return np.asarray(img.crop((left, top, left + size, top + size)))


def _torch_resize(frame, height, width):
    """torch's uint8 ``interpolate(mode="bicubic", antialias=True)`` of a uint8 [H,W,3] frame, as a
    [1,3,height,width] uint8 tensor (what torchvision v2's Resize runs on a uint8 tensor)."""
    import torch

    t = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None]
    return torch.nn.functional.interpolate(t, size=(height, width), mode="bicubic", antialias=True)


def resize_squash_torch(frame, size):
    """torchvision ``v2.Resize((size, size), BICUBIC)`` on a uint8 [H,W,3] frame as a uint8 tensor
    (MMAudio's CLIP transform)."""
    return _torch_resize(frame, size, size)[0].permute(1, 2, 0).contiguous().numpy()


def resize_center_crop_torch(frame, size):
    """torchvision ``v2.Resize(size, BICUBIC)`` + ``v2.CenterCrop(size)`` on a uint8 [H,W,3] frame
    as a uint8 tensor (HVF's Synchformer transform): torch's uint8 ``interpolate(mode="bicubic",
    antialias=True)``, same sizes and offsets as :func:`resize_center_crop`. A torch without uint8
    bicubic (before 2.1) falls back to PIL's bicubic."""
    h, w = frame.shape[:2]
    if w <= h:
        nw, nh = size, int(size * h / w)
    else:
        nw, nh = int(size * w / h), size
    try:
        r = _torch_resize(frame, nh, nw)
    except RuntimeError:
        return resize_center_crop(frame, size, Image.BICUBIC)
    left = int(round((nw - size) / 2.0))
    top = int(round((nh - size) / 2.0))
    return r[0, :, top:top + size, left:left + size].permute(1, 2, 0).contiguous().numpy()


def to_tensor_array(pictures, mean, std):
    """uint8 [N,S,S,3] -> float32 [N,3,S,S], (v/255 - mean)/std."""
    x = np.stack(pictures).astype(np.float32) / 255.0
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def decode_video(path):
    """Decodes every frame with the ffmpeg CLI to rgb24; pts from ffprobe -show_frames."""
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=width,height:frame=pts_time,best_effort_timestamp_time", "-of", "json", path],
        check=True, capture_output=True, text=True)
    info = json.loads(probe.stdout)
    w, h = int(info["streams"][0]["width"]), int(info["streams"][0]["height"])
    pts = []
    for f in info.get("frames", []):
        t = f.get("pts_time", f.get("best_effort_timestamp_time"))
        pts.append(float(t))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-map", "0:v:0", "-vsync", "passthrough",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    n = len(raw) // (w * h * 3)
    frames = np.frombuffer(raw[:n * w * h * 3], dtype=np.uint8).reshape(n, h, w, 3)
    if n != len(pts):
        m = min(n, len(pts))
        frames, pts = frames[:m], pts[:m]
    return frames, np.asarray(pts, dtype=np.float64)


def default_duration(pts):
    """Last pts plus one median frame interval."""
    pts = np.asarray(pts, dtype=np.float64)
    if len(pts) < 2:
        return float(pts[-1]) if len(pts) else 0.0
    return float(pts[-1] + np.median(np.diff(pts)))


def whole(x):
    return abs(x - round(x)) < 1e-9


def ceil_safe(x):
    return int(round(x)) if whole(x) else int(math.ceil(x))
