"""The residual conv nets of the VQ-VAEs (`tfvae/nets/residual_conv.py`)."""

import os
import subprocess
import sys
import textwrap

import numpy as np

import tfvae

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_FIT = textwrap.dedent("""
    import numpy as np
    import keras
    import tfvae
    x = np.random.default_rng(0).random((32, 8, 8, 1)).astype("float32")
    net = tfvae.nets.ResidualConvEncoder((8,), num_residual_blocks=2)
    model = keras.Sequential([keras.Input((8, 8, 1)), net, keras.layers.Conv2D(1, 1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, x[:, ::2, ::2], epochs=1, batch_size=16, verbose=0)
    print("fitted")
""")


def test_a_residual_block_is_its_input_plus_the_branch():
    block = tfvae.nets.ResidualBlock(4)
    x = np.random.default_rng(1).normal(size=(2, 5, 5, 6)).astype("float32")
    y = block(x).numpy()
    branch = block.conv1(block.act(block.conv3(block.act(x)))).numpy()
    np.testing.assert_allclose(y, x + branch, rtol=1e-6, atol=1e-6)


def test_training_stacked_blocks_leaves_grappler_quiet():
    # Two blocks in a row made TF 2.21's remapper give up on the training
    # graph with an ERROR line ("remapper failed: ... fanout ... exist for
    # missing node"), unless the sum is kept from feeding the next
    # activation directly (ResidualBlock.call).
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="0")
    proc = subprocess.run([sys.executable, "-c", _FIT], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0 and "fitted" in proc.stdout, proc.stderr[-3000:]
    assert "remapper failed" not in proc.stderr, [line for line in proc.stderr.splitlines() if "remapper" in line]
