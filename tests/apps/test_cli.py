"""The `tfvae` command line: a tiny end-to-end run and its error handling."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tfvae
from apps import _build, _runs, cli

TINY = ["--data", "digits", "--latent-dim", "2", "--hidden-units", "16", "--batch-size", "512",
        "--epochs", "1", "--eval-samples", "4", "-qq"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("run"))
    result = cli.run(["train", *TINY, "--kl-warmup", "1", "--output-dir", out])
    return out, result


def _png_shape(path):
    from PIL import Image
    with Image.open(path) as im:
        return im.size


def test_train_writes_run_folder(run_dir):
    out, result = run_dir
    for name in ("model.keras", "config.json", "history.json", "samples.png", "reconstructions.png"):
        assert os.path.isfile(os.path.join(out, name)), name
    with open(os.path.join(out, "history.json")) as f:
        record = json.load(f)
    assert record["epochs"] == [1]
    assert {"loss", "elbo", "kl", "reconstruction", "val_elbo"} <= set(record["history"])
    test = record["test"]
    # The importance-sampled estimate is a tighter bound than the ELBO (up to noise).
    assert test["log_likelihood"] > test["elbo"] - 1.0
    assert test["num_examples"] == tfvae.data.info("digits").num_examples["test"]
    assert record["config"]["model"]["decoder_units"] is None
    assert record["config"]["data"] == {"data": "digits", "binarize": True, "dequantize": False,
                                        "batch_size": 512, "seed": 0}
    # 8x8 digits, 2-pixel padding, all magnified 8x: 8 x 8 samples; 10 originals over 10 reconstructions.
    assert _png_shape(os.path.join(out, "samples.png")) == ((8 * 10 + 2) * 8,) * 2
    assert _png_shape(os.path.join(out, "reconstructions.png")) == ((10 * 10 + 2) * 8, (2 * 10 + 2) * 8)


def test_train_keeps_an_existing_model(run_dir, capsys):
    out, _ = run_dir
    before = os.path.getmtime(os.path.join(out, "model.keras"))
    with pytest.raises(SystemExit) as e:
        cli.run(["train", *TINY, "--output-dir", out])
    assert e.value.code == 2 and "--overwrite" in capsys.readouterr().err
    assert os.path.getmtime(os.path.join(out, "model.keras")) == before


def test_evaluate_sample_reload(run_dir, tmp_path, capsys):
    out, _ = run_dir
    model = os.path.join(out, "model.keras")
    result = cli.run(["evaluate", "--model", model, "--num-samples", "3", "--out", str(tmp_path / "e.json")])
    with open(tmp_path / "e.json") as f:
        saved = json.load(f)
    assert saved["data"]["binarize"] is True  # taken from the run's config.json
    for key in ("elbo", "kl", "reconstruction", "log_likelihood", "log_likelihood_stderr", "bits_per_dim"):
        assert np.isfinite(saved[key]) and saved[key] == result[key]
    assert saved["bits_per_dim"] == pytest.approx(-saved["log_likelihood"] / (np.log(2) * 64))
    assert "log_likelihood" in capsys.readouterr().out

    png = tmp_path / "s.png"
    cli.run(["sample", "--model", model, "-n", "6", "--seed", "1", "--nrow", "3", "--scale", "1", "--out", str(png)])
    assert _png_shape(png) == (3 * 10 + 2, 2 * 10 + 2)


def test_export_writes_a_version_and_guards_it(run_dir, tmp_path, capsys):
    out, _ = run_dir
    argv = ["export", "--model", os.path.join(out, "model.keras"), "--out", str(tmp_path / "m" / "1")]
    cli.run(argv)
    assert os.path.isfile(tmp_path / "m" / "1" / "saved_model.pb")
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:  # an existing version is kept unless asked
        cli.run(argv)
    assert e.value.code == 2 and "--overwrite" in capsys.readouterr().err
    cli.run(argv + ["--overwrite"])
    with pytest.raises(SystemExit) as e:
        cli.run(argv[:-1] + [str(tmp_path / "m" / "latest")])
    assert e.value.code == 2 and "integer version" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["train", "--epochs", "0"], "--epochs: expected a positive integer"),
    (["train", "--latent-dim", "x"], "--latent-dim: expected a positive integer"),
    (["train", "--beta", "-1"], "--beta: expected a non-negative number"),
    (["train", "--prior", "gaussian_process"], "invalid choice"),
    (["train", "--data", "nope"], "invalid choice"),
    (["train", "--no-binarize"], "needs binary data"),
    (["train", "--likelihood", "categorical", "--dequantize"], "needs the quantised levels"),
    (["train", "--binarize", "--dequantize"], "exclude each other"),
    (["evaluate", "--model", "/no/such/model.keras"], "no model file"),
    (["sample"], "--model"),
    ([], "required"),
])
def test_bad_arguments_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        cli.run(argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_model_setting_is_reported(capsys):
    # Valid flags individually; the VAE's own check rejects the combination.
    with pytest.raises(SystemExit) as e:
        cli.run(["train", *TINY, "--free-bits", "0.1", "--num-importance-samples", "2"])
    assert e.value.code == 2
    assert "free_bits" in capsys.readouterr().err


def test_spec_builds_the_model_the_flags_describe():
    args = cli._args.build_parser().parse_args(
        ["train", "--likelihood", "categorical", "--hidden-units", "24", "12", "--latent-dim", "3"])
    spec = cli.model_spec(args, (8, 8, 1))
    assert spec["num_bins"] == 17  # tfvae.data.info("digits").num_bins
    vae = _build.build_vae(spec)
    assert vae.encoder.hidden_units == (24, 12) and vae.decoder.hidden_units == (12, 24)
    assert vae.likelihood.num_bins == 17 and vae.latent_dim == 3


@pytest.mark.parametrize("flags, prior, flow", [
    (["--prior", "nsf", "--posterior-flow", "spline_iaf"], "FlowPrior", "SplineIAF"),
    (["--prior", "mog", "--prior-components", "3"], "MixtureOfGaussians", None),
    (["--prior", "diagonal", "--posterior-flow", "nsf"], "DiagonalNormal", "NSF"),
])
def test_spec_names_the_library_parts(flags, prior, flow):
    args = cli._args.build_parser().parse_args(["train", *flags])
    vae = _build.build_vae(cli.model_spec(args, (8, 8, 1)))
    assert type(vae.prior).__name__ == prior
    assert (flow is None and vae.posterior_flow is None) or type(vae.posterior_flow).__name__ == flow
    assert _build.likelihood_name(vae.likelihood) == "bernoulli"


def test_data_settings_defaults():
    assert _runs.data_settings("digits", "bernoulli") == {"data": "digits", "binarize": True, "dequantize": False}
    assert _runs.data_settings("digits", "gaussian")["dequantize"] is True
    assert _runs.data_settings("binarized_mnist", "bernoulli")["binarize"] is False


def test_module_entry_point_exit_code():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-m", "apps", "train", "--batch-size", "0"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert "--batch-size: expected a positive integer" in proc.stderr
    assert "Traceback" not in proc.stderr
