"""Training-step cost of each posterior flow against the plain Gaussian VAE.

    python benchmarks/posterior_flows.py            # ~5 minutes on 2 CPU cores
    python benchmarks/posterior_flows.py --quick    # a smoke run

The mnist_table.py models (MLP 784-512-256 encoder, 256-512-784 decoder,
latent 16, Bernoulli, batch 100, Adam) on random binary 28x28 images, each
compiled with XLA. Per variant: build, compile, one warm-up `fit` epoch
(traces and compiles), then `--repeats` timed epochs of `--steps` steps,
interleaved across variants so machine-speed drift hits all of them alike.
Prints, per variant, the fastest, median and slowest epoch's milliseconds
per step and the first two as ratios to the plain VAE's. On a shared 2-core
machine single epochs can run at half speed (seen: the same variant at 10
and 26 ms per step in one run), which can move a median of a few epochs;
the fastest epoch is the one least disturbed, so its ratio is the steadier
figure.

Each of IWAE (k = 5), IAF, planar and Sylvester-O runs twice: with the
path gradient (`gradient_estimator="doubly_reparameterized"`: DReG for
IWAE, the flow's Jacobian for ∇_z log q_K, in closed form for planar and
Sylvester and by `batch_jacobian` for IAF; see `tfvae.objectives.gradients`
and `tfvae.flows.score`) and, marked "reparam", with
`gradient_estimator="reparameterization"`, so the rows show what the path
gradient costs. (tfvae's default, "auto", is the first for all but IAF.) The Sylvester-O rows use QR for its orthonormal Q (the
default); "sylvester-o (polar)" uses the paper's iteration instead.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tfvae  # noqa: E402  (quiet TF logs) -- before keras

import keras  # noqa: E402
import numpy as np  # noqa: E402

from mnist_table import DECODER, ENCODER, LATENT, tfvae_variants  # noqa: E402

F = tfvae.flows


def variants():
    """mnist_table's IWAE and posterior-flow variants under both gradient
    estimators, plus Sylvester-O with the polar iteration (its config, one
    key changed) and Sylvester-H."""
    table, plain = tfvae_variants(), tfvae_variants()   # fresh layers for each model
    rows = {"vae": table["vae"]}
    for name in ("iwae(k=5)", "iaf", "planar", "sylvester-o"):
        rows[name] = dict(table[name], gradient_estimator="doubly_reparameterized")
        rows[f"{name} reparam"] = dict(plain[name], gradient_estimator="reparameterization")
    sylvester = table["sylvester-o"]["posterior_flow"]
    polar = F.Sylvester.from_config({**sylvester.get_config(), "orthogonalization": "polar"})
    rows["sylvester-o (polar)"] = dict(posterior_flow=polar, gradient_estimator="doubly_reparameterized")
    rows["sylvester-h"] = dict(posterior_flow=F.Sylvester(num_layers=4, num_ortho_vectors=4, kind="householder"),
                               gradient_estimator="doubly_reparameterized")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="--steps 5 --repeats 2")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.repeats = 5, 2
    batch = 100
    x = (np.random.default_rng(0).random((batch * args.steps, 28, 28, 1)) < 0.3).astype("float32")
    data = tfvae.data.from_numpy(x, batch_size=batch, shuffle=False)
    models = {}
    for name, kwargs in variants().items():
        keras.utils.set_random_seed(0)
        vae = tfvae.VAE(input_shape=(28, 28, 1), latent_dim=LATENT, encoder=tfvae.nets.MLP(list(ENCODER)),
                        decoder=tfvae.nets.MLP(list(DECODER)), seed=0, **kwargs)
        vae.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
        start = time.perf_counter()
        vae.fit(data, epochs=1, verbose=0)
        print(f"{name:<22} first epoch (trace + XLA compile + {args.steps} steps): "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        models[name] = vae
    times = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, vae in models.items():
            start = time.perf_counter()
            vae.fit(data, epochs=1, verbose=0)
            times[name].append((time.perf_counter() - start) / args.steps * 1e3)
    fastest, median = min(times["vae"]), statistics.median(times["vae"])
    print(f"\n{args.repeats} epochs of {args.steps} steps each, batch {batch}, XLA; ms per step\n")
    print(f"{'variant':<22}{'fastest':>9}{'x vae':>7}{'median':>9}{'x vae':>7}{'slowest':>9}")
    for name, ts in times.items():
        print(f"{name:<22}{min(ts):>9.1f}{min(ts) / fastest:>7.2f}"
              f"{statistics.median(ts):>9.1f}{statistics.median(ts) / median:>7.2f}{max(ts):>9.1f}")


if __name__ == "__main__":
    main()
