"""How long XLA takes to compile the default MLP VAE's train and test steps,
and to load them from tfvae's opt-in compile cache.

    python benchmarks/xla_compile.py          # about 2 minutes on 2 cores

Each run is a fresh process that fits step_profile's model (pythae's
default MLP VAE, batch 100) with `jit_compile=True` for one epoch on 2,000
random binary images, validating on 500, with TensorFlow's compile log on
(`TF_CPP_MIN_LOG_LEVEL=0 TF_CPP_VMODULE=device_compiler=1`). The figures
are TensorFlow's own ("Compilation of XLA executable time"), per compiled
function in the order they ran (the train step, then the test step): the
TensorFlow graph turned into HLO, then XLA's passes and code generation,
or, from the cache, the stored HLO compared and the executable loaded.

Three runs per round, `--repeats` rounds, medians [min-max]:
    no cache       TFVAE_XLA_CACHE unset, tfvae's default
    cache, cold    an empty cache folder: compiles, then writes the entries
    cache, warm    the same folder again: loads them
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
STEPS = ("train step", "test step")

_FIT = """
import sys
sys.path.insert(0, {here!r})
from step_profile import make_vae, load
x = load(None, 2500)
make_vae(True).fit(x[:2000], epochs=1, batch_size=100, validation_data=(x[2000:],), verbose=0)
"""
_TIME = re.compile(r"Compilation of XLA executable time: .*?\((\d+) us\)")


def compile_seconds(cache_dir):
    """TensorFlow's compile (or load) time of each XLA function, in order,
    from one fresh process."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="0", TF_CPP_VMODULE="device_compiler=1", PYTHONPATH=REPO)
    env.pop("TFVAE_XLA_CACHE", None)
    if cache_dir:
        env["TFVAE_XLA_CACHE"] = cache_dir
    proc = subprocess.run([sys.executable, "-c", _FIT.format(here=HERE)], env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"the fit failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    seconds = [int(us) / 1e6 for us in _TIME.findall(proc.stderr)]
    if len(seconds) != len(STEPS):
        raise SystemExit(f"expected {len(STEPS)} XLA compilations, TensorFlow logged {len(seconds)}")
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    runs = {"no cache": [], "cache, cold": [], "cache, warm": []}
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            runs["no cache"].append(compile_seconds(None))
            runs["cache, cold"].append(compile_seconds(cache))
            runs["cache, warm"].append(compile_seconds(cache))
    print(f"XLA compile per function, seconds, median [min-max] of {args.repeats} "
          "(TensorFlow's own timing)\n")
    print(f"{'':<14}" + "".join(f"{name:>22}" for name in STEPS) + f"{'both':>22}")
    for name, rounds in runs.items():
        columns = [[r[i] for r in rounds] for i in range(len(STEPS))] + [[sum(r) for r in rounds]]
        print(f"{name:<14}" + "".join(f"{statistics.median(c):>8.3f} [{min(c):.3f}-{max(c):.3f}]"
                                      for c in columns))
    both = {name: statistics.median(sum(r) for r in rounds) for name, rounds in runs.items()}
    print(f"\nwarm cache: {both['no cache'] / both['cache, warm']:.1f}x less time than compiling")
    return runs


if __name__ == "__main__":
    main()
