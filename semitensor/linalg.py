"""Truncated SVD backends for the tensor decompositions.

TT-SVD, HOSVD and TR-SVD only need, for an unfolding ``M`` (m x n), the leading left
singular subspace and the projection of ``M`` onto it.  Two public functions serve them:

* :func:`truncated_svd` returns ``U, s, Vh`` with ``M ~= U @ diag(s) @ Vh``;
* :func:`low_rank_split` returns ``U, s, R`` with ``R = U^H M``, so ``M ~= U @ R``; this is
  the cheap path used by the sweeps (no right singular vectors are formed when not needed).

Methods (``SVD_METHODS``)
-------------------------
``"gram"``
    Eigendecomposition (``scipy.linalg.eigh``) of the Gram matrix of the short side,
    ``M M^H`` or ``M^H M``, formed by one BLAS ``syrk``/``herk``.  About ``m n p`` flops
    (``p = min(m, n)``) for the product plus a ``p x p`` eigensolve; only the wanted pairs
    are computed when ``rank`` is small.  Squaring ``M`` squares its condition number:
    singular values below about ``sqrt(eps) * s_max`` are rounding noise.
``"lq"``
    Householder QR of ``M`` (or of ``M^T`` when ``M`` is wide, i.e. an LQ factorisation),
    then an SVD of the small ``p x p`` triangular factor.  Twice the flops of ``"gram"``
    (about 3x the time: ``geqrf`` runs slower than ``syrk``) but backward stable: every
    singular value is accurate to ``O(eps * s_max)``.
``"randomized"``
    Halko-Martinsson-Tropp range finder (Gaussian sketch of ``rank + n_oversamples``
    columns, ``n_power_iter`` power iterations re-orthonormalised by QR).  Needs ``rank``.
    Cheapest for small ranks, but only as accurate as the spectrum decays: the error
    behaves like ``(s_{l+1} / s_rank)^(2 n_power_iter + 1)`` with ``l`` the sketch size.
``"full"``
    ``scipy.linalg.svd(full_matrices=False)`` of the whole matrix; a reference.
``"auto"`` (the rule)
    ``"gram"``, unless ``tol`` is given and ``tol < 4 * sqrt(p * eps) * ||M||_F``, with
    ``p = min(m, n)`` and ``eps`` the machine epsilon of the working precision (float32
    for float32/complex64 input, float64 otherwise); then ``"lq"``.  Why: the Gram route
    gets the discarded norm as ``||M||_F^2 - sum(kept s_i^2)``, and rounding in the Gram
    product, the eigensolver and that difference leaves an absolute error of up to about
    ``p * eps * ||M||_F^2`` in it (measured: a few ``eps * ||M||_F^2``).  Above the bound
    that error is under ``tol^2 / 16``, so ``tol`` is honoured to a few per cent at worst;
    below it ``tol`` is out of the Gram route's reach.  In float32 the bound is large
    (``0.04 * ||M||_F`` for ``p = 1024``): any tolerance that depends on the small singular
    values goes to ``"lq"``.  On the Gram route, when a ``rank`` cap discards a tail
    below that same bound (the eigenvectors are then only accurate to about
    ``sqrt(p * eps) * ||M||_F``), one subspace iteration ``U <- qr(M M^H U)`` refines the
    kept basis, for two extra products; without it, a TT-SVD of a smooth tensor loses
    up to 50x in accuracy against an exact SVD.  ``"randomized"`` and ``"full"`` are
    never chosen automatically.

Conventions shared by both functions
------------------------------------
* ``tol`` is an absolute bound on the Frobenius norm of the discarded part: the rank
  is the smallest ``r >= 1`` with ``sqrt(sum_{i >= r} s_i^2) <= tol`` (Oseledets'
  delta-truncation); ``rank`` caps it.  With neither, ``r = min(m, n)``.
* Output dtype follows the input: float32 in, float32 out; complex stays complex and
  ``s`` is of the matching real dtype.  Boolean and integer input is promoted to float64,
  float16 to float32; extended precision is refused (LAPACK has none).
* The input is never modified.  NaN/Inf input raises ``ValueError``.
* A zero matrix is a legitimate input: with ``tol`` it gives ``r = 1``, ``s = [0]`` and
  some unit vector ``U``; without ``tol`` it gives ``min(m, n)`` zero singular values.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.linalg as sla
from scipy.linalg.blas import get_blas_funcs

from ._validation import as_numeric_array, check_positive_int, check_random_state

__all__ = ["SVD_METHODS", "truncated_svd", "low_rank_split", "frobenius_norm"]

SVD_METHODS = ("auto", "gram", "lq", "randomized", "full")

# "auto" leaves the Gram route when tol < _GRAM_TOL_FACTOR * sqrt(p * eps) * ||M||_F.
_GRAM_TOL_FACTOR = 4.0
# "auto"'s Gram route: like "gram", but a truncation below the Gram matrix's resolution
# is refined (_resolve_tail).  Internal name only; users pass "auto".
_GRAM_CHECKED = "gram (checked)"
# Computing k of p eigenpairs (MRRR) beats the full eigensolver only for k well below p.
_EIGH_SUBSET_RATIO = 5


# --------------------------------------------------------------------------- public API


def truncated_svd(matrix, rank=None, *, tol=None, method="auto", random_state=None,
                  n_oversamples=10, n_power_iter=2):
    """Leading singular triplets of a matrix.

    Parameters
    ----------
    matrix : array_like, shape (m, n)
        Float32, float64, complex64 or complex128 data (bool and integer are promoted to
        float64, float16 to float32).  Must be non-empty and finite.  Not modified.
    rank : int, optional
        Maximum number of triplets kept, ``1 <= rank <= min(m, n)``.
    tol : float, optional
        Absolute bound on the Frobenius norm of the discarded part: the smallest ``r``
        with ``sqrt(sum_{i >= r} s_i**2) <= tol`` is kept (capped by ``rank``).
    method : {"auto", "gram", "lq", "randomized", "full"}, default "auto"
        Backend, see the module documentation.  ``"auto"`` is ``"gram"`` unless ``tol``
        is given with ``tol < 4 * sqrt(p * eps) * ||M||_F`` (``p = min(m, n)``, ``eps``
        of the working precision), where the Gram matrix cannot resolve the discarded
        norm; then ``"lq"``.
    random_state : None, int, numpy.random.Generator or RandomState, optional
        Seed of the Gaussian sketch (``method="randomized"`` only).
    n_oversamples : int, default 10
        Extra sketch columns beyond ``rank`` (``"randomized"`` only), ``>= 0``.
    n_power_iter : int, default 2
        Power iterations of the range finder (``"randomized"`` only), ``>= 0``.

    Returns
    -------
    U : ndarray, shape (m, r)
        Orthonormal columns, dtype of the (promoted) input.
    s : ndarray, shape (r,)
        Singular values in descending order, real dtype matching the input precision.
    Vh : ndarray, shape (r, n)
        Orthonormal rows.

    Raises
    ------
    TypeError
        Non-numeric ``matrix``, non-integer ``rank``, non-real ``tol``, non-integer
        ``n_oversamples``/``n_power_iter``, unusable ``random_state``.
    ValueError
        ``matrix`` not 2-D, empty or non-finite; ``rank`` outside ``1..min(m, n)``;
        ``tol`` negative or non-finite; unknown ``method``; ``"randomized"`` without
        ``rank``.

    Notes
    -----
    With ``method="gram"`` only the singular values above about ``sqrt(eps) * s_max``
    are meaningful, and a ``tol`` below ``sqrt(p * eps) * ||M||_F`` is not honoured
    reliably (``"auto"`` switches to ``"lq"`` there).  With ``"randomized"`` and ``tol``
    the tail beyond the sketch is estimated as ``||M||_F^2 - ||Q^H M||_F^2``, accurate
    to about ``sqrt(eps) * ||M||_F``.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor.linalg import truncated_svd
    >>> rng = np.random.default_rng(0)
    >>> M = rng.standard_normal((6, 3)) @ rng.standard_normal((3, 40))  # rank 3
    >>> U, s, Vh = truncated_svd(M, tol=1e-8)
    >>> U.shape, s.shape, Vh.shape
    ((6, 3), (3,), (3, 40))
    >>> bool(np.allclose(U @ np.diag(s) @ Vh, M))
    True
    >>> U, s, Vh = truncated_svd(M, rank=2, method="randomized", random_state=0)
    >>> s.shape
    (2,)
    """
    M, rank, tol, method, rng = _check_arguments(matrix, rank, tol, method, random_state)
    n_oversamples = check_positive_int(n_oversamples, "n_oversamples", minimum=0)
    n_power_iter = check_positive_int(n_power_iter, "n_power_iter", minimum=0)
    return _truncated_svd(M, rank, tol, method, rng, n_oversamples, n_power_iter)


def low_rank_split(matrix, rank=None, *, tol=None, method="auto", random_state=None):
    """Split a matrix as ``M ~= U @ R`` with orthonormal ``U`` and ``R = U^H M``.

    The rank rule is that of :func:`truncated_svd`, and for the exact methods
    ``||M - U R||_F^2`` equals the sum of the discarded ``s_i**2``.  This is the step of
    TT-SVD and TR-SVD, so it takes the cheapest stable route: for ``"gram"`` and ``"lq"``
    on a wide matrix (``m <= n``) ``U`` comes from the short side and ``R = U^H M`` is one
    product; on a tall matrix the right basis ``V`` comes from the short side, ``U`` from a
    thin QR of ``M V`` and ``R = diag(s) Vh``.

    Parameters
    ----------
    matrix : array_like, shape (m, n)
        As for :func:`truncated_svd`.  Not modified.
    rank : int, optional
        Maximum rank, ``1 <= rank <= min(m, n)``.
    tol : float, optional
        Absolute bound on the discarded Frobenius norm.
    method : {"auto", "gram", "lq", "randomized", "full"}, default "auto"
        As for :func:`truncated_svd` (``"randomized"`` needs ``rank``).
    random_state : None, int, numpy.random.Generator or RandomState, optional
        Seed of the sketch for ``method="randomized"``.

    Returns
    -------
    U : ndarray, shape (m, r)
        Orthonormal columns (leading left singular vectors, up to rounding).
    s : ndarray, shape (r,)
        Leading singular values, descending, real.
    R : ndarray, shape (r, n)
        ``U^H M``.

    Notes
    -----
    For ``method="gram"`` on a tall matrix ``R = diag(s) Vh`` differs from ``U^H M`` by
    ``O(eps * s_max**2 / s_r)``, the Gram route's usual accuracy; ``M - U R`` is then
    ``M`` times the projector onto the discarded right singular vectors.

    Raises
    ------
    TypeError, ValueError
        As for :func:`truncated_svd`.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor.linalg import low_rank_split
    >>> rng = np.random.default_rng(0)
    >>> M = rng.standard_normal((8, 2)) @ rng.standard_normal((2, 30))
    >>> U, s, R = low_rank_split(M, tol=1e-10)
    >>> U.shape, R.shape
    ((8, 2), (2, 30))
    >>> bool(np.allclose(U @ R, M)), bool(np.allclose(U.T @ U, np.eye(2)))
    (True, True)
    """
    M, rank, tol, method, rng = _check_arguments(matrix, rank, tol, method, random_state)
    if method in ("gram", _GRAM_CHECKED, "lq") and M.shape[0] <= M.shape[1]:
        # Wide: the short-side basis already is U, and U^H M is the only product needed.
        U, s, total = _short_side_basis(M, rank, method)
        r = _select_rank(s, tol, rank, total)
        U = np.ascontiguousarray(_resolve_tail(M, U, s, total, r, method))
        return U, s[:r], U.conj().T @ M
    U, s, Vh = _truncated_svd(M, rank, tol, method, rng, n_oversamples=10, n_power_iter=2)
    return U, s, s[:, None] * Vh


# ------------------------------------------------------------------------ argument checks


def _check_arguments(matrix, rank, tol, method, random_state):
    M = _check_matrix(matrix)
    p = min(M.shape)
    if rank is not None:
        rank = check_positive_int(rank, "rank")
        if rank > p:
            raise ValueError(
                f"rank={rank} is too large for a matrix of shape {M.shape}: "
                f"the maximum allowed is min(m, n) = {p}"
            )
    if tol is not None:
        if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real):
            raise TypeError(f"tol must be a real number or None, got {type(tol).__name__}")
        tol = float(tol)
        if not (math.isfinite(tol) and tol >= 0):
            raise ValueError(f"tol must be a finite number >= 0, got {tol}")
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, one of {SVD_METHODS}, got {method!r}")
    if method not in SVD_METHODS:
        raise ValueError(f"method must be one of {SVD_METHODS}, got {method!r}")
    if method == "randomized" and rank is None:
        raise ValueError(
            "method='randomized' requires rank (it sizes the sketch); with tol alone "
            "use method='lq', 'gram' or 'auto'"
        )
    rng = check_random_state(random_state)
    if method == "auto":
        method = _auto_method(M, tol)
    return M, rank, tol, method, rng


def _check_matrix(matrix):
    M = as_numeric_array(matrix, "matrix")
    if M.ndim != 2:
        raise ValueError(f"matrix must be 2-D, got a {M.ndim}-d array of shape {M.shape}")
    if M.size == 0:
        raise ValueError(f"matrix must be non-empty, got shape {M.shape}")
    if M.dtype.kind in "biu":
        M = M.astype(np.float64)
    elif M.dtype == np.float16:
        M = M.astype(np.float32)
    elif M.dtype.char not in "fdFD":
        raise TypeError(
            f"matrix dtype {M.dtype} is not supported (LAPACK works in float32, float64, "
            "complex64 or complex128); convert it explicitly"
        )
    # A finite sum proves every entry finite without an m x n boolean temporary; only
    # an overflowing sum needs the exact check.
    with np.errstate(over="ignore", invalid="ignore"):
        finite_sum = np.isfinite(M.sum())
    if not finite_sum and not np.isfinite(M).all():
        raise ValueError("matrix contains NaN or Inf")
    return M


def _auto_method(M, tol):
    """``"lq"`` for a ``tol`` the Gram matrix cannot resolve, else the checked Gram route."""
    if tol is None:
        return _GRAM_CHECKED
    resolution = math.sqrt(min(M.shape) * np.finfo(M.dtype).eps) * frobenius_norm(M)
    return "lq" if tol < _GRAM_TOL_FACTOR * resolution else _GRAM_CHECKED


def _resolve_tail(M, basis, s, total, r, method):
    """The first ``r`` basis vectors, refined when the Gram route could not resolve them.

    Under ``"auto"`` a rank cap can discard a tail below the Gram matrix's resolution
    (about ``sqrt(p·eps)·‖M‖``); the eigenvectors are then only accurate to that level
    and so is the truncation.  One subspace iteration, ``B ← qr(M M^H B)`` (or with
    ``M^H M`` on a tall matrix), restores full accuracy for two extra products.
    """
    B = basis[:, :r]
    if method != _GRAM_CHECKED or total is None or r >= min(M.shape):
        return B
    if total == 0:
        return B
    # Relative to ‖M‖, so that neither squares nor sums over/underflow.
    kept = float(np.sum((s[:r].astype(np.float64) / total) ** 2))
    tail = math.sqrt(max(1.0 - kept, 0.0))
    if tail >= _GRAM_TOL_FACTOR * math.sqrt(min(M.shape) * np.finfo(M.dtype).eps):
        return B
    fi = np.finfo(M.dtype)
    if not math.sqrt(fi.tiny / fi.eps) <= total <= math.sqrt(fi.max * fi.eps):
        M = M * M.real.dtype.type(_unit_scale(M))  # as _scaled_gram: M M^H B would overflow
    if M.shape[0] <= M.shape[1]:
        return sla.qr(M @ (M.conj().T @ B), mode="economic", check_finite=False)[0]
    return sla.qr(M.conj().T @ (M @ B), mode="economic", check_finite=False)[0]


# ------------------------------------------------------------------------------ backends


def _truncated_svd(M, rank, tol, method, rng, n_oversamples, n_power_iter):
    if method == "full":
        U, s, Vh = _svd(M)
        r = _select_rank(s, tol, rank)
        return U[:, :r], s[:r], Vh[:r]
    if method == "randomized":
        Q = _range_finder(M, rank + n_oversamples, n_power_iter, rng)
        U, s, Vh = _svd_from_basis(Q, Q.conj().T @ M)
        # The sketch does not see the whole spectrum: the tail comes from the total norm.
        total = None if tol is None else frobenius_norm(M)
        r = _select_rank(s, tol, rank, total)
        return U[:, :r], s[:r], Vh[:r]
    basis, s, total = _short_side_basis(M, rank, method)
    B = _resolve_tail(M, basis, s, total, _select_rank(s, tol, rank, total), method)
    if M.shape[0] <= M.shape[1]:  # B spans the leading left subspace: M ~= B (B^H M)
        return _svd_from_basis(B, B.conj().T @ M)
    # B spans the leading right subspace: M^H ~= B (M B)^H; transpose that SVD back.
    Vr, s, Uh = _svd_from_basis(B, (M @ B).conj().T)
    return Uh.conj().T, s, Vr.conj().T


def _short_side_basis(M, rank, method):
    """Singular values and vectors of the short side of ``M``.

    Returns ``(basis, s, total)``: the left singular vectors when ``m <= n``, else the
    right ones; ``s`` descending; ``total`` is ``||M||_F`` when ``s`` must be judged
    against it (Gram route), ``None`` when ``s`` is the complete, accurate spectrum.
    """
    if method in ("gram", _GRAM_CHECKED):
        return _gram_eig(M, min(M.shape) if rank is None else rank)
    wide = M.shape[0] <= M.shape[1]
    # R of M^T (wide, a free transpose: an LQ of M without conjugating a copy) or of M.
    _, R = sla.qr(M.T if wide else M, mode="raw", check_finite=False)
    _, s, Zh = _svd(R)
    # Wide: M = R^T Q^T, so M's left vectors are Zh^T. Tall: M = Q R, right ones Zh^H.
    return (Zh.T if wide else Zh.conj().T), s, None


def _gram_eig(M, k):
    """Leading ``k`` eigenpairs of the short-side Gram matrix, as singular pairs."""
    G, scale = _scaled_gram(M)
    p = G.shape[0]
    total_sq = np.trace(G).real  # before eigh overwrites G
    if _EIGH_SUBSET_RATIO * k <= p:
        lam, vec = sla.eigh(G, lower=False, subset_by_index=(p - k, p - 1), driver="evr",
                            overwrite_a=True, check_finite=False)
    else:
        lam, vec = sla.eigh(G, lower=False, driver="evd", overwrite_a=True,
                            check_finite=False)
    lam, vec = lam[::-1][:k], vec[:, ::-1][:, :k]
    # Rounding leaves the null eigenvalues of a rank-deficient Gram slightly negative.
    s = np.sqrt(np.maximum(lam, 0)) / scale
    return vec, s, np.sqrt(total_sq) / scale


def _scaled_gram(M):
    """Gram matrix ``M M^H`` (wide) or ``M^H M`` (tall) and the factor ``M`` was scaled by.

    Squaring over- or underflows long before ``M`` does (float32 entries beyond ~1e19 or
    below ~1e-19); then the Gram matrix of ``M`` times an exact power of two is returned.
    """
    G = _gram(M)
    fi = np.finfo(G.dtype)
    if fi.tiny / fi.eps <= np.trace(G).real <= fi.max * fi.eps:
        return G, 1.0
    scale = _unit_scale(M)
    return _gram(M * M.real.dtype.type(scale)), scale


def frobenius_norm(M):
    """``||M||_F`` of an array of any shape as a Python float, safe from over- and
    underflow of the squares (scaled by a power of two where they would leave the
    dtype's range, as LAPACK's ``nrm2`` does).

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor.linalg import frobenius_norm
    >>> frobenius_norm(np.full(4, 1e300))
    2e+300
    """
    M = np.asarray(M)
    if not np.issubdtype(M.dtype, np.inexact):
        M = M.astype(np.float64)
    with np.errstate(over="ignore", under="ignore"):
        nrm = float(np.linalg.norm(M))
    fi = np.finfo(M.dtype)
    if math.sqrt(fi.tiny) / fi.eps <= nrm < math.inf:
        return nrm
    scale = _unit_scale(M)
    return float(np.linalg.norm(M * M.real.dtype.type(scale))) / scale


def _unit_scale(M):
    """Power of two (exact to apply) that brings ``max|M|`` into [0.5, 1); 1 for M = 0."""
    amax = np.max(np.abs(M))
    if amax == 0:
        return 1.0
    return math.ldexp(1.0, min(-int(np.frexp(amax)[1]), np.finfo(M.dtype).maxexp - 2))


def _gram(M):
    """One BLAS syrk/herk for the short-side Gram matrix; only its upper triangle is set."""
    wide = M.shape[0] <= M.shape[1]
    herk = get_blas_funcs("herk" if np.iscomplexobj(M) else "syrk", (M,))
    # BLAS reads column-major arrays; for a row-major M hand it the free view M^T, whose
    # Gram matrix on the other side is the conjugate of the one wanted.
    flipped = not M.flags.f_contiguous
    a = np.ascontiguousarray(M).T if flipped else M
    G = herk(1.0, a, trans=2 if wide == flipped else 0)  # trans 0: a a^H, 2: a^H a
    return G.conj() if flipped and np.iscomplexobj(M) else G


def _range_finder(M, size, n_power_iter, rng):
    """Orthonormal basis of the dominant range of ``M`` (Halko, Martinsson, Tropp 2011)."""
    size = min(size, *M.shape)
    real = np.finfo(M.dtype).dtype
    omega = rng.standard_normal((M.shape[1], size), dtype=real)
    if np.iscomplexobj(M):
        omega = omega + 1j * rng.standard_normal((M.shape[1], size), dtype=real)
    Q = _orth(M @ omega)
    # Re-orthonormalise between the products: plain powers of M lose the small directions.
    for _ in range(n_power_iter):
        Q = _orth(M @ _orth(M.conj().T @ Q))
    return Q


def _svd_from_basis(Q, B):
    """SVD of ``Q @ B`` for ``Q`` with orthonormal columns, without forming the product."""
    Qb, Rb = sla.qr(B.conj().T, mode="economic", check_finite=False)
    W, s, Zh = _svd(Rb.conj().T)  # Q B = Q Rb^H Qb^H = (Q W) s (Zh Qb^H)
    return Q @ W, s, Zh @ Qb.conj().T


def _orth(Y):
    return sla.qr(Y, mode="economic", overwrite_a=True, check_finite=False)[0]


def _svd(A):
    try:
        return sla.svd(A, full_matrices=False, check_finite=False)
    except np.linalg.LinAlgError:  # gesdd occasionally fails to converge; gesvd rarely does
        return sla.svd(A, full_matrices=False, check_finite=False, lapack_driver="gesvd")


def _select_rank(s, tol, rank, total=None):
    """Smallest ``r >= 1`` whose discarded Frobenius norm is ``<= tol``, capped by ``rank``.

    ``total`` (``||M||_F``) is given when ``s`` is not the whole spectrum (randomized,
    partial eigensolve) or not accurate below ``sqrt(eps) * s_max`` (Gram route): the
    tail is then ``total^2`` minus what is kept.  Otherwise the small values are summed
    directly, with no cancellation.
    """
    cap = s.size if rank is None else min(rank, s.size)
    if tol is None:
        return cap
    ref = max(float(s[0]), 0.0 if total is None else float(total))
    if ref == 0:  # zero matrix: nothing to keep, but a factorisation needs r >= 1
        return 1
    w = (s.astype(np.float64) / ref) ** 2  # scaled so that squaring cannot overflow
    if total is None:
        tail_sq = np.append(np.cumsum(w[::-1])[::-1][1:], 0.0)
    else:
        tail_sq = (float(total) / ref) ** 2 - np.cumsum(w)
    ok = np.flatnonzero(tail_sq <= min(tol / ref, 1e100) ** 2)  # float ** overflow raises
    return min(int(ok[0]) + 1 if ok.size else s.size, cap)
