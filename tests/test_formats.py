"""The format layer and the one rank language of the six fits (docs/conventions.md §6).

Table-driven: every fit × every rank form; then hypothesis properties of the budget and
``eps`` guarantees and of the error history in float32, float64 and complex.
"""
import math
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import semitensor
from semitensor import fit
from semitensor.formats import FAMILIES, METHODS, RING, TRAIN, TUCKER, RankWarning, parse_method

SHAPE = (4, 6, 4, 6)
X = np.random.default_rng(0).standard_normal(SHAPE)

#: method → a literal rank list for SHAPE at t = 2 (classical: t = 1)
LITERAL = {
    "tucker": [2, 3, 2, 3],
    "semi_tensor_tucker": [2, 4, 2, 4],
    "tensor_train": [1, 3, 5, 4, 1],
    "semi_tensor_train": [1, 4, 6, 4, 1],
    "tensor_ring": [2, 3, 2, 3, 2],
    "semi_tensor_ring": [2, 4, 4, 2, 2],
}
RANK_FORMS = ["int", "list", "full", "budget", "eps"]


def _t(method):
    return 2 if parse_method(method).semi else 1


def _rank_argument(method, form):
    return {"int": 4, "list": LITERAL[method], "full": "full", "budget": 0.2, "eps": None}[form]


@pytest.mark.parametrize("form", RANK_FORMS)
@pytest.mark.parametrize("method", [m.name for m in METHODS])
def test_every_fit_speaks_every_rank_form(method, form):
    t = _t(method)
    options = {"eps": 0.6} if form == "eps" else {}
    if parse_method(method).family != "tucker":
        options["n_iter_max"] = 3
    result = fit(X, method, _rank_argument(method, form), t, **options)
    family = FAMILIES[parse_method(method).family]
    assert result.method == method and result.family == family.name
    assert result.shape == SHAPE
    assert result.n_params == family.n_params(SHAPE, result.t, result.rank)
    error = result.relative_error(X)
    assert list(result.errors) == sorted(result.errors, reverse=True)
    assert result.errors[-1] == pytest.approx(error, rel=0.01, abs=1e-14)
    if form == "int":
        resolved = family.resolve_rank(4, SHAPE, result.t)
        assert result.rank == resolved and max(resolved) <= 4
    elif form == "list":
        assert list(result.rank) == LITERAL[method]
    elif form == "full":
        assert error < 1e-10
    elif form == "budget":
        assert result.n_params <= 0.2 * X.size
        # the largest admissible: raising any single mode/bond breaks the budget
        for positions, step in family.rank_steps(X.ndim, result.t):
            bigger = list(result.rank)
            for k in positions:
                bigger[k] += step
            try:
                family.check_rank(bigger, SHAPE, result.t)
            except ValueError:
                continue
            assert family.n_params(SHAPE, result.t, bigger) > 0.2 * X.size
    else:
        assert error <= 0.6


@pytest.mark.parametrize("name, expected", [
    ("tucker", "tucker"), ("sttu", "semi_tensor_tucker"), ("TT", "tensor_train"),
    ("stt", "semi_tensor_train"), ("tr", "tensor_ring"), ("Str", "semi_tensor_ring"),
    ("semi_tensor_train", "semi_tensor_train"),
])
def test_method_names_long_and_short(name, expected):
    assert parse_method(name).name == expected


def test_method_errors():
    with pytest.raises(ValueError, match="method must be one of .*'stt'"):
        parse_method("cp")
    with pytest.raises(TypeError, match="method must be a string"):
        parse_method(3)
    with pytest.raises(ValueError, match="classical .* use 'semi_tensor_train'"):
        fit(X, "tt", 4, t=2)


def test_int_t_means_the_same_everywhere():
    # An int t is t on every mode; a train keeps t_1 = 1 (its first bond is 1).
    assert TUCKER.ratios(2, SHAPE) == RING.ratios(2, SHAPE) == (2, 2, 2, 2)
    assert TRAIN.ratios(2, SHAPE) == (1, 2, 2, 2)
    with pytest.raises(ValueError, match=r"t\[0\] = 1"):
        TRAIN.ratios([2, 2, 2, 2], SHAPE)


def test_budget_too_small_names_the_smallest_budget():
    with pytest.raises(ValueError, match="a budget of at least"):
        semitensor.tensor_train(X, 1e-4)
    for bad in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match=r"parameter budget, a fraction .* in \(0, 1\)"):
            semitensor.tucker(X, bad)


def test_rank_type_errors():
    with pytest.raises(TypeError, match="rank must be an int, a sequence"):
        semitensor.tucker(X, True)
    with pytest.raises(ValueError, match="rank must be an int, .* or 'full'"):
        semitensor.tensor_ring(X, "max")
    with pytest.raises(ValueError, match="give rank, eps or both"):
        semitensor.tensor_train(X)
    with pytest.raises(ValueError, match="needs init='svd'"):
        semitensor.tucker(X, eps=0.1, init="random")


def test_ring_int_rank_is_capped_at_the_tensor_size_quickly():
    Z = np.random.default_rng(1).standard_normal((8, 8, 8, 8))
    start = time.perf_counter()
    with pytest.warns(RankWarning, match=r"rank=1000 would give a ring of 131072 parameters"):
        result = semitensor.semi_tensor_ring(Z, rank=1000, t=2)
    assert result.n_params <= Z.size
    assert time.perf_counter() - start < 60  # minutes before the cap; a generous bound
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a rank that fits warns nothing
        semitensor.semi_tensor_ring(Z, rank=8, t=2, n_iter_max=1)


def test_layout_reads_arrays_back():
    result = semitensor.semi_tensor_train(X, LITERAL["semi_tensor_train"], 2)
    assert TRAIN.layout(result.arrays) == (result.shape, result.t, result.rank)
    assert [a.shape for a in result.arrays] == TRAIN.array_shapes(result.shape, result.t, result.rank)
    rebuilt = type(result).from_arrays(result.arrays)
    np.testing.assert_array_equal(rebuilt.to_tensor(), result.to_tensor())
    core, factors = semitensor.tucker(X, 2)  # Tucker results unpack as TensorLy's
    assert core.shape == (2, 2, 2, 2) and len(factors) == 4


# ------------------------------------------------------------------- properties

shapes = st.lists(st.sampled_from([2, 4, 6]), min_size=2, max_size=4).map(tuple)


@given(shape=shapes, method=st.sampled_from([m.name for m in METHODS]),
       budget=st.floats(0.05, 0.95), seed=st.integers(0, 2**16))
@settings(max_examples=30)
def test_budget_bounds_the_parameter_count(shape, method, budget, seed):
    family = FAMILIES[parse_method(method).family]
    t = family.ratios(_t(method), shape)
    try:
        rank = family.resolve_rank(budget, shape, t)
    except ValueError as exc:
        assert "a budget of at least" in str(exc)
        smallest = family.resolve_rank(math.lcm(*t), shape, t)
        assert family.n_params(shape, t, smallest) > budget * math.prod(shape)
        return
    assert family.n_params(shape, t, rank) <= budget * math.prod(shape)
    Z = np.random.default_rng(seed).standard_normal(shape)
    assert fit(Z, method, budget, _t(method), n_iter_max=1).n_params <= budget * Z.size


@given(shape=shapes, method=st.sampled_from([m.name for m in METHODS]),
       eps=st.floats(0.0, 0.9), seed=st.integers(0, 2**16))
@settings(max_examples=30)
def test_eps_is_guaranteed(shape, method, eps, seed):
    Z = np.random.default_rng(seed).standard_normal(shape)
    result = fit(Z, method, None, _t(method), eps=eps, n_iter_max=2)
    assert result.relative_error(Z) <= eps + 1e-12
    assert result.errors[-1] == pytest.approx(result.relative_error(Z), rel=0.01, abs=1e-12)


DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", [m.name for m in METHODS])
@pytest.mark.parametrize("noise", [1e-5, 1e-2, 0.3])
def test_error_history_matches_the_true_error(method, dtype, noise):
    # Near-exact fits are where cheap estimates cancel: in float32 a Tucker once
    # reported 0.0 for a true 9.8e-6, a TT 5.6e-4.
    rng = np.random.default_rng(3)
    t = _t(method)
    exact = fit(rng.standard_normal(SHAPE), method, LITERAL[method], t, n_iter_max=0).to_tensor()
    E = rng.standard_normal(SHAPE)
    if np.dtype(dtype).kind == "c":
        exact = exact + 1j * fit(rng.standard_normal(SHAPE), method, LITERAL[method], t,
                                 n_iter_max=0).to_tensor()
        E = E + 1j * rng.standard_normal(SHAPE)
    Z = (exact + noise * np.linalg.norm(exact) / np.linalg.norm(E) * E).astype(dtype)
    result = fit(Z, method, LITERAL[method], t, n_iter_max=5, tol=0)
    eps = float(np.finfo(dtype).eps)
    true = result.relative_error(Z)
    assert result.dtype == dtype
    assert abs(result.errors[-1] - true) <= 0.01 * true + 10 * eps
    assert all(b <= a for a, b in zip(result.errors, result.errors[1:]))


def test_verbose_lines_use_the_rank_convention(capsys):
    Z = np.random.default_rng(0).standard_normal((8, 8, 8, 8))
    semitensor.semi_tensor_train(Z, rank=8, t=2, n_iter_max=1, verbose=True)
    out = capsys.readouterr().out
    assert "rank (1, 8, 8, 8, 1)" in out and "bonds" not in out
