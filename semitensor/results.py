"""Result objects: semi-tensor Tucker, train and ring formats (SPEC §4).

Each object holds its factors exactly as SPEC §3 defines them (``U_n``, not
``U_n ⊗ I``; compact ST cores, not expanded ones) and derives everything else
(``shape``, ``rank``, ``t``) from their shapes, so a result built by hand from cores
is as valid as a fitted one.  With every ratio equal to 1 these are the classical
Tucker, tensor-train and tensor-ring formats.
"""
from __future__ import annotations

import math

import numpy as np

from ._validation import as_numeric_array
from .modes import multi_st_mode_dot
from .regroup import regroup_tensor, st_cores_to_classical, ungroup_tensor

__all__ = ["SemiTensorTucker", "SemiTensorTrain", "SemiTensorRing"]


class _Format:
    """Shared behaviour; subclasses define ``_arrays``, ``to_tensor`` and ``shape``."""

    kind = ""

    @property
    def n_params(self):
        """Number of stored parameters (entries of all cores and factors)."""
        return int(sum(a.size for a in self._arrays()))

    @property
    def compression_ratio(self):
        """``prod(shape) / n_params``."""
        return math.prod(self.shape) / self.n_params

    @property
    def dtype(self):
        return np.result_type(*self._arrays())

    @property
    def errors(self):
        """Relative error after initialisation and after each sweep of the fit."""
        return self._errors

    def relative_error(self, X):
        """``‖X − self.to_tensor()‖_F / ‖X‖_F`` (``‖X − T‖_F`` if ``X`` is zero).

        Computed on the difference itself, not from ``‖X‖² − 2⟨X, T⟩ + ‖T‖²``, which
        cancels catastrophically for small errors.

        Examples
        --------
        >>> import numpy as np
        >>> from semitensor import tensor_train
        >>> X = np.random.default_rng(0).standard_normal((4, 5, 6))
        >>> float(tensor_train(X, rank=[1, 4, 6, 1]).relative_error(X)) < 1e-12
        True
        """
        X = self._check_shape(X)
        ref = np.linalg.norm(X)
        diff = np.linalg.norm(X - self.to_tensor())
        return float(diff / ref) if ref > 0 else float(diff)

    def _check_shape(self, X):
        X = as_numeric_array(X, "X")
        if X.shape != self.shape:
            raise ValueError(f"X has shape {X.shape}, but this {self.kind} has shape {self.shape}")
        return X

    def save(self, path):
        """Save to an ``.npz`` file readable by :func:`semitensor.load`."""
        from .io import save

        save(self, path)

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


class SemiTensorTucker(_Format):
    """Semi-tensor Tucker tensor ``X = G ⋉_1 U_1 ⋉_2 U_2 ⋯ ⋉_N U_N``.

    The effective factor of mode ``n`` is ``U_n ⊗ I_{t_n}``; with all ``t_n = 1`` this is
    the classical Tucker format.

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
    >>> T.shape, T.t
    ((6, 5), (2, 1))
    """

    kind = "tucker"

    def __init__(self, core, factors, errors=None):
        core = as_numeric_array(core, "core", min_ndim=1)
        factors = [as_numeric_array(U, f"factors[{n}]") for n, U in enumerate(factors)]
        if len(factors) != core.ndim:
            raise ValueError(f"need one factor per core mode: core has {core.ndim} modes, got {len(factors)} factors")
        t = []
        for n, U in enumerate(factors):
            if U.ndim != 2 or U.shape[1] == 0 or core.shape[n] % U.shape[1]:
                raise ValueError(
                    f"factors[{n}] must be a matrix whose column count divides core.shape[{n}]="
                    f"{core.shape[n]}; got shape {U.shape}"
                )
            t.append(core.shape[n] // U.shape[1])
        self.core, self.factors, self.t = core, factors, tuple(t)
        self._errors = _check_errors(errors)

    @property
    def shape(self):
        return tuple(U.shape[0] * tn for U, tn in zip(self.factors, self.t))

    @property
    def rank(self):
        return tuple(self.core.shape)

    def _arrays(self):
        return [self.core, *self.factors]

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


class _CoreChain(_Format):
    """Train and ring: a list of third-order ST cores ``(R_{k-1}/t_k, I_k/t_k, R_k)``."""

    def __init__(self, cores, errors=None):
        cores = [as_numeric_array(G, f"cores[{k}]") for k, G in enumerate(cores)]
        if not cores:
            raise ValueError("cores must be a non-empty sequence of 3-d arrays")
        for k, G in enumerate(cores):
            if G.ndim != 3 or 0 in G.shape:
                raise ValueError(f"cores[{k}] must be a non-empty 3-d array, got shape {G.shape}")
        t = []
        for k, G in enumerate(cores):
            bond = cores[k - 1].shape[2]  # R_{k-1}; for k = 0 the closing bond R_N
            if bond % G.shape[0]:
                raise ValueError(
                    f"cores[{k}].shape[0]={G.shape[0]} must divide the bond R_{k}={bond} "
                    f"(the last dimension of cores[{(k - 1) % len(cores)}])"
                )
            t.append(bond // G.shape[0])
        self._validate_ends(cores, t)
        self.cores, self.t = cores, tuple(t)
        self._errors = _check_errors(errors)

    @property
    def shape(self):
        return tuple(G.shape[1] * tk for G, tk in zip(self.cores, self.t))

    @property
    def rank(self):
        """Bonds ``(R_0, R_1, …, R_N)``."""
        return (self.cores[-1].shape[2],) + tuple(G.shape[2] for G in self.cores)

    def _arrays(self):
        return self.cores

    def classical_cores(self):
        """Cores of the classical train/ring of the regrouped tensor (SPEC §3)."""
        return st_cores_to_classical(self.cores, self.t)

    def to_tensor(self):
        """Dense tensor; contracts the (classical) cores, then undoes the regrouping."""
        cores = self.classical_cores()
        shape_y = tuple(G.shape[1] for G in cores)
        Y = np.empty(shape_y, dtype=self.dtype)
        flat = Y.reshape(shape_y[0], -1)
        for i, piece in enumerate(chain_slices(cores)):
            flat[i] = piece
        return ungroup_tensor(Y, self.shape, self.t)

    def relative_error(self, X):
        """``‖X − self.to_tensor()‖_F / ‖X‖_F`` (``‖X − T‖_F`` if ``X`` is zero).

        Computed on the difference itself, not from ``‖X‖² − 2⟨X, T⟩ + ‖T‖²``, which
        cancels catastrophically for small errors, but one slice at a time: the full
        reconstruction is never held (an ST format regroups one copy of ``X``).

        Examples
        --------
        >>> import numpy as np
        >>> from semitensor import tensor_train
        >>> X = np.random.default_rng(0).standard_normal((4, 5, 6))
        >>> float(tensor_train(X, rank=[1, 4, 6, 1]).relative_error(X)) < 1e-12
        True
        """
        X = self._check_shape(X)
        ref = float(np.linalg.norm(X))
        diff = chain_residual_norm(regroup_tensor(X, self.t), self.classical_cores())
        return diff / ref if ref > 0 else diff


def contract_chain(cores):
    """Contract consecutive classical cores into one ``(r_first, ∏ J_k, r_last)`` array.

    Uses only ``reshape``, ``@`` and ``shape``, so it serves NumPy arrays and the torch
    adapter's tensors alike.
    """
    out = cores[0]
    for G in cores[1:]:
        r0, r = out.shape[0], G.shape[0]
        out = (out.reshape(-1, r) @ G.reshape(r, -1)).reshape(r0, -1, G.shape[2])
    return out


def chain_slices(cores):
    """Yield ``T[i_1, …]`` (flattened) for ``i_1 = 0, 1, …`` of the classical train/ring.

    ``T(i) = Σ_r Π_k G_k[r_{k-1}, i_k, r_k]`` with ``r_0 = r_N``.  Each slice costs a
    ``1/J_1`` share of the full contraction, and only about ``R_0·R_{N-1}/J_N`` slices'
    worth of memory is live at a time.
    """
    first, last = cores[0], cores[-1]
    for i in range(first.shape[1]):
        M = first[:, i, :]  # (R_0, R_1)
        for G in cores[1:-1]:
            M = M.reshape(-1, G.shape[0]) @ G.reshape(G.shape[0], -1)
        if len(cores) == 1:
            yield np.trace(M).reshape(1)
            continue
        r0, r_last = first.shape[0], last.shape[0]
        M = M.reshape(r0, -1, r_last)
        piece = M[0] @ last[:, :, 0]
        for a in range(1, r0):  # close the ring: r_N = r_0
            piece += M[a] @ last[:, :, a]
        yield piece.reshape(-1)


def chain_residual_norm(Y, cores):
    """``‖Y − T‖_F`` for the classical train/ring ``T`` of ``cores``, slice by slice."""
    flat = Y.reshape(Y.shape[0], -1)
    total = 0.0
    for i, piece in enumerate(chain_slices(cores)):
        total += float(np.linalg.norm(flat[i] - piece)) ** 2
    return total ** 0.5


class SemiTensorTrain(_CoreChain):
    """Semi-tensor train (STT); the tensor-train format when every ``t_k = 1``.

    ``X(i) = Σ_r G_1[0, i_1, r_1] · Π_{k≥2} G_k[q_{k-1}, a_k, r_k]`` with
    ``r_{k-1} = q_{k-1}·t_k + b_k`` and ``i_k = a_k·t_k + b_k`` (SPEC §3.2).

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

    kind = "train"

    @staticmethod
    def _validate_ends(cores, t):
        if cores[0].shape[0] != 1 or cores[-1].shape[2] != 1:
            raise ValueError(
                "a train has end bonds R_0 = R_N = 1: cores[0].shape[0] and "
                f"cores[-1].shape[2] must be 1, got {cores[0].shape[0]} and {cores[-1].shape[2]}"
            )


class SemiTensorRing(_CoreChain):
    """Semi-tensor ring (STR); the tensor-ring format when every ``t_k = 1``.

    As :class:`SemiTensorTrain` but closed: ``R_0 = R_N`` and the closing bond splits as
    ``r_N = q_0·t_1 + b_1`` (SPEC §3.3).

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

    kind = "ring"

    @staticmethod
    def _validate_ends(cores, t):
        pass  # every bond, the closing one included, was checked for divisibility
