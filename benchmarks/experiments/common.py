"""Shared helpers: training loop, timing, factorized-network construction, result I/O."""
from __future__ import annotations

import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .models import count_params

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RESULTS_DIR = os.path.join(REPO, "docs", "results")
CHECKPOINT_DIR = os.path.join(HERE, "checkpoints")

CLASSICAL = {"tt": "tt", "stt": "tt", "tr": "tr", "str": "tr", "tucker": "tucker", "sttu": "tucker"}
EXCLUDE = ["conv1", "fc"]       # stem (1 input channel) and classifier stay dense in every net


def set_seed(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def to_tensors(ds, device):
    return (torch.from_numpy(ds.x_train).to(device), torch.from_numpy(ds.y_train).to(device),
            torch.from_numpy(ds.x_test).to(device), torch.from_numpy(ds.y_test).to(device))


@torch.no_grad()
def evaluate(model, x, y, batch=500):
    model.eval()
    correct = 0
    for i in range(0, len(y), batch):
        correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(y)


def _sync(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def train(model, data, epochs, lr, *, batch=64, seed=0, weight_decay=1e-4, device="cpu", log=None):
    """SGD (momentum 0.9, nesterov) with a cosine schedule.  Returns (test accuracy, [s/epoch])."""
    xtr, ytr, xte, yte = data
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                          weight_decay=weight_decay)
    steps = epochs * math.ceil(len(ytr) / batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(steps, 1))
    gen = torch.Generator().manual_seed(seed)
    times = []
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(ytr), generator=gen).to(xtr.device)
        _sync(device)
        t0 = time.perf_counter()
        for i in range(0, len(ytr), batch):
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            if not torch.isfinite(loss):
                raise FloatingPointError(f"non-finite loss at epoch {ep}")
            loss.backward()
            opt.step()
            sched.step()
        _sync(device)
        times.append(time.perf_counter() - t0)
        if log:
            log(f"    epoch {ep + 1}/{epochs}: loss {loss.item():.3f} ({times[-1]:.1f}s)")
    return evaluate(model, xte, yte), times


def factorized_layers(model):
    from semitensor.torch import FactorizedConv2d, FactorizedLinear
    return [m for m in model.modules() if isinstance(m, (FactorizedConv2d, FactorizedLinear))]


def set_implementation(model, impl):
    for m in factorized_layers(model):
        m.implementation = impl


def pick_implementation(model, x, device="cpu", reps=3):
    """Time a few forward+backward steps with both forward paths; keep the faster one."""
    best = None
    for impl in ("factorized", "reconstructed"):
        set_implementation(model, impl)
        model.train()
        state = {k: v.clone() for k, v in model.state_dict().items()}   # BN stats untouched
        for i in range(reps + 1):
            if i == 1:
                _sync(device)
                t0 = time.perf_counter()
            model.zero_grad(set_to_none=True)
            model(x).sum().backward()
        _sync(device)
        dt = (time.perf_counter() - t0) / reps
        model.load_state_dict(state)
        if best is None or dt < best[1]:
            best = (impl, dt)
    model.zero_grad(set_to_none=True)
    set_implementation(model, best[0])
    return best[0]


def compress(dense, method, rank, t, *, fit_iters=3, device="cpu"):
    """``compress_model`` with the experiments' settings (stem and classifier left dense)."""
    from semitensor.torch import compress_model
    fit_kwargs = {"n_iter_max": fit_iters} if CLASSICAL[method] in ("tr", "tucker") else None
    model, report = compress_model(dense.cpu(), method, rank, t, exclude=EXCLUDE,
                                   fit_kwargs=fit_kwargs)
    return model.to(device), report


def scratch_model(dense_init, method, rank, t, *, device="cpu"):
    """The same factorized structure as ``compress``, every core re-drawn at random.

    Built through ``compress_model`` on the *untrained* dense net (so exactly the same
    layers are replaced as in the pretrained pipeline), then ``reset_parameters()``
    (variance-preserving initialisation of the cores, see docs/torch.md).
    """
    model, report = compress(dense_init, method, rank, t, fit_iters=1)
    for m in factorized_layers(model):
        m.reset_parameters()
    return model.to(device), report


def model_params(model):
    return count_params(model)


def save_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=1, default=float)
    os.replace(tmp, path)


def load_json(path, default):
    if os.path.exists(path):
        with open(path) as fh:
            return json.load(fh)
    return default


def md_table(header, rows, align=None):
    align = align or ["--:"] * len(header)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)
