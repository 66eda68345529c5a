"""A training process killed mid-epoch resumes to the uninterrupted result."""

import numpy as np
import tensorflow as tf

from tests.scale import _procs
from tests.scale import _train


def test_killed_mid_epoch_resumes_to_the_same_weights(tmp_path):
    """VAE (RealNVP prior, IAF posterior, reparameterisation noise on), 2
    epochs of 6 batches, `tfvae.training.BackupAndRestore(save_freq=2)`.
    Run 1 dies abruptly (`os._exit`, no clean-up, like SIGKILL) after global
    step 9 -- epoch 2, batch 3 -- one step after the backup at step 8. Run 2,
    a new process with the same command, restores weights, Adam slots and
    the SeedGenerator state, skips the 2 batches of epoch 2 the backup had
    trained on, and finishes. The seed states must match too (the resumed
    epoch's short last call must not advance them), or the next epoch's
    noise -- and the evaluation's -- would differ. Its weights equal those of an uninterrupted
    run in this process (same seed, same data order) to 1e-6; without the
    skip (Keras' own BackupAndRestore restarts the epoch) they would not."""
    cfg = {"models": ["vae"], "n": 96, "batch": 16, "epochs": 2, "backup_dir": str(tmp_path / "backup"),
           "backup_freq": 2, "out": str(tmp_path / "{model}.npz")}
    out = _procs.run(dict(cfg, die_at_step=9), expect=17)
    assert "DONE" not in out
    assert (tmp_path / "backup" / "training_metadata.json").exists()
    _procs.run(cfg)
    resumed = _train.load(str(tmp_path / "vae.npz"))
    assert resumed["resumed_from"] == [1, 2]

    _, uninterrupted = _train.train(dict(cfg, backup_dir=None), tf.distribute.get_strategy(), "vae")
    assert _procs.max_diff(uninterrupted["initial"], resumed["initial"]) == 0.0
    assert _procs.max_diff(uninterrupted["weights"], uninterrupted["initial"]) > 1e-2
    assert _procs.max_diff(uninterrupted["weights"], resumed["weights"]) < 1e-6
    assert uninterrupted["seed_states"] == resumed["seed_states"], (uninterrupted["seed_states"], resumed["seed_states"])
    np.testing.assert_allclose(uninterrupted["evaluate"]["elbo"], resumed["evaluate"]["elbo"], rtol=1e-6)
    # `fit`'s History holds both epochs, the first restored from the backup
    # and the interrupted one averaged over all its batches.
    assert sorted(resumed["history"]) == sorted(uninterrupted["history"])
    for key, values in uninterrupted["history"].items():
        assert len(resumed["history"][key]) == 2, (key, resumed["history"][key])
        np.testing.assert_allclose(resumed["history"][key], values, rtol=1e-5, err_msg=key)
