"""Semi-tensor train (STT) and tensor-train (TT) fits: TT-SVD and one-site ALS.

An STT of ``X`` is the TT of the regrouped tensor ``Y = regroup_tensor(X, t)`` with
bonds ``R_k / t_k`` (``docs/conventions.md``), so both fits below run on ``Y`` with
classical cores and the result is converted back once.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla

from ..chain import chain_residual_norm
from ..formats import TRAIN
from ..linalg import frobenius_norm, low_rank_split
from ..regroup import classical_cores_to_st, regroup_tensor
from ..results import SemiTensorTrain
from ._args import check_eps, check_sweep_options, check_tensor, rescaled, unit_scaled
from .sweeps import measured, relative, run_sweeps

__all__ = ["semi_tensor_train", "tensor_train", "tt_svd"]


def semi_tensor_train(X, rank=None, t=1, *, eps=None, n_iter_max=0, tol=1e-10, svd="auto",
                      random_state=None, verbose=False):
    """Fit a semi-tensor train (STT) by ST-TT-SVD and optional ALS sweeps.

    Parameters
    ----------
    X : array_like
        Tensor of shape ``(I_1, …, I_N)``; float32/float64/complex data keep their
        dtype, integers are promoted to float64.  Not modified.
    rank : int, sequence of int, "full" or float, optional
        Bonds in the rank language of ``docs/conventions.md``: a list ``R_0, …, R_N`` with
        ``R_0 = R_N = 1`` is exact; an int bounds every free bond (the bonds next to the
        ends are further limited by their unfoldings, as in any TT-SVD); ``"full"`` is an
        exact representation; a float in ``(0, 1)`` is a parameter budget.  ``t_{k+1}``
        must divide ``R_k``.  May be omitted when ``eps`` is given.
    t : int or sequence of int, optional
        Ratios ``t_1, …, t_N`` with ``t_1 = 1`` and ``t_k | I_k``; an int ``t`` means
        ``t_k = t`` for ``k >= 2``.  ``t = 1`` is the classical tensor train.
    eps : float, optional
        Relative error target in ``[0, 1)``: each of the ``N - 1`` steps discards at most
        ``eps·‖X‖/sqrt(N-1)`` (Oseledets' δ-truncation), so the TT-SVD result has
        relative error ``<= eps``.  With ``rank`` as well, ``rank`` caps the bonds.
    n_iter_max : int, optional
        Number of ALS sweeps (each a right-to-left and a left-to-right pass) after the
        TT-SVD, at fixed bonds.  Every core update is an exact minimisation, so the
        error never increases.  Default 0 (TT-SVD only).
    tol : float, optional
        Stop the sweeps when a sweep lowers the error by at most ``tol`` times its
        previous value.
    svd : {"auto", "gram", "lq", "randomized", "full"}, optional
        Truncated-SVD backend of each step (:mod:`semitensor.linalg`).
    random_state : None, int or numpy.random.Generator, optional
        Seed for ``svd="randomized"``.
    verbose : bool, optional
        Print the error (and the bonds, as ``.rank``) after the TT-SVD and each sweep.

    Returns
    -------
    SemiTensorTrain
        Cores ``G_k`` of shape ``(R_{k-1}/t_k, I_k/t_k, R_k)``; ``errors`` holds the
        relative error after the TT-SVD and after each sweep.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import semi_tensor_train
    >>> X = np.random.default_rng(0).standard_normal((4, 6, 6, 4))
    >>> stt = semi_tensor_train(X, rank=[1, 4, 6, 4, 1], t=2)
    >>> [G.shape for G in stt.cores]
    [(1, 4, 4), (2, 3, 6), (3, 3, 4), (2, 2, 1)]
    >>> stt.n_params
    92
    >>> semi_tensor_train(X, rank=0.2, t=2).n_params <= 0.2 * X.size   # a budget
    True
    """
    X = check_tensor(X)
    t = TRAIN.ratios(t, X.shape)
    eps = check_eps(eps)
    ranks = TRAIN.classical_rank(TRAIN.resolve_rank(rank, X.shape, t, eps=eps), t)
    n_iter_max, tol, rng = check_sweep_options(n_iter_max, tol, svd, random_state)

    X, scale = unit_scaled(X)
    Y = regroup_tensor(X, t)
    norm = frobenius_norm(Y)
    delta = None if eps is None else eps * norm / math.sqrt(max(X.ndim - 1, 1))
    cores, discarded_sq = tt_svd(Y, Y.shape, ranks, delta=delta, svd=svd, rng=rng)

    def error(cores, estimate):
        return measured(estimate, lambda: relative(chain_residual_norm(Y, cores), norm), Y.dtype)

    def sweep(cores):
        for direction in (0, 1):
            cores = _right_to_left_pass(pair[direction], cores)
            cores = [G.transpose(2, 1, 0) for G in cores[::-1]]  # reverse the train
        # Two reversals restore the orientation; the centre, which holds the projection
        # of Y onto the frame of the others, is now the last core.
        kept = relative(frobenius_norm(cores[-1]), norm)
        return cores, error(cores, math.sqrt(max(1.0 - kept ** 2, 0.0)))

    pair = [Y, np.ascontiguousarray(Y.transpose(tuple(range(Y.ndim))[::-1]))] if n_iter_max else None
    cores, errors = run_sweeps(
        sweep, cores, error(cores, relative(math.sqrt(discarded_sq), norm)),
        n_iter_max=n_iter_max if X.ndim > 1 and norm > 0 else 0, tol=tol, dtype=Y.dtype,
        verbose=verbose, name="semi_tensor_train" if max(t) > 1 else "tensor_train",
        rank=lambda cores: TRAIN.st_rank([1] + [G.shape[2] for G in cores], t),
    )
    return SemiTensorTrain(rescaled(classical_cores_to_st(cores, t), scale), errors=errors)


def tensor_train(X, rank=None, *, eps=None, n_iter_max=0, tol=1e-10, svd="auto",
                 random_state=None, verbose=False):
    """Fit a tensor train (TT-SVD and optional ALS sweeps): :func:`semi_tensor_train`
    with ``t = 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import tensor_train
    >>> X = np.random.default_rng(0).standard_normal((8, 8, 8))
    >>> tensor_train(X, rank=4).rank
    (1, 4, 4, 1)
    >>> float(tensor_train(X, eps=1e-12).relative_error(X)) < 1e-12
    True
    """
    return semi_tensor_train(X, rank, 1, eps=eps, n_iter_max=n_iter_max, tol=tol, svd=svd,
                             random_state=random_state, verbose=verbose)


def tt_svd(piece, shape, ranks, *, delta=None, svd="auto", rng=None):
    """TT-SVD of a chain piece; the sweep shared by train and ring fits.

    Parameters
    ----------
    piece : ndarray
        Any array holding ``ranks[0] · ∏ shape · ranks[-1]`` entries in the order
        ``(r_0, i_1, …, i_N, r_N)`` (a whole train has ``r_0 = r_N = 1``).
    shape : sequence of int
        Mode sizes ``I_1, …, I_N``.
    ranks : sequence of int
        Bonds ``r_0, …, r_N``.  With ``delta`` they cap the inner bonds; without it they
        are taken exactly, a bond larger than its unfolding being padded with zeros
        (it could carry nothing more).
    delta : float, optional
        Absolute bound on the norm discarded by each step.

    Returns
    -------
    cores : list of ndarray
        ``(r_{k-1}, I_k, r_k)``; all but the last have orthonormal columns when
        unfolded as ``(r_{k-1}·I_k, r_k)``.
    discarded_sq : float
        ``‖piece − chain‖²`` (sum of the steps' discarded squared norms).

    Notes
    -----
    A step whose unfolding has at most as many rows as the bond keeps everything, so
    no SVD is taken there (an identity core).
    """
    cores, discarded_sq = [], 0.0
    r, rest = ranks[0], piece
    for k, size in enumerate(shape[:-1]):
        M = rest.reshape(r * size, -1)
        want = ranks[k + 1]
        keep = min(want, *M.shape)
        if delta is None and keep == M.shape[0]:
            U, R = np.eye(keep, dtype=M.dtype), M
        else:
            U, _, R = low_rank_split(M, keep, tol=delta, method=svd, random_state=rng)
            discarded_sq += max(np.vdot(M, M).real - np.vdot(R, R).real, 0.0)
        if delta is None and U.shape[1] < want:
            U = np.pad(U, ((0, 0), (0, want - U.shape[1])))
            R = np.pad(R, ((0, want - R.shape[0]), (0, 0)))
        cores.append(U.reshape(r, size, -1))
        r, rest = U.shape[1], R
    cores.append(rest.reshape(r, shape[-1], ranks[-1]))
    return cores, discarded_sq


def _right_to_left_pass(Y, cores):
    """Right-to-left ALS pass; expects cores ``0..N-2`` left-orthonormal.

    Returns cores with ``1..N-1`` right-orthonormal and the optimal core ``0``.
    """
    n = len(cores)
    cores = list(cores)
    frame = Y.reshape(-1, 1)  # Y contracted with the (orthonormal) right cores so far
    for k in range(n - 1, 0, -1):
        r_prev, size, r_next = cores[k].shape
        frame = frame.reshape(-1, size * r_next)
        W = _project_left(frame, cores[:k])  # (r_prev, size·r_next): the optimal core
        Q = _right_orthonormal(W)
        cores[k] = Q.reshape(Q.shape[0], size, r_next)
        frame = frame @ Q.conj().T  # contract mode k and bond k with the new core
    cores[0] = frame.reshape(1, Y.shape[0], -1)
    return cores


def _project_left(M, left_cores):
    """Contract the rows of ``M`` (indexed by ``(i_1, …, i_k)``) with ``conj(left cores)``."""
    out = M.reshape(1, -1)
    for G in left_cores:
        r, size, r_next = G.shape
        out = G.reshape(r * size, r_next).conj().T @ out.reshape(r * size, -1)
    return out


def _right_orthonormal(W):
    """Orthonormal rows spanning the row space of ``W`` (LQ via QR of ``W^H``)."""
    Q = sla.qr(W.conj().T, mode="economic")[0]
    return Q.conj().T
