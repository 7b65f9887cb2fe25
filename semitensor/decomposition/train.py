"""Semi-tensor train (STT) and tensor-train (TT) fits: TT-SVD and one-site ALS.

An STT of ``X`` is the TT of the regrouped tensor ``Y = regroup_tensor(X, t)`` with
bonds ``R_k / t_{k+1}`` (SPEC §3.2), so both fits below run on ``Y`` with classical
cores and the result is converted back once.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla

from ..linalg import low_rank_split
from ..regroup import classical_cores_to_st, regroup_tensor
from ..results import SemiTensorTrain, chain_residual_norm
from ._args import check_eps, check_ratios, check_sweep_options, check_tensor, check_train_ranks

__all__ = ["semi_tensor_train", "tensor_train"]


def semi_tensor_train(X, rank=None, t=1, *, eps=None, n_iter_max=0, tol=1e-10, svd="auto",
                      random_state=None, verbose=False):
    """Fit a semi-tensor train (STT) by ST-TT-SVD and optional ALS sweeps.

    Parameters
    ----------
    X : array_like
        Tensor of shape ``(I_1, …, I_N)``; float32/float64/complex data keep their
        dtype, integers are promoted to float64.  Not modified.
    rank : int or sequence of int, optional
        Bonds ``R_0, …, R_N`` with ``R_0 = R_N = 1`` (taken literally), or an int: an
        upper bound on every free bond (the bonds next to the ends are further
        limited by their unfoldings, as in any TT-SVD).  ``t_{k+1}`` must divide
        ``R_k``.  May be omitted when ``eps`` is given.
    t : int or sequence of int, optional
        Ratios ``t_1, …, t_N`` with ``t_1 = 1`` and ``t_k | I_k``; an int ``t`` means
        ``t_k = t`` for ``k >= 2``.  ``t = 1`` is the classical tensor train.
    eps : float, optional
        Relative error target: each of the ``N - 1`` steps discards at most
        ``eps·‖X‖/sqrt(N-1)`` (Oseledets' δ-truncation), so the TT-SVD result has
        relative error ``<= eps``.  With ``rank`` as well, ``rank`` caps the bonds.
    n_iter_max : int, optional
        Number of ALS sweeps (each a right-to-left and a left-to-right pass) after the
        TT-SVD, at fixed bonds.  Every core update is an exact minimisation, so the
        error never increases.  Default 0 (TT-SVD only).
    tol : float, optional
        Stop the sweeps when the relative change of the error falls below ``tol``.
    svd : {"auto", "gram", "lq", "randomized", "full"}, optional
        Truncated-SVD backend of each step (:mod:`semitensor.linalg`).
    random_state : None, int or numpy.random.Generator, optional
        Seed for ``svd="randomized"``.
    verbose : bool, optional
        Print the error after each sweep.

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
    """
    X = check_tensor(X)
    t = check_ratios(t, X.shape, "train")
    eps = check_eps(eps)
    ranks = check_train_ranks(rank, X.shape, t, eps=eps)
    n_iter_max, tol, rng = check_sweep_options(n_iter_max, tol, svd, random_state)

    Y = regroup_tensor(X, t)
    norm = float(np.linalg.norm(Y))
    delta = None if eps is None else eps * norm / math.sqrt(max(X.ndim - 1, 1))
    cores, discarded_sq = tt_svd(Y, Y.shape, ranks, delta=delta, svd=svd, rng=rng)
    errors = [_exact_if_tiny(_relative(discarded_sq, norm), Y, cores, norm)]
    if verbose:
        print(f"TT-SVD: relative error {errors[-1]:.3e}, bonds {[G.shape[2] for G in cores]}")
    if n_iter_max and X.ndim > 1:
        cores = _tt_als(Y, cores, norm, n_iter_max, tol, errors, verbose)
    return SemiTensorTrain(classical_cores_to_st(cores, t), errors=errors)


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


def _relative(discarded_sq, norm):
    return math.sqrt(max(discarded_sq, 0.0)) / norm if norm > 0 else math.sqrt(max(discarded_sq, 0.0))


def _exact_if_tiny(estimate, Y, cores, norm):
    """``‖Y‖² − ‖projection‖²`` cancels below ~sqrt(eps): recompute such errors exactly."""
    if estimate > 1e-6 or norm == 0:
        return estimate
    return chain_residual_norm(Y, cores) / norm


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


def _tt_als(Y, cores, norm, n_iter_max, tol, errors, verbose):
    """One-site ALS sweeps at fixed bonds, starting from left-orthonormal cores.

    A pass runs right to left: core ``k`` is set to the projection of ``Y`` onto the
    orthonormal frame of the others (the exact minimiser), then made right-orthonormal
    by an LQ step.  The next pass is the same on the mode-reversed train.  After a pass
    the error is ``‖Y‖² − ‖centre core‖²``.
    """
    reversed_Y = np.ascontiguousarray(Y.transpose(tuple(range(Y.ndim))[::-1]))
    pair = [Y, reversed_Y]
    for sweep in range(1, n_iter_max + 1):
        for direction in (0, 1):
            cores = _right_to_left_pass(pair[direction], cores)
            cores = [G.transpose(2, 1, 0) for G in cores[::-1]]  # reverse the train
        # Two reversals restore the orientation; the centre, which holds the projection
        # of Y onto the frame of the others, is now the last core.
        centre = cores[-1]
        err = _exact_if_tiny(_relative(norm ** 2 - np.vdot(centre, centre).real, norm), Y, cores, norm)
        previous = errors[-1]
        errors.append(err)
        if verbose:
            print(f"ALS sweep {sweep}: relative error {err:.3e}")
        # Stop on a small relative change, or once the error is at rounding level
        # (where its relative changes are noise).
        floor = 100 * np.finfo(Y.dtype).eps
        if abs(previous - err) <= tol * previous or err <= floor:
            break
    return cores


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
