"""The ST ↔ classical regrouping map (docs/conventions.md §5)."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from semitensor import SemiTensorRing, SemiTensorTrain
from semitensor.regroup import (
    classical_cores_to_st, regroup_tensor, st_cores_to_classical, tucker_view, ungroup_tensor,
)

from .reference import st_train_elementwise


@st.composite
def shape_and_ratios(draw):
    n = draw(st.integers(1, 5))
    t = [draw(st.sampled_from([1, 2, 3])) for _ in range(n)]
    shape = [t[k] * draw(st.integers(1, 3)) for k in range(n)]
    return tuple(shape), t


@given(data=shape_and_ratios(), seed=st.integers(0, 2**32 - 1))
def test_regroup_is_an_invertible_permutation(data, seed):
    shape, t = data
    X = np.random.default_rng(seed).standard_normal(shape)
    Y = regroup_tensor(X, t)
    n = len(shape)
    assert Y.shape == tuple((shape[k] // t[k]) * t[(k + 1) % n] for k in range(n))
    np.testing.assert_array_equal(np.sort(Y, axis=None), np.sort(X, axis=None))
    np.testing.assert_array_equal(ungroup_tensor(Y, shape, t), X)


@given(data=shape_and_ratios())
def test_regroup_moves_the_fast_index_to_the_previous_mode(data):
    shape, t = data
    n = len(shape)
    X = np.arange(np.prod(shape)).reshape(shape)
    Y = regroup_tensor(X, t)
    for i in np.ndindex(*shape):
        a = [i[k] // t[k] for k in range(n)]
        b = [i[k] % t[k] for k in range(n)]
        j = tuple(a[k] * t[(k + 1) % n] + b[(k + 1) % n] for k in range(n))
        assert Y[j] == X[i]


@given(data=shape_and_ratios(), seed=st.integers(0, 2**32 - 1))
def test_core_maps_are_inverse_and_match_the_elementwise_formula(data, seed):
    shape, t = data
    n = len(shape)
    rng = np.random.default_rng(seed)
    bonds = [t[k % n] * int(rng.integers(1, 3)) for k in range(n)]  # R_0 .. R_{N-1}; R_N = R_0
    bonds.append(bonds[0])
    cores = [rng.standard_normal((bonds[k] // t[k], shape[k] // t[k], bonds[k + 1])) for k in range(n)]
    classical = st_cores_to_classical(cores, t)
    for G, H in zip(classical_cores_to_st(classical, t), cores):
        np.testing.assert_array_equal(G, H)
    ring = SemiTensorRing(cores)
    assert ring.t == tuple(t)
    X = st_train_elementwise(cores, shape, t)
    np.testing.assert_allclose(ring.to_tensor(), X, atol=1e-12)
    # the classical ring of Y reproduces Y
    Y = SemiTensorRing(classical).to_tensor()
    np.testing.assert_allclose(Y, regroup_tensor(X, t), atol=1e-12)


def test_train_with_unit_ratios_is_a_view():
    X = np.arange(24.0).reshape(2, 3, 4)
    assert np.shares_memory(regroup_tensor(X, [1, 1, 1]), X)
    assert np.shares_memory(tucker_view(X, [2, 3, 2]), X)
    assert tucker_view(X, [2, 3, 2]).shape == (1, 2, 1, 3, 2, 2)


def test_train_result_uses_the_same_map():
    rng = np.random.default_rng(0)
    cores = [rng.standard_normal(s) for s in [(1, 2, 4), (2, 3, 3), (1, 2, 1)]]
    stt = SemiTensorTrain(cores)
    np.testing.assert_allclose(stt.to_tensor(), st_train_elementwise(cores, stt.shape, stt.t), atol=1e-12)
