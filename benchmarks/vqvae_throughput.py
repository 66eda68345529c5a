"""Training throughput of the default VQ-VAE, with and without XLA.

    python benchmarks/vqvae_throughput.py            # 28x28x1, batch 128; a few minutes on 2 CPU cores
    python benchmarks/vqvae_throughput.py --quick    # 8x8 digits-sized, a smoke run

Model: `tfvae.VQVAE(input_shape, num_embeddings=256, embedding_dim=32,
ema_decay=0.99)` with its default residual conv nets (28x28 -> 7x7 codes),
Bernoulli likelihood, on random binary images. Each configuration is
compiled and warmed up with one `fit` call, then `fit` runs `--steps`
steps per repeat; the median over `--repeats` repeats is reported, and the
XLA / no-XLA ratio of the medians.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tfvae  # noqa: E402  (quiet TF logs) -- before keras/tensorflow

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def train_throughput(input_shape, batch_size, jit_compile, steps, repeats, num_embeddings=256, embedding_dim=32):
    """Median training examples/s of `fit` over `repeats` runs of `steps` steps."""
    keras.utils.set_random_seed(0)
    model = tfvae.VQVAE(input_shape=input_shape, num_embeddings=num_embeddings, embedding_dim=embedding_dim,
                        ema_decay=0.99, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit_compile)
    x = (np.random.default_rng(0).random((4 * batch_size,) + tuple(input_shape)) < 0.3).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(batch_size, drop_remainder=True).repeat().prefetch(2)
    start = time.perf_counter()
    model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0)  # trace/compile + warm-up
    compile_s = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0)
        times.append(time.perf_counter() - start)
    return steps * batch_size / statistics.median(times), compile_s


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8x8 inputs, few steps: a smoke run")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None, help="training steps per timed repeat")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats (median reported)")
    args = parser.parse_args(argv)
    shape = (8, 8, 1) if args.quick else (28, 28, 1)
    batch = args.batch_size or (32 if args.quick else 128)
    steps = args.steps or (3 if args.quick else 30)
    repeats = args.repeats or (2 if args.quick else 5)
    k, d = (32, 8) if args.quick else (256, 32)
    if min(batch, steps, repeats) < 1:
        parser.error("--batch-size, --steps and --repeats must be positive")
    print(f"tfvae {tfvae.__version__}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
          f"{os.cpu_count()} CPUs")
    print(f"VQ-VAE {shape} K={k} D={d}, EMA codebook, batch {batch}: median of {repeats} x {steps} steps")
    rows = []
    for jit in (False, True):
        print(f"  timing XLA {'on' if jit else 'off'} ...", file=sys.stderr, flush=True)
        rate, compile_s = train_throughput(shape, batch, jit, steps, repeats, k, d)
        rows.append({"jit_compile": jit, "examples_per_s": rate, "compile_s": compile_s})
        print(f"  XLA {'on ' if jit else 'off'}: {rate:8.0f} examples/s  {1e3 * batch / rate:7.1f} ms/step  "
              f"(first fit call incl. tracing/compilation {compile_s:.1f} s)")
    ratio = rows[1]["examples_per_s"] / rows[0]["examples_per_s"]
    print(f"  XLA / no XLA: {ratio:.2f}x")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > (os.cpu_count() or 1):
        print(f"warning: load average {load:.1f} > {os.cpu_count()} CPUs: other processes share the cores, "
              "so rates are noisy")
    return {"train": rows, "xla_ratio": ratio}


if __name__ == "__main__":
    main()
    sys.exit(0)
