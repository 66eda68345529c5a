"""Quiet, Keras-3 friendly environment; imported before TensorFlow.

TensorFlow's C++ runtime logs CUDA probing and oneDNN notes before absl is
configured, and TFP imports `distutils`, which warns. Neither is useful to a
user who only typed `import tfvae`; both are silenced here unless the user
already chose otherwise (we only `setdefault`).
"""

import logging
import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# tf-keras (Keras 2) is installed because TFP imports it; make sure
# `tf.keras` never silently resolves to it inside tfvae.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")

warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"tensorflow_probability.*")
warnings.filterwarnings("ignore", message=r".*distutils.*", category=DeprecationWarning)

import absl.logging  # noqa: E402  (after the environment above)

absl.logging.set_verbosity(absl.logging.ERROR)
logging.getLogger("tensorflow").setLevel(logging.ERROR)
