"""Summarise `mnist_table.py --json` runs at several training seeds.

One seed's table says whether a gain is bigger than the test-set noise
(the paired standard error over the same test images); it cannot say
whether the gain survives another training seed, and on Fashion-MNIST a row
moves by up to about half a nat between seeds. This script reads one or more
`--json` files (any split of seeds and variants across files), checks they
come from one setting (data, epochs, S), and prints, per variant:

  - each library's log p(x) at every seed, and its mean over seeds;
  - the gain over the same library's plain VAE at every seed (± the paired
    standard error within that seed), then its mean over seeds ± the
    standard error over seeds, sd(g_1..g_n) / sqrt(n), which carries both
    the seed-to-seed and the test-set noise, and how many seeds gained;
  - tfvae − pythae the same way, where both libraries ran.

    for s in 0 1 2 3 4; do
      python benchmarks/mnist_table.py --data fashion_mnist --data-dir /usr/share/datasets/fashion-mnist \\
          --epochs 10 --seed $s --variants vae "iwae(k=5)" iaf --pythae --json fm10_s$s.json
    done
    python benchmarks/seed_table.py fm10_s*.json
"""

import argparse
import json

import numpy as np

from _tables import mean_and_stderr, paired_gain

SETTING = ("data", "epochs", "num_samples")
LIBRARIES = ("tfvae", "pythae")


def load_runs(paths):
    """`(setting, runs)`: runs[(seed, variant)] is one `mnist_table` row.

    Raises:
        ValueError: a row without the setting fields (written before
            `mnist_table` recorded them), rows from different settings, or
            the same (seed, variant) in two rows.
    """
    setting, runs = None, {}
    for path in paths:
        with open(path) as f:
            rows = json.load(f)
        for row in rows:
            missing = [k for k in SETTING + ("seed", "variant") if k not in row]
            if missing:
                raise ValueError(f"{path}: a row has no {missing}; it predates mnist_table recording its "
                                 "setting, so re-run it")
            this = {k: row[k] for k in SETTING}
            if setting is None:
                setting = this
            elif this != setting:
                raise ValueError(f"{path}: row {row['variant']!r} (seed {row['seed']}) was run with {this}, "
                                 f"other rows with {setting}; summarise one setting at a time")
            key = (row["seed"], row["variant"])
            if key in runs:
                raise ValueError(f"{path}: seed {key[0]} variant {key[1]!r} appears in two rows; pass each "
                                 "run once")
            runs[key] = row
    if setting is None:
        raise ValueError("No rows in " + ", ".join(paths))
    return setting, runs


def over_seeds(values):
    """`(mean, standard error over seeds or nan for one seed, number > 0)` of per-seed values."""
    values = np.asarray(values, np.float64)
    se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
    return float(values.mean()), float(se), int((values > 0).sum())


def _per_example(row, library):
    return row.get(f"{library}_per_example")


def _print_block(title, seeds, lines):
    """One table: a label, a figure (and optional paired ±) per seed, the summary over seeds."""
    print(f"\n{title}")
    header = f"{'':<24}" + "".join(f"{'seed ' + str(s):>15}" for s in seeds) + f"{'over seeds':>21}{'> 0':>6}"
    print(header)
    print("-" * len(header))
    for label, cells, summary in lines:
        text = f"{label:<24}"
        for cell in cells:
            if cell is None:
                text += f"{'':>15}"
            elif cell[1] is None:
                text += f"{cell[0]:>15.2f}"
            else:
                text += f"{cell[0]:>+8.2f} ± {cell[1]:<4.2f}"
        if summary is not None:
            mean, se, positive, n = summary
            # One seed has no spread to report: leave the ± out rather than print nan.
            spread = f" ± {se:<5.2f}" if n > 1 else " " * 8
            text += f"{mean:>+13.2f}{spread}" + (f"{positive:>4}/{n}" if positive is not None else "")
        print(text)


def summarise(setting, runs, base="vae"):
    seeds = sorted({s for s, _ in runs})
    variants = list(dict.fromkeys(v for _, v in sorted(runs, key=lambda k: k[0])))
    print(f"{setting['data']}, {setting['epochs']} epochs, S = {setting['num_samples']} importance samples, "
          f"seeds {' '.join(map(str, seeds))}; log p(x) in nats per example")

    lines = []
    for variant in variants:
        for library in LIBRARIES:
            values = [None] * len(seeds)
            for i, s in enumerate(seeds):
                pe = _per_example(runs.get((s, variant), {}), library)
                if pe is not None:
                    values[i] = (mean_and_stderr(pe)[0], None)
            present = [v[0] for v in values if v is not None]
            if present:
                mean, se, _ = over_seeds(present)
                lines.append((f"{variant} ({library})", values, (mean, se, None, len(present))))
    _print_block("log p(x) per seed; over seeds: mean ± standard error over seeds", seeds, lines)

    def paired(title, a_of, b_of, label_of, pairs):
        lines = []
        for key in pairs:
            cells, gains = [], []
            for s in seeds:
                a, b = a_of(s, key), b_of(s, key)
                if a is None or b is None:
                    cells.append(None)
                    continue
                gain, se = paired_gain(a, b)
                cells.append((gain, se))
                gains.append(gain)
            if gains:
                lines.append((label_of(key), cells, over_seeds(gains) + (len(gains),)))
        if lines:
            _print_block(title, seeds, lines)

    pe = lambda s, v, lib: _per_example(runs.get((s, v), {}), lib)  # noqa: E731
    paired("gain over the same library's plain VAE (± within a seed: paired standard error over the test "
           "images; over seeds: mean ± standard error over seeds, and the seeds that gained)",
           lambda s, k: pe(s, k[1], k[0]), lambda s, k: pe(s, base, k[0]), lambda k: f"{k[1]} ({k[0]})",
           [(lib, v) for lib in LIBRARIES for v in variants if v != base])
    paired("tfvae − pythae (same ±)", lambda s, v: pe(s, v, "tfvae"), lambda s, v: pe(s, v, "pythae"),
           lambda v: v, variants)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", nargs="+", help="files written by mnist_table.py --json")
    parser.add_argument("--base", default="vae", help="the variant gains are measured against")
    args = parser.parse_args()
    try:
        setting, runs = load_runs(args.json)
    except (OSError, ValueError) as err:
        parser.error(str(err))
    summarise(setting, runs, base=args.base)


if __name__ == "__main__":
    main()
