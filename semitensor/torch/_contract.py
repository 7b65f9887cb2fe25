"""Torch contractions of the semitensor formats (the numpy conventions, in torch ops).

The arrays are exactly those of the numpy result classes (``semitensor.results``,
``docs/conventions.md``):
train/ring cores ``G_k`` of shape ``(R_{k-1}/t_k, I_k/t_k, R_k)``, Tucker core
``(R_1, …, R_N)`` and factors ``U_n`` of shape ``(I_n/t_n, R_n/t_n)``.  Every function is
a sequence of reshapes, permutations and matrix products: no ``U ⊗ I``, no Kronecker
product, no expanded (zero-padded) core is ever formed.

Reconstruction mirrors the numpy ``to_tensor`` methods:

* train/ring (:func:`chain_to_tensor`): ST cores → classical cores of the regrouped tensor
  ``Y`` (:func:`semitensor.regroup.st_cores_to_classical`, which serves torch tensors too),
  contraction of the (closed) chain, then :func:`semitensor.regroup.ungroup_tensor`;
* Tucker (:func:`tucker_to_tensor`): the core viewed as ``(R_1/t_1, t_1, …)`` and each
  slow index ``ρ_n`` contracted with ``U_n`` (the twin of ``multi_st_mode_dot``).

The factorized products (:func:`chain_matmul`, :func:`tucker_matmul`) compute
``x ↦ x Wᵀ`` for the weight ``W`` whose tensor has the first ``n_out`` modes on the out
side, without forming ``W``; see their docstrings and ``docs/torch.md`` for the cost.
"""
from __future__ import annotations

import math

import torch

from ..chain import contract_chain
from ..regroup import st_cores_to_classical, ungroup_tensor

__all__ = [
    "chain_to_tensor",
    "tucker_to_tensor",
    "chain_matmul",
    "tucker_matmul",
    "chain_conv2d",
    "tucker_conv2d",
]


def chain_to_tensor(cores, t):
    """Dense tensor of an ST train/ring (``SemiTensorTrain/Ring.to_tensor`` in torch).

    The closed chain ``Σ_r Π_k G'_k[r_{k-1}, :, r_k]`` is cut in two halves, each
    contracted core by core; the halves are joined by one matrix product over both
    cut bonds (``R'_m`` and the closing ``R'_0``).
    """
    shape = tuple(G.shape[1] * tk for G, tk in zip(cores, t))
    C = st_cores_to_classical(cores, t)
    n = len(C)
    if n == 1:
        Y = torch.diagonal(C[0], dim1=0, dim2=2).sum(-1)  # Σ_r G[r, i, r]
    else:
        m = n // 2
        L, R = contract_chain(C[:m]), contract_chain(C[m:])  # (a, P, b), (b, Q, a)
        a, P, b = L.shape
        Y = L.permute(1, 2, 0).reshape(P, b * a) @ R.permute(0, 2, 1).reshape(b * a, -1)
    return ungroup_tensor(Y, shape, t)


def _mode_mul(T, M, axis):
    """``T ×_axis M``: ``Σ_j M[i, j] T[…, j, …]`` at ``axis`` (new size ``M.shape[0]``).

    ``T`` is viewed as ``(pre, J, post)`` and multiplied without permuting it.
    """
    shape = list(T.shape)
    pre, post = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
    if post == 1:
        out = T.reshape(pre, shape[axis]) @ M.T
    elif pre == 1:
        out = M @ T.reshape(shape[axis], post)
    else:
        out = torch.matmul(M, T.reshape(pre, shape[axis], post))
    shape[axis] = M.shape[0]
    return out.reshape(shape)


def tucker_to_tensor(core, factors):
    """Dense tensor ``G ⋉_1 U_1 ⋯ ⋉_N U_N`` (``SemiTensorTucker.to_tensor`` in torch).

    With ``r_n = ρ_n·t_n + β_n`` and ``i_n = a_n·t_n + b_n`` the effective factor
    ``U_n ⊗ I_{t_n}`` maps ``(ρ_n, β_n)`` to ``(a_n, β_n)``: the core is viewed as
    ``(R_1/t_1, t_1, …)`` and each ``ρ_n`` axis is contracted with ``U_n``.  Modes that
    grow least go first (the intermediate stays small).
    """
    t = [R // U.shape[1] for R, U in zip(core.shape, factors)]
    split = [d for U, tn in zip(factors, t) for d in (U.shape[1], tn)]
    T = core.reshape(split)
    order = sorted(range(len(factors)), key=lambda n: factors[n].shape[0] / factors[n].shape[1])
    for n in order:
        T = _mode_mul(T, factors[n], 2 * n)
    return T.reshape([U.shape[0] * tn for U, tn in zip(factors, t)])


def chain_matmul(x, cores, t, n_out):
    """``x Wᵀ`` for an ST train/ring weight, contracted through two half chains.

    Parameters
    ----------
    x : Tensor
        ``(B, in)`` with ``in = ∏`` of the modes ``n_out..N-1``.
    cores : sequence of Tensor
        ST cores; modes ``0..n_out-1`` are the out side.
    t : sequence of int
        Ratios.
    n_out : int
        Number of out modes.

    Notes
    -----
    With the classical cores ``G'_k`` of the regrouped tensor, the out half
    ``P = G'_1 ⋯ G'_p`` has indices ``(q_0, a_1, b_2, …, a_p, b_{p+1}, q_p)`` and the in half
    ``Q = G'_{p+1} ⋯ G'_N`` has ``(q_p, a_{p+1}, b_{p+2}, …, a_N, b_1, q_0)``.  Then

    * ``z[B, b_{p+1}, q_p, b_1, q_0] = Σ x[B, a_{p+1}, b_{p+1}, …] Q[q_p, a_{p+1}, …, b_1, q_0]``
      (one GEMM: ``B·in·R'_p·R_0`` flops),
    * ``y[B, a_1, b_1, …] = Σ z[…] P[q_0, a_1, …, b_{p+1}, q_p]`` (a GEMM batched over
      ``b_1``: ``B·out·R_p·R'_0`` flops),

    plus ``O((in + out)·r²)`` to form ``P`` and ``Q``.  For a train ``q_0 = b_1 = 1`` and
    this is ``B·(in·R_p/t + out·R_p)`` — the dense layer costs ``B·in·out``.
    """
    n = len(cores)
    C = st_cores_to_classical(cores, t)
    P, Q = contract_chain(C[:n_out]), contract_chain(C[n_out:])
    A = [G.shape[1] for G in cores]
    # sublist indices: batch 0, q_0 1, q_p 2, a_k 3+2k, b_k 4+2k
    a = [3 + 2 * k for k in range(n)]
    b = [4 + 2 * k for k in range(n)]
    nxt = [(k + 1) % n for k in range(n)]
    P_dims = [P.shape[0]] + [d for k in range(n_out) for d in (A[k], t[nxt[k]])] + [P.shape[2]]
    P_sub = [1] + [s for k in range(n_out) for s in (a[k], b[nxt[k]])] + [2]
    Q_dims = [Q.shape[0]] + [d for k in range(n_out, n) for d in (A[k], t[nxt[k]])] + [Q.shape[2]]
    Q_sub = [2] + [s for k in range(n_out, n) for s in (a[k], b[nxt[k]])] + [1]
    x_dims = [x.shape[0]] + [d for k in range(n_out, n) for d in (A[k], t[k])]
    x_sub = [0] + [s for k in range(n_out, n) for s in (a[k], b[k])]
    z_sub = [0, b[n_out], 2, b[0], 1]
    z = torch.einsum(x.reshape(x_dims), x_sub, Q.reshape(Q_dims), Q_sub, z_sub)
    y_sub = [0] + [s for k in range(n_out) for s in (a[k], b[k])]
    y = torch.einsum(z, z_sub, P.reshape(P_dims), P_sub, y_sub)
    return y.reshape(x.shape[0], math.prod(y.shape[1:]))  # explicit: B may be 0


def tucker_matmul(x, core, factors, n_out):
    """``x Wᵀ`` for an ST Tucker weight: in factors, core, out factors.

    ``x`` viewed as ``(B, a_{p+1}, b_{p+1}, …)``; each ``a_k`` is contracted with ``U_k``
    (giving ``(ρ_k, b_k)``, i.e. the core index ``r_k``), the result with the core
    unfolded as ``(∏ R_out) × (∏ R_in)``, and each out index ``ρ_k`` with ``U_kᵀ``.
    Cost ``B·(Σ_k in-side mode products + ∏R_in·∏R_out + Σ_k out-side mode products)``.
    """
    t = [R // U.shape[1] for R, U in zip(core.shape, factors)]
    B = x.shape[0]
    n = len(factors)
    T = x.reshape([B] + [d for k in range(n_out, n) for d in (factors[k].shape[0], t[k])])
    for j, k in enumerate(range(n_out, n)):
        T = _mode_mul(T, factors[k].T, 1 + 2 * j)
    r_out, r_in = math.prod(core.shape[:n_out]), math.prod(core.shape[n_out:])
    T = T.reshape(B, r_in) @ core.reshape(r_out, r_in).T
    T = T.reshape([B] + [d for k in range(n_out) for d in (factors[k].shape[1], t[k])])
    for k in range(n_out):
        T = _mode_mul(T, factors[k], 1 + 2 * k)
    return T.reshape(B, math.prod(T.shape[1:]))



def chain_conv2d(x, cores, t, n_out, kernel_size, conv):
    """2-d convolution by an ST train/ring weight ``(o…, i…, kh·kw)`` without forming it.

    Parameters
    ----------
    x : Tensor
        ``(B, C, H, W)`` with ``C = ∏`` of the in modes (one group's channels).
    cores, t, n_out
        As for :func:`chain_matmul`; the last mode is the kernel ``kh·kw``.
    kernel_size : (int, int)
    conv : callable
        ``conv(x, weight)``: ``F.conv2d`` with the layer's stride, padding and dilation.

    Notes
    -----
    The in half ``Q`` (bond ``(q_p, b_1, q_0)`` × in-channel and kernel indices) *is* a small
    convolution kernel once each pass-through index is put back next to its mode (a
    permutation of ``Q``); the pass-through part ``b_{p+1}`` of the first in-channel mode,
    on which ``Q`` does not depend, is moved into the batch.  So ``z = conv(x, Q)`` maps the
    ``C`` channels to ``R'_p·R_0`` bond channels, and the out half mixes them into the
    ``out`` channels pointwise (an ``einsum`` batched over ``b_1``).  Cost
    ``B·H'W'·(C·kh·kw·R'_p·R_0 + out·R_p·R'_0)`` against ``B·H'W'·C·kh·kw·out``.
    """
    n, p = len(cores), n_out
    B, _, H, W = x.shape
    C = st_cores_to_classical(cores, t)
    P, Q = contract_chain(C[:p]), contract_chain(C[p:])
    A = [G.shape[1] for G in cores]
    nxt = [(k + 1) % n for k in range(n)]
    # Q (q_p, a_p, b_{p+1}, a_{p+1}, …, a_{N-1}, b_0, q_0)
    #   → (q_p, b_0, q_0, a_p, a_{p+1}, b_{p+1}, …, a_{N-1}, b_{N-1}): a conv kernel
    Q = Q.reshape([Q.shape[0]] + [d for k in range(p, n) for d in (A[k], t[nxt[k]])] + [Q.shape[2]])
    q_p, b_0, q_0 = Q.shape[0], Q.shape[-2], Q.shape[-1]
    order = [0, Q.dim() - 2, Q.dim() - 1, 1]
    for j in range(1, n - p):
        order += [1 + 2 * j, 2 * j]  # a_{p+j}, then its own pass-through b_{p+j}
    kernel = Q.permute(order).reshape(q_p * b_0 * q_0, -1, *kernel_size)
    T = t[p]  # x channels (a_p, b_p, rest): b_p goes into the batch
    xs = x.reshape(B, A[p], T, -1, H, W).transpose(1, 2).reshape(B * T, -1, H, W)
    z = conv(xs, kernel)  # (B·T, q_p·b_0·q_0, H', W')
    Ho, Wo = z.shape[-2:]
    z = z.reshape(B, T, q_p, b_0, q_0, Ho * Wo)
    # y[B, a_0, b_0, …, hw] = Σ z[B, b_p, q_p, b_0, q_0, hw] P[q_0, a_0, b_1, …, a_{p-1}, b_p, q_p]
    a = [3 + 2 * k for k in range(n)]
    b = [4 + 2 * k for k in range(n)]
    hw = 3 + 2 * n
    P_dims = [P.shape[0]] + [d for k in range(p) for d in (A[k], t[nxt[k]])] + [P.shape[2]]
    P_sub = [1] + [s for k in range(p) for s in (a[k], b[nxt[k]])] + [2]
    y_sub = [0] + [s for k in range(p) for s in (a[k], b[k])] + [hw]
    y = torch.einsum(z, [0, b[p], 2, b[0], 1, hw], P.reshape(P_dims), P_sub, y_sub)
    return y.reshape(B, -1, Ho, Wo)


def tucker_conv2d(x, core, factors, n_out, kernel_size, conv):
    """2-d convolution by an ST Tucker weight ``(o…, i…, kh·kw)`` without forming it.

    The in-channel factors act on the channels of ``x`` (mode products, as in
    :func:`tucker_matmul`), the core contracted with the kernel factor is a
    ``(∏R_out, ∏R_in, kh, kw)`` convolution kernel, and the out factors expand its output
    channels: a Tucker-2 convolution.  ``x`` holds one group's channels; ``conv`` as for
    :func:`chain_conv2d`.
    """
    t = [R // U.shape[1] for R, U in zip(core.shape, factors)]
    n, p = len(factors), n_out
    B, _, H, W = x.shape
    T = x.reshape([B] + [d for k in range(p, n - 1) for d in (factors[k].shape[0], t[k])] + [H * W])
    for j, k in enumerate(range(p, n - 1)):
        T = _mode_mul(T, factors[k].T, 1 + 2 * j)
    r_out, r_in = math.prod(core.shape[:p]), math.prod(core.shape[p:n - 1])
    G = core.reshape(r_out * r_in, factors[-1].shape[1], t[-1])
    G = _mode_mul(G, factors[-1], 1)  # the kernel mode: ρ_s → a_s
    z = conv(T.reshape(B, r_in, H, W), G.reshape(r_out, r_in, *kernel_size))
    Ho, Wo = z.shape[-2:]
    T = z.reshape([B] + [d for k in range(p) for d in (factors[k].shape[1], t[k])] + [Ho * Wo])
    for k in range(p):
        T = _mode_mul(T, factors[k], 1 + 2 * k)
    return T.reshape(B, -1, Ho, Wo)
