"""Shared helpers for the benchmark scripts in ``benchmarks/``.

Every script follows the same conventions so that their output can be pasted into
``docs/performance.md`` and compared across runs:

* ``parse_args`` gives the common command line (``--quick``, ``--seed``);
  ``timing_options(args)`` turns it into keyword arguments for ``median_time``.
* ``pin_blas_threads(n)`` limits the BLAS thread pool (threadpoolctl). Use it as a
  context manager, or call it once at start-up and keep the returned object alive.
* ``print_header(title)`` records Python / NumPy / SciPy / BLAS versions, the BLAS
  kernel (OpenBLAS "coretype") and thread count, and warns about environment
  variables that distort OpenBLAS timings on the project machines.
* ``median_time(fn)`` and ``peak_memory(fn)`` measure one zero-argument callable;
  ``compare_times({name: fn})`` times several callables with interleaved samples
  (use it when the ratios between them matter: the machines are noisy).
* ``print_table(rows, columns)`` prints a GitHub-flavoured markdown table.

The scripts are meant to be run as::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benchmarks/bench_<name>.py [--quick]

This module depends only on NumPy and the standard library; ``threadpoolctl`` (part
of the ``bench`` extra, ``pip install -e ".[bench]"``) is needed for thread pinning
and BLAS reporting and is imported lazily.
"""
from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence

import numpy as np

__all__ = [
    "OPENBLAS_ENV_VARS",
    "OtherLoad",
    "blas_info",
    "blas_summary",
    "compare_samples",
    "compare_times",
    "env_warnings",
    "fmt_bytes",
    "fmt_number",
    "fmt_ratio",
    "fmt_time",
    "load_line",
    "make_rng",
    "median_time",
    "minor_page_faults",
    "other_cpu_load",
    "parse_args",
    "peak_memory",
    "pin_blas_threads",
    "print_header",
    "print_table",
    "relative_spread",
    "sample_times",
    "timing_options",
]

#: Environment variables that, when set, make NumPy's bundled OpenBLAS pick a
#: slower kernel or blocking on the project machines. Unset *both* for benchmarks.
OPENBLAS_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

RUN_HINT = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benchmarks/<script>.py"


# --------------------------------------------------------------------------- BLAS


def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the benchmarks need threadpoolctl: pip install -e \".[bench]\""
        ) from exc
    return threadpoolctl


def blas_info() -> list[dict]:
    """threadpoolctl's description of every loaded BLAS library (NumPy's first)."""
    return [d for d in _threadpoolctl().threadpool_info() if d.get("user_api") == "blas"]


def blas_summary() -> str:
    """One line per BLAS: library, version, kernel (coretype), threading, threads."""
    infos = blas_info()
    if not infos:
        return "BLAS: none reported by threadpoolctl (is numpy imported?)"
    parts = []
    for d in infos:
        lib = os.path.basename(d.get("filepath", "?"))
        parts.append(
            f"{d.get('internal_api', '?')} {d.get('version', '?')} "
            f"(kernel/coretype {d.get('architecture', '?')}, "
            f"{d.get('threading_layer', '?')}, {d.get('num_threads', '?')} thread(s); {lib})"
        )
    return "BLAS: " + "; ".join(parts)


class pin_blas_threads:
    """Limit the BLAS thread pool to ``n`` threads (default 1).

    Usable as a context manager::

        with pin_blas_threads(1):
            ...

    or at import time of a script (the limit applies immediately; keep the object to
    call ``restore()`` later)::

        _pin = pin_blas_threads(1)

    ``threads`` is the thread count threadpoolctl reports after pinning and
    ``summary`` the corresponding ``blas_summary()`` line.
    """

    def __init__(self, n: int = 1):
        self.n = int(n)
        self._limiter = _threadpoolctl().threadpool_limits(limits=self.n, user_api="blas")
        infos = blas_info()
        self.threads = infos[0]["num_threads"] if infos else None
        self.summary = blas_summary()

    def restore(self) -> None:
        self._limiter.restore_original_limits()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.restore()
        return False


def env_warnings() -> list[str]:
    """Warning lines for benchmark-distorting environment variables that are set."""
    found = [f"{v}={os.environ[v]!r}" for v in OPENBLAS_ENV_VARS if v in os.environ]
    if not found:
        return []
    return [
        "WARNING: " + ", ".join(found) + " set in the environment; OpenBLAS may use a "
        "slower kernel. Re-run with both unset: " + RUN_HINT
    ]


def _cpu_snapshot():
    """(busy jiffies of all CPUs, total jiffies, own CPU seconds, wall time) or None."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    if len(fields) < 4:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal
    return total - idle, total, sum(os.times()[:2]), time.perf_counter()


def _other_load_between(s0, s1) -> float | None:
    if s0 is None or s1 is None or s1[1] <= s0[1] or s1[3] <= s0[3]:
        return None
    ncpu = os.cpu_count() or 1
    busy = (s1[0] - s0[0]) / (s1[1] - s0[1]) * ncpu
    own = (s1[2] - s0[2]) / (s1[3] - s0[3])
    return max(0.0, busy - own)


class OtherLoad:
    """Context manager measuring the CPUs kept busy by *other* processes meanwhile.

    ``with H.OtherLoad() as load: ...`` then ``load.value`` (``None`` where
    ``/proc/stat`` is unavailable, e.g. not Linux). About 0 on an idle machine,
    about 1 when another process saturates one core. Steal time counts as busy.
    """

    value: float | None = None

    def __enter__(self):
        self._s0 = _cpu_snapshot()
        return self

    def __exit__(self, *exc):
        self.value = _other_load_between(self._s0, _cpu_snapshot())
        return False


def other_cpu_load(interval: float = 0.5) -> float | None:
    """CPUs kept busy by *other* processes, averaged over ``interval`` seconds of sleep
    (see ``OtherLoad``). Benchmarks on a shared machine should report it: with 2 CPUs,
    a concurrent process ruins multi-threaded BLAS timings."""
    with OtherLoad() as load:
        time.sleep(interval)
    return load.value


def load_line(interval: float = 0.5) -> str:
    """``Other load: ...`` line, with a warning when other processes use CPU."""
    load = other_cpu_load(interval)
    if load is None:
        return "Other load: unknown (no /proc/stat)"
    line = f"Other load: {load:.2f} CPU(s) busy with other processes"
    if load > 0.3:
        line += " -- WARNING: the machine is shared right now; timings are unreliable"
    return line


def print_header(title: str, *, args: argparse.Namespace | None = None, file=None) -> None:
    """Print the versions / machine / BLAS lines every benchmark output starts with."""
    import scipy

    out = file or sys.stdout
    print(f"# {title}", file=out)
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"NumPy {np.__version__}, SciPy {scipy.__version__}",
        file=out,
    )
    cpu = _cpu_model()
    print(
        f"Machine: {platform.system()} {platform.machine()}, {cpu}, "
        f"{os.cpu_count()} logical CPU(s)",
        file=out,
    )
    print(blas_summary(), file=out)
    if args is not None:
        mode = "quick" if getattr(args, "quick", False) else "full"
        print(f"Mode: {mode}, seed {getattr(args, 'seed', None)}", file=out)
    print(load_line(), file=out)
    for line in env_warnings():
        print(line, file=out)
    out.flush()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# ------------------------------------------------------------------------ timing


def _calibrate(fn, min_time, max_number):
    """Calls per sample so that a sample lasts about ``min_time`` (1 for slow calls)."""
    t0 = time.perf_counter()
    fn()
    single = time.perf_counter() - t0
    if single >= min_time or single <= 0:
        return 1
    return min(max_number, max(1, math.ceil(min_time / single)))


def compare_samples(
    fns: Mapping[str, Callable[[], object] | None],
    *,
    repeat: int = 7,
    min_time: float = 0.05,
    warmup: int = 1,
    max_number: int = 1_000_000,
) -> dict[str, list[float] | None]:
    """Seconds per call of each ``fns[key]()``, one value per sample.

    The samples of the different callables are taken round-robin (A B C A B C ...),
    so that slow drifts of a noisy machine hit all of them alike and their *ratios*
    stay meaningful. ``warmup`` untimed calls of each come first. A sample runs a
    callable ``number`` times in a loop, ``number`` chosen so that the sample lasts
    about ``min_time`` seconds (1 for slow calls). The garbage collector is disabled
    while timing, as in timeit. ``None`` entries are skipped (result ``None``).
    """
    live = {k: f for k, f in fns.items() if f is not None}
    for f in live.values():
        for _ in range(max(0, warmup)):
            f()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        numbers = {k: _calibrate(f, min_time, max_number) for k, f in live.items()}
        samples = {k: [] for k in live}
        for _ in range(max(1, repeat)):
            for k, f in live.items():
                number = numbers[k]
                t0 = time.perf_counter()
                for _ in range(number):
                    f()
                samples[k].append((time.perf_counter() - t0) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    return {k: samples.get(k) for k in fns}


def sample_times(fn: Callable[[], object], **options) -> list[float]:
    """Seconds per call of ``fn()``, one value per sample (see ``compare_samples``)."""
    return compare_samples({"fn": fn}, **options)["fn"]


def median_time(
    fn: Callable[[], object],
    *,
    repeat: int = 7,
    min_time: float = 0.05,
    warmup: int = 1,
) -> float:
    """Median seconds per call of ``fn()``: ``repeat`` samples after ``warmup`` calls,
    each sample looping ``fn`` for about ``min_time`` seconds when a call is fast."""
    return statistics.median(
        sample_times(fn, repeat=repeat, min_time=min_time, warmup=warmup)
    )


def compare_times(fns: Mapping[str, Callable[[], object] | None], **options):
    """Median seconds per call of each callable, sampled interleaved
    (``compare_samples``); ``None`` for ``None`` entries."""
    return {
        k: (None if s is None else statistics.median(s))
        for k, s in compare_samples(fns, **options).items()
    }


def relative_spread(samples: Sequence[float] | None) -> float | None:
    """Interquartile range over median of timing samples (a noise indicator)."""
    if not samples or len(samples) < 2:
        return None
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return (q3 - q1) / statistics.median(samples)


# ------------------------------------------------------------------------ memory


def peak_memory(fn: Callable[[], object]) -> int:
    """Peak extra bytes allocated during one call of ``fn()`` (tracemalloc).

    NumPy reports its array-data allocations to tracemalloc, so this covers the
    result and every temporary array; the result is still alive at the peak and is
    therefore included. Memory that BLAS allocates on its own (e.g. OpenBLAS's
    packing buffers) is not seen. Call ``fn`` once beforehand if it has one-off
    caches to fill.
    """
    gc.collect()
    started_here = not tracemalloc.is_tracing()
    if started_here:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        if started_here:
            tracemalloc.stop()
    return max(0, peak - base)


def minor_page_faults(fn: Callable[[], object], *, calls: int = 5) -> float | None:
    """Minor page faults per call of ``fn()`` (``getrusage``), after one warm-up call.

    Non-zero values mean the call maps fresh memory each time (e.g. glibc returned
    its large temporaries to the OS on the previous call); on virtual machines each
    fault can cost microseconds. ``None`` where ``resource`` is unavailable.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    fn()
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


# ------------------------------------------------------------------------ output


def fmt_time(seconds: float | None) -> str:
    """``1.23 ms``-style formatting; ``n/a`` for None / NaN."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "n/a"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if abs(seconds) >= scale or unit == "ns":
            return f"{_sig(seconds / scale)} {unit}"
    return str(seconds)  # pragma: no cover


def fmt_bytes(nbytes: float | None) -> str:
    """Binary-prefixed size (``12.0 MiB``); ``n/a`` for None."""
    if nbytes is None:
        return "n/a"
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(nbytes)  # pragma: no cover


def fmt_ratio(x: float | None) -> str:
    """``12.3×``-style ratio; ``n/a`` for None / NaN / inf."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{_sig(x)}×"


def fmt_number(x) -> str:
    """Generic cell formatting: ints verbatim, floats to 3 significant digits."""
    if x is None:
        return "n/a"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(x):
            return "n/a"
        return _sig(float(x))
    return str(x)


def _sig(x: float) -> str:
    """Three significant digits without scientific notation for 1e-3 <= |x| < 1e6."""
    ax = abs(x)
    if ax == 0:
        return "0"
    if ax >= 1e6 or ax < 1e-3:
        return f"{x:.2e}"
    if ax >= 100:
        return f"{x:.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


Column = str | tuple[str, str] | tuple[str, str, Callable[[object], str]]


def print_table(
    rows: Sequence[Mapping | Sequence],
    columns: Sequence[Column],
    *,
    file=None,
) -> None:
    """Print ``rows`` as a markdown table.

    ``columns`` entries are a key, ``(key, header)`` or ``(key, header, formatter)``.
    Rows are mappings (looked up by key) or sequences (by position). Cells default
    to ``fmt_number``; strings are printed verbatim, missing keys as ``n/a``.
    Numeric columns are right-aligned.
    """
    out = file or sys.stdout
    specs = []
    for col in columns:
        if isinstance(col, str):
            specs.append((col, col, fmt_number))
        elif len(col) == 2:
            specs.append((col[0], col[1], fmt_number))
        else:
            specs.append((col[0], col[1], col[2]))

    table = []
    numeric = [True] * len(specs)
    for row in rows:
        cells = []
        for j, (key, _, fmt) in enumerate(specs):
            if isinstance(row, Mapping):
                value = row.get(key)
            else:
                value = row[j] if j < len(row) else None
            if isinstance(value, str):
                numeric[j] = False
                cells.append(value)
            else:
                cells.append(fmt(value))
        table.append(cells)

    headers = [h for _, h, _ in specs]
    widths = [
        max([len(h)] + [len(r[j]) for r in table]) for j, h in enumerate(headers)
    ]

    def line(cells):
        padded = [
            c.rjust(w) if numeric[j] else c.ljust(w)
            for j, (c, w) in enumerate(zip(cells, widths))
        ]
        return "| " + " | ".join(padded) + " |"

    print(line(headers), file=out)
    print(
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if numeric[j] else (":" + "-" * (w + 1))
            for j, w in enumerate(widths)
        )
        + "|",
        file=out,
    )
    for cells in table:
        print(line(cells), file=out)
    out.flush()


# -------------------------------------------------------------------------- CLI


def parse_args(description: str, argv: Sequence[str] | None = None, *, extra=None):
    """The common benchmark command line.

    ``--quick``: fewer repeats and shorter samples (smoke runs, CI);
    ``--seed``: seed of the random inputs (default 0).
    ``extra(parser)`` may add script-specific options.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats (smoke run; noisier numbers)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    if extra is not None:
        extra(parser)
    return parser.parse_args(argv)


def timing_options(args: argparse.Namespace | bool) -> dict:
    """``median_time`` keyword arguments for the full or ``--quick`` mode."""
    quick = args if isinstance(args, bool) else bool(getattr(args, "quick", False))
    if quick:
        return {"repeat": 3, "min_time": 0.02, "warmup": 1}
    return {"repeat": 7, "min_time": 0.05, "warmup": 1}


def make_rng(seed: int | None = 0) -> np.random.Generator:
    """A seeded ``numpy.random.Generator``; also seeds the legacy global NumPy RNG
    (used by some peer libraries)."""
    if seed is not None:
        np.random.seed(seed % (2**32))
    return np.random.default_rng(seed)
