"""The path users take, timed against pythae (PyTorch) on the same machine, in one run.

    python benchmarks/speed_vs_pythae.py --data-dir /usr/share/datasets/fashion-mnist \\
        --pythae-python /path/to/python-with-pythae      # about 12 minutes on 2 cores
    python benchmarks/speed_vs_pythae.py --quick          # smoke run, random data, tfvae only

Setup: binarised 28x28 images, 55,000 for
training and 5,000 for validation (the first 60,000 training images of
Fashion-MNIST when `--data-dir` is given, else random binary images: the
speed of these layers does not depend on pixel values), pythae's default
MLP VAE (encoder 784-512 -> Gaussian(16), decoder 16-512-784, Bernoulli /
"bce"), batch 100, Adam 1e-3, `--epochs` epochs, both libraries validating
on the 5,000 images after every epoch, each with its progress output on
(sent to /dev/null).

- pythae: `TrainingPipeline` with its default nets and `BaseTrainerConfig`
  (what its README shows); VAE_IAF (2 MADE blocks of 3x128) and VAE_LinNF
  (8 planar layers).
- tfvae: `VAE(...).compile(Adam(1e-3))` then `fit(x, batch_size=100,
  epochs=..., validation_data=x_val)` with nothing else set ("default"), and
  the same with `jit_compile=True`, as it runs by default (XLA compiles the
  steps in the first epoch) and as a rerun with XLA's compile cache on
  (`TFVAE_XLA_CACHE` set to a folder that an untimed run of the same
  configuration filled beforehand, so the steps are loaded, not compiled);
  IAF with the same MADE sizes, 8 planar
  layers, and Sylvester-O with as many layers as the IAF (2), each with
  tfvae's default gradient: the path gradient for planar and Sylvester
  (closed-form Jacobians), pythae's plain reparameterised gradient for IAF;
  then IAF with the path gradient and planar with the plain one.

Every configuration runs in its own process (so neither library's thread
pools or allocator state touch the other's), `--repeats` times, the
configurations interleaved so that drift in machine speed hits all alike.
Reported per configuration: the median over repeats of the mean epoch time
over the whole `fit` (what a user waits for, tracing and compilation
included) and of the median epoch after the first (the steady state), with
the spread (min-max over repeats), and ratios to the rows they are judged
against. Then importance-sampled log-likelihood at S = `--num-samples` on
1,000 held-out images, from the default VAE trained above: pythae's
`get_nll` against tfvae's `log_likelihood` (first call, which traces, and
a second), with both estimates printed.

The machine's float32 matmul rate (2048x2048) is measured before and after
and printed, with the fraction of it the default tfvae step reaches
(6·Σ in·out FLOPs per training example).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _quiet import quiet as _quiet  # noqa: E402  (the benchmarks folder, for any loader)
TRAIN, VAL, TEST_IS = 55_000, 5_000, 1_000
LATENT, HIDDEN, BATCH = 16, 512, 100

#: name -> (library, variant); variant keys are read by the workers.
CONFIGS = {
    "pythae VAE": ("pythae", "vae"),
    "tfvae default": ("tfvae", "vae"),
    "tfvae jit_compile=True": ("tfvae", "vae-xla"),
    "tfvae jit_compile=True (rerun)": ("tfvae", "vae-xla"),
    "pythae VAE_IAF": ("pythae", "iaf"),
    "tfvae IAF": ("tfvae", "iaf"),
    "pythae VAE_LinNF planar": ("pythae", "planar"),
    "tfvae planar": ("tfvae", "planar"),
    "tfvae Sylvester-O": ("tfvae", "sylvester"),
    "tfvae IAF (path gradient)": ("tfvae", "iaf-path"),
    "tfvae planar (plain gradient)": ("tfvae", "planar-plain"),
}
#: rows run with XLA's compile cache on (TFVAE_XLA_CACHE), in a folder an
#: untimed run of the same configuration fills first; the others run without it.
WARM = {"tfvae jit_compile=True (rerun)"}
#: row -> the row it is judged against.
JUDGED = {
    "tfvae default": "pythae VAE",
    "tfvae jit_compile=True": "tfvae default",
    "tfvae jit_compile=True (rerun)": "tfvae default",
    "tfvae IAF": "pythae VAE_IAF",
    "tfvae planar": "pythae VAE_LinNF planar",
    "tfvae Sylvester-O": "tfvae IAF",
    "tfvae IAF (path gradient)": "pythae VAE_IAF",
    "tfvae planar (plain gradient)": "pythae VAE_LinNF planar",
}


def _summary(epoch_seconds):
    return {"epochs": epoch_seconds, "mean": float(np.mean(epoch_seconds)),
            "steady": float(np.median(epoch_seconds[1:] if len(epoch_seconds) > 1 else epoch_seconds))}


def tfvae_worker(variant, data, epochs, num_samples):
    import tfvae
    import keras

    flows = tfvae.flows
    options = {"vae": {}, "vae-xla": {},
               "iaf": dict(posterior_flow=flows.IAF(num_layers=2, hidden_units=(128, 128, 128))),
               "planar": dict(posterior_flow=flows.Planar(num_layers=8)),
               "sylvester": dict(posterior_flow=flows.Sylvester(num_layers=2, num_ortho_vectors=LATENT // 2))}
    # The other estimator than tfvae's default for each: the path gradient
    # for IAF (its Jacobian by batch_jacobian), pythae's plain one for planar.
    options["iaf-path"] = dict(options["iaf"], gradient_estimator="doubly_reparameterized")
    options["planar-plain"] = dict(options["planar"], gradient_estimator="reparameterization")
    keras.utils.set_random_seed(0)
    vae = tfvae.VAE(input_shape=(28, 28, 1), latent_dim=LATENT, encoder=tfvae.nets.MLP([HIDDEN]),
                    decoder=tfvae.nets.MLP([HIDDEN]), likelihood="bernoulli", **options[variant])
    vae.compile(optimizer=keras.optimizers.Adam(1e-3), **({"jit_compile": True} if variant == "vae-xla" else {}))
    marks = []
    timer = keras.callbacks.LambdaCallback(on_epoch_begin=lambda *_: marks.append(time.perf_counter()),
                                           on_epoch_end=lambda *_: marks.append(time.perf_counter()))
    start = time.perf_counter()
    with _quiet():
        vae.fit(data["train"], batch_size=BATCH, epochs=epochs, validation_data=data["val"], callbacks=[timer])
    total = time.perf_counter() - start
    # Epoch k spans from the end of epoch k-1 (the call's start for the first),
    # so fit's set-up and the first trace count in the first epoch.
    ends = marks[1::2]
    out = _summary(list(np.diff([start] + ends)))
    out["fit_seconds"] = total
    if num_samples and variant == "vae":
        x = data["test"]
        timings = []
        for _ in range(2):
            t = time.perf_counter()
            ll = vae.log_likelihood(x, num_samples).numpy()
            timings.append(time.perf_counter() - t)
        out["is"] = {"first": timings[0], "second": timings[1], "mean_log_px": float(ll.mean()),
                     "stderr": float(ll.std(ddof=1) / np.sqrt(len(ll)))}
    return out


def pythae_worker(variant, data, epochs, num_samples):
    import logging

    import torch
    import pythae.models as pm
    from pythae.pipelines import TrainingPipeline
    from pythae.trainers import BaseTrainerConfig
    from pythae.trainers.training_callbacks import TrainingCallback

    for name in [n for n in logging.root.manager.loggerDict if n.startswith("pythae")] + ["pythae"]:
        logging.getLogger(name).setLevel(logging.ERROR)
    torch.manual_seed(0)
    common = dict(input_dim=(1, 28, 28), latent_dim=LATENT, reconstruction_loss="bce")
    model = {"vae": lambda: pm.VAE(pm.VAEConfig(**common)),
             "iaf": lambda: pm.VAE_IAF(pm.VAE_IAF_Config(**common, n_made_blocks=2, n_hidden_in_made=3,
                                                         hidden_size=128)),
             "planar": lambda: pm.VAE_LinNF(pm.VAE_LinNF_Config(**common, flows=["Planar"] * 8))}[variant]()
    marks = []

    class Timer(TrainingCallback):
        def on_epoch_end(self, training_config, **kwargs):
            marks.append(time.perf_counter())

    nchw = {k: np.ascontiguousarray(v.transpose(0, 3, 1, 2)) for k, v in data.items()}
    with tempfile.TemporaryDirectory() as out_dir:
        config = BaseTrainerConfig(output_dir=out_dir, num_epochs=epochs, learning_rate=1e-3,
                                   per_device_train_batch_size=BATCH, per_device_eval_batch_size=BATCH,
                                   no_cuda=True)
        pipeline = TrainingPipeline(model=model, training_config=config)
        start = time.perf_counter()
        with _quiet():
            pipeline(train_data=nchw["train"], eval_data=nchw["val"], callbacks=[Timer()])
        total = time.perf_counter() - start
    out = _summary(list(np.diff([start] + marks)))
    out["fit_seconds"] = total
    if num_samples and variant == "vae":
        model.eval()
        x = torch.from_numpy(nchw["test"])
        t = time.perf_counter()
        with torch.no_grad(), _quiet():
            nll = model.get_nll(x, n_samples=num_samples, batch_size=BATCH)
        # `get_nll` returns the mean log p(x) (a negative number), despite its name.
        out["is"] = {"first": time.perf_counter() - t, "mean_log_px": float(nll)}
    return out


def load_data(data_dir, seed=0):
    """Binarised (stochastically, fixed seed) train / val / test-for-IS arrays, NHWC float32."""
    rng = np.random.default_rng(seed)
    if data_dir:
        sys.path.insert(0, os.path.dirname(HERE))
        import tfvae
        train = tfvae.data.load_numpy("fashion_mnist", "train", data_dir=data_dir)
        test = tfvae.data.load_numpy("fashion_mnist", "test", data_dir=data_dir)[:TEST_IS]
        grey = {"train": train[:TRAIN], "val": train[TRAIN:TRAIN + VAL], "test": test}
        return {k: (rng.random(v.shape) < v).astype("float32") for k, v in grey.items()}
    sizes = {"train": TRAIN, "val": VAL, "test": TEST_IS}
    return {k: (rng.random((n, 28, 28, 1)) < 0.3).astype("float32") for k, n in sizes.items()}


def matmul_rate(repeats=7, n=2048):
    """float32 GFLOP/s of an n x n matmul (median), in a TF worker."""
    import tensorflow as tf
    a = tf.random.normal((n, n))
    tf.linalg.matmul(a, a).numpy()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        tf.linalg.matmul(a, a).numpy()
        times.append(time.perf_counter() - t)
    return 2 * n ** 3 / statistics.median(times) / 1e9


def _worker_main(args):
    if args.worker == "matmul":
        sys.path.insert(0, os.path.dirname(HERE))
        import tfvae  # noqa: F401  (quiet TF logs)
        result = {"gflops": matmul_rate()}
    else:
        library, variant = args.worker.split(":")
        arrays = np.load(args.data)
        data = {k: arrays[k] for k in arrays.files}
        if library == "tfvae":
            sys.path.insert(0, os.path.dirname(HERE))
            result = tfvae_worker(variant, data, args.epochs, args.num_samples)
        else:
            result = pythae_worker(variant, data, args.epochs, args.num_samples)
    print("RESULT " + json.dumps(result), flush=True)


def _run(python, worker, args, data_path, xla_cache=None):
    cmd = [python, os.path.abspath(__file__), "--worker", worker, "--data", data_path,
           "--epochs", str(args.epochs), "--num-samples", str(args.num_samples)]
    env = dict(os.environ)
    env.pop("TFVAE_XLA_CACHE", None)
    if xla_cache:
        env["TFVAE_XLA_CACHE"] = xla_cache
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise SystemExit(f"worker {worker} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def _stat(values):
    return statistics.median(values), min(values), max(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="Fashion-MNIST IDX folder; random binary images if unset")
    parser.add_argument("--pythae-python", default=None,
                        help="a Python with pythae and torch (default: this one, if it has them)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--num-samples", type=int, default=500, help="S of the log-likelihood comparison (0: skip)")
    parser.add_argument("--only", default=None, help="comma-separated row names to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="1 epoch, 1 repeat, tfvae default rows only, S = 50")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker_main(args)
    if args.quick:
        args.epochs, args.repeats, args.num_samples = 1, 1, 50
        args.only = args.only or "tfvae default,tfvae jit_compile=True,tfvae jit_compile=True (rerun)"
    pythae_python = args.pythae_python
    if pythae_python is None:
        has = subprocess.run([sys.executable, "-c", "import pythae, torch"], capture_output=True).returncode == 0
        pythae_python = sys.executable if has else None
    names = [n for n in CONFIGS if args.only is None or n in args.only.split(",")]
    if pythae_python is None:
        skipped = [n for n in names if CONFIGS[n][0] == "pythae"]
        names = [n for n in names if CONFIGS[n][0] != "pythae"]
        if skipped:
            print("pythae is not importable here (pass --pythae-python): its rows are skipped.")
    with tempfile.TemporaryDirectory() as tmp:
        data_path = os.path.join(tmp, "data.npz")
        np.savez(data_path, **load_data(args.data_dir))
        peak = [_run(sys.executable, "matmul", args, data_path)["gflops"]]
        results = {n: [] for n in names}
        caches = {n: os.path.join(tmp, f"xla-cache-{i}") for i, n in enumerate(names) if n in WARM}
        for name, cache in caches.items():
            _run(sys.executable, "tfvae:" + CONFIGS[name][1], args, data_path, xla_cache=cache)
        for r in range(args.repeats):
            for name in names:
                library, variant = CONFIGS[name]
                python = pythae_python if library == "pythae" else sys.executable
                results[name].append(_run(python, f"{library}:{variant}", args, data_path,
                                          xla_cache=caches.get(name)))
                print(f"  repeat {r + 1}/{args.repeats} {name:<30} {results[name][-1]['mean']:.2f} s/epoch",
                      flush=True)
        peak.append(_run(sys.executable, "matmul", args, data_path)["gflops"])
    report(results, args, statistics.median(peak))


def report(results, args, peak):
    data = "Fashion-MNIST" if args.data_dir else "random binary images"
    print(f"\n{data}, {TRAIN} train / {VAL} validation, batch {BATCH}, {args.epochs} epochs, "
          f"{args.repeats} repeats (median [min-max]); float32 matmul {peak:.0f} GFLOP/s\n")
    print(f"{'':<30}{'s/epoch, whole fit':>26}{'steady epoch':>24}   ratio (whole / steady)")
    med = {n: (statistics.median(r["mean"] for r in rs), statistics.median(r["steady"] for r in rs))
           for n, rs in results.items()}
    for name, rs in results.items():
        m, lo, hi = _stat([r["mean"] for r in rs])
        s, slo, shi = _stat([r["steady"] for r in rs])
        ratio = ""
        if name in JUDGED and JUDGED[name] in med:
            base = med[JUDGED[name]]
            faster = name != "tfvae Sylvester-O"   # Sylvester is judged as a cost ratio, not a speed-up
            ratio = (f"{base[0] / m:.2f}x / {base[1] / s:.2f}x vs {JUDGED[name]}" if faster else
                     f"{m / base[0]:.2f}x / {s / base[1]:.2f}x the cost of {JUDGED[name]}")
        print(f"{name:<30}{m:>9.2f} [{lo:.2f}-{hi:.2f}]{'':>6}{s:>7.2f} [{slo:.2f}-{shi:.2f}]   {ratio}")
    if "tfvae default" in med:
        flops = 6 * (784 * HIDDEN + HIDDEN * 2 * LATENT + LATENT * HIDDEN + HIDDEN * 784)
        examples = (TRAIN + VAL / 3) / med["tfvae default"][1]   # validation ≈ a third of a training step
        print(f"\ntfvae default, steady epoch: {flops * examples / 1e9:.0f} GFLOP/s, "
              f"{flops * examples / 1e9 / peak:.0%} of the matmul rate")
    ll = {n: [r["is"] for r in rs if "is" in r] for n, rs in results.items()}
    ll = {n: v for n, v in ll.items() if v}
    if ll:
        print(f"\nimportance-sampled log-likelihood, S = {args.num_samples}, {TEST_IS} images "
              "(seconds: median [min-max]; log p(x) in nats per example)")
        for name, v in ll.items():
            first = _stat([r["first"] for r in v])
            line = f"  {name:<24} first call {first[0]:7.2f} [{first[1]:.2f}-{first[2]:.2f}]"
            if "second" in v[0]:
                second = _stat([r["second"] for r in v])
                line += f"   second {second[0]:6.2f} [{second[1]:.2f}-{second[2]:.2f}]"
            line += f"   log p(x) {statistics.median(r['mean_log_px'] for r in v):8.2f}"
            print(line)
        if "pythae VAE" in ll and "tfvae default" in ll:
            p = statistics.median(r["first"] for r in ll["pythae VAE"])
            t1 = statistics.median(r["first"] for r in ll["tfvae default"])
            t2 = statistics.median(r["second"] for r in ll["tfvae default"])
            print(f"  tfvae speed-up over get_nll: {p / t1:.2f}x (first call), {p / t2:.2f}x (second)")


if __name__ == "__main__":
    main()
