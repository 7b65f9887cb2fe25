"""The torch extra is optional: ``import semitensor`` never imports torch, and
``import semitensor.torch`` without torch says how to install it.

These checks run in subprocesses and do not need torch (absence is simulated by
``sys.modules["torch"] = None``), so this file is not skipped when torch is missing.
"""
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.torch


def run(code):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)


def test_import_semitensor_does_not_import_torch():
    proc = run("""
        import sys, pkgutil, importlib
        import semitensor, semitensor.decomposition
        for package in (semitensor, semitensor.decomposition):  # every module but .torch
            for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
                if info.name not in ("semitensor.torch", "semitensor.__main__"):
                    importlib.import_module(info.name)
        assert "semitensor.decomposition.ring" in sys.modules
        assert "torch" not in sys.modules, sorted(m for m in sys.modules if "torch" in m)
        print("ok")
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_semitensor_torch_without_torch_explains_the_install():
    proc = run("""
        import sys
        sys.modules["torch"] = None  # makes "import torch" raise ImportError
        import semitensor
        try:
            import semitensor.torch
        except ImportError as exc:
            print(exc)
        else:
            raise SystemExit("no ImportError")
    """)
    assert proc.returncode == 0, proc.stderr
    message = proc.stdout
    assert "pip install torch==<version> first (choose your build" in message
    assert "then pip install semitensor[torch]" in message
