"""Benchmark of ``semitensor.stp`` (left / right semi-tensor product).

Run (from the repository root, with both OpenBLAS variables unset)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benchmarks/bench_stp.py [--quick]

For A (m x n) and B (p x q), t = lcm(n, p), g = gcd(n, p), every case is timed with

* ``stp``     -- ``semitensor.stp(A, B, side=...)``;
* ``kron``    -- the definition in NumPy: ``np.kron(A, I_{t/n}) @ np.kron(B, I_{t/p})``
  (right: ``np.kron(I_{t/n}, A) @ np.kron(I_{t/p}, B)``); for stacked inputs the
  Kronecker factors are built by broadcasting over the batch and multiplied with one
  batched matmul;
* ``peer``    -- the PyPI package ``semi-tensor-product`` (``stp.sp`` / ``stp.rightsp``,
  2-D only, so stacked inputs are looped over);
* ``matmul``  -- a plain matmul with the same flop count *and* output size as the
  STP: ``(m*t/n x g) @ (g x q*t/p)``. The STP needs m*q*t multiply-adds
  (= (m t/n) (q t/p) g since t g = n p) and returns an (m t/n) x (q t/p) matrix, so
  this matmul is the speed a kernel that reduces the STP to one GEMM can reach.

Ratios: ``kron/stp`` and ``peer/stp`` (speed-ups of stp, > 1 is good) and
``stp/matmul`` (overhead over the equal-flop GEMM, 1 is ideal). The four callables
of a case are sampled interleaved (``_harness.compare_samples``) so the ratios resist
the drift of a noisy machine; ``noise`` is the larger interquartile range / median of
the stp and matmul samples, ``other load`` the CPUs other processes kept busy
while the case was timed (``_harness.OtherLoad``; re-run when it is not ~0).
Memory: peak extra bytes allocated during one call (tracemalloc; includes the output),
divided by the bytes of the inputs plus the output.

A third table times stp and the matmul alone, each case in a fresh interpreter, and
counts minor page faults per call: in the main loop the Kronecker products' large
allocations raise glibc's malloc thresholds, which hides the cost of kernels whose
temporaries are otherwise unmapped and faulted back in on every call (skip it with
``--no-fresh``).

BLAS is pinned to 1 thread for the main tables; the last, short table repeats stp and
the matmul with 2 threads (skip it with ``--no-threads2``).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.path.insert(0, os.path.dirname(_HERE))  # benchmark the working tree's semitensor

import _harness as H  # noqa: E402

try:  # noqa: E402
    import semitensor
    from semitensor import stp as st_stp

    if not callable(st_stp):  # the submodule semitensor/stp.py, not the function
        st_stp = st_stp.stp
except (ImportError, AttributeError) as exc:  # pragma: no cover - depends on the tree
    sys.exit(f"semitensor.stp is not available ({exc}); run from a checkout that has it")

try:  # the PyPI package "semi-tensor-product" (import name: stp)
    import stp as peer_stp
except ImportError:  # pragma: no cover - optional peer
    peer_stp = None


# (label, side, A shape, B shape); shapes may carry leading batch dimensions.
CASES = [
    ("n = 16 p (t/p = 16)", "left", (256, 4096), (256, 256)),
    ("n = 8 p", "left", (512, 512), (64, 512)),
    ("p = 16 n (t/n = 16)", "left", (256, 256), (4096, 256)),
    ("general lcm (t = 1536)", "left", (256, 384), (512, 256)),
    ("right, n = 16 p", "right", (256, 4096), (256, 256)),
    ("stacked 32 x, n = 4 p", "left", (32, 64, 256), (32, 64, 64)),
]


# ----------------------------------------------------------------- reference kernels


def _kron_eye(X, k, side):
    """``X ⊗ I_k`` (left) or ``I_k ⊗ X`` (right) over the last two axes, batched."""
    if k == 1:
        return X
    *batch, r, c = X.shape
    eye = np.eye(k, dtype=X.dtype)
    if side == "left":  # [i, a, j, b] = X[i, j] * I[a, b]
        big = X[..., :, None, :, None] * eye[:, None, :]
    else:  # [a, i, b, j] = I[a, b] * X[i, j]
        big = eye[:, None, :, None] * X[..., None, :, None, :]
    return big.reshape(*batch, r * k, c * k)


def kron_definition(A, B, side):
    n, p = A.shape[-1], B.shape[-2]
    t = math.lcm(n, p)
    if A.ndim == 2 and B.ndim == 2:  # the textbook definition, literally
        if side == "left":
            return np.kron(A, np.eye(t // n)) @ np.kron(B, np.eye(t // p))
        return np.kron(np.eye(t // n), A) @ np.kron(np.eye(t // p), B)
    return _kron_eye(A, t // n, side) @ _kron_eye(B, t // p, side)


def peer_callable(A, B, side):
    """The semi-tensor-product package's function for this case, or None."""
    if peer_stp is None:
        return None
    fn = peer_stp.sp if side == "left" else peer_stp.rightsp
    if A.ndim == 2 and B.ndim == 2:
        return lambda: fn(A, B)
    if A.shape[:-2] != B.shape[:-2]:
        return None  # would need broadcasting; the package only takes 2-D matrices
    Af = A.reshape(-1, *A.shape[-2:])
    Bf = B.reshape(-1, *B.shape[-2:])
    return lambda: _peer_loop(fn, Af, Bf, A.shape[:-2])


def _peer_loop(fn, Af, Bf, batch_shape):
    out = np.stack([fn(a, b) for a, b in zip(Af, Bf)])
    return out.reshape(*batch_shape, *out.shape[-2:])


# ---------------------------------------------------------------------- benchmark


def run_case(label, side, a_shape, b_shape, rng, topts, *, threads2):
    A = rng.standard_normal(a_shape)
    B = rng.standard_normal(b_shape)
    m, n = a_shape[-2:]
    p, q = b_shape[-2:]
    t = math.lcm(n, p)
    # equal flops (m q t) and equal output size ((m t/n) x (q t/p)) plain matmul
    X, Y = _equal_flop_operands(a_shape, b_shape, rng)

    f_stp = lambda: st_stp(A, B, side=side)  # noqa: E731
    f_kron = lambda: kron_definition(A, B, side)  # noqa: E731
    f_mm = lambda: X @ Y  # noqa: E731
    f_peer = peer_callable(A, B, side)

    # correctness, once per case (also warms every code path up)
    C = f_stp()
    K = f_kron()
    ok = C.shape == K.shape and np.allclose(C, K)
    check = "ok" if ok else f"MISMATCH {C.shape} vs {K.shape}"
    if f_peer is not None and not np.allclose(f_peer(), K):
        check += ", peer differs"

    row = {
        "case": label,
        "shapes": _shape_label(a_shape, b_shape, side),
        "t": f"{t} ({t // n}, {t // p})",
        "check": check,
    }
    with H.OtherLoad() as load:
        samples = H.compare_samples(
            {"stp": f_stp, "kron": f_kron, "peer": f_peer, "matmul": f_mm}, **topts
        )
    row["load"] = load.value
    for key, values in samples.items():
        row[key] = None if values is None else statistics.median(values)
    # noise indicator of the ratio stp/matmul: worst interquartile range / median
    spreads = [H.relative_spread(samples[k]) for k in ("stp", "matmul")]
    row["noise"] = max((x for x in spreads if x is not None), default=None)
    row["kron/stp"] = row["kron"] / row["stp"]
    row["peer/stp"] = row["peer"] / row["stp"] if row["peer"] is not None else None
    row["stp/matmul"] = row["stp"] / row["matmul"]

    base = A.nbytes + B.nbytes + C.nbytes
    del K
    row["io_bytes"] = base
    row["stp_peak"] = H.peak_memory(f_stp)
    row["kron_peak"] = H.peak_memory(f_kron)
    row["stp_mem"] = row["stp_peak"] / base
    row["kron_mem"] = row["kron_peak"] / base

    if threads2:
        with H.pin_blas_threads(2), H.OtherLoad() as load2:
            s2 = H.compare_samples({"stp": f_stp, "matmul": f_mm}, **topts)
        row["load_2t"] = load2.value
        row["stp_2t"] = statistics.median(s2["stp"])
        row["matmul_2t"] = statistics.median(s2["matmul"])
        spreads = [H.relative_spread(v) for v in s2.values()]
        row["noise_2t"] = max((x for x in spreads if x is not None), default=None)
        row["stp/matmul_2t"] = row["stp_2t"] / row["matmul_2t"]
        row["stp_1t/2t"] = row["stp"] / row["stp_2t"]
    return row, ok


def fresh_process_case(index, args):
    """Time stp and the equal-flop matmul of ``CASES[index]`` in a new interpreter.

    In the main process the case runs after (and interleaved with) the Kronecker
    products, whose large allocations change glibc's malloc thresholds; a kernel
    whose temporaries would otherwise be unmapped and page-faulted back in on every
    call then looks faster than in a fresh process. Returns a dict, or None on error.
    """
    cmd = [sys.executable, os.path.abspath(__file__), "--child-case", str(index),
           "--seed", str(args.seed)] + (["--quick"] if args.quick else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if proc.returncode != 0:
        print(f"fresh-process run of case {index} failed:\n{proc.stderr}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _child_case(index, args):
    _, side, a_shape, b_shape = CASES[index]
    rng = H.make_rng(args.seed + 1000 + index)
    A, B = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    X, Y = _equal_flop_operands(a_shape, b_shape, rng)
    f_stp = lambda: st_stp(A, B, side=side)  # noqa: E731
    f_mm = lambda: X @ Y  # noqa: E731
    with H.pin_blas_threads(1), H.OtherLoad() as load:
        samples = H.compare_samples({"stp": f_stp, "matmul": f_mm}, **H.timing_options(args))
        faults = {k: H.minor_page_faults(f) for k, f in (("stp", f_stp), ("matmul", f_mm))}
    spreads = [H.relative_spread(v) for v in samples.values()]
    print(json.dumps({
        "stp": statistics.median(samples["stp"]),
        "matmul": statistics.median(samples["matmul"]),
        "faults_stp": faults["stp"],
        "faults_matmul": faults["matmul"],
        "noise": max((x for x in spreads if x is not None), default=None),
        "load": load.value,
    }))
    return 0


def _equal_flop_operands(a_shape, b_shape, rng):
    """Operands of the plain matmul with the flops and output size of the STP."""
    m, n = a_shape[-2:]
    p, q = b_shape[-2:]
    t, g = math.lcm(n, p), math.gcd(n, p)
    batch = a_shape[:-2]
    X = rng.standard_normal((*batch, m * (t // n), g))
    Y = rng.standard_normal((*batch, g, q * (t // p)))
    return X, Y


def _shape_label(a_shape, b_shape, side):
    op = "⋉" if side == "left" else "⋊"
    batch = a_shape[:-2]
    fmt = lambda s: "×".join(map(str, s[-2:]))  # noqa: E731
    pre = f"{'×'.join(map(str, batch))} of " if batch else ""
    return f"{pre}{fmt(a_shape)} {op} {fmt(b_shape)}"


def main(argv=None):
    args = H.parse_args(
        __doc__.splitlines()[0],
        argv,
        extra=_extra_args,
    )
    if args.child_case is not None:
        return _child_case(args.child_case, args)
    rng = H.make_rng(args.seed)
    topts = H.timing_options(args)
    t_start = time.perf_counter()

    with H.pin_blas_threads(1) as pin:
        H.print_header("semitensor.stp benchmark (benchmarks/bench_stp.py)", args=args)
        version = getattr(semitensor, "__version__", "?")
        peer_version = _dist_version("semi-tensor-product") if peer_stp else "not installed"
        print(f"semitensor {version} ({list(semitensor.__path__)[0]}), "
              f"semi-tensor-product {peer_version}")
        print(f"Pinned BLAS threads: {pin.threads}; float64; timings are medians "
              f"of {topts['repeat']} samples (each >= {topts['min_time']} s)")
        print()

        rows, all_ok = [], True
        for label, side, a_shape, b_shape in CASES:
            row, ok = run_case(
                label, side, a_shape, b_shape, rng, topts, threads2=not args.no_threads2
            )
            all_ok &= ok
            if not args.no_fresh:
                fresh = fresh_process_case(len(rows), args)
                for key, value in (fresh or {}).items():
                    row[f"fresh_{key}"] = value
                if fresh:
                    row["fresh_ratio"] = fresh["stp"] / fresh["matmul"]
            rows.append(row)
            print(f"  {label}: {row['check']}", file=sys.stderr, flush=True)

    print("## Time (1 BLAS thread)\n")
    H.print_table(
        rows,
        [
            ("shapes", "case (A ⋉/⋊ B)"),
            ("t", "t (t/n, t/p)"),
            ("stp", "stp", H.fmt_time),
            ("kron", "kron def.", H.fmt_time),
            ("peer", "semi-tensor-product", H.fmt_time),
            ("matmul", "equal-flop matmul", H.fmt_time),
            ("kron/stp", "kron/stp", H.fmt_ratio),
            ("peer/stp", "peer/stp", H.fmt_ratio),
            ("stp/matmul", "stp/matmul", H.fmt_ratio),
            ("noise", "noise", _fmt_pct),
            ("load", "other load", _fmt_load),
            ("check", "check"),
        ],
    )
    print("\n## Peak memory (tracemalloc, extra bytes during one call incl. output)\n")
    H.print_table(
        rows,
        [
            ("shapes", "case (A ⋉/⋊ B)"),
            ("io_bytes", "inputs + output", H.fmt_bytes),
            ("stp_peak", "stp peak", H.fmt_bytes),
            ("stp_mem", "stp / (in+out)", H.fmt_ratio),
            ("kron_peak", "kron peak", H.fmt_bytes),
            ("kron_mem", "kron / (in+out)", H.fmt_ratio),
        ],
    )
    if not args.no_fresh:
        print("\n## stp and equal-flop matmul alone, each case in a fresh process "
              "(1 BLAS thread)\n")
        H.print_table(
            rows,
            [
                ("shapes", "case (A ⋉/⋊ B)"),
                ("fresh_stp", "stp", H.fmt_time),
                ("fresh_matmul", "equal-flop matmul", H.fmt_time),
                ("fresh_ratio", "stp/matmul", H.fmt_ratio),
                ("fresh_faults_stp", "stp page faults/call", H.fmt_number),
                ("fresh_faults_matmul", "matmul page faults/call", H.fmt_number),
                ("fresh_noise", "noise", _fmt_pct),
                ("fresh_load", "other load", _fmt_load),
            ],
        )
    if not args.no_threads2:
        print("\n## Time (2 BLAS threads)\n")
        H.print_table(
            rows,
            [
                ("shapes", "case (A ⋉/⋊ B)"),
                ("stp_2t", "stp", H.fmt_time),
                ("matmul_2t", "equal-flop matmul", H.fmt_time),
                ("stp/matmul_2t", "stp/matmul", H.fmt_ratio),
                ("stp_1t/2t", "stp 1t/2t", H.fmt_ratio),
                ("noise_2t", "noise", _fmt_pct),
                ("load_2t", "other load", _fmt_load),
            ],
        )
    busy = [
        r[k] for r in rows for k in ("load", "load_2t", "fresh_load") if r.get(k) is not None
    ]
    if busy and max(busy) > 0.3:
        print("\nWARNING: other processes used up to "
              f"{max(busy):.2f} CPU(s) during the run; timings are unreliable, re-run.")
    print(f"\nTotal benchmark time: {time.perf_counter() - t_start:.0f} s")
    if not all_ok:
        print("ERROR: semitensor.stp disagrees with the Kronecker definition", file=sys.stderr)
        return 1
    return 0


def _extra_args(parser):
    parser.add_argument("--no-threads2", action="store_true", help="skip the 2-thread table")
    parser.add_argument(
        "--no-fresh", action="store_true", help="skip the fresh-process stp/matmul table"
    )
    parser.add_argument("--child-case", type=int, default=None, help=argparse.SUPPRESS)


def _fmt_pct(x):
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _fmt_load(x):
    return "n/a" if x is None else f"{x:.2f}"


def _dist_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # pragma: no cover
        return "?"


if __name__ == "__main__":
    sys.exit(main())
