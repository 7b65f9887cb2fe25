"""Experiments of issue 5: semi-tensor formats against classical ones on real networks and data.

Not part of the library.  Entry points (see ``docs/results.md``)::

    python3 -m benchmarks.experiments.run_compression        # networks: accuracy / compression / time
    python3 -m benchmarks.experiments.decomposition_study    # relative error vs parameters
"""
