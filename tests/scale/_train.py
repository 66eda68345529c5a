"""Trains one small tfvae model in a fresh process; the scale tests run it.

    python tests/scale/_train.py '{"models": ["vae"], "strategy": "mirrored", ...}'

Settings (JSON, all optional but `out`):
    models: list of "vae" (RealNVP prior + IAF posterior), "iwae" (IWAE, K = 3,
        with its doubly-reparameterised gradient), "cvae" (ConditionalVAE,
        labels, MAF prior), "flow" (FlowModel, RealNVP), "glow" (FlowModel,
        Glow with ActNorm data init), "vqvae" (VQVAE, EMA codebook with
        dead-code restarts, then `fit_prior`), "vqvae2" (VQVAE2, two levels,
        then `fit_prior` of both PixelCNNs), "gumbel" (GumbelVAE), "wae"
        (WAE-MMD), "infovae" (VAE with the MMD term), "tcvae" (VAE with the
        β-TCVAE decomposition), "hvae" (HierarchicalVAE, ladder inference,
        IWAE with K = 2).
    strategy: "default", "mirrored" (with `cpus` logical CPUs),
        "multi_worker" (TF_CONFIG from the environment).
    zero_noise: replace ε by 0 in the posterior (a deterministic objective).
    epochs, batch, n (examples), lr, epsilon (Adam's), clipnorm, global_clipnorm, policy.
    backup_dir, backup_freq, die_at_step: BackupAndRestore every
        `backup_freq` steps; `os._exit(17)` at global step `die_at_step`.
    reference: also train on one device in the same process.
    out: path pattern with {model} and {strategy}: an .npz of the initial
        and final weights (non-chief workers: a temporary folder) and a
        JSON of history, evaluation, seed states beside it.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import tfvae  # noqa: E402,F401  (before keras / tensorflow)
from tfvae.training import distribute  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def zero_noise():
    """ε = 0 in q(z|x): z = μ(x), and Gumbel noise g = 0 in the Gumbel-softmax
    (y = softmax(l / τ)), so the objective is a deterministic function of
    the weights and the batch (one device and N replicas must agree)."""
    from tfvae.posteriors.gaussian import DiagonalGaussian
    from tfvae.quantizers import gumbel

    DiagonalGaussian.sample = staticmethod(
        lambda loc, scale, k, seed: tf.broadcast_to(loc[None], tf.concat([[k], tf.shape(loc)], 0)))

    def no_gumbel_noise(logits, temperature, seed, hard=False):
        logits = tf.cast(logits, tf.float32)
        y = tf.nn.softmax(logits / tf.cast(temperature, tf.float32), axis=-1)
        if not hard:
            return y
        return y + tf.stop_gradient(tf.one_hot(tf.argmax(logits, axis=-1), tf.shape(logits)[-1]) - y)

    gumbel.gumbel_softmax_sample = no_gumbel_noise


def data(kind, n):
    rng = np.random.default_rng(123)
    if kind in ("vae", "iwae", "cvae", "wae", "infovae", "tcvae", "hvae"):
        x = (rng.uniform(size=(n, 12)) < np.linspace(0.1, 0.9, 12)).astype(np.float32)
        y = rng.integers(0, 3, size=n).astype(np.int32)
        return (x, y) if kind == "cvae" else (x,)
    if kind in ("vqvae", "gumbel"):
        return ((rng.uniform(size=(n, 4, 4, 1)) < np.linspace(0.1, 0.9, 16).reshape(4, 4, 1)).astype(np.float32),)
    if kind == "vqvae2":
        return ((rng.uniform(size=(n, 8, 8, 1)) < np.linspace(0.1, 0.9, 64).reshape(8, 8, 1)).astype(np.float32),)
    if kind == "glow":
        return (rng.normal(size=(n, 4, 4, 2)).astype(np.float32) * 0.5 + 0.2,)
    a = rng.normal(size=(n, 1))
    return (np.concatenate([a, 0.5 * a ** 2 + 0.3 * rng.normal(size=(n, 1))], -1).astype(np.float32),)


def build(kind):
    if kind == "vae":
        return tfvae.VAE(input_shape=(12,), latent_dim=3, encoder=tfvae.nets.MLP([16]),
                         decoder=tfvae.nets.MLP([16]), likelihood="bernoulli",
                         prior=tfvae.priors.FlowPrior(tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,))),
                         posterior_flow=tfvae.flows.IAF(num_layers=1, hidden_units=(8,)), seed=7)
    if kind == "iwae":
        return tfvae.VAE(input_shape=(12,), latent_dim=3, encoder=tfvae.nets.MLP([16]),
                         decoder=tfvae.nets.MLP([16]), num_importance_samples=3, seed=7)
    if kind == "hvae":
        return tfvae.HierarchicalVAE(input_shape=(12,), latent_dims=(3, 2), encoder=tfvae.nets.MLP([16]),
                                     decoder=tfvae.nets.MLP([16]), hidden_units=(8,), inference="ladder",
                                     num_importance_samples=2, seed=7)
    if kind == "wae":
        return tfvae.WAE(input_shape=(12,), latent_dim=3, encoder=tfvae.nets.MLP([16]), decoder=tfvae.nets.MLP([16]),
                         mmd_weight=10.0, seed=7)
    if kind == "infovae":
        return tfvae.VAE(input_shape=(12,), latent_dim=3, encoder=tfvae.nets.MLP([16]),
                         decoder=tfvae.nets.MLP([16]), beta=0.5, mmd_weight=10.0, seed=7)
    if kind == "tcvae":
        return tfvae.VAE(input_shape=(12,), latent_dim=3, encoder=tfvae.nets.MLP([16]),
                         decoder=tfvae.nets.MLP([16]), kl_decomposition="tc", tc_weight=4.0, dataset_size=128, seed=7)
    if kind == "cvae":
        return tfvae.ConditionalVAE(input_shape=(12,), latent_dim=3, num_classes=3,
                                    encoder=tfvae.nets.MLP([16]), decoder=tfvae.nets.MLP([16]),
                                    prior=tfvae.priors.FlowPrior(tfvae.flows.MAF(num_layers=1, hidden_units=(8,))),
                                    seed=7)
    if kind == "vqvae":
        return tfvae.VQVAE(input_shape=(4, 4, 1), num_embeddings=6, embedding_dim=2,
                           encoder=tfvae.nets.ResidualConvEncoder((8,), num_residual_blocks=1),
                           decoder=tfvae.nets.ResidualConvDecoder((8,), num_residual_blocks=1),
                           prior=tfvae.nets.PixelCNN(6, (2, 2), filters=4, num_layers=1, first_kernel=3), seed=7)
    if kind == "vqvae2":
        return tfvae.VQVAE2(input_shape=(8, 8, 1), num_embeddings=6, embedding_dim=2, filters=8, num_residual_blocks=1,
                            top_prior=tfvae.nets.PixelCNN(6, (2, 2), filters=4, num_layers=1, first_kernel=3),
                            bottom_prior=tfvae.nets.PixelCNN(6, (4, 4), filters=4, num_layers=1, first_kernel=3,
                                                             condition_shape=(2, 2, 6)), seed=7)
    if kind == "gumbel":
        return tfvae.GumbelVAE(input_shape=(4, 4, 1), num_latents=3, num_categories=4, encoder=tfvae.nets.MLP([16]),
                               decoder=tfvae.nets.MLP([16]), seed=7)
    if kind == "glow":
        return tfvae.FlowModel(tfvae.flows.Glow(levels=1, steps=1, hidden_channels=8), input_shape=(4, 4, 2), seed=7)
    return tfvae.FlowModel(tfvae.flows.RealNVP(num_layers=2, hidden_units=(16,)), input_shape=(2,), seed=7)


class DieAt(keras.callbacks.Callback):
    """Simulates a crash (no clean-up, like SIGKILL) at a global step."""

    def __init__(self, step):
        super().__init__()
        self.step, self.seen = step, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.step:
            sys.stdout.flush()
            os._exit(17)


def train(cfg, strategy, kind):
    """Builds, fits and evaluates one model; returns (model, record)."""
    keras.utils.set_random_seed(cfg.get("seed", 0))
    arrays = data(kind, cfg.get("n", 96))
    with strategy.scope():
        model = build(kind)
        opt_kwargs = {k: cfg[k] for k in ("epsilon", "clipnorm", "global_clipnorm") if cfg.get(k)}
        model.compile(optimizer=keras.optimizers.Adam(cfg.get("lr", 1e-2), **opt_kwargs), jit_compile=False)
    initial = [np.asarray(w) for w in model.get_weights()]
    ds = tf.data.Dataset.from_tensor_slices(arrays if len(arrays) > 1 else arrays[0]).batch(cfg.get("batch", 16))
    callbacks = []
    if cfg.get("backup_dir"):
        backup = tfvae.training.BackupAndRestore(cfg["backup_dir"], save_freq=cfg.get("backup_freq", 2),
                                                 delete_checkpoint=False)
        callbacks.append(backup)
    if cfg.get("die_at_step"):
        callbacks.append(DieAt(cfg["die_at_step"]))
    history = model.fit(ds, epochs=cfg.get("epochs", 2), verbose=0, callbacks=callbacks)
    history = dict(history.history)
    if kind in ("vqvae", "vqvae2"):  # and its code priors, by their own trainer
        prior = model.fit_prior(ds, epochs=cfg.get("epochs", 2), batch_size=cfg.get("batch", 16), verbose=0)
        history["prior_loss"] = prior.history["loss"]
    seed_states = {v.path: [int(i) for i in np.asarray(v)] for v in model.variables
                   if v.path.endswith("seed_generator_state")}
    evaluated = model.evaluate(ds, verbose=0, return_dict=True)
    record = {"seed_states": seed_states, "history": {k: [float(v) for v in vs] for k, vs in history.items()},
              "evaluate": {k: float(v) for k, v in evaluated.items()},
              "replicas": strategy.num_replicas_in_sync,
              "resumed_from": backup.resumed_from if cfg.get("backup_dir") else None,
              "weights": [np.asarray(w) for w in model.get_weights()], "initial": initial}
    return model, record


def save(record, path):
    np.savez(path, **{f"w{i}": w for i, w in enumerate(record["weights"])},
             **{f"init{i}": w for i, w in enumerate(record["initial"])})
    with open(path + ".json", "w") as f:
        json.dump({k: v for k, v in record.items() if k not in ("weights", "initial")}, f)


def load(path):
    arrays = np.load(path)
    with open(path + ".json") as f:
        record = json.load(f)
    n = len([k for k in arrays if k.startswith("w")])
    record["weights"] = [arrays[f"w{i}"] for i in range(n)]
    record["initial"] = [arrays[f"init{i}"] for i in range(n)]
    return record


def main(cfg):
    """Runs every model in `cfg["models"]` under `cfg["strategy"]` (and, with
    `reference`, also on one device in the same process)."""
    if cfg.get("zero_noise"):
        zero_noise()
    strategies = {"default": tf.distribute.get_strategy()}
    strategies[cfg.get("strategy", "default")] = STRATEGY
    for kind in cfg.get("models", ["flow"]):
        runs = [cfg.get("strategy", "default")] + (["default"] if cfg.get("reference") else [])
        for name in dict.fromkeys(runs):
            _, record = train(cfg, strategies[name], kind)
            out = cfg["out"].format(model=kind, strategy=name)
            if not distribute.is_chief():
                out = os.path.join(distribute.write_dir(os.path.dirname(out)), os.path.basename(out))
            save(record, out)
            print("DONE", out, flush=True)


if __name__ == "__main__":
    CFG = json.loads(sys.argv[1])
    if CFG.get("cpus", 1) > 1:
        distribute.set_logical_cpus(CFG["cpus"])
    STRATEGY = distribute.make_strategy(CFG.get("strategy", "default"))
    distribute.set_precision(CFG.get("policy", "none"))
    main(CFG)
