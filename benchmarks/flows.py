"""Throughput of every flow family: log_prob and sampling, with and without XLA.

    python3 benchmarks/flows.py              # one flow per family, ~3 minutes on 2 idle CPU cores
    python3 benchmarks/flows.py --all        # also NICE, SplineMAF, SplineIAF and Sylvester
    python3 benchmarks/flows.py --sizes 2 16 64 256 --families RealNVP MAF IAF --repeats 7
    python3 benchmarks/flows.py --baseline ../old-checkout   # this code / that checkout, row by row

Each figure is examples per second, the median of `--repeats` timed calls of
a `tf.function` (after one warm-up call that traces / compiles), for a
`FlowModel` density on `(batch, D)` vectors and an 8x8x1 Glow. log_prob
runs the flow's inverse (data -> base), sampling its forward on fixed
N(0, I) draws; flows without an inverse (Planar, Sylvester) show "n/a".

With `--baseline DIR`, every row is also measured by a worker process that
imports tfvae from the checkout DIR (e.g. the previous release), right
after this code's measurement, and the table shows both and their ratio
(this / baseline, > 1 means faster now): both run in one session under the
same load. A family the baseline lacks shows "n/a". One direction of an autoregressive flow
takes one network pass, the other D sequential passes; the last table shows
MAF's cost relative to IAF's, for sampling and for log_prob, as D grows.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# The checkout whose tfvae is measured: this one, or a `--baseline` worker's.
sys.path.insert(0, os.environ.get("TFVAE_BENCH_ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import tfvae  # noqa: E402  (quiet TF first)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfvae import flows  # noqa: E402
from tfvae.models import FlowModel  # noqa: E402

HIDDEN = (64, 64)
VECTOR_FAMILIES = {
    "RealNVP": lambda: flows.RealNVP(num_layers=4, hidden_units=HIDDEN),
    "NSF": lambda: flows.NSF(num_layers=4, hidden_units=HIDDEN),
    "NICE": lambda: flows.NICE(num_layers=4, hidden_units=HIDDEN),
    "MAF": lambda: flows.MAF(num_layers=4, hidden_units=HIDDEN),
    "IAF": lambda: flows.IAF(num_layers=4, hidden_units=HIDDEN),
    "SplineMAF": lambda: flows.SplineMAF(num_layers=4, hidden_units=HIDDEN),
    "SplineIAF": lambda: flows.SplineIAF(num_layers=4, hidden_units=HIDDEN),
    "LULinear": lambda: flows.LULinear(),
    "Planar": lambda: flows.Planar(num_layers=4),
    "Sylvester": lambda: flows.Sylvester(num_layers=4),
}


FORWARD_ONLY = ("Planar", "Sylvester")

# One representative per family by default, to keep the run short.
DEFAULT_FAMILIES = ("RealNVP", "NSF", "MAF", "IAF", "LULinear", "Planar", "Glow")


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
    flow = make_flow()
    x = tf.constant(rng.standard_normal((batch, *event_shape)), tf.float32)
    rates = [None]
    # By name, so that a --baseline checkout without `has_inverse` is measured the same way.
    if type(flow).__name__ not in FORWARD_ONLY:
        model = FlowModel(flow, input_shape=event_shape)
        model.log_prob(x)  # eager first call: data-dependent initialisation (ActNorm)
        log_prob = tf.function(lambda v: model._log_prob(v, seed=0), jit_compile=jit)
        rates = [_median_rate(log_prob, x, batch, repeats)]
    else:
        flow(x)
    sample = tf.function(lambda z: flow(z)[0], jit_compile=jit)
    rates.append(_median_rate(sample, x, batch, repeats))
    return rates


def _fmt(rate):
    return "n/a" if rate is None else f"{rate:,.0f}"


def cases_for(family, sizes, batch):
    """`[(event_shape, batch)]` of one family (Glow: one 8x8x1 image case)."""
    if family == "Glow":
        return [((8, 8, 1), 64)]
    return [((d,), batch) for d in sizes]


def make_for(family, shape):
    if family == "Glow":
        return lambda: flows.Glow(levels=2, steps=2, hidden_channels=32)
    if family not in VECTOR_FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {sorted(VECTOR_FAMILIES) + ['Glow']}")
    return VECTOR_FAMILIES[family]


def measure_row(family, shape, batch, repeats, jit):
    """Rates of one row, or None when this tfvae has no such flow."""
    try:
        make = make_for(family, shape)
        return measure(make, shape, batch, repeats, jit)
    except AttributeError:  # a baseline checkout without this family
        return None


def worker():
    """`--worker`: answers one JSON row request per input line with its rates."""
    for line in sys.stdin:
        row = json.loads(line)
        rates = measure_row(row["family"], tuple(row["shape"]), row["batch"], row["repeats"], row["jit"])
        print(json.dumps(rates), flush=True)


class Baseline:
    """A worker process measuring rows with the tfvae of another checkout."""

    def __init__(self, root):
        env = dict(os.environ, TFVAE_BENCH_ROOT=os.path.abspath(root), TF_CPP_MIN_LOG_LEVEL="2")
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker"], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def measure(self, family, shape, batch, repeats, jit):
        request = dict(family=family, shape=list(shape), batch=batch, repeats=repeats, jit=jit)
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def _ratio(now, then):
    return "" if not (now and then) else f"{now / then:6.2f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=list(DEFAULT_FAMILIES))
    parser.add_argument("--all", action="store_true", help="every family in tfvae.flows")
    parser.add_argument("--sizes", nargs="+", type=int, default=[2, 16, 64])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-xla", action="store_true", help="skip the XLA runs")
    parser.add_argument("--baseline", help="another tfvae checkout to measure beside this one")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker()
    if args.all:
        args.families = list(VECTOR_FAMILIES) + ["Glow"]
    for family in args.families:
        make_for(family, None)  # unknown names fail before any work
    baseline = Baseline(args.baseline) if args.baseline else None
    modes = [False] if args.no_xla else [False, True]
    start = time.perf_counter()
    results = {}
    header = f"{'flow':<10} {'shape':<10} {'xla':<5} {'log_prob ex/s':>14} {'sample ex/s':>12}"
    if baseline:
        header += f" {'base log_prob':>14} {'base sample':>12} {'ratio lp':>8} {'ratio s':>8}"
    print(header + f" {'wall s':>7}")
    for family in args.families:
        for shape, batch in cases_for(family, args.sizes, args.batch):
            for jit in modes:
                row_start = time.perf_counter()
                rates = measure_row(family, shape, batch, args.repeats, jit)
                results[family, shape, jit] = rates
                line = f"{family:<10} {str(shape):<10} {str(jit):<5} {_fmt(rates[0]):>14} {_fmt(rates[1]):>12}"
                if baseline:
                    then = baseline.measure(family, shape, batch, args.repeats, jit) or [None, None]
                    line += (f" {_fmt(then[0]):>14} {_fmt(then[1]):>12} {_ratio(rates[0], then[0]):>8}"
                             f" {_ratio(rates[1], then[1]):>8}")
                print(line + f" {time.perf_counter() - row_start:7.1f}", flush=True)
    if baseline:
        baseline.close()
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
