"""The six method names and the format family each belongs to — written once.

Every place that names a method (the fits, the PyTorch adapter, the command line) reads
this table, so the long names (``"semi_tensor_train"``) and the short ones (``"stt"``)
are accepted alike, case-insensitively.
"""
from __future__ import annotations

from typing import NamedTuple

__all__ = ["Method", "METHODS", "parse_method", "method_for"]


class Method(NamedTuple):
    """A decomposition method: its fit's name, its short name, its family, ST or not."""

    name: str
    short: str
    family: str
    semi: bool


METHODS = (
    Method("tucker", "tucker", "tucker", False),
    Method("semi_tensor_tucker", "sttu", "tucker", True),
    Method("tensor_train", "tt", "train", False),
    Method("semi_tensor_train", "stt", "train", True),
    Method("tensor_ring", "tr", "ring", False),
    Method("semi_tensor_ring", "str", "ring", True),
)

_BY_NAME = {key: m for m in METHODS for key in (m.name, m.short)}


def parse_method(method):
    """The :class:`Method` named by ``method`` (long or short name, any case).

    Examples
    --------
    >>> from semitensor.formats import parse_method
    >>> parse_method("STT")
    Method(name='semi_tensor_train', short='stt', family='train', semi=True)
    >>> parse_method("tensor_ring").short
    'tr'
    """
    if isinstance(method, Method):
        return method
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, one of {_choices()}, got {method!r}")
    found = _BY_NAME.get(method.lower())
    if found is None:
        raise ValueError(f"method must be one of {_choices()} (case-insensitive), got {method!r}")
    return found


def method_for(family, semi):
    """The method of ``family`` (``"tucker"``, ``"train"``, ``"ring"``), ST or classical."""
    for m in METHODS:
        if m.family == family and m.semi == bool(semi):
            return m
    raise ValueError(f"family must be one of ('tucker', 'train', 'ring'), got {family!r}")


def _choices():
    return tuple(key for m in METHODS for key in dict.fromkeys((m.name, m.short)))
