"""Fits of the semi-tensor Tucker, train and ring formats (and their classical cases).

Every fit takes the same rank language (``docs/conventions.md``) and runs its sweeps on
one engine (:mod:`~semitensor.decomposition.sweeps`).  :func:`fit` dispatches by method
name, long (``"semi_tensor_train"``) or short (``"stt"``).
"""
from ..formats import parse_method
from .ring import semi_tensor_ring, tensor_ring
from .train import semi_tensor_train, tensor_train
from .tucker import semi_tensor_tucker, tucker

__all__ = [
    "fit",
    "semi_tensor_tucker", "tucker",
    "semi_tensor_train", "tensor_train",
    "semi_tensor_ring", "tensor_ring",
]

#: family → its fit with a ratio argument (the classical fits are its t = 1 case)
_FITS = {"tucker": semi_tensor_tucker, "train": semi_tensor_train, "ring": semi_tensor_ring}


def fit(X, method, rank=None, t=1, **options):
    """Fit ``X`` with the method named ``method``: one entry point for the six fits.

    Parameters
    ----------
    X : array_like
        The tensor.
    method : str
        ``"tucker"``, ``"semi_tensor_tucker"``, ``"tensor_train"``, ``"semi_tensor_train"``,
        ``"tensor_ring"``, ``"semi_tensor_ring"`` or a short name (``"sttu"``, ``"tt"``,
        ``"stt"``, ``"tr"``, ``"str"``); case-insensitive.
    rank, t
        As for the fit (``docs/conventions.md``); a classical method takes ``t = 1`` only.
    **options
        Keyword arguments of the fit (``eps``, ``n_iter_max``, ``tol``, ``random_state``, …).

    Returns
    -------
    SemiTensorTucker, SemiTensorTrain or SemiTensorRing

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import fit
    >>> X = np.random.default_rng(0).standard_normal((8, 8, 8))
    >>> fit(X, "stt", rank=4, t=2).rank
    (1, 4, 4, 1)
    >>> fit(X, "tucker", eps=0.5).method
    'tucker'
    """
    m = parse_method(method)
    if not m.semi and not _all_ones(t):
        raise ValueError(f"method={m.name!r} is classical (t = 1), got t={t!r}; use "
                         f"{'semi_' + m.name if m.name != 'tucker' else 'semi_tensor_tucker'!r} for t > 1")
    return _FITS[m.family](X, rank, t, **options)


def _all_ones(t):
    try:
        return all(int(x) == 1 for x in t)
    except TypeError:
        return t == 1
