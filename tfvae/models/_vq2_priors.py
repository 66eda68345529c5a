"""The code priors of `tfvae.VQVAE2`: p(c_t, c_b) = p(c_t) p(c_b | c_t).

p(c_t) is a `PixelCNN` over the h_t×w_t top grid; p(c_b | c_t) a
`PixelCNN(..., condition_shape=(h_t, w_t, K))` over the h_b×w_b bottom
grid, conditioned on the one-hot top codes (van den Oord et al., 2016).
Before `fit_prior` the model's bound uses the uniform prior,
−log p(c) = (h_t·w_t + h_b·w_b)·log K; `fit_prior` fits both networks
jointly by maximum likelihood on the data's codes with the shared trainer
of `tfvae.models._code_prior`. Sampling is ancestral: top codes, then
bottom codes given them (Razavi et al., 2019).
"""

import math

import keras
import tensorflow as tf

from tfvae.models import _code_prior
from tfvae.models._sampling import seed_tensor
from tfvae.nets._validate import positive_int
from tfvae.nets.pixelcnn import PixelCNN

LEVELS = ("top", "bottom")


class TwoLevelPriors:
    """Mixin of `VQVAE2`: needs `top_prior`, `bottom_prior`, `prior_trained`,
    `num_embeddings`, `top_grid`, `bottom_grid`, `quantizer_outputs`."""

    def top_condition(self, top_codes):
        """The bottom prior's condition: one-hot top codes `(batch, h_t, w_t, K)`."""
        return tf.one_hot(tf.cast(top_codes, tf.int32), self.num_embeddings, dtype=tf.float32)

    def prior_log_prob(self, top_codes, bottom_codes):
        """`{"top": log p(c_t), "bottom": log p(c_b | c_t)}` under the PixelCNNs, `(batch,)` nats each."""
        return {"top": self.top_prior.log_prob(top_codes),
                "bottom": self.bottom_prior.log_prob(bottom_codes, self.top_condition(top_codes))}

    def code_kl(self, top_codes, bottom_codes):
        """`(kl_top, kl_bottom)`, −log p per level, `(batch,)` each: n_l·log K
        under the uniform prior, the PixelCNNs' once fitted (`prior_trained`)."""
        k, trained = self.num_embeddings, self.prior_trained
        kl_top = _code_prior.code_nll(trained, math.prod(self.top_grid), k, top_codes,
                                      lambda: -self.top_prior.log_prob(top_codes))
        kl_bottom = _code_prior.code_nll(
            trained, math.prod(self.bottom_grid), k, bottom_codes,
            lambda: -self.bottom_prior.log_prob(bottom_codes, self.top_condition(top_codes)))
        return kl_top, kl_bottom


    def draw_codes(self, num_samples, seed, temperature=1.0):
        """Top codes from the top PixelCNN (seed `split(seed)[0]`), then
        bottom codes from the conditional PixelCNN given them (`split(seed)[1]`):
        `(top (n, h_t, w_t), bottom (n, h_b, w_b))`. No checks: graph-safe."""
        seeds = tf.random.split(tf.cast(seed, tf.int64), 2)
        top = self.top_prior.sample(num_samples, seeds[0], temperature)
        bottom = self.bottom_prior.sample(num_samples, seeds[1], temperature, condition=self.top_condition(top))
        return top, bottom

    def sample_codes(self, num_samples, seed=None, temperature=1.0):
        """`draw_codes` after checking the arguments and that the priors are
        fitted (h_t·w_t + h_b·w_b sequential PixelCNN passes; same seed, same codes).

        Raises:
            ValueError: the priors are not trained (call `fit_prior` first).
        """
        num_samples = positive_int(num_samples, "num_samples")
        if float(self.prior_trained.numpy()) < 0.5:
            raise ValueError("VQVAE2.sample needs the learned priors over codes: call `fit_prior(data)` after "
                             "`fit`. (Codes drawn uniformly decode to noise-like images.)")
        return self.draw_codes(num_samples, seed_tensor(seed), temperature)


    def codes_of(self, data, batch_size=256):
        """`(top (N, h_t, w_t), bottom (N, h_b, w_b))` int32 NumPy codes of every example of `data`."""
        def encode(x):
            q = self.quantizer_outputs(x)
            return q["top"]["codes"], q["bottom"]["codes"]
        return _code_prior.codes_of(self, data, encode, batch_size)

    def fit_prior(self, data, epochs=10, batch_size=64, learning_rate=1e-3, validation_data=None, jit_compile=False,
                  verbose="auto"):
        """Fits both priors jointly by maximum likelihood on the codes of
        `data`: minimises −log p(c_t) − log p(c_b | c_t) (the codes are
        computed once; the autoencoder is not changed). Afterwards `sample`
        works and `evaluate` reports the bound under the learned priors.

        Returns:
            The Keras `History`: `loss` = −log p(codes) in nats per example,
            and its two parts `nll_top`, `nll_bottom`.
        """
        codes = self.codes_of(data)
        val = None if validation_data is None else self.codes_of(validation_data)
        return _code_prior.fit_priors(self, [self.top_prior, self.bottom_prior], self.prior_log_prob, LEVELS, codes,
                                      val, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                                      jit_compile=jit_compile, verbose=verbose)


def checked_prior(prior, num_embeddings, grid, condition_shape, name):
    """The given PixelCNN (or a default one), checked to fit its level."""
    if isinstance(prior, dict):
        prior = keras.saving.deserialize_keras_object(prior)
    if prior is None:
        prior = PixelCNN(num_embeddings, grid, condition_shape=condition_shape, name=name)
    if (not isinstance(prior, PixelCNN) or prior.num_embeddings != num_embeddings
            or tuple(prior.grid_shape) != tuple(grid) or prior.condition_shape != condition_shape):
        raise ValueError(f"Expected `{name}` to be None or a tfvae.nets.PixelCNN with num_embeddings="
                         f"{num_embeddings}, grid_shape={tuple(grid)} and condition_shape={condition_shape}. "
                         f"Received: {name}={prior!r}")
    if not prior.built:
        prior.build()
    return prior
