"""The README's main job: a flow-prior, flow-posterior VAE on the digits.

    python -m apps.demo            # a few minutes on 2 CPU cores
    python -m apps.demo --quick    # a smoke run (seconds of training)

Trains on the scikit-learn digits (8x8, binarised, Bernoulli likelihood) a
VAE with a RealNVP prior and an IAF posterior, then reports the test log-likelihood (importance sampled, S >= 1000) in nats
and bits/dim, writes sample and reconstruction grids, exports a SavedModel
to saved_models/digits_vae/1 and checks that it loads with
`tf.saved_model.load` in a fresh process. Every step is a `tfvae` command
(`apps.cli`); nothing here trains or evaluates by itself.
"""

import argparse
import os
import subprocess
import sys
import time

from apps import cli

# Flags shared by both modes; sized so the full run takes a few minutes.
MODEL = ["--data", "digits", "--likelihood", "bernoulli", "--latent-dim", "8",
         "--hidden-units", "256", "128", "--flow-hidden-units", "64", "64", "--seed", "0"]
FULL = ["--epochs", "60", "--batch-size", "64", "--lr", "2e-3", "--kl-warmup", "10"]
QUICK = ["--epochs", "2", "--batch-size", "256", "--kl-warmup", "1"]

_LOAD_CHECK = """
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
print(",".join(sorted(m.signatures.keys())))
"""


#: The demo's flow prior and posterior flow.
FLOWS = ["--prior", "realnvp", "--prior-layers", "4", "--posterior-flow", "iaf", "--flow-layers", "2"]


def check_saved_model_loads(path):
    """Loads the SavedModel in a fresh interpreter (no tfvae, no keras
    imported), as a serving process would; returns its signature names."""
    proc = subprocess.run([sys.executable, "-c", _LOAD_CHECK, path], capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"tf.saved_model.load({path!r}) failed in a fresh process:\n{proc.stderr[-2000:]}")
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def export_step(model_path, export_dir):
    # --overwrite: a rerun of the demo replaces its own earlier export of this version.
    cli.run(["export", "--model", model_path, "--out", export_dir, "--overwrite"])
    signatures = check_saved_model_loads(export_dir)
    return f"{export_dir} (loads in a fresh process; signatures: {signatures or 'none'})"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m apps.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 epochs, S = 100")
    parser.add_argument("--output-dir", default="runs/digits_demo")
    parser.add_argument("--export-dir", default="saved_models/digits_vae/1")
    parser.add_argument("--num-samples", type=int, default=None,
                        help="importance samples for the test log-likelihood (default 1000; quick: 100)")
    args = parser.parse_args(argv)
    num_samples = args.num_samples or (100 if args.quick else 1000)
    if num_samples < 1:
        parser.error(f"--num-samples: expected a positive integer, received {num_samples}")

    start = time.perf_counter()
    trained = cli.run(["train", *MODEL, *FLOWS, *(QUICK if args.quick else FULL), "--eval-samples", "0",
                       "--output-dir", args.output_dir, "--overwrite"] + (["-q"] if args.quick else []))
    train_seconds = time.perf_counter() - start
    model_path = trained["model_path"]
    result = cli.run(["evaluate", "--model", model_path, "--split", "test", "--num-samples", str(num_samples)])
    exported = export_step(model_path, args.export_dir)

    model = trained["model"]
    rows = [
        ("model", f"VAE, latent {model.latent_dim}, prior RealNVP flow, posterior Gaussian + IAF, Bernoulli"),
        ("data", "scikit-learn digits 8x8, binarised; 1437 train / 360 test"),
        ("training", f"{len(trained['epochs'])} epochs, {train_seconds:.0f} s"),
        ("test ELBO", f"{result['elbo']:.3f} nats (KL {result['kl']:.3f})"),
        ("test log p(x)", f"{result['log_likelihood']:.3f} ± {result['log_likelihood_stderr']:.3f} nats "
                          f"(S = {num_samples})"),
        ("bits/dim", f"{result['bits_per_dim']:.4f}"),
        ("grids", f"{args.output_dir}/samples.png, {args.output_dir}/reconstructions.png"),
        ("metrics", f"{args.output_dir}/history.json, {os.path.relpath(result['out'])}"),
        ("SavedModel", exported),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n" + "=" * 72 + "\ntfvae demo summary\n" + "-" * 72)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print("=" * 72)
    return 0


if __name__ == "__main__":
    sys.exit(main())
