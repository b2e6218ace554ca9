import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402


def tmpdir(test):
    d = tempfile.TemporaryDirectory(prefix="foley_export_")
    test.addCleanup(d.cleanup)
    return d.name


def synthetic_frames(n, h=48, w=80, seed=0):
    """Frames whose content changes from frame to frame (a moving bar over noise)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    out = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        f = base.copy()
        x = (i * 3) % w
        f[:, x:x + 6] = 255
        out[i] = f
    return out
