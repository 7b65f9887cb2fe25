"""Semi-tensor Tucker (STTu) and classical Tucker fits: ST-HOSVD and ST-HOOI (SPEC §3.1).

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
the core, and ``‖X‖² − ‖G‖²`` the error, without another pass over ``X``.
"""
from __future__ import annotations

import numpy as np

from ..linalg import low_rank_split
from ..modes import fold, mode_dot, unfold
from ..regroup import tucker_view
from ..results import SemiTensorTucker
from ._args import check_ratios, check_sweep_options, check_tensor, check_tucker_ranks

__all__ = ["semi_tensor_tucker", "tucker"]



def semi_tensor_tucker(X, rank, t=1, *, n_iter_max=100, tol=1e-8, init="svd", svd="auto",
                       random_state=None, verbose=False):
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
    rank : int or sequence of int
        Ranks ``R_n``.  An int is a bound for every mode, capped by the mode size; a list of
        ``N`` ranks is taken literally.  Each ``t_n`` must divide ``R_n`` and ``R_n <= I_n``.
    t : int or sequence of int, default 1
        Ratios ``t_n`` (one for all modes or one per mode); ``t_n`` must divide ``I_n``.
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
        Print one line per sweep.

    Returns
    -------
    SemiTensorTucker
        ``core``, ``factors`` (``U_n``, not ``U_n ⊗ I``) and ``errors``: the relative
        error ``sqrt(‖X‖² − ‖G‖²)/‖X‖`` after the initialisation and after each sweep,
        non-increasing.

    Raises
    ------
    TypeError
        Non-numeric ``X``, non-integer ranks, ratios or ``n_iter_max``.
    ValueError
        A ratio that does not divide its mode, a rank that is not a multiple of its ratio
        or exceeds its mode, a rank list of the wrong length, NaN/Inf in ``X``, a bad
        ``tol``, ``init`` or ``svd``.

    Notes
    -----
    A rank ``R_n/t_n`` above the column count of the unfolding being truncated is
    honoured by completing ``U_n`` with an orthonormal complement (those directions
    carry no energy, so the error is unaffected).  A sweep whose error comes out larger
    than the previous one (possible only by rounding) is discarded and ends the fit.

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
    """
    X = check_tensor(X)
    t = check_ratios(t, X.shape, "tucker")
    ranks = check_tucker_ranks(rank, X.shape, t)
    n_iter_max, tol, rng = check_sweep_options(n_iter_max, tol, svd, random_state, init)

    modes = tuple(range(0, 2 * X.ndim, 2))  # the a-modes of the view
    core, factors, errors = _partial_tucker(
        tucker_view(X, t), modes, [R // tn for R, tn in zip(ranks, t)],
        n_iter_max=n_iter_max, tol=tol, init=init, svd=svd, rng=rng, verbose=verbose,
    )
    # Partial core (R_1/t_1, t_1, …): index (ρ_n, β_n) is r_n = ρ_n·t_n + β_n, a free reshape.
    return SemiTensorTucker(core.reshape(ranks), factors, errors)


def tucker(X, rank, *, n_iter_max=100, tol=1e-8, init="svd", svd="auto", random_state=None,
           verbose=False):
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
    """
    return semi_tensor_tucker(X, rank, 1, n_iter_max=n_iter_max, tol=tol, init=init, svd=svd,
                              random_state=random_state, verbose=verbose)


# ----------------------------------------------------------------------------- classical


def _partial_tucker(Y, modes, ranks, *, n_iter_max, tol, init, svd, rng, verbose):
    """HOSVD + HOOI of ``Y`` on ``modes`` only (the other modes are not compressed).

    Returns ``(core, factors, errors)``: ``core`` has ``ranks`` on ``modes`` and the
    sizes of ``Y`` elsewhere; ``errors`` is the relative-error history.
    """
    norm2 = _sq_norm(Y)
    if init == "svd":
        factors = [_leading_basis(unfold(Y, m), r, svd, rng)[0] for m, r in zip(modes, ranks)]
    else:
        factors = [_random_orthonormal(Y.shape[m], r, Y.dtype, rng) for m, r in zip(modes, ranks)]
    if n_iter_max == 0:
        core = _project(Y, factors, modes)
        return core, factors, [_rel_error(norm2, core)]

    core, errors = None, []
    for sweep in range(1, n_iter_max + 1):
        new_factors, new_core, start_core = _hooi_sweep(Y, factors, modes, ranks, svd, rng,
                                                        want_start_core=core is None)
        if core is None:  # the core of the initial factors falls out of the first sweep
            core = start_core
            errors.append(_rel_error(norm2, core))
        err = _rel_error(norm2, new_core)
        if err > errors[-1]:  # only rounding can do this: keep the better fit
            break
        factors, core = new_factors, new_core
        errors.append(err)
        if verbose:
            print(f"tucker sweep {sweep}: relative error {err:.6e}")
        if errors[-2] - err <= tol * errors[-2]:
            break
    return core, factors, errors


def _hooi_sweep(Y, factors, modes, ranks, svd, rng, want_start_core=False):
    """One HOOI sweep over ``modes``; returns ``(factors, core, start_core)``.

    ``start_core`` is the core of the incoming factors (only when asked: it costs a
    small product in the first step).
    """
    factors = list(factors)
    done = Y  # Y ×_{j<k} U_j^H with this sweep's factors
    start_core = None
    for k, mode in enumerate(modes):
        Z = _project(done, factors[k + 1:], modes[k + 1:])
        if k == 0 and want_start_core:
            start_core = mode_dot(Z, factors[0].conj().T, mode)
        factors[k], R = _leading_basis(unfold(Z, mode), ranks[k], svd, rng)
        if k + 1 < len(modes):
            done = mode_dot(done, factors[k].conj().T, mode)
    # R = U_last^H Z_(last) is the core of the new factors, unfolded along the last mode.
    core_shape = Z.shape[:mode] + (ranks[-1],) + Z.shape[mode + 1:]
    return factors, fold(R, mode, core_shape), start_core


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


def _leading_basis(M, r, svd, rng):
    """Leading ``r`` left singular vectors ``U`` of ``M`` and ``U^H M``.

    When ``M`` has fewer than ``r`` columns its column space is all there is: ``U`` is
    completed by an orthonormal complement, whose rows of ``U^H M`` are zero.
    """
    k = min(r, M.shape[1])
    U, _, R = low_rank_split(M, k, method=svd, random_state=rng)
    if k < r:
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


def _sq_norm(T):
    return float(np.linalg.norm(T.reshape(-1))) ** 2


def _rel_error(norm2, core):
    """``sqrt(‖X‖² − ‖G‖²)/‖X‖``, exact for orthonormal factors and a projected core."""
    if norm2 == 0:
        return 0.0
    return float(np.sqrt(max(norm2 - _sq_norm(core), 0.0) / norm2))
