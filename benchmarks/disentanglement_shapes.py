"""Do the disentanglement metrics rank a β-VAE above a plain VAE? (synthetic shapes, several seeds)

Data: `tfvae.data.shapes.make_shapes` — every combination of 3 shapes,
`--num-scales` scales and `--num-positions`² positions, 32x32 binary images,
rendered in code (offline). Models: MLP encoder 1024-512-256, decoder
256-512-1024, latent `--latent-dim`, Bernoulli likelihood, Adam 1e-3,
batch 64, `--epochs` epochs, for each β in `--betas` and each seed. Codes
are the posterior means of every image; the metrics use the known factors
(shape, scale, x, y): MIG, DCI (disentanglement, completeness,
informativeness), SAP and the FactorVAE score. Printed: each metric's mean
± standard error over seeds per β, and the number of seeds at which the
larger β beats the plain VAE.

    python benchmarks/disentanglement_shapes.py                  # β = 1 and 4, seeds 0-2
    python benchmarks/disentanglement_shapes.py --seeds 0 --epochs 5   # quick
"""

import argparse
import json
import time

import tfvae  # first: it quiets TensorFlow's start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

METRICS = ("mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap", "factorvae")


def scores(codes, factors, seed):
    dci = tfvae.metrics.dci(codes, factors, seed=seed)
    return {"mig": tfvae.metrics.mig(codes, factors)["mig"],
            "dci_disentanglement": dci["disentanglement"], "dci_completeness": dci["completeness"],
            "dci_informativeness": dci["informativeness"],
            "sap": tfvae.metrics.sap(codes, factors, seed=seed)["sap"],
            "factorvae": tfvae.metrics.factorvae_score(codes, factors, seed=seed)["score"]}


def run(images, factors, beta, seed, args):
    keras.utils.set_random_seed(seed)
    vae = tfvae.VAE(input_shape=images.shape[1:], latent_dim=args.latent_dim, encoder=tfvae.nets.MLP([512, 256]),
                    decoder=tfvae.nets.MLP([256, 512]), likelihood="bernoulli", beta=beta, seed=seed)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    start = time.perf_counter()
    vae.fit(images, epochs=args.epochs, batch_size=64, shuffle=True, verbose=0)
    seconds = time.perf_counter() - start
    codes = np.concatenate([np.asarray(vae.encode(images[i:i + 512])) for i in range(0, len(images), 512)])
    elbo = vae.evaluate(images, batch_size=512, return_dict=True, verbose=0)
    return {**scores(codes, factors, seed), "elbo": float(elbo["elbo"]), "kl": float(elbo["kl"]),
            "active_codes": int(np.sum(codes.std(0) >= 0.05)), "train_seconds": seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--betas", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--num-scales", type=int, default=4)
    parser.add_argument("--num-positions", type=int, default=16)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)

    images, factors, names = tfvae.data.shapes.make_shapes(num_scales=args.num_scales,
                                                           num_positions=args.num_positions)
    print(f"shapes: {len(images)} images 32x32, factors {names}; latent {args.latent_dim}, {args.epochs} epochs, "
          f"seeds {args.seeds}", flush=True)
    results = {beta: [] for beta in args.betas}
    for seed in args.seeds:
        for beta in args.betas:
            results[beta].append(run(images, factors, beta, seed, args))
            r = results[beta][-1]
            print(f"  seed {seed} beta {beta:g}: " + " ".join(f"{k}={r[k]:.3f}" for k in METRICS)
                  + f" elbo={r['elbo']:.1f} kl={r['kl']:.1f} active={r['active_codes']} ({r['train_seconds']:.0f} s)",
                  flush=True)

    print(f"\n  {'metric':<22}" + "".join(f"{'beta ' + format(b, 'g'):>18}" for b in args.betas)
          + (f"{'wins':>8}" if len(args.betas) > 1 else ""))
    base, top = args.betas[0], args.betas[-1]
    for key in (*METRICS, "elbo", "kl", "active_codes"):
        cells = []
        for beta in args.betas:
            v = np.array([r[key] for r in results[beta]], float)
            se = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
            cells.append(f"{v.mean():9.3f} ± {se:5.3f}")
        wins = sum(results[top][i][key] > results[base][i][key] for i in range(len(args.seeds)))
        shown = len(args.betas) > 1 and key in METRICS  # seeds where the largest beta scores higher
        print(f"  {key:<22}" + "".join(f"{c:>18}" for c in cells) + (f"{wins:>5}/{len(args.seeds)}" if shown else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": {str(b): r for b, r in results.items()}}, f, indent=2)
    return results


if __name__ == "__main__":
    main()
