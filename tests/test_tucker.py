"""Semi-tensor Tucker (STTu) and classical Tucker fits against their definitions (docs/conventions.md §4.1)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semitensor.decomposition.tucker import semi_tensor_tucker, tucker
from semitensor.linalg import SVD_METHODS
from semitensor.results import SemiTensorTucker

seeds = st.integers(0, 2**32 - 1)


@st.composite
def st_tucker_models(draw, min_order=2, max_order=5):
    """Random (t, ranks, core, factors) with t_n ∈ {1, 2, 3}, at most ~3000 entries."""
    order = draw(st.integers(min_order, max_order))
    max_p = 4 if order <= 3 else 2
    t = [draw(st.sampled_from([1, 2, 3])) for _ in range(order)]
    p = [draw(st.integers(1, max_p)) for _ in range(order)]  # I_n / t_n
    r = [draw(st.integers(1, pn)) for pn in p]  # R_n / t_n
    rng = np.random.default_rng(draw(seeds))
    core = rng.standard_normal([rn * tn for rn, tn in zip(r, t)])
    factors = [rng.standard_normal((pn, rn)) for pn, rn in zip(p, r)]
    return t, core, factors, rng


def kron_reference(core, factors):
    """``G ×_n (U_n ⊗ I_{t_n})`` with the Kronecker factors formed (tests only)."""
    X = core
    for n, U in enumerate(factors):
        tn = core.shape[n] // U.shape[1]
        E = np.kron(U, np.eye(tn))
        X = np.moveaxis(np.tensordot(E, X, axes=(1, n)), 0, n)
    return X


def elementwise_reference(core, factors):
    """``X[i] = Σ_r G[r] Π_n U_n[a_n, ρ_n] δ(b_n, β_n)``, ``i_n = a_n t_n + b_n``,
    ``r_n = ρ_n t_n + β_n``: the δ fixes ``β_n = b_n``, so only the ``ρ`` are summed."""
    t = [G // U.shape[1] for G, U in zip(core.shape, factors)]
    shape = [U.shape[0] * tn for U, tn in zip(factors, t)]
    X = np.zeros(shape, dtype=np.result_type(core, *factors))
    for i in np.ndindex(*shape):
        a = [i_n // tn for i_n, tn in zip(i, t)]
        b = [i_n % tn for i_n, tn in zip(i, t)]
        for rho in np.ndindex(*[U.shape[1] for U in factors]):
            r = tuple(p * tn + bn for p, tn, bn in zip(rho, t, b))
            X[i] += core[r] * math.prod(U[an, pn] for U, an, pn in zip(factors, a, rho))
    return X


def hosvd_reference(X, ranks, t):
    """ST-HOSVD straight from docs/conventions.md §4.1 with full SVDs: factors and the projected tensor."""
    factors = []
    for n, (R, tn) in enumerate(zip(ranks, t)):
        Xn = np.moveaxis(X, n, 0).reshape(X.shape[n], -1).reshape(X.shape[n] // tn, -1)
        factors.append(np.linalg.svd(Xn, full_matrices=False)[0][:, : R // tn])
    P = X
    for n, U in enumerate(factors):  # project onto the subspaces: X ×_n (U U^H ⊗ I)
        tn = X.shape[n] // U.shape[0]
        P = np.moveaxis(np.tensordot(np.kron(U @ U.conj().T, np.eye(tn)), P, axes=(1, n)), 0, n)
    return factors, P


def noisy_low_rank(shape, ranks, noise, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    core = rng.standard_normal(ranks)
    factors = [rng.standard_normal((s, r)) for s, r in zip(shape, ranks)]
    X = SemiTensorTucker(core, factors).to_tensor()
    X = X + noise * np.linalg.norm(X) / math.sqrt(X.size) * rng.standard_normal(shape)
    return X.astype(dtype)


def assert_orthonormal(U, atol=1e-10):
    np.testing.assert_allclose(U.conj().T @ U, np.eye(U.shape[1]), atol=atol)


# ------------------------------------------------------------------- model and reference


@settings(max_examples=25)
@given(model=st_tucker_models(max_order=4))
def test_to_tensor_matches_elementwise_definition(model):
    t, core, factors, _ = model
    T = SemiTensorTucker(core, factors)
    assert T.t == tuple(t)
    expected = elementwise_reference(core, factors)
    np.testing.assert_allclose(T.to_tensor(), expected, atol=1e-12)
    np.testing.assert_allclose(kron_reference(core, factors), expected, atol=1e-12)


def test_n_params_and_compression_ratio():
    T = semi_tensor_tucker(np.ones((12, 6, 9)), rank=[4, 6, 3], t=[2, 3, 1], n_iter_max=0)
    assert T.rank == (4, 6, 3) and T.t == (2, 3, 1) and T.shape == (12, 6, 9)
    expected = 4 * 6 * 3 + 12 * 4 // 4 + 6 * 6 // 9 + 9 * 3
    assert T.n_params == expected
    assert T.compression_ratio == pytest.approx(12 * 6 * 9 / expected)


# ---------------------------------------------------------------------- exact recovery


@settings(max_examples=25)
@given(model=st_tucker_models())
def test_exact_recovery(model):
    t, core, factors, _ = model
    X = SemiTensorTucker(core, factors).to_tensor()
    T = semi_tensor_tucker(X, rank=list(core.shape), t=t)
    assert T.rank == core.shape and T.t == tuple(t)
    assert [U.shape for U in T.factors] == [U.shape for U in factors]
    for U in T.factors:
        assert_orthonormal(U)
    assert T.relative_error(X) < 1e-10
    assert T.errors[-1] < 1e-6  # sqrt(‖X‖² − ‖G‖²) only resolves down to ~sqrt(eps)


@settings(max_examples=10)
@given(model=st_tucker_models(max_order=3))
def test_exact_recovery_complex(model):
    t, core, factors, rng = model
    core = core + 1j * rng.standard_normal(core.shape)
    factors = [U + 1j * rng.standard_normal(U.shape) for U in factors]
    X = SemiTensorTucker(core, factors).to_tensor()
    T = semi_tensor_tucker(X, rank=list(core.shape), t=t)
    assert T.core.dtype == np.complex128
    assert all(U.dtype == np.complex128 for U in T.factors)
    for U in T.factors:
        assert_orthonormal(U)
    assert T.relative_error(X) < 1e-10
    # The core is the projection with conjugate transposes: G = X ⋉_n U_n^H.
    G = X
    for n, U in enumerate(T.factors):
        tn = T.t[n]
        G = np.moveaxis(np.tensordot(np.kron(U.conj().T, np.eye(tn)), G, axes=(1, n)), 0, n)
    np.testing.assert_allclose(T.core, G, atol=1e-10 * np.linalg.norm(X))


def test_exact_recovery_from_random_init():
    X = noisy_low_rank((9, 8, 7), (3, 4, 2), noise=0.0)
    T = tucker(X, [3, 4, 2], init="random", random_state=3)
    assert T.relative_error(X) < 1e-10


def test_rank_above_the_unfolding_is_completed():
    # Mode 0 has 8 entries but its unfolding only 2 columns: U_0 is completed to 8 columns.
    X = np.random.default_rng(0).standard_normal((8, 2))
    for n_iter_max in (0, 5):
        T = tucker(X, [8, 2], n_iter_max=n_iter_max)
        assert T.factors[0].shape == (8, 8)
        assert_orthonormal(T.factors[0])
        assert T.relative_error(X) < 1e-12


def test_uniform_int_rank_is_capped_by_the_mode_size():
    X = np.random.default_rng(0).standard_normal((8, 6, 2))
    T = semi_tensor_tucker(X, rank=4, t=2)
    assert T.rank == (4, 4, 2)
    assert tucker(X, 100).rank == (8, 6, 2)


def test_zero_tensor():
    T = semi_tensor_tucker(np.zeros((4, 6)), rank=2, t=2)
    assert T.errors == (0.0,) * len(T.errors)
    np.testing.assert_array_equal(T.to_tensor(), 0)


# ------------------------------------------------------------ HOSVD and classical Tucker


@pytest.mark.parametrize(("shape", "ranks", "t"), [
    ((7, 6, 5), (3, 2, 4), (1, 1, 1)),
    ((8, 6, 9), (4, 3, 3), (2, 3, 1)),
    ((4, 6), (2, 2), (2, 2)),
])
def test_hosvd_matches_reference(shape, ranks, t):
    X = np.random.default_rng(1).standard_normal(shape)
    T = semi_tensor_tucker(X, list(ranks), list(t), n_iter_max=0)
    ref_factors, ref_projection = hosvd_reference(X, ranks, t)
    for U, V in zip(T.factors, ref_factors):  # same subspaces
        np.testing.assert_allclose(U @ U.T, V @ V.T, atol=1e-10)
    np.testing.assert_allclose(T.to_tensor(), ref_projection, atol=1e-10)
    assert len(T.errors) == 1
    assert T.errors[0] == pytest.approx(T.relative_error(X), rel=1e-10)


def test_tucker_is_semi_tensor_tucker_with_t_1():
    X = noisy_low_rank((9, 8, 7), (3, 3, 3), noise=0.1)
    A = tucker(X, [3, 4, 2], n_iter_max=5)
    B = semi_tensor_tucker(X, [3, 4, 2], 1, n_iter_max=5)
    assert A.t == (1, 1, 1)
    np.testing.assert_array_equal(A.core, B.core)
    for U, V in zip(A.factors, B.factors):
        np.testing.assert_array_equal(U, V)
    assert A.errors == B.errors


# ---------------------------------------------------------------------------------- HOOI


@settings(max_examples=15)
@given(model=st_tucker_models(max_order=4), seed=seeds)
def test_hooi_never_increases_the_error(model, seed):
    t, core, factors, _ = model
    X = SemiTensorTucker(core, factors).to_tensor()
    X = X + 0.3 * np.std(X) * np.random.default_rng(seed).standard_normal(X.shape)
    ranks = [max(tn, R - tn) for R, tn in zip(core.shape, t)]  # below the true ranks
    T = semi_tensor_tucker(X, ranks, t, n_iter_max=8, tol=0)
    errors = np.array(T.errors)
    assert 1 <= errors.size <= 9
    assert np.all(np.diff(errors) <= 1e-12)
    hosvd = semi_tensor_tucker(X, ranks, t, n_iter_max=0)
    assert T.errors[0] == pytest.approx(hosvd.errors[0], rel=1e-12, abs=1e-14)
    assert T.relative_error(X) <= hosvd.relative_error(X) + 1e-12
    assert T.errors[-1] == pytest.approx(T.relative_error(X), rel=1e-8, abs=1e-7)


def test_hooi_improves_on_hosvd_and_tol_stops():
    X = noisy_low_rank((10, 9, 8), (4, 4, 4), noise=1.0, seed=2)
    hosvd = tucker(X, 3, n_iter_max=0)
    full = tucker(X, 3, n_iter_max=50, tol=0)
    assert full.relative_error(X) < hosvd.relative_error(X)
    assert full.errors[0] == pytest.approx(hosvd.errors[0], rel=1e-12)
    assert len(full.errors) > 2
    loose = tucker(X, 3, n_iter_max=50, tol=0.5)  # the first sweep changes the error by < 50 %
    assert len(loose.errors) == 2
    tight = tucker(X, 3, n_iter_max=50, tol=1e-6)
    changes = -np.diff(tight.errors) / np.array(tight.errors[:-1])
    assert changes[-1] <= 1e-6 and np.all(changes[:-1] > 1e-6)


def test_verbose_prints_one_line_per_sweep(capsys):
    X = noisy_low_rank((6, 5, 4), (2, 2, 2), noise=0.5)
    T = tucker(X, 2, n_iter_max=3, tol=0, verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(T.errors) >= 2  # the start, then one line per sweep
    assert lines[0].startswith("tucker start") and "rank (2, 2, 2)" in lines[-1]
    assert all("relative error" in line for line in lines)
    tucker(X, 2, n_iter_max=3)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("svd", SVD_METHODS)
def test_every_svd_backend_gives_the_same_fit(svd):
    X = noisy_low_rank((8, 6, 6), (4, 2, 2), noise=0.05)
    ref = semi_tensor_tucker(X, [4, 2, 2], [2, 1, 2], n_iter_max=5, svd="full")
    T = semi_tensor_tucker(X, [4, 2, 2], [2, 1, 2], n_iter_max=5, svd=svd, random_state=0)
    assert T.relative_error(X) == pytest.approx(ref.relative_error(X), rel=1e-6)


# ------------------------------------------------------------------ dtypes and purity


def test_float32_stays_float32():
    X = noisy_low_rank((12, 10, 8), (4, 4, 4), noise=0.01, dtype=np.float32)
    T = semi_tensor_tucker(X, [4, 4, 4], [2, 2, 1], n_iter_max=3)
    assert T.core.dtype == np.float32
    assert all(U.dtype == np.float32 for U in T.factors)
    ref = semi_tensor_tucker(X.astype(np.float64), [4, 4, 4], [2, 2, 1], n_iter_max=3)
    assert T.relative_error(X) == pytest.approx(ref.relative_error(X), abs=1e-3)


def test_integer_input_is_promoted_to_float64():
    X = np.random.default_rng(0).integers(-5, 5, size=(6, 4, 4))
    T = semi_tensor_tucker(X, 2, 2)
    assert T.core.dtype == np.float64 and T.factors[0].dtype == np.float64
    ref = semi_tensor_tucker(X.astype(np.float64), 2, 2)
    np.testing.assert_array_equal(T.core, ref.core)


@pytest.mark.parametrize("init", ["svd", "random"])
def test_input_is_not_mutated(init):
    X = noisy_low_rank((6, 6, 4), (3, 3, 2), noise=0.2) + 0j
    X[0, 0, 0] += 1j
    before = X.copy()
    semi_tensor_tucker(X, [2, 2, 2], 2, n_iter_max=3, init=init, random_state=0)
    np.testing.assert_array_equal(X, before)


def test_random_init_is_deterministic():
    X = noisy_low_rank((8, 7, 6), (3, 3, 3), noise=0.3)
    kw = dict(init="random", n_iter_max=3, tol=0)
    A = tucker(X, 2, random_state=7, **kw)
    B = tucker(X, 2, random_state=np.random.default_rng(7), **kw)
    C = tucker(X, 2, random_state=8, **kw)
    np.testing.assert_array_equal(A.core, B.core)
    assert A.errors == B.errors
    assert not np.array_equal(A.factors[0], C.factors[0])
    R1 = tucker(X, 2, svd="randomized", random_state=5, n_iter_max=2)
    R2 = tucker(X, 2, svd="randomized", random_state=5, n_iter_max=2)
    np.testing.assert_array_equal(R1.core, R2.core)


# -------------------------------------------------------------------------- error paths


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    (dict(rank=2, t=[3, 1, 1]), ValueError, r"t\[0\]=3 does not divide mode 0 of size 4"),
    (dict(rank=2, t=[1, 1]), ValueError, r"t must have one ratio per mode \(3\)"),
    (dict(rank=2, t=0), ValueError, "t must be an integer >= 1"),
    (dict(rank=[2, 3, 2], t=[2, 2, 1]), ValueError, r"rank\[1\]=3 must be a multiple of t\[1\]=2.*\[2, 4\]"),
    (dict(rank=[2, 7, 2]), ValueError, r"rank\[1\]=7 exceeds the size 6 of mode 1"),
    (dict(rank=[2, 2]), ValueError, "rank must have 3 entries"),
    (dict(rank=0), ValueError, "rank must be an integer >= 1"),
    (dict(rank=2.5), ValueError, "a float rank is a parameter budget"),
    (dict(rank=2, init="hosvd"), ValueError, "init must be one of"),
    (dict(rank=2, svd="qr"), ValueError, "svd must be one of"),
    (dict(rank=2, tol=-1.0), ValueError, "tol must be a finite number >= 0"),
    (dict(rank=2, tol=np.nan), ValueError, "tol must be a finite number >= 0"),
    (dict(rank=2, tol="1e-3"), ValueError, "tol must be a finite number >= 0"),
    (dict(rank=2, n_iter_max=-1), ValueError, "n_iter_max must be an integer >= 0"),
    (dict(rank=2, n_iter_max=2.0), TypeError, "n_iter_max must be an integer"),
    (dict(rank=2, random_state="seed"), TypeError, "random_state must be"),
])
def test_bad_arguments(kwargs, exc, match):
    X = np.ones((4, 6, 5))
    with pytest.raises(exc, match=match):
        semi_tensor_tucker(X, **kwargs)


def test_bad_tensor():
    with pytest.raises(TypeError, match="numeric dtype"):
        tucker(np.array([["a", "b"], ["c", "d"]]), 1)
    with pytest.raises(TypeError, match="numeric"):
        tucker([[1, 2], [3]], 1)
    with pytest.raises(ValueError, match="NaN or Inf"):
        tucker(np.array([[1.0, np.nan], [0.0, 1.0]]), 1)
    with pytest.raises(ValueError, match="must not be empty"):
        tucker(np.ones((3, 0)), 1)


def test_order_one_and_non_contiguous_input():
    x = np.arange(12.0)
    T = semi_tensor_tucker(x, 4, 2)
    assert T.rank == (4,) and T.factors[0].shape == (6, 2)
    assert T.relative_error(x) < 1e-12
    X = np.random.default_rng(0).standard_normal((6, 8, 4)).transpose(2, 0, 1)
    A = semi_tensor_tucker(X, [2, 2, 4], [2, 1, 2], n_iter_max=3)
    B = semi_tensor_tucker(np.ascontiguousarray(X), [2, 2, 4], [2, 1, 2], n_iter_max=3)
    np.testing.assert_allclose(A.to_tensor(), B.to_tensor(), atol=1e-12)
