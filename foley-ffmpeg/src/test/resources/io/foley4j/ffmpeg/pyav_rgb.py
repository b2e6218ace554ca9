"""Writes every frame of a video as PyAV's to_ndarray(format="rgb24") bytes, as HunyuanVideo-Foley
reads them (get_frames_av: av.open, thread_type AUTO, demux + decode, frames before 0 s skipped).

usage: pyav_rgb.py VIDEO OUT.rgb OUT.txt
OUT.rgb: the frames one after another; OUT.txt: one line per frame "time width height rotation format".
"""
import sys

import av

video, out_rgb, out_txt = sys.argv[1:4]
with av.open(video) as container, open(out_rgb, "wb") as rgb, open(out_txt, "w") as txt:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    for packet in container.demux(stream):
        for frame in packet.decode():
            if frame.time is None or frame.time < 0:
                continue
            a = frame.to_ndarray(format="rgb24")
            rgb.write(a.tobytes())
            txt.write("%r %d %d %d %s\n" % (frame.time, a.shape[1], a.shape[0], frame.rotation, frame.format.name))
