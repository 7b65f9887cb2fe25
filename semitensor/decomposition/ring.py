"""Semi-tensor ring (STR) and tensor ring (TR) fits: TR-SVD start, then TR-ALS sweeps.

STR(X; R, t) is the classical TR of ``Y = regroup_tensor(X, t)`` with bonds
``R'_k = R_k / t_k`` (cyclic, ``docs/conventions.md``).  The algorithms below therefore exist once,
on plain lists of classical cores of ``Y`` (core ``k`` of shape ``(R'_k, J_k, R'_{k+1})``,
``R'_N = R'_0``); the result converts them with :func:`classical_cores_to_st`.

TR-SVD (Zhao et al. 2016), generalised
    The classical step unfolds ``Y`` as ``J_1 × rest`` at rank ``R'_0·R'_1``, impossible
    when ``R'_0·R'_1 > J_1`` (TensorLy refuses such rings, e.g. rank 8 on ``24⁴``).  Here
    the first unfolding may be a *block* of ``m`` cyclically consecutive modes
    ``s..s+m-1``, of rank at most ``R'_s·R'_{s+m}`` for an exact ring.  Its left factor,
    as ``(R'_s, J_s…J_{s+m-1}, R'_{s+m})``, and the remainder ``U^H Y`` are split into
    cores by TT-SVD steps, and the cores are rotated back.

    Split rule: the ``(s, m)`` whose unfolding can hold its rank are candidates.  One
    with ``R'_s = 1`` or ``R'_{s+m} = 1`` is exact (the ring is a train there) and is
    taken at once; otherwise every candidate of the smallest ``m`` is computed and the
    one with the smallest error kept.  When no unfolding fits (e.g. shape ``(9, 2)``
    with ``R' = 3``) the fit starts from random cores, as with ``init="random"``.

    At fixed ranks TR-SVD is exact only if no TT step has to truncate: for order 2 or
    with a unit split bond.  Otherwise the basis found for ``(r_s, r_{s+m})`` is an
    arbitrary, non-Kronecker mix of the true one, so the TT steps must truncate: on
    exact rings of order >= 3 the start has errors of 15-95 % (TensorLy's
    ``tensor_ring`` alike), and TR-ALS does the fitting.  TR-ALS is local: on exact
    order-3 rings with ``J_k ≈ 2 R'^2`` about one fit in five stalls in a local minimum
    (TensorLy's random-start ALS: one in two); orders 4-5 rarely do.
TR-ALS
    Core ``k`` solves ``min ‖Y_[k] − G_k A^T‖`` for the subchain ``A`` of the other
    cores through the normal equations ``(A^H A) G_k^T = (Y_[k] conj(A))^T``:

    * the Gram matrix is a product of core transfer matrices
      ``E_j = Σ_i conj(G_j(i)) ⊗ G_j(i)`` (``R'^2 × R'^2``, ``O(N R'^6)`` per core), so
      the subchain is never formed for it;
    * the right-hand side is one GEMM of ``Y`` (a reshape, never a copy) with the chain
      of the cores of an outer run of modes sized about ``sqrt(Y.size)``, then two small
      contractions (about ``2 R'^2 Y.size`` flops in all; TensorLy forms the
      ``(∏_{j≠k} J_j) × R'^2`` subchain and multiplies it by itself, ``R'^4 ∏_{j≠k} J_j``);
    * the solve is a Cholesky factorisation; when the Gram matrix is numerically singular
      (bonds larger than the data needs, rank-deficient cores) an eigen-pseudo-inverse cut
      at ``n·eps·λ_max`` gives the minimum-norm solution instead (a ridge would bias
      every solve).  An update that rounding made worse than the current core is
      rejected, so the error never increases (beyond rounding of the measured error).

    The error after a sweep comes from the last solve: ``‖Y − T‖² = ‖Y‖² − 2 Re⟨Y, T⟩
    + ‖T‖²`` with ``⟨Y, T⟩ = ⟨g, rhs⟩`` and ``‖T‖² = ⟨g, gram g⟩``; where that
    difference cancels the sweep engine recomputes it from ``Y − T``.
With ``eps``
    The start is the classical TR-SVD truncated at ``δ = eps·‖Y‖/sqrt(N−1)`` in each of
    its ``N − 1`` steps (so its error is at most ``eps``), unfolding first the mode
    with the largest unfolding; the first rank ``r`` is split into bonds ``a·b >= r``
    (the smallest ``a + b``, zero-padded), and ALS at those bonds only lowers the error.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla

from ..chain import chain_residual_norm, contract_chain
from ..formats import RING
from ..linalg import frobenius_norm, low_rank_split
from ..regroup import classical_cores_to_st, regroup_tensor
from ..results import SemiTensorRing
from ._args import check_eps, check_sweep_options, check_tensor, rescaled, unit_scaled
from .sweeps import measured, relative, run_sweeps
from .train import tt_svd

__all__ = ["semi_tensor_ring", "tensor_ring"]


def semi_tensor_ring(X, rank=None, t=1, *, eps=None, n_iter_max=100, tol=1e-10, init="svd",
                     svd="auto", random_state=None, verbose=False):
    """Fit a semi-tensor ring: TR-SVD or random start, then TR-ALS sweeps.

    Parameters
    ----------
    X : array_like
        Tensor of shape ``(I_1, …, I_N)``; integers are fitted in float64, float32 stays
        float32, complex is supported.  Not modified.
    rank : int, sequence of int, "full" or float, optional
        Bonds in the rank language of ``docs/conventions.md``: a list ``R_0..R_N``
        (``R_0 = R_N``) is exact; an int bounds every bond, capped so that
        ``(R_k/t_k)² <= X.size`` and then lowered until the ring has at most ``X.size``
        parameters (a :class:`~semitensor.formats.RankWarning` says so); ``"full"`` is an
        exact representation (a closing bond ``t_1``); a float in ``(0, 1)`` is a
        parameter budget.  ``t_k | R_k``.  May be omitted when ``eps`` is given.
    t : int or sequence of int, default 1
        Ratios ``t_k | I_k`` (an int applies to every mode).
    eps : float, optional
        Relative error target in ``[0, 1)``: a TR-SVD start truncated to error ``<= eps``
        (module notes), which ALS does not make worse.  With ``rank`` as well, the bonds
        are bounded by it.  Needs ``init="svd"``.
    n_iter_max : int, default 100
        Maximum number of ALS sweeps; 0 returns the initialisation.
    tol : float, default 1e-10
        Stop when a sweep lowers the relative error by at most ``tol`` times its
        previous value (``tol=0``: when a sweep brings no decrease at all), or once the
        error is at rounding level (``100·eps``).
    init : {"svd", "random"}, default "svd"
        Generalised TR-SVD (module notes; the random start when no unfolding can hold
        the ranks) or Gaussian cores scaled so that the ring has the norm of ``X``.
        An order-1 ring (``X(i) = Σ_r G[r, i, r]``) is always fitted exactly.
    svd : {"auto", "gram", "lq", "randomized", "full"}, default "auto"
        Backend of the TR-SVD steps (:mod:`semitensor.linalg`).
    random_state : None, int or numpy.random.Generator, optional
        Seed of the random start and of randomized SVDs.
    verbose : bool, default False
        Print the error (and the bonds, as ``.rank``) after the start and each sweep.

    Returns
    -------
    SemiTensorRing
        With ``errors``: the relative error after the start and after every sweep.

    Raises
    ------
    ValueError
        A ratio not dividing its mode or bond, unequal ring ends, a rank too large, a
        budget too small, an empty or non-finite ``X``, a bad ``eps``, ``init``, ``svd``,
        ``tol`` or ``n_iter_max``.
    TypeError
        Non-numeric ``X``, non-integer ranks, ratios or ``n_iter_max``.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import semi_tensor_ring
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((4, 6, 6))
    >>> fit = semi_tensor_ring(X, rank=4, t=2, n_iter_max=5)
    >>> fit.rank, fit.t, [G.shape for G in fit.cores]
    ((4, 4, 4, 4), (2, 2, 2), [(2, 2, 4), (2, 3, 4), (2, 3, 4)])
    >>> len(fit.errors) <= 6 and fit.errors[-1] <= fit.errors[0]
    True
    >>> bool(semi_tensor_ring(X, t=2, eps=0.3).relative_error(X) <= 0.3)
    True
    """
    X = check_tensor(X)
    t = RING.ratios(t, X.shape)
    eps = check_eps(eps)
    ranks = RING.classical_rank(RING.resolve_rank(rank, X.shape, t, eps=eps), t)
    n_iter_max, tol, rng = check_sweep_options(n_iter_max, tol, svd, random_state, init)
    if eps is not None and init != "svd":
        raise ValueError(f"eps chooses the bonds by truncated SVDs: it needs init='svd', got init={init!r}")

    X, scale = unit_scaled(X)
    Y = np.ascontiguousarray(regroup_tensor(X, t))
    norm = frobenius_norm(Y)
    if eps is None:
        cores = _initial_cores(Y, ranks, norm, init, svd, rng)
    else:
        cores = _truncated_tr_svd(Y, ranks, eps * norm / math.sqrt(max(Y.ndim - 1, 1)), svd, rng)

    def sweep(cores):
        cores, estimate = _tr_als_sweep(Y, cores, norm)
        return cores, _error(Y, cores, norm, estimate)

    cores, errors = run_sweeps(
        sweep, cores, _error(Y, cores, norm, None),
        n_iter_max=n_iter_max if Y.ndim > 1 and norm > 0 else 0, tol=tol, dtype=Y.dtype,
        verbose=verbose, name="semi_tensor_ring" if max(t) > 1 else "tensor_ring",
        rank=lambda cores: RING.st_rank([cores[-1].shape[2]] + [G.shape[2] for G in cores], t),
    )
    return SemiTensorRing(rescaled(classical_cores_to_st(cores, t), scale), errors=errors)


def tensor_ring(X, rank=None, *, eps=None, n_iter_max=100, tol=1e-10, init="svd", svd="auto",
                random_state=None, verbose=False):
    """Fit a tensor ring: :func:`semi_tensor_ring` with ``t = 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import tensor_ring
    >>> fit = tensor_ring(np.random.default_rng(0).standard_normal((5, 6, 7)), rank=[2, 3, 2, 2])
    >>> [G.shape for G in fit.cores]
    [(2, 5, 3), (3, 6, 2), (2, 7, 2)]
    """
    return semi_tensor_ring(X, rank, 1, eps=eps, n_iter_max=n_iter_max, tol=tol, init=init, svd=svd,
                            random_state=random_state, verbose=verbose)


def _error(Y, cores, norm, estimate):
    return measured(estimate, lambda: relative(chain_residual_norm(Y, cores), norm), Y.dtype)


# ----------------------------------------------------------------------------- start


def _initial_cores(Y, ranks, norm, init, svd, rng):
    """Starting cores: TR-SVD at the best-fitting split, or random."""
    n = Y.ndim
    if norm == 0:  # the zero ring is exact; ALS would only see zero Gram matrices
        return [np.zeros((ranks[k], Y.shape[k], ranks[k + 1]), Y.dtype) for k in range(n)]
    if n == 1:  # X(i) = Σ_r G[r, i, r]: Y on the slice r = 0 is exact
        G = np.zeros((ranks[0], Y.shape[0], ranks[0]), Y.dtype)
        G[0, :, 0] = Y
        return [G]
    splits = _candidate_splits(Y.shape, ranks) if init == "svd" else []
    if not splits:
        return _random_cores(Y.shape, ranks, norm, Y.dtype, rng)
    # The split's arbitrary gauge decides how far TR-SVD lands from the ring (and which
    # basin ALS falls into): keep the candidate with the smallest error.
    fits = [_tr_svd(Y, ranks, s, m, svd, rng) for s, m in splits]
    return min(fits, key=lambda cores: chain_residual_norm(Y, cores))


def _truncated_tr_svd(Y, bounds, delta, svd, rng):
    """TR-SVD truncated at ``delta`` per step (``N − 1`` steps), bonds at most ``bounds``.

    The first unfolding is the mode ``s`` whose unfolding is largest; its rank ``r`` is
    split into bonds ``a·b >= r`` with the smallest ``a + b`` (zero-padded: exact).
    """
    n = Y.ndim
    if n == 1:
        return _initial_cores(Y, bounds, frobenius_norm(Y), "svd", svd, rng)
    s = max(range(n), key=lambda k: (min(Y.shape[k], Y.size // Y.shape[k]), -k))
    order = [(s + j) % n for j in range(n)]
    rotated = Y.transpose(order)
    caps = [bounds[k] for k in order] + [bounds[s]]
    M = rotated.reshape(Y.shape[s], -1)
    U, _, R = low_rank_split(M, min(caps[0] * caps[1], *M.shape), tol=delta, method=svd,
                             random_state=rng)
    a, b = _bond_pair(U.shape[1], caps[0], caps[1])
    U = np.pad(U, ((0, 0), (0, a * b - U.shape[1])))
    R = np.pad(R, ((0, a * b - R.shape[0]), (0, 0)))
    head = np.moveaxis(U.reshape(Y.shape[s], a, b), 1, 0)  # (a, J_s, b)
    tail = np.moveaxis(R.reshape(a, b, -1), 0, -1)  # (b, rest.., a)
    cores = [head] + tt_svd(tail, rotated.shape[1:], [b] + caps[2:n] + [a], delta=delta, svd=svd,
                            rng=rng)[0]
    return [np.ascontiguousarray(cores[(k - s) % n]) for k in range(n)]


def _bond_pair(r, cap_a, cap_b):
    """Bonds ``a <= cap_a``, ``b <= cap_b`` with ``a·b >= r``: smallest ``a + b``, then
    the fewest padded columns."""
    pairs = [(a, -(-r // a)) for a in range(1, min(r, cap_a) + 1)]
    return min((p for p in pairs if p[1] <= cap_b), key=lambda p: (p[0] + p[1], p[0] * p[1]))


def _candidate_splits(shape, ranks):
    """First unfoldings ``(s, m)`` (modes ``s..s+m-1``, cyclic) able to hold their rank.

    An exact one (a split bond of 1: the ring is a train there) alone if there is one,
    else all that fit with the smallest ``m``; none when no unfolding fits.
    """
    n, size = len(shape), math.prod(shape)
    fitting = []
    for m in range(1, n):
        for s in range(n):
            left, right = ranks[s], ranks[(s + m) % n]
            block = math.prod(shape[(s + j) % n] for j in range(m))
            if left * right <= min(block, size // block):
                if min(left, right) == 1:
                    return [(s, m)]
                fitting.append((s, m))
    smallest = min((m for _, m in fitting), default=None)
    # With 2m = N, (s, m) and (s + m, m) share one unfolding: keep the first.
    return [(s, m) for s, m in fitting if m == smallest and not (2 * m == n and s >= m)]


def _tr_svd(Y, ranks, s, m, svd, rng):
    """TR-SVD whose first unfolding is the block of modes ``s..s+m-1``."""
    n = Y.ndim
    order = [(s + j) % n for j in range(n)]
    shape = [Y.shape[k] for k in order]
    bonds = [ranks[k] for k in order] + [ranks[s]]
    rotated = Y.transpose(order)
    block = math.prod(shape[:m])
    # The first split is a two-mode TT-SVD of the (block × rest) unfolding.
    (U, R), _ = tt_svd(rotated, [block, rotated.size // block], [1, bonds[0] * bonds[m], 1],
                       svd=svd, rng=rng)
    U, R = U[0], R[:, :, 0]
    # U[(i_s..), (r_s, r_{s+m})] → piece (r_s, i_s.., r_{s+m}); R → (r_{s+m}, rest.., r_s).
    head = np.moveaxis(U.reshape(block, bonds[0], bonds[m]), 1, 0)
    tail = np.moveaxis(R.reshape(bonds[0], bonds[m], -1), 0, -1)
    cores = tt_svd(head, shape[:m], bonds[:m + 1], svd=svd, rng=rng)[0]
    cores += tt_svd(tail, shape[m:], bonds[m:], svd=svd, rng=rng)[0]
    return [np.ascontiguousarray(cores[(k - s) % n]) for k in range(n)]


def _random_cores(shape, ranks, norm, dtype, rng):
    """Gaussian cores, scaled so that the ring they form has norm ``norm``."""
    real = np.finfo(dtype).dtype
    cores = []
    for k, size in enumerate(shape):
        dims = (ranks[k], size, ranks[k + 1])
        G = rng.standard_normal(dims, dtype=real)
        if np.iscomplexobj(np.empty(0, dtype)):
            G = G + 1j * rng.standard_normal(dims, dtype=real)
        cores.append(G.astype(dtype, copy=False))
    current = frobenius_norm(SemiTensorRing(cores).to_tensor())
    scale = (norm / current) ** (1 / len(cores)) if current > 0 else 1.0
    return [G * real.type(scale) for G in cores]


# ----------------------------------------------------------------------------- TR-ALS


def _tr_als_sweep(Y, cores, norm):
    """One TR-ALS sweep ``k = 0..N-1``; returns the cores and the estimated error."""
    n = Y.ndim
    cores = list(cores)
    transfers = [_transfer(G) for G in cores]
    for k in range(n):
        gram = _subchain_gram(transfers, k, cores)
        rhs = _subchain_rhs(Y, cores, k)  # (R'_k, R'_{k+1}, J_k)
        a, b, size = rhs.shape
        old = cores[k].transpose(0, 2, 1).reshape(a * b, size)
        sol = _update(gram, rhs.reshape(a * b, size), old)
        cores[k] = np.ascontiguousarray(sol.reshape(a, b, size).transpose(0, 2, 1))
        transfers[k] = _transfer(cores[k])
    # After the last update, ⟨Y, T⟩ = ⟨sol, rhs⟩ and ‖T‖² = ⟨sol, gram sol⟩ (relative to ‖Y‖²).
    inner = np.vdot(sol, rhs.reshape(a * b, size)).real / norm / norm
    sq = np.vdot(sol, gram @ sol).real / norm / norm
    return cores, math.sqrt(max(1.0 - 2 * inner + sq, 0.0))


def _transfer(G):
    """``E[(p, p'), (q, q')] = Σ_i conj(G[p, i, q]) G[p', i, q']``."""
    r, size, r_next = G.shape
    M = G.transpose(1, 0, 2).reshape(size, r * r_next)
    E = (M.conj().T @ M).reshape(r, r_next, r, r_next)
    return E.transpose(0, 2, 1, 3).reshape(r * r, r_next * r_next)


def _subchain_gram(transfers, k, cores):
    """``A^H A`` of the subchain of all cores but ``k``, indexed ``[(a, b), (a', b')]``."""
    n = len(transfers)
    F = transfers[(k + 1) % n]
    for j in range(2, n):
        F = F @ transfers[(k + j) % n]
    a, b = cores[k].shape[0], cores[k].shape[2]
    # F[(b, b'), (a, a')]: the subchain runs from bond k+1 round to bond k.
    return F.reshape(b, b, a, a).transpose(2, 0, 3, 1).reshape(a * b, a * b)


def _conj(A):
    return A.conj() if np.iscomplexobj(A) else A


def _subchain_rhs(Y, cores, k):
    """``rhs[a, b, i] = Σ_rest Y[i_k = i, rest] conj(S[b, rest, a])`` (S: the subchain).

    ``Y`` is viewed as ``(front, J_k, back)``.  Its larger side is split into an outer
    run of modes, at the end of ``Y``'s memory, and an inner run next to mode ``k``: one
    GEMM on a view of ``Y`` contracts the outer run with its chain of cores (sized about
    ``sqrt(Y.size)``, so neither that chain nor the result is large), then two small
    contractions take the inner run and the other side.
    """
    n, size = Y.ndim, Y.shape[k]
    P, Q = math.prod(Y.shape[:k]), math.prod(Y.shape[k + 1:])
    if k < n - 1 and (k == 0 or Q >= P):
        # outer run: modes m..N-1
        m = _balanced_cut([(j, math.prod(Y.shape[j:])) for j in range(k + 1, n)], Y.size)
        outer = _conj(contract_chain(cores[m:]))  # (x, Q2, c), c = r_0
        x, c = outer.shape[0], outer.shape[2]
        T = Y.reshape(-1, outer.shape[1]) @ outer.transpose(1, 0, 2).reshape(-1, x * c)
        T = T.reshape(P, size, -1, x, c)
        if m > k + 1:  # inner run k+1..m-1: (b, Q1, x)
            T = np.tensordot(T, _conj(contract_chain(cores[k + 1:m])), axes=([2, 3], [1, 2]))
        else:
            T = T[:, :, 0].transpose(0, 1, 3, 2)
        # T[p, i, c, b]; the front side closes the ring through c.
        if k == 0:
            return T[0].transpose(1, 2, 0)
        front = _conj(contract_chain(cores[:k]))  # (c, P, a)
        return np.tensordot(front, T, axes=([0, 1], [2, 0])).transpose(0, 2, 1)
    # outer run: modes 0..m-1
    m = _balanced_cut([(j, math.prod(Y.shape[:j])) for j in range(1, k + 1)], Y.size)
    outer = _conj(contract_chain(cores[:m]))  # (c, P1, x)
    c, x = outer.shape[0], outer.shape[2]
    T = outer.transpose(1, 0, 2).reshape(-1, c * x).T @ Y.reshape(outer.shape[1], -1)
    T = T.reshape(c, x, -1, size, Q)
    if m < k:  # inner run m..k-1: (x, P2, a)
        T = np.tensordot(T, _conj(contract_chain(cores[m:k])), axes=([1, 2], [0, 1]))
    else:
        T = T[:, :, 0].transpose(0, 2, 3, 1)
    # T[c, i, q, a]; the back side closes the ring through c.
    if k == n - 1:
        return T[:, :, 0].transpose(2, 0, 1)
    back = _conj(contract_chain(cores[k + 1:]))  # (b, Q, c)
    return np.tensordot(T, back, axes=([0, 2], [2, 1])).transpose(1, 2, 0)


def _balanced_cut(cuts, total):
    """The ``(cut, outer size)`` pair with the outer size closest to ``sqrt(total)``.

    The outer chain has ``R²·outer`` entries and the GEMM result ``R²·total/outer``;
    their sum is smallest near the square root.
    """
    return min(cuts, key=lambda pair: pair[1] + total / pair[1])[0]


def _update(gram, rhs, old):
    """Minimiser of ``f(g) = Σ_i g_i^H gram g_i − 2 Re g_i^H rhs_i`` (the core's share of
    ``‖Y − T‖²``), or ``old`` if rounding made the new solution worse.

    The comparison uses ``f(new) − f(old) = Re δ^H (gram (new + old) − 2 rhs)`` with
    ``δ = new − old``, which has no ``‖Y‖²``-sized cancellation, so no update can raise
    the error beyond rounding of that difference.
    """
    new = _solve_normal(gram, rhs)
    delta = new - old
    change = np.vdot(delta, gram @ (new + old) - 2 * rhs).real
    return new if change <= 0 else old


def _solve_normal(gram, rhs):
    """``gram⁺ rhs`` for a Hermitian PSD ``gram``: Cholesky, or the minimum-norm solution
    by an eigen-pseudo-inverse cut at ``n·eps·λ_max`` when ``gram`` is numerically
    singular (over-sized bonds, rank-deficient cores)."""
    n = gram.shape[0]
    eps = np.finfo(gram.dtype).eps
    try:
        factor = sla.cho_factor(gram, check_finite=False)
        d = np.abs(np.diag(factor[0]))
        # cond(gram) >= (max d / min d)²; beyond ~1/(n·eps) the factor is noise.
        if d.min() > math.sqrt(n * eps) * d.max():
            return sla.cho_solve(factor, rhs, check_finite=False)
    except np.linalg.LinAlgError:
        pass
    lam, V = sla.eigh(gram, check_finite=False)
    keep = lam > n * eps * max(lam[-1], 0)
    V = V[:, keep]
    return V @ ((V.conj().T @ rhs) / lam[keep, None])
