"""Result objects: semi-tensor Tucker, train and ring formats.

Each object holds its arrays exactly as ``docs/conventions.md`` defines them (``U_n``,
not ``U_n ⊗ I``; compact ST cores, not expanded ones) and reads ``shape``, ``rank`` and
``t`` off their shapes through the format layer (:mod:`semitensor.formats`), so a result
built by hand is as valid as a fitted one.  With every ratio equal to 1 these are the
classical Tucker, tensor-train and tensor-ring formats.
"""
from __future__ import annotations

import math

import numpy as np

from ._validation import as_numeric_array
from .chain import chain_residual_norm, chain_to_tensor
from .formats import RING, TRAIN, TUCKER, method_for
from .linalg import frobenius_norm
from .modes import multi_st_mode_dot
from .regroup import regroup_tensor, st_cores_to_classical, ungroup_tensor

__all__ = ["SemiTensorTucker", "SemiTensorTrain", "SemiTensorRing", "RESULT_CLASSES", "result_class"]


class _Result:
    """Shared behaviour; a subclass names its ``format`` family and its array layout."""

    format = None  # the family object of semitensor.formats

    def _set_arrays(self, arrays, errors):
        self._layout = self.format.layout(arrays)
        self._arrays = arrays
        self._errors = _check_errors(errors)

    @classmethod
    def from_arrays(cls, arrays, errors=None):
        """Build the result from its arrays in :attr:`arrays` order."""
        raise NotImplementedError

    @property
    def arrays(self):
        """All stored arrays: ``[core, U_1, …, U_N]`` (Tucker) or the cores (train, ring)."""
        return list(self._arrays)

    @property
    def family(self):
        """``"tucker"``, ``"train"`` or ``"ring"``."""
        return self.format.name

    @property
    def method(self):
        """The method name of this format (``"tensor_train"``, ``"semi_tensor_ring"``, …)."""
        return method_for(self.family, any(tk != 1 for tk in self.t)).name

    @property
    def shape(self):
        return self._layout.shape

    @property
    def t(self):
        """Per-mode ratios ``t_k``."""
        return self._layout.t

    @property
    def rank(self):
        """Mode ranks ``(R_1, …, R_N)`` (Tucker) or bonds ``(R_0, …, R_N)`` (train, ring)."""
        return self._layout.rank

    @property
    def n_params(self):
        """Number of stored parameters (entries of all cores and factors)."""
        return int(sum(a.size for a in self._arrays))

    @property
    def compression_ratio(self):
        """``prod(shape) / n_params``."""
        return math.prod(self.shape) / self.n_params

    @property
    def dtype(self):
        return np.result_type(*self._arrays)

    @property
    def errors(self):
        """Relative error after the start and after each sweep of the fit (non-increasing)."""
        return self._errors

    def relative_error(self, X):
        """``‖X − self.to_tensor()‖_F / ‖X‖_F`` (``‖X − T‖_F`` if ``X`` is zero).

        Computed on the difference itself, not from ``‖X‖² − 2⟨X, T⟩ + ‖T‖²``, which
        cancels catastrophically for small errors, and with scaled norms.

        Examples
        --------
        >>> import numpy as np
        >>> from semitensor import tensor_train
        >>> X = np.random.default_rng(0).standard_normal((4, 5, 6))
        >>> float(tensor_train(X, rank=[1, 4, 6, 1]).relative_error(X)) < 1e-12
        True
        """
        X = self._check_shape(X)
        ref = frobenius_norm(X)
        diff = self._residual_norm(X)
        return diff / ref if ref > 0 else diff

    def _residual_norm(self, X):
        return frobenius_norm(X - self.to_tensor())

    def _check_shape(self, X):
        X = as_numeric_array(X, "X")
        if X.shape != self.shape:
            raise ValueError(f"X has shape {X.shape}, but this {self.family} has shape {self.shape}")
        return X

    def __repr__(self):
        return (
            f"{type(self).__name__}(shape={self.shape}, rank={self.rank}, t={self.t}, "
            f"n_params={self.n_params}, compression_ratio={self.compression_ratio:.3g})"
        )


def _check_errors(errors):
    if errors is None:
        return ()
    values = np.asarray(errors, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"errors must be a 1-d sequence of floats, got shape {values.shape}")
    return tuple(float(e) for e in values)


class SemiTensorTucker(_Result):
    """Semi-tensor Tucker tensor ``X = G ⋉_1 U_1 ⋉_2 U_2 ⋯ ⋉_N U_N``.

    The effective factor of mode ``n`` is ``U_n ⊗ I_{t_n}``; with all ``t_n = 1`` this is
    the classical Tucker format.  Unpacks as ``core, factors = result``.

    Parameters
    ----------
    core : array_like
        Core ``G`` of shape ``(R_1, …, R_N)``.
    factors : sequence of array_like
        ``U_n`` of shape ``(I_n/t_n, R_n/t_n)``; ``t_n = R_n / U_n.shape[1]`` must be an
        integer.
    errors : sequence of float, optional
        Error history of the fit that produced it.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import SemiTensorTucker
    >>> T = SemiTensorTucker(np.ones((4, 2)), [np.ones((3, 2)), np.ones((5, 2))])
    >>> T.shape, T.t, T.method
    ((6, 5), (2, 1), 'semi_tensor_tucker')
    """

    format = TUCKER

    def __init__(self, core, factors, errors=None):
        core = as_numeric_array(core, "core", min_ndim=1)
        factors = [as_numeric_array(U, f"factors[{n}]") for n, U in enumerate(factors)]
        self._set_arrays([core, *factors], errors)

    @classmethod
    def from_arrays(cls, arrays, errors=None):
        return cls(arrays[0], arrays[1:], errors)

    @property
    def core(self):
        return self._arrays[0]

    @property
    def factors(self):
        return self._arrays[1:]

    def __iter__(self):
        return iter((self.core, self.factors))

    def to_tensor(self):
        """Dense tensor ``G ⋉_1 U_1 ⋯ ⋉_N U_N`` (no ``U ⊗ I`` is formed).

        Examples
        --------
        >>> import numpy as np
        >>> from semitensor import SemiTensorTucker
        >>> SemiTensorTucker(np.eye(2), [np.ones((3, 1)), np.ones((1, 2))]).to_tensor().shape
        (6, 1)
        """
        return multi_st_mode_dot(self.core, self.factors)


class _CoreChain(_Result):
    """Train and ring: a list of third-order ST cores ``(R_k/t_k, I_k/t_k, R_{k+1})``."""

    def __init__(self, cores, errors=None):
        cores = [as_numeric_array(G, f"cores[{k}]") for k, G in enumerate(cores)]
        self._set_arrays(cores, errors)

    @classmethod
    def from_arrays(cls, arrays, errors=None):
        return cls(arrays, errors)

    @property
    def cores(self):
        return list(self._arrays)

    def classical_cores(self):
        """Cores of the classical train/ring of the regrouped tensor."""
        return st_cores_to_classical(self._arrays, self.t)

    def to_tensor(self):
        """Dense tensor; contracts the (classical) cores, then undoes the regrouping."""
        return ungroup_tensor(chain_to_tensor(self.classical_cores()), self.shape, self.t)

    def _residual_norm(self, X):
        # One slice at a time: the full reconstruction is never held.
        return chain_residual_norm(regroup_tensor(X, self.t), self.classical_cores())


class SemiTensorTrain(_CoreChain):
    """Semi-tensor train (STT); the tensor-train format when every ``t_k = 1``.

    ``X(i) = Σ_r G_1[0, i_1, r_1] · Π_{k≥2} G_k[q_{k-1}, a_k, r_k]`` with
    ``r_{k-1} = q_{k-1}·t_k + b_k`` and ``i_k = a_k·t_k + b_k`` (``docs/conventions.md``).

    Parameters
    ----------
    cores : sequence of array_like
        ``G_k`` of shape ``(R_{k-1}/t_k, I_k/t_k, R_k)`` with ``R_0 = R_N = 1``.  The
        ratios ``t_k = R_{k-1} / G_k.shape[0]`` are read off the shapes.
    errors : sequence of float, optional
        Error history of the fit that produced it.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import SemiTensorTrain
    >>> T = SemiTensorTrain([np.ones((1, 3, 4)), np.ones((2, 2, 1))])
    >>> T.shape, T.rank, T.t
    ((3, 4), (1, 4, 1), (1, 2))
    """

    format = TRAIN


class SemiTensorRing(_CoreChain):
    """Semi-tensor ring (STR); the tensor-ring format when every ``t_k = 1``.

    As :class:`SemiTensorTrain` but closed: ``R_0 = R_N`` and the closing bond splits as
    ``r_N = q_0·t_1 + b_1``.

    Parameters
    ----------
    cores : sequence of array_like
        ``G_k`` of shape ``(R_{k-1}/t_k, I_k/t_k, R_k)``, ``R_0 := R_N``.
    errors : sequence of float, optional
        Error history of the fit that produced it.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import SemiTensorRing
    >>> T = SemiTensorRing([np.ones((1, 3, 2)), np.ones((1, 4, 2))])
    >>> T.shape, T.rank, T.t
    ((6, 8), (2, 2, 2), (2, 2))
    """

    format = RING


RESULT_CLASSES = {cls.format.name: cls for cls in (SemiTensorTucker, SemiTensorTrain, SemiTensorRing)}


def result_class(family):
    """The result class of a family name (``"tucker"``, ``"train"``, ``"ring"``)."""
    try:
        return RESULT_CLASSES[family]
    except KeyError:
        raise ValueError(f"family must be one of {tuple(RESULT_CLASSES)}, got {family!r}") from None
