"""The one sweep engine of the iterative fits (HOOI, train ALS, ring ALS).

A fit hands :func:`run_sweeps` a *step* — one sweep from a state to the next state and
its relative error — and the engine owns everything the fits share:

* **error figures**: :func:`measured` takes a fit's cheap estimate (from norms of
  cores, ``sqrt(1 − ‖G‖²/‖X‖²)`` and the like) where the dtype can resolve it, and the
  exact ``‖X − X̂‖/‖X‖`` below ``100·sqrt(eps)``, where the estimate cancels (in float32
  that is below 3.5e-2; in float64 below 1.5e-6);
* **monotone history**: a sweep whose error comes out larger than the previous one —
  only rounding can do that for these fits — is discarded and ends the fit, so
  ``errors`` never increases and its last entry belongs to the returned state;
* **one stop rule**: stop when a sweep lowers the error by at most ``tol`` times its
  previous value, or once the error is at rounding level (``100·eps``);
* **one verbose line**, in the result's ``.rank`` convention.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["reliable_error_floor", "measured", "run_sweeps", "relative"]


def reliable_error_floor(dtype):
    """Relative errors below this are computed exactly, not estimated from norms."""
    return 100 * math.sqrt(float(np.finfo(dtype).eps))


def relative(part, whole):
    """``part / whole`` for norms, ``part`` itself when ``whole`` is zero."""
    return part / whole if whole > 0 else part


def measured(estimate, exact, dtype):
    """The relative error to report: ``estimate`` unless it is below the dtype's
    resolution (or None), else ``exact()``."""
    if estimate is None or not estimate >= reliable_error_floor(dtype):
        return float(exact())
    return float(estimate)


def run_sweeps(step, state, error, *, n_iter_max, tol, dtype, verbose=False, name="fit",
               rank=None):
    """Run up to ``n_iter_max`` sweeps from ``state`` (of relative error ``error``).

    Parameters
    ----------
    step : callable
        ``step(state) -> (new_state, new_error)``; the error should come from
        :func:`measured`.
    state : object
        The fit's state (cores, factors, …), passed through untouched.
    error : float
        Relative error of ``state``.
    n_iter_max : int
        Maximum number of sweeps (0: none).
    tol : float
        Relative-improvement threshold of the stop rule.
    dtype : numpy dtype
        Working precision, for the rounding floor.
    verbose : bool
        Print one line for the start and one per sweep.
    name : str
        The method's name, for the verbose lines.
    rank : callable, optional
        ``rank(state)`` in the result's ``.rank`` convention, for the verbose lines.

    Returns
    -------
    state, errors : object, list of float
        The last accepted state and the error history (start first, non-increasing).
    """
    floor = 100 * float(np.finfo(dtype).eps)
    errors = [float(error)]
    _report(verbose, name, "start", errors[-1], rank, state)
    for sweep in range(1, n_iter_max + 1):
        if errors[-1] <= floor:
            break
        new_state, new_error = step(state)
        if new_error > errors[-1]:  # rounding only: keep the better state
            break
        state = new_state
        errors.append(float(new_error))
        _report(verbose, name, f"sweep {sweep}", errors[-1], rank, state)
        if errors[-2] - errors[-1] <= tol * errors[-2]:
            break
    return state, errors


def _report(verbose, name, when, error, rank, state):
    if verbose:
        shown = "" if rank is None else f", rank {tuple(rank(state))}"
        print(f"{name} {when}: relative error {error:.6e}{shown}")
