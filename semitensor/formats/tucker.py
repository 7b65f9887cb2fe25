"""The (semi-tensor) Tucker family: core ``(R_1, …, R_N)`` and factors ``U_n``.

``U_n`` has shape ``(I_n/t_n, R_n/t_n)`` (the effective factor is ``U_n ⊗ I_{t_n}``),
so ``t_n`` divides both ``I_n`` and ``R_n``, and ``R_n <= I_n``.  Parameters
``∏ R_n + Σ I_n R_n / t_n²``.  Arrays: ``[core, U_1, …, U_N]``.
"""
from __future__ import annotations

import math

import numpy as np

from .family import Family, Layout, nearest_multiples

__all__ = ["TuckerFamily", "TUCKER"]


class TuckerFamily(Family):
    """Rules of the Tucker and semi-tensor Tucker formats."""

    name = "tucker"

    def n_ranks(self, ndim):
        return ndim

    def default_ratios(self, t, ndim):
        return [t] * ndim

    def check_rank(self, ranks, shape, t):
        for k, (R, size, tk) in enumerate(zip(ranks, shape, t)):
            if R % tk:
                raise ValueError(f"rank[{k}]={R} must be a multiple of t[{k}]={tk}; nearest valid "
                                 f"values: {nearest_multiples(R, tk)}")
            if R > size:
                raise ValueError(f"rank[{k}]={R} exceeds the size {size} of mode {k}; at most {size}")
        return tuple(ranks)

    def bounded_rank(self, bound, shape, t):
        for k, (tk, size) in enumerate(zip(t, shape)):
            if bound % tk and bound < size:
                raise ValueError(
                    f"rank={bound} bounds mode {k}, whose rank must be a multiple of t[{k}]={tk}; "
                    f"nearest valid values for every mode: {nearest_multiples(bound, math.lcm(*t))}"
                )
        return tuple(min(bound, size) for size in shape), None

    def full_rank(self, shape, t):
        return tuple(shape)

    def classical_rank(self, rank, t):
        """Ranks ``R_n / t_n`` of the factors (the classical Tucker of the regrouped view)."""
        return tuple(R // tk for R, tk in zip(rank, t))

    def array_shapes(self, shape, t, rank):
        return [tuple(rank)] + [(I // tk, R // tk) for I, tk, R in zip(shape, t, rank)]

    def rank_steps(self, ndim, t):
        return [([k], t[k]) for k in range(ndim)]

    leading_arrays = ("core",)
    numbered_prefix = "factor_"

    def layout(self, arrays):
        """Shape, ratios and ranks of ``[core, U_1, …, U_N]`` (``t_n = R_n / U_n.shape[1]``)."""
        core, factors = arrays[0], arrays[1:]
        if np.ndim(core) < 1:
            raise ValueError(f"core must have at least 1 dimension, got shape {np.shape(core)}")
        if len(factors) != core.ndim:
            raise ValueError(f"need one factor per core mode: core has {core.ndim} modes, "
                             f"got {len(factors)} factors")
        t = []
        for n, U in enumerate(factors):
            if U.ndim != 2 or U.shape[1] == 0 or core.shape[n] % U.shape[1]:
                raise ValueError(
                    f"factors[{n}] must be a matrix whose column count divides core.shape[{n}]="
                    f"{core.shape[n]}; got shape {U.shape}"
                )
            t.append(core.shape[n] // U.shape[1])
        shape = tuple(U.shape[0] * tn for U, tn in zip(factors, t))
        return Layout(shape, tuple(t), tuple(core.shape))


TUCKER = TuckerFamily()
