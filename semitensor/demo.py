"""The main job: ``python -m semitensor`` decomposes a built-in example and reports.

The example is a smooth order-4 tensor, ``X[i] = 1 / (1 + Σ_k x_k)`` on a uniform
grid (an inverse-distance kernel, a classic low-rank-in-every-format test case), plus a
little noise.  Every format is fitted at a few ranks, classical (t = 1) next to its
semi-tensor variant (t = 2), and the table shows parameters, compression and error.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from . import __version__, stp
from .decomposition.ring import semi_tensor_ring
from .decomposition.train import semi_tensor_train
from .decomposition.tucker import semi_tensor_tucker
from .io import load, save


def example_tensor(size=16, order=4, noise=1e-4, random_state=0):
    """The built-in example: ``1 / (1 + Σ x_k)`` on ``[0, 1]^order`` plus Gaussian noise.

    Examples
    --------
    >>> example_tensor(size=4, order=3).shape
    (4, 4, 4)
    """
    grid = np.linspace(0.0, 1.0, size)
    total = sum(np.meshgrid(*([grid] * order), indexing="ij"))
    X = 1.0 / (1.0 + total)
    rng = np.random.default_rng(random_state)
    return X + noise * np.linalg.norm(X) / np.sqrt(X.size) * rng.standard_normal(X.shape)


def _fits():
    """(format name, callable(X, rank, t)) for every format."""
    return [
        ("tucker", lambda X, r, t: semi_tensor_tucker(X, rank=r, t=t, n_iter_max=5)),
        ("train", lambda X, r, t: semi_tensor_train(X, rank=r, t=t)),
        ("ring", lambda X, r, t: semi_tensor_ring(X, rank=r, t=t, n_iter_max=10)),
    ]


def report(X, ranks=(4, 8), ratios=(1, 2), out=print):
    """Fit every format at every rank and ratio; print one table row per fit."""
    out("| format | t | rank | parameters | compression | relative error | seconds |")
    out("|---|---|---|---|---|---|---|")
    for name, fit in _fits():
        for rank in ranks:
            for t in ratios:
                label = name if t == 1 else f"semi-tensor {name}"
                start = time.perf_counter()
                result = fit(X, rank, t)
                seconds = time.perf_counter() - start
                out(
                    f"| {label} | {t} | {max(result.rank)} | {result.n_params} | "
                    f"{result.compression_ratio:.1f}x | {result.relative_error(X):.2e} | {seconds:.3f} |"
                )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m semitensor", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16, help="grid points per mode (even; default 16)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    args = parser.parse_args(argv)
    if args.size < 2 or args.size % 2:
        parser.error("--size must be an even integer >= 2 (t = 2 must divide every mode)")

    print(f"semitensor {__version__} demo\n")
    A, B = np.arange(1, 5).reshape(1, 4), np.array([[1, 10]])
    print("Semi-tensor product, A (1×4) ⋉ B (1×2) = (A ⊗ I_1)(B ⊗ I_4):")
    print(f"  {stp(A, B).tolist()}   (right STP: {stp(A, B, side='right').tolist()})\n")

    X = example_tensor(args.size, random_state=args.seed)
    print(f"Example tensor: 1/(1 + x1 + x2 + x3 + x4) on a {args.size}^4 grid + 1e-4 noise "
          f"({X.size} entries)\n")
    report(X)

    stt = semi_tensor_train(X, rank=8, t=2)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "stt.npz")
        save(stt, path)
        again = load(path)
    same = all(np.array_equal(a, b) for a, b in zip(stt.cores, again.cores))
    print(f"\nsave/load round trip of the STT (rank 8, t = 2): {'exact' if same else 'MISMATCH'}")
    return 0 if same else 1
