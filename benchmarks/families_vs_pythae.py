"""WAE-MMD, InfoVAE-MMD and β-TCVAE against pythae's, with the plain VAE as reference, at one budget.

    python benchmarks/families_vs_pythae.py --data-dir /usr/share/datasets/fashion-mnist \\
        --pythae-python /path/to/python-with-pythae          # ~10 minutes on 2 cores (3 seeds)
    python benchmarks/families_vs_pythae.py --quick          # smoke run; tfvae rows only without pythae

Budget, the same for every row: `--train-examples` (default 55000) of the
Fashion-MNIST training images, binarised once per seed (x ~ Bernoulli(grey
level), numpy seed = the training seed), MLP encoder 784-512 -> latent 16,
decoder 16-512-784 (ReLU, pythae's default MLP sizes; `_pythae_nets.pythae_nets`
on the pythae side), Bernoulli likelihood ("bce"), batch 100, Adam 1e-3,
`--epochs` (default 5) epochs, no warm-up, the last epoch's weights. Each (library,
model) trains in its own process (pythae's in `--pythae-python`), which saves
the test images' encoder means (and log-variances), the decoder's logits at
those means and at fixed prior draws z ~ N(0, I) (the same draws for every
row), and, for the VAE family, importance-sampled log p(x); everything else
is scored here by the same code for both libraries.

Rows (λ, α, β are flags):
  vae      tfvae.VAE                              pythae VAE
  infovae  tfvae.VAE(beta=1 − α,                  pythae INFOVAE_MMD(alpha=α, lbd=λ)
             mmd_weight=α + λ − 1)
           Both minimise −log p(x|z) + (1 − α) KL + (α + λ − 1) MMD²(q(z), p(z)) per batch
           (Zhao et al.'s parametrisation, which pythae copies literally); default α = 0,
           λ = 1000, the paper's setting: a plain VAE plus 999 · MMD².
  tcvae    tfvae.VAE(kl_decomposition="tc",       pythae BetaTCVAE(alpha=1, beta=β, gamma=1,
             tc_weight=β, tc_estimator=             use_mss=True)
             "stratified", dataset_size=N)
           Both: −log p(x|z) + MI + β TC + dimension-wise KL, β = 6 by default, minibatch
           stratified sampling with N the training-set size. The strata differ: pythae uses
           Chen et al.'s weights as in their released code (one designated other member
           weighted (N − M + 1)/(N (M − 1)), the rest 1/(M − 1)), tfvae uniform weights
           (N − 1)/(N (M − 1)) on the other members, which have the same expectation. tfvae cannot
           set MI's and DWKL's weights apart from each other (both are its `beta`), so α = γ = 1.
  wae      tfvae.WAE(posterior="deterministic",   pythae WAE_MMD(kernel_choice, reg_weight=λ)
             kernel, mmd_weight=λ)
           Same deterministic encoder, same kernel (IMQ by default: Σ_s C_s / (C_s + ‖x − y‖²),
           C_s = 2 · 16 · s over s in (.1, .2, .5, 1, 2, 5, 10): pythae with kernel_bandwidth 1
           gives the same sum; with "rbf" pythae has one scale, tfvae sums the seven), same
           unbiased MMD²_u, λ = 100 by default. What differs: pythae's WAE_MMD has only a
           squared-error cost ‖x − sigmoid(logits)‖² (it ignores `reconstruction_loss`), tfvae's
           the Bernoulli −log p(x|z). So pythae gets a second row, `wae (bce)`: WAE_MMD with its
           cost replaced by pythae's own BCE sum (a four-line subclass), the same objective as
           tfvae's.

Metrics, on held-out test images (the first `--test-examples` of the test split):
  recon     mean Bernoulli log p(x | z = encoder mean), nats per example (± the
            standard error over test images for one seed), from the exported logits;
  MMD²      tfvae.objectives.mmd (IMQ, default scales, the unbiased U-statistic) between
            the encoder means of `--mmd-examples` test images and as many N(0, I) draws;
            lower = the codes fill the prior the samples come from;
  FID, KID  of `--fid-samples` prior samples (decoder means, i.e. sigmoid(logits) at
            z ~ N(0, I)) against all the grey test images, in the 128-d feature space of
            the domain classifier of `tfvae.evaluation` (trained once per run on the grey
            training images for `--classifier-epochs`; its test accuracy is printed);
  TC        total correlation of the aggregate posterior of `--tc-examples` test images,
            z_i ~ q(z|x_i) (one draw each, the same ε for every row), by
            `tfvae.objectives.kl_decomposition` with the whole set as the batch and N = M:
            every weight is then 1/N, so this is the minibatch-weighted estimator with its
            constant (D − 1) log N offset removed, i.e. the exact TC of the empirical mixture
            (1/N) Σ_n q(z|x_n) (a Monte Carlo estimate over the z_i). Gaussian encoders only
            (the WAE's codes are points);
  log p(x)  importance-sampled with S = `--num-samples` on the first `--ll-examples` test
            images: tfvae's `log_likelihood`, pythae's `get_nll` (one image per call, so
            per-example values); both use q(z|x) as proposal. The WAE has no likelihood bound.
  tfvae − pythae: per family, the paired difference on the same test images (± its standard
            error) for recon and log p(x).
With several `--seeds` every figure is the mean ± the standard deviation over seeds (each
seed redraws the binarisation, the weights and the prior draws).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _quiet import quiet as _quiet  # noqa: E402  (the benchmarks folder, for any loader)
LATENT, HIDDEN, BATCH = 16, 512, 100
FAMILIES = ("vae", "infovae", "tcvae", "wae")
#: (family, library, variant) rows in print order; variant "wae-bce" is pythae-only.
ROWS = [("vae", "tfvae", "vae"), ("vae", "pythae", "vae"),
        ("infovae", "tfvae", "infovae"), ("infovae", "pythae", "infovae"),
        ("tcvae", "tfvae", "tcvae"), ("tcvae", "pythae", "tcvae"),
        ("wae", "tfvae", "wae"), ("wae", "pythae", "wae"), ("wae", "pythae", "wae-bce")]
LABELS = {"vae": "vae", "infovae": "infovae", "tcvae": "tcvae", "wae": "wae", "wae-bce": "wae (bce)"}


# -- workers: train one model, export arrays ------------------------------------------------
def build_tfvae(variant, args, dataset_size):
    """The tfvae model of a row (see the module docstring for the parameter mapping)."""
    sys.path.insert(0, os.path.dirname(HERE))
    import tfvae

    nets = dict(input_shape=(28, 28, 1), latent_dim=LATENT, encoder=tfvae.nets.MLP([HIDDEN]),
                decoder=tfvae.nets.MLP([HIDDEN]), likelihood="bernoulli", seed=args.seed)
    if variant == "wae":
        return tfvae.WAE(kernel=args.kernel, mmd_weight=args.wae_lambda, posterior="deterministic", **nets)
    if variant == "infovae":   # Zhao et al.'s (α, λ): −log p(x|z) + (1 − α) KL + (α + λ − 1) MMD²
        return tfvae.VAE(beta=1.0 - args.info_alpha, mmd_weight=args.info_alpha + args.info_lambda - 1.0,
                         mmd_kernel=args.kernel, **nets)
    if variant == "tcvae":     # MI + β TC + DWKL: tfvae's `beta` (1) weighs MI and DWKL, `tc_weight` TC
        return tfvae.VAE(kl_decomposition="tc", tc_weight=args.tc_beta, dataset_size=dataset_size,
                         tc_estimator="stratified", **nets)
    return tfvae.VAE(**nets)


def torch_linear_init(model, seed):
    """Re-draw every `Dense` layer's weights as PyTorch's `nn.Linear` does by default.

    Kernel and bias ~ U(−1/√fan_in, 1/√fan_in) (`kaiming_uniform_(a=√5)` for the
    kernel, the same bound for the bias), where Keras draws the kernel
    Glorot-uniform, U(±√(6 / (fan_in + fan_out))), and zero biases. Only the
    initial values change; `--tfvae-init torch` isolates this difference.
    """
    import keras

    rng = np.random.default_rng(10_000 + seed)
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.Dense):
            bound = 1.0 / math.sqrt(layer.kernel.shape[0])
            layer.kernel.assign(rng.uniform(-bound, bound, layer.kernel.shape).astype("float32"))
            if layer.bias is not None:
                layer.bias.assign(rng.uniform(-bound, bound, layer.bias.shape).astype("float32"))


def tfvae_worker(variant, data, args):
    sys.path.insert(0, os.path.dirname(HERE))
    import tfvae
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(args.seed)
    train, test = data["train"], data["test"]
    model = build_tfvae(variant, args, len(train))
    if args.tfvae_init == "torch":
        torch_linear_init(model, args.seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    start = time.perf_counter()
    model.fit(tfvae.data.from_numpy(train, batch_size=BATCH, shuffle=True, seed=args.seed), epochs=args.epochs,
              verbose=0)
    out = {"train_seconds": time.perf_counter() - start}
    locs, log_vars = [], []
    for i in range(0, len(test), 1000):
        if variant == "wae":
            locs.append(model.encoder_params(tf.constant(test[i:i + 1000]))[0].numpy())
        else:
            loc, scale, _ = model.posterior_params(tf.constant(test[i:i + 1000]))
            locs.append(loc.numpy())
            log_vars.append(2.0 * np.log(scale.numpy()))
    out["loc"] = np.concatenate(locs)
    if log_vars:
        out["log_var"] = np.concatenate(log_vars)
    logits = lambda z: np.concatenate([model.decoder_params(tf.constant(z[i:i + 1000])).numpy().reshape(  # noqa
        -1, 784) for i in range(0, len(z), 1000)])
    out["recon_logits"] = logits(out["loc"])
    out["sample_logits"] = logits(data["prior_z"])
    if variant != "wae":
        xs = test[:args.ll_examples]
        out["log_px"] = tfvae.evaluation.log_likelihood(model, xs, num_samples=args.num_samples, seed=1)["per_example"]
    return out


def pythae_worker(variant, data, args):
    import logging

    import torch
    import torch.nn.functional as F
    import pythae.models as pm
    from pythae.data.datasets import BaseDataset
    from pythae.trainers import BaseTrainer, BaseTrainerConfig

    sys.path.insert(0, HERE)
    from _pythae_nets import pythae_nets

    class WAE_MMD_BCE(pm.WAE_MMD):
        """pythae's WAE_MMD with its squared-error cost replaced by the BCE sum."""

        def loss_function(self, recon_x, x, z, z_prior):
            _, mse, mmd_loss = super().loss_function(recon_x, x, z, z_prior)
            recon = F.binary_cross_entropy(recon_x.reshape(x.shape[0], -1), x.reshape(x.shape[0], -1),
                                           reduction="none").sum(dim=-1).mean(dim=0)
            return recon + self.model_config.reg_weight * mmd_loss, recon, mmd_loss

    for name in [n for n in logging.root.manager.loggerDict if n.startswith("pythae")] + ["pythae"]:
        logging.getLogger(name).setLevel(logging.ERROR)
    torch.manual_seed(args.seed)
    common = dict(input_dim=(1, 28, 28), latent_dim=LATENT, reconstruction_loss="bce")
    kernel = dict(kernel_choice=args.kernel, kernel_bandwidth=1.0)
    if variant == "vae":
        model_cls, config = pm.VAE, pm.VAEConfig(**common)
    elif variant == "infovae":
        model_cls, config = pm.INFOVAE_MMD, pm.INFOVAE_MMD_Config(**common, **kernel, alpha=args.info_alpha,
                                                                  lbd=args.info_lambda)
    elif variant == "tcvae":
        model_cls, config = pm.BetaTCVAE, pm.BetaTCVAEConfig(**common, alpha=1.0, beta=args.tc_beta, gamma=1.0,
                                                             use_mss=True)
    else:
        model_cls = pm.WAE_MMD if variant == "wae" else WAE_MMD_BCE
        config = pm.WAE_MMD_Config(input_dim=(1, 28, 28), latent_dim=LATENT, reg_weight=args.wae_lambda, **kernel)
    encoder, decoder = pythae_nets(LATENT, (HIDDEN,), (HIDDEN,))
    model = model_cls(config, encoder=encoder, decoder=decoder)
    to_torch = lambda x: torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))  # noqa: E731
    with tempfile.TemporaryDirectory() as out_dir:
        trainer_config = BaseTrainerConfig(output_dir=out_dir, per_device_train_batch_size=BATCH,
                                           per_device_eval_batch_size=BATCH, num_epochs=args.epochs,
                                           learning_rate=1e-3, no_cuda=True, seed=args.seed)
        start = time.perf_counter()
        with _quiet():
            trainer = BaseTrainer(model=model, train_dataset=BaseDataset(to_torch(data["train"]),
                                                                         torch.zeros(len(data["train"]))),
                                  training_config=trainer_config)
            trainer.train()
        out = {"train_seconds": time.perf_counter() - start}
    model.eval()
    logits_net = model.decoder.net[:-1]  # pythae_nets' decoder ends in a Sigmoid: the logits come before it
    test = to_torch(data["test"])
    with torch.no_grad():
        enc = model.encoder(test)
        out["loc"] = enc.embedding.numpy()
        if not variant.startswith("wae"):
            out["log_var"] = enc.log_covariance.numpy()
        out["recon_logits"] = logits_net(enc.embedding).numpy()
        out["sample_logits"] = logits_net(torch.from_numpy(data["prior_z"])).numpy()
        if not variant.startswith("wae"):
            torch.manual_seed(1)
            with _quiet():  # get_nll returns the mean log p(x) (a negative number), despite its name
                out["log_px"] = np.array([model.get_nll(test[i:i + 1], n_samples=args.num_samples,
                                                        batch_size=min(100, args.num_samples))
                                          for i in range(args.ll_examples)], np.float32)
    return out


def _worker_main(args):
    library, variant = args.worker.split(":")
    arrays = np.load(args.data)
    data = {k: arrays[k] for k in arrays.files}
    out = (tfvae_worker if library == "tfvae" else pythae_worker)(variant, data, args)
    seconds = out.pop("train_seconds")
    np.savez(args.out, **{k: np.asarray(v) for k, v in out.items()})
    print("RESULT " + json.dumps({"train_seconds": seconds}), flush=True)


def _run_worker(python, library, variant, args, data_path, out_path):
    cmd = [python, os.path.abspath(__file__), "--worker", f"{library}:{variant}", "--data", data_path,
           "--out", out_path]
    for flag in ("epochs", "seed", "num_samples", "ll_examples", "kernel", "wae_lambda", "info_alpha",
                 "info_lambda", "tc_beta", "tfvae_init"):
        cmd += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise SystemExit(f"worker {library}:{variant} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    arrays = np.load(out_path)
    result.update({k: arrays[k] for k in arrays.files})
    return result


# -- scoring, the same code for both libraries ----------------------------------------------
def bernoulli_log_prob(x, logits):
    """`(N, 784)` binary x, logits -> `(N,)` Σ_d log Bernoulli(x_d; sigmoid(l_d)), float64, exact."""
    x, logits = np.asarray(x, np.float64), np.asarray(logits, np.float64)
    return np.sum(x * logits - np.logaddexp(0.0, logits), axis=-1)


def total_correlation(loc, log_var, eps):
    """TC of the empirical aggregate posterior (1/N) Σ_n q(z|x_n) at one draw per n (see the docstring)."""
    import tensorflow as tf
    from tfvae.objectives.tc import kl_decomposition

    scale = np.exp(0.5 * log_var.astype(np.float64))
    z = loc + scale * eps
    log_pz = -0.5 * np.sum(z ** 2 + math.log(2 * math.pi), axis=-1)
    _, tc, _ = kl_decomposition(tf.constant(z, tf.float32), tf.constant(loc, tf.float32),
                                tf.constant(scale, tf.float32), tf.constant(log_pz, tf.float32),
                                dataset_size=len(z), estimator="stratified")
    return float(np.mean(tc.numpy()))


def score(result, ctx):
    """The row's figures from the worker's arrays; per-example arrays kept for paired differences."""
    import tfvae

    x_test = ctx["test"].reshape(len(ctx["test"]), -1)
    recon = bernoulli_log_prob(x_test, result["recon_logits"])
    n_mmd = ctx["mmd_draws"].shape[0]
    row = {"recon": recon, "train_seconds": result["train_seconds"],
           "mmd": float(tfvae.objectives.mmd(result["loc"][:n_mmd], ctx["mmd_draws"]))}
    samples = (1.0 / (1.0 + np.exp(-result["sample_logits"].astype(np.float64)))).astype(np.float32)
    fake = np.concatenate(list(tfvae.evaluation.extract_features(ctx["featurizer"], samples.reshape(-1, 28, 28, 1))))
    row["fid"] = tfvae.metrics.frechet_distance(ctx["real_features"], fake)
    row["kid"], row["kid_se"] = tfvae.metrics.kid(ctx["real_features"], fake, subset_size=ctx["kid_subset"],
                                                  seed=0)
    if "log_var" in result:
        n_tc = ctx["tc_eps"].shape[0]
        row["tc"] = total_correlation(result["loc"][:n_tc], result["log_var"][:n_tc], ctx["tc_eps"])
    if "log_px" in result:
        row["log_px"] = np.asarray(result["log_px"], np.float64)
    return row


# -- orchestration ---------------------------------------------------------------------------
def load_images(args):
    """Grey `(x_train, y_train, x_test, y_test)`: Fashion-MNIST, or random images under --quick without it."""
    if args.data_dir and os.path.isdir(args.data_dir):
        import tfvae
        x_train, y_train = tfvae.data.load_numpy("fashion_mnist", "train", with_labels=True, data_dir=args.data_dir)
        x_test, y_test = tfvae.data.load_numpy("fashion_mnist", "test", with_labels=True, data_dir=args.data_dir)
        return x_train, y_train, x_test, y_test, "Fashion-MNIST"
    if not args.quick:
        raise SystemExit(f"No Fashion-MNIST IDX files in --data-dir {args.data_dir!r} (only --quick runs without)")
    rng = np.random.default_rng(123)
    grey = lambda n: (rng.random((n, 28, 28, 1)) * 0.6).astype("float32")  # noqa: E731
    return grey(args.train_examples), rng.integers(0, 10, args.train_examples), grey(1000), \
        rng.integers(0, 10, 1000), "random grey images (no --data-dir)"


def seed_data(args, seed, x_train, x_test):
    """The arrays every worker of one seed reads, and the scoring draws; binarised with `seed`."""
    rng = np.random.default_rng(seed)
    binarize = lambda x: (rng.random(x.shape) < x).astype("float32")  # noqa: E731
    data = {"train": binarize(x_train[:args.train_examples]), "test": binarize(x_test[:args.test_examples]),
            "prior_z": rng.standard_normal((args.fid_samples, LATENT)).astype("float32")}
    draws = {"mmd_draws": rng.standard_normal((min(args.mmd_examples, args.test_examples), LATENT)).astype("float32"),
             "tc_eps": rng.standard_normal((min(args.tc_examples, args.test_examples), LATENT))}
    return data, draws


def pythae_interpreter(args):
    """The Python that runs pythae's workers, or None (its rows are then skipped)."""
    candidates = [args.pythae_python] if args.pythae_python else [sys.executable]
    for python in candidates:
        if subprocess.run([python, "-c", "import pythae, torch"], capture_output=True).returncode == 0:
            return python
    if args.pythae_python:
        raise SystemExit(f"--pythae-python {args.pythae_python} cannot import pythae and torch")
    return None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist", help="Fashion-MNIST IDX files")
    parser.add_argument("--pythae-python", default=None,
                        help="a Python with pythae and torch (default: this one, if it has them; else skipped)")
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default 0 1 2 (0 with --quick)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train-examples", type=int, default=55_000)
    parser.add_argument("--test-examples", type=int, default=10_000, help="test images for recon (and MMD, TC)")
    parser.add_argument("--mmd-examples", type=int, default=2000)
    parser.add_argument("--tc-examples", type=int, default=1000)
    parser.add_argument("--fid-samples", type=int, default=5000)
    parser.add_argument("--ll-examples", type=int, default=500, help="test images for importance-sampled log p(x)")
    parser.add_argument("--num-samples", type=int, default=100, help="importance samples S")
    parser.add_argument("--classifier-epochs", type=int, default=2)
    parser.add_argument("--kernel", choices=("imq", "rbf"), default="imq")
    parser.add_argument("--wae-lambda", type=float, default=100.0)
    parser.add_argument("--info-alpha", type=float, default=0.0)
    parser.add_argument("--info-lambda", type=float, default=1000.0)
    parser.add_argument("--tc-beta", type=float, default=6.0)
    parser.add_argument("--tfvae-init", choices=("keras", "torch"), default="keras",
                        help="tfvae's Dense weights: Keras's defaults, or re-drawn as PyTorch's nn.Linear")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 500 train / 200 test images, 1 epoch, small metric sets")
    parser.add_argument("--json", default=None, help="also write the summary here")
    for hidden in ("--worker", "--data", "--out"):
        parser.add_argument(hidden, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)  # the worker's
    args = parser.parse_args(argv)
    if args.seeds is None:
        args.seeds = [0] if args.quick else [0, 1, 2]
    if args.quick:
        args.epochs, args.train_examples, args.test_examples = 1, 500, 200
        args.mmd_examples = args.tc_examples = args.fid_samples = 200
        args.ll_examples, args.num_samples, args.classifier_epochs = 20, 10, 1
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return _worker_main(args)
    sys.path.insert(0, os.path.dirname(HERE))
    import tfvae

    pythae_python = pythae_interpreter(args)
    rows = [r for r in ROWS if r[0] in args.families]
    if pythae_python is None:
        skipped = [r for r in rows if r[1] == "pythae"]
        rows = [r for r in rows if r[1] != "pythae"]
    else:
        skipped = []
    x_train, y_train, x_test, y_test, source = load_images(args)
    start = time.perf_counter()
    n_clf = args.train_examples if args.quick else len(x_train)
    clf = tfvae.evaluation.train_domain_classifier(x_train[:n_clf], y_train[:n_clf], num_classes=10,
                                                   epochs=args.classifier_epochs, seed=0)
    featurizer = tfvae.evaluation.domain_features(clf)
    accuracy = tfvae.evaluation.classifier.accuracy(clf, x_test, y_test)
    real = np.concatenate(list(tfvae.evaluation.extract_features(featurizer, x_test)))
    print(f"domain classifier: {n_clf} grey training images, {args.classifier_epochs} epochs, test accuracy "
          f"{accuracy:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)
    ctx = {"featurizer": featurizer, "real_features": real,
           "kid_subset": min(1000, args.fid_samples // 2, len(real) // 2)}
    results = {}   # (family, library, variant) -> [row per seed]
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            data, draws = seed_data(args, seed, x_train, x_test)
            data_path = os.path.join(tmp, f"data{seed}.npz")
            np.savez(data_path, **data)
            ctx.update(draws, test=data["test"])
            worker_args = argparse.Namespace(**{**vars(args), "seed": seed})
            for key in rows:
                family, library, variant = key
                python = pythae_python if library == "pythae" else sys.executable
                result = _run_worker(python, library, variant, worker_args, data_path,
                                     os.path.join(tmp, f"{library}-{variant}-{seed}.npz"))
                row = score(result, ctx)
                results.setdefault(key, []).append(row)
                print(f"  seed {seed} {library:<6} {LABELS[variant]:<10} recon {row['recon'].mean():8.2f}  "
                      f"MMD² {row['mmd']:.4f}  FID {row['fid']:7.2f}  train {row['train_seconds']:.0f} s",
                      flush=True)
    summary = report(results, skipped, args, source, accuracy)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    return summary


def _fmt(values, per_seed_se=None, scale=1.0, digits=2):
    """One figure: a seed's value (± its own standard error if given), or mean ± sd over seeds."""
    values = [scale * v for v in values]
    if len(values) == 1:
        se = "" if per_seed_se is None else f" ± {scale * per_seed_se[0]:.{digits}f}"
        return f"{values[0]:.{digits}f}{se}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values, ddof=1):.{digits}f}"


def _se(values):
    return float(np.std(values, ddof=1) / np.sqrt(len(values)))


def report(results, skipped, args, source, accuracy):
    seeds = args.seeds
    print(f"\n{source}, binarised per seed; {args.train_examples} training images, {args.epochs} epochs, batch "
          f"{BATCH}, Adam 1e-3, MLP 784-{HIDDEN}-{LATENT} / {LATENT}-{HIDDEN}-784, Bernoulli; seeds {seeds}"
          f"{' (mean ± sd over seeds)' if len(seeds) > 1 else ''}")
    init = "Keras defaults (Glorot-uniform, zero bias)" if args.tfvae_init == "keras" else \
        "PyTorch's nn.Linear, U(±1/√fan_in)"
    print(f"tfvae init: {init}; kernel {args.kernel}; wae λ = {args.wae_lambda:g}; infovae α = {args.info_alpha:g}, "
          f"λ = {args.info_lambda:g}; tcvae β (TC weight) = {args.tc_beta:g}")
    print(f"recon: log p(x|z = encoder mean) on {args.test_examples} test images; MMD²: {args.mmd_examples} "
          f"encoder means vs N(0, I); FID/KID: {args.fid_samples} prior samples vs the test images (classifier "
          f"accuracy {accuracy:.3f}); TC: {args.tc_examples} test codes; log p(x): S = {args.num_samples} on "
          f"{args.ll_examples} test images\n")
    wide = len(seeds) > 1   # mean ± sd in every cell
    widths = (20, 18, 16, 18, 16, 18) if wide else (18, 14, 16, 16, 14, 18)
    names = ("recon (nats)", "MMD² x 100", "FID", "KID x 100", "TC", "log p(x)")
    header = f"{'model':<11}{'library':<8}" + "".join(f"{n:>{w}}" for n, w in zip(names, widths)) + f"{'train s':>9}"
    print(header)
    print("-" * len(header))
    summary = {"args": {k: v for k, v in vars(args).items() if k not in ("worker", "data", "out")},
               "classifier_accuracy": accuracy, "rows": [], "skipped": [f"{lib} {LABELS[v]}" for _, lib, v in skipped]}
    for (family, library, variant), runs in results.items():
        one = len(runs) == 1
        recon = [r["recon"].mean() for r in runs]
        cells = [_fmt(recon, [_se(r["recon"]) for r in runs] if one else None),
                 _fmt([r["mmd"] for r in runs], scale=100, digits=3),
                 _fmt([r["fid"] for r in runs]),
                 _fmt([r["kid"] for r in runs], [r["kid_se"] for r in runs] if one else None, scale=100, digits=3),
                 _fmt([r["tc"] for r in runs], digits=3) if "tc" in runs[0] else "—",
                 _fmt([r["log_px"].mean() for r in runs], [_se(r["log_px"]) for r in runs] if one else None)
                 if "log_px" in runs[0] else "— (no bound)" if family == "wae" else "—"]
        print(f"{LABELS[variant]:<11}{library:<8}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths))
              + f"{np.mean([r['train_seconds'] for r in runs]):>9.0f}")
        summary["rows"].append({
            "model": LABELS[variant], "library": library,
            **{k: [float(r[k].mean()) if isinstance(r[k], np.ndarray) else float(r[k]) for r in runs]
               for k in ("recon", "mmd", "fid", "kid", "kid_se", "tc", "log_px", "train_seconds") if k in runs[0]}})
    for _, library, variant in skipped:
        print(f"{LABELS[variant]:<11}{library:<8}  skipped: pythae is not importable here (pass --pythae-python)")
    pairs = [(f, ("wae-bce" if f == "wae" else f)) for f in args.families] + \
        ([("wae", "wae")] if "wae" in args.families else [])
    lines = []
    for family, pythae_variant in pairs:
        ours, theirs = results.get((family, "tfvae", family)), results.get((family, "pythae", pythae_variant))
        if not ours or not theirs:
            continue
        cells = []
        for key in ("recon", "log_px"):
            if key not in ours[0] or key not in theirs[0]:
                cells.append(f"{key.replace('_px', ' p(x)')} —")
                continue
            diffs = [a[key][:len(b[key])] - b[key] for a, b in zip(ours, theirs)]
            means = [d.mean() for d in diffs]
            figure = _fmt(means, [_se(d) for d in diffs] if len(diffs) == 1 else None)
            cells.append(f"{key.replace('_px', ' p(x)')} {'+' if np.mean(means) >= 0 else ''}{figure}")
        lines.append(f"  {family:<8} vs pythae {LABELS[pythae_variant]:<10} {cells[0]:<24} {cells[1]}")
    if lines:
        print("\ntfvae − pythae, paired on the same test images (nats; > 0: tfvae higher; ± "
              + ("the paired standard error)" if len(seeds) == 1 else "the sd over seeds)"))
        print("\n".join(lines))
    return summary


if __name__ == "__main__":
    main()
