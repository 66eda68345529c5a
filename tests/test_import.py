"""`import tfvae` is quiet: no page of TF/TFP start-up logs for the user."""

import subprocess
import sys


def test_import_prints_nothing():
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("TF_CPP")}
    out = subprocess.run([sys.executable, "-c", "import tfvae; tfvae.VAE(input_shape=(4,), latent_dim=2)"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and out.stderr == "", (out.stdout, out.stderr)
