"""What every format family shares: the rank language and the budget search.

A family (:mod:`~semitensor.formats.tucker`, :mod:`~semitensor.formats.chains`) says
which ranks and ratios are admissible, how far an int rank is capped, what an exact
representation needs and how its arrays are laid out.  On top of those few rules this
module writes, once, what a ``rank`` argument means (``docs/conventions.md``):

* ``int`` — an upper bound, capped per mode/bond to what the data can carry;
* a sequence — exact, validated;
* ``"full"`` — an exact representation;
* ``float`` in ``(0, 1)`` — a parameter budget, a fraction of the tensor's size;
* ``None`` with ``eps`` — the error target alone decides.
"""
from __future__ import annotations

import math
import numbers
import os
import sys
import warnings
from typing import NamedTuple

import numpy as np

from .._validation import check_positive_int

__all__ = ["Family", "Layout", "RankWarning", "nearest_multiples"]


class RankWarning(UserWarning):
    """An int rank was lowered by a cap other than the data's own limits."""


class Layout(NamedTuple):
    """What a format's arrays say about it: the tensor shape, ratios and ranks."""

    shape: tuple
    t: tuple
    rank: tuple


def nearest_multiples(value, step):
    """The multiples of ``step`` on either side of ``value`` (positive ones only)."""
    low = (value // step) * step
    return [v for v in (low, low + step) if v > 0]


def _is_int(x):
    return isinstance(x, (numbers.Integral, np.integer)) and not isinstance(x, (bool, np.bool_))


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _caller_level():
    """``stacklevel`` of the first frame outside semitensor: warnings point at the user's call."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


class Family:
    """Rules of one format family.  Subclasses define the methods marked *rule*."""

    name = ""

    # ------------------------------------------------------------------ rules
    def n_ranks(self, ndim):  # rule
        raise NotImplementedError

    def default_ratios(self, t, ndim):  # rule: what an int t means
        raise NotImplementedError

    def check_rank(self, ranks, shape, t):  # rule: a literal list, validated
        raise NotImplementedError

    def bounded_rank(self, bound, shape, t):  # rule: (ranks, note) for an int bound
        raise NotImplementedError

    def full_rank(self, shape, t):  # rule
        raise NotImplementedError

    def array_shapes(self, shape, t, rank):  # rule
        raise NotImplementedError

    def eps_bound(self, shape, t):
        """Ranks that bound an ``eps`` truncation when no ``rank`` is given."""
        return self.full_rank(shape, t)

    def rank_steps(self, ndim, t):  # rule: ([positions], step) raised together
        raise NotImplementedError

    def layout(self, arrays):  # rule: arrays → Layout, validated
        raise NotImplementedError

    #: npz member names: the fixed leading arrays, then ``numbered_prefix`` 0, 1, …
    leading_arrays = ()
    numbered_prefix = ""

    def array_names(self, n_arrays):
        """Names of ``n_arrays`` arrays in a saved file (:mod:`semitensor.io`)."""
        lead = list(self.leading_arrays)
        return lead + [f"{self.numbered_prefix}{k}" for k in range(n_arrays - len(lead))]

    # ------------------------------------------------------------------ shared
    def ratios(self, t, shape):
        """Per-mode ratios ``t_k`` for an int or a sequence, each dividing its mode."""
        n = len(shape)
        if _is_int(t):
            ratios = self.default_ratios(check_positive_int(t, "t"), n)
        else:
            try:
                ratios = [check_positive_int(tk, f"t[{k}]") for k, tk in enumerate(t)]
            except TypeError as exc:
                if "t[" in str(exc):
                    raise
                raise TypeError(f"t must be a positive int or a sequence of {n} of them, got {t!r}") from None
            if len(ratios) != n:
                raise ValueError(f"t must have one ratio per mode ({n}), got {len(ratios)}")
        for k, (size, tk) in enumerate(zip(shape, ratios)):
            if size % tk:
                raise ValueError(
                    f"t[{k}]={tk} does not divide mode {k} of size {size}; "
                    f"valid ratios for this mode: {_divisors(size)}"
                )
        self._check_ratios(ratios)
        return tuple(ratios)

    def _check_ratios(self, ratios):
        pass

    def n_params(self, shape, t, rank):
        """Number of stored parameters of the format with these ranks."""
        return int(sum(math.prod(s) for s in self.array_shapes(shape, t, rank)))

    def resolve_rank(self, rank, shape, t, *, eps=None):
        """The ranks a ``rank`` argument stands for (``docs/conventions.md``).

        Parameters
        ----------
        rank : int, sequence of int, "full", float in (0, 1) or None
            See the module notes; ``None`` requires ``eps``.
        shape : tuple of int
            Tensor shape.
        t : tuple of int
            Ratios, as returned by :meth:`ratios`.
        eps : float, optional
            With an error target the returned ranks are the bounds of the truncation.

        Returns
        -------
        tuple of int
            Mode ranks (Tucker) or bonds ``R_0..R_N`` (train, ring).
        """
        if rank is None:
            if eps is None:
                raise ValueError("give rank, eps or both: rank=None needs an eps error target")
            return self.eps_bound(shape, t)
        if isinstance(rank, str):
            if rank.lower() != "full":
                raise ValueError(f"rank must be an int, a sequence of ints, a float budget in (0, 1) "
                                 f"or 'full', got {rank!r}")
            return self.full_rank(shape, t)
        if isinstance(rank, (bool, np.bool_)):
            raise TypeError(f"rank must be an int, a sequence of ints, a float budget or 'full', got {rank!r}")
        if _is_int(rank):
            ranks, note = self.bounded_rank(check_positive_int(rank, "rank"), shape, t)
            if note:
                warnings.warn(note, RankWarning, stacklevel=_caller_level())
            return ranks
        if isinstance(rank, (numbers.Real, np.floating)):
            return self.budget_rank(float(rank), shape, t)
        try:
            ranks = [check_positive_int(r, f"rank[{k}]") for k, r in enumerate(rank)]
        except TypeError as exc:
            if "rank[" in str(exc):
                raise
            raise TypeError(
                f"rank must be an int, a sequence of {self.n_ranks(len(shape))} ints, a float budget "
                f"in (0, 1) or 'full', got {rank!r}"
            ) from None
        if len(ranks) != self.n_ranks(len(shape)):
            raise ValueError(
                f"rank must have {self.n_ranks(len(shape))} entries for a {self.name} of order "
                f"{len(shape)}, got {len(ranks)}: {ranks}"
            )
        return self.check_rank(ranks, shape, t)

    def budget_rank(self, budget, shape, t):
        """The largest admissible ranks with ``n_params <= budget · prod(shape)``.

        First the largest uniform int rank within the budget, then single modes/bonds
        are raised by their step (the ratio they must be a multiple of), the cheapest
        increase first, while the budget allows.

        Examples
        --------
        >>> from semitensor.formats import TRAIN
        >>> TRAIN.budget_rank(0.1, (8, 8, 8, 8), (1, 1, 1, 1))
        (1, 4, 4, 6, 1)
        >>> TRAIN.n_params((8, 8, 8, 8), (1, 1, 1, 1), (1, 4, 4, 6, 1)) <= 0.1 * 8 ** 4
        True
        """
        if not (0 < budget < 1):
            raise ValueError(
                "a float rank is a parameter budget, a fraction of the tensor's size in (0, 1), "
                f"got {budget!r}; give an int for a rank bound"
            )
        limit = budget * math.prod(shape)
        steps = self.rank_steps(len(shape), t)
        step = math.lcm(*(s for _, s in steps)) if steps else 1
        best, bound = None, step
        while True:
            ranks = self.bounded_rank(bound, shape, t)[0]
            if self.n_params(shape, t, ranks) > limit or ranks == best:
                break  # over budget, or capped everywhere
            best, bound = ranks, bound + step
        if best is None:
            smallest = self.bounded_rank(step, shape, t)[0]
            need = self.n_params(shape, t, smallest)
            raise ValueError(
                f"budget={budget} allows {limit:.4g} parameters, but the smallest {self.name} "
                f"(rank {smallest}) has {need}: a budget of at least {need / math.prod(shape):.3g}"
            )
        ranks, count = list(best), self.n_params(shape, t, best)
        while True:
            options = []
            for positions, inc in steps:
                trial = list(ranks)
                for k in positions:
                    trial[k] += inc
                try:
                    trial = list(self.check_rank(trial, shape, t))
                except ValueError:
                    continue
                n = self.n_params(shape, t, trial)
                if count < n <= limit:
                    options.append((n, trial))
            if not options:
                return tuple(ranks)
            count, ranks = min(options)
