"""Latency of every serving signature of an exported SavedModel vs the Keras model.

    python benchmarks/export_latency.py            # under 2 minutes on 2 CPU cores
    python benchmarks/export_latency.py --quick    # smoke run: few calls

Exports a VAE (MLP 784-256-32, IAF posterior, Bernoulli, 28x28x1) and a
FlowModel (RealNVP on 64-vectors, dequantised to 17 levels like the digits) with `tfvae.export`, loads them
back with `tf.saved_model.load`, and times each signature at batch 1 and 64
against the matching public method of the Keras model called directly
(eagerly, as a user would; the eager TFP bijectors of the IAF make those
calls slow, and the SavedModel runs one compiled graph): p50 and p99 of the per-call wall time in ms,
and the ratio SavedModel / Keras (below 1: the SavedModel is faster). With
`--repeats` calls per cell p99 is close to the maximum; the machine is
shared, so compare cells within one run.
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import tfvae  # noqa: E402  (quiet TensorFlow first)
import tfvae.export  # noqa: E402
import tensorflow as tf  # noqa: E402


def _timings(fn, repeats, warmup=2):
    for _ in range(warmup):
        _block(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _block(fn())
        times.append(time.perf_counter() - start)
    return 1e3 * np.percentile(times, 50), 1e3 * np.percentile(times, 99)


def _block(out):
    """Forces the result to the host, so asynchronous work is timed too."""
    values = out.values() if isinstance(out, dict) else (out if isinstance(out, (tuple, list)) else [out])
    for v in values:
        if v is not None and hasattr(v, "numpy"):
            v.numpy()


def make_vae():
    return tfvae.VAE(input_shape=(28, 28, 1), latent_dim=32, encoder=tfvae.nets.MLP([256]),
                     decoder=tfvae.nets.MLP([256]), posterior_flow=tfvae.flows.IAF(num_layers=1, hidden_units=(64,)),
                     seed=0)


def make_flow_model():
    return tfvae.models.FlowModel(tfvae.flows.RealNVP(num_layers=4, hidden_units=(64,), seed=0),
                                  input_shape=(64,), dequantize="uniform", num_bins=17, seed=0)


def vae_cases(vae, batch, num_samples):
    x = (np.random.default_rng(0).random((batch, 28, 28, 1)) > 0.5).astype("float32")
    z = np.random.default_rng(1).normal(size=(batch, 32)).astype("float32")
    i32, i64 = (lambda v: tf.constant(v, tf.int32)), (lambda v: tf.constant(v, tf.int64))
    seed = tf.constant([0, 0], tf.int64)
    return {
        "serving_default": (dict(x=x), lambda: vae.reconstruct(x)),
        "encode": (dict(x=x, seed=i64(0)), lambda: vae.encode(x)),
        "decode": (dict(z=z), lambda: vae.decode(z)),
        "sample": (dict(num_samples=i32(batch), seed=i64(0), temperature=tf.constant(1.0)),
                   lambda: vae.sample(batch, seed=0)),
        f"log_likelihood (S={num_samples})": (dict(x=x, num_samples=i32(num_samples)),
                                               lambda: vae.log_likelihood(x, num_samples)),
        "elbo": (dict(x=x), lambda: vae.compute_bound(tf.constant(x), seed, training=False)[1]),
    }


def flow_cases(model, batch):
    x = (np.random.default_rng(0).integers(0, 17, (batch, 64)) / 16.0).astype("float32")
    return {
        "log_prob": (dict(x=x), lambda: model.log_prob(x, seed=0)),
        "sample": (dict(num_samples=tf.constant(batch), seed=tf.constant(0, tf.int64), temperature=tf.constant(1.0)),
                   lambda: model.sample(batch, seed=0)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 calls per cell, S = 10")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else args.repeats
    num_samples = 10 if args.quick else 100
    start = time.time()
    print(f"{'model':<5} {'signature':<24} {'batch':>5} | {'SavedModel p50':>14} {'p99':>8} | "
          f"{'Keras p50':>9} {'p99':>8} | {'ratio p50':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind, make in (("vae", make_vae), ("flow", make_flow_model)):
            model = make()
            loaded = tf.saved_model.load(tfvae.export.export_saved_model(model, os.path.join(tmp, kind, "1")))
            for batch in (1, 64):
                cases = vae_cases(model, batch, num_samples) if kind == "vae" else flow_cases(model, batch)
                for label, (inputs, keras_fn) in cases.items():
                    sig = loaded.signatures[label.split(" ")[0]]
                    inputs = {k: tf.constant(v) for k, v in inputs.items()}
                    # Fewer calls for the estimator: it costs S decoder passes.
                    n = max(3, repeats // 3) if label.startswith("log_likelihood") else repeats
                    s50, s99 = _timings(lambda: sig(**inputs), n)
                    k50, k99 = _timings(keras_fn, n)
                    print(f"{kind:<5} {label:<24} {batch:>5} | {s50:>11.2f} ms {s99:>8.2f} | "
                          f"{k50:>6.2f} ms {k99:>8.2f} | {s50 / k50:>9.2f}", flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{time.time() - start:.0f} s; load average {load:.1f} on {os.cpu_count()} cores "
          "(above the core count, timings are noisy)")


if __name__ == "__main__":
    main()
