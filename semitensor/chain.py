"""Chains of classical third-order cores: contraction, slices and residual norms.

A *chain* is a list of cores ``G_k`` of shape ``(r_{k-1}, J_k, r_k)``; it is a train when
``r_0 = r_N = 1`` and a ring otherwise (``T(i) = trace Π_k G_k[:, i_k, :]``).  Every ST
train or ring is such a chain of its regrouped tensor (:mod:`semitensor.regroup`), so
these few functions serve all four chain formats.  They use only ``reshape``, ``@``,
slicing and ``shape``; :func:`contract_chain` also serves the torch adapter's tensors.
"""
from __future__ import annotations

import numpy as np

from .linalg import frobenius_norm

__all__ = ["contract_chain", "chain_slices", "chain_to_tensor", "chain_residual_norm"]


def contract_chain(cores):
    """Contract consecutive cores into one ``(r_first, ∏ J_k, r_last)`` array.

    Examples
    --------
    >>> import numpy as np

from .linalg import frobenius_norm
    >>> from semitensor.chain import contract_chain
    >>> contract_chain([np.ones((1, 2, 3)), np.ones((3, 4, 1))]).shape
    (1, 8, 1)
    """
    out = cores[0]
    for G in cores[1:]:
        r0, r = out.shape[0], G.shape[0]
        out = (out.reshape(-1, r) @ G.reshape(r, -1)).reshape(r0, -1, G.shape[2])
    return out


def chain_slices(cores):
    """Yield ``T[i_1, …]`` (flattened) for ``i_1 = 0, 1, …`` of the closed chain.

    ``T(i) = Σ_r Π_k G_k[r_{k-1}, i_k, r_k]`` with ``r_0 = r_N``.  Each slice costs a
    ``1/J_1`` share of the full contraction, and only about ``r_0·r_{N-1}/J_N`` slices'
    worth of memory is live at a time.
    """
    first, last = cores[0], cores[-1]
    for i in range(first.shape[1]):
        M = first[:, i, :]  # (r_0, r_1)
        for G in cores[1:-1]:
            M = M.reshape(-1, G.shape[0]) @ G.reshape(G.shape[0], -1)
        if len(cores) == 1:
            yield np.trace(M).reshape(1)
            continue
        r0, r_last = first.shape[0], last.shape[0]
        M = M.reshape(r0, -1, r_last)
        piece = M[0] @ last[:, :, 0]
        for a in range(1, r0):  # close the ring: r_N = r_0
            piece += M[a] @ last[:, :, a]
        yield piece.reshape(-1)


def chain_to_tensor(cores):
    """Dense tensor of shape ``(J_1, …, J_N)`` of a closed chain, built slice by slice.

    Examples
    --------
    >>> import numpy as np

from .linalg import frobenius_norm
    >>> from semitensor.chain import chain_to_tensor
    >>> float(chain_to_tensor([np.eye(2).reshape(2, 1, 2)]).item())   # trace of I_2
    2.0
    """
    shape = tuple(G.shape[1] for G in cores)
    T = np.empty(shape, dtype=np.result_type(*cores))
    flat = T.reshape(shape[0], -1)
    for i, piece in enumerate(chain_slices(cores)):
        flat[i] = piece
    return T


def chain_residual_norm(Y, cores):
    """``‖Y − T‖_F`` for the chain ``T`` of ``cores``, slice by slice.

    Computed on the difference itself (no ``‖Y‖² − 2⟨Y, T⟩ + ‖T‖²`` cancellation) and
    with scaled sums of squares, so it neither overflows nor underflows where the
    entries do not.
    """
    flat = Y.reshape(Y.shape[0], -1)
    scale, ssq = 0.0, 1.0
    for i, piece in enumerate(chain_slices(cores)):
        scale, ssq = _accumulate(scale, ssq, frobenius_norm(flat[i] - piece))
    return scale * ssq ** 0.5


def _accumulate(scale, ssq, value):
    """LAPACK ``dlassq``-style update of ``scale²·ssq`` by ``value²``."""
    if value == 0:
        return scale, ssq
    if value > scale:
        return value, 1.0 + ssq * (scale / value) ** 2
    return scale, ssq + (value / scale) ** 2
