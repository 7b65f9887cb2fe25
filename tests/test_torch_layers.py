"""FactorizedLinear: construction, both forward paths, from_* constructors, init, errors."""
import io
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from semitensor import SemiTensorRing, SemiTensorTrain, SemiTensorTucker, semi_tensor_train  # noqa: E402
from semitensor.torch import FactorizedLinear, tensorize_features  # noqa: E402

pytestmark = pytest.mark.torch

METHODS = ["tucker", "tt", "tr", "sttu", "stt", "str"]
RESULT = {"tucker": SemiTensorTucker, "tt": SemiTensorTrain, "tr": SemiTensorRing,
          "sttu": SemiTensorTucker, "stt": SemiTensorTrain, "str": SemiTensorRing}


def ratio(method):
    return 2 if method.startswith("st") else 1


def rel(a, b):
    return float((a - b).detach().norm() / b.detach().norm())


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# ------------------------------------------------------------------ full rank


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("implementation", ["factorized", "reconstructed"])
def test_from_linear_full_rank_reproduces_the_layer(method, implementation):
    dense = nn.Linear(48, 24)
    layer = FactorizedLinear.from_linear(dense, method, "full", ratio(method),
                                         implementation=implementation)
    assert isinstance(layer.to_factors(), RESULT[method])
    assert layer.fit_error < 1e-12
    x = torch.randn(6, 48)
    assert layer.weight.dtype == torch.float32
    assert rel(layer(x), dense(x)) < 1e-5
    assert rel(layer.weight, dense.weight) < 1e-5
    torch.testing.assert_close(layer.bias, dense.bias)


@pytest.mark.parametrize("method", METHODS)
def test_from_linear_float64_is_exact_to_rounding(method):
    dense = nn.Linear(36, 20, dtype=torch.float64)
    layer = FactorizedLinear.from_linear(dense, method, "full", ratio(method))
    assert layer.bias.dtype == torch.float64 and all(p.dtype == torch.float64 for p in layer.parameters())
    x = torch.randn(3, 5, 36, dtype=torch.float64)  # leading batch dimensions
    for impl in ("factorized", "reconstructed"):
        layer.implementation = impl
        assert rel(layer(x), dense(x)) < 1e-12


# ------------------------------------------------------- the two forward paths


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_factorized_and_reconstructed_paths_agree(method, dtype):
    layer = FactorizedLinear(96, 40, method, 0.3, ratio(method), dtype=dtype)
    x = torch.randn(2, 7, 96, dtype=dtype)
    layer.implementation = "factorized"
    y1 = layer(x)
    layer.implementation = "reconstructed"
    y2 = layer(x)
    assert y1.shape == (2, 7, 40) and y1.dtype == dtype
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert rel(y1, y2) < tol
    # and both are x Wᵀ + b with the weight of the numpy result
    W = torch.from_numpy(layer.to_factors().to_tensor().reshape(40, 96)).to(dtype)
    assert rel(y2, x @ W.T + layer.bias) < tol


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("implementation", ["factorized", "reconstructed"])
def test_gradients_reach_every_core(method, implementation):
    layer = FactorizedLinear(32, 24, method, 0.5, ratio(method), implementation=implementation)
    layer(torch.randn(5, 32)).pow(2).sum().backward()
    names = [n for n, _ in layer.named_parameters()]
    assert "bias" in names and len(names) >= 3
    for name, p in layer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_gradients_match_between_paths():
    layer = FactorizedLinear(32, 24, "str", 0.5, 2)
    x = torch.randn(5, 32, dtype=torch.float32)
    grads = []
    for impl in ("factorized", "reconstructed"):
        layer.zero_grad()
        layer.implementation = impl
        layer(x).pow(2).sum().backward()
        grads.append([p.grad.clone() for p in layer.parameters()])
    for a, b in zip(*grads):
        assert rel(a, b) < 1e-4


# ------------------------------------------------------------ from_factors / to_factors


def test_from_factors_and_to_factors_round_trip():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 6, 6, 4))
    fit = semi_tensor_train(X, rank=[1, 4, 6, 4, 1], t=2)
    layer = FactorizedLinear.from_factors(fit, bias=np.arange(24.0), dtype=torch.float64)
    assert (layer.out_features, layer.in_features) == (24, 24)
    assert layer.method == "stt" and layer.t == fit.t and layer.rank == fit.rank
    np.testing.assert_allclose(layer.weight.detach().numpy(), fit.to_tensor().reshape(24, 24), atol=1e-12)
    np.testing.assert_array_equal(layer.bias.detach().numpy(), np.arange(24.0))
    back = layer.to_factors()
    assert isinstance(back, SemiTensorTrain) and back.t == fit.t
    for a, b in zip(back.cores, fit.cores):
        np.testing.assert_array_equal(a, b)
    # n_out_modes moves the out/in cut
    layer3 = FactorizedLinear.from_factors(fit, n_out_modes=3)
    assert (layer3.out_features, layer3.in_features) == (144, 4)
    assert layer3.bias is None and layer3.weight.dtype == torch.float32


def test_from_factors_tucker_and_ring_classical_names():
    rng = np.random.default_rng(1)
    tucker = SemiTensorTucker(rng.standard_normal((2, 3, 2, 2)),
                              [rng.standard_normal((4, 2)), rng.standard_normal((3, 3)),
                               rng.standard_normal((5, 2)), rng.standard_normal((2, 2))])
    layer = FactorizedLinear.from_factors(tucker, bias=True)
    assert layer.method == "tucker" and layer.bias.abs().sum() == 0
    ring = SemiTensorRing([rng.standard_normal((1, 3, 4)), rng.standard_normal((2, 2, 2))])
    assert FactorizedLinear.from_factors(ring).method == "str"
    assert FactorizedLinear.from_factors(ring, method="STR").method == "str"


@pytest.mark.parametrize("method", METHODS)
def test_empty_and_unbatched_inputs(method):
    layer = FactorizedLinear(16, 8, method, 4 if method.startswith("st") else 2, ratio(method))
    for impl in ("factorized", "reconstructed"):
        layer.implementation = impl
        assert layer(torch.randn(0, 16)).shape == (0, 8)
        x = torch.randn(16)
        assert layer(x).shape == (8,)
        assert rel(layer(x), layer.weight @ x + layer.bias) < 1e-5


def test_weight_is_computed_not_stored():
    layer = FactorizedLinear(64, 32, "tt", 8)
    assert "weight" not in dict(layer.named_parameters())
    assert "weight" not in layer.state_dict()
    assert layer.weight.shape == (32, 64) and layer.weight.requires_grad


# ------------------------------------------------------------------ state_dict


@pytest.mark.parametrize("method", METHODS)
def test_state_dict_round_trip(method):
    kwargs = dict(in_tensorized_features=(4, 8), out_tensorized_features=(2, 12))
    layer = FactorizedLinear(32, 24, method, 0.4, ratio(method), **kwargs)
    buffer = io.BytesIO()
    torch.save(layer.state_dict(), buffer)
    fresh = FactorizedLinear(32, 24, method, layer.rank, layer.t, **kwargs)
    x = torch.randn(3, 32)
    assert rel(fresh(x), layer(x)) > 1e-3  # different random init
    buffer.seek(0)
    fresh.load_state_dict(torch.load(buffer))
    torch.testing.assert_close(fresh(x), layer(x), rtol=0, atol=0)


# ------------------------------------------------------------------ initialisation


@pytest.mark.parametrize("method", METHODS)
def test_init_variance_matches_pytorch_default(method):
    layer = FactorizedLinear(1024, 512, method, 0.05, ratio(method))
    target = 1.0 / (3 * 1024)  # Var U(-1/sqrt(fan_in), 1/sqrt(fan_in)) = nn.Linear's default
    reference = nn.Linear(1024, 512)
    with torch.no_grad():
        W = layer.weight
        assert abs(float(W.var()) / target - 1) < 0.2
        assert abs(float(reference.weight.var()) / target - 1) < 0.05  # the target is right
        assert abs(float(W.mean())) < 0.2 * math.sqrt(target)
    bound = 1 / math.sqrt(1024)
    assert float(layer.bias.detach().abs().max()) <= bound
    assert float(layer.bias.detach().std()) > 0.4 * bound


@pytest.mark.parametrize("method", ["tt", "sttu"])
def test_init_sigma_rule_is_right_before_the_exact_rescale(method):
    """Without the final rescale the variance rule alone is right on average."""
    ratios = []
    for seed in range(6):
        torch.manual_seed(seed)
        layer = FactorizedLinear(256, 256, method, 0.1, ratio(method))
        with torch.no_grad():  # re-draw the cores with the σ rule only
            fan_in, arrays = 256, layer._arrays()
            terms = (math.prod(U.shape[1] for U in layer.factors) if layer.family == "tucker"
                     else math.prod(G.shape[0] for G in layer.cores))
            sigma = (1 / (3 * fan_in) / terms) ** (0.5 / len(arrays))
            for p in arrays:
                p.normal_(0, sigma)
            ratios.append(float(layer.weight.pow(2).mean()) * 3 * fan_in)
    assert 0.6 < np.mean(ratios) < 1.5


def test_reset_parameters_custom_std():
    layer = FactorizedLinear(256, 256, "stt", 0.1, 2, bias=False)
    layer.reset_parameters(std=0.5)
    with torch.no_grad():
        assert abs(float(layer.weight.pow(2).mean()) - 0.25) < 1e-4
    assert layer.bias is None


# ------------------------------------------------------------------ structure


def test_tensorize_features():
    assert tensorize_features(1024, 3) == (8, 8, 16)
    assert tensorize_features(1024, 2) == (32, 32)
    assert tensorize_features(784, 2) == (28, 28)
    assert tensorize_features(12, 3, divisors=[2, 2, 2]) is None
    assert tensorize_features(12, 2, divisors=[2, 2]) == (2, 6)
    assert tensorize_features(10, 2, divisors=[1, 2]) == (5, 2)
    assert tensorize_features(7, 1) == (7,)


def test_automatic_tensorization_respects_the_ratios():
    layer = FactorizedLinear(784, 10, "stt", 8, 2)
    assert layer.out_tensorized_features == (5, 2)  # a train's first mode has ratio 1
    assert all(f % 2 == 0 for f in layer.in_tensorized_features)
    ring = FactorizedLinear(784, 10, "str", 4, 2)
    assert ring.out_tensorized_features == (10,)  # (5, 2) has a mode that 2 does not divide
    assert FactorizedLinear(64, 64, "tt", 4, n_tensorized_modes=2).tensorized_shape == (8, 8, 8, 8)


def test_float_rank_is_a_parameter_budget():
    for method in METHODS:
        for fraction in (0.1, 0.02):
            layer = FactorizedLinear(1024, 1024, method, fraction, ratio(method))
            assert layer.n_params <= fraction * 1024 * 1024
            assert layer.n_params >= 0.5 * fraction * 1024 * 1024, (method, fraction, layer.rank)
            assert layer.compression_ratio == 1024 * 1024 / layer.n_params


def test_literal_rank_and_ratio_lists():
    layer = FactorizedLinear(24, 24, "stt", [1, 4, 6, 4, 1], [1, 2, 2, 2],
                             in_tensorized_features=(4, 6), out_tensorized_features=(4, 6))
    assert [tuple(G.shape) for G in layer.cores] == [(1, 4, 4), (2, 3, 6), (3, 2, 4), (2, 3, 1)]
    assert layer.rank == (1, 4, 6, 4, 1) and layer.t == (1, 2, 2, 2)


# ------------------------------------------------------------------ errors


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match=r"method must be one of .*'sttu'.*got 'cp'"):
        FactorizedLinear(8, 8, "cp", 2)
    with pytest.raises(TypeError, match="method must be a string"):
        FactorizedLinear(8, 8, 3, 2)
    assert FactorizedLinear(8, 8, "STT", 2, 2).method == "stt"


def test_classical_method_rejects_ratio():
    with pytest.raises(ValueError, match=r"t = 1.*sttu, stt, str"):
        FactorizedLinear(8, 8, "tt", 2, t=2)


def test_ratio_that_cannot_divide_names_the_layer():
    with pytest.raises(ValueError, match=r"FactorizedLinear\(in_features=7, out_features=8\).*in_features=7"):
        FactorizedLinear(7, 8, "stt", 2, 2)
    with pytest.raises(ValueError, match=r"enc\.0: .*t\[1\]=3 does not divide mode 1"):
        FactorizedLinear(8, 8, "stt", 3, [1, 3, 1, 1], in_tensorized_features=(2, 4),
                         out_tensorized_features=(2, 4), name="enc.0")


def test_rank_not_multiple_of_ratio_names_the_bond():
    with pytest.raises(ValueError, match=r"rank=3 bounds bond 1, which must be a multiple of t\[1\]=2.*\[2, 4\]"):
        FactorizedLinear(16, 16, "stt", 3, 2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="implementation must be one of"):
        FactorizedLinear(8, 8, "tt", 2, implementation="dense")
    layer = FactorizedLinear(8, 8, "tt", 2)
    with pytest.raises(ValueError, match="implementation must be one of"):
        layer.implementation = "fast"
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        FactorizedLinear(0, 8, "tt", 2)
    with pytest.raises(ValueError, match="rank must be an int"):
        FactorizedLinear(8, 8, "tt", "max")
    with pytest.raises(ValueError, match="product is out_features=8"):
        FactorizedLinear(8, 8, "tt", 2, out_tensorized_features=(3, 3))
    with pytest.raises(ValueError, match="last dimension in_features=8"):
        layer(torch.randn(2, 9))
    with pytest.raises(TypeError, match="needs an nn.Linear"):
        FactorizedLinear.from_linear(nn.Conv2d(2, 2, 1), "tt", 2)
    with pytest.raises(TypeError, match="SemiTensorTucker, SemiTensorTrain or SemiTensorRing"):
        FactorizedLinear.from_factors(np.ones((2, 2)))
    with pytest.raises(ValueError, match="give n_out_modes"):
        FactorizedLinear.from_factors(SemiTensorTrain([np.ones((1, 2, 2)), np.ones((2, 2, 2)),
                                                       np.ones((2, 2, 1))]))
    with pytest.raises(ValueError, match="bias must have shape"):
        FactorizedLinear.from_factors(SemiTensorTrain([np.ones((1, 2, 2)), np.ones((2, 2, 1))]),
                                      bias=np.ones(3))
    with pytest.raises(TypeError, match="fit_kwargs must not contain 'rank'"):
        FactorizedLinear.from_linear(nn.Linear(8, 8), "tt", 2, fit_kwargs={"rank": 3})


def test_fit_kwargs_reach_the_numpy_fit():
    dense = nn.Linear(64, 64)
    few = FactorizedLinear.from_linear(dense, "tr", 4, fit_kwargs={"n_iter_max": 1})
    more = FactorizedLinear.from_linear(dense, "tr", 4, fit_kwargs={"n_iter_max": 8})
    assert more.fit_error <= few.fit_error
    tt = FactorizedLinear.from_linear(dense, "tt", 64, fit_kwargs={"eps": 0.5})
    assert tt.fit_error <= 0.5 and tt.n_params < FactorizedLinear(64, 64, "tt", 64).n_params


def test_meta_device_then_materialise():
    layer = FactorizedLinear(64, 32, "str", 4, 2, device="meta")
    assert layer.cores[0].is_meta and layer(torch.randn(3, 64, device="meta")).shape == (3, 32)
    real = layer.to_empty(device="cpu")
    real.reset_parameters()
    with torch.no_grad():
        assert abs(float(real.weight.pow(2).mean()) * 3 * 64 - 1) < 1e-4


@pytest.mark.parametrize("long, short", [("semi_tensor_train", "stt"), ("tensor_ring", "tr"),
                                         ("semi_tensor_tucker", "sttu"), ("TENSOR_TRAIN", "tt")])
def test_long_method_names_are_accepted(long, short):
    torch.manual_seed(0)
    a = FactorizedLinear(16, 16, long, rank=0.5, t=2 if short.startswith("st") else 1)
    b = FactorizedLinear(16, 16, short, rank=0.5, t=2 if short.startswith("st") else 1)
    assert a.method == short and a.rank == b.rank and a.t == b.t


def test_layer_ranks_are_the_numpy_rank_language():
    from semitensor.formats import RING, RankWarning

    with pytest.warns(RankWarning):  # an int ring rank: capped at the weight's size
        layer = FactorizedLinear(64, 64, "str", rank=1000, t=2)
    assert layer.n_params <= 64 * 64
    with pytest.warns(RankWarning):
        assert layer.rank == RING.resolve_rank(1000, layer.tensorized_shape, layer.t)
    with pytest.raises(ValueError, match="a budget of at least"):
        FactorizedLinear(64, 64, "tt", rank=1e-4)
