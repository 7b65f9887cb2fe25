"""Unfold/fold and (semi-tensor) mode products against their definitions (docs/conventions.md §3)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from semitensor import (
    fold, mode_dot, multi_mode_dot, multi_st_mode_dot, st_mode_dot, stp, unfold,
)

from .reference import mode_dot_ref, st_mode_dot_ref

sides = st.sampled_from(["left", "right"])
seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)


@st.composite
def tensor_and_mode(draw, dtype=np.float64):
    shape = draw(shapes)
    mode = draw(st.integers(0, len(shape) - 1))
    rng = np.random.default_rng(draw(seeds))
    X = rng.standard_normal(shape)
    if np.issubdtype(dtype, np.complexfloating):
        X = X + 1j * rng.standard_normal(shape)
    return X.astype(dtype), mode, rng


@given(data=tensor_and_mode())
def test_unfold_fold_round_trip(data):
    X, mode, _ = data
    M = unfold(X, mode)
    np.testing.assert_array_equal(M, np.moveaxis(X, mode, 0).reshape(X.shape[mode], -1))
    np.testing.assert_array_equal(fold(M, mode, X.shape), X)
    np.testing.assert_array_equal(unfold(X, mode - X.ndim), M)  # negative modes


@given(data=tensor_and_mode(), J=st.integers(1, 5))
def test_mode_dot_matches_tensordot(data, J):
    X, mode, rng = data
    U = rng.standard_normal((J, X.shape[mode]))
    np.testing.assert_allclose(mode_dot(X, U, mode), mode_dot_ref(X, U, mode), atol=1e-12)
    v = rng.standard_normal(X.shape[mode])
    np.testing.assert_allclose(mode_dot(X, v, mode), np.tensordot(X, v, axes=(mode, 0)))


@given(data=tensor_and_mode(), J=st.integers(1, 4), P=st.integers(1, 8), side=sides,
       dtype=st.sampled_from([np.float64, np.float32, np.complex128]))
def test_st_mode_dot_matches_definition(data, J, P, side, dtype):
    X, mode, rng = data
    X = X.astype(dtype)
    U = rng.standard_normal((J, P)).astype(dtype)
    Y = st_mode_dot(X, U, mode, side=side)
    assert Y.dtype == np.dtype(dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(Y, st_mode_dot_ref(X, U, mode, side), rtol=tol, atol=tol)


@given(data=tensor_and_mode(), J=st.integers(1, 4), k=st.integers(1, 3), side=sides)
def test_factor_smaller_case_is_mode_dot_with_kronecker_factor(data, J, k, side):
    X, mode, rng = data
    X = np.repeat(X, k, axis=mode)  # make I_n a multiple of k
    P = X.shape[mode] // k
    U = rng.standard_normal((J, P))
    big = np.kron(U, np.eye(k)) if side == "left" else np.kron(np.eye(k), U)
    np.testing.assert_allclose(st_mode_dot(X, U, mode, side=side), mode_dot_ref(X, big, mode), atol=1e-11)
    assert st_mode_dot(X, U, mode, side=side).shape[mode] == J * k


@given(data=tensor_and_mode(), J=st.integers(1, 4))
def test_t_equal_one_is_the_classical_mode_product(data, J):
    X, mode, rng = data
    U = rng.standard_normal((J, X.shape[mode]))
    for side in ("left", "right"):
        np.testing.assert_allclose(st_mode_dot(X, U, mode, side=side), mode_dot(X, U, mode), atol=1e-12)


@given(data=tensor_and_mode(), J=st.integers(1, 4), P=st.integers(1, 6),
       J2=st.integers(1, 4), P2=st.integers(1, 6))
def test_successive_products_on_one_mode_compose_left(data, J, P, J2, P2):
    # (X ⋉_n U) ⋉_n V = X ⋉_n (V ⋉ U) for the left product, any sizes, as mode-n
    # unfoldings: when trailing modes are created, the left side has two (t1, t2)
    # where the right side has one of size t1·t2, in the same C order.
    X, mode, rng = data
    U, V = rng.standard_normal((J, P)), rng.standard_normal((J2, P2))
    lhs = st_mode_dot(st_mode_dot(X, U, mode), V, mode)
    rhs = st_mode_dot(X, stp(V, U), mode)
    np.testing.assert_allclose(unfold(lhs, mode), unfold(rhs, mode), atol=1e-10)
    if X.shape[mode] % P == 0 and (J * X.shape[mode] // P) % P2 == 0:
        assert lhs.shape == rhs.shape


@given(data=tensor_and_mode(), J=st.integers(1, 4), k=st.integers(1, 3), J2=st.integers(1, 4),
       k2=st.integers(1, 3))
def test_successive_products_on_one_mode_compose_right(data, J, k, J2, k2):
    # Right product: holds when no trailing mode is created (P | I_n and P2 | J·k).
    X, mode, rng = data
    X = np.repeat(X, k, axis=mode)
    U = rng.standard_normal((J * k2, X.shape[mode] // k))
    V = rng.standard_normal((J2, J * k2 * k // k2))
    lhs = st_mode_dot(st_mode_dot(X, U, mode, side="right"), V, mode, side="right")
    rhs = st_mode_dot(X, stp(V, U, side="right"), mode, side="right")
    np.testing.assert_allclose(lhs, rhs, atol=1e-10)


@given(seed=seeds, k=st.integers(1, 3), side=sides)
def test_products_on_different_modes_commute(seed, k, side):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2 * k, 3 * k, 2))
    U, V = rng.standard_normal((4, 2)), rng.standard_normal((2, 3))
    a = st_mode_dot(st_mode_dot(X, U, 0, side=side), V, 1, side=side)
    b = st_mode_dot(st_mode_dot(X, V, 1, side=side), U, 0, side=side)
    np.testing.assert_allclose(a, b, atol=1e-12)
    np.testing.assert_allclose(multi_st_mode_dot(X, [U, V], side=side), a, atol=1e-12)
    np.testing.assert_allclose(multi_st_mode_dot(X, [V, U], modes=[1, 0], side=side), a, atol=1e-12)


def test_multi_mode_dot_skips_none_and_matches_sequential():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 4, 5))
    U, W = rng.standard_normal((2, 3)), rng.standard_normal((6, 5))
    np.testing.assert_allclose(
        multi_mode_dot(X, [U, None, W]), mode_dot(mode_dot(X, U, 0), W, 2), atol=1e-12
    )


def test_thin_and_wide_layouts_agree():
    # exercises the single-GEMM, batched and tensordot paths of the contraction
    rng = np.random.default_rng(3)
    for shape in [(8, 1), (1, 64), (300, 40, 3), (5, 40, 64)]:
        X = rng.standard_normal(shape)
        for mode in range(X.ndim):
            U = rng.standard_normal((3, X.shape[mode]))
            np.testing.assert_allclose(mode_dot(X, U, mode), mode_dot_ref(X, U, mode), atol=1e-10)


def test_inputs_not_mutated_and_integer_exact():
    X = np.arange(24).reshape(2, 3, 4)
    U = np.array([[1, 2]])
    X0 = X.copy()
    Y = st_mode_dot(X, U, 2)
    np.testing.assert_array_equal(X, X0)
    assert Y.dtype == X.dtype
    np.testing.assert_array_equal(Y, st_mode_dot_ref(X, U, 2))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: unfold(np.ones((2, 3)), 2), ValueError, r"mode=2 is out of range .* 0\.\.1"),
        (lambda: unfold(np.ones((2, 3)), 1.0), TypeError, "mode must be an integer"),
        (lambda: unfold(np.float64(1.0), 0), ValueError, "at least 1 dimension"),
        (lambda: fold(np.ones((2, 5)), 0, (2, 3)), ValueError, r"unfolded has shape \(2, 5\)"),
        (lambda: fold(np.ones((2, 3)), 0, "ab"), TypeError, "shape must be a sequence of integers"),
        (lambda: mode_dot(np.ones((2, 3)), np.ones((2, 2)), 1), ValueError, "use st_mode_dot"),
        (lambda: mode_dot(np.ones((2, 3)), np.ones((2, 2, 3)), 1), ValueError, "U must be a matrix"),
        (lambda: st_mode_dot(np.ones((2, 3)), np.ones(3), 1), ValueError, r"U must be a matrix \(J, P\)"),
        (lambda: st_mode_dot(np.ones((2, 3)), np.ones((2, 3)), 1, side="up"), ValueError, "side must be one of"),
        (lambda: st_mode_dot(np.ones((2, 3)), np.ones((2, 0)), 1), ValueError, "at least one column"),
        (lambda: st_mode_dot(np.ones((2, 0)), np.ones((2, 2)), 1), ValueError, "mode 1 of X has size 0"),
        (lambda: st_mode_dot(np.array(["a"]), np.ones((1, 1)), 0), TypeError, "X must have a numeric dtype"),
        (lambda: multi_st_mode_dot(np.ones((2, 3)), [np.ones((1, 2))], modes=[0, 1]), ValueError, "1 matrices but 2 modes"),
        (lambda: multi_st_mode_dot(np.ones((2, 3)), [np.ones((1, 2))] * 2, modes=[0, 0]), ValueError, "distinct"),
        (lambda: multi_mode_dot(np.ones((2, 3)), np.ones((2, 2))), TypeError, "sequence"),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
