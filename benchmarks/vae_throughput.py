"""Training throughput of an MLP VAE against the machine's matmul peak.

    python benchmarks/vae_throughput.py           # ~3 minutes on 2 CPU cores
    python benchmarks/vae_throughput.py --quick   # a smoke run, ~1 minute

Model: encoder 784-512-512 -> (μ, σ) of a 32-d Gaussian, decoder
32-512-512-784 Bernoulli logits, on random binary 28x28x1 data. Each
configuration (batch 128 / 512, XLA on / off) is traced and warmed up, then
`fit` runs `--steps` steps per repeat and the median over `--repeats`
repeats is reported.

FLOPs: a dense layer costs 2·in·out per example forward and about twice
that backward, so a training step costs ≈ 6·Σ in·out per example (the
likelihood, sampling and optimizer update are O(Σ out) and ignored). The
peak is the median rate of a float32 N x N `tf.linalg.matmul` (2·N³ FLOPs),
which is about what the dense layers' GEMMs can reach on this machine.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tfvae  # noqa: E402  (quiet TF logs, Keras backend) -- before keras/tensorflow

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

INPUT_SHAPE = (28, 28, 1)
LATENT = 32
HIDDEN = [512, 512]


def dense_shapes():
    """(in, out) of every dense layer, the posterior and likelihood heads included."""
    d = int(np.prod(INPUT_SHAPE))
    enc = [(d, HIDDEN[0]), (HIDDEN[0], HIDDEN[1]), (HIDDEN[1], 2 * LATENT)]
    dec = [(LATENT, HIDDEN[1]), (HIDDEN[1], HIDDEN[0]), (HIDDEN[0], d)]
    return enc + dec


def train_flops_per_example():
    return 6 * sum(i * o for i, o in dense_shapes())


def matmul_times(n, repeats):
    """Seconds per float32 n x n matmul, `repeats` timings (graph mode, result forced)."""
    a = tf.random.stateless_normal((n, n), seed=[1, 2])
    b = tf.random.stateless_normal((n, n), seed=[3, 4])
    matmul = tf.function(lambda a, b: tf.reduce_sum(tf.linalg.matmul(a, b)))
    matmul(a, b).numpy()  # trace + warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        times.append(time.perf_counter() - start)
    return times


def make_vae(seed=0):
    keras.utils.set_random_seed(seed)
    return tfvae.VAE(input_shape=INPUT_SHAPE, latent_dim=LATENT, encoder=tfvae.nets.MLP(HIDDEN),
                     decoder=tfvae.nets.MLP(HIDDEN[::-1]), likelihood="bernoulli", seed=seed)


def binary_data(n, seed=0):
    return (np.random.default_rng(seed).random((n,) + INPUT_SHAPE) < 0.3).astype(np.float32)


def train_throughput(batch_size, jit_compile, steps, repeats):
    """Median training examples/s of `fit` over `repeats` runs of `steps` steps."""
    model = make_vae()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit_compile)
    x = binary_data(8 * batch_size)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(batch_size, drop_remainder=True).repeat()
    ds = ds.prefetch(tf.data.AUTOTUNE)
    model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)  # trace + warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
        times.append(time.perf_counter() - start)
    return steps * batch_size / statistics.median(times)


def loglik_throughput(num_examples, num_samples, repeats):
    """Median examples/s of the importance-sampled log-likelihood at S samples."""
    model = make_vae()
    x = binary_data(num_examples, seed=1)
    tfvae.evaluation.log_likelihood(model, x, num_samples=num_samples)  # trace + warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tfvae.evaluation.log_likelihood(model, x, num_samples=num_samples)
        times.append(time.perf_counter() - start)
    return num_examples / statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 128 only, few steps: a smoke run")
    parser.add_argument("--steps", type=int, default=None, help="training steps per timed repeat")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats (median reported)")
    args = parser.parse_args(argv)
    quick = args.quick
    steps = args.steps or (3 if quick else 100)  # long enough to amortise fit()'s per-call cost
    repeats = args.repeats or (2 if quick else 5)
    if steps < 1 or repeats < 1:
        parser.error("--steps and --repeats must be positive")
    batches = (128,) if quick else (128, 512)
    n = 1024 if quick else 2048
    ll_examples, ll_samples = (8, 100) if quick else (64, 1000)

    # The peak is timed before and after the runs and the median taken over
    # both, so a change of load on a shared machine biases it less.
    peak_repeats = 3 if quick else 7
    peak_times = matmul_times(n, peak_repeats)
    flops = train_flops_per_example()
    print(f"tfvae {tfvae.__version__}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
          f"{os.cpu_count()} CPUs")
    print(f"MLP VAE 784-{HIDDEN[0]}-{HIDDEN[1]}-{LATENT}-{HIDDEN[1]}-{HIDDEN[0]}-784, Bernoulli: "
          f"≈ {flops / 1e6:.2f} MFLOP per training example (6·Σ in·out)")
    print(f"training: median of {repeats} repeats x {steps} steps after warm-up\n")
    rows, results = [], []
    for batch in batches:
        for jit in (False, True):
            print(f"  timing batch {batch}, XLA {'on' if jit else 'off'} ...", file=sys.stderr, flush=True)
            results.append((batch, jit, train_throughput(batch, jit, steps, repeats)))
    print(f"  timing log-likelihood, S = {ll_samples} ...", file=sys.stderr, flush=True)
    ll_rate = loglik_throughput(ll_examples, ll_samples, repeats=2 if quick else 3)
    peak_times += matmul_times(n, peak_repeats)
    peak = 2 * n**3 / statistics.median(peak_times) / 1e9
    header = f"{'batch':>6} {'XLA':>5} {'examples/s':>12} {'ms/step':>9} {'GFLOP/s':>9} {'% of peak':>10}"
    print(header + "\n" + "-" * len(header))
    for batch, jit, rate in results:
        gflops = rate * flops / 1e9
        rows.append({"batch_size": batch, "jit_compile": jit, "examples_per_s": rate,
                     "gflops": gflops, "fraction_of_peak": gflops / peak})
        print(f"{batch:>6} {'on' if jit else 'off':>5} {rate:>12.0f} {1e3 * batch / rate:>9.2f} "
              f"{gflops:>9.1f} {100 * gflops / peak:>9.1f}%")
    ll_gflops = ll_rate * ll_samples * 2 * sum(i * o for i, o in dense_shapes()[3:]) / 1e9
    print(f"\nfloat32 matmul {n}x{n} (peak): {peak:.1f} GFLOP/s, median of {len(peak_times)} "
          "timed before and after the runs")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > (os.cpu_count() or 1):
        print(f"warning: load average {load:.1f} > {os.cpu_count()} CPUs: other processes share "
              "the cores, so rates and fractions of peak are noisy")
    print(f"importance-sampled log-likelihood, S = {ll_samples}: {ll_rate:.1f} examples/s "
          f"({ll_rate * ll_samples:.0f} decoder passes/s, ≈ {ll_gflops:.1f} GFLOP/s in the decoder, "
          f"{100 * ll_gflops / peak:.1f}% of peak)")
    return {"peak_gflops": peak, "train": rows, "loglik_examples_per_s": ll_rate,
            "loglik_num_samples": ll_samples}


if __name__ == "__main__":
    main()
    sys.exit(0)
