"""Inpainting with a conditional VAE: fill in the hidden bottom half of digits.

    python -m apps.inpaint --epochs 80 --out inpaint.png   # under a minute on 2 idle cores

Trains `tfvae.ConditionalVAE` on the binarised scikit-learn digits (8x8)
with the observed top half as the condition, c = x[rows 0..3], and the
full image as x:
    q(z | x, c),   p(z | c) = N(μ(c), σ(c)²) (learned),   p(x | z, c) Bernoulli.
Then for test digits writes a PNG whose rows are: the original, the
observation (bottom half hidden, grey), and `--completions` rows of
completions: z ~ p(z | c), x ~ p(x | z, c) shown as the Bernoulli means
E[x | z, c], with the observed top half pasted back (only the bottom half
is the model's guess). It prints the test log p(x | c) (importance sampled)
in nats: the top half of x is c itself, so almost all of it is the
log-probability of the hidden bottom half given the top.
"""

import argparse
import sys
import time

import numpy as np

import tfvae  # noqa: F401  (quiet TF logs, Keras backend) before tensorflow
import keras
import tensorflow as tf

from tfvae.models.conditional import ConditionalVAE
from tfvae.training.images import save_image_grid

ROWS_OBSERVED = 4  # rows 0..3 of the 8x8 digits are the condition


def top_half(x):
    return x[:, :ROWS_OBSERVED]


def build_model(latent_dim=8, hidden=(128, 64), seed=0):
    return ConditionalVAE(
        input_shape=(8, 8, 1), latent_dim=latent_dim, condition_shape=(ROWS_OBSERVED, 8, 1),
        encoder=tfvae.nets.MLP(list(hidden)), decoder=tfvae.nets.MLP(list(reversed(hidden))),
        likelihood="bernoulli", prior="conditional_normal", seed=seed)


def _pairs(ds):
    # The condition is cut from the same binarised draw as x, each epoch.
    return ds.map(lambda x: (x, top_half(x)), num_parallel_calls=tf.data.AUTOTUNE)


def make_grid_images(model, x, num_completions, seed=0):
    """Rows: originals, observations (hidden half at 0.5), completions."""
    c = top_half(x)
    observed = x.copy()
    observed[:, ROWS_OBSERVED:] = 0.5
    rows = [x, observed]
    for k in range(num_completions):
        fill = model.sample(len(x), c, seed=seed + k).numpy()
        fill[:, :ROWS_OBSERVED] = c
        rows.append(fill)
    return np.concatenate(rows, 0)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m apps.inpaint", description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--digits", type=int, default=10, help="test digits shown (columns)")
    parser.add_argument("--completions", type=int, default=4, help="sampled completions per digit (rows)")
    parser.add_argument("--num-samples", type=int, default=500, help="importance samples for log p(x|c)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="inpaint.png")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "latent_dim", "digits", "num_samples"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if args.completions < 0:
        parser.error("--completions must be non-negative")

    keras.utils.set_random_seed(args.seed)
    train = _pairs(tfvae.data.load("digits", split="train", batch_size=args.batch_size, binarize=True,
                                   seed=args.seed))
    test = _pairs(tfvae.data.load("digits", split="test", batch_size=256, binarize=True, seed=args.seed))
    model = build_model(args.latent_dim, seed=args.seed)
    model.compile(optimizer=keras.optimizers.Adam(args.lr))
    start = time.time()
    model.fit(train, epochs=args.epochs, verbose=0,
              callbacks=[tfvae.callbacks.KLWarmup(epochs=max(1, args.epochs // 5))])
    metrics = model.evaluate(test, return_dict=True, verbose=0)
    print(f"trained {args.epochs} epochs in {time.time() - start:.0f}s; test ELBO {metrics['elbo']:.2f} nats "
          f"(reconstruction {metrics['reconstruction']:.2f}, KL {metrics['kl']:.2f})")

    result = tfvae.evaluation.log_likelihood(model, test, num_samples=args.num_samples, seed=args.seed)
    print(f"test log p(x | top half) = {result['log_likelihood']:.2f} ± {result['stderr']:.2f} nats "
          f"({result['num_examples']} digits, S={args.num_samples} importance samples)")

    x_test = np.concatenate([b[0].numpy() for b in test])[:args.digits]
    images = make_grid_images(model, x_test, args.completions, seed=args.seed)
    save_image_grid(images, args.out, nrow=len(x_test), scale=4)
    print(f"wrote {args.out}: rows = original, observed (bottom hidden), {args.completions} completions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
