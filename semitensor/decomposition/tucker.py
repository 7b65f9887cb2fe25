"""Semi-tensor Tucker (STTu) and classical Tucker fits: ST-HOSVD and ST-HOOI.

Design
------
With ``i_n = a_n·t_n + b_n`` the model ``X = G ⋉_1 U_1 ⋯ ⋉_N U_N`` reads, on the free
reshape ``Y = tucker_view(X, t)`` of shape ``(I_1/t_1, t_1, …, I_N/t_N, t_N)``, as a
classical Tucker model that compresses only the ``a`` modes ``0, 2, 4, …`` with factors
``U_n`` (the ``b`` modes keep identity factors).  So there is one classical routine,
:func:`_partial_tucker` (HOSVD + HOOI on a subset of the modes of a tensor), and the ST
fit is a call to it followed by a free reshape of its core ``(R_1/t_1, t_1, …)`` to
``(R_1, …, R_N)`` (core index ``r_n = ρ_n·t_n + β_n``).  No ``U ⊗ I`` is ever formed.

Cost of a HOOI sweep
--------------------
The projection for mode ``k`` is ``Y ×_{j<k} U_j^H ×_{j>k} U_j^H``.  The modes before
``k`` already carry this sweep's factors, so ``Y ×_{j<k} U_j^H`` is kept and extended by
one mode after each update; only two contractions per sweep touch the full tensor (the
first projection and ``Y ×_1 U_1^H``).  The SVD step is :func:`~semitensor.linalg.low_rank_split`,
whose ``R = U^H M`` is the core with the newest factor: the last step of a sweep yields
the core, and ``sqrt(1 − ‖G‖²/‖X‖²)`` the error, without another pass over ``X`` (the
sweep engine recomputes it exactly where that estimate cancels).
"""
from __future__ import annotations

import math

import numpy as np

from ..formats import TUCKER
from ..linalg import frobenius_norm, low_rank_split
from ..modes import fold, mode_dot, unfold
from ..regroup import tucker_view
from ..results import SemiTensorTucker
from ._args import check_eps, check_sweep_options, check_tensor, rescaled, unit_scaled
from .sweeps import measured, relative, run_sweeps

__all__ = ["semi_tensor_tucker", "tucker"]


def semi_tensor_tucker(X, rank=None, t=1, *, eps=None, n_iter_max=100, tol=1e-8, init="svd",
                       svd="auto", random_state=None, verbose=False):
    """Semi-tensor Tucker decomposition ``X ≈ G ⋉_1 U_1 ⋉_2 U_2 ⋯ ⋉_N U_N`` (ST-HOOI).

    The effective factor of mode ``n`` is ``U_n ⊗ I_{t_n}`` with ``U_n`` of shape
    ``(I_n/t_n, R_n/t_n)`` and orthonormal columns; the core ``G`` has shape
    ``(R_1, …, R_N)``.  With every ``t_n = 1`` this is the classical Tucker decomposition
    (HOSVD followed by HOOI).

    Parameters
    ----------
    X : array_like
        Tensor of order ``N >= 1`` (float32, float64, complex64 or complex128; integers and
        booleans are promoted to float64).  Not modified.
    rank : int, sequence of int, "full" or float, optional
        Ranks ``R_n`` in the rank language of ``docs/conventions.md``: an int bounds every
        mode (capped by its size), a list of ``N`` ranks is exact, ``"full"`` is ``X.shape``
        and a float in ``(0, 1)`` is a parameter budget (a fraction of ``X.size``).  Each
        ``t_n`` must divide ``R_n``.  May be omitted when ``eps`` is given.
    t : int or sequence of int, default 1
        Ratios ``t_n`` (one for all modes or one per mode); ``t_n`` must divide ``I_n``.
    eps : float, optional
        Relative error target in ``[0, 1)``: each mode's truncation discards at most
        ``eps·‖X‖/sqrt(N)``, so ``relative_error <= eps`` (HOOI sweeps only lower it).
        With ``rank`` as well, the ranks are bounds.  Needs ``init="svd"``.
    n_iter_max : int, default 100
        Maximum number of HOOI sweeps; 0 returns the ST-HOSVD (or the random start).
    tol : float, default 1e-8
        Stop when a sweep lowers the relative error by at most ``tol`` times its previous
        value (``tol=0``: stop only when a sweep brings no decrease at all).
    init : {"svd", "random"}, default "svd"
        ``"svd"``: ``U_n`` = leading ``R_n/t_n`` left singular vectors of ``X_(n)``
        reshaped to ``(I_n/t_n) × (t_n·∏_{m≠n} I_m)`` (ST-HOSVD).  ``"random"``: random
        orthonormal factors drawn from ``random_state``.
    svd : {"auto", "gram", "lq", "randomized", "full"}, default "auto"
        Truncated-SVD backend of every factor update (see :mod:`semitensor.linalg`).
    random_state : None, int, numpy.random.Generator or RandomState, optional
        Seed of the random start and of the randomized SVD.
    verbose : bool, default False
        Print one line for the start and per sweep.

    Returns
    -------
    SemiTensorTucker
        ``core``, ``factors`` (``U_n``, not ``U_n ⊗ I``) and ``errors``: the relative
        error after the start and after each sweep, non-increasing.

    Raises
    ------
    TypeError
        Non-numeric ``X``, non-integer ranks, ratios or ``n_iter_max``.
    ValueError
        A ratio that does not divide its mode, a rank that is not a multiple of its ratio
        or exceeds its mode, a rank list of the wrong length, a budget too small for any
        rank, NaN/Inf in ``X``, a bad ``eps``, ``tol``, ``init`` or ``svd``.

    Notes
    -----
    A rank ``R_n/t_n`` above the column count of the unfolding being truncated is
    honoured by completing ``U_n`` with an orthonormal complement (those directions
    carry no energy, so the error is unaffected).

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import semi_tensor_tucker
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((8, 6, 4))
    >>> T = semi_tensor_tucker(X, rank=[4, 4, 2], t=2)
    >>> T.core.shape, [U.shape for U in T.factors], T.t
    ((4, 4, 2), [(4, 2), (3, 2), (2, 1)], (2, 2, 2))
    >>> exact = semi_tensor_tucker(T.to_tensor(), rank=[4, 4, 2], t=2)
    >>> bool(exact.relative_error(T.to_tensor()) < 1e-10)
    True
    >>> semi_tensor_tucker(T.to_tensor(), t=2, eps=1e-8).rank     # ranks found by eps
    (4, 4, 2)
    """
    X = check_tensor(X)
    t = TUCKER.ratios(t, X.shape)
    eps = check_eps(eps)
    ranks = TUCKER.resolve_rank(rank, X.shape, t, eps=eps)
    n_iter_max, tol, rng = check_sweep_options(n_iter_max, tol, svd, random_state, init)
    if eps is not None and init != "svd":
        raise ValueError(f"eps chooses the ranks by truncated SVDs: it needs init='svd', got init={init!r}")

    X, scale = unit_scaled(X)
    Y = tucker_view(X, t)
    modes = tuple(range(0, 2 * X.ndim, 2))  # the a-modes of the view
    delta = None if eps is None else eps * frobenius_norm(Y) / math.sqrt(X.ndim)
    core, factors, errors = _partial_tucker(
        Y, modes, TUCKER.classical_rank(ranks, t), delta=delta, n_iter_max=n_iter_max, tol=tol,
        init=init, svd=svd, rng=rng, verbose=verbose, name="semi_tensor_tucker" if max(t) > 1 else "tucker",
    )
    # Partial core (R_1/t_1, t_1, …): index (ρ_n, β_n) is r_n = ρ_n·t_n + β_n, a free reshape.
    core, *factors = rescaled([core.reshape(_st_rank(core.shape)), *factors], scale)
    return SemiTensorTucker(core, factors, errors)


def tucker(X, rank=None, *, eps=None, n_iter_max=100, tol=1e-8, init="svd", svd="auto",
           random_state=None, verbose=False):
    """Classical Tucker decomposition ``X ≈ G ×_1 U_1 ⋯ ×_N U_N`` (HOSVD + HOOI).

    The ``t = 1`` case of :func:`semi_tensor_tucker`; same parameters minus ``t``.

    Returns
    -------
    SemiTensorTucker
        With every ``t_n = 1``: ``factors[n]`` has shape ``(I_n, R_n)``.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import tucker
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((10, 9, 8))
    >>> T = tucker(X, rank=3, n_iter_max=20)
    >>> T.rank, T.t
    ((3, 3, 3), (1, 1, 1))
    >>> bool(np.all(np.diff(T.errors) <= 0))      # HOOI never increases the error
    True
    >>> bool(np.isclose(T.errors[-1], T.relative_error(X)))
    True
    >>> core, factors = T                          # unpacks as in TensorLy
    """
    return semi_tensor_tucker(X, rank, 1, eps=eps, n_iter_max=n_iter_max, tol=tol, init=init,
                              svd=svd, random_state=random_state, verbose=verbose)


def _st_rank(partial_shape):
    """``(R_1/t_1, t_1, …)`` → ``(R_1, …)``."""
    return tuple(a * b for a, b in zip(partial_shape[::2], partial_shape[1::2]))


# ----------------------------------------------------------------------------- classical


def _partial_tucker(Y, modes, ranks, *, delta, n_iter_max, tol, init, svd, rng, verbose, name):
    """HOSVD (truncated at ``delta`` per mode when given) + HOOI of ``Y`` on ``modes`` only.

    Returns ``(core, factors, errors)``: ``core`` has the ranks on ``modes`` and the
    sizes of ``Y`` elsewhere; ``errors`` is the relative-error history.
    """
    norm = frobenius_norm(Y)
    if init == "svd":
        factors = [_leading_basis(unfold(Y, m), r, svd, rng, delta)[0] for m, r in zip(modes, ranks)]
    else:
        factors = [_random_orthonormal(Y.shape[m], r, Y.dtype, rng) for m, r in zip(modes, ranks)]
    ranks = [U.shape[1] for U in factors]  # eps may have chosen smaller ones

    def error(core, factors):
        kept = relative(frobenius_norm(core), norm)
        estimate = math.sqrt(max(1.0 - kept ** 2, 0.0)) if norm > 0 else None
        return measured(estimate, lambda: relative(frobenius_norm(Y - _expand(core, factors, modes)), norm),
                        Y.dtype)

    def sweep(state):
        factors, core = _hooi_sweep(Y, state[0], modes, ranks, svd, rng)
        return (factors, core), error(core, factors)

    core = _project(Y, factors, modes)
    (factors, core), errors = run_sweeps(
        sweep, (factors, core), error(core, factors), n_iter_max=n_iter_max if norm > 0 else 0,
        tol=tol, dtype=Y.dtype, verbose=verbose, name=name,
        rank=lambda state: _st_rank(state[1].shape),
    )
    return core, factors, errors


def _hooi_sweep(Y, factors, modes, ranks, svd, rng):
    """One HOOI sweep over ``modes``; returns ``(factors, core)``."""
    factors = list(factors)
    done = Y  # Y ×_{j<k} U_j^H with this sweep's factors
    for k, mode in enumerate(modes):
        Z = _project(done, factors[k + 1:], modes[k + 1:])
        factors[k], R = _leading_basis(unfold(Z, mode), ranks[k], svd, rng)
        if k + 1 < len(modes):
            done = mode_dot(done, factors[k].conj().T, mode)
    # R = U_last^H Z_(last) is the core of the new factors, unfolded along the last mode.
    core_shape = Z.shape[:mode] + (ranks[-1],) + Z.shape[mode + 1:]
    return factors, fold(R, mode, core_shape)


def _expand(core, factors, modes):
    """``core ×_m U_m`` over ``modes`` (the model tensor, for exact errors)."""
    for U, m in zip(factors, modes):
        core = mode_dot(core, U, m)
    return core


def _project(T, factors, modes):
    """``T ×_m U_m^H`` over ``modes``, in the cheapest order.

    Contracting mode ``m`` (size ``P``, rank ``r``) costs ``|T|·r`` and scales ``|T|`` by
    ``r/P``; an exchange argument shows the total is least when the modes go by
    increasing ``r / (1 − r/P)``.
    """
    def key(pair):
        U, m = pair
        P, r = U.shape
        return (r * P / (P - r) if r < P else np.inf, -m)

    for U, m in sorted(zip(factors, modes), key=key):
        T = mode_dot(T, U.conj().T, m)
    return T


def _leading_basis(M, r, svd, rng, delta=None):
    """Leading ``r`` left singular vectors ``U`` of ``M`` and ``U^H M``; with ``delta``,
    the fewest (at most ``r``) that leave a tail of norm ``<= delta``.

    Without ``delta``, when ``M`` has fewer than ``r`` columns its column space is all
    there is: ``U`` is completed by an orthonormal complement, whose rows of ``U^H M``
    are zero.
    """
    k = min(r, M.shape[1])
    U, _, R = low_rank_split(M, k, tol=delta, method=svd, random_state=rng)
    if delta is None and k < r:
        complement = np.linalg.qr(U, mode="complete")[0][:, k:r]
        U = np.concatenate([U, complement], axis=1)
        R = np.concatenate([R, np.zeros((r - k, R.shape[1]), R.dtype)])
    return U, R


def _random_orthonormal(P, r, dtype, rng):
    real = np.finfo(dtype).dtype
    A = rng.standard_normal((P, r), dtype=real)
    if np.issubdtype(dtype, np.complexfloating):
        A = A + 1j * rng.standard_normal((P, r), dtype=real)
    return np.linalg.qr(A.astype(dtype, copy=False))[0]
