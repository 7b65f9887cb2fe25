"""Decomposition-only study: relative error against parameter count, six formats, t in {1, 2, 4}.

Uses the NumPy library directly (``semitensor.tucker / semi_tensor_tucker``,
``tensor_train / semi_tensor_train``, ``tensor_ring / semi_tensor_ring``) on

* random low-rank tensors, 16x16x16x16: a classical TT of bond 8 and an ST train
  (t = 2, bonds 8) -- each format family on its "own" kind of data;
* trained networks' weights: the dense checkpoints written by ``run_compression`` (a
  64x64x3x3 ResNet-20 convolution -> (8, 8, 8, 8, 9); a 128x128x3x3 WRN-10-2 convolution
  -> (8, 16, 8, 16, 9)); without checkpoints a dense ResNet-20 is trained on digits first;
* an image stack: 1024 Fashion-MNIST training images, 28x28, as a (32, 32, 28, 28) tensor.

Ratios: ``t`` on every mode a format allows (a train's first mode has ratio 1; a weight
tensor's kernel mode 9 keeps ratio 1).  Trains use (ST-)TT-SVD, Tucker (ST-)HOOI with 2
sweeps, rings (ST-)TR-SVD + 4 ALS sweeps.  Outputs ``docs/results/decomposition.{json,md}``
and ``docs/results/error_vs_params_*.png``.

    python3 -m benchmarks.experiments.decomposition_study [--full]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import semitensor as st

from . import common as C

FORMATS = {  # name: (function, family, fit kwargs)
    "tucker": ("tucker", {"n_iter_max": 2}),
    "tt": ("train", {}),
    "tr": ("ring", {"n_iter_max": 4, "random_state": 0}),
}
ST_NAME = {"tucker": "sttu", "tt": "stt", "tr": "str"}
RANKS = {"tucker": [1, 2, 3, 4, 6, 8, 12, 16, 24, 32],
         "tt": [1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256],
         "tr": [2, 4, 6, 8, 12, 16, 20, 24, 32, 40]}
FULL_RANKS = {"tucker": list(range(1, 33)), "tt": list(range(1, 129)),
              "tr": [2, 4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 36, 40]}
BUDGETS = (0.01, 0.05, 0.2)   # parameter fractions for the equal-parameter table


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def random_tensors(seed=0):
    rng = np.random.default_rng(seed)
    shape = (16, 16, 16, 16)
    tt = st.SemiTensorTrain([rng.standard_normal(s) for s in
                             [(1, 16, 8), (8, 16, 8), (8, 16, 8), (8, 16, 1)]]).to_tensor()
    stt = st.SemiTensorTrain([rng.standard_normal(s) for s in
                              [(1, 16, 8), (4, 8, 8), (4, 8, 8), (4, 8, 1)]]).to_tensor()
    assert tt.shape == shape and stt.shape == shape, (tt.shape, stt.shape)
    return {"random TT (bond 8)": (tt, None), "random STT (t=2, bond 8)": (stt, None)}


def weight_tensors(seed=0):
    import torch
    from .data import load_digits_data
    from .models import build_model
    found = {}
    for dname in ("fashion-mnist", "digits"):
        for arch, layer, shape in (("resnet20", "layers.8.conv2.weight", (8, 8, 8, 8, 9)),
                                   ("wrn-10-2", "layers.2.conv2.weight", (8, 16, 8, 16, 9))):
            p = os.path.join(C.CHECKPOINT_DIR, f"{dname}_{arch}_default.pt")
            if arch not in found and os.path.exists(p):
                w = torch.load(p)[layer].double().numpy()
                found[arch] = (f"{arch} {layer[:-7]} ({dname}) {'x'.join(map(str, w.shape))}",
                               w.reshape(shape))
    if not found:
        log("no checkpoints from run_compression: training a dense ResNet-20 on digits (10 epochs)")
        torch.manual_seed(seed)
        ds = load_digits_data(seed=seed)
        m = build_model("resnet20")
        C.train(m, C.to_tensors(ds, "cpu"), 10, 0.05, seed=seed)
        w = m.state_dict()["layers.8.conv2.weight"].double().numpy()
        found["resnet20"] = ("resnet20 layers.8.conv2 (digits, 10 epochs) 64x64x3x3",
                             w.reshape(8, 8, 8, 8, 9))
    # the kernel mode (last) keeps ratio 1
    return {name: (w, -1) for name, w in found.values()}


def image_tensor(n=1024):
    from .data import fashion_mnist_images
    x = fashion_mnist_images(n)
    return {f"Fashion-MNIST {n} images (32x32x28x28)": (x.reshape(32, 32, 28, 28), None)}


def ratios(ndim, t, family, fixed_mode):
    tl = [t] * ndim
    if family == "train":
        tl[0] = 1
    if fixed_mode is not None:
        tl[fixed_mode] = 1
    return tl


def fit(X, fmt, rank, tl):
    name, kwargs = FORMATS[fmt]
    classical = all(x == 1 for x in tl)
    if name == "tucker":
        ranks = [min(rank * t, n) for t, n in zip(tl, X.shape)]
        if any(r % t for r, t in zip(ranks, tl)):
            raise ValueError("rank not a multiple of t")
        return (st.tucker(X, ranks, **kwargs) if classical
                else st.semi_tensor_tucker(X, ranks, t=tl, **kwargs))
    if name == "train":
        r = rank * max(tl)
        return (st.tensor_train(X, r, **kwargs) if classical
                else st.semi_tensor_train(X, r, t=tl, **kwargs))
    r = rank * max(tl) if rank * max(tl) <= 40 else None
    if r is None:
        raise ValueError("ring bond too large")
    return (st.tensor_ring(X, r, **kwargs) if classical
            else st.semi_tensor_ring(X, r, t=tl, **kwargs))


def study(tensors, ts, ranks, out):
    rows = []
    for tname, (X, fixed) in tensors.items():
        X = np.asarray(X, dtype=np.float64)
        X = X / np.linalg.norm(X)
        for fmt in FORMATS:
            family = FORMATS[fmt][0]
            for t in ts:
                tl = ratios(X.ndim, t, family, fixed if fixed is None else X.ndim - 1)
                label = fmt if t == 1 else ST_NAME[fmt]
                seen = set()
                t0 = time.perf_counter()
                for k in ranks[fmt]:
                    rank = k if family == "tucker" else max(1, k // max(tl))
                    try:
                        res = fit(X, fmt, rank, tl)
                    except (ValueError, np.linalg.LinAlgError) as exc:
                        continue
                    if res.n_params in seen:
                        continue
                    seen.add(res.n_params)
                    rows.append({"tensor": tname, "shape": list(X.shape), "format": label,
                                 "family": family, "t": t, "rank": list(map(int, res.rank)),
                                 "params": int(res.n_params), "entries": int(X.size),
                                 "rel_error": float(res.relative_error(X))})
                log(f"{tname}: {label} t={t}: {len(seen)} fits, {time.perf_counter() - t0:.1f}s")
    return rows


def best_error_at(rows, budget):
    ok = [r["rel_error"] for r in rows if r["params"] <= budget]
    return min(ok) if ok else None


def report(rows, out_dir, meta):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    tensors = list(dict.fromkeys(r["tensor"] for r in rows))
    md = ["# Decomposition study: relative error vs parameter count", "",
          f"Wall time {meta['wall_s'] / 60:.1f} min, {meta['threads']} threads. Every tensor is "
          "scaled to unit Frobenius norm. Formats with t = 1 are the classical ones (tucker, tt, "
          "tr); t = 2, 4 the semi-tensor ones (sttu, stt, str). Ratios: t on every mode, except "
          "the first mode of a train and the kernel mode (9) of a weight tensor (ratio 1).",
          "", f"Table: the lowest relative error reached with at most {', '.join(f'{b:.0%}' for b in BUDGETS)} "
          "of the tensor's entries as parameters (— : no fit that small). This is the "
          "equal-parameter comparison.", ""]
    files = []
    for tname in tensors:
        rs = [r for r in rows if r["tensor"] == tname]
        n = rs[0]["entries"]
        md += [f"## {tname}", "", f"shape {tuple(rs[0]['shape'])}, {n} entries", ""]
        trows = []
        for fam in ("tucker", "train", "ring"):
            for t in sorted({r["t"] for r in rs}):
                sub = [r for r in rs if r["family"] == fam and r["t"] == t]
                if not sub:
                    continue
                trows.append([sub[0]["format"], t] + [
                    "—" if (e := best_error_at(sub, b * n)) is None else f"{e:.3f}" for b in BUDGETS])
        md += [C.md_table(["format", "t"] + [f"error @ ≤{b:.0%} params" for b in BUDGETS], trows,
                          ["--", "--:"] + ["--:"] * len(BUDGETS)), ""]
        fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
        for ax, fam in zip(axes, ("tucker", "train", "ring")):
            for t, c in zip((1, 2, 4), ("tab:blue", "tab:orange", "tab:red")):
                pts = sorted((r["params"], r["rel_error"]) for r in rs
                             if r["family"] == fam and r["t"] == t)
                if pts:
                    lab = {"tucker": ["tucker", "sttu"], "train": ["tt", "stt"],
                           "ring": ["tr", "str"]}[fam][t > 1]
                    ax.plot(*zip(*pts), marker="o", ms=3, color=c, label=f"{lab}, t={t}")
            ax.axvline(n, color="k", lw=0.6, ls=":")
            ax.set_xscale("log")
            ax.set_title(fam)
            ax.set_xlabel("parameters (dotted: tensor entries)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        axes[0].set_ylabel("relative error")
        axes[0].set_ylim(0, 1.02)
        fig.suptitle(tname, fontsize=10)
        fig.tight_layout()
        slug = "".join(ch if ch.isalnum() else "_" for ch in tname.lower()).strip("_")
        slug = "_".join(filter(None, slug.split("_")))[:60]
        fn = os.path.join(out_dir, f"error_vs_params_{slug}.png")
        fig.savefig(fn, dpi=100)
        plt.close(fig)
        files.append(fn)
        md += [f"![{tname}]({os.path.basename(fn)})", ""]
    with open(os.path.join(out_dir, "decomposition.md"), "w") as fh:
        fh.write("\n".join(md))
    return files


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--full", action="store_true", help="dense rank grids")
    p.add_argument("--device", default="cpu", help="accepted for symmetry; the study is NumPy-only")
    p.add_argument("--ts", default="1,2,4")
    p.add_argument("--tensors", default="random,weights,images")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=C.RESULTS_DIR)
    args = p.parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(args.threads)
    except ImportError:
        limiter = None
    t0 = time.perf_counter()
    tensors = {}
    kinds = args.tensors.split(",")
    if "random" in kinds:
        tensors.update(random_tensors())
    if "weights" in kinds:
        tensors.update(weight_tensors())
    if "images" in kinds:
        tensors.update(image_tensor())
    ts = [int(x) for x in args.ts.split(",")]
    rows = study(tensors, ts, FULL_RANKS if args.full else RANKS, args.out)
    meta = {"wall_s": time.perf_counter() - t0, "threads": args.threads, "ts": ts,
            "full": args.full}
    os.makedirs(args.out, exist_ok=True)
    C.save_json(os.path.join(args.out, "decomposition.json"), {"meta": meta, "rows": rows})
    report(rows, args.out, meta)
    log(f"done in {meta['wall_s']:.0f}s -> {args.out}")
    del limiter


if __name__ == "__main__":
    sys.exit(main())
