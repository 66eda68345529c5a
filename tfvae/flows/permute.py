"""Fixed permutations of the feature (or channel) axis."""

import keras
import numpy as np
import tensorflow as tf

from tfvae.flows.base import Flow

_MODES = ("reverse", "random")


@keras.saving.register_keras_serializable(package="tfvae")
class Permute(Flow):
    """Permutes the last axis: features of a vector, channels of an image.

    Coupling layers transform only part of their input; a permutation
    between them lets every coordinate be transformed by some layer.

    Maths, with a permutation `p` of `{0, ..., D-1}`:
        forward:  y[..., i] = x[..., p[i]]
        inverse:  x[..., p[i]] = y[..., i]
        log|det dy/dx| = 0   (a permutation matrix has determinant ±1)

    The permutation is fixed at build time (from `permutation` and `seed`)
    and stored as a non-trainable int32 weight, so a saved model keeps the
    exact order even if the random generator changes.

    Args:
        permutation: "reverse", "random" (seeded by `seed`), or an explicit
            sequence of ints, a permutation of `range(D)`.
        seed: int seed for "random".
        event_ndims: 1 for vectors `(batch, D)`, 3 for images
            `(batch, H, W, C)` (permutes C).

    Example:
        >>> flow = tfvae.flows.Chain([tfvae.flows.MAF(num_layers=1), tfvae.flows.Permute("reverse"),
        ...                           tfvae.flows.MAF(num_layers=1)])

    Call:
        x: `(batch, D)` or `(batch, H, W, C)`; `context` is accepted and
        ignored. Returns `(y, log_det)` with `log_det` zeros `(batch,)`.

    Raises:
        ValueError: unknown mode, a sequence that is not a permutation, or a
            length that does not match the input's last axis.
    """

    def __init__(self, permutation="reverse", seed=0, event_ndims=1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(permutation, str):
            if permutation not in _MODES:
                raise ValueError(
                    f"Expected `permutation` to be one of {_MODES} or a sequence of ints. "
                    f"Received: permutation={permutation!r}")
        else:
            values = [int(v) for v in permutation]
            if sorted(values) != list(range(len(values))):
                raise ValueError(
                    "Expected `permutation` to be a permutation of range(D). "
                    f"Received: permutation={permutation!r}")
            permutation = values
        if event_ndims not in (1, 3):
            raise ValueError(f"Expected `event_ndims` to be 1 or 3. Received: event_ndims={event_ndims!r}")
        self.permutation = permutation
        self.seed = int(seed)
        self.event_ndims = int(event_ndims)

    def _order(self, size):
        if self.permutation == "reverse":
            return np.arange(size)[::-1]
        if self.permutation == "random":
            return np.random.RandomState(self.seed).permutation(size)
        if len(self.permutation) != size:
            raise ValueError(
                f"`permutation` has {len(self.permutation)} entries but the input's last axis "
                f"has size {size}.")
        return np.asarray(self.permutation)

    def build(self, input_shape):
        order = self._order(int(input_shape[-1]))
        self.order = self.add_weight(
            shape=order.shape, dtype="int32", trainable=False, name="permutation",
            initializer=keras.initializers.Constant(order.astype("int32")))

    def _forward_and_log_det(self, x, context):
        return tf.gather(x, self.order, axis=-1), tf.zeros(tf.shape(x)[:1], x.dtype)

    def _inverse_and_log_det(self, y, context):
        return tf.gather(y, tf.math.invert_permutation(self.order), axis=-1), tf.zeros(tf.shape(y)[:1], y.dtype)

    @property
    def identity_at_init(self):
        return False  # a fixed reordering

    def get_config(self):
        config = super().get_config()
        config.update(permutation=self.permutation, seed=self.seed, event_ndims=self.event_ndims)
        return config
