"""Bad targets and arguments get clear errors; training never eats a NaN."""

import numpy as np
import pytest
import tensorflow as tf

import tfvae

TARGET, _ = tfvae.vi.targets.banana()


@pytest.mark.parametrize("kwargs,match", [
    (dict(log_prob_fn=3.0), r"`log_prob_fn` to be a callable"),
    (dict(dim=0), r"`dim` to be a positive integer. Received: dim=0"),
    (dict(family="gaussian"), r"`family` to be one of \('mean_field', 'full_rank'\)"),
    (dict(steps=0), r"`steps` to be a positive integer. Received: steps=0"),
    (dict(learning_rate=-1.0), r"`learning_rate` to be a positive number"),
    (dict(num_samples=0), r"`num_samples` to be a positive integer"),
    (dict(family=tfvae.vi.FullRankGaussian(3)), r"`family` to have dim=2. Received: family.dim=3"),
    (dict(log_prob_fn=lambda z: z), r"return one log-density per point, shape \(n,\).*Received: shape \(2, 2\)"),
    (dict(log_prob_fn=lambda z: tf.reduce_sum(z, -1, keepdims=True)), r"Received: shape \(2, 1\)"),
    (dict(log_prob_fn=lambda z: tf.cast(z[:, 0] > 0, tf.int32)), r"to return floats"),
])
def test_bad_arguments(kwargs, match):
    args = dict(log_prob_fn=TARGET, dim=2, family="full_rank", steps=5, verbose=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        tfvae.vi.fit(**args)


def test_non_finite_elbo_stops_training_with_finite_weights():
    # log p̃ = -inf off the unit disc: a unit Gaussian q puts mass there.
    def disc(z):
        inside = tf.reduce_sum(tf.square(z), -1) < 1.0
        return tf.where(inside, tf.zeros_like(z[:, 0]), -np.inf * tf.ones_like(z[:, 0]))

    with pytest.raises(FloatingPointError, match=r"ELBO became -inf at step 1.*outside its support"):
        tfvae.vi.fit(disc, dim=2, family="full_rank", steps=5, verbose=0)


def test_nan_target_is_reported_by_the_estimates():
    q = tfvae.vi.VariationalApproximation(tfvae.vi.MeanFieldGaussian(2), TARGET)
    with pytest.raises(ValueError, match="returned NaN"):
        q.elbo(100, log_prob_fn=lambda z: z[:, 0] * np.nan)


def test_weights_stay_finite_after_a_nan_step():
    q = tfvae.vi.VariationalApproximation(tfvae.vi.FullRankGaussian(2), TARGET, num_samples=8, seed=0)
    q.compile(optimizer="adam")
    q.log_prob_fn = lambda z: z[:, 0] * np.nan
    with pytest.raises(FloatingPointError, match="ELBO became nan"):
        q.fit(steps_per_epoch=3, verbose=0)
    assert all(np.isfinite(w.numpy()).all() for w in q.weights)


def test_fit_without_data_needs_steps():
    q = tfvae.vi.VariationalApproximation(tfvae.vi.MeanFieldGaussian(2), TARGET)
    q.compile(optimizer="adam")
    with pytest.raises(ValueError, match="needs `steps_per_epoch`"):
        q.fit(verbose=0)


class _NoPathGradient(tfvae.vi.families.Family):
    """A user family with a sampler only: no `path_log_prob`."""

    def transform(self, eps):
        return eps, -0.5 * tf.reduce_sum(eps ** 2, -1)


@pytest.mark.parametrize("make,match", [
    (lambda: tfvae.vi.VariationalApproximation("full_rank"), r"`family` to be a tfvae.vi family layer"),
    (lambda: tfvae.vi.VariationalApproximation(_NoPathGradient(2), stick_the_landing=True),
     r"`stick_the_landing=True` needs a family with a path gradient.*_NoPathGradient"),
])
def test_bad_model_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()
