"""Semi-tensor train / tensor-train fits (docs/conventions.md §4.2) and the train result format."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semitensor import SemiTensorTrain, semi_tensor_train, tensor_train
from semitensor.regroup import regroup_tensor

from .reference import st_train_elementwise, tt_svd_reference


@st.composite
def st_train_problem(draw, max_order=6):
    """Random ST train: order 2..6, ratios in {1, 2, 3}, bonds multiples of the ratios."""
    n = draw(st.integers(2, max_order))
    t = [1] + [draw(st.sampled_from([1, 2, 3])) for _ in range(n - 1)]
    budget = 3 if n <= 4 else 2  # keep tensors small
    a = [draw(st.integers(1, budget)) for _ in range(n)]
    shape = [a[k] * t[k] for k in range(n)]
    # classical bonds of the regrouped train, made feasible (no redundant bond)
    J = [a[k] * (t[k + 1] if k + 1 < n else 1) for k in range(n)]
    inner = [1] + [draw(st.integers(1, 3)) for _ in range(1, n)] + [1]
    changed = True
    while changed:
        changed = False
        for k in range(1, n):
            cap = min(inner[k - 1] * J[k - 1], inner[k + 1] * J[k])
            if inner[k] > cap:
                inner[k], changed = cap, True
    bonds = [1] + [inner[k] * t[k] for k in range(1, n)] + [1]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    cores = [rng.standard_normal((bonds[k] // t[k], a[k], bonds[k + 1])) for k in range(n)]
    return SemiTensorTrain(cores), t, bonds


@given(problem=st_train_problem())
@settings(max_examples=30)
def test_exact_recovery_of_random_st_trains(problem):
    stt, t, bonds = problem
    X = stt.to_tensor()
    fit = semi_tensor_train(X, rank=bonds, t=t)
    assert fit.t == tuple(t)
    assert fit.rank == tuple(bonds)
    assert fit.relative_error(X) < 1e-10
    assert fit.errors[0] < 1e-10


@given(problem=st_train_problem(max_order=4))
@settings(max_examples=15)
def test_to_tensor_matches_elementwise_formula(problem):
    stt, t, _ = problem
    np.testing.assert_allclose(stt.to_tensor(), st_train_elementwise(stt.cores, stt.shape, t), atol=1e-12)


@given(seed=st.integers(0, 2**32 - 1), order=st.integers(2, 5), r=st.integers(1, 4))
@settings(max_examples=20)
def test_t1_matches_reference_tt_svd(seed, order, r):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(2, 5, size=order))
    X = rng.standard_normal(shape)
    fit = tensor_train(X, rank=r)
    ranks = list(fit.rank)
    reference = tt_svd_reference(X, ranks)
    # TT-SVD is unique up to gauge when singular values are simple: same reconstruction
    np.testing.assert_allclose(fit.to_tensor(), reference, atol=1e-8)
    assert fit.t == (1,) * order


def test_st_train_is_the_tt_of_the_regrouped_tensor():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 6, 4, 6))
    t = [1, 2, 2, 3]
    stt = semi_tensor_train(X, rank=[1, 4, 6, 6, 1], t=t)
    tt = tensor_train(regroup_tensor(X, t), rank=[1, 2, 3, 2, 1])
    assert stt.relative_error(X) == pytest.approx(tt.relative_error(regroup_tensor(X, t)), rel=1e-10)
    assert stt.n_params == tt.n_params


@given(seed=st.integers(0, 2**32 - 1), eps=st.sampled_from([0.5, 0.2, 0.05, 1e-3, 1e-9]),
       t=st.sampled_from([1, 2]))
@settings(max_examples=20)
def test_eps_guarantee(seed, eps, t):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((4, 6, 4, 2)) * np.logspace(0, -3, 2)  # some decay
    fit = semi_tensor_train(X, t=t, eps=eps)
    assert fit.relative_error(X) <= eps * (1 + 1e-9)
    assert fit.errors[0] == pytest.approx(fit.relative_error(X), rel=1e-6, abs=1e-12)


def test_eps_with_rank_cap():
    X = np.random.default_rng(1).standard_normal((6, 6, 6))
    fit = tensor_train(X, rank=3, eps=1e-12)
    assert max(fit.rank) == 3


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("t", [1, 2])
def test_als_never_increases_the_error(dtype, t):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((4, 6, 6, 4)).astype(dtype)
    if dtype == np.complex128:
        X = X + 1j * rng.standard_normal(X.shape)
    fit = semi_tensor_train(X, rank=[1, 2, 4, 2, 1], t=t, n_iter_max=6, tol=0)
    errs = np.array(fit.errors)
    assert len(errs) == 7
    assert np.all(np.diff(errs) <= 1e-12 * errs[:-1])
    assert errs[-1] < errs[0]  # ALS improves a quasi-optimal TT-SVD on unstructured data
    assert fit.relative_error(X) == pytest.approx(errs[-1], rel=1e-8)


def test_als_tol_stops_early_and_keeps_exact_fits_exact():
    rng = np.random.default_rng(3)
    stt = SemiTensorTrain([rng.standard_normal(s) for s in [(1, 3, 2), (1, 3, 2), (1, 4, 1)]])
    X = stt.to_tensor()
    fit = semi_tensor_train(X, rank=stt.rank, t=stt.t, n_iter_max=50, tol=1e-3)
    assert len(fit.errors) < 51
    assert fit.relative_error(X) < 1e-10


def test_verbose_prints_each_sweep(capsys):
    X = np.random.default_rng(0).standard_normal((3, 4, 5))
    tensor_train(X, rank=2, n_iter_max=2, tol=0, verbose=True)
    out = capsys.readouterr().out
    assert "tensor_train start: relative error" in out and "tensor_train sweep 2" in out
    assert "rank (1, 2, 2, 1)" in out  # bonds in the .rank convention


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-12), (np.complex64, 1e-5), (np.complex128, 1e-12)])
def test_dtypes_are_preserved(dtype, tol):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((4, 4, 6))
    if np.issubdtype(dtype, np.complexfloating):
        X = X + 1j * rng.standard_normal(X.shape)
    X = X.astype(dtype)
    fit = semi_tensor_train(X, rank=[1, 16, 6, 1], t=[1, 2, 2])  # full bonds: exact
    assert all(G.dtype == np.dtype(dtype) for G in fit.cores)
    assert fit.to_tensor().dtype == np.dtype(dtype)
    assert fit.relative_error(X) < tol


def test_integer_input_is_promoted_and_inputs_not_mutated():
    X = np.arange(48).reshape(4, 3, 4)
    X0 = X.copy()
    fit = tensor_train(X, rank=[1, 4, 4, 1])
    np.testing.assert_array_equal(X, X0)
    assert fit.cores[0].dtype == np.float64
    assert fit.relative_error(X) < 1e-12


def test_randomized_svd_is_deterministic_under_random_state():
    X = np.random.default_rng(5).standard_normal((8, 8, 8))
    a = tensor_train(X, rank=3, svd="randomized", random_state=7)
    b = tensor_train(X, rank=3, svd="randomized", random_state=7)
    for Ga, Gb in zip(a.cores, b.cores):
        np.testing.assert_array_equal(Ga, Gb)


def test_result_properties():
    stt = SemiTensorTrain([np.ones((1, 4, 4)), np.ones((2, 3, 6)), np.ones((2, 3, 1))])
    assert stt.shape == (4, 6, 9)
    assert stt.rank == (1, 4, 6, 1)
    assert stt.t == (1, 2, 3)
    # Σ R_{k-1} I_k R_k / t_k²
    assert stt.n_params == 1 * 4 * 4 + 4 * 6 * 6 // 4 + 6 * 9 * 1 // 9 == 58
    assert stt.compression_ratio == pytest.approx(4 * 6 * 9 / stt.n_params)
    assert "SemiTensorTrain(shape=(4, 6, 9)" in repr(stt)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"rank": 4, "t": 4}, ValueError, r"t\[1\]=4 does not divide mode 1 of size 6; valid ratios for this mode: \[1, 2, 3, 6\]"),
        ({"rank": 3, "t": 2}, ValueError, r"rank=3 bounds bond 1, which must be a multiple of t\[1\]=2 .* nearest valid values for every bond: \[2, 4\]"),
        ({"rank": [1, 4, 4], "t": 1}, ValueError, "rank must have 4 entries"),
        ({"rank": [2, 4, 4, 1]}, ValueError, r"end bonds rank\[0\] = rank\[3\] = 1"),
        ({"rank": [1, 40, 4, 1]}, ValueError, r"bond rank\[1\]=40 exceeds what the unfolding allows: at most 4"),
        ({"rank": [1, 4, 24, 1]}, ValueError, r"bond rank\[2\]=24 exceeds what the unfolding allows"),
        ({"rank": None}, ValueError, "rank=None needs an eps"),
        ({"rank": 2, "t": [2, 2, 2]}, ValueError, r"t\[0\] = 1"),
        ({"rank": 2, "t": [1, 2]}, ValueError, "one ratio per mode"),
        ({"rank": 2, "t": 1.5}, TypeError, "t must be a positive int"),
        ({"rank": 2.0}, ValueError, "a float rank is a parameter budget"),
        ({"rank": 0}, ValueError, "rank must be an integer >= 1"),
        ({"rank": 2, "eps": -1}, ValueError, "eps must be a relative error target in \\[0, 1\\)"),
        ({"rank": 2, "n_iter_max": -1}, ValueError, "n_iter_max must be an integer >= 0"),
        ({"rank": 2, "tol": float("nan")}, ValueError, "tol must be a finite number"),
        ({"rank": 2, "svd": "qr"}, ValueError, r"svd must be one of \('auto', 'gram'"),
        ({"rank": 2, "random_state": "seed"}, TypeError, "random_state must be"),
    ],
)
def test_errors(kwargs, exc, match):
    X = np.ones((4, 6, 4))
    with pytest.raises(exc, match=match):
        semi_tensor_train(X, **kwargs)


@pytest.mark.parametrize("X, exc, match", [
    (np.array([["a"]]), TypeError, "X must have a numeric dtype"),
    (np.zeros((2, 0, 3)), ValueError, "X must not be empty"),
    (np.array([[np.nan, 1.0]]), ValueError, "NaN or Inf"),
    (np.float64(1.0), ValueError, "at least 1 dimension"),
])
def test_bad_tensors(X, exc, match):
    with pytest.raises(exc, match=match):
        tensor_train(X, rank=1)


def test_core_shape_validation():
    with pytest.raises(ValueError, match="end bonds R_0 = R_N = 1"):
        SemiTensorTrain([np.ones((2, 3, 2)), np.ones((2, 3, 2))])
    with pytest.raises(ValueError, match=r"cores\[1\].shape\[0\]=3 must divide the bond R_1=4"):
        SemiTensorTrain([np.ones((1, 3, 4)), np.ones((3, 3, 1))])
    with pytest.raises(ValueError, match="3-d"):
        SemiTensorTrain([np.ones((1, 3))])
    with pytest.raises(ValueError, match="shape"):
        SemiTensorTrain([np.ones((1, 3, 1))]).relative_error(np.ones(4))
