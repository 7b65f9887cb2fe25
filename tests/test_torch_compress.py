"""compress_model on a small MLP and a small CNN."""
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from semitensor.torch import (  # noqa: E402
    CompressionReport, FactorizedConv2d, FactorizedLinear, compress_model,
)

pytestmark = pytest.mark.torch


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1, stride=2), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding="same", groups=2, padding_mode="reflect"), nn.ReLU(),
        )
        self.head = nn.Linear(32 * 4 * 4, 10)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def n_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("method", ["tucker", "tt", "tr", "sttu", "stt", "str"])
def test_mlp_full_rank_is_lossless_and_reported(method):
    model = mlp()
    t = 2 if method.startswith("st") else 1
    x = torch.randn(5, 64)
    new, report = compress_model(model, method, "full", t, min_compression=0.0)
    assert isinstance(report, CompressionReport) and not report.inplace
    assert [r.name for r in report.layers] == ["0", "2", "4"]
    assert all(r.replaced and r.relative_error < 1e-12 for r in report.layers)
    assert all(isinstance(new[i], FactorizedLinear) for i in (0, 2, 4))
    assert isinstance(model[0], nn.Linear)  # copy by default
    y, ref = new(x), model(x)
    assert float((y - ref).detach().norm() / ref.detach().norm()) < 1e-5
    assert report.original_params == n_params(model) and report.new_params == n_params(new)


def test_mlp_compression_skips_layers_that_would_not_shrink():
    model = mlp()
    new, report = compress_model(model, "stt", 8, 2)
    by_name = {r.name: r for r in report.layers}
    assert by_name["0"].replaced and by_name["2"].replaced
    assert by_name["0"].new_params < by_name["0"].original_params
    assert by_name["0"].type == "Linear" and 0 < by_name["0"].relative_error < 1
    assert by_name["0"].rank is not None and by_name["0"].t[0] == 1
    assert report.compression == pytest.approx(report.original_params / report.new_params)
    assert report.compression > 1
    # min_compression leaves a layer dense when it would not shrink enough
    _, strict = compress_model(model, "stt", 8, 2, min_compression=1000.0)
    assert not any(r.replaced for r in strict.layers)
    assert all("would not shrink" in r.reason for r in strict.layers)
    assert strict.new_params == strict.original_params
    table = str(report)
    assert "| 0 | Linear |" in table and "Whole model (stt)" in table


def test_exclude_and_inplace():
    model = mlp()
    same, report = compress_model(model, "tt", 0.2, exclude=["4"], inplace=True)
    assert same is model and report.inplace
    assert isinstance(model[0], FactorizedLinear) and isinstance(model[4], nn.Linear)
    assert {r.name: r.reason for r in report.layers}["4"] == "excluded"
    model2 = SmallCNN()
    _, report2 = compress_model(model2, "tt", 0.5, exclude="features*")
    assert report2.replaced == ["head"]


def test_small_cnn_end_to_end():
    model = SmallCNN()
    x = torch.randn(2, 3, 8, 8)
    with pytest.raises(ValueError, match=r"layer 'features.0' \(Conv2d\): cannot tensorize "
                                         r"in_channels/groups=3 .*exclude=\['features.0'\]"):
        compress_model(model, "stt", "full", 2)  # t = 2 cannot divide the 3 RGB channels
    new, report = compress_model(model, "stt", "full", 2, min_compression=0.0, exclude=["features.0"])
    assert [r.type for r in report.layers] == ["Conv2d"] * 3 + ["Linear"]
    assert report.replaced == ["features.2", "features.4", "head"]
    assert isinstance(new.features[4], FactorizedConv2d) and new.features[4].groups == 2
    assert new.features[4].padding_mode == "reflect"
    with torch.no_grad():
        assert float((new(x) - model(x)).norm() / model(x).norm()) < 1e-5
    # and a real compression, trained a little: gradients flow through every core
    small, rep = compress_model(model, "str", 0.25, 2, fit_kwargs={"n_iter_max": 2},
                                exclude="features.0")
    assert rep.new_params < rep.original_params and len(rep.replaced) >= 2
    small(x).pow(2).mean().backward()
    assert all(p.grad is not None for p in small.parameters())


def test_shared_layer_is_fitted_once_and_replaced_everywhere():
    shared = nn.Linear(32, 32)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    new, report = compress_model(model, "tt", 0.3)
    assert len(report.layers) == 1
    assert new[0] is new[2] and isinstance(new[0], FactorizedLinear)


def test_model_that_is_a_single_layer_and_subclasses():
    layer = nn.Linear(64, 64)
    new, report = compress_model(layer, "stt", 0.2, 2)
    assert isinstance(new, FactorizedLinear) and report.layers[0].name == ""
    attention = nn.MultiheadAttention(16, 2)
    same, rep = compress_model(attention, "tt", 0.2)
    assert rep.layers[0].replaced is False and "subclass" in rep.layers[0].reason


def test_bad_arguments_name_the_layer():
    model = mlp()
    with pytest.raises(ValueError, match="method must be one of"):
        compress_model(model, "cp", 4)
    with pytest.raises(ValueError, match=r"layer '4' \(Linear\).*t=3|layer '0' \(Linear\)"):
        compress_model(model, "stt", 4, 3)
    with pytest.raises(ValueError, match=r"layer '0' \(Linear\): rank=3 bounds bond 1, which must be a multiple of t\[1\]=2"):
        compress_model(model, "stt", 3, 2)
    with pytest.raises(ValueError, match="implementation must be one of"):
        compress_model(model, "tt", 4, implementation="fast")
    with pytest.raises(ValueError, match="min_compression must be a number >= 0"):
        compress_model(model, "tt", 4, min_compression=-1)
    with pytest.raises(TypeError, match="exclude must contain module names"):
        compress_model(model, "tt", 4, exclude=[0])
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        compress_model([model], "tt", 4)
