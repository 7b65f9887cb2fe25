"""ST-formats as classical formats of a regrouped tensor (``docs/conventions.md``).

Write each mode index of ``X`` as ``i_k = a_k·t_k + b_k`` (``a_k ∈ [I_k/t_k]``,
``b_k ∈ [t_k]``: the identity index is the fast one, as in ``U ⊗ I_t``).

* **Train / ring.**  The bond index ``r_k = q_k·t_{k+1} + b_{k+1}`` of an ST core carries
  the fast part of the *next* mode through unchanged.  Moving ``b_{k+1}`` next to
  ``a_k`` turns ``X`` into ``Y`` with mode ``k`` = ``(a_k, b_{k+1})`` of size
  ``(I_k/t_k)·t_{k+1}`` (``b_{N+1} := b_1``, which is trivial for a train where
  ``t_1 = 1``).  Then the semi-tensor train/ring of ``X`` with bonds ``R_k`` *is* the
  classical train/ring of ``Y`` with bonds ``R_k/t_{k+1}``, the cores being related by
  ``G_k[q, a, q'·t_{k+1} + b] = G'_k[q, a·t_{k+1} + b, q']``.
* **Tucker.**  ``X = G ×_n (U_n ⊗ I_{t_n})`` reads, on the free reshape of ``X`` to
  ``(I_1/t_1, t_1, …, I_N/t_N, t_N)``, as a classical Tucker model that compresses only
  the ``a`` modes (the ``b`` modes have identity factors).

Every semi-tensor fit goes through these maps; the classical algorithms exist once.
All maps are permutations of entries: norms and errors are preserved exactly.  They use
only ``reshape``, ``swapaxes`` and an axis permutation, so they serve NumPy arrays and
the PyTorch adapter's tensors alike.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "regroup_tensor",
    "ungroup_tensor",
    "st_cores_to_classical",
    "classical_cores_to_st",
    "tucker_view",
    "pair_order",
]


def _split_axes(shape, t):
    """Shape of ``X`` with each mode split into ``(I_k/t_k, t_k)``."""
    return [d for size, tk in zip(shape, t) for d in (size // tk, tk)]


def pair_order(n_modes):
    """Axis order ``a_1, b_2, a_2, b_3, …, a_N, b_1`` of the split tensor (its axes being
    ``a_1, b_1, a_2, b_2, …``): the permutation :func:`regroup_tensor` applies."""
    order = []
    for k in range(n_modes):
        order += [2 * k, (2 * k + 3) % (2 * n_modes)]
    return order


def regroup_tensor(X, t):
    """Regroup ``X`` into ``Y`` whose mode ``k`` is ``(a_k, b_{k+1})`` (cyclically).

    Parameters
    ----------
    X : ndarray
        Tensor of shape ``(I_1, …, I_N)``.
    t : sequence of int
        Ratios ``t_1, …, t_N`` with ``t_k | I_k`` (``t_1 = 1`` for a train).

    Returns
    -------
    ndarray
        ``Y`` of shape ``((I_k/t_k)·t_{k+1})_k`` with ``t_{N+1} := t_1``; a view of ``X``
        when every ratio is 1.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(16).reshape(4, 4)
    >>> regroup_tensor(X, [1, 2]).shape      # mode 1: (a_1, b_2), mode 2: (a_2, b_1)
    (8, 2)
    """
    n = X.ndim
    split = X.reshape(_split_axes(X.shape, t))
    new_shape = [(X.shape[k] // t[k]) * t[(k + 1) % n] for k in range(n)]
    return split.transpose(pair_order(n)).reshape(new_shape)


def ungroup_tensor(Y, shape, t):
    """Inverse of :func:`regroup_tensor`: rebuild ``X`` of ``shape`` from ``Y``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(36).reshape(6, 6)
    >>> np.array_equal(ungroup_tensor(regroup_tensor(X, [3, 2]), X.shape, [3, 2]), X)
    True
    """
    n = len(shape)
    paired = [d for k in range(n) for d in (shape[k] // t[k], t[(k + 1) % n])]
    inverse = np.argsort(pair_order(n)).tolist()
    return _permute(Y.reshape(paired), inverse).reshape(shape)


def _permute(A, axes):
    """``A`` with its axes permuted, for NumPy arrays and torch tensors alike."""
    permute = getattr(A, "permute", None)  # torch spells numpy's transpose(axes) so
    return permute(*axes) if permute is not None else A.transpose(axes)


def st_cores_to_classical(cores, t):
    """ST train/ring cores ``G_k`` → classical cores ``G'_k`` of the regrouped tensor.

    ``G_k`` of shape ``(R_{k-1}/t_k, I_k/t_k, R_k)`` becomes ``G'_k`` of shape
    ``(R_{k-1}/t_k, (I_k/t_k)·t_{k+1}, R_k/t_{k+1})`` with
    ``G'_k[q, a·t_{k+1} + b, q'] = G_k[q, a, q'·t_{k+1} + b]``.
    """
    n = len(cores)
    out = []
    for k, G in enumerate(cores):
        tn = t[(k + 1) % n]
        r, a, R = G.shape
        out.append(G.reshape(r, a, R // tn, tn).swapaxes(2, 3).reshape(r, a * tn, R // tn))
    return out


def classical_cores_to_st(cores, t):
    """Inverse of :func:`st_cores_to_classical`."""
    n = len(cores)
    out = []
    for k, G in enumerate(cores):
        tn = t[(k + 1) % n]
        r, at, R = G.shape
        out.append(G.reshape(r, at // tn, tn, R).swapaxes(2, 3).reshape(r, at // tn, R * tn))
    return out


def tucker_view(X, t):
    """Free reshape of ``X`` to ``(I_1/t_1, t_1, …, I_N/t_N, t_N)``.

    The semi-tensor Tucker model of ``X`` is the classical Tucker model of this view
    with factors on the even (``a``) modes only.
    """
    return X.reshape(_split_axes(X.shape, t))
