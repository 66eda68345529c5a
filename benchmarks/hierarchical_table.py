"""One stochastic layer against two, with the ELBO and with the IWAE bound.

Binarised Fashion-MNIST (each image binarised once per seed, x ~ Bernoulli(pixel)),
read from the original IDX files in `--data-dir` (Debian's
`dataset-fashion-mnist`: `apt-get install dataset-fashion-mnist`, or
`apt-get download dataset-fashion-mnist && dpkg -x dataset-fashion-mnist_*.deb DIR`
and `--data-dir DIR/usr/share/datasets/fashion-mnist`). The last
`--validation` (5000) training images pick each model's best epoch
(`EarlyStopping(restore_best_weights=True)` without stopping early); the first
`--test-examples` (1000) test images are scored by the importance-sampled
log p(x) at S = `--num-samples` (≥ 1000 for the README figures), nats per
example, higher is better.

One budget for every variant: encoder MLP 784-512-256, decoder 256-512-784
(tanh between stochastic layers: 2 × 128 units each way), Bernoulli
likelihood, Adam 1e-3, batch 100, `--epochs` epochs, no warm-up.

  vae             tfvae.VAE, latent 32 (ELBO)
  hvae            tfvae.HierarchicalVAE, latents (32, 16), bottom-up inference (ELBO)
  ladder          the same with ladder inference (ELBO)
  iwae(k=5)       tfvae.VAE, latent 32, IWAE bound with K = 5
  hiwae(k=5)      HierarchicalVAE (32, 16), bottom-up, IWAE bound with K = 5

Each trains with its default gradient estimator (the path / DReG gradient
wherever log q is a Monte Carlo term, except the ladder's plain one). Two
opt-in variants, `iwae(k=5) plain` and `hiwae(k=5) plain`, train the IWAE
pair with `gradient_estimator="reparameterization"`, to compare the layers
with the estimator held equal.

Prints per variant log p(x) ± standard error over test images, ELBO, the KL
of each layer, active units per layer (Burda et al.'s Cov_x E[z|x] > 0.01) and
training seconds, then the paired gains hvae − vae, ladder − vae,
hiwae − iwae and hiwae plain − iwae plain (those run). `--json` writes rows `seed_table.py` reads, so several seeds
summarise as

    D=/usr/share/datasets/fashion-mnist
    for s in 0 1 2; do
      python benchmarks/hierarchical_table.py --data-dir $D --epochs 10 --seed $s --json h_s$s.json
    done
    python benchmarks/seed_table.py h_s*.json                 # gains over vae
    python benchmarks/seed_table.py h_s*.json --base "iwae(k=5)"
"""

import argparse
import json
import time

import tfvae  # first: it quiets TensorFlow's start-up logs

import keras  # noqa: E402

from _tables import mean_and_stderr, paired_gain  # noqa: E402
from mnist_table import load_fashion_mnist  # noqa: E402

ENCODER, DECODER, BETWEEN = (512, 256), (256, 512), (128, 128)
VARIANTS = {
    "vae": dict(kind="vae", k=1),
    "hvae": dict(kind="hvae", k=1, inference="bottom_up"),
    "ladder": dict(kind="hvae", k=1, inference="ladder"),
    "iwae(k=5)": dict(kind="vae", k=5),
    "hiwae(k=5)": dict(kind="hvae", k=5, inference="bottom_up"),
    "iwae(k=5) plain": dict(kind="vae", k=5, gradient_estimator="reparameterization"),
    "hiwae(k=5) plain": dict(kind="hvae", k=5, inference="bottom_up", gradient_estimator="reparameterization"),
}
OPT_IN = ("iwae(k=5) plain", "hiwae(k=5) plain")
PAIRS = (("hvae", "vae"), ("ladder", "vae"), ("hiwae(k=5)", "iwae(k=5)"), ("hiwae(k=5) plain", "iwae(k=5) plain"))


def build(name, seed):
    spec = VARIANTS[name]
    nets = dict(encoder=tfvae.nets.MLP(list(ENCODER)), decoder=tfvae.nets.MLP(list(DECODER)), seed=seed)
    if spec["kind"] == "vae":
        return tfvae.VAE(input_shape=(28, 28, 1), latent_dim=32, num_importance_samples=spec["k"],
                         gradient_estimator=spec.get("gradient_estimator", "auto"), **nets)
    return tfvae.HierarchicalVAE(input_shape=(28, 28, 1), latent_dims=(32, 16), inference=spec["inference"],
                                 hidden_units=BETWEEN, activation="tanh", num_importance_samples=spec["k"],
                                 gradient_estimator=spec.get("gradient_estimator", "auto"), **nets)


def run(name, args, x_train, x_val, x_test):
    keras.utils.set_random_seed(args.seed)
    model = build(name, args.seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
    start = time.perf_counter()
    model.fit(tfvae.data.from_numpy(x_train, batch_size=100, shuffle=True, seed=args.seed), epochs=args.epochs,
              verbose=0, validation_data=tfvae.data.from_numpy(x_val, batch_size=1000, shuffle=False),
              callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=args.epochs,
                                                       restore_best_weights=True)])
    seconds = time.perf_counter() - start
    ll = tfvae.evaluation.log_likelihood(model, x_test, num_samples=args.num_samples, seed=1)
    metrics = model.evaluate(x_test, batch_size=500, return_dict=True, verbose=0)
    if isinstance(model, tfvae.HierarchicalVAE):
        kls = [metrics[f"kl_z{l + 1}"] for l in range(len(model.latent_dims))]
        units = model.active_units(x_test, num_samples=100)
    else:
        kls = [metrics["kl"]]
        units = [tfvae.evaluation.elbo_surgery(model, x_test)["active_units"]]
    return dict(variant=name, tfvae_per_example=[float(v) for v in ll["per_example"]], elbo=metrics["elbo"],
                kl_per_layer=kls, active_units=units, seconds=seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="folder with Fashion-MNIST's four IDX files")
    parser.add_argument("--validation", type=int, default=5000)
    parser.add_argument("--test-examples", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="*", choices=list(VARIANTS),
                        default=[v for v in VARIANTS if v not in OPT_IN])
    parser.add_argument("--json", default=None, help="also write the rows to this file (for seed_table.py)")
    args = parser.parse_args()
    x_train, x_val, x_test = load_fashion_mnist(args, args.seed)
    print(f"fashion_mnist, binarised: {len(x_train)} train / {len(x_val)} validation / {len(x_test)} test, "
          f"{args.epochs} epochs, seed {args.seed}, S = {args.num_samples}")
    print(f"\n{'variant':<12}{'log p(x)':>17}{'ELBO':>10}  {'KL per layer':<16}{'AU':<10}{'train s':>8}")
    rows = []
    for name in args.variants:
        row = run(name, args, x_train, x_val, x_test)
        row.update(data="fashion_mnist", epochs=args.epochs, num_samples=args.num_samples, seed=args.seed)
        rows.append(row)
        mean, se = mean_and_stderr(row["tfvae_per_example"])
        kls = " ".join(f"{v:.2f}" for v in row["kl_per_layer"])
        units = " ".join(str(u) for u in row["active_units"])
        print(f"{name:<12}{mean:>10.2f} ± {se:<4.2f}{row['elbo']:>10.2f}  {kls:<16}{units:<10}{row['seconds']:>8.0f}",
              flush=True)
    by_name = {r["variant"]: r for r in rows}
    print("\npaired gains (nats; ± the paired standard error over the same test images):")
    for a, b in PAIRS:
        if a in by_name and b in by_name:
            gain, se = paired_gain(by_name[a]["tfvae_per_example"], by_name[b]["tfvae_per_example"])
            print(f"  {a} − {b}: {gain:+.2f} ± {se:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f)


if __name__ == "__main__":
    main()
