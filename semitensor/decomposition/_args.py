"""Argument checks shared by the fits: the tensor, the error target, the sweep options.

Ranks and ratios are the format layer's (:mod:`semitensor.formats`); what is checked
here is what every fit takes besides them.
"""
from __future__ import annotations

import numbers

import numpy as np

from .._validation import as_numeric_array, check_positive_int, check_random_state
from ..linalg import SVD_METHODS

__all__ = ["check_tensor", "check_eps", "check_sweep_options", "check_choice", "INITS"]

INEXACT = (np.float32, np.float64, np.complex64, np.complex128)
INITS = ("svd", "random")


def check_tensor(X, name="X"):
    """Numeric tensor of order >= 1 with no empty mode, as float (ints → float64)."""
    X = as_numeric_array(X, name, min_ndim=1)
    if X.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {X.shape}")
    if X.dtype.type not in INEXACT:
        X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or Inf")
    return X


def check_eps(eps):
    """``None`` or a relative error target in ``[0, 1)``."""
    if eps is None:
        return None
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real) or not (0 <= eps < 1):
        raise ValueError(f"eps must be a relative error target in [0, 1) (or None), got {eps!r}")
    return float(eps)


def check_sweep_options(n_iter_max, tol, svd, random_state, init=None):
    """The options every iterative fit shares; returns ``(n_iter_max, tol, rng)``.

    ``init`` is checked against ``INITS`` when the fit has one (Tucker, ring).
    """
    n_iter_max = check_positive_int(n_iter_max, "n_iter_max", minimum=0)
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real) or not (0 <= tol < np.inf):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    if init is not None:
        check_choice(init, "init", INITS)
    check_choice(svd, "svd", SVD_METHODS)
    return n_iter_max, float(tol), check_random_state(random_state)


def check_choice(value, name, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value
