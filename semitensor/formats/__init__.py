"""The format layer: for each family — Tucker, train, ring — and its ratios ``t``, the
admissible ranks and ratios, the caps, the parameter count, the budget search and the
array layout.  The fits, the result classes, :mod:`semitensor.io` and the adapters ask
this layer; none of them spells a rule of its own.

Public names
------------
TUCKER, TRAIN, RING, FAMILIES
    The three :class:`Family` objects (``FAMILIES[name]``).
Method, METHODS, parse_method, method_for
    The six methods and their long and short names.
Layout, RankWarning
    What arrays say about a format; the warning of a capped ring rank.

Examples
--------
>>> from semitensor.formats import RING, parse_method
>>> shape = (8, 8, 8, 8)
>>> t = RING.ratios(2, shape)
>>> rank = RING.resolve_rank(0.05, shape, t)        # a parameter budget
>>> rank, RING.n_params(shape, t, rank) <= 0.05 * 8 ** 4
((4, 4, 4, 8, 4), True)
>>> parse_method("semi_tensor_ring").family
'ring'
"""
from .chains import RING, TRAIN, RingFamily, TrainFamily, regrouped_shape, train_bond_limits
from .family import Family, Layout, RankWarning
from .methods import METHODS, Method, method_for, parse_method
from .tucker import TUCKER, TuckerFamily

FAMILIES = {f.name: f for f in (TUCKER, TRAIN, RING)}

__all__ = [
    "TUCKER", "TRAIN", "RING", "FAMILIES",
    "Family", "TuckerFamily", "TrainFamily", "RingFamily",
    "Layout", "RankWarning",
    "Method", "METHODS", "parse_method", "method_for",
    "regrouped_shape", "train_bond_limits",
]
