"""PyTorch layers whose weights are kept in a (semi-)tensor Tucker, train or ring format.

This subpackage is the optional deep-learning export.  It needs PyTorch,
which ``import semitensor`` never imports; install it first (pick the build for your
hardware), then the extra::

    pip install torch==<version>        # https://pytorch.org/get-started/
    pip install "semitensor[torch]"

Public names
------------
FactorizedLinear, FactorizedConv2d
    ``nn.Module`` s whose weight is a tensorized low-rank format (``method``: any name of
    :data:`semitensor.formats.METHODS`, long or short: ``"semi_tensor_train"`` or ``"stt"``), with ``from_factors`` / ``from_linear`` /
    ``from_conv`` constructors, ``to_factors()`` and a computed ``weight``.
compress_model
    Replace the ``nn.Linear`` / ``nn.Conv2d`` layers of a model; returns
    ``(model, report)``.
tensorize_features
    The automatic factorisation of a feature count used when no tensorized shape is
    given.

See ``docs/torch.md`` for the tensorization, initialisation and forward-path rules and
a tutorial.
"""
from __future__ import annotations

_INSTALL_HINT = (
    "semitensor.torch needs PyTorch, which could not be imported. "
    "pip install torch==<version> first (choose your build: CPU or CUDA, "
    "see https://pytorch.org/get-started/), then pip install semitensor[torch]"
)

try:
    import torch as _torch
except ImportError as _exc:  # pragma: no cover - exercised without torch installed
    raise ImportError(f"{_INSTALL_HINT} (original error: {_exc})") from _exc

if int(_torch.__version__.split(".")[0]) < 2:  # pragma: no cover - old installations
    raise ImportError(
        f"semitensor.torch needs torch >= 2, found {_torch.__version__}. " + _INSTALL_HINT
    )

from ..formats import METHODS  # noqa: E402
from ._structure import tensorize_features  # noqa: E402
from .layers import FactorizedConv2d, FactorizedLinear  # noqa: E402
from .compress import CompressionReport, LayerReport, compress_model  # noqa: E402

__all__ = [
    "METHODS",
    "FactorizedLinear",
    "FactorizedConv2d",
    "compress_model",
    "CompressionReport",
    "LayerReport",
    "tensorize_features",
]
