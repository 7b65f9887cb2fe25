"""Slow reference implementations, straight from the definitions (tests only)."""
from math import gcd

import numpy as np


def stp_kron(A, B, side="left"):
    """STP of two 2-D matrices via the Kronecker definition of docs/conventions.md §2."""
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
    column index (left) or the slowest (right) of ``U ⋉ X_(n)``; docs/conventions.md §3.
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


def st_train_elementwise(cores, shape, t, ring=False):
    """docs/conventions.md §4.2–4.3 element-wise formula, one entry at a time (slow; tiny tensors).

    ``X(i) = Σ_r Π_k G_k[q_{k-1}, a_k, r_k]`` with ``r_{k-1} = q_{k-1}·t_k + b_k``,
    ``i_k = a_k·t_k + b_k`` and ``r_0 ≡ r_N`` (a train has ``R_0 = R_N = 1``, ``t_1 = 1``).
    """
    n = len(shape)
    bonds = [cores[-1].shape[2]] + [G.shape[2] for G in cores]
    X = np.zeros(shape, dtype=np.result_type(*cores))
    for i in np.ndindex(*shape):
        a = [i[k] // t[k] for k in range(n)]
        b = [i[k] % t[k] for k in range(n)]
        total = 0
        for r in np.ndindex(*bonds[:n]):  # r_0 .. r_{N-1}; r_N ≡ r_0
            rr = list(r) + [r[0]]
            term = 1
            for k in range(n):
                q, bk = divmod(rr[k], t[k])
                if bk != b[k]:
                    term = 0
                    break
                term = term * cores[k][q, a[k], rr[k + 1]]
            total = total + term
        X[i] = total
    return X


def tt_svd_reference(X, ranks):
    """Textbook TT-SVD with numpy's full SVD (Oseledets 2011, Alg. 1) at fixed ranks."""
    shape = X.shape
    cores, r = [], 1
    C = X.reshape(1, -1)
    for k in range(len(shape) - 1):
        C = C.reshape(r * shape[k], -1)
        U, s, Vh = np.linalg.svd(C, full_matrices=False)
        rk = ranks[k + 1]
        cores.append(U[:, :rk].reshape(r, shape[k], rk))
        C = s[:rk, None] * Vh[:rk]
        r = rk
    cores.append(C.reshape(r, shape[-1], 1))
    out = cores[0].reshape(shape[0], -1)
    for G in cores[1:]:
        out = (out @ G.reshape(G.shape[0], -1)).reshape(-1, G.shape[2])
    return out.reshape(shape)
