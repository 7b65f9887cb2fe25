"""semitensor — semi-tensor products and semi-tensor Tucker / train / ring decompositions.

The package is pure NumPy/SciPy.  ``semitensor.torch`` (optional) exports fitted
factors to PyTorch layers; importing ``semitensor`` never imports a framework.
"""
from .modes import fold, mode_dot, multi_mode_dot, multi_st_mode_dot, st_mode_dot, unfold
from .stp import power_reducing_matrix, stp, swap_matrix
from .formats import METHODS, RankWarning
from .results import SemiTensorRing, SemiTensorTrain, SemiTensorTucker
from .decomposition import (
    fit, semi_tensor_ring, semi_tensor_train, semi_tensor_tucker, tensor_ring, tensor_train, tucker,
)
from .io import load, save

__version__ = "0.1.0"

__all__ = [
    "stp",
    "swap_matrix",
    "power_reducing_matrix",
    "unfold",
    "fold",
    "mode_dot",
    "st_mode_dot",
    "multi_mode_dot",
    "multi_st_mode_dot",
    "SemiTensorTucker",
    "SemiTensorTrain",
    "SemiTensorRing",
    "semi_tensor_train",
    "tensor_train",
    "semi_tensor_tucker",
    "tucker",
    "semi_tensor_ring",
    "tensor_ring",
    "fit",
    "METHODS",
    "RankWarning",
    "save",
    "load",
]
