"""Quiet, Keras-3 friendly environment; imported before TensorFlow.

TensorFlow's C++ runtime logs CUDA probing ("Could not find cuda drivers",
"failed call to cuInit") through absl *before* its log level is read, so
`TF_CPP_MIN_LOG_LEVEL` alone does not hide them; TFP imports `distutils`,
which warns. None of that helps a user who only typed `import tfvae`, so the
first import of TensorFlow and TFP runs with file descriptor 2 pointed at
/dev/null (Python exceptions are still raised normally afterwards). Set
`TFVAE_VERBOSE=1` to see everything. Settings the user already made win:
we only `setdefault`.
"""

import contextlib
import logging
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# tf-keras (Keras 2) is installed only because TFP imports it; `tf.keras`
# must keep meaning Keras 3 inside tfvae.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")

from tfvae import _xla_cache  # noqa: E402  (TF reads TF_XLA_FLAGS once, so before it is imported)

_xla_cache.configure()

warnings.filterwarnings("ignore", message=r".*distutils.*", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"tensorflow_probability.*")


@contextlib.contextmanager
def _stderr_to_devnull():
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _import_stack():
    import tensorflow as tf
    import keras  # noqa: F401
    import tensorflow_probability  # noqa: F401

    tf.config.list_physical_devices()  # the CUDA probe logs happen here


if os.environ.get("TFVAE_VERBOSE") or "tensorflow_probability" in sys.modules:
    _import_stack()
else:
    with _stderr_to_devnull():
        _import_stack()

import absl.logging  # noqa: E402

absl.logging.set_verbosity(absl.logging.ERROR)
logging.getLogger("tensorflow").setLevel(logging.ERROR)
