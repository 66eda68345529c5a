"""A two-layer ladder VAE against a one-layer VAE on the scikit-learn digits (offline).

    python -m apps.hierarchical_demo            # ~2 minutes on 2 CPU cores
    python -m apps.hierarchical_demo --quick    # 2 epochs, a smoke run

Same encoder and decoder (MLP 256-128 / 128-256, Bernoulli likelihood on the
digits thresholded at ½, Adam 1e-3, batch 64): a `tfvae.VAE` with latent 8
against a `tfvae.HierarchicalVAE` with latents (8, 4), ladder inference and
a per-layer KL warm-up (`LayerKLWarmup`, the top layer warmed twice as
long). Prints each model's test log p(x) (importance-sampled, S samples),
ELBO, KL per layer and active units per layer, and writes
`<out>/samples.png`: row 1 the VAE's samples, row 2 the ladder VAE's.
"""

import argparse
import os

import tfvae  # first: quiets TensorFlow's start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

from apps.wae_demo import binary_digits  # noqa: E402


def run(epochs=60, num_samples=1000, seed=0, out="runs/hierarchical_demo"):
    train, test = binary_digits("train"), binary_digits("test")
    nets = lambda: dict(input_shape=(8, 8, 1), encoder=tfvae.nets.MLP([256, 128]),  # noqa: E731
                        decoder=tfvae.nets.MLP([128, 256]), seed=seed)
    warm = max(1, epochs // 6)
    models = {
        "vae": (lambda: tfvae.VAE(latent_dim=8, **nets()), [tfvae.callbacks.KLWarmup(epochs=warm)]),
        "ladder": (lambda: tfvae.HierarchicalVAE(latent_dims=(8, 4), inference="ladder", hidden_units=(64,),
                                                 **nets()),
                   [tfvae.callbacks.LayerKLWarmup(epochs=(warm, 2 * warm))]),
    }
    print(f"digits: {len(train)} train / {len(test)} test, {epochs} epochs, S = {num_samples}")
    print(f"{'model':<8}{'log p(x)':>17}{'ELBO':>9}  {'KL per layer':<14}{'AU per layer'}")
    rows, results = [], {}
    for name, (make, callbacks) in models.items():
        keras.utils.set_random_seed(seed)
        model = make()
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(train, batch_size=64, epochs=epochs, verbose=0, callbacks=callbacks)
        ll = tfvae.evaluation.log_likelihood(model, test, num_samples=num_samples, seed=1)
        m = model.evaluate(test, batch_size=len(test), return_dict=True, verbose=0)
        if name == "vae":
            kls, units = [m["kl"]], [tfvae.evaluation.elbo_surgery(model, test)["active_units"]]
        else:
            kls, units = [m["kl_z1"], m["kl_z2"]], model.active_units(test)
        results[name] = dict(log_likelihood=ll["log_likelihood"], elbo=m["elbo"], kl=kls, active_units=units)
        print(f"{name:<8}{ll['log_likelihood']:>10.2f} ± {ll['stderr']:<4.2f}{m['elbo']:>9.2f}  "
              f"{' '.join(f'{v:.2f}' for v in kls):<14}{' '.join(map(str, units))}")
        rows.append(model.sample(10, seed=seed).numpy())
    path = tfvae.training.save_image_grid(np.concatenate(rows), os.path.join(out, "samples.png"), nrow=10, scale=6)
    print(f"wrote {path} (row 1: VAE, row 2: ladder VAE)")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="2 epochs, S = 50: a smoke run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/hierarchical_demo")
    args = parser.parse_args(argv)
    run(2 if args.quick else args.epochs, 50 if args.quick else args.num_samples, args.seed, args.out)


if __name__ == "__main__":
    main()
