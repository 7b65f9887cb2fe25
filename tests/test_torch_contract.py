"""Torch contractions (semitensor.torch._contract) against the numpy result classes."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from semitensor import SemiTensorRing, SemiTensorTrain, SemiTensorTucker  # noqa: E402
from semitensor.torch import _contract as C  # noqa: E402

pytestmark = pytest.mark.torch


def _train_cores(rng, shape, t, bonds):
    """ST cores with bonds R_0..R_N (R_0 = R_N for a ring)."""
    n = len(shape)
    return [rng.standard_normal((bonds[k] // t[k], shape[k] // t[k], bonds[k + 1])) for k in range(n)]


CHAINS = [
    # (kind, shape, t, bonds)
    ("train", (4, 5, 6), (1, 1, 1), (1, 3, 4, 1)),
    ("train", (3, 4, 6, 4), (1, 2, 3, 2), (1, 6, 6, 4, 1)),
    ("train", (2, 6, 4, 9, 3), (1, 2, 2, 3, 3), (1, 2, 4, 6, 3, 1)),
    ("ring", (4, 5, 6), (1, 1, 1), (3, 2, 4, 3)),
    ("ring", (4, 6, 6, 5), (2, 2, 3, 1), (4, 6, 3, 2, 4)),
    ("ring", (6, 4, 2, 6), (3, 2, 2, 2), (6, 4, 2, 4, 6)),
    ("ring", (6,), (2,), (4, 4)),
]


@pytest.mark.parametrize("kind, shape, t, bonds", CHAINS)
def test_chain_to_tensor_matches_numpy(kind, shape, t, bonds):
    rng = np.random.default_rng(len(shape))
    cores = _train_cores(rng, shape, t, bonds)
    res = (SemiTensorTrain if kind == "train" else SemiTensorRing)(cores)
    assert res.t == t and res.shape == shape
    got = C.chain_to_tensor([torch.from_numpy(G) for G in cores], res.t)
    np.testing.assert_allclose(got.numpy(), res.to_tensor(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind, shape, t, bonds", [c for c in CHAINS if len(c[1]) > 1])
def test_chain_matmul_is_x_times_weight_transpose(kind, shape, t, bonds):
    rng = np.random.default_rng(7)
    cores = _train_cores(rng, shape, t, bonds)
    res = (SemiTensorTrain if kind == "train" else SemiTensorRing)(cores)
    X = res.to_tensor()
    for n_out in range(1, len(shape)):
        W = X.reshape(int(np.prod(shape[:n_out])), -1)
        x = rng.standard_normal((5, W.shape[1]))
        y = C.chain_matmul(torch.from_numpy(x), [torch.from_numpy(G) for G in cores], res.t, n_out)
        np.testing.assert_allclose(y.numpy(), x @ W.T, rtol=1e-10, atol=1e-10)


TUCKERS = [
    # (core shape, factor shapes)
    ((3, 4, 2), [(5, 3), (6, 4), (7, 2)]),
    ((4, 6, 3, 2), [(3, 2), (5, 2), (4, 3), (2, 1)]),  # t = (2, 3, 1, 2)
    ((6,), [(4, 3)]),
]


@pytest.mark.parametrize("core_shape, factor_shapes", TUCKERS)
def test_tucker_to_tensor_and_matmul_match_numpy(core_shape, factor_shapes):
    rng = np.random.default_rng(3)
    core = rng.standard_normal(core_shape)
    factors = [rng.standard_normal(s) for s in factor_shapes]
    res = SemiTensorTucker(core, factors)
    X = res.to_tensor()
    tc, tf = torch.from_numpy(core), [torch.from_numpy(U) for U in factors]
    np.testing.assert_allclose(C.tucker_to_tensor(tc, tf).numpy(), X, rtol=1e-12, atol=1e-12)
    for n_out in range(1, len(core_shape)):
        W = X.reshape(int(np.prod(res.shape[:n_out])), -1)
        x = rng.standard_normal((4, W.shape[1]))
        y = C.tucker_matmul(torch.from_numpy(x), tc, tf, n_out)
        np.testing.assert_allclose(y.numpy(), x @ W.T, rtol=1e-10, atol=1e-10)


def test_regroup_maps_serve_torch_tensors():
    # One regroup map for both: torch tensors go through the numpy library's functions.
    from semitensor.regroup import regroup_tensor, st_cores_to_classical, ungroup_tensor

    rng = np.random.default_rng(1)
    cores = _train_cores(rng, (4, 6, 6, 5), (2, 2, 3, 1), (4, 6, 3, 2, 4))
    ours = st_cores_to_classical([torch.from_numpy(G) for G in cores], (2, 2, 3, 1))
    for a, b in zip(ours, st_cores_to_classical(cores, (2, 2, 3, 1))):
        assert torch.is_tensor(a)
        np.testing.assert_array_equal(a.numpy(), b)
    X = rng.standard_normal((4, 6, 6, 5))
    Y = regroup_tensor(X, (1, 2, 3, 1))
    back = ungroup_tensor(torch.from_numpy(np.ascontiguousarray(Y)), X.shape, (1, 2, 3, 1))
    np.testing.assert_array_equal(back.numpy(), X)


def test_contractions_are_differentiable():
    rng = np.random.default_rng(0)
    cores = [torch.tensor(G, requires_grad=True)
             for G in _train_cores(rng, (4, 6, 6, 5), (2, 2, 3, 1), (4, 6, 3, 2, 4))]
    x = torch.randn(3, 30, dtype=torch.float64)
    C.chain_matmul(x, cores, (2, 2, 3, 1), 2).sum().backward()
    assert all(G.grad is not None and G.grad.abs().sum() > 0 for G in cores)


CONV_CHAINS = [
    # (kind, shape (o…, i…, kh·kw), t, bonds, n_out, kernel_size)
    ("train", (4, 6, 9), (1, 2, 1), (1, 4, 6, 1), 1, (3, 3)),
    ("train", (2, 4, 4, 6, 4), (1, 2, 2, 2, 2), (1, 2, 4, 6, 4, 1), 2, (2, 2)),  # kernel ratio 2
    ("ring", (4, 6, 9), (2, 2, 1), (4, 4, 6, 4), 1, (3, 3)),
    ("ring", (4, 2, 6, 4), (2, 2, 3, 2), (4, 4, 6, 4, 4), 2, (1, 4)),
]


@pytest.mark.parametrize("kind, shape, t, bonds, n_out, kernel_size", CONV_CHAINS)
@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (1, 2)])
def test_chain_conv2d_is_the_convolution_by_the_weight(kind, shape, t, bonds, n_out, kernel_size,
                                                        stride, dilation):
    import torch.nn.functional as F

    rng = np.random.default_rng(11)
    cores = _train_cores(rng, shape, t, bonds)
    res = (SemiTensorTrain if kind == "train" else SemiTensorRing)(cores)
    out, cin = int(np.prod(shape[:n_out])), int(np.prod(shape[n_out:-1]))
    weight = torch.from_numpy(res.to_tensor().reshape(out, cin, *kernel_size))
    x = torch.from_numpy(rng.standard_normal((3, cin, 9, 8)))

    def conv(inp, kernel):
        return F.conv2d(inp, kernel, None, stride, 1, dilation)

    y = C.chain_conv2d(x, [torch.from_numpy(G) for G in cores], res.t, n_out, kernel_size, conv)
    torch.testing.assert_close(y, conv(x, weight), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("t", [(1, 1, 1, 1), (2, 3, 1, 2), (2, 1, 2, 3)])
def test_tucker_conv2d_is_the_convolution_by_the_weight(t):
    import torch.nn.functional as F

    rng = np.random.default_rng(12)
    shape, ranks = (4, 6, 2, 6), (2, 3, 2, 6)  # (o, i_1, i_2, kh·kw) with kernel (2, 3)
    core = rng.standard_normal(ranks)
    factors = [rng.standard_normal((I // tn, R // tn)) for I, R, tn in zip(shape, ranks, t)]
    res = SemiTensorTucker(core, factors)
    assert res.t == t
    weight = torch.from_numpy(res.to_tensor().reshape(4, 12, 2, 3))
    x = torch.from_numpy(rng.standard_normal((2, 12, 7, 7)))

    def conv(inp, kernel):
        return F.conv2d(inp, kernel, None, 2, (1, 0), 1)

    y = C.tucker_conv2d(x, torch.from_numpy(core), [torch.from_numpy(U) for U in factors], 1,
                        (2, 3), conv)
    torch.testing.assert_close(y, conv(x, weight), rtol=1e-10, atol=1e-10)
