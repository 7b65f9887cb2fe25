"""Semi-tensor ring / tensor-ring fits (docs/conventions.md §4.3): TR-SVD start, TR-ALS sweeps."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semitensor.decomposition.ring import _candidate_splits, semi_tensor_ring, tensor_ring
from semitensor.regroup import regroup_tensor, st_cores_to_classical
from semitensor.results import SemiTensorRing
from semitensor.formats import RankWarning

# Small int ranks on tiny tensors hit the ring size cap; its warning is tested on its own.
pytestmark = pytest.mark.filterwarnings("ignore::semitensor.formats.RankWarning")


def ring_elementwise(cores, shape, t):
    """docs/conventions.md §4.3 entry by entry: ``X(i) = Σ_r Π_k G_k[r_k // t_k, a_k, r_{k+1}]`` over the
    bonds with ``r_k % t_k = b_k`` (0-based; bond ``k`` is the left bond of core ``k``)."""
    n = len(cores)
    bonds = [cores[k - 1].shape[2] for k in range(n)]
    X = np.zeros(shape, dtype=np.result_type(*cores))
    for idx in np.ndindex(*shape):
        a = [i // tk for i, tk in zip(idx, t)]
        b = [i % tk for i, tk in zip(idx, t)]
        total = 0
        for r in itertools.product(*(range(R) for R in bonds)):
            if all(r[k] % t[k] == b[k] for k in range(n)):
                total += math.prod(cores[k][r[k] // t[k], a[k], r[(k + 1) % n]] for k in range(n))
        X[idx] = total
    return X


def random_st_ring(rng, a, t, inner, dtype=np.float64):
    """ST ring with mode sizes ``a_k·t_k`` and bonds ``R_k = inner_k·t_k``."""
    n = len(a)
    cores = []
    for k in range(n):
        dims = (inner[k], a[k], inner[(k + 1) % n] * t[(k + 1) % n])
        G = rng.standard_normal(dims)
        if np.issubdtype(dtype, np.complexfloating):
            G = G + 1j * rng.standard_normal(dims)
        cores.append(G.astype(dtype))
    ring = SemiTensorRing(cores)
    assert ring.t == tuple(t)
    return ring


def bonds_of(ring):
    return list(ring.rank)


def assert_non_increasing(errors, rel=1e-9, abs_=1e-11):
    e = np.asarray(errors)
    assert np.all(e[1:] <= e[:-1] * (1 + rel) + abs_), e


@st.composite
def st_ring_problem(draw, min_order=1, max_order=4, max_bond=3):
    n = draw(st.integers(min_order, max_order))
    t = [draw(st.sampled_from([1, 2])) for _ in range(n)]
    a = [draw(st.integers(1, 2)) for _ in range(n)]
    inner = [draw(st.integers(1, max_bond)) for _ in range(n)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return random_st_ring(rng, a, t, inner), t


# --------------------------------------------------------------------------- format


@given(problem=st_ring_problem())
@settings(max_examples=20)
def test_to_tensor_matches_elementwise_formula(problem):
    ring, t = problem
    np.testing.assert_allclose(ring.to_tensor(), ring_elementwise(ring.cores, ring.shape, t), atol=1e-12)


def test_fitted_ring_is_the_tr_of_the_regrouped_tensor():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 6, 6))
    fit = semi_tensor_ring(X, rank=[4, 6, 4, 4], t=2, n_iter_max=3)
    assert fit.t == (2, 2, 2) and fit.rank == (4, 6, 4, 4)
    assert [G.shape for G in fit.cores] == [(2, 2, 6), (3, 3, 4), (2, 3, 4)]
    classical = SemiTensorRing(st_cores_to_classical(fit.cores, fit.t))
    np.testing.assert_allclose(regroup_tensor(fit.to_tensor(), fit.t), classical.to_tensor(), atol=1e-12)
    np.testing.assert_allclose(fit.to_tensor(), ring_elementwise(fit.cores, fit.shape, fit.t), atol=1e-10)


# --------------------------------------------------------------------- exact recovery


@given(seed=st.integers(0, 2**32 - 1), t=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       inner=st.tuples(st.integers(1, 3), st.integers(1, 3)), extra=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       complex_=st.booleans())
@settings(max_examples=20)
def test_tr_svd_recovers_order_2_rings(seed, t, inner, extra, complex_):
    # Order 2: the first unfolding is the whole fit, so TR-SVD is exact whenever
    # R'_0·R'_1 fits in both mode sizes J_k = (I_k/t_k)·t_{k+1}.
    rng = np.random.default_rng(seed)
    need = inner[0] * inner[1]
    a = [-(-need // t[(k + 1) % 2]) + extra[k] for k in range(2)]
    ring = random_st_ring(rng, a, list(t), list(inner), np.complex128 if complex_ else np.float64)
    X = ring.to_tensor()
    fit = semi_tensor_ring(X, bonds_of(ring), t=list(t), n_iter_max=0)
    assert fit.rank == ring.rank and fit.t == ring.t
    assert fit.relative_error(X) < 1e-10
    assert fit.errors == pytest.approx([fit.relative_error(X)], abs=1e-12)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 5), unit=st.integers(0, 4), data=st.data())
@settings(max_examples=20)
def test_tr_svd_recovers_rings_with_a_unit_bond(seed, n, unit, data):
    # R_u = t_u (classical bond 1): the ring is a train there, so the split starting at
    # that bond is exact (every later TT step keeps the whole unfolding).
    rng = np.random.default_rng(seed)
    t = [data.draw(st.sampled_from([1, 2])) for _ in range(n)]
    inner = [data.draw(st.integers(1, 2)) for _ in range(n)]
    inner[unit % n] = 1
    a = [max(1, -(-inner[k] * inner[(k + 1) % n] // t[(k + 1) % n])) for k in range(n)]
    ring = random_st_ring(rng, a, t, inner)
    X = ring.to_tensor()
    fit = semi_tensor_ring(X, bonds_of(ring), t=t, n_iter_max=0)
    assert fit.rank == ring.rank
    assert fit.relative_error(X) < 1e-10


# TR-ALS is a local method: on exact rings of order 3-4 with modes close to R'^2 it can
# stall in a local minimum (TensorLy's does too); these seeds are ones it solves.
@pytest.mark.parametrize("a, t, inner, seed", [
    ((6, 6, 6, 6), (1, 1, 1, 1), (4, 4, 4, 4), 1),  # TR rank 4 on 6^4: 4·4 > 6
    ((4, 3, 4, 3), (2, 3, 2, 3), (4, 4, 4, 4), 1),  # STR, shape (8, 9, 8, 9), bonds (8, 12, 8, 12)
    ((3, 3, 3, 3, 3), (1, 1, 1, 1, 1), (2, 2, 2, 2, 2), 2),  # 2·2 > 3
    ((2, 3, 2, 3, 2), (2, 1, 2, 1, 2), (2, 2, 2, 2, 2), 0),
])
def test_als_recovers_rings_the_split_cannot_hold(a, t, inner, seed):
    rng = np.random.default_rng(seed)
    ring = random_st_ring(rng, list(a), list(t), list(inner))
    X = ring.to_tensor()
    fit = semi_tensor_ring(X, bonds_of(ring), t=list(t), n_iter_max=300)
    assert fit.relative_error(X) < 1e-8
    assert fit.errors[-1] < 1e-8
    assert_non_increasing(fit.errors)


def test_complex_exact_recovery_by_als():
    rng = np.random.default_rng(4)
    ring = random_st_ring(rng, [5, 6, 4, 5], [1, 1, 1, 1], [2, 3, 2, 2], np.complex128)
    X = ring.to_tensor()
    fit = tensor_ring(X, bonds_of(ring), n_iter_max=300)
    assert fit.dtype == np.complex128
    assert fit.relative_error(X) < 1e-8


def test_split_rule():
    # 4·4 > 6: no single mode holds the first unfolding; two-mode blocks do (and with
    # 2m = N, (s, m) and (s + m, m) are the same unfolding).
    assert _candidate_splits((6, 6, 6, 6), [4] * 5) == [(0, 2), (1, 2)]
    assert _candidate_splits((24,) * 4, [8] * 5) == [(0, 2), (1, 2)]
    # A classical bond of 1 makes the split exact and is preferred.
    assert _candidate_splits((6, 6, 6, 6), [4, 4, 1, 4, 4]) == [(1, 1)]
    # (9, 2) with bond 3: 9 > 2, nothing fits: the fit starts from random cores.
    assert _candidate_splits((9, 2), [3, 3, 3]) == []


def test_oversized_bonds_are_padded_and_stay_exact():
    # Bond 1 (4) exceeds its unfolding (2 × 8): TR-SVD pads it with zeros, and ALS's
    # pseudo-inverse solves the singular normal equations this creates.
    X = np.random.default_rng(1).standard_normal((2, 2, 4))
    fit = tensor_ring(X, [1, 4, 4, 1], n_iter_max=3)
    assert fit.rank == (1, 4, 4, 1)
    assert fit.errors[0] < 1e-12 and fit.relative_error(X) < 1e-12


def test_no_split_falls_back_to_the_random_start():
    X = np.random.default_rng(0).standard_normal((9, 2))
    a = tensor_ring(X, [3, 3, 3], n_iter_max=2, init="svd", random_state=5)
    b = tensor_ring(X, [3, 3, 3], n_iter_max=2, init="random", random_state=5)
    for Ga, Gb in zip(a.cores, b.cores):
        np.testing.assert_array_equal(Ga, Gb)


# --------------------------------------------------------------------------- ALS


def noisy_ring(seed, a, inner, t=None, noise=1e-2, dtype=np.float64):
    rng = np.random.default_rng(seed)
    t = t or [1] * len(a)
    ring = random_st_ring(rng, a, t, inner, dtype)
    X = ring.to_tensor()
    E = rng.standard_normal(X.shape)
    if np.issubdtype(dtype, np.complexfloating):
        E = E + 1j * rng.standard_normal(X.shape)
    X = X + (noise * np.linalg.norm(X) / np.linalg.norm(E)) * E
    return X.astype(dtype), bonds_of(ring), t


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 4), init=st.sampled_from(["svd", "random"]),
       complex_=st.booleans(), data=st.data())
@settings(max_examples=20)
def test_als_never_increases_the_error(seed, n, init, complex_, data):
    rng = np.random.default_rng(seed)
    shape = [data.draw(st.integers(2, 6)) for _ in range(n)]
    r = data.draw(st.integers(1, 3))
    if r * r > math.prod(shape):
        r = 1
    X = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if complex_ else 0)
    fit = tensor_ring(X, r, n_iter_max=15, tol=0, init=init, random_state=seed)
    assert_non_increasing(fit.errors)
    # The cheap per-sweep error is the true one.
    assert fit.errors[-1] == pytest.approx(fit.relative_error(X), rel=1e-9, abs=1e-12)


def test_history_tol_and_n_iter_max():
    X, bonds, t = noisy_ring(0, [4, 3, 4, 3], [2, 2, 2, 2], t=[2, 2, 2, 2])
    start = semi_tensor_ring(X, bonds, t=t, n_iter_max=0)
    assert len(start.errors) == 1
    assert start.errors[0] == pytest.approx(start.relative_error(X), rel=1e-12)
    full = semi_tensor_ring(X, bonds, t=t, n_iter_max=50, tol=0)
    assert full.errors[0] == start.errors[0]  # same start
    assert full.errors[-1] < 2e-2 and full.errors[-1] <= full.errors[0]
    assert full.errors[-1] == pytest.approx(full.relative_error(X), rel=1e-9)
    capped = semi_tensor_ring(X, bonds, t=t, n_iter_max=3, tol=0)
    assert len(capped.errors) == 4
    loose = semi_tensor_ring(X, bonds, t=t, n_iter_max=50, tol=1e-2)
    e = np.asarray(loose.errors)
    decrease = (e[:-1] - e[1:]) / e[:-1]
    assert len(e) < 51 and decrease[-1] <= 1e-2 and np.all(decrease[:-1] > 1e-2)


def test_tensor_ring_is_semi_tensor_ring_with_t_1():
    X, bonds, _ = noisy_ring(1, [4, 5, 6], [2, 3, 2])
    a = tensor_ring(X, bonds, n_iter_max=5)
    b = semi_tensor_ring(X, bonds, t=1, n_iter_max=5)
    assert a.t == (1, 1, 1) and a.errors == b.errors
    for Ga, Gb in zip(a.cores, b.cores):
        np.testing.assert_array_equal(Ga, Gb)


def test_verbose_prints_start_and_each_sweep(capsys):
    X, bonds, _ = noisy_ring(2, [4, 5, 6], [2, 2, 2])
    fit = tensor_ring(X, bonds, n_iter_max=4, tol=0, verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(fit.errors) and "relative error" in lines[-1]


@pytest.mark.parametrize("svd", ["auto", "gram", "lq", "full", "randomized"])
def test_svd_backends(svd):
    rng = np.random.default_rng(3)
    ring = random_st_ring(rng, [7, 5], [1, 2], [2, 2])
    X = ring.to_tensor()
    fit = semi_tensor_ring(X, bonds_of(ring), t=[1, 2], n_iter_max=0, svd=svd, random_state=0)
    assert fit.relative_error(X) < 1e-10


def test_random_start_has_the_norm_of_x_and_is_deterministic():
    X, bonds, t = noisy_ring(3, [3, 4, 3], [2, 2, 2], t=[2, 1, 2])
    a = semi_tensor_ring(X, bonds, t=t, n_iter_max=0, init="random", random_state=11)
    assert np.linalg.norm(a.to_tensor()) == pytest.approx(np.linalg.norm(X), rel=1e-10)
    b = semi_tensor_ring(X, bonds, t=t, n_iter_max=0, init="random", random_state=np.random.default_rng(11))
    c = semi_tensor_ring(X, bonds, t=t, n_iter_max=0, init="random", random_state=12)
    assert all(np.array_equal(Ga, Gb) for Ga, Gb in zip(a.cores, b.cores))
    assert not all(np.array_equal(Ga, Gc) for Ga, Gc in zip(a.cores, c.cores))
    d = semi_tensor_ring(X, bonds, t=t, n_iter_max=5, init="random", random_state=11)
    e = semi_tensor_ring(X, bonds, t=t, n_iter_max=5, init="random", random_state=11)
    assert d.errors == e.errors


# ------------------------------------------------------------------ dtypes and inputs


def test_float32_stays_float32():
    X, bonds, t = noisy_ring(4, [3, 4, 3, 4], [2, 2, 2, 2], t=[2, 1, 2, 1], noise=1e-3, dtype=np.float32)
    fit = semi_tensor_ring(X, bonds, t=t, n_iter_max=30)
    assert all(G.dtype == np.float32 for G in fit.cores)
    assert fit.relative_error(X) < 5e-3
    # Non-increasing up to float32 rounding of the measured error.
    assert_non_increasing(fit.errors, rel=1e-3, abs_=1e-6)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_dtypes(dtype):
    X, bonds, _ = noisy_ring(5, [4, 5, 6], [2, 2, 2], noise=1e-3, dtype=dtype)
    fit = tensor_ring(X, bonds, n_iter_max=40)
    assert fit.dtype == dtype
    assert fit.relative_error(X) < (5e-3 if dtype == np.complex64 else 2e-3)


def test_integer_input_and_no_mutation():
    rng = np.random.default_rng(6)
    X = rng.integers(-5, 6, size=(6, 4, 6))
    fit = semi_tensor_ring(X, 2, t=2, n_iter_max=3)
    assert fit.dtype == np.float64
    Z = np.asfortranarray(rng.standard_normal((4, 6, 6)))  # non-C-contiguous, read-only
    Z.setflags(write=False)
    before = Z.copy()
    semi_tensor_ring(Z, 4, t=2, n_iter_max=3)
    np.testing.assert_array_equal(Z, before)


def test_zero_tensor_and_order_1():
    fit = tensor_ring(np.zeros((3, 4)), 2)
    assert fit.errors == (0.0,) and not np.any(fit.to_tensor())
    x = np.arange(1.0, 9.0)
    fit = semi_tensor_ring(x, 4, t=2)
    assert fit.rank == (2, 2) and fit.t == (2,)  # rank 4 would need 32 parameters for 8 entries
    np.testing.assert_allclose(fit.to_tensor(), x)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(X=np.ones((6, 5)), rank=2, t=2), ValueError, r"t\[1\]=2 does not divide mode 1"),
    (dict(X=np.ones((6, 6)), rank=3, t=2), ValueError, r"bounds bond 0, which must be a multiple of t\[0\]=2"),
    (dict(X=np.ones((6, 6)), rank=[4, 2, 6], t=2), ValueError, "closes on itself"),
    (dict(X=np.ones((3, 4)), rank=[4, 4, 4]), ValueError, "too large"),
    (dict(X=np.ones((3, 4)), rank=[2, 2]), ValueError, "must have 3 entries"),
    (dict(X=np.ones((3, 4)), rank=0), ValueError, "rank must be an integer >= 1"),
    (dict(X=np.ones((3, 4)), rank=2, t=[1, 2, 1]), ValueError, "one ratio per mode"),
    (dict(X=np.ones((3, 4)), rank=2, init="tt"), ValueError, "init must be one of"),
    (dict(X=np.ones((3, 4)), rank=2, svd="qr"), ValueError, "svd must be one of"),
    (dict(X=np.ones((3, 4)), rank=2, tol=-1.0), ValueError, "tol must be"),
    (dict(X=np.ones((3, 4)), rank=2, tol=float("nan")), ValueError, "tol must be"),
    (dict(X=np.ones((3, 4)), rank=2, n_iter_max=-1), ValueError, "n_iter_max must be an integer >= 0"),
    (dict(X=np.ones((3, 4)), rank=2, n_iter_max=2.5), TypeError, "n_iter_max must be an integer"),
    (dict(X=np.ones((3, 0)), rank=1), ValueError, "must not be empty"),
    (dict(X=np.array([[1.0, np.nan]]), rank=1), ValueError, "NaN"),
    (dict(X=np.array(["a", "b"]), rank=1), TypeError, "numeric dtype"),
])
def test_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        semi_tensor_ring(**kwargs)


def test_int_rank_is_a_bound_capped_at_the_tensor_size():
    # A ring of bonds R on (8, 64) has 72 R² parameters: 512 entries allow R = 2.  The
    # cap warns; a literal list may go beyond the size, up to (R/t)² <= size.
    X = np.random.default_rng(0).standard_normal((8, 64))
    with pytest.warns(RankWarning, match="capped to bonds"):
        fit = tensor_ring(X, 24, n_iter_max=0)
    assert fit.rank == (2, 2, 2) and fit.n_params <= X.size
    assert tensor_ring(X, [4, 4, 4], n_iter_max=0).n_params > X.size
    with pytest.raises(ValueError, match="too large"):
        tensor_ring(X, [24, 24, 24], n_iter_max=0)
