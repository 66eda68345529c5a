"""The `tfvae` argument parser: subcommands and flags that mirror `tfvae.VAE`.

Argument types reject bad values at parse time, so a bad flag is an argparse
error (usage + message, exit code 2), never a traceback.
"""

import argparse

import tfvae
from apps import _build
from apps import report as _report


def _number(kind, low, strict, label):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {label}, received {text!r}") from None
        if value < low or (strict and value == low) or value != value:
            raise argparse.ArgumentTypeError(f"expected {label}, received {text!r}")
        if value == float("inf"):  # beta, lr, clip norms: the maths needs a finite value
            raise argparse.ArgumentTypeError(f"expected {label} that is finite, received {text!r}")
        return value
    parse.__name__ = label  # argparse names the type in its messages
    return parse


positive_int = _number(int, 0, True, "a positive integer")
nonnegative_int = _number(int, 0, False, "a non-negative integer")
positive_float = _number(float, 0.0, True, "a positive number")
nonnegative_float = _number(float, 0.0, False, "a non-negative number")


def _add_data_flags(p, defaults_from_model=False):
    def from_model(fallback):
        return f" (default: the run's config.json, else {fallback})" if defaults_from_model else ""
    g = p.add_argument_group("data")
    g.add_argument("--data", default=None if defaults_from_model else "digits", choices=tfvae.data.names(),
                   help="dataset name" + (from_model("digits") or " (default: %(default)s)"))
    g.add_argument("--data-dir", default=None,
                   help="TensorFlow Datasets folder, or for mnist/fashion_mnist a folder of the original IDX files")
    g.add_argument("--download", action="store_true", help="let TFDS download the dataset (network)")
    g.add_argument("--binarize", action=argparse.BooleanOptionalAction, default=None,
                   help="Bernoulli-sample pixels to {0, 1} (default: on for the bernoulli likelihood)")
    g.add_argument("--dequantize", action=argparse.BooleanOptionalAction, default=None,
                   help="add uniform noise to the levels (default: on for the gaussian likelihood)")
    g.add_argument("--batch-size", type=positive_int, default=None if defaults_from_model else 128,
                   help="examples per batch" + (from_model(256) or " (default: %(default)s)"))
    g.add_argument("--seed", type=nonnegative_int, default=0, help="seed of data noise, weights, samples")


def _add_model_flags(p):
    g = p.add_argument_group("model (mirrors tfvae.VAE)")
    g.add_argument("--latent-dim", type=positive_int, default=32)
    g.add_argument("--net", choices=_build.NETS, default="mlp", help="encoder/decoder backbone")
    g.add_argument("--hidden-units", type=positive_int, nargs="+", default=[512, 256],
                   help="encoder widths; the decoder uses them reversed unless --decoder-units "
                        "(conv: the encoder's dense width is the first)")
    g.add_argument("--decoder-units", type=positive_int, nargs="+", default=None)
    g.add_argument("--conv-filters", type=positive_int, nargs="+", default=[32, 64],
                   help="conv encoder filters (decoder reversed), --net conv only")
    g.add_argument("--likelihood", choices=sorted(_build.LIKELIHOODS), default="bernoulli")
    g.add_argument("--num-bins", type=positive_int, default=None,
                   help="intensity levels for categorical/discretized_logistic "
                        "(default: the dataset's, tfvae.data.info(name).num_bins)")
    g.add_argument("--prior", choices=list(_build.PRIORS), default="normal")
    g.add_argument("--prior-layers", type=positive_int, default=4, help="layers of a flow prior")
    g.add_argument("--prior-components", type=positive_int, default=10, help="mixture components (mixture, mog) or pseudo-inputs (vamp)")
    g.add_argument("--posterior-flow", choices=list(_build.POSTERIOR_FLOWS), default="none")
    g.add_argument("--flow-layers", type=positive_int, default=2, help="layers of the posterior flow")
    g.add_argument("--flow-hidden-units", type=positive_int, nargs="+", default=None,
                   help="hidden widths of the flows' conditioners (default: each flow's own)")
    g.add_argument("--beta", type=nonnegative_float, default=1.0)
    g.add_argument("--free-bits", type=nonnegative_float, default=0.0, help="nats per latent dimension")
    g.add_argument("--num-importance-samples", type=positive_int, default=1, help="K > 1 trains the IWAE bound")
    g.add_argument("--kl-warmup", type=nonnegative_int, default=0, metavar="EPOCHS",
                   help="anneal beta from 0 over this many epochs (0: off)")


def _add_training_flags(p):
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=positive_int, default=10)
    g.add_argument("--lr", type=positive_float, default=1e-3, help="Adam learning rate")
    g.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=None,
                   help="XLA-compile the train step (default: Keras' 'auto', off on CPU)")
    g.add_argument("--steps-per-execution", type=positive_int, default=1)
    g.add_argument("--validation-split", default="test",
                   help="split evaluated after each epoch, or 'none' (default: %(default)s)")
    g.add_argument("--eval-samples", type=nonnegative_int, default=100,
                   help="importance samples for the final test log-likelihood (0: skip)")
    g.add_argument("--output-dir", default=None, help="run folder (default: runs/<data>)")
    g.add_argument("--overwrite", action="store_true", help="replace a model already in --output-dir")
    g.add_argument("-q", "--quiet", action="count", default=0,
                   help="one line per epoch; twice: silent")
    g.add_argument("--clipnorm", type=positive_float, default=None,
                   help="clip each gradient to this norm (of the summed gradient under a strategy)")
    g.add_argument("--global-clipnorm", type=positive_float, default=None,
                   help="clip the global norm of all gradients to this value")
    g.add_argument("--nan-guard", action=argparse.BooleanOptionalAction, default=True,
                   help="stop at the first non-finite loss and restore the last good epoch's weights "
                        "(default: on)")

    g = p.add_argument_group("scale (docs/gpu.md)")
    g.add_argument("--strategy", choices=list(tfvae.training.distribute.STRATEGIES), default="default",
                   help="default: one device; mirrored: all local GPUs; multi_worker: the hosts in "
                        "TF_CONFIG. --batch-size is the global batch (default: %(default)s)")
    g.add_argument("--mixed-precision", choices=list(tfvae.training.distribute.PRECISIONS), default="none",
                   help="compute dtype policy; flows and log-densities stay float32 (default: %(default)s)")
    g.add_argument("--backup-dir", default=None,
                   help="back up training state here and resume from it after a crash (same command)")
    g.add_argument("--backup-freq", type=positive_int, default=None, metavar="STEPS",
                   help="back up every STEPS batches (default: every epoch)")
    g.add_argument("--checkpoint-dir", default=None,
                   help="keep a weights checkpoint per epoch here (ckpt-EPOCH.weights.h5)")
    g.add_argument("--tensorboard-dir", default=None,
                   help="write per-epoch ELBO/KL/reconstruction scalars and sample/reconstruction grids")


class _Parser(argparse.ArgumentParser):
    """Reports a bad flag in one line (argparse prints the whole usage
    block), naming the flag and where the full list is."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser():
    parser = _Parser(
        prog="tfvae", description="Train, evaluate, sample from and export tfvae VAEs.")
    parser.add_argument("--version", action="version", version=f"tfvae {tfvae.__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error instead of its one-line message")
    sub = parser.add_subparsers(dest="command", metavar="{train,evaluate,sample,export}", required=True)

    p = sub.add_parser("train", help="train a VAE; writes model.keras, history.json, PNG grids",
                       description="Train a VAE and write model.keras, config.json, history.json, "
                                   "samples.png and reconstructions.png to --output-dir.")
    _add_data_flags(p)
    _add_model_flags(p)
    _add_training_flags(p)

    p = sub.add_parser("evaluate", help="test ELBO, KL and importance-sampled log-likelihood",
                       description="Evaluate a saved model: ELBO, KL, reconstruction, and the "
                                   "importance-sampled log-likelihood (nats per example, bits/dim).")
    p.add_argument("--model", required=True, help="path to model.keras")
    _add_data_flags(p, defaults_from_model=True)
    p.add_argument("--split", default="test")
    p.add_argument("--num-samples", type=positive_int, default=1000, help="importance samples S")
    p.add_argument("--out", default=None, help="JSON file (default: eval_<split>.json beside the model)")
    p.add_argument("-q", "--quiet", action="count", default=0)
    _report.add_flags(p)

    p = sub.add_parser("sample", help="write a PNG grid of samples from the prior")
    p.add_argument("--model", required=True, help="path to model.keras")
    p.add_argument("-n", "--num-samples", type=positive_int, default=64)
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--out", default="samples.png")
    p.add_argument("--draw", action="store_true", help="draw x ~ p(x|z) instead of the mean E[x|z]")
    p.add_argument("--nrow", type=positive_int, default=None, help="images per row")
    p.add_argument("--scale", type=positive_int, default=None, help="pixel magnification")

    p = sub.add_parser("export", help="export a SavedModel for TF Serving")
    p.add_argument("--model", required=True, help="path to model.keras")
    p.add_argument("--out", required=True, help="saved_models/<name>/<version>")
    p.add_argument("--overwrite", action="store_true", help="replace an existing export of that version")
    p.add_argument("--max-num-samples", type=positive_int, default=None,
                   help="cap on the sample signatures' num_samples (default: 4096)")
    p.add_argument("--max-importance-samples", type=positive_int, default=None,
                   help="cap on the log_likelihood signatures' num_samples S (default: 10000)")
    for p in sub.choices.values():  # also after the command; SUPPRESS keeps a --debug given before it
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the traceback of an error instead of its one-line message")
    return parser
