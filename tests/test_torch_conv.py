"""FactorizedConv2d against nn.Conv2d: every argument, both forward paths, from_conv."""
import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from semitensor import tensor_train  # noqa: E402
from semitensor.torch import FactorizedConv2d  # noqa: E402

pytestmark = pytest.mark.torch

METHODS = ["tucker", "tt", "tr", "sttu", "stt", "str"]


def ratio(method):
    return 2 if method.startswith("st") else 1


def rel(a, b):
    return float((a - b).detach().norm() / b.detach().norm())


def dense_twin(layer):
    """nn.Conv2d with the same arguments and the factorized layer's (dense) weight."""
    ref = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride,
                    padding=layer.padding, dilation=layer.dilation, groups=layer.groups,
                    bias=layer.bias is not None, padding_mode=layer.padding_mode,
                    dtype=layer.weight.dtype)
    with torch.no_grad():
        ref.weight.copy_(layer.weight)
        if layer.bias is not None:
            ref.bias.copy_(layer.bias)
    return ref


CASES = [
    dict(),
    dict(stride=2),
    dict(stride=(2, 1), padding=(1, 2)),
    dict(padding=1),
    dict(padding="same"),
    dict(padding="valid"),
    dict(padding="same", dilation=2),
    dict(dilation=(2, 1), padding=2),
    dict(groups=2, padding=1),
    dict(groups=4, stride=2),
    dict(bias=False, padding=1),
    dict(padding=1, padding_mode="reflect"),
    dict(padding=(2, 1), padding_mode="replicate"),
    dict(padding=1, padding_mode="circular", stride=2),
    dict(padding="same", padding_mode="reflect"),
]


@pytest.mark.parametrize("kwargs", CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "default")
@pytest.mark.parametrize("implementation", ["factorized", "reconstructed"])
def test_conv_arguments_match_nn_conv2d(kwargs, implementation):
    torch.manual_seed(0)
    layer = FactorizedConv2d(8, 12, 3, "stt", 0.5, 2, implementation=implementation,
                             dtype=torch.float64, **kwargs)
    ref = dense_twin(layer)
    x = torch.randn(2, 8, 9, 10, dtype=torch.float64)
    y = layer(x)
    assert y.shape == ref(x).shape
    assert rel(y, ref(x)) < 1e-12


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("kernel_size, padding", [((2, 4), "same"), ((1, 3), 0), (1, 0), ((4, 4), "same")])
@pytest.mark.parametrize("implementation", ["factorized", "reconstructed"])
def test_even_and_rectangular_kernels(kernel_size, padding, implementation):
    torch.manual_seed(1)
    layer = FactorizedConv2d(6, 4, kernel_size, "tt", 4, padding=padding,
                             implementation=implementation, dtype=torch.float64)
    x = torch.randn(3, 6, 7, 8, dtype=torch.float64)
    assert rel(layer(x), dense_twin(layer)(x)) < 1e-12


@pytest.mark.parametrize("method", METHODS)
def test_paths_agree_and_unbatched_input(method):
    torch.manual_seed(2)
    layer = FactorizedConv2d(8, 16, 3, method, 0.3, ratio(method), padding=1, stride=2, groups=2)
    x = torch.randn(8, 11, 11)  # unbatched (C, H, W), as nn.Conv2d accepts
    y1 = layer(x)
    layer.implementation = "reconstructed"
    y2 = layer(x)
    assert y1.shape == (16, 6, 6)
    assert rel(y1, y2) < 1e-5
    assert rel(y2, dense_twin(layer)(x)) < 1e-5


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("implementation", ["factorized", "reconstructed"])
def test_from_conv_full_rank_reproduces_the_layer(method, implementation):
    torch.manual_seed(3)
    dense = nn.Conv2d(8, 12, 3, stride=2, padding=1, dilation=1, padding_mode="circular")
    layer = FactorizedConv2d.from_conv(dense, method, "full", ratio(method), implementation=implementation)
    assert layer.fit_error < 1e-12
    assert (layer.stride, layer.padding, layer.padding_mode) == ((2, 2), (1, 1), "circular")
    x = torch.randn(2, 8, 9, 9)
    assert rel(layer(x), dense(x)) < 1e-5
    assert rel(layer.weight, dense.weight) < 1e-5


def test_from_conv_keeps_groups_dilation_and_string_padding():
    torch.manual_seed(4)
    dense = nn.Conv2d(8, 8, (3, 2), padding="same", dilation=2, groups=2, bias=False)
    layer = FactorizedConv2d.from_conv(dense, "tt", "full")
    assert layer.bias is None and layer.groups == 2 and layer.padding == "same"
    x = torch.randn(1, 8, 7, 6)
    for impl in ("factorized", "reconstructed"):
        layer.implementation = impl
        assert rel(layer(x), dense(x)) < 1e-5


@pytest.mark.parametrize("method", METHODS)
def test_conv_gradients_and_state_dict(method):
    torch.manual_seed(5)
    layer = FactorizedConv2d(8, 8, 3, method, 0.4, ratio(method), padding=1)
    layer(torch.randn(2, 8, 5, 5)).pow(2).sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    buffer = io.BytesIO()
    torch.save(layer.state_dict(), buffer)
    buffer.seek(0)
    fresh = FactorizedConv2d(8, 8, 3, method, layer.rank, layer.t, padding=1,
                             in_tensorized_features=layer.in_tensorized_features,
                             out_tensorized_features=layer.out_tensorized_features)
    fresh.load_state_dict(torch.load(buffer))
    x = torch.randn(1, 8, 5, 5)
    torch.testing.assert_close(fresh(x), layer(x), rtol=0, atol=0)


def test_conv_init_variance_matches_pytorch_default():
    torch.manual_seed(6)
    layer = FactorizedConv2d(64, 128, 3, "stt", 0.1, 2)
    target = 1.0 / (3 * 64 * 9)
    with torch.no_grad():
        assert abs(float(layer.weight.var()) / target - 1) < 0.2
        assert abs(float(nn.Conv2d(64, 128, 3).weight.var()) / target - 1) < 0.05


def test_conv_from_factors_and_ratio_rules():
    weight = np.random.default_rng(0).standard_normal((8, 4, 3, 3))
    fit = tensor_train(weight.reshape(2, 4, 2, 2, 9), rank=100)
    conv = FactorizedConv2d.from_factors(fit, 3, padding=1, bias=np.ones(8), dtype=torch.float64)
    np.testing.assert_allclose(conv.weight.detach().numpy(), weight, atol=1e-12)
    grouped = FactorizedConv2d.from_factors(fit, 3, groups=2)
    assert grouped.in_channels == 8 and grouped.weight.shape == (8, 4, 3, 3)
    # an int t leaves the kernel mode at ratio 1; a list may set it
    assert FactorizedConv2d(8, 8, 3, "str", 4, 2).t[-1] == 1
    assert FactorizedConv2d(8, 8, 2, "sttu", 4, [2, 2, 2, 2, 2, 2, 2]).t[-1] == 2


def test_conv_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"FactorizedConv2d\(in_channels=6, out_channels=4\).*groups"):
        FactorizedConv2d(6, 4, 3, "tt", 2, groups=4)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        FactorizedConv2d(6, 4, 3, "tt", 2, padding_mode="mirror")
    with pytest.raises(ValueError, match="stride"):
        FactorizedConv2d(6, 4, 3, "tt", 2, padding="same", stride=2)
    with pytest.raises(ValueError, match=r"t has 2 ratios but the tensorized weight has 7 modes"):
        FactorizedConv2d(8, 8, 3, "stt", 2, [1, 2])
    with pytest.raises(ValueError, match=r"t\[2\]=2 does not divide mode 2 of size 9"):
        FactorizedConv2d(8, 8, 3, "stt", 2, [1, 2, 2])  # (8, 8, 9): the kernel mode is 9
    with pytest.raises(ValueError, match="last mode of the result"):
        FactorizedConv2d.from_factors(tensor_train(np.ones((2, 4, 2, 2, 9)), rank=2), 2)
    conv = FactorizedConv2d(4, 4, 3, "tt", 2)
    with pytest.raises(ValueError, match=r"expected input \(N, 4, H, W\)"):
        conv(torch.randn(2, 3, 8, 8))
    for impl in ("factorized", "reconstructed"):  # as nn.Conv2d: torch's RuntimeError
        conv.implementation = impl
        with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
            conv(torch.randn(1, 4, 2, 2))
