"""Minimal stand-ins for the packages MMAudio's code imports but ``mmaudio-check`` never uses (or
uses for one small thing), written at run time into a directory that goes first on ``sys.path``.

A stand-in is written only for a package that cannot be imported; an installed package is always
preferred. What each one provides, and why it is enough:

* ``torchvision``: open_clip imports ``torchvision.transforms`` (its training/eval transforms) and
  ``torchvision.ops.misc.FrozenBatchNorm2d`` (only for an ``isinstance`` check); MMAudio's
  ``features_utils`` imports ``Normalize`` and USES it on the CLIP frames, and ``eval_utils``
  imports ``transforms.v2`` for ``load_video``, which the check does not call. ``Normalize`` is
  implemented with torchvision's formula (``(x - mean[:, None, None]) / std[:, None, None]`` in the
  tensor's dtype, not in place), ``InterpolationMode`` is an enum of its names; every other name is a class that refuses to be constructed.
* ``omegaconf``: MMAudio's Synchformer loads its ViT config with ``OmegaConf.load`` (a YAML file)
  and sets a few keys; the 16 kHz BigVGAN imports it too. ``OmegaConf.load`` returns nested
  attribute dictionaries read with ``yaml.safe_load``.
* ``librosa`` (``filters.mel``, the mel converter of MMAudio's VAE *encoder*, not built here),
  ``torchdiffeq`` (``odeint``, MMAudio's adaptive sampler, not used: the check runs ``euler``),
  ``torchaudio`` (demo.py only) and ``colorlog`` (``eval_utils``' log formatter): names that
  refuse to be called, or a plain ``logging.Formatter``.
"""

import importlib.util
import os
import sys
import textwrap

_REFUSE = '''
class _StandIn:
    """A name from a package replaced by foley_export.mma_standins; it cannot be used."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("%s is a stand-in written by foley_export.mma_standins (the package is not "
                           "installed); mmaudio-check does not use it" % type(self).__name__)

    __call__ = __init__


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    import importlib
    try:  # a stand-in submodule first (``from torchvision.transforms import v2``)
        return importlib.import_module(__name__ + "." + name)
    except ModuleNotFoundError:
        return type(name, (_StandIn,), {})
'''

_NORMALIZE = '''
import enum

import torch


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


class Normalize(torch.nn.Module):
    """torchvision.transforms.Normalize on a float tensor [..., C, H, W] (not in place)."""

    def __init__(self, mean, std, inplace=False):
        super().__init__()
        self.mean = list(mean)
        self.std = list(std)

    def forward(self, tensor):
        mean = torch.as_tensor(self.mean, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
        return tensor.sub(mean).div(std)
'''

_OMEGACONF = '''
import yaml


class DictConfig(dict):
    """Nested dictionary with attribute access (what MMAudio's Synchformer reads and sets)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name)

    def __setattr__(self, name, value):
        self[name] = value


def _wrap(x):
    if isinstance(x, dict):
        return DictConfig({k: _wrap(v) for k, v in x.items()})
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


class OmegaConf:
    @staticmethod
    def load(path):
        with open(path, encoding="utf-8") as f:
            return _wrap(yaml.safe_load(f))

    @staticmethod
    def create(obj=None):
        return _wrap(obj or {})


def open_dict(cfg):
    import contextlib
    return contextlib.nullcontext(cfg)
'''

_COLORLOG = '''
import logging


class ColoredFormatter(logging.Formatter):
    def __init__(self, fmt=None, *args, **kwargs):
        super().__init__((fmt or "%(message)s").replace("%(log_color)s", "").replace("%(reset)s", ""))
'''

# package -> {relative file: source}
STANDINS = {
    "torchvision": {
        "__init__.py": _REFUSE,
        "transforms/__init__.py": _REFUSE + _NORMALIZE,
        "transforms/v2/__init__.py": _REFUSE + _NORMALIZE,
        "transforms/functional.py": _REFUSE + "\nfrom . import InterpolationMode  # noqa: F401\n",
        "ops/__init__.py": _REFUSE,
        "ops/misc.py": _REFUSE,
        "datasets/__init__.py": _REFUSE,  # timm.data
        "datasets/folder.py": _REFUSE,
        "io/__init__.py": _REFUSE,
        "models/__init__.py": _REFUSE,
        "utils.py": _REFUSE,
    },
    "omegaconf": {"__init__.py": _OMEGACONF},
    "librosa": {"__init__.py": _REFUSE, "filters.py": _REFUSE},
    "torchdiffeq": {"__init__.py": _REFUSE},
    "torchaudio": {"__init__.py": _REFUSE},
    "colorlog": {"__init__.py": _COLORLOG},
}


def missing(packages=None):
    """The packages of STANDINS that cannot be imported here."""
    return [p for p in (packages or STANDINS) if importlib.util.find_spec(p) is None]


def write(directory, packages=None):
    """Writes the stand-ins for ``packages`` (default: the missing ones) into ``directory`` and
    returns their names."""
    names = missing() if packages is None else list(packages)
    for pkg in names:
        for rel, src in STANDINS[pkg].items():
            path = os.path.join(directory, pkg, *rel.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(textwrap.dedent(src).lstrip())
    return names


def install(directory):
    """``write`` the missing stand-ins and put ``directory`` first on ``sys.path``."""
    names = write(directory)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    importlib.invalidate_caches()
    return names
