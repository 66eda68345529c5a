"""Variational inference on the banana, a 2-D density known up to a constant.

    python -m apps.vi_banana                 # ~1-2 minutes on 2 CPU cores
    python -m apps.vi_banana --quick         # a few seconds of training per family

Target: p̃(z) = N(z₁; 0, 1) N(z₂ − z₁²; 0, 0.5²), whose log Z = 0 exactly
(the shear (z₁, z₂) ↦ (z₁, z₂ − z₁²) has unit Jacobian). Each family is
fitted by `tfvae.vi.fit` (reverse KL); the table gives the ELBO (≤ log Z)
and the importance-sampled log Z with their standard errors and the
effective sample size of the importance weights. Writes `vi_banana.png`:
the target density beside the fitted full-rank Gaussian and flow densities.
"""

import argparse
import os

import tfvae  # first: quiets TensorFlow's start-up logs

import numpy as np  # noqa: E402


def families(seed):
    return {
        "mean_field": "mean_field",
        "full_rank": "full_rank",
        "planar (8 layers)": tfvae.flows.Planar(num_layers=8, seed=seed),
        "IAF (2 layers)": tfvae.flows.IAF(num_layers=2, hidden_units=(32, 32), seed=seed),
        "RealNVP (4 layers)": tfvae.flows.RealNVP(num_layers=4, hidden_units=(32, 32), seed=seed),
    }


def run(steps, num_samples, seed):
    """Fits every family; returns `{name: (q, elbo, log_z)}`."""
    target, log_z = tfvae.vi.targets.banana(curvature=1.0, scale1=1.0, scale2=0.5)
    results = {}
    for name, family in families(seed).items():
        q = tfvae.vi.fit(target, dim=2, family=family, steps=steps, seed=seed, verbose=0)
        results[name] = (q, q.elbo(num_samples, seed=seed + 1), q.log_normalizer(num_samples, seed=seed + 2))
    print(f"banana, true log Z = {log_z:.3f}; {steps} steps per family, {num_samples} samples per estimate")
    print(f"{'family':<20} {'ELBO':>16} {'IS log Z':>16} {'ESS':>8}")
    for name, (_, elbo, is_log_z) in results.items():
        print(f"{name:<20} {elbo.value:>8.3f} ± {elbo.std_error:<5.3f} "
              f"{is_log_z.value:>8.3f} ± {is_log_z.std_error:<5.3f} {is_log_z.ess:>8.0f}")
    return target, results


def plot(target, results, path, flow_name="IAF (2 layers)"):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g1, g2 = np.linspace(-3.5, 3.5, 141, dtype="float32"), np.linspace(-2.5, 7.5, 141, dtype="float32")
    grid = np.stack(np.meshgrid(g1, g2), -1).reshape(-1, 2)
    panels = [("target p", target(grid))]
    for name in ("full_rank", flow_name):
        q, elbo, _ = results[name]
        panels.append((f"q: {name}, ELBO {elbo.value:.3f}", q.log_prob(grid)))
    fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharey=True)
    for ax, (title, log_density) in zip(axes, panels):
        density = np.exp(np.asarray(log_density)).reshape(len(g2), len(g1))
        ax.contourf(g1, g2, density, levels=20, cmap="viridis")
        ax.set_title(title)
        ax.set_xlabel("z₁")
    axes[0].set_ylabel("z₂")
    fig.tight_layout()
    with tfvae.training.files.atomic_path(path) as tmp:  # crash-safe
        fig.savefig(tmp, dpi=80, format=os.path.splitext(path)[1][1:] or "png")
    plt.close(fig)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 steps per family, 2000 samples per estimate")
    parser.add_argument("--steps", type=int, default=None, help="steps per family (default 2000)")
    parser.add_argument("--out", default="vi_banana.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    steps = args.steps or (200 if args.quick else 2000)
    target, results = run(steps, 2000 if args.quick else 20000, args.seed)
    plot(target, results, args.out)
    return results


if __name__ == "__main__":
    main()
