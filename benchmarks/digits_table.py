"""Flow priors and posteriors against the plain VAE on binarised digits.

Every variant gets the same budget (networks, latent size, optimiser, epochs,
seed) and is scored on the held-out split with:
    log p(x)   importance-sampled with S samples (nats per example, higher is better)
    ELBO, KL   from the model's own bound
    MI, AU     mutual information I_q[x; z] and active units (ELBO surgery)

    python benchmarks/digits_table.py                 # the README table
    python benchmarks/digits_table.py --epochs 5 --num-samples 200 --variants vae iaf   # quick
"""

import argparse
import json
import time

import tfvae  # first: it quiets TensorFlow's start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

from _tables import add_gradient_estimator_argument, make_vae, print_gains  # noqa: E402

F = tfvae.flows
P = tfvae.priors


def variants(latent_dim):
    h = (64, 64)
    return {
        "vae": dict(),
        "iwae(k=5)": dict(num_importance_samples=5),
        "iaf": dict(posterior_flow=F.IAF(num_layers=2, hidden_units=h)),
        "planar": dict(posterior_flow=F.Planar(num_layers=8)),
        "sylvester-o": dict(posterior_flow=F.Sylvester(num_layers=4, num_ortho_vectors=latent_dim // 2)),
        "realnvp-prior": dict(prior=P.FlowPrior(F.RealNVP(num_layers=4, hidden_units=h))),
        "maf-prior": dict(prior=P.FlowPrior(F.MAF(num_layers=4, hidden_units=h))),
        "vampprior": dict(prior=P.VampPrior(num_pseudo_inputs=100)),
        "iaf+realnvp-prior": dict(posterior_flow=F.IAF(num_layers=2, hidden_units=h),
                                  prior=P.FlowPrior(F.RealNVP(num_layers=4, hidden_units=h))),
    }


def run(name, kwargs, args, train, x_test):
    keras.utils.set_random_seed(args.seed)
    vae = make_vae(lambda estimator: tfvae.VAE(
        input_shape=(8, 8, 1), latent_dim=args.latent_dim, encoder=tfvae.nets.MLP([256, 128]),
        decoder=tfvae.nets.MLP([128, 256]), likelihood="bernoulli", seed=args.seed,
        gradient_estimator=estimator, **kwargs), args.gradient_estimator)
    vae.compile(optimizer=keras.optimizers.Adam(args.lr), jit_compile=True)
    start = time.perf_counter()
    vae.fit(train, epochs=args.epochs, verbose=0, callbacks=[tfvae.callbacks.KLWarmup(epochs=args.warmup)])
    train_s = time.perf_counter() - start
    ll = tfvae.evaluation.log_likelihood(vae, x_test, num_samples=args.num_samples, seed=1)
    try:
        surgery = tfvae.evaluation.elbo_surgery(vae, x_test, seed=2)
        mi, au = surgery["mutual_information"], surgery["active_units"]
    except ValueError:   # forward-only posterior flows: no q(z|x) at arbitrary z
        mi, au = float("nan"), -1
    bound = vae.evaluate(x_test, batch_size=360, return_dict=True, verbose=0)
    return {"variant": name, "log_likelihood": ll["log_likelihood"], "stderr": ll["stderr"],
            "per_example": ll["per_example"].tolist(),
            "elbo": bound["elbo"], "kl": bound["kl"], "mutual_information": mi, "active_units": au,
            "train_seconds": train_s}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="*", default=None)
    add_gradient_estimator_argument(parser)
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args()

    table = variants(args.latent_dim)
    names = args.variants or list(table)
    unknown = sorted(set(names) - set(table))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(table)}")
    train = tfvae.data.load("digits", split="train", batch_size=args.batch_size, binarize=True, seed=args.seed)
    x_test = next(iter(tfvae.data.load("digits", split="test", batch_size=10_000, binarize=True))).numpy()
    print(f"digits, binarised: {x_test.shape[0]} test examples, {args.epochs} epochs, latent {args.latent_dim}, "
          f"S = {args.num_samples} importance samples\n")
    header = f"{'variant':<20}{'log p(x)':>16}{'ELBO':>10}{'KL':>8}{'MI':>8}{'AU':>5}{'train s':>9}"
    print(header)
    print("-" * len(header))
    rows = []
    for name in names:
        r = run(name, table[name], args, train, x_test)
        rows.append(r)
        au = "-" if r["active_units"] < 0 else str(r["active_units"])
        mi = "-" if np.isnan(r["mutual_information"]) else f"{r['mutual_information']:.2f}"
        print(f"{name:<20}{r['log_likelihood']:>9.2f} ± {r['stderr']:<4.2f}{r['elbo']:>10.2f}{r['kl']:>8.2f}"
              f"{mi:>8}{au:>5}{r['train_seconds']:>9.1f}", flush=True)
    print_gains(rows, "per_example")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
