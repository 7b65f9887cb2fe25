"""Shapes, ratios and ranks of a factorized layer (pure Python; no torch here).

Everything that decides *which* cores a layer has is computed here by the format layer
the numpy fits use (:mod:`semitensor.formats`: ratios, the rank language, array shapes),
so a layer is never configured in a way the numpy library would refuse.

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

from ..formats import FAMILIES, parse_method
from ..results import RESULT_CLASSES, result_class

__all__ = ["tensorize_features", "LayerStructure", "build_structure", "structure_from_result"]

DEFAULT_MAX_MODES = 3


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


def _ratio_lists(t, method, n_out, n_in, kernel):
    """Per-mode ratios for an int ``t``: the numpy meaning of an int ``t`` on the out and
    in modes (a train keeps ``t_1 = 1``), and 1 on the kernel mode."""
    if not method.semi and not (_is_int(t) and t == 1):
        raise ValueError(
            f"classical methods (tucker, tt, tr) have t = 1, got t={t!r}; use the semi-tensor "
            "methods sttu, stt, str for t > 1"
        )
    if t < 1:
        raise ValueError(f"t must be an integer >= 1, got {t}")
    ratios = FAMILIES[method.family].default_ratios(int(t), n_out + n_in) if n_out + n_in else []
    return list(ratios) + ([1] if kernel else [])


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
    method : str
        The method's short name (``"stt"``, …).
    family : str
        ``"tucker"``, ``"train"`` or ``"ring"``.
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

    def __init__(self, method, family, out_factors, in_factors, kernel, t, rank, array_shapes):
        self.method, self.family = method, family
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
        return result_class(self.family).from_arrays([np.zeros(s) for s in self.array_shapes])


def build_structure(method, out_features, in_features, rank, t=1, *, kernel=None,
                    out_tensorized_features=None, in_tensorized_features=None,
                    n_tensorized_modes=None):
    """Resolve method, tensorization, ratios and rank into a :class:`LayerStructure`.

    Raises ``TypeError``/``ValueError`` with the format layer's messages (the caller
    prefixes the layer's name).
    """
    m = parse_method(method)
    family = FAMILIES[m.family]
    if n_tensorized_modes is not None:
        if not _is_int(n_tensorized_modes) or n_tensorized_modes < 1:
            raise ValueError(f"n_tensorized_modes must be an int >= 1 or None, got {n_tensorized_modes!r}")
        n_tensorized_modes = int(n_tensorized_modes)

    literal = None if _is_int(t) else t
    if literal is not None:
        if not _is_sequence(literal) or not all(_is_int(x) for x in literal):
            raise TypeError(f"t must be a positive int or a sequence of ints (one per tensor mode), got {t!r}")
        literal = [int(x) for x in literal]
        if not m.semi and any(x != 1 for x in literal):
            raise ValueError(f"classical methods (tucker, tt, tr) have t = 1, got t={t!r}; use the "
                             "semi-tensor methods sttu, stt, str for t > 1")

    def divisors_for(side):
        def fn(k):
            if literal is not None:
                return [1] * k  # the literal ratios are checked once the shape is known
            ratios = _ratio_lists(t, m, k, 0, False) if side == "out" else [t] * k
            return [r if m.semi else 1 for r in ratios]
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

    shape = tuple(out_f) + tuple(in_f) + ((kernel,) if kernel is not None else ())
    if literal is None:
        ratios = _ratio_lists(t, m, len(out_f), len(in_f), kernel is not None)
    elif len(literal) != len(shape):
        raise ValueError(
            f"t has {len(literal)} ratios but the tensorized weight has {len(shape)} modes "
            f"{shape}; give one ratio per mode or a single int"
        )
    else:
        ratios = literal
    ratios = family.ratios(ratios, shape)
    if rank is None:
        raise ValueError("rank is required: an int, a sequence of ints, a float budget in (0, 1) or 'full'")
    ranks = family.resolve_rank(rank, shape, ratios)
    structure = LayerStructure(m.short, m.family, out_f, in_f, kernel, ratios, ranks,
                               family.array_shapes(shape, ratios, ranks))
    structure.full = isinstance(rank, str)  # "full" (validated by resolve_rank)
    return structure


def structure_from_result(result, n_out, kernel=None, method=None):
    """Structure of a fitted numpy result whose first ``n_out`` modes are the out side."""
    if not isinstance(result, tuple(RESULT_CLASSES.values())):
        raise TypeError(
            "result must be a SemiTensorTucker, SemiTensorTrain or SemiTensorRing, "
            f"got {type(result).__name__}"
        )
    if np.iscomplexobj(np.empty(0, result.dtype)):
        raise TypeError("complex results cannot become real torch layers")
    shape = tuple(result.shape)
    m = parse_method(result.method if method is None else method)
    if m.family != result.family:
        raise ValueError(f"method={method!r} is a {m.family} format but the result is a {result.family}")
    if not m.semi and any(tk != 1 for tk in result.t):
        raise ValueError(f"method={method!r} is classical (t = 1) but the result has t={result.t}")
    n_in_modes = len(shape) - n_out - (1 if kernel is not None else 0)
    if not (_is_int(n_out) and n_out >= 1 and n_in_modes >= 1):
        raise ValueError(
            f"n_out_modes={n_out!r} must leave at least one in mode: the result has "
            f"{len(shape)} modes {shape}" + (" (the last one is the kernel)" if kernel is not None else "")
        )
    if kernel is not None and shape[-1] != kernel:
        raise ValueError(f"the last mode of the result ({shape[-1]}) must be the kernel size kh·kw={kernel}")
    arrays = result.arrays
    return LayerStructure(m.short, m.family, shape[:n_out], shape[n_out:n_out + n_in_modes], kernel,
                          result.t, result.rank, [a.shape for a in arrays]), arrays
