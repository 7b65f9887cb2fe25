"""Numbers at any scale and the fits' dtype policy (issue: trustworthy numbers).

Every fit is scale-invariant: ``fit(c·X)`` has the ranks of ``fit(X)`` and reconstructs
``c·X̂`` with the same error, for ``c`` across the whole exponent range of the dtype.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import semitensor
from semitensor import fit
from semitensor.formats import METHODS, parse_method
from semitensor.linalg import frobenius_norm

X64 = np.random.default_rng(0).standard_normal((4, 6, 4))

#: method → (rank argument, options) exercising int/list/eps/budget and the sweeps
CASES = {
    "tucker": (2, {"n_iter_max": 5}),
    "semi_tensor_tucker": ([2, 2, 2], {"n_iter_max": 5}),
    "tensor_train": (None, {"eps": 0.5, "n_iter_max": 3}),
    "semi_tensor_train": (2, {"n_iter_max": 3}),
    "tensor_ring": ([2, 2, 2, 2], {"n_iter_max": 10}),
    "semi_tensor_ring": ([2, 2, 2, 2], {"n_iter_max": 10}),
}


def _t(method):
    return 2 if parse_method(method).semi else 1


def _fit(method, X):
    rank, options = CASES[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semitensor.RankWarning)
        return fit(X, method, rank, _t(method), tol=0, **options)


@pytest.mark.parametrize("method", [m.name for m in METHODS])
def test_issue_examples_at_extreme_scales(method):
    # tensor_train(X*1e300) reported NaN, tensor_ring(X*1e-300) zero cores and error 0.
    for c in (1e-300, 1e300):
        result = _fit(method, X64 * c)
        assert np.isfinite(result.errors).all() and result.errors[-1] > 0.01
        assert result.relative_error(X64 * c) == pytest.approx(result.errors[-1], rel=0.01)
        assert np.all(np.isfinite(result.to_tensor())) and np.any(result.to_tensor())


@given(method=st.sampled_from([m.name for m in METHODS]), exponent=st.integers(-300, 300),
       mantissa=st.floats(1.0, 9.99))
@settings(max_examples=40)
def test_scale_invariance_float64(method, exponent, mantissa):
    c = mantissa * 10.0 ** exponent
    reference = _fit(method, X64)
    scaled = _fit(method, X64 * c)
    assert scaled.rank == reference.rank and scaled.dtype == np.float64
    assert scaled.errors[-1] == pytest.approx(reference.errors[-1], rel=1e-10)
    assert scaled.relative_error(X64 * c) == pytest.approx(reference.relative_error(X64), rel=1e-10)
    # c·X̂: compare without forming c·reference (which may overflow) — scale the other way.
    difference = frobenius_norm(scaled.to_tensor() / c - reference.to_tensor())
    assert difference <= 1e-10 * frobenius_norm(reference.to_tensor())


@given(method=st.sampled_from([m.name for m in METHODS]), exponent=st.integers(-30, 30))
@settings(max_examples=25)
def test_scale_invariance_float32(method, exponent):
    X = X64.astype(np.float32)
    c = np.float32(10.0 ** exponent)
    reference, scaled = _fit(method, X), _fit(method, X * c)
    assert scaled.rank == reference.rank and scaled.dtype == np.float32
    # c·X rounds differently from X in float32: agreement to its precision.
    assert scaled.errors[-1] == pytest.approx(reference.errors[-1], rel=1e-4)
    assert scaled.relative_error(X * c) == pytest.approx(reference.relative_error(X), rel=1e-4)


def test_subnormal_tensor_is_fitted_not_zeroed():
    X = X64 * 1e-310  # subnormal entries: scaled up exactly by a power of two
    result = semitensor.tensor_ring(X, [2, 2, 2, 2], n_iter_max=3)
    assert np.any(result.to_tensor()) and 0 < result.errors[-1] < 1


def test_zero_tensor_is_exact():
    result = semitensor.tucker(np.zeros((3, 4)), 1)
    assert result.errors == (0.0,) and not np.any(result.to_tensor())


# ----------------------------------------------------------------------- dtype policy


@pytest.mark.parametrize("dtype", [np.longdouble, np.clongdouble])
def test_extended_precision_is_refused_not_cast(dtype):
    if np.finfo(dtype).bits <= 64 and dtype is np.longdouble:
        pytest.skip("long double is double on this platform")
    X = X64.astype(dtype)
    for method in ("tucker", "tensor_train", "tensor_ring"):
        with pytest.raises(TypeError, match="supported: float32, float64, complex64, complex128"):
            fit(X, method, 2)


@pytest.mark.parametrize("method", [m.name for m in METHODS])
def test_float16_is_fitted_in_float32(method):
    result = _fit(method, X64.astype(np.float16))
    assert result.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("method", [m.name for m in METHODS])
def test_dtype_is_preserved(method, dtype):
    X = X64.astype(dtype)
    if np.dtype(dtype).kind == "c":
        X = X + 1j * X64[::-1].astype(dtype)
    result = _fit(method, X)
    assert result.dtype == dtype
    assert all(a.dtype == dtype for a in result.arrays)


def test_masked_arrays_keep_their_mask_or_are_refused():
    masked = np.ma.masked_array(X64, mask=X64 > 1.5)
    with pytest.raises(TypeError, match="masked array with masked entries"):
        semitensor.tucker(masked, 2)
    unmasked = np.ma.masked_array(X64)  # nothing masked: nothing is lost
    assert semitensor.tucker(unmasked, 2).rank == (2, 2, 2)


@pytest.mark.parametrize("bad", [None, "SVD", 1])
def test_init_must_be_named(bad):
    with pytest.raises(ValueError, match="init must be one of"):
        semitensor.tucker(X64, 2, init=bad)
    with pytest.raises(ValueError, match="init must be one of"):
        semitensor.tensor_ring(X64, 2, init=bad)


@pytest.mark.parametrize("eps", [1.0, 2.0, -0.1, float("nan")])
def test_eps_outside_its_range_is_refused(eps):
    with pytest.raises(ValueError, match=r"eps must be a relative error target in \[0, 1\)"):
        semitensor.tensor_train(X64, eps=eps)
