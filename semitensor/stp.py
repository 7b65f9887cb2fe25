"""The semi-tensor product (STP) and its structural matrices.

For ``A`` of shape ``(m, n)`` and ``B`` of shape ``(p, q)`` with ``t = lcm(n, p)``::

    left STP    A ⋉ B = (A ⊗ I_{t/n}) (B ⊗ I_{t/p})
    right STP   A ⋊ B = (I_{t/n} ⊗ A) (I_{t/p} ⊗ B)

Neither Kronecker factor is ever formed.  With ``g = gcd(n, p)``, ``k1 = t/n = p/g``
and ``k2 = t/p = n/g`` the column index of ``A`` splits as ``(u, α) ∈ [g] × [k2]`` and
the row index of ``B`` as ``(u, α') ∈ [g] × [k1]``; every entry of the product is a sum
over ``u`` only.  So the product costs ``m·q·t`` multiply-adds — a factor ``t/g`` below
the Kronecker definition — and reduces to:

* ``n == p``: ``A @ B``;
* ``p = k·n`` (left) or ``n = k·p`` (right): one matrix product after a free reshape;
* ``n = k·p`` (left) or ``p = k·n`` (right): one batched product after a free reshape;
* general ``lcm``: one matrix product for ``T[i, α, α', c] = Σ_u A[i, u, α] B[u, α', c]``
  followed by a gather (left) or a segmented sum (right) into the output layout.

See ``docs/stp.md`` for the derivation.
"""
from __future__ import annotations

from math import gcd

import numpy as np
import scipy.sparse as sp

from ._validation import SIDES, as_numeric_array, check_positive_int, check_side

__all__ = ["stp", "swap_matrix", "power_reducing_matrix"]


def stp(A, B, *more, side="left"):
    """Semi-tensor product of two or more matrices.

    Computes ``A ⋉ B ⋉ ...`` (``side="left"``) or ``A ⋊ B ⋊ ...`` (``side="right"``)
    as defined in docs/conventions.md §2, without forming any Kronecker product with an identity.

    Parameters
    ----------
    A, B, *more : array_like
        Numeric matrices ``(m, n)``, column vectors ``(k,)`` (read as ``(k, 1)``) or
        stacks of matrices ``(..., m, n)`` whose leading dimensions broadcast as in
        :func:`numpy.matmul`.  Column/row counts must be positive; they need not match.
    side : {"left", "right"}, optional
        Left STP (identity factor on the right of each Kronecker product, the
        convention of the decompositions) or right STP.

    Returns
    -------
    ndarray
        The product, of dtype ``np.result_type`` of the inputs (integers stay exact).
        For ``A`` ``(m, n)`` and ``B`` ``(p, q)`` with ``t = lcm(n, p)`` its shape is
        ``(m·t/n, q·t/p)``.  If the last operand is 1-D and the product has a single
        column, the column axis is dropped, as :func:`numpy.matmul` does.

    Raises
    ------
    TypeError
        If an operand is not numeric (object, string, ...).
    ValueError
        If an operand is 0-d, has zero columns/rows where the ``lcm`` is undefined,
        batch shapes do not broadcast, or ``side`` is unknown.

    Notes
    -----
    The product is associative, so the operands of an n-ary call are multiplied in
    the order that minimises the multiply-add count (matrix-chain dynamic program).
    NaN and Inf propagate as in :func:`numpy.matmul` over the products that actually
    enter each entry: a NaN in ``A[i, j]`` reaches only the outputs whose sums use
    ``A[i, j]``.  (The Kronecker definition would also multiply it by the structural
    zeros of ``I`` and spread NaN further; on finite inputs the two agree.)

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import stp
    >>> A = np.array([[1, 2, 3, 4]])             # 1 × 4
    >>> B = np.array([[1, 0], [0, 1]])           # 2 × 2, t = lcm(4, 2) = 4
    >>> stp(A, B)                                # A (B ⊗ I_2)
    array([[1, 2, 3, 4]])
    >>> x, y = np.array([1, 2]), np.array([0, 1, 0])
    >>> stp(x, y)                                # column vectors: x ⊗ y
    array([0, 1, 0, 0, 2, 0])
    """
    check_side(side)
    names = ["A", "B"] + [f"more[{i}]" for i in range(len(more))]
    arrays = [as_numeric_array(x, name) for x, name in zip((A, B) + more, names)]
    for arr, name in zip(arrays, names):
        if arr.ndim == 0:
            raise ValueError(f"{name} must be a vector or a (stack of) matrices, got a 0-d array")
        if arr.shape[-1] == 0 or (arr.ndim > 1 and arr.shape[-2] == 0):
            # m = 0 or q = 0 would be harmless at the ends of a chain, but inside it a
            # zero row/column count makes lcm(n, p) meaningless: reject uniformly.
            raise ValueError(
                f"{name} has shape {arr.shape}; the semi-tensor product needs positive "
                "row and column counts (the lcm of 0 is undefined)"
            )
    try:
        np.broadcast_shapes(*(x.shape[:-2] for x in arrays))
    except ValueError:
        shapes = ", ".join(f"{name}: {x.shape}" for x, name in zip(arrays, names))
        raise ValueError(
            f"the batch (leading) dimensions must broadcast as in np.matmul; got {shapes}"
        ) from None
    dtype = np.result_type(*arrays)
    matrices = [(x[:, np.newaxis] if x.ndim == 1 else x).astype(dtype, copy=False) for x in arrays]
    result = _chain(matrices, side)
    if arrays[-1].ndim == 1 and result.shape[-1] == 1:
        result = result[..., 0]
    return result


def _product_shape(a, b):
    """Shape ``(rows, cols)`` of ``a ⋉ b`` (same for ⋊) and its multiply-add count."""
    (m, n), (p, q) = a, b
    t = n * p // gcd(n, p)
    return (m * (t // n), q * (t // p)), m * q * t


def _chain(matrices, side):
    """Multiply a chain in the cheapest association order (matrix-chain DP)."""
    if len(matrices) == 2:
        return _stp_pair(matrices[0], matrices[1], side)
    k = len(matrices)
    shape = {(i, i): x.shape[-2:] for i, x in enumerate(matrices)}
    cost = {(i, i): 0 for i in range(k)}
    split = {}
    for length in range(2, k + 1):
        for i in range(k - length + 1):
            j = i + length - 1
            best = None
            for s in range(i, j):
                out_shape, flops = _product_shape(shape[i, s], shape[s + 1, j])
                total = cost[i, s] + cost[s + 1, j] + flops
                if best is None or total < best[0]:
                    best = (total, s, out_shape)
            cost[i, j], split[i, j], shape[i, j] = best

    def evaluate(i, j):
        if i == j:
            return matrices[i]
        s = split[i, j]
        return _stp_pair(evaluate(i, s), evaluate(s + 1, j), side)

    return evaluate(0, k - 1)


def _stp_pair(A, B, side):
    """STP of two (stacks of) matrices of a common dtype; see the module docstring."""
    m, n = A.shape[-2:]
    p, q = B.shape[-2:]
    if n == p:
        return np.matmul(A, B)
    g = gcd(n, p)
    k1, k2 = p // g, n // g  # t/n and t/p: identity sizes attached to A and to B
    bA, bB = A.shape[:-2], B.shape[:-2]
    if side == "left":
        if k2 == 1:  # p = k1·n: (A ⊗ I) B, rows of the result are (i, β)
            out = np.matmul(A, B.reshape(*bB, n, k1 * q))
            return out.reshape(*out.shape[:-2], m * k1, q)
        if k1 == 1:  # n = k2·p: A (B ⊗ I), out[i, c·k2 + γ] = Σ_u A[i, u·k2 + γ] B[u, c]
            if A.ndim == 2 and B.ndim == 2:
                return _left_multiple_2d(A, B, k2)
            out = np.matmul(np.swapaxes(B, -1, -2)[..., np.newaxis, :, :], A.reshape(*bA, m, p, k2))
            return out.reshape(*out.shape[:-3], m, q * k2)
    else:
        if k1 == 1:  # n = k2·p: A (I ⊗ B), out[i, γ·q + c] = Σ_u A[i, γ·p + u] B[u, c]
            out = np.matmul(A.reshape(*bA, m * k2, p), B)
            return out.reshape(*out.shape[:-2], m, k2 * q)
        if k2 == 1:  # p = k1·n: (I ⊗ A) B, out[β·m + i, c] = Σ_u A[i, u] B[β·n + u, c]
            out = np.matmul(A[..., np.newaxis, :, :], B.reshape(*bB, k1, n, q))
            return out.reshape(*out.shape[:-3], k1 * m, q)
    return _stp_general(A, B, side, g, k1, k2)


def _left_multiple_2d(A, B, k):
    """``A (B ⊗ I_k)`` for plain matrices: ``out[i, c, b] = Σ_a A[i, a, b] B[a, c]``.

    The contraction index of ``A`` has stride ``k``.  For small ``k`` one GEMM per
    residue ``b`` (strided operand and store) is cheapest; for larger ``k`` those become
    thin, and row blocks of ``A`` are transposed in cache and multiplied by one GEMM
    each.  Measured against an equal-flop GEMM (1 thread): 1.1-1.4x either way in its
    range, where a single batched matmul costs ~1.5x and the other strategy up to 5x.
    """
    m, n = A.shape
    p, q = B.shape
    out = np.empty((m, q, k), dtype=np.result_type(A, B))
    A3 = A.reshape(m, p, k)
    if k <= 4:
        for b in range(k):
            out[:, :, b] = A3[:, :, b] @ B
        return out.reshape(m, q * k)
    rows = max(1, 512 // k)
    for start in range(0, m, rows):
        block = A3[start:start + rows].transpose(0, 2, 1).reshape(-1, p) @ B
        out[start:start + rows] = block.reshape(-1, k, q).transpose(0, 2, 1)
    return out.reshape(m, q * k)


def _gather_by_row_blocks(A2, B2, flat, m):
    """``out[i] = (A2 @ B2)[rows of i].ravel()[flat]`` computed a few rows at a time.

    One full-size temporary for ``A2 @ B2`` would be allocated and returned to the OS on
    every call (measured: ~1200 page faults, 2x the GEMM's time); blocks of rows reuse
    a small, cache-resident one.
    """
    per_row = A2.shape[0] // m
    out = np.empty((m, flat.size), dtype=np.result_type(A2, B2))
    rows = min(m, 64)
    buffer = np.empty((rows * per_row, B2.shape[1]), dtype=out.dtype)
    for start in range(0, m, rows):
        stop = min(start + rows, m)
        T = np.matmul(A2[start * per_row:stop * per_row], B2, out=buffer[: (stop - start) * per_row])
        np.take(T.reshape(stop - start, -1), flat, axis=-1, out=out[start:stop])
    return out


def _stp_general(A, B, side, g, k1, k2):
    """Neither dimension divides the other.

    With ``t = g·k1·k2`` write the contracted index ``s ∈ [t]``.  Left STP: ``s = w + t'``
    where the output position ``(β, γ)`` fixes ``w = s mod k1·k2`` by the Chinese
    remainder theorem (``gcd(k1, k2) = 1``), hence ``α = w // k1``, ``α' = w // k2``.
    Right STP: ``s = v·g + u`` and block ``v`` of ``[k1·k2]`` feeds output block
    ``(v // k2, v // k1)``, several consecutive ``v`` possibly feeding the same block.
    """
    m, q = A.shape[-2], B.shape[-1]
    if side == "left":
        # A[i, u·k2 + α], B[u·k1 + α', c]
        A3 = np.swapaxes(A.reshape(*A.shape[:-1], g, k2), -1, -2)
        A2 = A3.reshape(*A.shape[:-2], m * k2, g)
        B2 = B.reshape(*B.shape[:-2], g, k1 * q)
        w = np.empty((k1, k2), dtype=np.intp)
        all_w = np.arange(k1 * k2)
        w[all_w % k1, all_w % k2] = all_w
        alpha, alpha_p = w // k1, w // k2  # (β, γ) → (α, α')
        # flat position of T[i, α, α', c] within row i, laid out as out[i, β, c, γ]
        flat = ((alpha * (k1 * q) + alpha_p * q)[:, np.newaxis, :] + np.arange(q)[:, np.newaxis]).ravel()
        if A.ndim == 2 and B.ndim == 2:
            out = _gather_by_row_blocks(A2, B2, flat, m)
        else:
            T = np.matmul(A2, B2)
            out = np.take(T.reshape(*T.shape[:-2], m, -1), flat, axis=-1)
        return out.reshape(*out.shape[:-2], m * k1, q * k2)
    # right: A[i, α·g + u], B[α'·g + u, c]
    B_by_u = B.reshape(*B.shape[:-2], k1, g, q).swapaxes(-3, -2)
    T = np.matmul(A.reshape(*A.shape[:-2], m * k2, g), B_by_u.reshape(*B.shape[:-2], g, k1 * q))
    v = np.arange(k1 * k2)
    T = T.reshape(*T.shape[:-2], m, k2 * k1, q)
    T_by_v = np.take(T, (v % k2) * k1 + v % k1, axis=-2)
    beta, gamma = v // k2, v // k1
    starts = np.flatnonzero(np.r_[True, (np.diff(beta) != 0) | (np.diff(gamma) != 0)])
    sums = np.add.reduceat(T_by_v, starts, axis=-2)  # (..., m, blocks, q)
    out = np.zeros((*T.shape[:-3], k1, m, k2, q), dtype=T.dtype)
    out[..., beta[starts], :, gamma[starts], :] = np.moveaxis(sums, -2, 0)
    return out.reshape(*out.shape[:-4], k1 * m, k2 * q)


def swap_matrix(m, n, *, sparse=False, dtype=np.float64):
    """The swap matrix ``W_[m,n]``: ``W_[m,n] ⋉ x ⋉ y = y ⋉ x`` for ``x ∈ R^m, y ∈ R^n``.

    ``W_[m,n]`` is the ``mn × mn`` permutation with ``W[j·m + i, i·n + j] = 1``; it
    satisfies ``W_[m,n]^T = W_[m,n]^{-1} = W_[n,m]`` and is the commutation matrix that
    maps ``vec`` of an ``m × n`` row-major array to that of its transpose.

    Parameters
    ----------
    m, n : int
        Positive dimensions of the two vectors being swapped.
    sparse : bool, optional
        Return a ``scipy.sparse.csr_array`` instead of a dense ndarray.
    dtype : dtype, optional
        Entry type (default float64).

    Returns
    -------
    ndarray or scipy.sparse.csr_array
        The ``(m·n, m·n)`` swap matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import stp, swap_matrix
    >>> x, y = np.array([1., 2.]), np.array([3., 4., 5.])
    >>> np.array_equal(stp(swap_matrix(2, 3), x, y), stp(y, x))
    True
    """
    m = check_positive_int(m, "m")
    n = check_positive_int(n, "n")
    i, j = np.divmod(np.arange(m * n), n)  # column i·n + j holds x_i y_j
    return _permutation_like(j * m + i, np.arange(m * n), (m * n, m * n), sparse, dtype)


def power_reducing_matrix(k, *, sparse=False, dtype=np.float64):
    """The power-reducing matrix ``M_k``: ``x ⋉ x = M_k ⋉ x`` for logical ``x ∈ Δ_k``.

    Logical vectors are the columns ``δ_k^i`` of ``I_k``.  ``M_k`` is ``k² × k`` with
    column ``i`` equal to ``δ_k^i ⊗ δ_k^i``, i.e. ``M_k[i·k + i, i] = 1``.

    Parameters
    ----------
    k : int
        Positive dimension of the logical vectors.
    sparse : bool, optional
        Return a ``scipy.sparse.csr_array`` instead of a dense ndarray.
    dtype : dtype, optional
        Entry type (default float64).

    Returns
    -------
    ndarray or scipy.sparse.csr_array
        The ``(k², k)`` power-reducing matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from semitensor import stp, power_reducing_matrix
    >>> x = np.eye(3)[:, 1]                     # δ_3^1
    >>> np.array_equal(stp(x, x), stp(power_reducing_matrix(3), x))
    True
    """
    k = check_positive_int(k, "k")
    i = np.arange(k)
    return _permutation_like(i * k + i, i, (k * k, k), sparse, dtype)


def _permutation_like(rows, cols, shape, sparse, dtype):
    """0/1 matrix with ones at ``(rows[i], cols[i])``, dense or CSR."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "biufc":
        raise TypeError(f"dtype must be numeric, got {dtype}")
    if not isinstance(sparse, (bool, np.bool_)):
        raise TypeError(f"sparse must be True or False, got {sparse!r}")
    if sparse:
        return sp.csr_array((np.ones(len(rows), dtype=dtype), (rows, cols)), shape=shape)
    out = np.zeros(shape, dtype=dtype)
    out[rows, cols] = 1
    return out
