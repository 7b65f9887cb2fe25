"""Shapes, ratios and ranks of a factorized layer (pure Python; no torch here).

Everything that decides *which* cores a layer has is computed here, by the same
validators the numpy fits use (``semitensor.decomposition._args``) and checked once more
by building the numpy result object from placeholder arrays, so a layer is never
configured in a way the numpy library would refuse.

Tensorized weight
-----------------
A Linear weight ``W`` (``out × in``) is viewed as the tensor of shape
``(o_1, …, o_p, i_1, …, i_q)`` — a free C-order reshape of ``W`` — and a Conv2d weight
``(out, in/groups, kh, kw)`` as ``(o_1, …, o_p, i_1, …, i_q, kh·kw)``.  The out modes come
first so that the train/ring bond between ``o_p`` and ``i_1`` is the cut that the
factorized forward pass uses (``docs/torch.md``).
"""
from __future__ import annotations

import itertools
import math
import numbers

import numpy as np

from ..decomposition._args import (
    check_ratios, check_ring_ranks, check_train_ranks, check_tucker_ranks, train_bond_limits,
)
from ..results import SemiTensorRing, SemiTensorTrain, SemiTensorTucker

__all__ = ["METHODS", "parse_method", "tensorize_features", "LayerStructure", "build_structure",
           "structure_from_result"]

#: ``method`` → (result kind, semi-tensor?)
METHODS = {
    "tucker": ("tucker", False),
    "tt": ("train", False),
    "tr": ("ring", False),
    "sttu": ("tucker", True),
    "stt": ("train", True),
    "str": ("ring", True),
}
RESULT_CLASSES = {"tucker": SemiTensorTucker, "train": SemiTensorTrain, "ring": SemiTensorRing}
DEFAULT_MAX_MODES = 3


def parse_method(method):
    """Canonical (lower-case) method name and its kind (``tucker``/``train``/``ring``)."""
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, one of {tuple(METHODS)}, got {method!r}")
    name = method.lower()
    if name not in METHODS:
        raise ValueError(f"method must be one of {tuple(METHODS)} (case-insensitive), got {method!r}")
    return name, METHODS[name][0]


def _is_int(x):
    return isinstance(x, (numbers.Integral, np.integer)) and not isinstance(x, (bool, np.bool_))


# ----------------------------------------------------------------------- tensorization


def _divisors(n):
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def _nondecreasing_factorizations(n, k, low):
    """Tuples ``f_1 <= … <= f_k`` with ``prod = n`` and every ``f >= low``."""
    if k == 1:
        if n >= low:
            yield (n,)
        return
    for f in _divisors(n):
        if f < low:
            continue
        if f ** k > n:
            break
        for rest in _nondecreasing_factorizations(n // f, k - 1, f):
            yield (f,) + rest


def tensorize_features(n, order, divisors=None):
    """Most balanced factorisation of a feature count into ``order`` factors.

    Parameters
    ----------
    n : int
        Feature count (``in_features``, ``out_channels``, …).
    order : int
        Number of factors.  With ``order > 1`` every factor is at least 2.
    divisors : sequence of int, optional
        ``divisors[k]`` must divide factor ``k`` (the ST ratio of that mode).

    Returns
    -------
    tuple of int or None
        The factors, as balanced as possible (smallest variance of their logarithms),
        in ascending order where the divisors allow it; ``None`` when no factorisation
        satisfies the constraints.

    Examples
    --------
    >>> from semitensor.torch import tensorize_features
    >>> tensorize_features(1024, 3)
    (8, 8, 16)
    >>> tensorize_features(10, 2, divisors=[1, 2])   # the second factor must be even
    (5, 2)
    >>> tensorize_features(7, 2) is None
    True
    """
    divisors = [1] * order if divisors is None else list(divisors)
    target = math.log(n) / order
    best, best_key = None, None
    for factors in _nondecreasing_factorizations(n, order, 2 if order > 1 else 1):
        for perm in sorted(set(itertools.permutations(factors))):
            if all(f % d == 0 for f, d in zip(perm, divisors)):
                key = sum((math.log(f) - target) ** 2 for f in perm)
                if best_key is None or key < best_key - 1e-12:
                    best, best_key = perm, key
                break
    return best


def _side_factors(n, label, size_name, fixed, order, divisors_for):
    """Factors of one side (``label`` "out" or "in"): given, or automatic."""
    if fixed is not None:
        try:
            factors = tuple(int(f) for f in fixed)
        except TypeError:
            raise TypeError(f"{label}_tensorized_features must be a sequence of ints, got {fixed!r}") from None
        if not factors or any(f < 1 for f in factors) or math.prod(factors) != n:
            raise ValueError(
                f"{label}_tensorized_features={factors} must be positive ints whose product is "
                f"{size_name}={n}"
            )
        return factors
    orders = [order] if order is not None else range(min(DEFAULT_MAX_MODES, max(1, n.bit_length() - 1)), 0, -1)
    for k in orders:
        factors = tensorize_features(n, k, divisors_for(k))
        if factors is not None:
            return factors
    ratios = sorted({d for k in orders for d in divisors_for(k)} - {1})
    raise ValueError(
        f"cannot tensorize {size_name}={n} into "
        f"{'%d factor(s)' % order if order is not None else 'up to %d factors' % DEFAULT_MAX_MODES} "
        f"divisible by the ratio(s) {ratios or [1]}: choose t among the divisors of {n} "
        f"{_divisors(n)}, or give {label}_tensorized_features"
    )


# ------------------------------------------------------------------------- ratios


def _ratio_lists(t, kind, semi, n_out, n_in, kernel):
    """Per-mode ratios for an int ``t`` (None if ``t`` is a list: then it is literal)."""
    if not semi:
        if _is_int(t) and t == 1:
            pass
        elif not _is_int(t) and _is_sequence(t) and all(_is_int(x) and x == 1 for x in t):
            t = 1
        else:
            raise ValueError(
                f"classical methods (tucker, tt, tr) have t = 1, got t={t!r}; use the semi-tensor "
                "methods sttu, stt, str for t > 1"
            )
    if _is_int(t):
        if t < 1:
            raise ValueError(f"t must be an integer >= 1, got {t}")
        out = [t] * n_out
        if kind == "train" and out:
            out[0] = 1  # a train's first bond is R_0 = 1, so t_1 = 1
        return out + [t] * n_in + ([1] if kernel else [])
    return None


def _is_sequence(x):
    try:
        len(x)
        return not isinstance(x, (str, bytes))
    except TypeError:
        return False


class LayerStructure:
    """Everything that fixes a layer's parameter shapes.

    Attributes
    ----------
    method, kind : str
    out_factors, in_factors : tuple of int
    kernel : int or None
        ``kh·kw`` for a convolution (its last tensor mode), else None.
    shape : tuple of int
        The tensorized weight shape (out factors, in factors[, kernel]).
    t : tuple of int
        Per-mode ratios.
    rank : tuple of int
        ST bonds ``R_0..R_N`` (train/ring) or Tucker ranks ``R_1..R_N``.
    array_shapes : list of tuple
        Cores (train/ring) or ``[core, *factors]`` (Tucker).
    """

    def __init__(self, method, kind, out_factors, in_factors, kernel, t, rank, array_shapes):
        self.method, self.kind = method, kind
        self.out_factors, self.in_factors, self.kernel = tuple(out_factors), tuple(in_factors), kernel
        self.shape = self.out_factors + self.in_factors + ((kernel,) if kernel is not None else ())
        self.t, self.rank = tuple(t), tuple(rank)
        self.array_shapes = [tuple(s) for s in array_shapes]
        self.full = False  # built from rank="full"

    @property
    def n_out(self):
        return len(self.out_factors)

    @property
    def n_params(self):
        return int(sum(math.prod(s) for s in self.array_shapes))

    def placeholder_result(self):
        """The numpy result object with zero arrays of these shapes (validates them)."""
        cls = RESULT_CLASSES[self.kind]
        arrays = [np.zeros(s) for s in self.array_shapes]
        return cls(arrays[0], arrays[1:]) if self.kind == "tucker" else cls(arrays)


def _array_shapes(kind, shape, t, rank):
    """Resolved ST rank tuple and array shapes for an int/list ``rank``."""
    n = len(shape)
    if kind == "tucker":
        ranks = check_tucker_ranks(rank, shape, t)
        return tuple(ranks), [tuple(ranks)] + [(I // tn, R // tn) for I, tn, R in zip(shape, t, ranks)]
    if kind == "train":
        bonds = check_train_ranks(rank, shape, t)
        nxt = [t[k + 1] if k + 1 < n else 1 for k in range(n)]
    else:
        bonds = check_ring_ranks(rank, shape, t)
        nxt = [t[(k + 1) % n] for k in range(n)]
    shapes = [(bonds[k], shape[k] // t[k], bonds[k + 1] * nxt[k]) for k in range(n)]
    st_bonds = (shapes[-1][2],) + tuple(s[2] for s in shapes)
    return st_bonds, shapes


def _full_rank(kind, shape, t):
    """Ranks of an exact representation (the weight is reproduced up to rounding)."""
    n = len(shape)
    if kind == "tucker":
        return list(shape)
    if kind == "train":
        return math.lcm(*t) * math.prod(shape)  # an int bound, capped by every unfolding
    # Ring: a closing classical bond of 1 makes the ring a train of the regrouped tensor.
    shape_y = [(shape[k] // t[k]) * t[(k + 1) % n] for k in range(n)]
    limits = train_bond_limits(shape_y)
    return [t[0]] + [limits[k] * t[k] for k in range(1, n)] + [t[0]]


def _count(kind, shape, t, rank):
    """Parameter count and resolved rank tuple, or None if the rank is invalid."""
    try:
        ranks, shapes = _array_shapes(kind, shape, t, rank)
    except ValueError:
        return None
    return sum(math.prod(s) for s in shapes), ranks


def _budget_rank(kind, shape, t, fraction):
    """Ranks using at most ``fraction · prod(shape)`` parameters.

    First the largest uniform int rank within the budget (the smallest valid one if
    none is), then single ranks are raised by their step (the ratio they must be a
    multiple of), cheapest increase first, while the budget allows.
    """
    if not (0 < fraction < math.inf):
        raise ValueError(f"a float rank is a fraction of the dense parameter count and must be > 0, got {fraction}")
    budget = fraction * math.prod(shape)
    n = len(shape)
    step = math.lcm(*(t[1:] if kind == "train" else t))
    best, previous = None, None
    r = step
    while True:
        counted = _count(kind, shape, t, r)
        if counted is None or counted[0] > budget or counted[1] == previous:
            break  # over budget, invalid (ring: (r/t)^2 > size) or capped everywhere
        best, previous = counted[1], counted[1]
        r += step
    if best is None:
        return step
    ranks = list(best)
    if kind == "tucker":
        positions = [([k], t[k]) for k in range(n)]
    elif kind == "train":
        positions = [([k], t[k]) for k in range(1, n)]
    else:  # ring: R_0 and R_N are the same bond
        positions = [([0, n], t[0])] + [([k], t[k]) for k in range(1, n)]
    count = _count(kind, shape, t, ranks)[0]
    while True:
        options = []
        for where, inc in positions:
            trial = list(ranks)
            for k in where:
                trial[k] += inc
            counted = _count(kind, shape, t, trial)
            if counted is not None and count < counted[0] <= budget:
                options.append((counted[0], trial))
        if not options:
            return ranks
        count, ranks = min(options, key=lambda o: o[0])


def _resolve_rank(kind, shape, t, rank):
    if isinstance(rank, str):
        if rank.lower() != "full":
            raise ValueError(f"rank must be an int, a sequence of ints, a float fraction or 'full', got {rank!r}")
        rank = _full_rank(kind, shape, t)
    elif isinstance(rank, (float, np.floating)):
        rank = _budget_rank(kind, shape, t, float(rank))
    elif rank is None:
        raise ValueError("rank is required: an int, a sequence of ints, a float fraction or 'full'")
    return _array_shapes(kind, shape, t, rank)


def build_structure(method, out_features, in_features, rank, t=1, *, kernel=None,
                    out_tensorized_features=None, in_tensorized_features=None,
                    n_tensorized_modes=None):
    """Resolve method, tensorization, ratios and rank into a :class:`LayerStructure`.

    Raises ``TypeError``/``ValueError`` with the numpy validators' messages (the caller
    prefixes the layer's name).
    """
    name, kind = parse_method(method)
    semi = METHODS[name][1]
    if n_tensorized_modes is not None:
        if not _is_int(n_tensorized_modes) or n_tensorized_modes < 1:
            raise ValueError(f"n_tensorized_modes must be an int >= 1 or None, got {n_tensorized_modes!r}")
        n_tensorized_modes = int(n_tensorized_modes)

    literal = None if _is_int(t) else t
    if literal is not None:
        if not _is_sequence(literal) or not all(_is_int(x) for x in literal):
            raise TypeError(f"t must be a positive int or a sequence of ints (one per tensor mode), got {t!r}")
        literal = [int(x) for x in literal]
        if not semi:
            _ratio_lists(literal, kind, semi, 0, 0, False)  # raises unless all ones

    def divisors_for(side):
        def fn(k):
            if literal is not None:
                return [1] * k  # the literal ratios are checked once the shape is known
            ratios = _ratio_lists(t, kind, semi, k, 0, False) if side == "out" else [t] * k
            return [r if semi else 1 for r in ratios]
        return fn

    if literal is not None and (out_tensorized_features is None or in_tensorized_features is None):
        n_modes = len(literal) - (1 if kernel is not None else 0)
        if n_tensorized_modes is None and n_modes % 2 == 0 and n_modes > 0:
            n_tensorized_modes = n_modes // 2
    names = ("out_features", "in_features") if kernel is None else ("out_channels", "in_channels/groups")
    out_f = _side_factors(out_features, "out", names[0], out_tensorized_features, n_tensorized_modes,
                          divisors_for("out"))
    in_f = _side_factors(in_features, "in", names[1], in_tensorized_features, n_tensorized_modes,
                         divisors_for("in"))

    shape = list(out_f) + list(in_f) + ([kernel] if kernel is not None else [])
    if literal is None:
        ratios = _ratio_lists(t, kind, semi, len(out_f), len(in_f), kernel is not None)
    else:
        if len(literal) != len(shape):
            raise ValueError(
                f"t has {len(literal)} ratios but the tensorized weight has {len(shape)} modes "
                f"{tuple(shape)}; give one ratio per mode or a single int"
            )
        ratios = literal if semi else [1] * len(shape)
    ratios = check_ratios(ratios, tuple(shape), kind)
    ranks, shapes = _resolve_rank(kind, tuple(shape), ratios, rank)
    structure = LayerStructure(name, kind, out_f, in_f, kernel, ratios, ranks, shapes)
    structure.full = isinstance(rank, str)  # "full" (validated by _resolve_rank)
    structure.placeholder_result()  # the numpy constructor re-validates the shapes
    return structure


def structure_from_result(result, n_out, kernel=None, method=None):
    """Structure of a fitted numpy result whose first ``n_out`` modes are the out side."""
    kinds = {SemiTensorTucker: "tucker", SemiTensorTrain: "train", SemiTensorRing: "ring"}
    kind = kinds.get(type(result))
    if kind is None:
        raise TypeError(
            "result must be a SemiTensorTucker, SemiTensorTrain or SemiTensorRing, "
            f"got {type(result).__name__}"
        )
    if np.iscomplexobj(np.empty(0, result.dtype)):
        raise TypeError("complex results cannot become real torch layers")
    shape = tuple(result.shape)
    if method is None:
        semi = any(tk != 1 for tk in result.t)
        method = {"tucker": "sttu", "train": "stt", "ring": "str"}[kind] if semi else \
            {"tucker": "tucker", "train": "tt", "ring": "tr"}[kind]
    name, method_kind = parse_method(method)
    if method_kind != kind:
        raise ValueError(f"method={method!r} is a {method_kind} format but the result is a {kind}")
    if not METHODS[name][1] and any(tk != 1 for tk in result.t):
        raise ValueError(f"method={method!r} is classical (t = 1) but the result has t={result.t}")
    n_in_modes = len(shape) - n_out - (1 if kernel is not None else 0)
    if not (_is_int(n_out) and n_out >= 1 and n_in_modes >= 1):
        raise ValueError(
            f"n_out_modes={n_out!r} must leave at least one in mode: the result has "
            f"{len(shape)} modes {shape}" + (" (the last one is the kernel)" if kernel is not None else "")
        )
    if kernel is not None and shape[-1] != kernel:
        raise ValueError(f"the last mode of the result ({shape[-1]}) must be the kernel size kh·kw={kernel}")
    arrays = [result.core, *result.factors] if kind == "tucker" else list(result.cores)
    return LayerStructure(name, kind, shape[:n_out], shape[n_out:n_out + n_in_modes], kernel,
                          result.t, result.rank, [a.shape for a in arrays]), arrays
