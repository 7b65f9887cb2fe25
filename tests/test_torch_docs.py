"""Run the ``python`` code blocks of docs/torch.md, in order, in one namespace.

docs/torch.md uses plain code blocks rather than doctest prompts, so that the doctest
collection of the docs (which runs without torch too) does not need torch; this test
executes them instead and is skipped when torch is missing.
"""
import os
import re

import pytest

pytest.importorskip("torch")

pytestmark = pytest.mark.torch

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "torch.md")


def python_blocks(text):
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_docs_torch_md_code_runs(capsys):
    with open(DOC, encoding="utf-8") as fh:
        text = fh.read()
    assert ">>>" not in text  # doctest prompts would be collected without torch
    blocks = python_blocks(text)
    assert len(blocks) >= 6
    import torch

    namespace = {"__name__": "docs_torch"}
    threads = torch.get_num_threads()  # the tutorial pins one thread: restore afterwards
    try:
        for i, block in enumerate(blocks):
            try:
                exec(compile(block, f"{DOC}[block {i}]", "exec"), namespace)
            except Exception as exc:  # pragma: no cover - shown on failure
                raise AssertionError(f"block {i} of docs/torch.md failed:\n{block}") from exc
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "Whole model (stt)" in out and "after 2 epochs of fine-tuning" in out
