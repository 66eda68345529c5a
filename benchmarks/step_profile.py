"""Where one training step of the default MLP VAE spends its time, with and without XLA.

    python3 benchmarks/step_profile.py                  # about 3 minutes on 2 cores
    python3 benchmarks/step_profile.py --data-dir /usr/share/datasets/fashion-mnist

Model: pythae's default MLP VAE on 28x28 binary images (encoder 784-512,
Gaussian latent 16, decoder 16-512-784, Bernoulli), batch 100, Adam 1e-3:
the setup of the comparison with pythae. Data: binarised Fashion-MNIST from
its IDX files when `--data-dir` is given, else random binary images (the
speed of these layers does not depend on pixel values).

Each row is the median (and the fastest) of `--repeats` timed runs of
`--steps` steps, in milliseconds per step, measured in one process with the
rows interleaved, so the ratios compare like with like:

    input pipeline      iterating `tfvae.data.from_numpy` alone
    + input checks      the same through the streamed value checks `fit` adds
    forward             the loss (`compute_bound`), inside a `tf.function`
    + backward          and its gradient
    + optimizer         and Adam's update as tfvae applies it (without XLA in
                        the step, TensorFlow's one-kernel Adam update): a bare
                        training step
    + metrics (step)    `vae.train_step`: also Keras metrics and the replica logic
    fit, spe 1          `vae.fit` for `--steps` steps with
                        `compile(steps_per_execution=1)`, Keras's default: one
                        `tf.function` call, and Keras's Python loop, per step
    fit, defaults       `vae.fit` as tfvae compiles by default
                        (`steps_per_execution="auto"`: 32 steps per call)

"fit - pipeline - step" (with spe 1) is what Keras's own loop adds per step
(Python, callbacks, progress logs, one `tf.function` call); the stage rows
above pay one call per step too, which the default `fit` does not, so
"fit, defaults" can come out below "+ metrics (step)". The XLA column repeats the compiled stages with
`jit_compile=True` (`fit` through `compile(jit_compile=True)`).
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import tfvae  # noqa: E402  (quiet TF first)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfvae.models import _inputs, _steps  # noqa: E402

BATCH = 100


def make_vae(jit, steps_per_execution="auto"):
    keras.utils.set_random_seed(0)
    vae = tfvae.VAE(input_shape=(28, 28, 1), latent_dim=16, encoder=tfvae.nets.MLP([512]),
                    decoder=tfvae.nets.MLP([512]), likelihood="bernoulli", seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit, steps_per_execution=steps_per_execution)
    return vae


def load(data_dir, n):
    if data_dir:
        x = tfvae.data.load_numpy("fashion_mnist", "train", data_dir=data_dir)[:n]
        return (np.random.default_rng(0).random(x.shape) < x).astype("float32")
    return (np.random.default_rng(0).random((n, 28, 28, 1)) < 0.3).astype("float32")


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def stages(vae, x_batches, jit):
    """`{name: callable running the stage over every batch}` for one model."""
    seed = tf.constant([1, 2], tf.int64)
    variables = vae.trainable_variables

    def forward(x):
        return vae.compute_bound(x, seed, training=True)[0]

    def backward(x):
        with tf.GradientTape() as tape:
            loss = forward(x)
        return tape.gradient(loss, variables)

    def step(x):
        _steps._apply(vae, vae.optimizer, backward(x), variables)
        return tf.constant(0.0)

    fns = {"forward": forward, "+ backward": backward, "+ optimizer": step,
           "+ metrics (step)": lambda x: vae.train_step(x)["loss"]}
    out = {}
    for name, fn in fns.items():
        compiled = tf.function(fn, jit_compile=jit)

        def run(compiled=compiled):
            for x in x_batches:
                result = compiled(x)
            tf.nest.map_structure(lambda t: t.numpy(), result)
        out[name] = run
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    x = load(args.data_dir, args.steps * BATCH)
    ds = tfvae.data.from_numpy(x, batch_size=BATCH, shuffle=True, seed=0)
    checked = _inputs.validated_dataset(ds, (28, 28, 1), tfvae.likelihoods.get("bernoulli"), "VAE")
    batches = [tf.constant(x[i:i + BATCH]) for i in range(0, len(x), BATCH)]

    def iterate(d):
        return lambda: [b for b in d]

    rows = {"input pipeline": {False: iterate(ds)}, "+ input checks": {False: iterate(checked)}}
    models = {jit: make_vae(jit) for jit in (False, True)}
    for jit, vae in models.items():
        for name, fn in stages(vae, batches, jit).items():
            rows.setdefault(name, {})[jit] = fn
        one = make_vae(jit, steps_per_execution=1)
        rows.setdefault("fit, spe 1", {})[jit] = lambda vae=one: vae.fit(ds, epochs=1, verbose=0)
        rows.setdefault("fit, defaults", {})[jit] = lambda vae=vae: vae.fit(ds, epochs=1, verbose=0)
    # Interleave: every repeat runs every row once, so slow spells hit all rows.
    times = {(name, jit): [] for name, fns in rows.items() for jit in fns}
    for name, fns in rows.items():
        for jit, fn in fns.items():
            fn()  # warm-up: trace, compile, fill caches
    for _ in range(args.repeats):
        for name, fns in rows.items():
            for jit, fn in fns.items():
                times[name, jit].append(timed(fn))
    ms = {k: [1000 * t / args.steps for t in v] for k, v in times.items()}
    med = {k: statistics.median(v) for k, v in ms.items()}
    print(f"MLP VAE 784-512-16 (Bernoulli), batch {BATCH}, {args.steps} steps per run, "
          f"{args.repeats} runs; ms per step, median (fastest)\n")
    print(f"{'stage':<20} {'XLA off':>16} {'XLA on':>16} {'on / off':>9}")
    for name, fns in rows.items():
        cells = []
        for jit in (False, True):
            cells.append(f"{med[name, jit]:7.3f} ({min(ms[name, jit]):6.3f})" if jit in fns else "")
        ratio = f"{med[name, True] / med[name, False]:9.2f}" if len(fns) == 2 else ""
        print(f"{name:<20} {cells[0]:>16} {cells[1]:>16} {ratio}")
    print()
    for jit in (False, True):
        keras_loop = med["fit, spe 1", jit] - med["+ input checks", False] - med["+ metrics (step)", jit]
        print(f"XLA {'on ' if jit else 'off'}: with spe 1, fit - pipeline - step = {keras_loop:6.3f} ms per step "
              f"({100 * keras_loop / med['fit, spe 1', jit]:3.0f}% of fit); defaults are "
              f"{med['fit, spe 1', jit] / med['fit, defaults', jit]:.2f}x faster than spe 1")

if __name__ == "__main__":
    main()
