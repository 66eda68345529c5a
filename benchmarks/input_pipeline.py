"""Does the tf.data pipeline keep the train step fed? Three rates, one run.

    python benchmarks/input_pipeline.py            # ~2 minutes on 2 CPU cores
    python benchmarks/input_pipeline.py --quick    # a smoke run

1. pipeline: examples/s of iterating the training input alone, exactly as
   `fit` gets it -- `tfvae.data.load(<data>, binarize=True, repeat=True)`
   (shuffle, per-epoch Bernoulli noise, batch, prefetch) followed by the
   model's per-batch input checks (`VAE._checked_data`) -- consuming every
   batch (its sum) in a `tf.function` loop.
2. step: examples/s of `fit` on one batch held in memory
   (`Dataset.from_tensors(batch).repeat()`): the train step with an input
   that costs nothing.
3. fit: examples/s of `fit` on the real pipeline.

Each is timed `--repeats` times over `--steps` batches after a warm-up;
medians are printed. The pipeline never starves the step when
pipeline / step >> 1 and fit ≈ step (fit / step near 1).

Model: the flow-prior, flow-posterior VAE of the quick start on 8x8 digits
(`--data digits`), or an MLP VAE on 28x28 (`--data mnist`, needs TFDS).
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tfvae  # noqa: E402  (quiet TF logs, Keras backend) -- before keras/tensorflow

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402


def build(input_shape):
    keras.utils.set_random_seed(0)
    model = tfvae.VAE(input_shape=input_shape, latent_dim=8, encoder=tfvae.nets.MLP([256, 128]),
                      decoder=tfvae.nets.MLP([128, 256]),
                      prior=tfvae.priors.FlowPrior(tfvae.flows.RealNVP(num_layers=4, hidden_units=(64, 64))),
                      posterior_flow=tfvae.flows.IAF(num_layers=2, hidden_units=(64,)), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def pipeline_timer(ds, batch_size):
    """A function `steps -> examples/s` pulling batches from one iterator
    inside one traced loop (no per-batch Python)."""
    it = iter(ds)

    @tf.function
    def consume(n):
        total = tf.constant(0.0)
        for _ in tf.range(n):
            batch = next(it)
            total += tf.reduce_sum(batch[0] if isinstance(batch, tuple) else batch)
        return total

    def rate(steps):
        start = time.perf_counter()
        consume(tf.constant(steps)).numpy()
        return steps * batch_size / (time.perf_counter() - start)

    return rate


def fit_rate(model, ds, steps, batch_size):
    start = time.perf_counter()
    model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0)
    return steps * batch_size / (time.perf_counter() - start)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="digits")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="20 steps, 2 repeats")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.repeats = 20, 2
    b = args.batch_size
    model = build(tuple(tfvae.data.info(args.data).input_shape))
    train = model._checked_data(tfvae.data.load(args.data, split="train", batch_size=b, binarize=True,
                                                repeat=True, drop_remainder=True, seed=0))
    memory = tf.data.Dataset.from_tensors(next(iter(train))).repeat()

    pipeline_rate = pipeline_timer(train, b)
    pipeline_rate(args.steps)            # warm-up: trace, fill the shuffle buffer
    fit_rate(model, memory, 5, b)        # warm-up: trace the train step
    fit_rate(model, train, 5, b)
    rows = {"pipeline": [], "step": [], "fit": []}
    for _ in range(args.repeats):  # interleaved, so machine load hits all three alike
        rows["pipeline"].append(pipeline_rate(args.steps))
        rows["step"].append(fit_rate(model, memory, args.steps, b))
        rows["fit"].append(fit_rate(model, train, args.steps, b))
    result = {k: statistics.median(v) for k, v in rows.items()}
    result["pipeline_over_step"] = result["pipeline"] / result["step"]
    result["fit_over_step"] = result["fit"] / result["step"]
    print(f"{args.data}, batch {b}, {args.steps} steps x {args.repeats} repeats (medians, examples/s):")
    for k in ("pipeline", "step", "fit"):
        print(f"  {k:<9} {result[k]:12.0f}")
    print(f"  pipeline / step = {result['pipeline_over_step']:.1f}x   fit / step = {result['fit_over_step']:.2f}")
    return result


if __name__ == "__main__":
    main()
