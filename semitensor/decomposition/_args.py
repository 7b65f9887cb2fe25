"""Argument checks shared by the fits: tensors, ratios ``t``, ranks, stopping rules.

The ST ratio and rank arguments are checked here once, in terms of the *regrouped*
classical problem, so each fit receives classical ranks it can use directly.  Every
error names the mode or bond and what would have been valid (SPEC §3.4).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .._validation import as_numeric_array, check_positive_int, check_random_state
from ..linalg import SVD_METHODS

INEXACT = (np.float32, np.float64, np.complex64, np.complex128)


def check_tensor(X, name="X"):
    """Numeric tensor of order >= 1 with no empty mode, as float (ints → float64)."""
    X = as_numeric_array(X, name, min_ndim=1)
    if X.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {X.shape}")
    if X.dtype.type not in INEXACT:
        X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or Inf")
    return X


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def _nearest_multiples(value, step):
    low = (value // step) * step
    return [v for v in (low, low + step) if v > 0]


def check_ratios(t, shape, kind):
    """Per-mode ratios; for a train ``t_1`` is 1 and an int ``t`` applies to modes 2..N."""
    n = len(shape)
    if isinstance(t, (numbers.Integral, np.integer)) and not isinstance(t, bool):
        t = check_positive_int(t, "t")
        ratios = [1] + [t] * (n - 1) if kind == "train" else [t] * n
    else:
        try:
            ratios = [check_positive_int(tk, f"t[{k}]") for k, tk in enumerate(t)]
        except TypeError as exc:
            if "t[" in str(exc):
                raise
            raise TypeError(f"t must be a positive int or a sequence of {n} of them, got {t!r}") from None
        if len(ratios) != n:
            raise ValueError(f"t must have one ratio per mode ({n}), got {len(ratios)}")
        if kind == "train" and ratios[0] != 1:
            raise ValueError(f"a semi-tensor train has t[0] = 1 (its first bond R_0 = 1), got t[0]={ratios[0]}")
    for k, (size, tk) in enumerate(zip(shape, ratios)):
        if size % tk:
            raise ValueError(
                f"t[{k}]={tk} does not divide mode {k} of size {size}; "
                f"valid ratios for this mode: {_divisors(size)}"
            )
    return ratios


def check_eps(eps):
    if eps is None:
        return None
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not (0 <= eps < np.inf):
        raise ValueError(f"eps must be a finite relative error >= 0 (or None), got {eps!r}")
    return float(eps)


def check_tol(tol):
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not (0 <= tol < np.inf):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    return float(tol)


def check_n_iter(n_iter_max):
    return check_positive_int(n_iter_max, "n_iter_max", minimum=0)


INITS = ("svd", "random")


def check_sweep_options(n_iter_max, tol, svd, random_state, init=None):
    """The options every iterative fit shares; returns ``(n_iter_max, tol, rng)``.

    ``init`` is checked against ``INITS`` when the fit has one (Tucker, ring).
    """
    n_iter_max = check_n_iter(n_iter_max)
    tol = check_tol(tol)
    if init is not None:
        check_choice(init, "init", INITS)
    check_choice(svd, "svd", SVD_METHODS)
    return n_iter_max, tol, check_random_state(random_state)


def check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def _rank_list(rank, length, name):
    if isinstance(rank, (numbers.Integral, np.integer)) and not isinstance(rank, bool):
        return None, check_positive_int(rank, name)
    try:
        ranks = [check_positive_int(r, f"{name}[{k}]") for k, r in enumerate(rank)]
    except TypeError as exc:
        if f"{name}[" in str(exc):
            raise
        raise TypeError(f"{name} must be an int or a sequence of {length} ints, got {rank!r}") from None
    if len(ranks) != length:
        raise ValueError(f"{name} must have {length} entries, got {len(ranks)}: {ranks}")
    return ranks, None


def train_bond_limits(shape_y):
    """Largest useful classical TT bond ``k``: ``min(∏_{j<=k} J_j, ∏_{j>k} J_j)``."""
    n = len(shape_y)
    return [1] + [
        min(math.prod(shape_y[: k + 1]), math.prod(shape_y[k + 1:])) for k in range(n - 1)
    ] + [1]


def check_train_ranks(rank, shape, t, *, eps=None):
    """Classical bonds ``R_k / t_{k+1}`` (k = 0..N) of the regrouped train, or ``None``
    entries where ``eps`` alone decides.

    ``rank`` may be an int (an upper bound on every free bond; the bonds next to the
    ends are further limited by their unfoldings, as in every TT-SVD), a list of
    ``N + 1`` bonds with ends 1 (taken literally), or None when ``eps`` is given.
    """
    n = len(shape)
    shape_y = [(shape[k] // t[k]) * (t[k + 1] if k + 1 < n else 1) for k in range(n)]
    limits = train_bond_limits(shape_y)
    if rank is None:
        if eps is None:
            raise ValueError("give rank, eps or both: rank=None needs an eps error target")
        return [1] + [limits[k] for k in range(1, n)] + [1]
    ranks, uniform = _rank_list(rank, n + 1, "rank")
    if ranks is not None and (ranks[0] != 1 or ranks[-1] != 1):
        raise ValueError(f"a train has end bonds rank[0] = rank[{n}] = 1, got {ranks[0]} and {ranks[-1]}")
    out = [1]
    for k in range(1, n):
        tk = t[k]  # t_{k+1} in SPEC's 1-based numbering: the ratio of the next mode
        R = uniform if ranks is None else ranks[k]
        if R % tk:
            raise ValueError(
                f"bond rank[{k}]={R} must be a multiple of t[{k}]={tk} (the ratio of mode {k}); "
                f"nearest valid values: {_nearest_multiples(R, tk)}"
            )
        classical = R // tk
        if classical > limits[k]:
            if ranks is None:
                classical = limits[k]  # uniform bound: the unfolding caps it (documented)
            else:
                raise ValueError(
                    f"bond rank[{k}]={R} exceeds what the unfolding allows: at most "
                    f"{limits[k] * tk} (= {limits[k]}·t[{k}]) for shape {tuple(shape)} and t={tuple(t)}"
                )
        out.append(classical)
    out.append(1)
    # A bond can carry no more than its neighbour times the mode between them
    # (R'_k <= R'_{k-1} J_k and R'_{k-1} <= J_k R'_k): beyond that the TT is redundant.
    for k in range(1, n):
        for nb, J, side in ((k - 1, shape_y[k - 1], "left"), (k + 1, shape_y[k], "right")):
            bound = out[nb] * J
            if out[k] > bound:
                if ranks is not None:
                    raise ValueError(
                        f"bond rank[{k}]={out[k] * t[k]} exceeds its {side} neighbour bond "
                        f"times the mode between them: at most {bound * t[k]}"
                    )
                out[k] = bound
    return out


def check_ring_ranks(rank, shape, t):
    """Classical bonds ``R_k / t_{k+1}`` (k = 0..N, cyclic) of the regrouped ring.

    An int ``rank`` is an upper bound on every bond, capped so that ``(R_k/t)^2`` does
    not exceed the number of entries; a list is taken literally and such a bond raises.
    """
    n = len(shape)
    ranks, uniform = _rank_list(rank, n + 1, "rank")
    if ranks is None:
        ranks = [uniform] * (n + 1)
    if ranks[0] != ranks[-1]:
        raise ValueError(f"a ring closes on itself: rank[0] and rank[{n}] must be equal, got {ranks[0]} and {ranks[-1]}")
    size = math.prod(shape)
    out = []
    for k in range(n + 1):
        tk = t[(k) % n]  # bond k feeds mode k+1 (0-based mode k % n)
        R = ranks[k]
        if R % tk:
            raise ValueError(
                f"bond rank[{k}]={R} must be a multiple of t[{k % n}]={tk} (the ratio of mode {k % n}); "
                f"nearest valid values: {_nearest_multiples(R, tk)}"
            )
        if (R // tk) ** 2 > size and uniform is not None:
            out.append(math.isqrt(size))  # uniform bound: capped like a train's (documented)
            continue
        if (R // tk) ** 2 > size:
            raise ValueError(
                f"bond rank[{k}]={R} is too large for a tensor of {size} entries: "
                f"(rank/t)^2 must not exceed it, so at most {math.isqrt(size) * tk}"
            )
        out.append(R // tk)
    return out


def check_tucker_ranks(rank, shape, t):
    """Per-mode ranks ``R_n`` with ``t_n | R_n`` and ``R_n <= I_n``."""
    n = len(shape)
    ranks, uniform = _rank_list(rank, n, "rank")
    out = []
    for k in range(n):
        if ranks is None:
            R = min(uniform, shape[k])  # uniform bound, capped by the mode size (documented)
        else:
            R = ranks[k]
        if R % t[k]:
            raise ValueError(
                f"rank[{k}]={R} must be a multiple of t[{k}]={t[k]}; nearest valid values: "
                f"{_nearest_multiples(R, t[k])}"
            )
        if R > shape[k]:
            raise ValueError(f"rank[{k}]={R} exceeds the size {shape[k]} of mode {k}; at most {shape[k]}")
        out.append(R)
    return out
