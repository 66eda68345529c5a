"""`tfvae train`'s scale flags: strategy, mixed precision, clipping, backup,
checkpoints, TensorBoard, NaN guard (the two-process runs are in tests/scale)."""

import json
import os

import pytest
import tensorflow as tf

import tfvae
from apps import cli

TINY = ["--data", "digits", "--latent-dim", "2", "--hidden-units", "16", "--batch-size", "512",
        "--epochs", "2", "--eval-samples", "0", "--validation-split", "none", "-qq"]


def test_train_with_scale_flags(tmp_path):
    try:
        result = cli.run(["train", *TINY, "--strategy", "mirrored", "--mixed-precision", "mixed_bfloat16",
                          "--global-clipnorm", "5", "--backup-dir", str(tmp_path / "backup"), "--backup-freq", "1",
                          "--checkpoint-dir", str(tmp_path / "ckpt"), "--tensorboard-dir", str(tmp_path / "tb"),
                          "--output-dir", str(tmp_path / "run")])
    finally:
        tfvae.training.set_precision("none")
    with open(tmp_path / "run" / "history.json") as f:
        record = json.load(f)
    training = record["config"]["training"]
    assert training["strategy"] == "mirrored" and training["replicas"] >= 1
    assert training["mixed_precision"] == "mixed_bfloat16" and training["global_clipnorm"] == 5.0
    assert record["nan_guard"] is None
    assert result["model"].encoder.compute_dtype == "bfloat16"
    assert os.path.isfile(tmp_path / "backup" / "training_metadata.json")
    assert tfvae.training.latest_checkpoint(str(tmp_path / "ckpt")).endswith("ckpt-0002.weights.h5")
    tags = set()
    for split in ("train", "images"):
        for path in tf.io.gfile.glob(str(tmp_path / "tb" / split / "events.out.tfevents.*")):
            for event in tf.compat.v1.train.summary_iterator(path):
                tags |= {(split, v.tag, event.step) for v in event.summary.value}
    for step in (0, 1):
        assert {("train", "epoch_elbo", step), ("train", "epoch_kl", step), ("train", "epoch_reconstruction", step),
                ("images", "samples", step), ("images", "reconstructions", step)} <= tags


@pytest.mark.parametrize("flags, message", [
    (["--jit-compile", "--strategy", "mirrored"], "keras#19005"),
    (["--clipnorm", "1", "--global-clipnorm", "1"], "exclude each other"),
])
def test_bad_scale_flags(tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as e:
        cli.run(["train", *TINY, *flags, "--output-dir", str(tmp_path)])
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_multi_worker_needs_tf_config(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(SystemExit) as e:
        cli.run(["train", *TINY, "--strategy", "multi_worker", "--output-dir", str(tmp_path)])
    assert e.value.code == 2 and "TF_CONFIG" in capsys.readouterr().err
