"""Slow reference implementations, straight from the definitions (tests only)."""
from math import gcd

import numpy as np


def stp_kron(A, B, side="left"):
    """STP of two 2-D matrices via the Kronecker definition of SPEC §1."""
    n, p = A.shape[1], B.shape[0]
    t = n * p // gcd(n, p)
    dtype = np.result_type(A, B)
    Ia, Ib = np.eye(t // n, dtype=dtype), np.eye(t // p, dtype=dtype)
    if side == "left":
        return np.kron(A, Ia) @ np.kron(B, Ib)
    return np.kron(Ia, A) @ np.kron(Ib, B)


def stp_kron_batched(A, B, side="left"):
    """Reference for stacked inputs: loop over the broadcast batch."""
    batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    A = np.broadcast_to(A, batch + A.shape[-2:])
    B = np.broadcast_to(B, batch + B.shape[-2:])
    first = stp_kron(A[(0,) * len(batch)] if batch else A, B[(0,) * len(batch)] if batch else B, side)
    out = np.empty(batch + first.shape, dtype=first.dtype)
    for idx in np.ndindex(*batch):
        out[idx] = stp_kron(A[idx], B[idx], side)
    return out


def mode_dot_ref(X, U, mode):
    """Classical mode product via tensordot."""
    return np.moveaxis(np.tensordot(U, X, axes=(1, mode)), 0, mode)


def st_mode_dot_ref(X, U, mode, side="left"):
    """Semi-tensor mode product from its definition ``Y_(n) = U ⋉ X_(n)``.

    The trailing mode created when ``I_n`` is not a multiple of ``P`` is the fastest
    column index (left) or the slowest (right) of ``U ⋉ X_(n)``; SPEC §2.
    """
    size, P = X.shape[mode], U.shape[1]
    unfolded = np.moveaxis(X, mode, 0).reshape(size, -1)
    Yn = stp_kron(U, unfolded, side)
    rest = X.shape[:mode] + X.shape[mode + 1:]
    t = size * P // gcd(size, P)
    extra = t // size
    if side == "left":
        Y = Yn.reshape(Yn.shape[0], *rest, extra)
    else:
        Y = np.moveaxis(Yn.reshape(Yn.shape[0], extra, *rest), 1, -1)
    if extra == 1:
        Y = Y[..., 0]
    return np.moveaxis(Y, 0, mode)
