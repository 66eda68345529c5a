"""Post-hoc latent samplers: a density fitted to a trained VAE's aggregate posterior.

    sampler = fit_mixture(vae, x_train, num_components=10)    # or fit_flow(vae, x_train)
    x_new = sampler.sample(64, seed=0)                        # z ~ fitted q(z), x = decode(z)

The prior p(z) a VAE was trained with and the aggregate posterior
q(z) = (1/N) Σ_n q(z | x_n) its decoder actually saw rarely agree: prior
samples land in "holes" of q(z) and decode to poor images. Fitting a second
density to codes of the training data and sampling through the same
decoder (the two-stage idea) improves samples without retraining.
"""

import keras
import numpy as np
import tensorflow as tf
from sklearn import mixture

from tfvae.evaluation.features import image_batches
from tfvae.flows import RealNVP
from tfvae.metrics import _checks
from tfvae.models import FlowModel


def encodings(vae, images, batch_size=256, draws=0, seed=0):
    """Codes of a VAE for a set of images, float64.

    Args:
      vae: a `tfvae.VAE`.
      images: as `tfvae.evaluation.features.image_batches`.
      batch_size: images per encoder call for arrays.
      draws: 0 for the posterior locations `vae.encode(x)`, `(N, D)`; k > 0
        for k draws `z ~ q(z | x)` per image, `(k N, D)`: a sample of the
        aggregate posterior q(z) = (1/N) Σ_n q(z | x_n) itself.
      seed: seed of the draws.
    """
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 0:
        raise ValueError(f"Expected `draws` to be a non-negative integer. Received: draws={draws!r}")
    parts = []
    for i, b in enumerate(image_batches(images, batch_size)):
        if draws == 0:
            parts.append(keras.ops.convert_to_numpy(vae.encode(b)))
        else:
            z = vae.sample_posterior(tf.convert_to_tensor(b), draws, tf.constant([seed, i], tf.int64))[0]
            parts.append(keras.ops.convert_to_numpy(z).reshape(-1, z.shape[-1]))
    if not parts:
        raise ValueError("Expected at least one image to encode. Received: none")
    return np.concatenate(parts).astype(np.float64)


class PostHocSampler:
    """Samples `x = decode(z)` with `z` from a density fitted to encodings.

    Args:
      vae: the trained VAE (`decode`, `decoder_params`, `likelihood`).
      sample_latents: `(n, seed) -> (n, latent_dim)` codes.
      latent_log_prob: `z (n, latent_dim) -> (n,)` log-density of the
        fitted density (nats), for `log_likelihood`.
      name: a label for reports ("mixture", "flow").
    """

    def __init__(self, vae, sample_latents, latent_log_prob, name):
        self.vae, self._sample_latents, self.latent_log_prob = vae, sample_latents, latent_log_prob
        self.name = name

    def sample_latent(self, num_samples, seed=0):
        """`(num_samples, latent_dim)` codes from the fitted density."""
        return self._sample_latents(_checks.positive_int(num_samples, "num_samples"), int(seed))

    def sample(self, num_samples, seed=0, mean=True):
        """Decoded samples `(num_samples, *input_shape)`: the likelihood mean
        (default) or a draw x ~ p(x | z). Same seed, same samples."""
        z = tf.convert_to_tensor(self.sample_latent(num_samples, seed), tf.float32)
        if mean:
            return self.vae.decode(z)
        params = self.vae.decoder_params(z)
        return self.vae.likelihood.sample(params, tf.constant([seed, 1], tf.int64))

    def log_likelihood(self, x, num_samples=100, seed=0):
        """Importance-sampled log p(x) of the model with the fitted density as prior.

            log p(x) ≈ log (1/S) Σ_s p(x | z_s) q̂(z_s) / q(z_s | x),  z_s ~ q(z | x),

        the VAE's own estimator (`vae.log_likelihood`, the same draws for
        the same seed) with its prior p(z) replaced by q̂; a consistent
        estimate, low by O(1/S), of the post-hoc model's likelihood.

        Args:
          x: `(batch, *input_shape)` images in the likelihood's support.
          num_samples: S, positive int.
          seed: int.

        Returns:
          `(batch,)` float64 nats per example.
        """
        num_samples = _checks.positive_int(num_samples, "num_samples")
        x = tf.convert_to_tensor(x, tf.float32)
        chunk_seed = tf.random.split(tf.constant([seed, 0], tf.int64), 1)[0]
        z, log_q, _, _ = self.vae.sample_posterior(x, num_samples, chunk_seed)
        k, b = num_samples, int(x.shape[0])
        flat_z = tf.reshape(z, [k * b, -1])
        log_px = tf.reshape(self.vae.likelihood.log_prob_repeated(x, self.vae.decoder_params(flat_z)), [k, b])
        log_pz = np.asarray(self.latent_log_prob(np.asarray(flat_z, np.float64)), np.float64).reshape(k, b)
        log_w = np.asarray(log_px, np.float64) + log_pz - np.asarray(log_q, np.float64)
        top = log_w.max(axis=0)
        return top + np.log(np.mean(np.exp(log_w - top), axis=0))


def fit_mixture(vae, images, num_components=10, covariance_type="full", seed=0, batch_size=256, draws=0):
    """Fits a Gaussian mixture (EM, scikit-learn) to the VAE's codes.

        q̂(z) = Σ_k π_k N(z; μ_k, Σ_k),  fitted by maximum likelihood to
        z_n = encode(x_n) over `images` (or draws z ~ q(z | x_n), `draws`).

    Args:
      vae: a trained `tfvae.VAE`.
      images: training images (array, dataset or batches).
      num_components: positive int K.
      covariance_type: "full", "diag", "tied" or "spherical".
      seed: seeds EM's initialisation and the draws.
      draws: as in `encodings`: 0 fits the posterior locations (Ghosh et
        al.), k > 0 fits k draws per image from q(z | x).

    Returns:
      A `PostHocSampler`; its `density` attribute is the fitted
      `sklearn.mixture.GaussianMixture`.

    References:
      Ghosh et al. (2020), "From variational to deterministic autoencoders"
      (ex-post density estimation); Dai & Wipf (2019), "Diagnosing and
      enhancing VAE models" (two-stage VAE).
    """
    num_components = _checks.positive_int(num_components, "num_components")
    z = encodings(vae, images, batch_size, draws, seed)
    gmm = mixture.GaussianMixture(num_components, covariance_type=covariance_type, random_state=seed).fit(z)
    covariances = {"full": lambda: gmm.covariances_,
                   "tied": lambda: np.repeat(gmm.covariances_[None], num_components, 0),
                   "diag": lambda: np.stack([np.diag(c) for c in gmm.covariances_]),
                   "spherical": lambda: np.stack([c * np.eye(z.shape[1]) for c in gmm.covariances_])}
    factors = np.linalg.cholesky(covariances[covariance_type]())

    def sample_latents(n, sample_seed):
        # Our own sampler: scikit-learn's draws from its random_state, not per call.
        rng = np.random.default_rng(sample_seed)
        component = rng.choice(num_components, size=n, p=gmm.weights_)
        noise = rng.standard_normal((n, z.shape[1]))
        return gmm.means_[component] + np.einsum("nij,nj->ni", factors[component], noise)

    sampler = PostHocSampler(vae, sample_latents, gmm.score_samples, "mixture")
    sampler.density = gmm
    return sampler


def fit_flow(vae, images, flow=None, epochs=30, batch_size=256, learning_rate=1e-3, seed=0, verbose=0, draws=0):
    """Fits a `tfvae.FlowModel` by maximum likelihood to the VAE's codes.

    Codes are standardised (`u = (z - m) / s`, per dimension) before the
    flow sees them and samples are mapped back (`z = m + s u`), so the
    flow starts near the identity on unit-scale data.

    Args:
      vae: a trained `tfvae.VAE`.
      images: training images (array, dataset or batches).
      flow: a vector `tfvae.flows` layer; default `RealNVP(num_layers=6)`.
      epochs, batch_size: positive ints.
      learning_rate: Adam's step size.
      seed: seeds the flow's weights, the data order and the draws.
      draws: as in `encodings`.

    Returns:
      A `PostHocSampler`; its `density` attribute is the trained
      `tfvae.FlowModel` on standardised codes, `shift`/`scale` the
      standardisation.
    """
    z = encodings(vae, images, batch_size, draws, seed)
    shift, scale = z.mean(0), np.maximum(z.std(0), 1e-6)
    u = ((z - shift) / scale).astype(np.float32)
    keras.utils.set_random_seed(seed)
    model = FlowModel(flow if flow is not None else RealNVP(num_layers=6, seed=seed), input_shape=(z.shape[1],),
                      seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    model.fit(u, epochs=_checks.positive_int(epochs, "epochs"), batch_size=batch_size, shuffle=True,
              verbose=verbose)

    def sample_latents(n, sample_seed):
        return shift + scale * keras.ops.convert_to_numpy(model.sample(n, seed=sample_seed)).astype(np.float64)

    def latent_log_prob(z):
        u = ((np.asarray(z) - shift) / scale).astype(np.float32)
        return keras.ops.convert_to_numpy(model.log_prob(u)).astype(np.float64) - np.sum(np.log(scale))

    sampler = PostHocSampler(vae, sample_latents, latent_log_prob, "flow")
    sampler.density, sampler.shift, sampler.scale = model, shift, scale
    return sampler
