"""Argument checks shared by every public function.

Checks live at the boundary of the library: internal helpers trust their inputs.
Each message names the offending argument and what would have been accepted.
"""
from __future__ import annotations

import numbers
import operator

import numpy as np

__all__ = [
    "as_numeric_array",
    "check_mode",
    "check_side",
    "check_positive_int",
    "check_random_state",
]

_NUMERIC_KINDS = "biufc"  # bool, signed/unsigned int, float, complex
SIDES = ("left", "right")


def as_numeric_array(x, name, *, min_ndim=0):
    """Return ``x`` as a numeric ndarray (no copy when it already is one).

    Raises ``TypeError`` for object, string, datetime or other non-numeric data and
    ``ValueError`` when the array has fewer than ``min_ndim`` dimensions.
    """
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # e.g. ragged nested lists
        raise TypeError(f"{name} must be array-like with numeric entries; {exc}") from None
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(
            f"{name} must have a numeric dtype (bool, integer, floating or complex), "
            f"got dtype {arr.dtype}"
        )
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s), got a {arr.ndim}-d array"
        )
    return arr


def check_positive_int(value, name, *, minimum=1):
    """Return ``value`` as a Python int, insisting on an integer ``>= minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = operator.index(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def check_mode(mode, ndim, name="mode"):
    """Return ``mode`` normalised to ``[0, ndim)``; negative values count from the end."""
    if isinstance(mode, (bool, np.bool_)) or not isinstance(mode, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(mode).__name__} {mode!r}")
    mode = operator.index(mode)
    if not -ndim <= mode < ndim:
        raise ValueError(
            f"{name}={mode} is out of range for a tensor of order {ndim}; "
            f"valid modes are 0..{ndim - 1} (or -{ndim}..-1)"
        )
    return mode % ndim


def check_side(side):
    """Return ``side`` if it is ``"left"`` or ``"right"``."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    return side


def check_random_state(random_state):
    """Return a ``numpy.random.Generator`` for ``None``, an int seed or a Generator."""
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        # Legacy state: draw a seed from it so results stay reproducible.
        return np.random.default_rng(random_state.randint(0, 2**63 - 1, dtype=np.int64))
    raise TypeError(
        "random_state must be None, an int, a numpy.random.Generator or RandomState, "
        f"got {type(random_state).__name__}"
    )
