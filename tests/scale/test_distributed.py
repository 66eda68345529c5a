"""Training under tf.distribute equals training on one device.

What is compared, and why it can be exact: with ε = 0 in q(z|x) (z = μ(x),
see `_train.zero_noise`) every model's objective is a deterministic
function of the weights and the batch, so N replicas that each see a share
of the global batch must produce the same update as one device seeing the
whole batch, up to float32 summation order. With noise the runs cannot
agree step by step (each replica draws its own ε), which
`test_mirrored_with_noise_trains_like_one_device` checks statistically.
The same initial weights come from `keras.utils.set_random_seed(0)` before
building (also compared). n = 105 examples in batches of 16 leaves a last
batch of 9, split 5 + 4 across two replicas: equal-share scaling
(`loss / num_replicas`) would get that step wrong; the per-replica weight
b_r / B does not. `global_clipnorm` is on, so clipping of the *summed*
gradient is exercised too.
"""

import glob
import json
import os

import numpy as np
import pytest

from tests.scale import _procs
from tests.scale import _train

WEIGHT_ATOL = 2e-4   # Glow's ActNorm starts at |w| ~ 1; summation order differs across replicas
# Adam's ε for every comparison. ActNorm's data init makes some gradients sums
# that cancel to ~0 (∂/∂loc of Σ log N(z) is Σ z = 0 at the init); Adam divides
# by √v, so with its default ε = 1e-7 the float32 summation-order noise of such
# a sum becomes a step of up to the learning rate (Glow: 0.008 apart after 2
# epochs, with the replicas' ActNorm init equal). ε = 1e-3 bounds that noise's
# step; Glow's runs then agree to 2e-7.
ADAM_EPSILON = 1e-3
METRIC_RTOL = 1e-5


def _compare(a, b, what):
    assert _procs.max_diff(a["initial"], b["initial"]) == 0.0, what
    moved = _procs.max_diff(a["weights"], a["initial"])
    assert moved > 1e-2, f"{what}: training did not move the weights"
    diff = _procs.max_diff(a["weights"], b["weights"])
    assert diff < WEIGHT_ATOL, f"{what}: weights differ by {diff} (moved {moved})"
    for key in a["history"]:
        np.testing.assert_allclose(a["history"][key], b["history"][key], rtol=METRIC_RTOL, atol=1e-5,
                                   err_msg=f"{what}: history {key}")
    for key in a["evaluate"]:
        np.testing.assert_allclose(a["evaluate"][key], b["evaluate"][key], rtol=METRIC_RTOL, atol=1e-5,
                                   err_msg=f"{what}: evaluate {key}")


def _mirrored(tmp_path, models):
    cfg = {"models": models, "strategy": "mirrored", "cpus": 2, "reference": True, "zero_noise": True,
           "n": 105, "batch": 16, "epochs": 2, "global_clipnorm": 0.5, "epsilon": ADAM_EPSILON,
           "out": str(tmp_path / "{model}-{strategy}.npz")}
    _procs.run(cfg, timeout=400)
    for kind in models:
        one = _train.load(str(tmp_path / f"{kind}-default.npz"))
        two = _train.load(str(tmp_path / f"{kind}-mirrored.npz"))
        assert two["replicas"] == 2 and one["replicas"] == 1
        _compare(one, two, f"{kind} mirrored")


@pytest.mark.slow
def test_mirrored_two_cpus_equals_one_device(tmp_path):
    """Every model -- VAE (RealNVP prior + IAF posterior), IWAE (DReG), ConditionalVAE
    (MAF prior), FlowModel (RealNVP; Glow with ActNorm data init) -- under
    MirroredStrategy over 2 logical CPUs vs 1 device. ~100 s per pair of
    models on the shared 2-core machine, hence slow; the default suite's
    two-worker test runs the same step code through the collective runtime."""
    _mirrored(tmp_path, ["vae", "iwae", "glow", "flow", "cvae"])


def test_mirrored_vqvae_and_gumbel_vae_equal_one_device(tmp_path):
    """The VQ-VAE (EMA codebook, dead-code restarts) and the Gumbel-softmax
    VAE (Gumbel noise off, as ε above) under MirroredStrategy over 2 logical
    CPUs vs 1 device. The codebook's EMA statistics are sums over the
    *global* batch and restarts draw from it with one seed on every replica,
    so the replicas' codebooks equal one device's; before, each replica
    updated from its own half and the copies were averaged. `fit_prior`
    then trains the PixelCNN over codes under the same strategy."""
    _mirrored(tmp_path, ["vqvae", "gumbel"])


@pytest.mark.slow
def test_mirrored_with_noise_trains_like_one_device(tmp_path):
    """Reparameterisation noise on: replicas draw independent ε (the replica
    id is folded into the seed), so only the trajectory is comparable. After
    8 epochs the training ELBO of the two runs agrees within 0.3 nats per
    example (epoch means over 96 examples; seed-to-seed spread ~0.1)."""
    cfg = {"models": ["vae"], "strategy": "mirrored", "cpus": 2, "reference": True, "n": 96, "epochs": 8,
           "out": str(tmp_path / "{model}-{strategy}.npz")}
    _procs.run(cfg, timeout=400)
    one, two = (_train.load(str(tmp_path / f"vae-{s}.npz")) for s in ("default", "mirrored"))
    assert one["history"]["elbo"][-1] > one["history"]["elbo"][0] + 0.5  # it learned
    assert abs(one["history"]["elbo"][-1] - two["history"]["elbo"][-1]) < 0.3


@pytest.mark.parametrize("models", [
    # "cvae" trains on (x, c) batches: Keras's own first-batch build fails on
    # a tuple under two workers; tfvae.models._build.ReplicaSafeBuild fixes it.
    ["vae", "iwae", "cvae"],
    pytest.param(["flow", "glow"], marks=pytest.mark.slow),
])
def test_two_workers_on_localhost_equal_one_device(tmp_path, models):
    """Two worker processes, MultiWorkerMirroredStrategy over the real TF
    collective runtime on 127.0.0.1 (TF_CONFIG), train a VAE with a RealNVP
    prior and an IAF posterior and an IWAE with its doubly-reparameterised
    gradient and a ConditionalVAE on (x, c) batches (slow: FlowModel, Glow);
    both workers end with identical weights, equal (within float32
    summation order) to one device trained in this process on the same
    global batches. Only the chief writes to `out`; worker 1 writes to a
    temporary folder (`tfvae.training.distribute.write_dir`)."""
    ports = _procs.free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    cfg = {"models": models, "strategy": "multi_worker", "zero_noise": True, "n": 64, "batch": 16, "epochs": 2,
           "epsilon": ADAM_EPSILON,
           "out": str(tmp_path / "{model}-{strategy}.npz")}
    procs = [_procs.start(cfg, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}))
             for i in range(2)]
    results = [_procs.finish(p, timeout=400) for p in procs]
    for i, (code, out) in enumerate(results):
        assert code == 0, f"worker {i} exit code {code}:\n{out[-4000:]}"
    # Worker 1's private folder, from its "DONE <path>" lines.
    worker1 = {os.path.basename(line.split()[1]).split("-")[0]: line.split()[1]
               for line in results[1][1].splitlines() if line.startswith("DONE ")}
    assert all(not path.startswith(str(tmp_path)) for path in worker1.values())
    assert sorted(glob.glob(str(tmp_path / "*.npz"))) == sorted(str(tmp_path / f"{m}-multi_worker.npz") for m in models)

    import tensorflow as tf
    from tfvae.posteriors.gaussian import DiagonalGaussian
    original = DiagonalGaussian.sample
    try:
        _train.zero_noise()
        for kind in models:
            _, reference = _train.train(dict(cfg, strategy="default"), tf.distribute.get_strategy(), kind)
            chief = _train.load(str(tmp_path / f"{kind}-multi_worker.npz"))
            other = _train.load(worker1[kind])
            assert chief["replicas"] == 2
            assert _procs.max_diff(chief["weights"], other["weights"]) == 0.0, f"{kind}: workers disagree"
            _compare(reference, chief, f"{kind} two workers")
            assert np.isfinite(chief["evaluate"]["loss"])
    finally:
        DiagonalGaussian.sample = original
