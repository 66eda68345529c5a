"""Conditional densities p(x | c) with a conditional FlowModel, against what is known.

    python3 benchmarks/conditional_flow.py            # about 5 minutes on 2 cores
    python3 benchmarks/conditional_flow.py --epochs 5 # quick

1. A Gaussian whose mean moves with c: c ~ U(-1, 1), x | c ~ N((2c - 1,
   -c), diag(0.3², 0.5²)). The exact log p(x | c) is known, so the held-out
   mean of log p - log q (= KL(p || q) >= 0) says how close the model is,
   ± its standard error. Part of x lies outside [-3, 3], where NSF's
   default spline is the identity: NSF with bound 5, and a one-layer
   conditional MAF (an affine map, which contains the truth), beside it.
2. Two moons conditioned on which moon (c = label, one-hot): the
   conditional NSF against an unconditional NSF of the same size. Since
   each moon holds half the data, log p(x) = log p(x | c) + log 1/2 for
   separated moons: a perfect pair of models differs by log 2 = 0.693 nats.

Every model is a `tfvae.FlowModel` of a conditional flow trained with
`fit` on `(x, c)` batches; held-out figures are nats per
example on 5000 fresh draws.
"""

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import tfvae  # noqa: E402  (quiet TF first)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402

from tfvae.objectives.gaussian import normal_log_prob  # noqa: E402

SCALE = np.array([0.3, 0.5], "float32")


def gaussian_given_c(n, seed):
    rng = np.random.default_rng(seed)
    c = rng.uniform(-1, 1, (n, 1)).astype("float32")
    mean = np.concatenate([2 * c - 1, -c], axis=1)
    return (mean + SCALE * rng.standard_normal((n, 2))).astype("float32"), c, mean


def moons(n, seed):
    x, label = make_moons(n, noise=0.05, random_state=seed)
    return ((x - [0.5, 0.25]) / [0.87, 0.5]).astype("float32"), np.eye(2, dtype="float32")[label]


def fit(flow, data, epochs, seed):
    keras.utils.set_random_seed(seed)
    model = tfvae.FlowModel(flow, input_shape=(2,))
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    model.fit(tf.data.Dataset.from_tensor_slices(data).shuffle(len(data[0]), seed=seed).batch(256),
              epochs=epochs, verbose=0)
    return model


def mean_and_stderr(v):
    return v.mean(), v.std() / math.sqrt(len(v))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    x, c, _ = gaussian_given_c(20000, args.seed)
    x_test, c_test, mean = gaussian_given_c(5000, args.seed + 1)
    exact = normal_log_prob(x_test, mean, SCALE).numpy()
    print(f"Gaussian with a c-dependent mean, {args.epochs} epochs on 20000 draws; "
          f"exact held-out log p(x|c) = {exact.mean():.3f} nats")
    print(f"  {'model':<38} {'log q(x|c)':>10} {'KL(p||q) = mean gap':>22}")
    candidates = {
        "NSF, defaults (bins on [-3, 3])": tfvae.flows.NSF(num_layers=4, hidden_units=(32, 32), context_size=1,
                                                           seed=args.seed),
        "NSF, bound 5": tfvae.flows.NSF(num_layers=4, bound=5.0, hidden_units=(32, 32), context_size=1,
                                        seed=args.seed),
        "MAF, one affine layer": tfvae.flows.MAF(num_layers=1, hidden_units=(32, 32), context_size=1,
                                                 seed=args.seed),
    }
    for name, flow in candidates.items():
        gap = exact - fit(flow, (x, c), args.epochs, args.seed).log_prob(x_test, c_test).numpy()
        m, se = mean_and_stderr(gap)
        print(f"  {name:<38} {exact.mean() - m:10.3f} {m:14.3f} ± {se:.3f}", flush=True)
    print()

    x, c = moons(20000, args.seed)
    conditional = fit(tfvae.flows.NSF(num_layers=4, hidden_units=(32, 32), context_size=2, seed=args.seed),
                      (x, c), args.epochs, args.seed)
    unconditional = fit(tfvae.flows.NSF(num_layers=4, hidden_units=(32, 32), seed=args.seed), (x,),
                        args.epochs, args.seed)
    x, c = moons(5000, args.seed + 1)
    a, b = conditional.log_prob(x, c).numpy(), unconditional.log_prob(x).numpy()
    d = a - b
    print(f"two moons, conditioned on the moon, {args.epochs} epochs on 20000 draws:")
    print(f"  log p(x|moon), conditional NSF  {mean_and_stderr(a)[0]:8.3f} ± {mean_and_stderr(a)[1]:.3f}")
    print(f"  log p(x), unconditional NSF     {mean_and_stderr(b)[0]:8.3f} ± {mean_and_stderr(b)[1]:.3f}")
    print(f"  difference (log 2 = 0.693 if both are exact)  {mean_and_stderr(d)[0]:+.3f} ± {mean_and_stderr(d)[1]:.3f}")


if __name__ == "__main__":
    main()
