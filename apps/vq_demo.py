"""VQ-VAE on the scikit-learn digits (or any tfvae.data dataset).

    python -m apps.vq_demo                     # grey-level digits, ~3 minutes on 2 CPU cores
    python -m apps.vq_demo --quick             # 2 + 2 epochs, about a minute
    python -m apps.vq_demo --likelihood bernoulli               # binarised digits
    python -m apps.vq_demo --dataset mnist --num-embeddings 256 --embedding-dim 32
                                               # needs MNIST prepared by TFDS (28x28 -> 7x7 codes)

Grey levels are scored with a categorical likelihood over the dataset's
levels (17 for the digits, 256 for MNIST), so log-likelihoods are exact
log-probabilities of the quantised data.

1. Trains a VQ-VAE (EMA codebook, dead-code restarts) and reports on the
   test split: the reconstruction log-likelihood log p(x | c(x)), the
   codebook's perplexity and usage, and the ELBO under the uniform prior
   over codes (kl = h·w·log K, a constant that training ignores but the
   bound must count).
2. Fits the PixelCNN prior to the training codes and reports the ELBO
   again, now with kl = −log p_PixelCNN(c(x)).
3. Writes `<out>/reconstructions.png` (data rows above their
   reconstructions) and `<out>/samples.png` (ancestral samples).
"""

import argparse
import math
import time

import tfvae  # first: quiets TensorFlow's start-up logs

import keras  # noqa: E402

from apps._runs import write_code_model_grids  # noqa: E402


def run(dataset="digits", likelihood="categorical", epochs=20, prior_epochs=20, num_embeddings=64, embedding_dim=16,
        batch_size=64, seed=0, out="runs/vq_demo", jit_compile=False, verbose=0):
    keras.utils.set_random_seed(seed)
    info = tfvae.data.info(dataset)
    binarize = likelihood == "bernoulli"
    if likelihood == "categorical":
        likelihood = tfvae.likelihoods.Categorical(num_bins=info.num_bins)
    elif likelihood == "discretized_logistic":
        likelihood = tfvae.likelihoods.DiscretizedLogistic(num_components=2, num_bins=info.num_bins)
    train = tfvae.data.load(dataset, split="train", batch_size=batch_size, binarize=binarize, seed=seed)
    test = tfvae.data.load(dataset, split="test", batch_size=256, binarize=binarize, seed=seed)
    vq = tfvae.VQVAE(input_shape=info.input_shape, num_embeddings=num_embeddings, embedding_dim=embedding_dim,
                     commitment_cost=0.25, ema_decay=0.99, likelihood=likelihood, seed=seed)
    vq.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit_compile)
    start = time.perf_counter()
    vq.fit(train, epochs=epochs, verbose=verbose)
    train_time = time.perf_counter() - start
    uniform = vq.evaluate(test, return_dict=True, verbose=0)
    start = time.perf_counter()
    vq.fit_prior(train, epochs=prior_epochs, verbose=verbose)
    prior_time = time.perf_counter() - start
    learned = vq.evaluate(test, return_dict=True, verbose=0)

    h, w = vq.grid_shape
    k = vq.num_embeddings
    d = math.prod(info.input_shape)
    print(f"{dataset}, {'binarised' if binarize else 'grey levels'}: VQ-VAE K={k}, D={embedding_dim}, "
          f"{h}x{w} codes, {epochs} epochs ({train_time:.0f} s), PixelCNN prior {prior_epochs} epochs "
          f"({prior_time:.0f} s)")
    print(f"  test reconstruction  log p(x|c(x)) = {uniform['reconstruction']:.2f} nats/example "
          f"(NLL {-uniform['reconstruction']:.2f})")
    print(f"  codebook             perplexity {uniform['perplexity']:.1f} of {k}, usage {100 * uniform['usage']:.0f}%")
    print(f"  ELBO, uniform prior  {uniform['elbo']:.2f} nats/example "
          f"(kl = {h}·{w}·log {k} = {uniform['kl']:.2f}; {-uniform['elbo'] / (d * math.log(2)):.3f} bits/dim)")
    print(f"  ELBO, PixelCNN prior {learned['elbo']:.2f} nats/example "
          f"(kl = −log p(c) = {learned['kl']:.2f}; {-learned['elbo'] / (d * math.log(2)):.3f} bits/dim)")

    rec_path, sample_path = write_code_model_grids(vq, next(iter(test))[:16].numpy(), out, seed,
                                                   scale=max(1, 64 // info.input_shape[0]))
    print(f"wrote {rec_path} (rows 1, 3: test data; rows 2, 4: reconstructions) and {sample_path}")
    return vq, uniform, learned


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="digits", help="a tfvae.data name (digits, mnist, cifar10, ...)")
    parser.add_argument("--likelihood", default="categorical",
                        choices=["bernoulli", "categorical", "discretized_logistic"])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--prior-epochs", type=int, default=20)
    parser.add_argument("--num-embeddings", type=int, default=64)
    parser.add_argument("--embedding-dim", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--xla", action="store_true", help="compile the train step with XLA")
    parser.add_argument("--quick", action="store_true", help="2 + 2 epochs: a smoke run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/vq_demo")
    args = parser.parse_args(argv)
    epochs, prior_epochs = (2, 2) if args.quick else (args.epochs, args.prior_epochs)
    run(args.dataset, args.likelihood, epochs, prior_epochs, args.num_embeddings, args.embedding_dim,
        args.batch_size, args.seed, args.out, args.xla)


if __name__ == "__main__":
    main()
