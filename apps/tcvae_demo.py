"""β-TCVAE on the scikit-learn digits (offline): total correlation against its weight.

    python -m apps.tcvae_demo              # ~1 minute on 2 CPU cores
    python -m apps.tcvae_demo --quick      # 2 epochs, a smoke run

Trains `tfvae.VAE(kl_decomposition="tc")` (latent 6, MLP 256-128 / 128-256,
digits thresholded at ½) at several total-correlation weights and prints the
test split's index-code MI, total correlation and dimension-wise KL
(minibatch-stratified estimates, `tfvae.objectives.kl_decomposition`) and
ELBO: the total correlation falls as its weight rises. Writes
`<out>/traversals.png`: for the largest weight, one row per latent
dimension, decoding the mean code of a test digit with that dimension swept
over [−2.5, 2.5].
"""

import argparse
import os

import tfvae  # first: quiets TensorFlow's start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

from apps.wae_demo import binary_digits  # noqa: E402


def run(epochs=30, weights=(1.0, 4.0, 16.0), seed=0, out="runs/tcvae_demo"):
    train, test = binary_digits("train"), binary_digits("test")
    print(f"digits: {len(train)} train / {len(test)} test, {epochs} epochs, latent 6")
    print(f"{'tc_weight':>9}{'MI':>8}{'TC':>8}{'DWKL':>8}{'ELBO':>9}")
    results = {}
    for weight in weights:
        keras.utils.set_random_seed(seed)
        model = tfvae.VAE(input_shape=(8, 8, 1), latent_dim=6, encoder=tfvae.nets.MLP([256, 128]),
                          decoder=tfvae.nets.MLP([128, 256]), kl_decomposition="tc", tc_weight=weight,
                          dataset_size=len(train), seed=seed)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(train, batch_size=100, epochs=epochs, verbose=0)
        m = model.evaluate(test, batch_size=len(test), return_dict=True, verbose=0)
        results[weight] = {k: m[k] for k in ("index_code_mi", "total_correlation", "dimension_wise_kl", "elbo")}
        print(f"{weight:>9.1f}{m['index_code_mi']:>8.2f}{m['total_correlation']:>8.3f}"
              f"{m['dimension_wise_kl']:>8.2f}{m['elbo']:>9.2f}")
    z = model.encode(test[:1]).numpy()
    sweep = np.linspace(-2.5, 2.5, 9, dtype="float32")
    grid = np.repeat(z, 6 * len(sweep), axis=0).reshape(6, len(sweep), 6)
    for d in range(6):
        grid[d, :, d] = sweep
    images = model.decode(grid.reshape(-1, 6)).numpy()
    path = tfvae.training.save_image_grid(images, os.path.join(out, "traversals.png"), nrow=len(sweep), scale=6)
    print(f"wrote {path} (tc_weight {weights[-1]}: row d sweeps latent dimension d)")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--weights", type=float, nargs="+", default=[1.0, 4.0, 16.0])
    parser.add_argument("--quick", action="store_true", help="2 epochs: a smoke run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/tcvae_demo")
    args = parser.parse_args(argv)
    run(2 if args.quick else args.epochs, tuple(args.weights), args.seed, args.out)


if __name__ == "__main__":
    main()
