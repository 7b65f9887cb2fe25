"""The (semi-tensor) train and ring families: third-order cores joined by bonds.

Core ``k`` has shape ``(R_k/t_k, I_k/t_k, R_{k+1})`` (0-based, bonds ``R_0..R_N``,
``R_0 = R_N``): the bond ``R_k`` feeds mode ``k`` and must be a multiple of ``t_k``.
Regrouped (:mod:`semitensor.regroup`), the format is the classical chain of
``Y`` with modes ``J_k = (I_k/t_k)·t_{k+1}`` (cyclic; ``t_1 = 1`` makes a train's last
mode plain) and bonds ``R_k/t_k``.  Parameters ``Σ (R_k/t_k)(I_k/t_k) R_{k+1}``.
"""
from __future__ import annotations

import math

from .family import Family, Layout, nearest_multiples

__all__ = ["TrainFamily", "RingFamily", "TRAIN", "RING", "regrouped_shape", "train_bond_limits"]


def regrouped_shape(shape, t):
    """Mode sizes ``J_k = (I_k/t_k)·t_{k+1}`` of the regrouped tensor (cyclic)."""
    n = len(shape)
    return tuple((shape[k] // t[k]) * t[(k + 1) % n] for k in range(n))


def train_bond_limits(shape_y):
    """Largest useful classical bonds of a train of ``shape_y``:
    ``min(∏_{j<k} J_j, ∏_{j>=k} J_j)`` for bond ``k`` (ends 1)."""
    n = len(shape_y)
    return [1] + [min(math.prod(shape_y[:k]), math.prod(shape_y[k:])) for k in range(1, n)] + [1]


class _ChainFamily(Family):
    def n_ranks(self, ndim):
        return ndim + 1

    def classical_rank(self, rank, t):
        """Bonds ``R_k / t_k`` of the classical chain of the regrouped tensor."""
        n = len(t)
        return tuple(R // t[k % n] for k, R in enumerate(rank))

    def st_rank(self, classical, t):
        """Inverse of :meth:`classical_rank`."""
        n = len(t)
        return tuple(r * t[k % n] for k, r in enumerate(classical))

    def array_shapes(self, shape, t, rank):
        n = len(shape)
        return [(rank[k] // t[k], shape[k] // t[k], rank[k + 1]) for k in range(n)]

    numbered_prefix = "core_"

    def _check_multiples(self, ranks, t, what="bond rank"):
        n = len(t)
        for k, R in enumerate(ranks):
            tk = t[k % n]
            if R % tk:
                raise ValueError(
                    f"{what}[{k}]={R} must be a multiple of t[{k % n}]={tk} (the ratio of mode {k % n}); "
                    f"nearest valid values: {nearest_multiples(R, tk)}"
                )

    def _check_int_bound(self, bound, t):
        ratios = self.bond_ratios(t)
        for k, tk in enumerate(ratios):
            if bound % tk:
                k += len(t) - len(ratios)  # a train's bond ratios start at t[1]
                raise ValueError(
                    f"rank={bound} bounds bond {k}, which must be a multiple of t[{k}]={tk} (the ratio "
                    f"of mode {k}); nearest valid values for every bond: "
                    f"{nearest_multiples(bound, math.lcm(*ratios))}"
                )

    def bond_ratios(self, t):
        return t

    def layout(self, cores):
        """Shape, ratios and bonds of a list of cores (``t_k = R_k / G_k.shape[0]``)."""
        if not len(cores):
            raise ValueError("cores must be a non-empty sequence of 3-d arrays")
        for k, G in enumerate(cores):
            if G.ndim != 3 or 0 in G.shape:
                raise ValueError(f"cores[{k}] must be a non-empty 3-d array, got shape {G.shape}")
        t = []
        for k, G in enumerate(cores):
            bond = cores[k - 1].shape[2]  # R_k; for k = 0 the closing bond R_N
            if bond % G.shape[0]:
                raise ValueError(
                    f"cores[{k}].shape[0]={G.shape[0]} must divide the bond R_{k}={bond} "
                    f"(the last dimension of cores[{(k - 1) % len(cores)}])"
                )
            t.append(bond // G.shape[0])
        self._check_ends(cores)
        shape = tuple(G.shape[1] * tk for G, tk in zip(cores, t))
        rank = (cores[-1].shape[2],) + tuple(G.shape[2] for G in cores)
        return Layout(shape, tuple(t), rank)

    def _check_ends(self, cores):
        pass


class TrainFamily(_ChainFamily):
    """Rules of the tensor train and the semi-tensor train (``R_0 = R_N = 1``, ``t_1 = 1``)."""

    name = "train"

    def default_ratios(self, t, ndim):
        return [1] + [t] * (ndim - 1)  # R_0 = 1 feeds mode 0: its ratio is 1

    def _check_ratios(self, ratios):
        if ratios[0] != 1:
            raise ValueError(f"a semi-tensor train has t[0] = 1 (its first bond R_0 = 1), got t[0]={ratios[0]}")

    def bond_ratios(self, t):
        return t[1:] or (1,)

    def _limits(self, shape, t):
        return train_bond_limits(regrouped_shape(shape, t))

    def check_rank(self, ranks, shape, t):
        n = len(shape)
        if ranks[0] != 1 or ranks[-1] != 1:
            raise ValueError(f"a train has end bonds rank[0] = rank[{n}] = 1, got {ranks[0]} and {ranks[-1]}")
        self._check_multiples(ranks, t)
        limits, shape_y = self._limits(shape, t), regrouped_shape(shape, t)
        classical = self.classical_rank(ranks, t)
        for k in range(1, n):
            if classical[k] > limits[k]:
                raise ValueError(
                    f"bond rank[{k}]={ranks[k]} exceeds what the unfolding allows: at most "
                    f"{limits[k] * t[k]} (= {limits[k]}·t[{k}]) for shape {tuple(shape)} and t={tuple(t)}"
                )
            # A bond can carry no more than its neighbour times the mode between them.
            for nb, J, side in ((k - 1, shape_y[k - 1], "left"), (k + 1, shape_y[k], "right")):
                if classical[k] > classical[nb] * J:
                    raise ValueError(
                        f"bond rank[{k}]={ranks[k]} exceeds its {side} neighbour bond times the mode "
                        f"between them: at most {classical[nb] * J * t[k]}"
                    )
        return tuple(ranks)

    def bounded_rank(self, bound, shape, t):
        self._check_int_bound(bound, t)
        n = len(shape)
        limits, shape_y = self._limits(shape, t), regrouped_shape(shape, t)
        out = [1] + [min(bound // t[k], limits[k]) for k in range(1, n)] + [1]
        for k in range(1, n):  # left to right: the left neighbour is final
            out[k] = min(out[k], out[k - 1] * shape_y[k - 1], out[k + 1] * shape_y[k])
        return self.st_rank(out, t), None

    def full_rank(self, shape, t):
        return self.st_rank(self._limits(shape, t), t)

    def rank_steps(self, ndim, t):
        return [([k], t[k]) for k in range(1, ndim)]

    def _check_ends(self, cores):
        if cores[0].shape[0] != 1 or cores[-1].shape[2] != 1:
            raise ValueError(
                "a train has end bonds R_0 = R_N = 1: cores[0].shape[0] and "
                f"cores[-1].shape[2] must be 1, got {cores[0].shape[0]} and {cores[-1].shape[2]}"
            )


class RingFamily(_ChainFamily):
    """Rules of the tensor ring and the semi-tensor ring (``R_0 = R_N``)."""

    name = "ring"

    def default_ratios(self, t, ndim):
        return [t] * ndim

    def check_rank(self, ranks, shape, t):
        n = len(shape)
        if ranks[0] != ranks[-1]:
            raise ValueError(f"a ring closes on itself: rank[0] and rank[{n}] must be equal, "
                             f"got {ranks[0]} and {ranks[-1]}")
        self._check_multiples(ranks, t)
        size = math.prod(shape)
        for k, r in enumerate(self.classical_rank(ranks, t)):
            if r * r > size:
                raise ValueError(
                    f"bond rank[{k}]={ranks[k]} is too large for a tensor of {size} entries: "
                    f"(rank/t)^2 must not exceed it, so at most {math.isqrt(size) * t[k % n]}"
                )
        return tuple(ranks)

    def bounded_rank(self, bound, shape, t):
        """Every bond ``bound``, capped at ``(R/t)² <= size`` and then lowered uniformly
        until the ring has at most as many parameters as the tensor has entries."""
        self._check_int_bound(bound, t)
        n, size = len(shape), math.prod(shape)
        step = math.lcm(*t)

        def ranks_for(b):
            classical = [min(b // t[k % n], math.isqrt(size)) for k in range(n + 1)]
            return self.st_rank(classical, t)

        ranks = ranks_for(bound)
        if self.n_params(shape, t, ranks) <= size:
            return ranks, None
        low, high = step, bound  # largest multiple of step whose ring fits the size
        while high - low > step:
            mid = low + ((high - low) // (2 * step)) * step
            if self.n_params(shape, t, ranks_for(mid)) <= size:
                low = mid
            else:
                high = mid
        capped = ranks_for(low)
        note = (f"rank={bound} would give a ring of {self.n_params(shape, t, ranks)} parameters for "
                f"{size} entries; capped to bonds {capped} ({self.n_params(shape, t, capped)} parameters). "
                "Give a literal list of bonds to go beyond the tensor's size.")
        return capped, note

    def full_rank(self, shape, t):
        # A classical closing bond of 1 makes the ring a train of the regrouped tensor.
        limits = train_bond_limits(regrouped_shape(shape, t))
        return self.st_rank(limits, t)

    def eps_bound(self, shape, t):
        """Every bond at the ``(R/t)² <= size`` cap (an exact ring needs no more)."""
        n, cap = len(shape), math.isqrt(math.prod(shape))
        return self.st_rank([cap] * (n + 1), t)

    def rank_steps(self, ndim, t):
        return [([0, ndim], t[0])] + [([k], t[k]) for k in range(1, ndim)]


TRAIN = TrainFamily()
RING = RingFamily()
