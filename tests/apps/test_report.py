"""`tfvae evaluate` with the report flags: one seeded JSON report, grids, TensorBoard scalars."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from apps import cli

TINY = ["--data", "digits", "--latent-dim", "2", "--hidden-units", "16", "--batch-size", "512",
        "--epochs", "1", "--eval-samples", "4", "-qq"]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("run"))
    cli.run(["train", *TINY, "--output-dir", out])
    return os.path.join(out, "model.keras")


def _evaluate(model_path, tmp_path, name, *extra):
    return cli.run(["evaluate", "--model", model_path, "--num-samples", "3", "--out", str(tmp_path / "e.json"),
                    "--quality", "fid", "kid", "precision_recall", "density_coverage",
                    "--sampler", "prior", "mixture", "--quality-samples", "300", "--mixture-components", "3",
                    "--featurizer-epochs", "1", "--kid-subset-size", "100", "--report", str(tmp_path / name),
                    "-qq", *extra])


def test_report_holds_every_metric_and_reproduces(model_path, tmp_path):
    tb = tmp_path / "tb"
    result = _evaluate(model_path, tmp_path, "r1.json", "--posthoc-draws", "1", "--interpolation-png", str(tmp_path / "i.png"),
                       "--traversal-png", str(tmp_path / "t.png"), "--tensorboard-dir", str(tb))
    with open(tmp_path / "r1.json") as f:
        report = json.load(f)
    assert report["likelihood"]["log_likelihood"] == result["log_likelihood"]
    assert report["featurizer"].endswith("domain_classifier_digits.keras")
    assert os.path.isfile(report["featurizer"])  # trained once, cached beside the model
    for sampler in ("prior", "mixture"):
        values = report["samples"][sampler]
        assert values["num_fake"] == 300 and values["num_real"] == 360
        for key in ("fid", "kid", "kid_standard_error", "precision", "recall", "density", "coverage"):
            assert np.isfinite(values[key]), (sampler, key)
    assert os.path.isfile(tmp_path / "i.png") and os.path.isfile(tmp_path / "t.png")
    assert [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")] == []

    tags = set()
    for event_file in tf.io.gfile.glob(str(tb / "*")):
        for event in tf.compat.v1.train.summary_iterator(event_file):
            tags.update(v.tag for v in event.summary.value)
    assert {"evaluate/log_likelihood", "evaluate/prior/fid", "evaluate/mixture/kid"} <= tags

    # Same seed, same classifier (cached), same samples: the same report.
    _evaluate(model_path, tmp_path, "r2.json", "--posthoc-draws", "1")
    with open(tmp_path / "r2.json") as f:
        again = json.load(f)
    assert again["samples"] == report["samples"]


def test_bad_featurizer_is_a_one_line_error(model_path, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.run(["evaluate", "--model", model_path, "--num-samples", "2", "--out", str(tmp_path / "e.json"),
                 "--quality", "fid", "--featurizer", "lenet"])
    assert e.value.code == 2 and "--featurizer must be" in capsys.readouterr().err
