"""save/load of results (docs/conventions.md §9): exact round trips and clear errors for bad files."""
import zipfile

import numpy as np
import pytest

from semitensor import SemiTensorRing, SemiTensorTrain, SemiTensorTucker, load, tensor_train
from semitensor.io import save


def _examples():
    rng = np.random.default_rng(0)
    return [
        SemiTensorTrain([rng.standard_normal(s) for s in [(1, 4, 4), (2, 3, 6), (2, 3, 1)]], errors=[0.5, 0.25]),
        SemiTensorRing([rng.standard_normal(s) + 1j for s in [(2, 2, 3), (3, 4, 4)]]),
        SemiTensorTucker(rng.standard_normal((4, 3)).astype(np.float32),
                         [rng.standard_normal((5, 2)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32)]),
    ]


@pytest.mark.parametrize("result", _examples(), ids=lambda r: r.family)
def test_round_trip_is_exact(result, tmp_path):
    path = tmp_path / "result.npz"
    save(result, path)
    loaded = load(path)
    assert type(loaded) is type(result)
    assert loaded.shape == result.shape and loaded.rank == result.rank and loaded.t == result.t
    assert loaded.errors == result.errors
    for a, b in zip(loaded.arrays, result.arrays):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_fitted_result_round_trip(tmp_path):
    X = np.random.default_rng(1).standard_normal((4, 5, 6))
    tt = tensor_train(X, rank=3, n_iter_max=2)
    save(tt, tmp_path / "tt.npz")
    np.testing.assert_array_equal(load(tmp_path / "tt.npz").to_tensor(), tt.to_tensor())


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.npz")


def test_foreign_npz(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.ones(3))
    with pytest.raises(ValueError, match="not a semitensor result file"):
        load(tmp_path / "other.npz")


def test_not_an_npz(tmp_path):
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="not a readable semitensor .npz file"):
        load(tmp_path / "text.npz")


def test_truncated_file(tmp_path):
    path = tmp_path / "tt.npz"
    save(_examples()[0], path)
    data = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable semitensor"):
        load(tmp_path / "cut.npz")


def test_corrupt_contents(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, __semitensor__=np.array("semitensor-result"), format_version=np.array(1),
             kind=np.array("train"), errors=np.zeros(0), core_0=np.ones((1, 2, 3)), core_1=np.ones((2, 2, 1)))
    with pytest.raises(ValueError, match="is corrupt"):
        load(path)
    np.savez(path, __semitensor__=np.array("semitensor-result"), format_version=np.array(1),
             kind=np.array("train"), errors=np.zeros(0), core_0=np.ones((1, 2, 1)), core_2=np.ones((1, 2, 1)))
    with pytest.raises(ValueError, match="missing or out of order"):
        load(path)


def test_newer_version_and_unknown_kind(tmp_path):
    path = tmp_path / "v.npz"
    np.savez(path, __semitensor__=np.array("semitensor-result"), format_version=np.array(99), kind=np.array("train"))
    with pytest.raises(ValueError, match="format version 99"):
        load(path)
    np.savez(path, __semitensor__=np.array("semitensor-result"), format_version=np.array(1), kind=np.array("cp"))
    with pytest.raises(ValueError, match="unknown kind 'cp'"):
        load(path)


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "p.npz"
    np.savez(path, __semitensor__=np.array("semitensor-result"), format_version=np.array(1),
             kind=np.array("train"), core_0=np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        load(path)


def test_save_rejects_other_objects(tmp_path):
    with pytest.raises(TypeError, match="SemiTensorTucker, SemiTensorTrain or SemiTensorRing"):
        save(np.ones(3), tmp_path / "x.npz")
