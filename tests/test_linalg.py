"""Tests of the truncated SVD backends (semitensor.linalg)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semitensor import linalg
from semitensor.linalg import SVD_METHODS, low_rank_split, truncated_svd

METHODS = ("auto", "gram", "lq", "randomized", "full")
DTYPES = (np.float32, np.float64, np.complex64, np.complex128)
# Relative accuracy (w.r.t. s_max) expected of every backend in each precision.
RTOL = {np.float32: 2e-4, np.complex64: 2e-4, np.float64: 1e-11, np.complex128: 1e-11}


def random_orthonormal(rng, n, k, dtype):
    A = rng.standard_normal((n, k))
    if np.dtype(dtype).kind == "c":
        A = A + 1j * rng.standard_normal((n, k))
    return np.linalg.qr(A)[0]


def matrix_with_spectrum(rng, m, n, s, dtype=np.float64):
    """``U diag(s) V^H`` with random orthonormal ``U``, ``V`` (built in double)."""
    k = len(s)
    M = (random_orthonormal(rng, m, k, dtype) * s) @ random_orthonormal(rng, n, k, dtype).conj().T
    return M.astype(dtype)


def layout(M, kind):
    """The same values in C order, Fortran order or as a strided view."""
    if kind == "F":
        return np.asfortranarray(M)
    if kind == "strided":
        big = np.zeros((M.shape[0], 2 * M.shape[1]), M.dtype)
        big[:, ::2] = M
        return big[:, ::2]
    return np.ascontiguousarray(M)


def reference_svd(M):
    return np.linalg.svd(M.astype(np.complex128 if np.iscomplexobj(M) else np.float64),
                         full_matrices=False)


def reference_tails(s):
    """tails[r] = Frobenius norm discarded when r values are kept, r = 0..len(s)."""
    return np.sqrt(np.append(np.cumsum((s**2)[::-1])[::-1], 0.0))


def assert_orthonormal_columns(U, atol):
    np.testing.assert_allclose(U.conj().T @ U, np.eye(U.shape[1]), atol=atol)


def projector_gap(U, Uref):
    U, Uref = U.astype(np.complex128), Uref.astype(np.complex128)
    return np.linalg.norm(U @ U.conj().T - Uref @ Uref.conj().T, 2)


shapes = st.tuples(st.integers(1, 11), st.integers(1, 11))


@settings(max_examples=30, deadline=None)
@given(method=st.sampled_from(METHODS), dtype=st.sampled_from(DTYPES), shape=shapes,
       kind=st.sampled_from(["C", "F", "strided"]), seed=st.integers(0, 2**32 - 1))
def test_truncated_svd_matches_reference(method, dtype, shape, kind, seed):
    rng = np.random.default_rng(seed)
    m, n = shape
    p = min(m, n)
    # Singular values 0.8**i: distinct, with gaps, so leading subspaces are well defined.
    s_true = 0.8 ** np.arange(p)
    M = layout(matrix_with_spectrum(rng, m, n, s_true, dtype), kind)
    rtol = RTOL[dtype]
    Uref, sref, _ = reference_svd(M)

    U, s, Vh = truncated_svd(M, rank=p, method=method, random_state=seed)
    assert U.dtype == M.dtype and Vh.dtype == M.dtype
    assert s.dtype == np.finfo(dtype).dtype
    assert U.shape == (m, p) and s.shape == (p,) and Vh.shape == (p, n)
    np.testing.assert_allclose(s, sref, atol=rtol)
    assert np.all(np.diff(s) <= 0)
    assert_orthonormal_columns(U, 10 * rtol)
    assert_orthonormal_columns(Vh.conj().T, 10 * rtol)
    np.testing.assert_allclose((U * s) @ Vh, M, atol=10 * rtol)

    k = int(rng.integers(1, p + 1))
    U, s, Vh = truncated_svd(M, rank=k, method=method, random_state=seed)
    assert U.shape == (m, k) and s.shape == (k,) and Vh.shape == (k, n)
    np.testing.assert_allclose(s, sref[:k], atol=rtol)
    assert projector_gap(U, Uref[:, :k]) < 100 * rtol


@settings(max_examples=30, deadline=None)
@given(method=st.sampled_from(METHODS), dtype=st.sampled_from(DTYPES), shape=shapes,
       kind=st.sampled_from(["C", "F", "strided"]), seed=st.integers(0, 2**32 - 1))
def test_low_rank_split_matches_reference(method, dtype, shape, kind, seed):
    rng = np.random.default_rng(seed)
    m, n = shape
    p = min(m, n)
    M = layout(matrix_with_spectrum(rng, m, n, 0.8 ** np.arange(p), dtype), kind)
    rtol = RTOL[dtype]
    Uref, sref, _ = reference_svd(M)
    k = int(rng.integers(1, p + 1))

    U, s, R = low_rank_split(M, k, method=method, random_state=seed)
    assert U.dtype == M.dtype and R.dtype == M.dtype and s.dtype == np.finfo(dtype).dtype
    assert U.shape == (m, k) and s.shape == (k,) and R.shape == (k, n)
    assert_orthonormal_columns(U, 10 * rtol)
    np.testing.assert_allclose(s, sref[:k], atol=rtol)
    np.testing.assert_allclose(U.conj().T @ M, R, atol=10 * rtol)
    assert projector_gap(U, Uref[:, :k]) < 100 * rtol
    # What is left over is exactly what the truncation discards.
    residual = np.linalg.norm((M - U @ R).astype(np.complex128))
    np.testing.assert_allclose(residual, reference_tails(sref)[k], atol=10 * rtol)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(40, 7), (7, 40), (25, 25)])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_exact_low_rank_is_recovered(method, shape, dtype):
    rng = np.random.default_rng(1)
    m, n = shape
    k = 5
    A = rng.standard_normal((m, k))
    if dtype is np.complex128:
        A = A + 1j * rng.standard_normal((m, k))
    M = A @ rng.standard_normal((k, n))
    nrm = np.linalg.norm(M)
    U, s, Vh = truncated_svd(M, k, method=method, random_state=0)
    assert np.linalg.norm((U * s) @ Vh - M) <= 1e-12 * nrm
    U, s, R = low_rank_split(M, k, method=method, random_state=0)
    assert np.linalg.norm(U @ R - M) <= 1e-12 * nrm
    if method != "randomized":  # tol alone finds the rank (1e-6: within Gram's reach)
        U, s, R = low_rank_split(M, tol=1e-6 * nrm, method=method)
        assert s.shape == (k,)


def test_randomized_on_a_genuinely_partial_sketch():
    # rank + oversamples = 15 < min(m, n) = 120, so the sketch really is partial; the
    # spectrum 0.5**i makes the power iterations converge to ~ (0.5**10)**5.
    rng = np.random.default_rng(2)
    M = matrix_with_spectrum(rng, 120, 300, 0.5 ** np.arange(120))
    Uref, sref, _ = reference_svd(M)
    U, s, Vh = truncated_svd(M, 5, method="randomized", random_state=0)
    np.testing.assert_allclose(s, sref[:5], rtol=1e-10)
    assert projector_gap(U, Uref[:, :5]) < 1e-10
    # With tol, the tail beyond the sketch comes from ||M||_F^2 - ||Q^H M||_F^2.
    tails = reference_tails(sref)
    U, s, R = low_rank_split(M, 10, tol=np.sqrt(tails[3] * tails[4]), method="randomized",
                             random_state=0)
    assert s.shape == (4,)
    assert np.linalg.norm(M - U @ R) <= np.sqrt(tails[3] * tails[4])


def test_randomized_is_deterministic_for_a_seed():
    rng = np.random.default_rng(3)
    M = rng.standard_normal((60, 80))
    a = truncated_svd(M, 4, method="randomized", random_state=7, n_power_iter=0)
    b = truncated_svd(M, 4, method="randomized", random_state=7, n_power_iter=0)
    c = truncated_svd(M, 4, method="randomized", random_state=np.random.default_rng(7),
                      n_power_iter=0)
    for x, y, z in zip(a, b, c):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)
    d = truncated_svd(M, 4, method="randomized", random_state=8, n_power_iter=0)
    assert not np.array_equal(a[1], d[1])


@settings(max_examples=30, deadline=None)
@given(method=st.sampled_from(["auto", "gram", "lq", "full"]),
       dtype=st.sampled_from(DTYPES), shape=shapes, seed=st.integers(0, 2**32 - 1),
       data=st.data())
def test_tol_selects_the_minimal_rank(method, dtype, shape, seed, data):
    rng = np.random.default_rng(seed)
    m, n = shape
    p = min(m, n)
    M = matrix_with_spectrum(rng, m, n, 0.5 ** np.arange(p), dtype)
    sref = reference_svd(M)[1]
    tails = reference_tails(sref)  # tails[r]: discarded norm when keeping r
    # Keep the boundary where the method can resolve it: the Gram route only sees tails
    # above ~sqrt(p eps) ||M||, so it is tested on coarse tolerances.
    single = np.dtype(dtype) in (np.float32, np.complex64)
    floor = 0.3 if (single and method == "gram") else 1e-3 if (single or method == "gram") else 1e-9
    valid = [r for r in range(1, p) if tails[r] > floor * tails[0]]
    if not valid:
        return
    r = data.draw(st.sampled_from(valid))
    # A tol halfway (geometrically) between two tails: the minimal rank is r, clear of ties.
    tol = np.sqrt(tails[r] * tails[r - 1]) if r > 1 else np.sqrt(tails[1] * tails[0])
    U, s, Vh = truncated_svd(M, tol=tol, method=method)
    assert s.shape == (r,)
    assert np.linalg.norm(M.astype(np.complex128) - (U * s) @ Vh) <= tol
    # rank caps whatever tol asks for.
    cap = data.draw(st.integers(1, p))
    U, s, R = low_rank_split(M, cap, tol=tol, method=method)
    assert s.shape == (min(cap, r),)
    # No tol, no rank: everything.
    assert truncated_svd(M, method=method)[1].shape == (p,)


def test_auto_switches_to_lq_when_tol_is_below_gram_resolution():
    rng = np.random.default_rng(4)
    M = matrix_with_spectrum(rng, 40, 300, np.logspace(0, -12, 40))
    sref = reference_svd(M)[1]
    tol = 1e-10 * np.linalg.norm(M)
    r_ref = int(np.flatnonzero(reference_tails(sref) <= tol)[0])
    assert linalg._auto_method(M, tol) == "lq"

    U, s, Vh = truncated_svd(M, tol=tol)
    assert s.shape == (r_ref,)
    assert np.linalg.norm(M - (U * s) @ Vh) <= tol
    U, s, R = low_rank_split(M, tol=tol)
    assert np.linalg.norm(M - U @ R) <= tol

    # The Gram route alone fails here: its eigenvalues carry errors ~ eps ||M||^2, so it
    # cannot see singular values below ~sqrt(eps) ||M|| ~ 1e-8 ||M|| and stops far too
    # early, discarding about 100 x tol.
    U, s, Vh = truncated_svd(M, tol=tol, method="gram")
    assert np.linalg.norm(M - (U * s) @ Vh) > 10 * tol


def test_auto_rule():
    rng = np.random.default_rng(5)
    M = rng.standard_normal((64, 200))
    nrm = np.linalg.norm(M)
    assert linalg._auto_method(M, None) == linalg._GRAM_CHECKED
    assert linalg._auto_method(M, 1e-3 * nrm) == linalg._GRAM_CHECKED
    assert linalg._auto_method(M, 1e-8 * nrm) == "lq"
    # float32 resolution is sqrt(64 * 1.2e-7) * 4 ~ 1e-2: already 1e-3 needs the accurate route.
    assert linalg._auto_method(M.astype(np.float32), 1e-3 * nrm) == "lq"
    assert linalg._auto_method(M.astype(np.float32), 1e-1 * nrm) == linalg._GRAM_CHECKED


@pytest.mark.parametrize("method", ["gram", "lq", "full"])
def test_partial_eigensolve_with_tol_and_rank(method):
    # rank=2 of p=30 takes the subset eigensolver in the Gram route; the tail then comes
    # from the trace of the Gram matrix.
    rng = np.random.default_rng(6)
    M = matrix_with_spectrum(rng, 30, 50, 0.3 ** np.arange(30))
    tails = reference_tails(reference_svd(M)[1])
    assert low_rank_split(M, 2, tol=tails[0] / 2, method=method)[1].shape == (1,)
    assert low_rank_split(M, 2, tol=tails[3], method=method)[1].shape == (2,)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_matrix(method, dtype):
    M = np.zeros((4, 6), dtype)
    U, s, Vh = truncated_svd(M, tol=0.0 if method != "randomized" else 1.0,
                             rank=None if method != "randomized" else 3,
                             method=method, random_state=0)
    assert s.shape == (1,) and s[0] == 0
    assert_orthonormal_columns(U, 1e-6)
    U, s, R = low_rank_split(M, 3, method=method, random_state=0)
    assert s.shape == (3,) and not s.any() and not R.any()
    assert_orthonormal_columns(U, 1e-6)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype,scale", [(np.float32, 1e25), (np.float32, 1e-25),
                                         (np.float64, 1e200), (np.float64, 1e-200)])
def test_extreme_magnitudes(method, dtype, scale):
    # Squaring overflows/underflows here; the Gram route rescales by a power of two.
    rng = np.random.default_rng(7)
    base = matrix_with_spectrum(rng, 12, 20, 0.8 ** np.arange(12))
    M = (base * scale).astype(dtype)
    U, s, Vh = truncated_svd(M, 3, method=method, random_state=0)
    np.testing.assert_allclose(s / scale, 0.8 ** np.arange(3), rtol=RTOL[dtype] * 10)
    U, s, R = low_rank_split(M, 3, tol=0.5 * scale, method=method, random_state=0)
    assert s.shape == (3,) and np.isfinite(R).all()


@pytest.mark.parametrize("method", METHODS)
def test_input_not_mutated(method):
    rng = np.random.default_rng(8)
    for M in (rng.standard_normal((9, 5)), rng.standard_normal((5, 9)) + 1j):
        keep = M.copy()
        M.setflags(write=False)  # any in-place write would raise
        truncated_svd(M, 3, method=method, random_state=0)
        low_rank_split(M, 3, method=method, random_state=0)
        np.testing.assert_array_equal(M, keep)


@pytest.mark.parametrize("data,dtype", [
    (np.arange(12).reshape(3, 4), np.float64),
    (np.eye(3, dtype=bool), np.float64),
    (np.ones((3, 4), np.float16), np.float32),
    ([[1, 2], [3, 4j]], np.complex128),
])
def test_promotion(data, dtype):
    U, s, Vh = truncated_svd(data, 1)
    assert U.dtype == dtype and Vh.dtype == dtype


def test_svd_methods():
    assert SVD_METHODS == METHODS


GOOD = np.ones((3, 4))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: truncated_svd(GOOD, method="qr"), ValueError, r"method must be one of \('auto'"),
    (lambda: truncated_svd(GOOD, method=None), TypeError, "method must be a string"),
    (lambda: truncated_svd(GOOD, rank=4), ValueError, r"maximum allowed is min\(m, n\) = 3"),
    (lambda: truncated_svd(GOOD, rank=0), ValueError, "rank must be an integer >= 1"),
    (lambda: truncated_svd(GOOD, rank=2.0), TypeError, "rank must be an integer"),
    (lambda: truncated_svd(GOOD, tol=-1.0), ValueError, "tol must be a finite number >= 0"),
    (lambda: truncated_svd(GOOD, tol=np.inf), ValueError, "tol must be a finite number"),
    (lambda: truncated_svd(GOOD, tol="small"), TypeError, "tol must be a real number"),
    (lambda: truncated_svd(GOOD, tol=1e-3, method="randomized"), ValueError,
     "method='randomized' requires rank"),
    (lambda: low_rank_split(GOOD, method="randomized"), ValueError, "requires rank"),
    (lambda: truncated_svd(np.ones(4)), ValueError, "matrix must be 2-D, got a 1-d"),
    (lambda: truncated_svd(np.ones((2, 2, 2))), ValueError, "matrix must be 2-D"),
    (lambda: truncated_svd(np.ones((0, 3))), ValueError, "matrix must be non-empty"),
    (lambda: truncated_svd(np.array([[1.0, np.nan]])), ValueError, "matrix contains NaN or Inf"),
    (lambda: low_rank_split(np.array([[1.0, np.inf]])), ValueError, "NaN or Inf"),
    (lambda: truncated_svd(np.array([[1e308, 1e308]])), None, None),  # finite, sum overflows
    (lambda: truncated_svd(np.array([[object()]])), TypeError, "numeric dtype"),
    (lambda: truncated_svd(np.ones((2, 2), np.longdouble)), TypeError, "not supported"),
    (lambda: truncated_svd(GOOD, 2, n_oversamples=-1), ValueError, "n_oversamples"),
    (lambda: truncated_svd(GOOD, 2, n_power_iter=1.5), TypeError, "n_power_iter"),
    (lambda: truncated_svd(GOOD, 2, random_state="seed"), TypeError, "random_state"),
])
def test_argument_errors(call, exc, match):
    if exc is None:
        call()
        return
    with pytest.raises(exc, match=match):
        call()


def test_auto_refines_a_rank_cap_below_the_gram_resolution():
    # Singular values 1, 1e-3, 1e-6, 1e-9, ...: a rank-4 cap discards a tail ~1e-12,
    # far below what the Gram matrix resolves (~1e-8 relative). Plain "gram" loses it
    # (its eigenvectors are only accurate to ~1e-8); "auto" refines by one subspace
    # iteration and matches the exact SVD.
    rng = np.random.default_rng(11)
    m, n = 30, 200
    U = np.linalg.qr(rng.standard_normal((m, m)))[0]
    V = np.linalg.qr(rng.standard_normal((n, m)))[0]
    s = 10.0 ** (-3.0 * np.arange(m))
    M = (U * s) @ V.T
    best = np.linalg.norm(s[4:])
    for method, ok in (("auto", True), ("lq", True), ("gram", False)):
        Uk, _, R = low_rank_split(M, 4, method=method)
        err = np.linalg.norm(M - Uk @ R)
        assert (err <= 10 * best + 1e-300) == ok, (method, err, best)
