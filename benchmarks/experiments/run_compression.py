"""Networks study: classical (TT, TR, Tucker) against semi-tensor (STT, STR, STTu) layers.

For every dataset / architecture / method / rank it trains

* a dense baseline (cached in ``benchmarks/experiments/checkpoints/``),
* (a) the factorized network **from scratch** (same layers replaced as in (b), random cores),
* (b) the pretrained dense net -> ``compress_model`` -> **fine-tuning**,

and records test accuracy, whole-network parameters and compression factor (every
parameter counted: the dense stem conv, classifier and BatchNorms included) and wall-clock
seconds per training epoch.  Ranks are given two ways:

* an int: the same bond bound for the classical and the ST format (**equal rank**, as in the
  paper; the ST net then has about t^2 fewer parameters per layer), and
* a float budget (``compress_model``'s parameter budget per layer): classical and ST nets
  with about the **same parameter count**.

Default (CPU, ~15 min on 2 cores): digits (all pairs, a small sweep) and a Fashion-MNIST
subset (rank 14/16 and one budget).  ``--full`` runs the complete protocol (all of
Fashion-MNIST, more epochs, wider sweeps, ResNet-32 and WRN-16-2 too) -- meant for a GPU with
``--device cuda``.  Outputs: ``docs/results/compression_runs.json`` (all records),
``docs/results/compression.md`` (tables) and ``docs/results/acc_vs_compression_*.png``.
``--plan seeds --seeds 1,2`` repeats the key Fashion comparisons with other training seeds
(``compression_runs_seeds.json`` / ``compression_seeds.md``, merged with seed 0 of the main run).

    python3 -m benchmarks.experiments.run_compression [--full] [--device cuda] [--resume]
    python3 -m benchmarks.experiments.run_compression --plan seeds --seeds 1,2
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

from . import common as C
from .data import load_dataset
from .models import build_model, count_params

PAPER = ("paper (Zhao et al. 2021, CIFAR-10): at <= 2 % accuracy loss STT-ResNet 9x vs TT 3x "
         "(rank 14); STR-WideResNet 179x vs TR 99x (rank 16); ST nets train faster")

DEFAULT = {
    "digits": {
        "data": {},
        "epochs": 20, "finetune_epochs": 6,
        "archs": {
            "resnet20": {"tt": {"ranks": [8, 14, 20], "budgets": [0.1, 0.03]},
                         "tucker": {"ranks": [], "budgets": [0.1, 0.03]}},
            "wrn-10-2": {"tr": {"ranks": [8, 12, 16], "budgets": [0.1, 0.03]}},
        },
    },
    "fashion": {
        "data": {"n_train": 4000, "n_test": 2000},
        "epochs": 4, "finetune_epochs": 2,
        "archs": {
            "resnet20": {"tt": {"ranks": [8, 14], "budgets": [0.1, 0.03]}},
            "wrn-10-2": {"tr": {"ranks": [8, 16], "budgets": [0.1]}},
        },
    },
}

# --seeds 1,2 --plan seeds: the key Fashion comparisons again with other training seeds
SEEDS_PLAN = {
    "fashion": {
        "data": DEFAULT["fashion"]["data"], "epochs": 4, "finetune_epochs": 2,
        "archs": {
            "resnet20": {"tt": {"ranks": [14], "budgets": [0.03]}},
            "wrn-10-2": {"tr": {"ranks": [16], "budgets": []}},
        },
    },
}

_TT_SWEEP = {"ranks": [6, 10, 14, 18, 22], "budgets": [0.3, 0.1, 0.05, 0.02, 0.01]}
_TR_SWEEP = {"ranks": [8, 12, 16, 20, 24], "budgets": [0.3, 0.1, 0.05, 0.02, 0.01]}
_TU_SWEEP = {"ranks": [], "budgets": [0.3, 0.1, 0.05, 0.02, 0.01]}
FULL = {
    name: {
        "data": {}, "epochs": 30 if name == "fashion" else 40, "finetune_epochs": 10,
        "archs": {
            "resnet20": {"tt": _TT_SWEEP, "tucker": _TU_SWEEP},
            "resnet32": {"tt": _TT_SWEEP},
            "wrn-10-2": {"tr": _TR_SWEEP, "tt": _TT_SWEEP},
            "wrn-16-2": {"tr": _TR_SWEEP},
        },
    } for name in ("digits", "fashion")
}

ST_OF = {"tt": "stt", "tr": "str", "tucker": "sttu"}


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def dense_baseline(ds, arch, cfg, args, data, records, tag):
    key = f"{ds.name}|{arch}|dense|s{args.seed}"
    ckpt = os.path.join(C.CHECKPOINT_DIR, f"{ds.name}_{arch}_{tag}"
                        f"{'' if args.seed == 0 else f'_seed{args.seed}'}.pt")
    C.set_seed(args.seed)
    init = build_model(arch)
    init_state = {k: v.clone() for k, v in init.state_dict().items()}
    if key in records and os.path.exists(ckpt):
        model = build_model(arch)
        model.load_state_dict(torch.load(ckpt))
        return records[key], model, init_state
    model = build_model(arch).to(args.device)
    model.load_state_dict(init_state)
    log(f"[{ds.name}/{arch}] dense baseline, {cfg['epochs']} epochs")
    acc, times = C.train(model, data, cfg["epochs"], args.lr, seed=args.seed, device=args.device)
    os.makedirs(C.CHECKPOINT_DIR, exist_ok=True)
    torch.save(model.cpu().state_dict(), ckpt)
    rec = {"dataset": ds.name, "arch": arch, "method": "dense", "seed": args.seed,
           "params": count_params(model),
           "acc": acc, "s_per_epoch": statistics.median(times), "epochs": cfg["epochs"]}
    records[key] = rec
    log(f"[{ds.name}/{arch}] dense: acc {acc:.4f}, {rec['params']} params, {rec['s_per_epoch']:.2f} s/epoch")
    return rec, model.cpu(), init_state


def run_one(ds, arch, method, rank, t, cfg, args, data, dense_rec, dense_model, init_state):
    device = args.device
    rec = {"dataset": ds.name, "arch": arch, "method": method, "family": C.CLASSICAL[method],
           "seed": args.seed,
           "t": t, "rank_spec": rank, "kind": "budget" if isinstance(rank, float) else "rank",
           "dense_acc": dense_rec["acc"], "dense_params": dense_rec["params"],
           "dense_s_per_epoch": dense_rec["s_per_epoch"]}
    xprobe = data[0][:64]
    # (b) pretrained -> compress -> fine-tune
    t0 = time.perf_counter()
    model, report = C.compress(dense_model, method, rank, t, fit_iters=args.fit_iters, device=device)
    rec["fit_s"] = time.perf_counter() - t0
    errs = [l.relative_error for l in report.layers if l.replaced and l.relative_error is not None]
    rec["fit_rel_error_mean"] = sum(errs) / len(errs) if errs else None
    rec["n_replaced"] = len(report.replaced)
    rec["n_conv_linear"] = len(report.layers)
    layer = next((l for l in report.layers if l.replaced), None)
    rec["example_layer"] = (f"{layer.name}: shape {tuple(layer.tensorized_shape)}, rank "
                            f"{tuple(layer.rank)}") if layer else None
    rec["params"] = count_params(model)
    rec["compression"] = dense_rec["params"] / rec["params"]
    rec["acc_compressed"] = C.evaluate(model, data[2], data[3])
    if args.impl == "auto":
        rec["impl"] = C.pick_implementation(model, xprobe, device)
    else:
        C.set_implementation(model, args.impl)
        rec["impl"] = args.impl
    C.set_seed(args.seed)
    rec["acc_finetune"], times = C.train(model, data, cfg["finetune_epochs"], args.finetune_lr,
                                         seed=args.seed, device=device)
    rec["s_per_epoch_finetune"] = statistics.median(times)
    # (a) from scratch, same structure
    C.set_seed(args.seed)
    init = build_model(arch)
    init.load_state_dict(init_state)
    C.set_seed(args.seed)
    model, _ = C.scratch_model(init, method, rank, t, device=device)
    C.set_implementation(model, rec["impl"])
    C.set_seed(args.seed)
    try:
        rec["acc_scratch"], times = C.train(model, data, cfg["epochs"], args.lr, seed=args.seed,
                                            device=device)
        rec["s_per_epoch_scratch"] = statistics.median(times)
    except FloatingPointError as exc:
        rec["acc_scratch"], rec["s_per_epoch_scratch"], rec["note"] = None, None, str(exc)
    return rec


def configs(cfg, t):
    for arch, fams in cfg["archs"].items():
        for fam, sweep in fams.items():
            for rank in list(sweep["ranks"]) + [float(b) for b in sweep["budgets"]]:
                yield arch, fam, 1, rank
                yield arch, ST_OF[fam], t, rank


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--full", action="store_true", help="complete protocol (GPU-sized)")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument("--datasets", default="digits,fashion")
    p.add_argument("--t", type=int, default=2, help="ratio t of the ST formats (default 2)")
    p.add_argument("--seeds", default="0", help="training seeds (init, shuffling), e.g. 0,1,2; "
                   "the data subset always uses --data-seed")
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--plan", choices=["default", "seeds"], default="default",
                   help="'seeds': only the key Fashion comparisons (use with --seeds 1,2)")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--finetune-lr", type=float, default=0.02)
    p.add_argument("--fit-iters", type=int, default=3, help="ALS/HOOI sweeps of the TR/Tucker fits")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--impl", choices=["reconstructed", "factorized", "auto"], default="reconstructed",
                   help="forward path of the factorized layers; 'auto' times both per net and keeps "
                   "the faster (the choice then depends on timing noise, and so, through rounding, "
                   "do the trained accuracies)")
    p.add_argument("--resume", action="store_true", help="skip runs already in the JSON file")
    p.add_argument("--out", default=C.RESULTS_DIR)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    tag = "full" if args.full else "default"
    plan = FULL if args.full else (SEEDS_PLAN if args.plan == "seeds" else DEFAULT)
    if args.plan == "seeds" and args.datasets == "digits,fashion":
        args.datasets = "fashion"
    name = "_full" if args.full else ("_seeds" if args.plan == "seeds" else "")
    path = os.path.join(args.out, f"compression_runs{name}.json")
    seeds = [int(x) for x in args.seeds.split(",")]
    args.seed = seeds[0]
    store = C.load_json(path, {}) if args.resume else {}
    records = store.get("records", {})
    store["meta"] = {"protocol": tag, "device": args.device, "threads": args.threads,
                     "t": args.t, "seeds": seeds, "data_seed": args.data_seed, "lr": args.lr, "finetune_lr": args.finetune_lr,
                     "torch": torch.__version__, "impl": args.impl, "plan": plan}
    t_start = time.perf_counter()
    for dname in args.datasets.split(","):
        cfg = plan[dname]
        ds = load_dataset(dname, seed=args.data_seed, **cfg["data"])
        log(ds.summary())
        store["meta"][f"data_{ds.name}"] = ds.summary()
        data = C.to_tensors(ds, args.device)
        for seed in seeds:
            args.seed = seed
            run_dataset(ds, cfg, args, data, records, tag, store, path)
    store["meta"]["wall_s"] = time.perf_counter() - t_start
    C.save_json(path, store)
    from .report_compression import write_report
    write_report(path, args.out)
    log(f"done in {time.perf_counter() - t_start:.0f}s -> {args.out}")


def run_dataset(ds, cfg, args, data, records, tag, store, path):
    dense = {}
    for arch, fam, t, rank in configs(cfg, args.t):
        if arch not in dense:
            dense[arch] = dense_baseline(ds, arch, cfg, args, data, records, tag)
            store["records"] = records
            C.save_json(path, store)
        method = fam
        key = f"{ds.name}|{arch}|{method}|{rank}|{t}|s{args.seed}"
        if key in records:
            continue
        log(f"[{ds.name}/{arch}] {method} rank={rank} t={t} seed={args.seed}")
        try:
            rec = run_one(ds, arch, method, rank, t, cfg, args, data, *dense[arch])
        except (ValueError, TypeError) as exc:
            rec = {"dataset": ds.name, "arch": arch, "method": method, "t": t, "seed": args.seed,
                   "rank_spec": rank, "error": f"{type(exc).__name__}: {exc}"}
            log(f"   skipped: {rec['error']}")
        else:
            log(f"   {rec['params']} params ({rec['compression']:.1f}x), compressed "
                f"{rec['acc_compressed']:.3f} -> fine-tuned {rec['acc_finetune']:.3f}; "
                f"scratch {rec['acc_scratch']}; {rec['s_per_epoch_scratch']} s/epoch [{rec['impl']}]")
        records[key] = rec
        store["records"] = records
        C.save_json(path, store)


if __name__ == "__main__":
    sys.exit(main())
