"""Offline data for the experiments: Fashion-MNIST (idx files) and scikit-learn's digits.

Fashion-MNIST comes from the Debian package ``dataset-fashion-mnist``::

    apt-get update && apt-get install -y dataset-fashion-mnist

which installs ``/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``.
Another directory can be given with ``root=`` or the environment variable
``SEMITENSOR_FASHION_MNIST``.  Files may be gzip-compressed (``.gz``) or raw.

Digits are scikit-learn's bundled 8x8 digits (``pip install scikit-learn``); without
scikit-learn, :func:`load_digits_data` falls back to a synthetic 8x8 10-class problem and says
so in its ``source`` field.

Only NumPy is needed here; the loaders return float32 arrays of shape ``(N, 1, H, W)`` and
int64 labels.
"""
from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass

import numpy as np

APT_HINT = "apt-get update && apt-get install -y dataset-fashion-mnist"
DEFAULT_FASHION_DIRS = ("/usr/share/datasets/fashion-mnist",)

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

FASHION_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


class MissingDataError(FileNotFoundError):
    """A data file is missing; the message says how to install it."""


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an idx file (already decompressed)."""
    if len(raw) < 4:
        raise ValueError(f"{name}: too short for an idx header ({len(raw)} bytes)")
    zero1, zero2, code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero1 != 0 or zero2 != 0:
        raise ValueError(f"{name}: not an idx file (magic starts with {raw[:2]!r}, expected b'\\x00\\x00')")
    if code not in _IDX_DTYPES:
        raise ValueError(f"{name}: unknown idx data type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: truncated idx header")
    shape = struct.unpack(f">{ndim}I", raw[4:header]) if ndim else ()
    dtype = _IDX_DTYPES[code]
    count = int(np.prod(shape, dtype=np.int64)) if ndim else 1
    expected = header + count * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{name}: idx size mismatch: header says shape {tuple(shape)} "
                         f"({expected} bytes), file has {len(raw)} bytes")
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header)
    return data.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def read_idx(path: str) -> np.ndarray:
    """Read an idx file, gzip-compressed (detected from its magic bytes) or raw."""
    if not os.path.exists(path):
        raise MissingDataError(f"idx file not found: {path}")
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return parse_idx(raw, name=path)


def _find(root_dirs, stem):
    for d in root_dirs:
        for name in (stem + ".gz", stem):
            p = os.path.join(d, name)
            if os.path.exists(p):
                return p
    return None


def fashion_mnist_dirs(root=None):
    if root is not None:
        return (root,)
    env = os.environ.get("SEMITENSOR_FASHION_MNIST")
    return ((env,) if env else ()) + DEFAULT_FASHION_DIRS


def fashion_mnist_paths(root=None) -> dict:
    """The four idx paths; :class:`MissingDataError` (with the install command) if any is missing."""
    dirs = fashion_mnist_dirs(root)
    paths, missing = {}, []
    for key, stem in FASHION_FILES.items():
        p = _find(dirs, stem)
        if p is None:
            missing.append(stem + "[.gz]")
        paths[key] = p
    if missing:
        raise MissingDataError(
            f"Fashion-MNIST idx files not found in {list(dirs)}: missing {', '.join(missing)}. "
            f"Install them with `{APT_HINT}` (files land in {DEFAULT_FASHION_DIRS[0]}), "
            "or pass root=/ set SEMITENSOR_FASHION_MNIST to a directory holding them.")
    return paths


@dataclass
class Dataset:
    name: str
    x_train: np.ndarray   # float32 (N, 1, H, W), standardised
    y_train: np.ndarray   # int64 (N,)
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    @property
    def image_shape(self):
        return self.x_train.shape[1:]

    def summary(self):
        return (f"{self.name}: {len(self.y_train)} train / {len(self.y_test)} test images of "
                f"{'x'.join(map(str, self.image_shape))} ({self.source})")


def _subset(x, y, n, rng):
    if n is None or n >= len(y):
        return x, y
    idx = np.sort(rng.choice(len(y), size=n, replace=False))
    return x[idx], y[idx]


def _standardise(x_train, x_test):
    mean, std = float(x_train.mean()), float(x_train.std()) or 1.0
    return ((x_train - mean) / std).astype(np.float32), ((x_test - mean) / std).astype(np.float32)


def load_fashion_mnist(root=None, n_train=None, n_test=None, seed=0, standardise=True) -> Dataset:
    """Fashion-MNIST as ``(N, 1, 28, 28)`` float32; random subsets (fixed ``seed``) if ``n_*`` given."""
    paths = fashion_mnist_paths(root)
    xtr, ytr = read_idx(paths["train_images"]), read_idx(paths["train_labels"])
    xte, yte = read_idx(paths["test_images"]), read_idx(paths["test_labels"])
    for x, y, split in ((xtr, ytr, "train"), (xte, yte, "test")):
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"Fashion-MNIST {split}: images {x.shape} and labels {y.shape} do not match")
    rng = np.random.default_rng(seed)
    xtr, ytr = _subset(xtr, ytr, n_train, rng)
    xte, yte = _subset(xte, yte, n_test, rng)
    xtr = xtr.astype(np.float32)[:, None] / 255.0
    xte = xte.astype(np.float32)[:, None] / 255.0
    if standardise:
        xtr, xte = _standardise(xtr, xte)
    return Dataset("fashion-mnist", xtr, ytr.astype(np.int64), xte, yte.astype(np.int64),
                   source=os.path.dirname(paths["train_images"]))


def fashion_mnist_images(n=1024, root=None, split="train") -> np.ndarray:
    """The first ``n`` images of a split as float64 in [0, 1], shape ``(n, 28, 28)``."""
    paths = fashion_mnist_paths(root)
    x = read_idx(paths[f"{split}_images"])[:n]
    return x.astype(np.float64) / 255.0


def synthetic_digits(seed=0, n=1797):
    """A 10-class 8x8 stand-in for the digits (smoothed class templates plus noise)."""
    rng = np.random.default_rng(seed)
    templates = rng.random((10, 8, 8)) > 0.6
    y = rng.integers(0, 10, n)
    x = templates[y].astype(np.float64) * 12 + rng.normal(0, 3, (n, 8, 8))
    return np.clip(x, 0, 16), y


def load_digits_data(seed=0, test_fraction=0.2, standardise=True) -> Dataset:
    """scikit-learn's 8x8 digits (1797 images), a stratified split with fixed ``seed``."""
    try:
        from sklearn.datasets import load_digits
        d = load_digits()
        x, y, source = d.images, d.target, "scikit-learn load_digits"
    except ImportError:
        x, y = synthetic_digits(seed)
        source = "SYNTHETIC stand-in: scikit-learn is not installed (pip install scikit-learn)"
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        test[rng.choice(idx, size=int(round(test_fraction * len(idx))), replace=False)] = True
    x = x.astype(np.float32)[:, None] / 16.0
    xtr, xte = x[~test], x[test]
    if standardise:
        xtr, xte = _standardise(xtr, xte)
    return Dataset("digits", xtr, y[~test].astype(np.int64), xte, y[test].astype(np.int64), source)


def load_dataset(name, *, n_train=None, n_test=None, seed=0, root=None) -> Dataset:
    if name == "digits":
        return load_digits_data(seed=seed)
    if name in ("fashion", "fashion-mnist", "fashion_mnist"):
        return load_fashion_mnist(root=root, n_train=n_train, n_test=n_test, seed=seed)
    raise ValueError(f"unknown dataset {name!r}: use 'digits' or 'fashion'")
