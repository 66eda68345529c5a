"""`tfvae evaluate` beyond likelihood: one seeded JSON report.

    tfvae evaluate --model runs/fmnist/model.keras --quality fid kid precision_recall density_coverage \\
        --sampler prior mixture flow --quality-samples 10000 --featurizer domain \\
        --interpolation-png interp.png --traversal-png traverse.png --tensorboard-dir runs/fmnist/tb

computes sample quality (under a domain classifier trained once on the
data's labelled train split and cached beside the model, Keras's
InceptionV3, or a given `.keras` classifier) for samples from the prior
and from post-hoc samplers fitted to the aggregate posterior, writes
interpolation/traversal grids, and writes one JSON report (atomically)
holding the log-likelihood metrics too, plus TensorBoard scalars.
"""

import os
import time

import tensorflow as tf

import tfvae
from apps import _runs
from apps._runs import UsageError
from tfvae.evaluation import quality

SAMPLERS = ("prior", "mixture", "flow")


def add_flags(parser):
    """The report's flags on the `evaluate` subparser."""
    from apps._args import nonnegative_int, positive_int  # here: apps._args imports this module

    g = parser.add_argument_group("beyond likelihood (sample quality, post-hoc samplers, latent grids)")
    g.add_argument("--quality", nargs="+", choices=quality.METRICS, default=[],
                   help="sample-quality metrics of model samples against --split")
    g.add_argument("--sampler", nargs="+", choices=SAMPLERS, default=["prior"],
                   help="latents to decode: the prior, or a mixture / flow fitted to the train split's codes")
    g.add_argument("--quality-samples", type=positive_int, default=10000, help="samples per sampler")
    g.add_argument("--featurizer", default="domain",
                   help="'domain' (a classifier trained on the data's train labels, cached beside the model), "
                        "'inception', or a .keras classifier (trained there if missing)")
    g.add_argument("--featurizer-epochs", type=positive_int, default=5)
    g.add_argument("--kid-subset-size", type=positive_int, default=1000)
    g.add_argument("--mixture-components", type=positive_int, default=10)
    g.add_argument("--flow-epochs", type=positive_int, default=30)
    g.add_argument("--posthoc-draws", type=nonnegative_int, default=0,
                   help="fit the post-hoc samplers to K draws z ~ q(z|x) per train image (the aggregate "
                        "posterior) instead of the posterior locations (0, the default)")
    g.add_argument("--interpolation-png", default=None, help="decoded lines between pairs of test codes")
    g.add_argument("--traversal-png", default=None, help="one test code with each dimension swept over [-3, 3]")
    g.add_argument("--report", default=None, help="JSON report (default: report_<split>.json beside the model)")
    g.add_argument("--tensorboard-dir", default=None, help="write the report's scalars here")
    g.add_argument("--eval-strategy", choices=list(tfvae.training.distribute.STRATEGIES), default="default",
                   help="shard featurization over this strategy's replicas")


def wanted(args):
    return bool(args.quality or args.interpolation_png or args.traversal_png or args.report
                or args.tensorboard_dir)


def _featurizer(args, data):
    if args.featurizer == "inception":
        try:
            return tfvae.evaluation.InceptionFeatures(), "inception_v3"
        except tfvae.evaluation.FeaturizerNotAvailableError as e:
            raise UsageError(str(e)) from None
    if args.featurizer == "domain":
        path = os.path.join(os.path.dirname(os.path.abspath(args.model)), f"domain_classifier_{data}.keras")
    elif args.featurizer.endswith(".keras"):
        path = args.featurizer
    else:
        raise UsageError(f"--featurizer must be 'domain', 'inception' or a .keras file, not {args.featurizer!r}")
    if not os.path.isfile(path):
        if not tfvae.data.info(data).has_labels:
            raise UsageError(f"{data!r} has no labels to train a domain classifier on: pass --featurizer")
        x, y = tfvae.data.load_numpy(data, "train", with_labels=True, data_dir=args.data_dir,
                                     download=args.download)
        tfvae.evaluation.train_domain_classifier(x, y, path=path, epochs=args.featurizer_epochs, seed=args.seed)
    return tfvae.evaluation.domain_features(path), path


def _samplers(args, model, settings, batch_size):
    if getattr(model, "num_classes", None) is not None or getattr(model, "condition_dim", None):
        raise UsageError("sample quality from the command line is for unconditional models; use "
                         "tfvae.evaluation.classification_accuracy_score for conditional ones")
    out = {}
    train = None
    for name in args.sampler:
        if name == "prior":
            out[name] = model
            continue
        if train is None:
            train = _runs.load_split(settings, "train", batch_size, seed=args.seed, training=False,
                                     data_dir=args.data_dir, download=args.download)
        if name == "mixture":
            out[name] = tfvae.evaluation.fit_mixture(model, train, args.mixture_components, seed=args.seed,
                                                     draws=args.posthoc_draws)
        else:
            out[name] = tfvae.evaluation.fit_flow(model, train, epochs=args.flow_epochs, seed=args.seed,
                                                  draws=args.posthoc_draws)
    return out


def _grids(args, model, settings):
    written = {}
    if not (args.interpolation_png or args.traversal_png):
        return written
    ds = _runs.load_split(settings, args.split, 16, seed=args.seed, training=False, data_dir=args.data_dir,
                          download=args.download)
    x = _runs.first_batch(ds, 16)
    scale = _runs.grid_scale(model)
    if args.interpolation_png:
        half = len(x) // 2
        written["interpolation"] = str(tfvae.evaluation.save_interpolation_png(
            model, x[:half], x[half:2 * half], args.interpolation_png, steps=8, scale=scale))
    if args.traversal_png:
        dims = list(range(min(16, model.latent_dim)))
        written["traversal"] = str(tfvae.evaluation.save_traversal_png(
            model, x[:1], args.traversal_png, dims=dims, scale=scale))
    return written


def _tensorboard(log_dir, report):
    writer = tf.summary.create_file_writer(log_dir)
    with writer.as_default():
        for key, value in report["likelihood"].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                tfvae.training.tensorboard.write_scalar(f"evaluate/{key}", value, step=0)
        for sampler, values in report.get("samples", {}).items():
            for key, value in values.items():
                tfvae.training.tensorboard.write_scalar(f"evaluate/{sampler}/{key}", value, step=0)
    writer.flush()
    writer.close()


def run(args, model, settings, likelihood):
    """Computes what the flags ask for, writes the report. Returns it."""
    start = time.perf_counter()
    strategy = tfvae.training.make_strategy(args.eval_strategy)
    batch_size = args.batch_size or 256
    report = {"model": args.model, "data": settings, "split": args.split, "seed": args.seed,
              "replicas": strategy.num_replicas_in_sync, "likelihood": likelihood}
    if args.quality:
        featurizer, source = _featurizer(args, settings["data"])
        report["featurizer"] = source
        num_real = tfvae.data.info(settings["data"]).num_examples.get(args.split, args.quality_samples)
        subset = max(2, min(args.kid_subset_size, args.quality_samples // 2, num_real // 2))
        report["samples"] = {}
        for name, sampler in _samplers(args, model, settings, batch_size).items():
            # Real images as stored (grey levels): a Bernoulli decoder's mean is the expected binarised image.
            real = tfvae.data.load(settings["data"], split=args.split, batch_size=batch_size, binarize=False,
                                   dequantize=False, seed=args.seed, training=False, data_dir=args.data_dir,
                                   download=args.download)
            fake = tfvae.evaluation.model_samples(sampler, args.quality_samples, batch_size=batch_size,
                                                  seed=args.seed)
            report["samples"][name] = quality.sample_quality(
                featurizer, real, fake, metrics=args.quality, batch_size=batch_size, kid_subset_size=subset,
                seed=args.seed, strategy=strategy)
    report["grids"] = _grids(args, model, settings)
    report["seconds"] = time.perf_counter() - start
    out = args.report or os.path.join(os.path.dirname(os.path.abspath(args.model)), f"report_{args.split}.json")
    _runs.write_json(out, report)
    if args.tensorboard_dir:
        _tensorboard(args.tensorboard_dir, report)
    if args.quiet < 2:
        for name, values in report.get("samples", {}).items():
            shown = " ".join(f"{k}={v:.4g}" for k, v in values.items() if not k.startswith("num_"))
            print(f"  {name:<8} {shown} ({values['num_fake']} samples, {values['num_real']} real)")
        print(f"wrote {out}")
    return dict(report, out=out)
