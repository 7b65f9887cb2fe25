"""Tables (markdown) and plots (PNG) from ``compression_runs*.json``.

    python3 -m benchmarks.experiments.report_compression [docs/results/compression_runs.json]
"""
from __future__ import annotations

import os
import sys

from . import common as C

LOSS = 0.02           # the paper's criterion: at most 2 points of accuracy lost
PAIRS = (("tt", "stt"), ("tr", "str"), ("tucker", "sttu"))
COLORS = {"tt": "tab:blue", "stt": "tab:orange", "tr": "tab:green", "str": "tab:red",
          "tucker": "tab:purple", "sttu": "tab:brown"}


def _f(x, nd=3):
    return "—" if x is None else f"{x:.{nd}f}"


def _runs(records):
    seeds = {r.get("seed", 0) for r in records.values()}
    first = min(seeds) if seeds else 0
    records = {k: r for k, r in records.items() if r.get("seed", 0) == first}
    dense = {(r["dataset"], r["arch"]): r for r in records.values() if r.get("method") == "dense"}
    runs = [r for r in records.values() if r.get("method") != "dense" and "error" not in r]
    errors = [r for r in records.values() if "error" in r]
    return dense, runs, errors


def best_at_loss(runs, dense_acc, key):
    ok = [r for r in runs if r.get(key) is not None and r[key] >= dense_acc - LOSS - 1e-12]
    return max(ok, key=lambda r: r["compression"]) if ok else None


def tables(store):
    dense, runs, errors = _runs(store["records"])
    meta = store.get("meta", {})
    out = [f"# Network compression results ({meta.get('protocol', '?')} protocol)", "",
           f"Device `{meta.get('device')}`, {meta.get('threads')} threads, torch {meta.get('torch')}, "
           f"training seed {meta.get('seeds', [0])[0]}, data seed {meta.get('data_seed', 0)}, ST ratio t = {meta.get('t')}, SGD lr {meta.get('lr')} "
           f"(fine-tuning {meta.get('finetune_lr')}), cosine schedule, batch 64. "
           f"Wall time {meta.get('wall_s', 0) / 60:.1f} min.", ""]
    for k, v in meta.items():
        if k.startswith("data_"):
            out.append(f"* {v}")
    out += ["", "Compression = all parameters of the dense net / all parameters of the compressed "
            "net (stem conv, classifier and BatchNorm stay dense and are counted). "
            "`acc compressed` = right after `compress_model`, before fine-tuning. "
            "s/epoch = median wall-clock time of a training epoch; `impl` = forward path of the "
            f"factorized layers (`--impl {meta.get('impl', 'auto')}`).", ""]
    for (dname, arch), d in sorted(dense.items()):
        rs = [r for r in runs if r["dataset"] == dname and r["arch"] == arch]
        if not rs:
            continue
        out += [f"## {dname} / {arch}", "",
                f"Dense: **{d['params']}** parameters, test accuracy **{d['acc']:.4f}**, "
                f"{d['s_per_epoch']:.2f} s/epoch ({d['epochs']} epochs).", ""]
        rows = []
        for r in sorted(rs, key=lambda r: (C.CLASSICAL[r["method"]], r["kind"],
                                           -r["rank_spec"] if r["kind"] == "budget" else r["rank_spec"],
                                           r["t"])):
            spec = (f"rank {r['rank_spec']}" if r["kind"] == "rank" else f"budget {r['rank_spec']}")
            rows.append([r["method"], r["t"], spec, r["params"], f"{r['compression']:.1f}x",
                         _f(r.get("fit_rel_error_mean")), _f(r["acc_compressed"]),
                         _f(r["acc_finetune"]), _f(r.get("acc_scratch")),
                         _f(r["s_per_epoch_finetune"], 2), _f(r.get("s_per_epoch_scratch"), 2),
                         r["impl"]])
        out.append(C.md_table(["method", "t", "rank", "params", "compression", "fit error",
                               "acc compressed", "acc fine-tuned", "acc scratch",
                               "s/epoch ft", "s/epoch scratch", "impl"], rows,
                              ["--", "--:", "--", "--:", "--:", "--:", "--:", "--:", "--:", "--:",
                               "--:", "--"]))
        out += ["", f"Largest compression within {LOSS * 100:.0f} points of the dense accuracy "
                f"(threshold {d['acc'] - LOSS:.4f}), over every rank and budget run:", ""]
        rows = []
        for m in sorted({r["method"] for r in rs}, key=lambda m: (C.CLASSICAL[m], m != C.CLASSICAL[m])):
            mr = [r for r in rs if r["method"] == m]
            row = [m]
            for key in ("acc_finetune", "acc_scratch"):
                b = best_at_loss(mr, d["acc"], key)
                row.append("none" if b is None else f"{b['compression']:.1f}x ({_f(b[key])}, "
                           f"{'rank' if b['kind'] == 'rank' else 'budget'} {b['rank_spec']})")
            row.append(f"{max(r['compression'] for r in mr):.1f}x")
            rows.append(row)
        out.append(C.md_table(["method", "pretrained + fine-tuned", "from scratch",
                               "largest compression tried"], rows, ["--", "--", "--", "--:"]))
        out.append("")
        pair_rows = []
        for cl, stm in PAIRS:
            for r in rs:
                if r["method"] != cl:
                    continue
                s = next((x for x in rs if x["method"] == stm and x["rank_spec"] == r["rank_spec"]
                          and x["kind"] == r["kind"]), None)
                if s is None:
                    continue
                spec = f"{'rank' if r['kind'] == 'rank' else 'budget'} {r['rank_spec']}"
                pair_rows.append([f"{cl} vs {stm}", spec, f"{r['params']} / {s['params']}",
                                  f"{r['compression']:.1f}x / {s['compression']:.1f}x",
                                  f"{_f(r['acc_finetune'])} / {_f(s['acc_finetune'])}",
                                  f"{_f(r.get('acc_scratch'))} / {_f(s.get('acc_scratch'))}",
                                  f"{_f(r.get('s_per_epoch_scratch'), 2)} / {_f(s.get('s_per_epoch_scratch'), 2)}"])
        if pair_rows:
            out += ["Head to head (classical / ST). `rank` rows: equal rank; `budget` rows: about "
                    "equal parameter count.", "",
                    C.md_table(["pair", "setting", "params", "compression", "acc fine-tuned",
                                "acc scratch", "s/epoch scratch"], pair_rows,
                               ["--", "--", "--:", "--:", "--:", "--:", "--:"]), ""]
    if errors:
        out += ["## Runs that could not be built", ""]
        out += [f"* {e['dataset']}/{e['arch']} {e['method']} rank {e['rank_spec']} t={e['t']}: "
                f"{e['error']}" for e in errors]
        out.append("")
    return "\n".join(out)


def plots(store, out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    dense, runs, _ = _runs(store["records"])
    suffix = "_full" if store.get("meta", {}).get("protocol") == "full" else ""
    files = []
    for (dname, arch), d in sorted(dense.items()):
        rs = [r for r in runs if r["dataset"] == dname and r["arch"] == arch]
        if not rs:
            continue
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
        for ax, key, title in ((axes[0], "acc_finetune", "pretrained -> compress -> fine-tune"),
                               (axes[1], "acc_scratch", "factorized, trained from scratch")):
            for m in sorted({r["method"] for r in rs}):
                for kind, mk in (("rank", "o"), ("budget", "s")):
                    pts = sorted((r["compression"], r[key]) for r in rs
                                 if r["method"] == m and r["kind"] == kind and r.get(key) is not None)
                    if pts:
                        ax.plot(*zip(*pts), marker=mk, ls="-" if m == C.CLASSICAL[m] else "--",
                                color=COLORS[m], label=f"{m} ({'equal rank' if kind == 'rank' else 'budget'})")
            ax.axhline(d["acc"], color="k", lw=0.8)
            ax.axhline(d["acc"] - LOSS, color="k", lw=0.8, ls=":")
            ax.set_xscale("log")
            ax.set_xlabel("whole-network compression factor")
            ax.set_title(title, fontsize=10)
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("test accuracy (dense: solid line, -2 pts: dotted)")
        axes[1].legend(fontsize=7, loc="lower left")
        fig.suptitle(f"{dname} / {arch}: accuracy vs compression")
        fig.tight_layout()
        fn = os.path.join(out_dir, f"acc_vs_compression_{dname}_{arch}{suffix}.png")
        fig.savefig(fn, dpi=110)
        plt.close(fig)
        files.append(fn)
    return files


def seeds_tables(records):
    """Mean, spread and per-seed values over training seeds, per configuration."""
    import statistics as S
    groups = {}
    for r in records.values():
        if "error" in r:
            continue
        key = (r["dataset"], r["arch"], r["method"], r.get("rank_spec"), r.get("t"))
        groups.setdefault(key, {})[r.get("seed", 0)] = r
    out = ["# Seed robustness of the key comparisons", "",
           "Same data subset, same configuration, different training seeds (initialisation and "
           "shuffling). mean ± sample standard deviation, then the per-seed values.", ""]
    rows = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2] != "dense", str(k[3]), k[2])):
        g = groups[key]
        seeds = sorted(g)
        dense = key[2] == "dense"
        cols = ["acc"] if dense else ["acc_finetune", "acc_scratch"]
        cells = []
        for c in cols:
            v = [g[s][c] for s in seeds if g[s].get(c) is not None]
            sd = S.stdev(v) if len(v) > 1 else 0.0
            cells.append(f"{S.mean(v):.4f} ± {sd:.4f} ({', '.join(f'{x:.3f}' for x in v)})")
        if dense:
            cells.append("—")
        spec = "—" if dense else f"{'rank' if g[seeds[0]]['kind'] == 'rank' else 'budget'} {key[3]}"
        comp = "1.0x" if dense else f"{g[seeds[0]]['compression']:.1f}x"
        rows.append([f"{key[0]} / {key[1]}", key[2], spec, comp, ",".join(map(str, seeds))] + cells)
    out.append(C.md_table(["data / net", "method", "setting", "compression", "seeds",
                           "acc fine-tuned (dense: acc)", "acc scratch"], rows,
                          ["--", "--", "--", "--:", "--", "--", "--"]))
    return "\n".join(out) + "\n"


def write_report(path, out_dir):
    store = C.load_json(path, None)
    if store is None:
        raise FileNotFoundError(path)
    if store.get("meta", {}).get("plan") and path.endswith("_seeds.json"):
        main = C.load_json(os.path.join(os.path.dirname(path), "compression_runs.json"), {})
        records = dict(store["records"])
        keys = {(r["dataset"], r["arch"], r["method"], r.get("rank_spec"), r.get("t"))
                for r in records.values()}
        for k, r in main.get("records", {}).items():
            if (r["dataset"], r["arch"], r["method"], r.get("rank_spec"), r.get("t")) in keys:
                records.setdefault(k, r)
        md = seeds_tables(records)
        with open(os.path.join(out_dir, "compression_seeds.md"), "w") as fh:
            fh.write(md)
        return md
    suffix = "_full" if store.get("meta", {}).get("protocol") == "full" else ""
    md = tables(store)
    files = plots(store, out_dir)
    if files:
        md += "\n## Plots\n\n" + "\n".join(f"![{os.path.basename(f)}]({os.path.basename(f)})"
                                           for f in files) + "\n"
    with open(os.path.join(out_dir, f"compression{suffix}.md"), "w") as fh:
        fh.write(md)
    return md


if __name__ == "__main__":
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(C.RESULTS_DIR, "compression_runs.json")
    write_report(p, os.path.dirname(os.path.abspath(p)))
