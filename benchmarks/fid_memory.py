"""FID of 10k samples: streamed in bounded memory against an in-memory computation.

Streamed: `tfvae.evaluation.fid` pulls real images from a tf.data pipeline
and samples from `model_samples` batch by batch, and keeps only each set's
running float64 mean and covariance. In memory: every image and every
feature vector is materialised, then `np.cov` and `scipy.linalg.sqrtm`
(the usual FID code). Both run in this process, one after the other, with
peak Python/NumPy heap measured by `tracemalloc` (TensorFlow's own C++
buffers are not traced by it; the process's peak RSS is printed too), and
must give the same FID.

    python benchmarks/fid_memory.py --data-dir /usr/share/datasets/fashion-mnist
    python benchmarks/fid_memory.py --data-dir ... --classifier runs/fmnist_clf.keras --model runs/fmnist/model.keras

Without `--classifier` a freshly initialised domain classifier is the
featurizer and without `--model` an untrained VAE samples: memory does not
depend on the weights.
"""

import argparse
import resource
import time
import tracemalloc

import tfvae  # first: it quiets TensorFlow's start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402


def in_memory_fid(featurizer, real_ds, model, num_samples, batch_size, seed):
    real = np.concatenate([np.asarray(b) for b in real_ds])
    fake = np.concatenate(list(tfvae.evaluation.model_samples(model, num_samples, batch_size, seed=seed)))
    f_real = np.asarray(featurizer.predict(real, batch_size=batch_size, verbose=0), np.float64)
    f_fake = np.asarray(featurizer.predict(fake, batch_size=batch_size, verbose=0), np.float64)
    mu1, mu2 = f_real.mean(0), f_fake.mean(0)
    s1, s2 = np.cov(f_real, rowvar=False), np.cov(f_fake, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1 + s2 - 2 * covmean)), len(real), len(fake)


def measure(fn):
    tracemalloc.start()
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return value, peak, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--classifier", default=None, help=".keras domain classifier (default: untrained)")
    parser.add_argument("--model", default=None, help=".keras VAE (default: untrained)")
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    if args.classifier:
        featurizer = tfvae.evaluation.domain_features(args.classifier)
    else:
        featurizer = tfvae.evaluation.domain_features(tfvae.evaluation.build_domain_classifier((28, 28, 1), 10))
    if args.model:
        model = keras.models.load_model(args.model)
    else:
        model = tfvae.VAE(input_shape=(28, 28, 1), latent_dim=16, encoder=tfvae.nets.MLP([512, 256]),
                          decoder=tfvae.nets.MLP([256, 512]), seed=args.seed)

    def real_ds():
        return tfvae.data.load("fashion_mnist", split="test", batch_size=args.batch_size, training=False,
                               data_dir=args.data_dir)

    # Warm up (trace the featurizer and the sampler) outside the measurements.
    tfvae.evaluation.fid(featurizer, real_ds().take(1), tfvae.evaluation.model_samples(model, 4, 4))
    streamed, streamed_peak, streamed_s = measure(lambda: tfvae.evaluation.fid(
        featurizer, real_ds(), tfvae.evaluation.model_samples(model, args.num_samples, args.batch_size,
                                                              seed=args.seed), batch_size=args.batch_size))
    rss_after_streamed = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (in_memory, n_real, n_fake), memory_peak, memory_s = measure(lambda: in_memory_fid(
        featurizer, real_ds(), model, args.num_samples, args.batch_size, args.seed))
    rss_after_memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"FID, {n_fake} samples vs {n_real} real Fashion-MNIST test images, "
          f"{featurizer.output_shape[-1]}-d domain-classifier features, batches of {args.batch_size}")
    print(f"  {'':<10} {'FID':>12} {'peak heap (tracemalloc)':>25} {'seconds':>8}")
    print(f"  {'streamed':<10} {streamed:12.6f} {streamed_peak / 2**20:21.1f} MiB {streamed_s:8.1f}")
    print(f"  {'in memory':<10} {in_memory:12.6f} {memory_peak / 2**20:21.1f} MiB {memory_s:8.1f}")
    print(f"  relative difference {abs(streamed - in_memory) / in_memory:.2e}; "
          f"process peak RSS {rss_after_streamed:.0f} MiB after streaming, {rss_after_memory:.0f} MiB after both")
    return {"streamed": streamed, "in_memory": in_memory, "streamed_peak": streamed_peak,
            "in_memory_peak": memory_peak}


if __name__ == "__main__":
    main()
