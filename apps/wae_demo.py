"""WAE-MMD and InfoVAE against the plain VAE on the scikit-learn digits (offline).

    python -m apps.wae_demo                 # ~1 minute on 2 CPU cores
    python -m apps.wae_demo --quick         # 2 epochs, a smoke run

Trains three models with one budget (MLP 256-128 / 128-256, latent 8,
Bernoulli likelihood, Adam 1e-3, batch 64, seed 0) on the digits
thresholded at ½:
  vae      tfvae.VAE (the ELBO)
  infovae  tfvae.VAE with Zhao et al.'s α = 1, λ = 11 (beta = 1 − α = 0,
           mmd_weight = α + λ − 1 = 10): the reconstruction term plus an MMD
           between the aggregate posterior and the prior, no per-example KL
           (the "MMD-VAE"; on these 8x8 digits α = 0, λ = 1000 drowns the
           reconstruction term and the codes collapse onto the prior)
  wae      tfvae.WAE, deterministic encoder, IMQ kernel, λ = 100
and prints, on the test digits, the reconstruction log p(x | z) (nats) and
the MMD² between the test codes z ~ q(z|x) and as many prior draws (how far
the aggregate posterior is from the prior the samples come from; lower is
better). Writes `<out>/samples.png`: one row of prior samples per model, in
the order above.
"""

import argparse
import os

import tfvae  # first: quiets TensorFlow's start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

MODELS = ("vae", "infovae", "wae")


def build(name, seed=0):
    nets = dict(input_shape=(8, 8, 1), latent_dim=8, encoder=tfvae.nets.MLP([256, 128]),
                decoder=tfvae.nets.MLP([128, 256]), seed=seed)
    if name == "wae":
        return tfvae.WAE(kernel="imq", mmd_weight=100.0, **nets)
    if name == "infovae":
        return tfvae.VAE(beta=0.0, mmd_weight=10.0, **nets)
    return tfvae.VAE(**nets)


def binary_digits(split):
    """The scikit-learn digits of a split, thresholded at ½: `(N, 8, 8, 1)` in {0, 1}."""
    return (tfvae.data.load_numpy("digits", split=split) > 0.5).astype("float32")


def codes(model, x, seed=0):
    """z ~ q(z|x) for every test example, `(N, 8)`."""
    s = tf.constant([seed, 1], tf.int64)
    if isinstance(model, tfvae.WAE):
        return model.sample_latent(tf.constant(x), s)
    return model.sample_posterior(tf.constant(x), 1, s)[0][0]


def run(epochs=30, seed=0, out="runs/wae_demo"):
    train, test = (binary_digits(split) for split in ("train", "test"))
    prior_draws = tf.random.stateless_normal((len(test), 8), seed=[seed, 2])
    rows, results = [], {}
    print(f"digits thresholded at ½: {len(train)} train / {len(test)} test, {epochs} epochs, latent 8")
    print(f"{'model':<10}{'log p(x|z)':>12}{'MMD²(q(z), p(z))':>20}")
    for name in MODELS:
        keras.utils.set_random_seed(seed)
        model = build(name, seed)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(train, batch_size=64, epochs=epochs, verbose=0)
        metrics = model.evaluate(test, batch_size=len(test), return_dict=True, verbose=0)
        mmd = float(tfvae.objectives.mmd(codes(model, test, seed), prior_draws))
        results[name] = dict(reconstruction=metrics["reconstruction"], mmd=mmd)
        print(f"{name:<10}{metrics['reconstruction']:>12.2f}{mmd:>20.4f}")
        rows.append(model.sample(10, seed=seed).numpy())
    path = tfvae.training.save_image_grid(np.concatenate(rows), os.path.join(out, "samples.png"), nrow=10, scale=6)
    print(f"wrote {path} (rows: {', '.join(MODELS)})")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="2 epochs: a smoke run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/wae_demo")
    args = parser.parse_args(argv)
    run(2 if args.quick else args.epochs, args.seed, args.out)


if __name__ == "__main__":
    main()
