"""Minimal stand-ins for HunyuanVideo-Foley's Python requirements that a machine lacks.

HVF's modules import packages whose code the check never runs: diffusers (a base class, a config
decorator, a noise helper that ``hvf-check`` replaces anyway), descript-audiotools and argbind
(DAC's training and command-line helpers), torchaudio (Synchformer's audio branch and type
annotations), omegaconf (one YAML file read into attribute access). Where the real package cannot
be imported, :func:`install` writes a small module with only the names HVF's import paths touch
into a temporary directory and puts that directory on ``sys.path``; where it can, nothing is
written and the real package is used. Everything here is written for foley4j, from what HVF's
code calls; nothing is copied from those projects. Calling a stand-in for something the check does
not need raises ``NotImplementedError`` naming it.

torchvision is not stood in: its resizes ARE the preprocessing being checked.
:func:`import_torchvision` only copes with a CUDA build of torchvision next to a CPU build of
PyTorch (its compiled operators cannot load; the transforms are pure Python and torch).
"""

import importlib
import importlib.util
import os
import sys
import tempfile

_NOT_HERE = ('raise NotImplementedError("%s: a foley_export stand-in (the real package is not installed); '
             'hvf-check does not use it")')


def _placeholder(name):
    return ("class %s:\n    def __init__(self, *args, **kwargs):\n        " % name.split(".")[-1]
            + _NOT_HERE % name + "\n")


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
        "diffusers/schedulers/__init__.py": _placeholder("DDPMScheduler") + _placeholder("EulerDiscreteScheduler"),
        "diffusers/schedulers/scheduling_utils.py": "class SchedulerMixin:\n    pass\n",
    },
    # DAC-VAE (models/dac_vae): base classes and names used in signatures and training code
    "audiotools": {
        "audiotools/__init__.py": '''from collections import namedtuple

from . import ml
from . import core

STFTParams = namedtuple("STFTParams", ["window_length", "hop_length", "window_type", "match_stride",
                                       "padding_type"], defaults=(None,) * 5)
''' + _placeholder("AudioSignal"),
        "audiotools/ml/__init__.py": '''import torch


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


''' + _placeholder("Accelerator"),
        "audiotools/core/__init__.py": "from . import util\n",
        "audiotools/core/util.py": "",
    },
    # dac_vae/utils and its command line
    "argbind": {
        "argbind/__init__.py": '''def bind(*args, **kwargs):
    """A decorator that leaves the function as it is (no command-line binding)."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda fn: fn


def parse_args(*args, **kwargs):
    ''' + _NOT_HERE % "argbind.parse_args" + '''


def scope(*args, **kwargs):
    ''' + _NOT_HERE % "argbind.scope" + "\n",
    },
    # Synchformer's audio branch and a type annotation evaluated at import (synchformer.py)
    "torchaudio": {
        "torchaudio/__init__.py": '''from . import transforms
from . import functional


def load(*args, **kwargs):
    ''' + _NOT_HERE % "torchaudio.load" + "\n",
        "torchaudio/transforms.py": _placeholder("MelSpectrogram") + _placeholder("Resample") + _placeholder("Vol"),
        "torchaudio/functional.py": "",
    },
    # motionformer.py reads its ViT config YAML with OmegaConf.load and sets a few keys
    "omegaconf": {
        "omegaconf/__init__.py": '''import yaml


class _Node(dict):
    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key)

    def __setattr__(self, key, value):
        self[key] = value


def _wrap(value):
    if isinstance(value, dict):
        return _Node({k: _wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class OmegaConf:
    @staticmethod
    def load(path):
        with open(path, encoding="utf-8") as f:
            return _wrap(yaml.safe_load(f))
''',
    },
    # listed in HVF's requirements; imported by none of the modules the check loads today
    "easydict": {
        "easydict/__init__.py": '''class EasyDict(dict):
    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key)

    def __setattr__(self, key, value):
        self[key] = value
''',
    },
}


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


def install(names=None, directory=None):
    """For each package in ``names`` (default: all of STANDINS) that cannot be imported, writes its
    stand-in and puts the directory first on ``sys.path``. Returns ``(directory, stood_in)``;
    directory is None when every package was importable."""
    names = list(STANDINS) if names is None else list(names)
    missing = [n for n in names if not importable(n)]
    if not missing:
        return None, []
    directory = directory or tempfile.mkdtemp(prefix="foley-hvf-standins-")
    write(missing, directory)
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
