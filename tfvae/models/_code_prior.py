"""Learned priors over discrete codes, shared by `VQVAE` and `VQVAE2`.

A VQ-VAE's posterior is deterministic, q(c | x) = δ(c = c(x)), so for any
prior p(c) its bound is
    elbo(x) = log p(x | c(x)) + log p(c(x))  ≤ log p(x),
and the model reports kl = −log p(c(x)). Before a prior is fitted the
prior is uniform, kl = n·log K for n code positions (a constant training
ignores but the bound must count); afterwards it is the PixelCNNs'
−log p(c(x)), fitted here by maximum likelihood on the codes of the data
with the autoencoder fixed (van den Oord et al., 2017; Razavi et al., 2019).

What lives here: the uniform-or-learned switch (`code_nll`), encoding a
whole dataset to codes (`codes_of`), freezing a prior outside its own fit
(`freeze`), and the fit itself (`fit_priors`, a small Keras trainer over
code arrays). The models own their priors and say how codes are scored.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from tfvae.models import _steps
from tfvae.models._build import ReplicaSafeBuild


def freeze(prior):
    """Makes `prior` non-trainable: `fit` then trains (and its optimizer,
    also after a `.keras` reload, holds) only the autoencoder. Set True
    first: a prior deserialised with trainable=False has trainable
    sublayers, and Keras skips setting an unchanged flag."""
    prior.trainable = True
    prior.trainable = False


def code_nll(trained, num_positions, num_embeddings, batch_like, learned):
    """−log p(codes) per example, `(batch,)`: n·log K under the uniform
    prior, `learned()` (a `(batch,)` tensor) once `trained` (a 0/1 weight)
    is set. A `tf.cond`, so it runs inside compiled steps and signatures."""
    uniform = tf.fill(tf.shape(batch_like)[:1], float(num_positions * math.log(num_embeddings)))
    return tf.cond(trained > 0.5, learned, lambda: uniform)


def codes_of(model, data, encode, batch_size=256):
    """`encode(x) -> tuple of code tensors` over every example of `data`
    (array or dataset, checked as the model's `fit` checks it): a tuple of
    `(N, ...)` int32 NumPy arrays."""
    encode = tf.function(encode)
    out = []
    if isinstance(data, tf.data.Dataset):
        for batch in model._checked_data(data):
            out.append([c.numpy() for c in encode(features(batch))])
    else:
        x = model._check(data, check_support=False).numpy()
        for i in range(0, len(x), batch_size):
            out.append([c.numpy() for c in encode(tf.constant(x[i:i + batch_size]))])
    return tuple(np.concatenate(parts, axis=0) for parts in zip(*out))


def fit_priors(model, priors, log_prob, terms, codes, validation_codes=None, epochs=10, batch_size=64,
               learning_rate=1e-3, jit_compile=False, verbose="auto"):
    """Fits `priors` (layers of `model`) by maximum likelihood on code arrays.

    Args:
        model: the VQ-VAE owning the priors; its `prior_trained` weight is
            set to 1 afterwards and its strategy is used.
        priors: the prior layers to train (frozen again afterwards).
        log_prob: `(*codes) -> {term: (batch,)}` log-probabilities whose
            sum is log p(codes).
        terms: the keys of `log_prob`'s dict; with several, each term's
            −log p is also reported, as `nll_<term>`.
        codes, validation_codes: tuples of `(N, ...)` int arrays, one per
            argument of `log_prob`.

    Returns:
        The Keras `History`; its `loss` is −log p(codes) in nats per example.
    """
    for prior in priors:
        prior.trainable = True
    try:
        # Under the strategy the VQ-VAE was built with (its priors' variables
        # are that strategy's), so the optimizer's are too.
        with model.distribute_strategy.scope():
            trainer = _PriorTrainer(priors, log_prob, terms)
            trainer.compile(optimizer=keras.optimizers.Adam(learning_rate), jit_compile=jit_compile)
        x, y = (codes[0], None) if len(codes) == 1 else (codes[0], codes[1:])
        val = None
        if validation_codes is not None:
            val = (validation_codes[0],) if len(validation_codes) == 1 else (validation_codes[0],
                                                                             validation_codes[1:])
        history = trainer.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=val, shuffle=True,
                              verbose=verbose)
    finally:
        for prior in priors:
            freeze(prior)
    model.prior_trained.assign(1.0)
    return history


class _PriorTrainer(ReplicaSafeBuild, keras.Model):
    """Trains code priors by maximum likelihood (not saved: the priors
    belong to the VQ-VAE). Data: codes, or (codes, (more codes, ...))."""

    def __init__(self, priors, log_prob, terms, **kwargs):
        super().__init__(**kwargs)
        self.priors = list(priors)
        self.log_prob_terms = log_prob
        self.trackers = {"loss": keras.metrics.Mean(name="loss")}
        if len(terms) > 1:
            self.trackers.update({f"nll_{t}": keras.metrics.Mean(name=f"nll_{t}") for t in terms})
        self.built = True

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _loss(self, data):
        """`(batch size, −mean log p(codes), {term: −mean log p_term})`."""
        codes = _flatten(data)
        terms = self.log_prob_terms(*codes)
        nll = {name: -tf.reduce_mean(v) for name, v in terms.items()}
        return tf.shape(codes[0])[0], tf.add_n(list(nll.values())), nll

    def train_step(self, data):
        variables = [v for prior in self.priors for v in prior.trainable_variables]
        with tf.GradientTape() as tape:
            batch, loss, nll = self._loss(data)
        _steps.minimize(self, tape, loss, batch, variables)
        return self._update_metrics(batch, loss, nll)

    def test_step(self, data):
        return self._update_metrics(*self._loss(data))

    def _update_metrics(self, batch, loss, nll):
        weight = tf.cast(batch, loss.dtype)
        self.trackers["loss"].update_state(loss, sample_weight=weight)
        if len(nll) > 1:
            for name, value in nll.items():
                self.trackers[f"nll_{name}"].update_state(value, sample_weight=weight)
        return _steps.step_logs({name: m.result() for name, m in self.trackers.items()})


def _flatten(data):
    """Keras's `(x,)`, `(x, y)` or `x`, with y a tuple of arrays: a flat tuple of tensors."""
    flat = tf.nest.flatten(data)
    return tuple(t for t in flat if t is not None)


def features(data):
    """`x` of a batch `x` or `(x, ...)`, as float32."""
    if isinstance(data, (tuple, list)):
        data = data[0]
    return tf.cast(data, tf.float32)
