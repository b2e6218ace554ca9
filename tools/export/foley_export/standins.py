"""Minimal stand-ins for Python packages that HunyuanVideo-Foley's or MMAudio's code imports and
this machine lacks: one mechanism for ``hvf-check`` (and the HVF scripts) and ``mmaudio-check``.

:data:`STANDINS` maps a package to the files of its stand-in; :data:`HVF` and :data:`MMAUDIO` name
the packages each check stands in. :func:`install` writes, for each named package whose real one
cannot be imported, a small module with only the names that model's import paths touch into a
directory and puts that directory first on ``sys.path``; where the real package imports, nothing is
written and the real one is used. Everything here is written for foley4j, from what HVF's and
MMAudio's code calls; nothing is copied from those projects. A name that the checks do not use
raises ``NotImplementedError`` naming it when it is called or constructed.

For HVF: diffusers (a base class, a config decorator, a noise helper that ``hvf-check`` replaces
anyway), descript-audiotools and argbind (DAC's training and command-line helpers), torchaudio
(Synchformer's audio branch and type annotations), omegaconf (one YAML file read into attribute
access), easydict. torchvision is not stood in for HVF: its resizes ARE the preprocessing being
checked. :func:`import_torchvision` only copes with a CUDA build of torchvision next to a CPU build
of PyTorch (its compiled operators cannot load; the transforms are pure Python and torch).

For MMAudio: torchvision (open_clip imports its transforms and ``ops.misc.FrozenBatchNorm2d``, for
an ``isinstance`` check only; MMAudio's ``features_utils`` USES ``Normalize`` on the CLIP frames,
implemented with torchvision's formula, ``(x - mean[:, None, None]) / std[:, None, None]`` in the
tensor's dtype, not in place; ``eval_utils`` imports ``transforms.v2`` for ``load_video``, which
the check does not call), omegaconf (Synchformer's ViT config; the 16 kHz BigVGAN imports it too),
librosa (``filters.mel``, the mel converter of the VAE *encoder*, not built), torchdiffeq
(``odeint``, the adaptive sampler; the check runs euler), torchaudio (demo.py) and colorlog
(``eval_utils``' log formatter: a plain ``logging.Formatter``). Their modules answer any name
(a module ``__getattr__``) with a class that refuses to be used.
"""

import importlib
import importlib.util
import os
import sys
import tempfile

# every stand-in module that has names to refuse starts with this class
_REFUSING = '''class _StandIn:
    """A name of a package that foley_export stands in for (the real one is not installed)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("%s.%s: a foley_export stand-in (the real package is not installed); "
                                  "the check does not use it" % (type(self).__module__, type(self).__name__))

'''

# ... and, where the model's code may import any name of the module, ends with this
_ANY_NAME = '''

def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    import importlib
    try:  # a stand-in submodule first (``from torchvision.transforms import v2``)
        return importlib.import_module(__name__ + "." + name)
    except ModuleNotFoundError:
        return type(name, (_StandIn,), {})
'''


def _refusing(*names):
    """A module whose ``names`` are classes that refuse to be constructed."""
    return _REFUSING + "".join("\n\nclass %s(_StandIn):\n    pass\n" % n for n in names)


def _refusing_any(extra=""):
    """A module with ``extra``'s names, every other name a class that refuses to be constructed."""
    return _REFUSING + extra + _ANY_NAME


def _attr_dict(name):
    """A dict subclass ``name`` whose keys are also attributes (omegaconf's ``DictConfig`` and
    easydict's ``EasyDict`` as the models' code uses them: read and set keys)."""
    return '''

class %s(dict):
    """A dictionary whose keys are also attributes."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key)

    def __setattr__(self, key, value):
        self[key] = value
''' % name


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


STANDINS = {
    # HVF's MMDiT (hifi_foley.py), its scheduler (utils/schedulers) and model_utils.py
    "diffusers": {
        "diffusers/__init__.py": "",
        "diffusers/models/__init__.py": '''import torch


class ModelMixin(torch.nn.Module):
    """A module whose ``dtype`` is its first floating parameter's (what HVF's denoise_process reads)."""

    @property
    def dtype(self):
        for p in self.parameters():
            if p.is_floating_point():
                return p.dtype
        return torch.float32

    @property
    def device(self):
        for p in self.parameters():
            return p.device
        return torch.device("cpu")
''',
        "diffusers/configuration_utils.py": '''import functools
import inspect


class _Config(dict):
    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key)


class ConfigMixin:
    """``config``: the arguments ``__init__`` was called with, defaults filled in."""
    config_name = None

    @property
    def config(self):
        return self.__dict__["_internal_dict"]


def register_to_config(init):
    """Records the bound ``__init__`` arguments (defaults applied) as ``self.config`` first."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        values.pop("self", None)
        object.__setattr__(self, "_internal_dict", _Config(values))
        init(self, *args, **kwargs)

    return wrapper
''',
        "diffusers/utils/__init__.py": '''import logging as _logging
from collections import OrderedDict


class BaseOutput(OrderedDict):
    """Base of the dataclass outputs (HVF's scheduler returns a tuple when return_dict=False)."""


class logging:
    get_logger = staticmethod(_logging.getLogger)
''',
        "diffusers/utils/torch_utils.py": '''import torch


def randn_tensor(shape, generator=None, device=None, dtype=None, layout=None):
    return torch.randn(shape, generator=generator, device=device, dtype=dtype)
''',
        "diffusers/schedulers/__init__.py": _refusing("DDPMScheduler", "EulerDiscreteScheduler"),
        "diffusers/schedulers/scheduling_utils.py": "class SchedulerMixin:\n    pass\n",
    },
    # DAC-VAE (models/dac_vae): base classes and names used in signatures and training code
    "audiotools": {
        "audiotools/__init__.py": _refusing("AudioSignal") + """
from collections import namedtuple

from . import ml
from . import core

STFTParams = namedtuple("STFTParams", ["window_length", "hop_length", "window_type", "match_stride",
                                       "padding_type"], defaults=(None,) * 5)
""",
        "audiotools/ml/__init__.py": _refusing("Accelerator") + '''
import torch


class BaseModel(torch.nn.Module):
    """DAC's base module; INTERN/EXTERN are the package lists audiotools' saving uses."""
    INTERN = []
    EXTERN = []

    @classmethod
    def load(cls, location, *args, strict=False, **kwargs):
        """A model saved as audiotools saves one without packaging: {"state_dict": ...,
        "metadata": {"kwargs": <constructor arguments>}}."""
        saved = torch.load(location, map_location="cpu", weights_only=False)
        metadata = saved["metadata"]
        init = dict(metadata["kwargs"], **kwargs)
        model = cls(*args, **init)
        model.load_state_dict(saved["state_dict"], strict=strict)
        model.metadata = metadata
        return model
''',
        "audiotools/core/__init__.py": "from . import util\n",
        "audiotools/core/util.py": "",
    },
    # dac_vae/utils and its command line
    "argbind": {
        "argbind/__init__.py": _refusing("parse_args", "scope") + '''

def bind(*args, **kwargs):
    """A decorator that leaves the function as it is (no command-line binding)."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda fn: fn
''',
    },
    # HVF: Synchformer's audio branch and a type annotation evaluated at import (synchformer.py);
    # MMAudio: demo.py
    "torchaudio": {
        "torchaudio/__init__.py": _refusing_any("from . import functional\nfrom . import transforms\n"),
        "torchaudio/transforms.py": _refusing_any(),
        "torchaudio/functional.py": _refusing_any(),
    },
    # HVF's motionformer.py and MMAudio's Synchformer read their ViT config YAML with OmegaConf.load
    # and set a few keys; MMAudio's 16 kHz BigVGAN imports it too
    "omegaconf": {
        "omegaconf/__init__.py": '''import contextlib

import yaml
''' + _attr_dict("DictConfig") + '''

def _wrap(value):
    if isinstance(value, dict):
        return DictConfig({k: _wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class OmegaConf:
    @staticmethod
    def load(path):
        with open(path, encoding="utf-8") as f:
            return _wrap(yaml.safe_load(f))

    @staticmethod
    def create(obj=None):
        return _wrap(obj or {})


def open_dict(cfg):
    return contextlib.nullcontext(cfg)
''',
    },
    # listed in HVF's requirements; imported by none of the modules the check loads today
    "easydict": {
        "easydict/__init__.py": _attr_dict("EasyDict"),
    },
    # MMAudio: open_clip, timm.data and MMAudio's features_utils / eval_utils
    "torchvision": {
        "torchvision/__init__.py": _refusing_any(),
        "torchvision/transforms/__init__.py": _refusing_any(_NORMALIZE),
        "torchvision/transforms/v2/__init__.py": _refusing_any(_NORMALIZE),
        "torchvision/transforms/functional.py": _refusing_any("from . import InterpolationMode  # noqa: F401\n"),
        "torchvision/ops/__init__.py": _refusing_any(),
        "torchvision/ops/misc.py": _refusing_any(),
        "torchvision/datasets/__init__.py": _refusing_any(),  # timm.data
        "torchvision/datasets/folder.py": _refusing_any(),
        "torchvision/io/__init__.py": _refusing_any(),
        "torchvision/models/__init__.py": _refusing_any(),
        "torchvision/utils.py": _refusing_any(),
    },
    # MMAudio's VAE encoder (not built) and adaptive sampler (not run)
    "librosa": {"librosa/__init__.py": _refusing_any(), "librosa/filters.py": _refusing_any()},
    "torchdiffeq": {"torchdiffeq/__init__.py": _refusing_any()},
    # MMAudio's eval_utils: a log formatter
    "colorlog": {
        "colorlog/__init__.py": '''import logging


class ColoredFormatter(logging.Formatter):
    def __init__(self, fmt=None, *args, **kwargs):
        super().__init__((fmt or "%(message)s").replace("%(log_color)s", "").replace("%(reset)s", ""))
''',
    },
}

# the packages each check stands in where they are missing
HVF = ("diffusers", "audiotools", "argbind", "torchaudio", "omegaconf", "easydict")
MMAUDIO = ("torchvision", "omegaconf", "librosa", "torchdiffeq", "torchaudio", "colorlog")


def importable(name):
    """True when ``import name`` succeeds (a package that is installed but fails to import, e.g.
    for want of its own dependencies, counts as missing)."""
    try:
        if importlib.util.find_spec(name) is None:
            return False
        importlib.import_module(name)
        return True
    except Exception:  # noqa: BLE001 - any import failure means "not usable"
        return False


def write(names, directory):
    """Writes the stand-ins for ``names`` under ``directory``; returns the files written."""
    written = []
    for name in names:
        for rel, source in STANDINS[name].items():
            path = os.path.join(directory, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(source)
            written.append(path)
    return written


def install(names, directory=None):
    """For each package in ``names`` (:data:`HVF`, :data:`MMAUDIO` or others of :data:`STANDINS`)
    that cannot be imported, writes its stand-in into ``directory`` (default: a new temporary one)
    and puts the directory first on ``sys.path``. Returns ``(directory, stood_in)``; directory is
    None when every package was importable."""
    missing = [n for n in names if not importable(n)]
    if not missing:
        return None, []
    directory = directory or tempfile.mkdtemp(prefix="foley-standins-")
    write(missing, directory)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    importlib.invalidate_caches()
    for n in missing:
        for mod in [m for m in sys.modules if m == n or m.startswith(n + ".")]:
            del sys.modules[mod]
    return directory, missing


def import_torchvision():
    """Imports torchvision. A CUDA build next to a CPU-only PyTorch cannot load its compiled
    operators (nms, roi_align, ...), and its import then fails registering their meta kernels;
    those kernels are skipped for the import only (the transforms HVF uses do not need them).
    Raises SystemExit with what to install when torchvision is absent."""
    if importlib.util.find_spec("torchvision") is None:
        raise SystemExit("hvf-check needs torchvision (HVF's frame preprocessing is part of what it checks): "
                         "pip install --no-deps torchvision (the release built for your PyTorch)")
    try:
        return importlib.import_module("torchvision")
    except RuntimeError:
        pass
    for mod in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[mod]
    import torch.library as library
    original = library.register_fake

    def skip(*args, **kwargs):
        return lambda fn: fn

    library.register_fake = skip
    try:
        return importlib.import_module("torchvision")
    finally:
        library.register_fake = original
