"""Semi-tensor product: kernels against the Kronecker definition, and docs/conventions.md §2 identities."""
from math import gcd

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import semitensor
from semitensor import power_reducing_matrix, stp, swap_matrix

from .reference import stp_kron, stp_kron_batched

DTYPES = [np.float64, np.float32, np.complex128, np.int64]
sides = st.sampled_from(["left", "right"])
dims = st.integers(1, 12)
seeds = st.integers(0, 2**32 - 1)


def random(rng, shape, dtype=np.float64):
    if np.issubdtype(dtype, np.integer):
        return rng.integers(-5, 6, size=shape).astype(dtype)
    x = rng.standard_normal(shape)
    if np.issubdtype(dtype, np.complexfloating):
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def assert_close(actual, expected, dtype):
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    if np.issubdtype(dtype, np.integer):
        np.testing.assert_array_equal(actual, expected)
    else:
        rtol = 1e-4 if dtype == np.float32 else 1e-11
        scale = max(1.0, np.abs(expected).max(initial=0))
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


# --- the kernel against the definition -------------------------------------------------

@given(m=dims, n=dims, p=dims, q=dims, side=sides, dtype=st.sampled_from(DTYPES), seed=seeds)
def test_matches_kronecker_definition(m, n, p, q, side, dtype, seed):
    rng = np.random.default_rng(seed)
    A, B = random(rng, (m, n), dtype), random(rng, (p, q), dtype)
    assert_close(stp(A, B, side=side), stp_kron(A, B, side), dtype)


@given(
    case=st.sampled_from(["equal", "n=kp", "p=kn", "general"]),
    k=st.integers(2, 5), base=st.integers(1, 6), side=sides, seed=seeds,
    batch_a=st.sampled_from([(), (3,), (2, 1), (1, 4)]),
    batch_b=st.sampled_from([(), (3,), (1, 1), (2, 4)]),
)
def test_batched_inputs_broadcast_like_matmul(case, k, base, side, seed, batch_a, batch_b):
    try:
        np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        return
    n, p = {"equal": (base, base), "n=kp": (k * base, base), "p=kn": (base, k * base),
            "general": (2 * base, 3 * base)}[case]
    rng = np.random.default_rng(seed)
    A, B = random(rng, batch_a + (3, n)), random(rng, batch_b + (p, 2))
    assert_close(stp(A, B, side=side), stp_kron_batched(A, B, side), np.float64)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("shapes", [[(2, 4), (2, 3), (6, 5)], [(3, 2), (4, 6), (9, 2), (5, 5)]])
def test_nary_product_equals_left_to_right_evaluation(shapes, side):
    rng = np.random.default_rng(0)
    mats = [rng.standard_normal(s) for s in shapes]
    expected = mats[0]
    for M in mats[1:]:
        expected = stp_kron(expected, M, side)
    np.testing.assert_allclose(stp(*mats, side=side), expected, rtol=1e-10, atol=1e-10)


def test_nary_order_is_chosen_by_cost(monkeypatch):
    # x ⋉ y is 100×100 but y ⋉ z... the cheap order multiplies (1×100)(100×1) first.
    import sys

    module = sys.modules["semitensor.stp"]  # the attribute semitensor.stp is the function
    calls = []
    original = module._stp_pair

    def spy(A, B, side):
        calls.append((A.shape, B.shape))
        return original(A, B, side)

    monkeypatch.setattr(module, "_stp_pair", spy)
    rng = np.random.default_rng(1)
    mats = [rng.standard_normal((1, 100)), rng.standard_normal((100, 1)), rng.standard_normal((1, 100))]
    result = stp(*mats)
    assert calls[0] == ((1, 100), (100, 1))
    np.testing.assert_allclose(result, (mats[0] @ mats[1]) * mats[2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128, np.int32, np.int64])
def test_dtype_is_result_type(dtype):
    A = np.ones((2, 4), dtype=dtype)
    B = np.ones((2, 3), dtype=np.float32)
    assert stp(A, A.T).dtype == np.dtype(dtype)
    assert stp(A, B).dtype == np.result_type(dtype, np.float32)


def test_integers_stay_exact():
    big = np.array([[2**40, 1]], dtype=np.int64)
    col = np.array([[3], [1]], dtype=np.int64)
    assert stp(big, col)[0, 0] == 3 * 2**40 + 1


def test_inputs_are_not_mutated():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((3, 6)), rng.standard_normal((4, 2))
    A0, B0 = A.copy(), B.copy()
    for side in ("left", "right"):
        stp(A, B, side=side)
        stp(A[:, ::-1], B.T, side=side)  # non-contiguous views too
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(B, B0)


def test_vectors_are_columns_and_last_vector_drops_the_column_axis():
    x, y = np.arange(1.0, 3.0), np.arange(1.0, 4.0)
    assert stp(x, y).shape == (6,)
    M = np.ones((2, 3))
    assert stp(M, y).shape == (2,)           # matrix-vector, like matmul
    assert stp(x, M).shape == (4, 3)         # 1-D first operand is a column (2, 1)
    assert stp(np.ones((2, 6)), y).shape == (2, 2)  # several columns: kept 2-D


def test_nan_reaches_only_the_outputs_whose_sums_use_it():
    # A (B ⊗ I_2): column 0 sums A[0, 0]·B[0] + A[0, 2]·B[1], column 1 uses A[0, 1], A[0, 3].
    # The Kronecker definition would also multiply the NaN by the identity's structural
    # zeros and poison column 1; the kernel never touches structural zeros.
    A = np.array([[np.nan, 1.0, 0.0, 2.0]])
    B = np.array([[1.0], [2.0]])
    out = stp(A, B)
    assert np.isnan(out[0, 0]) and out[0, 1] == 5.0
    inf_out = stp(np.array([[np.inf, 1.0]]), np.array([[1.0, -1.0]]))  # (A ⊗ I_1)·(B ⊗ I_2)
    np.testing.assert_array_equal(inf_out, [[np.inf, 1.0, -np.inf, -1.0]])


# --- docs/conventions.md §2 identities -------------------------------------------------------------

@given(m=dims, n=dims, p=dims, q=dims, r=dims, s=dims, side=sides, seed=seeds)
def test_associativity(m, n, p, q, r, s, side, seed):
    rng = np.random.default_rng(seed)
    A, B, C = random(rng, (m, n)), random(rng, (p, q)), random(rng, (r, s))
    left = stp(stp(A, B, side=side), C, side=side)
    right = stp(A, stp(B, C, side=side), side=side)
    np.testing.assert_allclose(left, right, rtol=1e-10, atol=1e-10)


@given(m=dims, n=dims, p=dims, q=dims, side=sides, seed=seeds)
def test_distributivity(m, n, p, q, side, seed):
    rng = np.random.default_rng(seed)
    A, A2 = random(rng, (m, n)), random(rng, (m, n))
    B, B2 = random(rng, (p, q)), random(rng, (p, q))
    np.testing.assert_allclose(stp(A, B + B2, side=side), stp(A, B, side=side) + stp(A, B2, side=side), atol=1e-10)
    np.testing.assert_allclose(stp(A + A2, B, side=side), stp(A, B, side=side) + stp(A2, B, side=side), atol=1e-10)


@given(m=dims, n=dims, p=dims, q=dims, side=sides, seed=seeds)
def test_transpose_reverses_order(m, n, p, q, side, seed):
    rng = np.random.default_rng(seed)
    A, B = random(rng, (m, n), np.complex128), random(rng, (p, q), np.complex128)
    np.testing.assert_allclose(stp(A, B, side=side).T, stp(B.T, A.T, side=side), atol=1e-10)


@given(n=st.integers(1, 8), p=st.integers(1, 8), side=sides, seed=seeds)
def test_inverse_reverses_order(n, p, side, seed):
    rng = np.random.default_rng(seed)
    A = np.eye(n) + 0.3 * random(rng, (n, n)) / np.sqrt(n)  # well conditioned
    B = np.eye(p) + 0.3 * random(rng, (p, p)) / np.sqrt(p)
    np.testing.assert_allclose(
        np.linalg.inv(stp(A, B, side=side)),
        stp(np.linalg.inv(B), np.linalg.inv(A), side=side),
        rtol=1e-9, atol=1e-9,
    )


@given(k=dims, l=dims, seed=seeds)
def test_vectors_give_kronecker_product(k, l, seed):
    rng = np.random.default_rng(seed)
    x, y = random(rng, k), random(rng, l)
    np.testing.assert_allclose(stp(x, y), np.kron(x, y))
    np.testing.assert_allclose(stp(x[:, None], y[:, None]), np.kron(x, y)[:, None])


@given(m=dims, n=dims, seed=seeds)
def test_swap_matrix(m, n, seed):
    rng = np.random.default_rng(seed)
    x, y = random(rng, m), random(rng, n)
    W = swap_matrix(m, n)
    np.testing.assert_allclose(stp(W, x, y), stp(y, x))
    np.testing.assert_array_equal(W.T, swap_matrix(n, m))
    np.testing.assert_array_equal(W.T @ W, np.eye(m * n))


@given(k=dims, i=st.integers(0, 11))
def test_power_reducing_matrix(k, i):
    x = np.eye(k)[:, i % k]
    np.testing.assert_array_equal(stp(x, x), stp(power_reducing_matrix(k), x))


@given(k=dims, m=dims, n=dims, seed=seeds)
def test_pseudo_commutativity(k, m, n, seed):
    rng = np.random.default_rng(seed)
    x, A = random(rng, (k, 1)), random(rng, (m, n))
    np.testing.assert_allclose(stp(x, A), stp(np.kron(np.eye(k), A), x), atol=1e-10)


@given(k=st.integers(1, 5), m=dims, p=dims, q=dims, side=sides, seed=seeds)
def test_multiple_dimension_cases(k, m, p, q, side, seed):
    rng = np.random.default_rng(seed)
    I = np.eye(k)
    # n = k·p: A ⋉ B = A (B ⊗ I_k);  A ⋊ B = A (I_k ⊗ B)
    A, B = random(rng, (m, k * p)), random(rng, (p, q))
    expected = A @ (np.kron(B, I) if side == "left" else np.kron(I, B))
    np.testing.assert_allclose(stp(A, B, side=side), expected, atol=1e-10)
    # p = k·n: A ⋉ B = (A ⊗ I_k) B;  A ⋊ B = (I_k ⊗ A) B
    A, B = random(rng, (m, p)), random(rng, (k * p, q))
    expected = (np.kron(A, I) if side == "left" else np.kron(I, A)) @ B
    np.testing.assert_allclose(stp(A, B, side=side), expected, atol=1e-10)


@given(k=st.integers(1, 5), m=dims, p=dims, q=dims, seed=seeds)
def test_left_and_right_agree_up_to_perfect_shuffles(k, m, p, q, seed):
    rng = np.random.default_rng(seed)
    # n = k·p:  A ⋉ B = ((A W_[k,p]) ⋊ B) W_[q,k]
    A, B = random(rng, (m, k * p)), random(rng, (p, q))
    np.testing.assert_allclose(
        stp(A, B), stp(A @ swap_matrix(k, p), B, side="right") @ swap_matrix(q, k), atol=1e-10
    )
    # p = k·n:  A ⋉ B = W_[k,m] (A ⋊ (W_[p,k] B))   with A m×p, B (k·p)×q
    A, B = random(rng, (m, p)), random(rng, (k * p, q))
    np.testing.assert_allclose(
        stp(A, B), swap_matrix(k, m) @ stp(A, swap_matrix(p, k) @ B, side="right"), atol=1e-10
    )


# --- structural matrices ------------------------------------------------------------

def test_structural_matrices_sparse_and_dtype():
    W = swap_matrix(3, 4, sparse=True, dtype=np.int8)
    assert sp.issparse(W) and W.dtype == np.int8
    np.testing.assert_array_equal(W.toarray(), swap_matrix(3, 4))
    M = power_reducing_matrix(3, sparse=True)
    np.testing.assert_array_equal(M.toarray(), power_reducing_matrix(3))
    assert power_reducing_matrix(3).shape == (9, 3)


# --- errors -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "A, B, kwargs, exc, match",
    [
        (np.array([["a"]]), np.ones((1, 1)), {}, TypeError, "A must have a numeric dtype"),
        (np.ones((1, 1)), np.array([[object()]]), {}, TypeError, "B must have a numeric dtype"),
        (np.float64(2.0), np.ones((1, 1)), {}, ValueError, "A must be a vector or a"),
        (np.ones((2, 0)), np.ones((2, 2)), {}, ValueError, "lcm of 0"),
        (np.ones((2, 2)), np.ones((0, 2)), {}, ValueError, "B has shape"),
        (np.ones((2, 2)), np.ones((2, 2)), {"side": "middle"}, ValueError, r"side must be one of \('left', 'right'\)"),
        (np.ones((3, 2, 2)), np.ones((4, 2, 2)), {}, ValueError, "batch .* must broadcast"),
        ([[1, 2], [3]], np.ones((1, 1)), {}, TypeError, "A must be array-like"),
    ],
)
def test_stp_errors(A, B, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        stp(A, B, **kwargs)


def test_third_operand_is_named_in_errors():
    with pytest.raises(TypeError, match=r"more\[0\]"):
        stp(np.ones((1, 1)), np.ones((1, 1)), np.array([["x"]]))


@pytest.mark.parametrize("func", [swap_matrix, lambda m, n: power_reducing_matrix(m)])
def test_structural_matrix_errors(func):
    with pytest.raises(ValueError, match=">= 1"):
        func(0, 2)
    with pytest.raises(TypeError, match="must be an integer"):
        func(2.5, 2)
    with pytest.raises(TypeError, match="sparse must be True or False"):
        swap_matrix(2, 2, sparse="yes")


def test_public_names():
    for name in ("stp", "swap_matrix", "power_reducing_matrix"):
        assert callable(getattr(semitensor, name))
