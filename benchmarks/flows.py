"""Throughput of every flow family: log_prob and sampling, with and without XLA.

    python3 benchmarks/flows.py              # one flow per family, ~2 minutes on 2 idle CPU cores
    python3 benchmarks/flows.py --all        # also NICE and Sylvester
    python3 benchmarks/flows.py --sizes 2 16 64 256 --families RealNVP MAF IAF --repeats 7

Each figure is examples per second, the median of `--repeats` timed calls of
a `tf.function` (after one warm-up call that traces / compiles), for a
`FlowModel` density on `(batch, D)` vectors and an 8x8x1 Glow. Sampling is
the flow's inverse on fixed N(0, I) draws; flows without an inverse
(Planar, Sylvester) show "n/a". One direction of an autoregressive flow
takes one network pass, the other D sequential passes; the last table shows
MAF's cost relative to IAF's, for sampling and for log_prob, as D grows.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import tfvae  # noqa: E402  (quiet TF first)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfvae import flows  # noqa: E402
from tfvae.models import FlowModel  # noqa: E402

HIDDEN = (64, 64)
VECTOR_FAMILIES = {
    "RealNVP": lambda: flows.RealNVP(num_layers=4, hidden_units=HIDDEN),
    "NICE": lambda: flows.NICE(num_layers=4, hidden_units=HIDDEN),
    "MAF": lambda: flows.MAF(num_layers=4, hidden_units=HIDDEN),
    "IAF": lambda: flows.IAF(num_layers=4, hidden_units=HIDDEN),
    "LULinear": lambda: flows.LULinear(),
    "Planar": lambda: flows.Planar(num_layers=4),
    "Sylvester": lambda: flows.Sylvester(num_layers=4),
}


# One representative per family by default, to keep the run short.
DEFAULT_FAMILIES = ("RealNVP", "MAF", "IAF", "LULinear", "Planar", "Glow")


def _median_rate(fn, arg, batch, repeats):
    fn(arg)  # trace / compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn(arg)
        np.asarray(out)  # wait for the result
        times.append(time.perf_counter() - start)
    return batch / statistics.median(times)


def measure(make_flow, event_shape, batch, repeats, jit):
    """Returns (log_prob ex/s or None, sample ex/s).

    Flows follow TFP's orientation: densities use the flow's inverse
    (data -> base), sampling its forward (base -> data). Forward-only flows
    (planar, Sylvester) have no density direction: None.
    """
    rng = np.random.default_rng(0)
    model = FlowModel(make_flow(), input_shape=event_shape)
    x = tf.constant(rng.standard_normal((batch, *event_shape)), tf.float32)
    try:
        model.log_prob(x)  # eager first call: data-dependent initialisation (ActNorm)
        log_prob = tf.function(lambda v: model._log_prob(v, seed=0), jit_compile=jit)
        rates = [_median_rate(log_prob, x, batch, repeats)]
    except NotImplementedError:  # no inverse (planar, Sylvester)
        rates = [None]
    sample = tf.function(lambda z: model.flow(z)[0], jit_compile=jit)
    rates.append(_median_rate(sample, x, batch, repeats))
    return rates


def _fmt(rate):
    return "n/a" if rate is None else f"{rate:,.0f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=list(DEFAULT_FAMILIES))
    parser.add_argument("--all", action="store_true", help="every family in tfvae.flows")
    parser.add_argument("--sizes", nargs="+", type=int, default=[2, 16, 64])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-xla", action="store_true", help="skip the XLA runs")
    args = parser.parse_args(argv)
    if args.all:
        args.families = list(VECTOR_FAMILIES) + ["Glow"]
    modes = [False] if args.no_xla else [False, True]
    start = time.perf_counter()
    results = {}
    print(f"{'flow':<10} {'shape':<10} {'xla':<5} {'log_prob ex/s':>14} {'sample ex/s':>12} {'wall s':>7}")
    for family in args.families:
        if family == "Glow":
            cases = [((8, 8, 1), lambda: flows.Glow(levels=2, steps=2, hidden_channels=32), 64)]
        elif family in VECTOR_FAMILIES and hasattr(flows, family):
            cases = [((d,), VECTOR_FAMILIES[family], args.batch) for d in args.sizes]
        else:
            print(f"{family:<10} skipped: not in tfvae.flows")
            continue
        for shape, make, batch in cases:
            for jit in modes:
                row_start = time.perf_counter()
                try:
                    rates = measure(make, shape, batch, args.repeats, jit)
                except Exception as e:  # keep the other rows when one family fails
                    print(f"{family:<10} {str(shape):<10} {str(jit):<4} failed: {type(e).__name__}: {e}"[:200])
                    continue
                results[family, shape, jit] = rates
                print(f"{family:<10} {str(shape):<10} {str(jit):<5} {_fmt(rates[0]):>14} {_fmt(rates[1]):>12} "
                      f"{time.perf_counter() - row_start:7.1f}", flush=True)
    if any(k[0] == "MAF" for k in results) and any(k[0] == "IAF" for k in results):
        print("\ncost of MAF relative to IAF (time ratio; > 1 means MAF is slower)")
        print(f"  {'D':<5} {'xla':<6} {'sampling':>9} {'log_prob':>9}")
        for jit in modes:
            for d in args.sizes:
                maf, iaf = results.get(("MAF", (d,), jit)), results.get(("IAF", (d,), jit))
                if maf and iaf and maf[1] and iaf[1]:
                    print(f"  {d:<5} {str(jit):<6} {iaf[1] / maf[1]:9.2f} {iaf[0] / maf[0]:9.2f}")
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
