"""tfvae against pythae (PyTorch) on the same VAE, in one run.

Model for both: encoder 784-512-512 -> Gaussian(32), decoder 32-512-512-784,
Bernoulli likelihood, Adam 1e-3, random binary 28x28 data. Reports
  - training throughput (examples/s, median of repeats after warm-up) at
    batch 128, each repeat one epoch of `--steps` batches:
      pythae's own trainer (`BaseTrainer.train_step`, what `TrainingPipeline`
      runs each epoch: its DataLoader, progress bar and NaN check),
      pythae's model step in a bare PyTorch loop (forward, backward, Adam; no
      trainer, the fastest pythae can be),
      tfvae's `fit` with and without XLA, with `steps_per_execution` 1
      (Keras's default) and 10 (Keras's knob for amortising its per-step
      work; tfvae's own default, "auto", is timed by speed_vs_pythae.py);
  - importance-sampled log-likelihood throughput at S samples per example:
    pythae's `VAE.get_nll` (loops over examples) against
    `tfvae.VAE.log_likelihood` (the whole batch at once), with both
    estimates printed so the accuracy can be compared (they estimate the
    same quantity for models trained the same way, not for these two
    independently initialised ones).

    pip install pythae torch          # optional; the script says if missing
    python benchmarks/vs_pythae.py    # about 2 minutes on 2 CPU cores
"""

import argparse
import statistics
import time

import tfvae  # first: quiets TensorFlow's start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

from _pythae_nets import pythae_nets  # noqa: E402,F401  (kept importable from here)


def _median_rate(fn, examples, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return examples / statistics.median(times)


def pythae_model(latent_dim):
    from pythae.models import VAE, VAEConfig

    config = VAEConfig(input_dim=(1, 28, 28), latent_dim=latent_dim, reconstruction_loss="bce")
    encoder, decoder = pythae_nets(latent_dim)
    return VAE(config, encoder=encoder, decoder=decoder)


def pythae_trainer(model, xt, batch):
    """One epoch of pythae's BaseTrainer, set up as `TrainingPipeline` does."""
    import os
    import tempfile

    import torch
    from pythae.data.datasets import BaseDataset
    from pythae.trainers import BaseTrainer, BaseTrainerConfig

    config = BaseTrainerConfig(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=batch, num_epochs=1,
                               learning_rate=1e-3, no_cuda=True)
    trainer = BaseTrainer(model=model, train_dataset=BaseDataset(xt, torch.zeros(len(xt))), training_config=config)
    trainer.prepare_training()
    devnull = open(os.devnull, "w")

    def epoch():
        # Its tqdm progress bar goes to stderr; keep the table readable.
        import contextlib
        with contextlib.redirect_stderr(devnull):
            trainer.train_step(1)
    return epoch


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=100, help="steps per timed repeat (amortises fit()'s per-call cost)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--nll-examples", type=int, default=16)
    args = parser.parse_args()
    try:
        import torch
        import pythae  # noqa: F401
    except ImportError:
        raise SystemExit("pythae and torch are needed for this comparison: pip install pythae torch")
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    n = args.batch * args.steps
    x = (rng.uniform(size=(n, 28, 28, 1)) < 0.3).astype("float32")

    rows = []
    model = pythae_model(32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())

    def pythae_epoch():
        for i in range(args.steps):
            out = model({"data": xt[i * args.batch:(i + 1) * args.batch]})
            opt.zero_grad()
            out.loss.backward()
            opt.step()

    rows.append(("pythae trainer", _median_rate(pythae_trainer(pythae_model(32), xt, args.batch), n, args.repeats)))
    rows.append(("pythae bare PyTorch loop", _median_rate(pythae_epoch, n, args.repeats)))
    for spe in (1, 10):
        for jit in (False, True):
            keras.utils.set_random_seed(0)
            vae = tfvae.VAE(input_shape=(28, 28, 1), latent_dim=32, encoder=tfvae.nets.MLP([512, 512]),
                            decoder=tfvae.nets.MLP([512, 512]), seed=0)
            vae.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit, steps_per_execution=spe)
            ds = tfvae.data.from_numpy(x, batch_size=args.batch, shuffle=False)
            rows.append((f"tfvae fit, XLA {'on ' if jit else 'off'}, spe {spe}",
                         _median_rate(lambda: vae.fit(ds, epochs=1, verbose=0), n, args.repeats)))
    trainer, bare = rows[0][1], rows[1][1]
    print(f"training, batch {args.batch} (examples/s, median of {args.repeats}):")
    print(f"  {'':<30}{'ex/s':>8}   {'/ trainer':>9}  {'/ bare loop':>11}")
    for name, rate in rows:
        print(f"  {name:<30}{rate:>8.0f}   {rate / trainer:8.2f}x  {rate / bare:10.2f}x")

    xs = x[:args.nll_examples]
    model.eval()
    with torch.no_grad():
        start = time.perf_counter()
        nll = model.get_nll(torch.from_numpy(xs.transpose(0, 3, 1, 2).copy()), n_samples=args.num_samples,
                            batch_size=min(100, args.num_samples))
        pythae_s = time.perf_counter() - start
    vae.log_likelihood(xs, args.num_samples)  # trace once
    start = time.perf_counter()
    ll = vae.log_likelihood(xs, args.num_samples).numpy()
    tfvae_s = time.perf_counter() - start
    print(f"\nimportance-sampled log-likelihood, S = {args.num_samples}, {len(xs)} examples:")
    print(f"  pythae get_nll        {len(xs) / pythae_s:8.1f} examples/s   (mean log p(x) = {float(nll):.1f} nats)")
    print(f"  tfvae log_likelihood  {len(xs) / tfvae_s:8.1f} examples/s   (mean log p(x) = {ll.mean():.1f} nats)")
    print(f"  ratio                 {pythae_s / tfvae_s:8.1f}x")


if __name__ == "__main__":
    main()
