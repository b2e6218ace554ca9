"""HunyuanVideo-Foley's frame preparation, timed: what `foley bench frames` sets against foley4j's.

Written for foley4j from HVF's feature_utils/model_utils (not copied): each stream decodes the clip
on its own with PyAV (thread_type AUTO, `--threads` threads) and keeps, for the times 0, 1/fps,
2/fps, ... (accumulated by adding 1/fps), the first frame at or after each time, converted with
to_ndarray("rgb24"), up to 15 s;

- SigLIP2 (8 fps): PIL Image.fromarray(...).convert("RGB"), resize((512, 512), BILINEAR) (what
  torchvision's Resize((512, 512)) does to a PIL image), ToTensor (uint8 HWC -> float CHW / 255),
  Normalize(0.5, 0.5) (on a copy), stacked;
- Synchformer (25 fps): the frames stacked, torch.from_numpy(...).permute(0, 3, 1, 2) (a uint8
  channels-last batch), v2.Resize(224, BICUBIC) = interpolate(bicubic, antialias=True) on uint8 to
  the short side 224, CenterCrop(224), ToDtype(float32, scale=True), Normalize(0.5, 0.5).

torch uses `--threads` intra-op threads. Each run prints one JSON line: process CPU seconds (all
threads, time.process_time) and wall seconds, in all and per stage. Imports and the interpreter's
start are not counted; a warm-up run is printed with "warmup": true.
"""
import argparse
import json
import time

import av
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

END_SECONDS = 15.0  # get_frames_av's default when no max_length is given


class Clock:
    def __init__(self):
        self.cpu = {}
        self.wall = {}

    def add(self, stage, cpu0, wall0):
        self.cpu[stage] = self.cpu.get(stage, 0.0) + time.process_time() - cpu0
        self.wall[stage] = self.wall.get(stage, 0.0) + time.perf_counter() - wall0


def sampled_rgb(path, fps, threads):
    """RGB arrays of the frames at times 0, 1/fps, ... (first frame at or after each), as HVF samples them."""
    step = 1.0 / fps
    due = 0.0
    picked = []
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = threads
        for packet in container.demux(stream):
            for frame in packet.decode():
                t = frame.time
                if t is None or t < 0:
                    continue
                if t > END_SECONDS:
                    break
                rgb = None
                while t >= due:
                    if rgb is None:
                        rgb = frame.to_ndarray(format="rgb24")
                    picked.append(rgb)
                    due += step
    return np.stack(picked)


def visual_stream(path, threads, clock):
    c, w = time.process_time(), time.perf_counter()
    frames = sampled_rgb(path, 8, threads)
    clock.add("visual decode+rgb", c, w)
    c, w = time.process_time(), time.perf_counter()
    images = [Image.fromarray(f).convert("RGB").resize((512, 512), Image.BILINEAR) for f in frames]
    clock.add("visual resize (PIL bilinear 512)", c, w)
    c, w = time.process_time(), time.perf_counter()
    mean = torch.tensor([0.5, 0.5, 0.5]).view(-1, 1, 1)
    std = torch.tensor([0.5, 0.5, 0.5]).view(-1, 1, 1)
    tensors = []
    for im in images:
        x = torch.from_numpy(np.array(im, np.uint8, copy=True)).view(im.size[1], im.size[0], 3)
        x = x.permute(2, 0, 1).contiguous().to(torch.float32).div(255)
        tensors.append(x.clone().sub_(mean).div_(std))
    out = torch.stack(tensors).unsqueeze(0)
    clock.add("visual to float+normalise", c, w)
    return out


def sync_stream(path, threads, clock):
    c, w = time.process_time(), time.perf_counter()
    frames = sampled_rgb(path, 25, threads)
    clock.add("sync decode+rgb", c, w)
    c, w = time.process_time(), time.perf_counter()
    x = torch.from_numpy(frames).permute(0, 3, 1, 2)  # [T, C, H, W], channels-last uint8
    h, wd = x.shape[-2:]
    short, long = (h, wd) if h <= wd else (wd, h)
    new_long = int(224 * long / short)
    size = [224, new_long] if h <= wd else [new_long, 224]
    x = F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True)
    clock.add("sync resize (torch bicubic 224)", c, w)
    c, w = time.process_time(), time.perf_counter()
    top = int(round((x.shape[-2] - 224) / 2.0))
    left = int(round((x.shape[-1] - 224) / 2.0))
    x = x[..., top:top + 224, left:left + 224]
    x = x.to(torch.float32).mul_(1.0 / 255)
    mean = torch.tensor([0.5, 0.5, 0.5]).view(-1, 1, 1)
    std = torch.tensor([0.5, 0.5, 0.5]).view(-1, 1, 1)
    x = x.sub(mean).div_(std).unsqueeze(0)
    clock.add("sync crop+float+normalise", c, w)
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("video")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    for run in range(a.runs + 1):
        clock = Clock()
        c, w = time.process_time(), time.perf_counter()
        v = visual_stream(a.video, a.threads, clock)
        s = sync_stream(a.video, a.threads, clock)
        cpu, wall = time.process_time() - c, time.perf_counter() - w
        print(json.dumps({"warmup": run == 0, "cpu": cpu, "wall": wall, "visual": list(v.shape), "sync": list(s.shape),
                          "stages_cpu": clock.cpu, "stages_wall": clock.wall,
                          "torch_threads": torch.get_num_threads(), "av": av.__version__, "torch": torch.__version__}),
              flush=True)
        del v, s


if __name__ == "__main__":
    main()
