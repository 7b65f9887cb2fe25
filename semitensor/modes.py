"""Unfoldings and (semi-tensor) mode products.

``unfold(X, n)`` is TensorLy's mode-n unfolding ``np.moveaxis(X, n, 0).reshape(I_n, -1)``
and ``fold`` its inverse.  The semi-tensor mode product ``Y = X ⋉_n U`` is defined by
``Y_(n) = U ⋉ X_(n)`` (docs/conventions.md §3).  In the case the decompositions use, the factor is
smaller (``I_n = k·P``), and ``(U ⊗ I_k) X_(n)`` is a plain contraction of ``U`` with
the slow part ``a`` of the mode index ``i_n = a·k + b``: we reshape ``X`` to
``(L, P, k·R)`` and multiply, which needs neither an unfolding copy nor ``U ⊗ I_k``.
"""
from __future__ import annotations

import math

import numpy as np

from ._validation import as_numeric_array, check_mode, check_side
from .stp import stp

__all__ = ["unfold", "fold", "mode_dot", "st_mode_dot", "multi_mode_dot", "multi_st_mode_dot"]


def unfold(X, mode):
    """Mode-``mode`` unfolding ``X_(n)`` of a tensor (C order, TensorLy's convention).

    Parameters
    ----------
    X : array_like
        Tensor of order at least 1.
    mode : int
        The mode whose fibres become the columns; negative values count from the end.

    Returns
    -------
    ndarray
        ``np.moveaxis(X, mode, 0).reshape(X.shape[mode], -1)``; a view when possible.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import unfold
    >>> X = np.arange(24).reshape(2, 3, 4)
    >>> unfold(X, 1).shape
    (3, 8)
    """
    X = as_numeric_array(X, "X", min_ndim=1)
    mode = check_mode(mode, X.ndim)
    rest = math.prod(X.shape) // X.shape[mode] if X.shape[mode] else 0
    return np.moveaxis(X, mode, 0).reshape(X.shape[mode], rest)


def fold(unfolded, mode, shape):
    """Inverse of :func:`unfold`: rebuild the tensor of ``shape`` from ``X_(mode)``.

    Parameters
    ----------
    unfolded : array_like
        Matrix of shape ``(shape[mode], prod(other dimensions))``.
    mode : int
        Mode that was unfolded.
    shape : sequence of int
        Shape of the tensor.

    Returns
    -------
    ndarray
        Tensor ``X`` with ``unfold(X, mode) == unfolded``.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import fold, unfold
    >>> X = np.arange(24).reshape(2, 3, 4)
    >>> np.array_equal(fold(unfold(X, 2), 2, X.shape), X)
    True
    """
    M = as_numeric_array(unfolded, "unfolded")
    shape = _check_shape(shape)
    mode = check_mode(mode, len(shape))
    expected = (shape[mode], math.prod(shape) // shape[mode] if shape[mode] else 0)
    if M.ndim != 2 or M.shape != expected:
        raise ValueError(
            f"unfolded has shape {M.shape}, but the mode-{mode} unfolding of a tensor of "
            f"shape {shape} has shape {expected}"
        )
    rest = shape[:mode] + shape[mode + 1:]
    return np.moveaxis(M.reshape(shape[mode], *rest), 0, mode)


def mode_dot(X, U, mode):
    """Classical mode-n product ``X ×_n U`` (``Y_(n) = U X_(n)``).

    Parameters
    ----------
    X : array_like
        Tensor of order ``N >= 1``.
    U : array_like
        Matrix ``(J, I_n)``, or a vector ``(I_n,)`` which contracts mode ``n`` away.
    mode : int
        Mode ``n`` (negative values count from the end).

    Returns
    -------
    ndarray
        Tensor whose mode ``n`` has size ``J`` (or is removed for a vector ``U``); the
        dtype is ``np.result_type(X, U)``.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import mode_dot
    >>> X = np.ones((2, 3, 4))
    >>> mode_dot(X, np.ones((5, 3)), 1).shape
    (2, 5, 4)
    """
    X, U, mode = _check_mode_product(X, U, mode, allow_vector=True)
    if U.shape[-1] != X.shape[mode]:
        raise ValueError(
            f"U has {U.shape[-1]} columns but mode {mode} of X has size {X.shape[mode]}; "
            "for factors of a different size use st_mode_dot"
        )
    if U.ndim == 1:
        return np.tensordot(X, U, axes=(mode, 0))
    return _contract_mode(X, U, mode, 1, "left")


def st_mode_dot(X, U, mode, side="left"):
    """Semi-tensor mode product ``X ⋉_n U``, defined by ``(X ⋉_n U)_(n) = U ⋉ X_(n)``.

    With ``U`` of shape ``(J, P)`` and ``I_n = X.shape[mode]``, ``t = lcm(P, I_n)``:

    * ``I_n = k·P`` (the factor is smaller): mode ``n`` becomes ``J·k``; this equals
      ``X ×_n (U ⊗ I_k)`` (``I_k ⊗ U`` for ``side="right"``) without forming it;
    * otherwise mode ``n`` becomes ``J·t/P`` and a trailing mode of size ``t/I_n``
      (the extra column factor of ``X_(n) ⊗ I_{t/I_n}``) is appended.

    Parameters
    ----------
    X : array_like
        Tensor of order ``N >= 1``.
    U : array_like
        Matrix ``(J, P)`` with ``P >= 1``.
    mode : int
        Mode ``n`` (negative values count from the end).
    side : {"left", "right"}, optional
        Left or right semi-tensor product.

    Returns
    -------
    ndarray
        The product, of dtype ``np.result_type(X, U)``.

    Notes
    -----
    ``(X ⋉_n U) ⋉_n V = X ⋉_n (V ⋉ U)`` holds, as mode-``n`` unfoldings, for the left
    product in all cases (trailing modes ``(t1, t2)`` on the left correspond to one
    trailing mode ``t1·t2`` on the right), and
    for the right product when no trailing mode is created (``P`` divides ``I_n``):
    the right product puts the extra column factor first in ``U ⋊ X_(n)`` but the
    folded tensor keeps it as its last mode.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import st_mode_dot, mode_dot
    >>> X = np.random.default_rng(0).standard_normal((4, 6, 5))
    >>> U = np.random.default_rng(1).standard_normal((2, 3))      # 6 = 2·3
    >>> Y = st_mode_dot(X, U, 1)
    >>> Y.shape
    (4, 4, 5)
    >>> np.allclose(Y, mode_dot(X, np.kron(U, np.eye(2)), 1))
    True
    """
    check_side(side)
    X, U, mode = _check_mode_product(X, U, mode, allow_vector=False)
    size, P = X.shape[mode], U.shape[1]
    if size % P == 0:
        return _contract_mode(X, U, mode, size // P, side)
    # General lcm case: the STP of the unfolding, folded back with the trailing mode.
    unfolded = stp(U, unfold(X, mode), side=side)
    extra = (P * size // math.gcd(P, size)) // size
    rest = X.shape[:mode] + X.shape[mode + 1:]
    if side == "left":  # columns (c, γ): γ is the fastest index
        Y = unfolded.reshape(unfolded.shape[0], *rest, extra)
    else:  # columns (γ, c): γ is the slowest index
        Y = np.moveaxis(unfolded.reshape(unfolded.shape[0], extra, *rest), 1, -1)
    return np.moveaxis(Y, 0, mode)


def multi_mode_dot(X, matrices, modes=None):
    """Apply :func:`mode_dot` for several modes: ``X ×_{m1} U1 ×_{m2} U2 …``.

    Parameters
    ----------
    X : array_like
        Tensor.
    matrices : sequence of array_like
        One matrix per mode; ``None`` entries are skipped.
    modes : sequence of int, optional
        Modes to multiply (default ``0, 1, …, len(matrices) - 1``).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import multi_mode_dot
    >>> multi_mode_dot(np.ones((2, 3)), [np.ones((4, 2)), np.ones((5, 3))]).shape
    (4, 5)
    """
    return _apply_each(X, matrices, modes, mode_dot)


def multi_st_mode_dot(X, matrices, modes=None, side="left"):
    """Apply :func:`st_mode_dot` for several modes: ``X ⋉_{m1} U1 ⋉_{m2} U2 …``.

    Products on different modes commute when every factor is smaller than its mode;
    trailing modes appended by larger factors do not shift the numbering of ``modes``.

    Parameters
    ----------
    X : array_like
        Tensor.
    matrices : sequence of array_like
        One matrix per mode; ``None`` entries are skipped.
    modes : sequence of int, optional
        Modes to multiply (default ``0, 1, …, len(matrices) - 1``).
    side : {"left", "right"}, optional
        Left or right semi-tensor product.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import multi_st_mode_dot
    >>> X = np.ones((4, 6))
    >>> multi_st_mode_dot(X, [np.ones((1, 2)), np.ones((2, 3))]).shape
    (2, 4)
    """
    check_side(side)
    return _apply_each(X, matrices, modes, lambda T, U, mode: st_mode_dot(T, U, mode, side=side))


def _apply_each(X, matrices, modes, product):
    """``product(X, U, mode)`` for each non-``None`` matrix, in order."""
    for U, mode in zip(*_check_modes(X, matrices, modes)):
        if U is not None:
            X = product(X, U, mode)
    return np.asarray(X)


def _contract_mode(X, U, mode, k, side):
    """``X ×_n (U ⊗ I_k)`` (left) or ``X ×_n (I_k ⊗ U)`` (right) for ``I_n = k·P``."""
    J, P = U.shape
    lead = math.prod(X.shape[:mode])
    trail = math.prod(X.shape[mode + 1:])
    dtype = np.result_type(X, U)
    if side == "left":  # i_n = a·k + b: contract a, keep b with the trailing modes
        batch, inner = lead, k * trail
    else:  # i_n = b·P + a: b joins the leading modes
        batch, inner = lead * k, trail
    X3 = X.reshape(batch, P, inner)
    if batch == 1:
        out = (U @ X3[0])[np.newaxis]
    elif inner >= 16 or batch * inner <= 4096:
        out = np.matmul(U, X3)  # one GEMM per batch slice, each wide enough
    else:
        # Many thin slices: one big GEMM on the (copied) transposed tensor is cheaper.
        out = np.swapaxes(np.tensordot(X3, U, axes=(1, 1)), 1, 2)
    shape = X.shape[:mode] + (J * k,) + X.shape[mode + 1:]
    return np.ascontiguousarray(out, dtype=dtype).reshape(shape)


def _check_mode_product(X, U, mode, *, allow_vector):
    X = as_numeric_array(X, "X", min_ndim=1)
    U = as_numeric_array(U, "U")
    mode = check_mode(mode, X.ndim)
    if not (U.ndim == 2 or (allow_vector and U.ndim == 1)):
        allowed = "a matrix (J, P) or a vector" if allow_vector else "a matrix (J, P)"
        raise ValueError(f"U must be {allowed}, got an array of shape {U.shape}")
    if U.shape[-1] == 0:
        raise ValueError("U must have at least one column")
    if X.shape[mode] == 0:
        raise ValueError(f"mode {mode} of X has size 0")
    return X, U, mode


def _check_modes(X, matrices, modes):
    X = as_numeric_array(X, "X", min_ndim=1)
    if isinstance(matrices, np.ndarray) or not hasattr(matrices, "__len__"):
        raise TypeError("matrices must be a sequence (list or tuple) of matrices")
    if modes is None:
        modes = range(len(matrices))
    modes = [check_mode(m, X.ndim, "modes[i]") for m in modes]
    if len(modes) != len(matrices):
        raise ValueError(f"got {len(matrices)} matrices but {len(modes)} modes")
    if len(set(modes)) != len(modes):
        raise ValueError(f"modes must be distinct, got {modes}")
    return list(matrices), modes


def _check_shape(shape):
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"shape must be a sequence of integers, got {shape!r}") from None
    if not shape or any(s < 0 for s in shape):
        raise ValueError(f"shape must be a non-empty sequence of non-negative integers, got {shape}")
    return shape
