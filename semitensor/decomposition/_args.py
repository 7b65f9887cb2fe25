"""Argument checks shared by the fits: the tensor, the error target, the sweep options.

Ranks and ratios are the format layer's (:mod:`semitensor.formats`); what is checked
here is what every fit takes besides them.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .._validation import as_numeric_array, check_positive_int, check_random_state
from ..linalg import SVD_METHODS, frobenius_norm

__all__ = ["check_tensor", "unit_scaled", "rescaled", "check_eps", "check_sweep_options",
           "check_choice", "INITS"]

INEXACT = (np.float32, np.float64, np.complex64, np.complex128)
INITS = ("svd", "random")


def check_tensor(X, name="X"):
    """Numeric tensor of order >= 1 with no empty mode, in a dtype the fits compute in.

    The dtype policy (``docs/decompositions.md``): float32, float64, complex64 and
    complex128 are kept; integers and booleans are fitted in float64 and float16 in
    float32 (both exact); long double and masked arrays with masked entries are refused
    (a silent cast would lose precision, the imaginary part or the mask).
    """
    if isinstance(X, np.ma.MaskedArray):
        if np.ma.is_masked(X):
            raise TypeError(f"{name} is a masked array with masked entries; the fits need every "
                            "entry: fill them (X.filled(value)) or fit the unmasked data")
        X = X.data
    X = as_numeric_array(X, name, min_ndim=1)
    if X.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {X.shape}")
    if X.dtype.kind in "fc" and X.dtype.type not in INEXACT + (np.float16,):
        raise TypeError(f"{name} has dtype {X.dtype}, which the fits do not support; supported: "
                        "float32, float64, complex64, complex128 (float16, integers and booleans "
                        "are promoted); cast it yourself, knowing what the cast loses")
    if X.dtype == np.float16:
        X = X.astype(np.float32)
    elif X.dtype.type not in INEXACT:
        X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or Inf")
    return X


def unit_scaled(X):
    """``(X·2^-k, k)``: ``X`` scaled by an exact power of two to a norm near 1 when its
    norm is far enough from 1 that squares or the products of the sweeps could over- or
    underflow (``|k| > maxexp/4`` of the dtype), else ``(X, 0)`` without a copy.

    Every fit runs on the scaled tensor and hands its result to :func:`rescaled`, so
    ``fit(c·X)`` is ``c·fit(X)`` for any representable ``c``.
    """
    norm = frobenius_norm(X)
    if norm == 0:
        return X, 0
    k = math.frexp(norm)[1]
    if abs(k) <= np.finfo(X.dtype).maxexp // 4:
        return X, 0
    return _ldexp(X, -k), k


def rescaled(arrays, k):
    """``arrays`` with the first one multiplied by ``2^k`` (undoes :func:`unit_scaled`)."""
    if k == 0:
        return arrays
    return [_ldexp(arrays[0], k)] + list(arrays[1:])


def _ldexp(A, k):
    """``A·2^k`` exactly (no overflow of ``2^k`` itself; complex by its real view)."""
    if np.iscomplexobj(A):
        real = np.ascontiguousarray(A).view(np.finfo(A.dtype).dtype)
        return np.ldexp(real, k).view(A.dtype)
    return np.ldexp(A, k)


def check_eps(eps):
    """``None`` or a relative error target in ``[0, 1)``."""
    if eps is None:
        return None
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real) or not (0 <= eps < 1):
        raise ValueError(f"eps must be a relative error target in [0, 1) (or None), got {eps!r}")
    return float(eps)


_NO_INIT = object()


def check_sweep_options(n_iter_max, tol, svd, random_state, init=_NO_INIT):
    """The options every iterative fit shares; returns ``(n_iter_max, tol, rng)``.

    ``init`` is checked against ``INITS`` when the fit has one (Tucker, ring).
    """
    n_iter_max = check_positive_int(n_iter_max, "n_iter_max", minimum=0)
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real) or not (0 <= tol < np.inf):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    if init is not _NO_INIT:
        check_choice(init, "init", INITS)
    check_choice(svd, "svd", SVD_METHODS)
    return n_iter_max, float(tol), check_random_state(random_state)


def check_choice(value, name, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value
