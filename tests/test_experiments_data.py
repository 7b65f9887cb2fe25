"""Tests of the experiment helpers (benchmarks/experiments): idx reader, loaders, models.

Tiny idx fixtures are written here; the real Fashion-MNIST files are never read.
"""
import gzip
import os
import struct

import numpy as np
import pytest

from benchmarks.experiments import data as D


def _idx_bytes(arr, code=0x08):
    arr = np.asarray(arr)
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    dtype = {0x08: np.uint8, 0x0C: ">i4", 0x0D: ">f4"}[code]
    return header + arr.astype(dtype).tobytes()


def _write(path, arr, gz, code=0x08):
    raw = _idx_bytes(arr, code)
    with open(path, "wb") as fh:
        fh.write(gzip.compress(raw) if gz else raw)


def _fixture(tmp_path, gz=True, n_train=12, n_test=6):
    rng = np.random.default_rng(0)
    ext = ".gz" if gz else ""
    imgs = {"train": rng.integers(0, 256, (n_train, 28, 28)), "t10k": rng.integers(0, 256, (n_test, 28, 28))}
    labs = {"train": np.arange(n_train) % 10, "t10k": np.arange(n_test) % 10}
    for split in ("train", "t10k"):
        _write(tmp_path / f"{split}-images-idx3-ubyte{ext}", imgs[split], gz)
        _write(tmp_path / f"{split}-labels-idx1-ubyte{ext}", labs[split], gz)
    return imgs, labs


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_roundtrip(tmp_path, gz):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    p = tmp_path / ("a.idx" + (".gz" if gz else ""))
    _write(p, a, gz)
    np.testing.assert_array_equal(D.read_idx(str(p)), a)


def test_read_idx_other_dtypes(tmp_path):
    a = np.array([[1, -2], [3, 400000]])
    _write(tmp_path / "i.idx", a, False, code=0x0C)
    np.testing.assert_array_equal(D.read_idx(str(tmp_path / "i.idx")), a)
    f = np.array([0.5, -1.25], dtype=np.float32)
    _write(tmp_path / "f.idx", f, False, code=0x0D)
    out = D.read_idx(str(tmp_path / "f.idx"))
    assert out.dtype == np.float32 and out.dtype.isnative
    np.testing.assert_array_equal(out, f)


def test_parse_idx_errors():
    with pytest.raises(ValueError, match="not an idx file"):
        D.parse_idx(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="unknown idx data type"):
        D.parse_idx(bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 7]))
    good = _idx_bytes(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="size mismatch"):
        D.parse_idx(good[:-1])
    with pytest.raises(ValueError, match="too short"):
        D.parse_idx(b"\x00")


def test_missing_files_message_names_apt_command(tmp_path):
    with pytest.raises(D.MissingDataError) as exc:
        D.fashion_mnist_paths(str(tmp_path))
    msg = str(exc.value)
    assert "apt-get install -y dataset-fashion-mnist" in msg
    assert "train-images-idx3-ubyte" in msg
    with pytest.raises(FileNotFoundError):          # MissingDataError is a FileNotFoundError
        D.read_idx(str(tmp_path / "nope"))


@pytest.mark.parametrize("gz", [True, False])
def test_load_fashion_from_fixture(tmp_path, gz):
    imgs, labs = _fixture(tmp_path, gz)
    ds = D.load_fashion_mnist(root=str(tmp_path), standardise=False)
    assert ds.x_train.shape == (12, 1, 28, 28) and ds.x_train.dtype == np.float32
    np.testing.assert_allclose(ds.x_train[:, 0] * 255, imgs["train"], atol=1e-3)
    np.testing.assert_array_equal(ds.y_test, labs["t10k"])
    sub = D.load_fashion_mnist(root=str(tmp_path), n_train=5, n_test=3, seed=1)
    assert sub.x_train.shape[0] == 5 and sub.y_test.shape == (3,)
    assert abs(float(sub.x_train.mean())) < 1e-5                       # standardised
    again = D.load_fashion_mnist(root=str(tmp_path), n_train=5, n_test=3, seed=1)
    np.testing.assert_array_equal(sub.y_train, again.y_train)         # seeded subset
    stack = D.fashion_mnist_images(4, root=str(tmp_path))
    assert stack.shape == (4, 28, 28) and stack.max() <= 1.0


def test_env_variable_root(tmp_path, monkeypatch):
    _fixture(tmp_path, True)
    monkeypatch.setenv("SEMITENSOR_FASHION_MNIST", str(tmp_path))
    assert D.fashion_mnist_paths()["train_images"].startswith(str(tmp_path))


def test_mismatched_labels(tmp_path):
    _fixture(tmp_path, False)
    _write(tmp_path / "train-labels-idx1-ubyte", np.zeros(3), False)
    with pytest.raises(ValueError, match="do not match"):
        D.load_fashion_mnist(root=str(tmp_path))


def test_digits_split():
    ds = D.load_digits_data(seed=0)
    assert ds.x_train.shape[1:] == (1, 8, 8)
    assert len(ds.y_train) + len(ds.y_test) == 1797
    assert set(np.unique(ds.y_test)) == set(range(10))
    x, y = D.synthetic_digits(0, n=50)
    assert x.shape == (50, 8, 8) and y.shape == (50,)


def test_models_forward():
    torch = pytest.importorskip("torch")
    from benchmarks.experiments.models import build_model, count_params
    assert count_params(build_model("resnet20")) == 269434     # He et al.'s 0.27 M
    for arch in ("resnet20", "resnet32", "wrn-10-2", "wrn-16-1"):
        m = build_model(arch)
        for hw in ((28, 8) if arch == "resnet20" else (8,)):
            assert m(torch.zeros(1, 1, hw, hw)).shape == (1, 10)
    with pytest.raises(ValueError):
        build_model("resnet21")


def test_compress_and_scratch_have_same_structure():
    torch = pytest.importorskip("torch")
    pytest.importorskip("semitensor.torch")
    from benchmarks.experiments import common as C
    from benchmarks.experiments.models import build_model
    torch.manual_seed(0)
    dense = build_model("resnet20")
    a, rep = C.compress(dense, "stt", 14, 2)
    b, _ = C.scratch_model(dense, "stt", 14, 2)
    assert C.count_params(a) == C.count_params(b) < C.count_params(dense)
    assert "conv1" not in rep.replaced and "fc" not in rep.replaced
    ds = D.Dataset("toy", np.random.randn(16, 1, 8, 8).astype(np.float32), np.arange(16) % 10,
                   np.random.randn(8, 1, 8, 8).astype(np.float32), np.arange(8) % 10, "toy")
    acc, times = C.train(b, C.to_tensors(ds, "cpu"), 1, 0.01, batch=8)
    assert 0 <= acc <= 1 and len(times) == 1


def test_decomposition_fit_and_report(tmp_path):
    pytest.importorskip("torch")  # benchmarks.experiments.common imports it
    pytest.importorskip("matplotlib")
    from benchmarks.experiments import decomposition_study as S
    X = np.random.default_rng(0).standard_normal((4, 4, 4, 4))
    rows = S.study({"toy": (X, None)}, [1, 2], {"tucker": [2], "tt": [4], "tr": [4]}, str(tmp_path))
    assert {r["format"] for r in rows} == {"tucker", "sttu", "tt", "stt", "tr", "str"}
    assert all(0 <= r["rel_error"] <= 1 + 1e-9 for r in rows)
    S.report(rows, str(tmp_path), {"wall_s": 1.0, "threads": 1})
    assert (tmp_path / "decomposition.md").exists()
    assert list(tmp_path.glob("error_vs_params_*.png"))


def test_compression_report(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    from benchmarks.experiments import common as C
    from benchmarks.experiments.report_compression import write_report
    recs = {"d|a|dense": {"dataset": "d", "arch": "a", "method": "dense", "params": 1000,
                          "acc": 0.9, "s_per_epoch": 1.0, "epochs": 2}}
    for m, t, p, acc in (("tt", 1, 100, 0.89), ("stt", 2, 50, 0.87)):
        recs[f"d|a|{m}|14|{t}"] = {
            "dataset": "d", "arch": "a", "method": m, "family": "tt", "t": t, "rank_spec": 14,
            "kind": "rank", "params": p, "compression": 1000 / p, "fit_rel_error_mean": 0.5,
            "acc_compressed": 0.1, "acc_finetune": acc, "acc_scratch": acc - 0.01,
            "s_per_epoch_finetune": 1.0, "s_per_epoch_scratch": 1.0, "impl": "factorized"}
    path = str(tmp_path / "runs.json")
    C.save_json(path, {"meta": {"protocol": "default"}, "records": recs})
    md = write_report(path, str(tmp_path))
    assert "10.0x (0.890, rank 14)" in md            # TT within 2 points
    assert "| stt | none |" in md                      # 0.87 < 0.88: STT is not
    assert list(tmp_path.glob("acc_vs_compression_*.png"))


def test_seeds_table():
    pytest.importorskip("torch")
    from benchmarks.experiments.report_compression import seeds_tables
    base = {"dataset": "d", "arch": "a", "method": "tt", "t": 1, "rank_spec": 14, "kind": "rank",
            "compression": 6.2, "acc_finetune": 0.8, "acc_scratch": 0.7}
    recs = {f"k{s}": dict(base, seed=s, acc_finetune=0.8 + 0.01 * s) for s in (0, 1, 2)}
    recs["dense"] = {"dataset": "d", "arch": "a", "method": "dense", "seed": 0, "acc": 0.9}
    md = seeds_tables(recs)
    assert "0.8100 ± 0.0100 (0.800, 0.810, 0.820)" in md
    assert "| d / a | dense |" in md
