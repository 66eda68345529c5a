"""Decoded prior samples, shared by the latent-variable models' `sample`."""

import numpy as np
import tensorflow as tf

from tfvae.nets._validate import boolean, check_fits_in_memory, positive_float, positive_int


def seed_tensor(seed):
    """A `(2,)` int64 seed for stateless ops: from an int, or fresh if None."""
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    if tf.is_tensor(seed) and seed.shape.rank == 1:
        return tf.cast(seed, tf.int64)
    return tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])


def decoded_samples(model, num_samples, seed, mean, temperature, draw_latent, condition=None):
    """`num_samples` latent draws decoded: the likelihood mean, or x ~ p(x|z).

    Checks the arguments (positive int, finite positive temperature, a
    boolean `mean`, and that the decoder's parameters for all samples fit in
    memory), splits `seed` into one seed for the latents and one for the
    draw x ~ p(x|z), and decodes (with `condition` for a conditional model).

    Args:
        model: has `data_shape`, `likelihood` and `decoder_params`.
        draw_latent: `(n, seed (2,), temperature) -> z`, the prior draw.

    Returns:
        `(num_samples, *data_shape)`.
    """
    num_samples = positive_int(num_samples, "num_samples")
    temperature = positive_float(temperature, "temperature")
    mean = boolean(mean, "mean")
    # The decoder's parameters for all samples are one tensor.
    check_fits_in_memory(
        4 * num_samples * int(np.prod(model.data_shape)) * max(1, model.likelihood.num_params),
        f"sample({num_samples})", "draw fewer samples per call (e.g. a loop over calls of 1024 with "
        "seeds 0, 1, ...) and concatenate them.")
    seeds = tf.random.split(seed_tensor(seed), 2)
    z = draw_latent(num_samples, seeds[0], temperature)
    params = model.decoder_params(z) if condition is None else model.decoder_params(z, condition=condition)
    return model.likelihood.mean(params) if mean else model.likelihood.sample(params, seeds[1])
