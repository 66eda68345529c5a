"""The inference and generative passes of `tfvae.HierarchicalVAE`.

Layers are indexed bottom first, l = 1..L (here 0..L−1). Every conditional
is a diagonal Gaussian whose parameters come from a `DiagonalGaussian` head
on a network's features:

    generative (top-down)   p(z_L) = prior,  p(z_l | z_{l+1}) = N(μ^p_l, σ^p_l),
                            p(x | z_1) = likelihood(decoder(z_1))
    "bottom_up" inference   q(z_1 | x) = N(μ^q_1(h(x)), σ^q_1),
    (Burda et al., 2016)    q(z_l | z_{l−1}) = N(μ^q_l(g_l(z_{l−1})), σ^q_l)
    "ladder" inference      d_1 = h(x), d_l = g_l(d_{l−1}) (deterministic);
    (Sønderby et al., 2016) (μ̂_l, σ̂_l) from d_l;  q(z_L | x) = N(μ̂_L, σ̂_L),
                            q(z_l | z_{l+1}, x) = N(μ̂_l, σ̂_l) ⊗ p(z_l | z_{l+1})
                            (`precision_weighted`), sharing the top-down
                            networks with the generative model.

Shapes: K samples of a batch of b are flattened sample-major to K·b rows
(row s·b + i is example i's sample s), as in `tfvae.VAE`.
"""

import tensorflow as tf

from tfvae._tensors import repeat_samples as _repeat
from tfvae.models._heads import flatten_features
from tfvae.objectives.gaussian import normal_log_prob, precision_weighted
from tfvae.posteriors.gaussian import DiagonalGaussian


def _draw(loc, scale, seed, deterministic, temperature=1.0):
    """loc + T·scale·ε, one draw per row (the posterior head's sampler)."""
    if deterministic:
        return loc
    return DiagonalGaussian.sample(loc, temperature * scale, 1, seed)[0]


def top_down(model, z_above, l, training=False):
    """p(z_l | z_{l+1})'s `(loc, scale)`, each `(N, d_l)`."""
    return model.p_heads[l](model.down_nets[l](z_above, training=training))


def posterior(model, x, k, seed, training=False, deterministic=False, gradient_scale=None):
    """Draws z_l ~ q for every layer and scores them.

    Args:
        x: `(b, *input_shape)` float32.
        k: samples per example (int or int32 scalar tensor).
        seed: `(2,)` int seed.
        deterministic: use every conditional's mean instead of a draw (the
            posterior means `encode` returns; log-densities still computed).
        gradient_scale: None, or (bottom-up inference) a
            `tfvae.objectives.GradientScale` for the path / DReG gradient:
            every term then sees the samples through it, and log q keeps
            only its gradient through the samples (`_path_log_q`). Values
            are unchanged.
    Returns:
        `(zs, log_q, log_p)`: lists over layers (bottom first) of
        z_l `(k·b, d_l)`, log q(z_l | ·) `(k·b,)` and log p(z_l | z_{l+1})
        `(k·b,)` (for l = L, log p(z_L) under the prior).
    """
    num_layers = len(model.latent_dims)
    seeds = tf.random.split(tf.cast(seed, tf.int64), num_layers)
    h = flatten_features(model.encoder(x, training=training))
    zs, log_q = [None] * num_layers, [None] * num_layers
    p_params = [None] * num_layers
    if model.inference == "bottom_up":
        features = _repeat(h, k)
        for l in range(num_layers):
            if l > 0:
                features = model.up_nets[l - 1](zs[l - 1], training=training)
            loc, scale = model.q_heads[l](features)
            zs[l] = _draw(loc, scale, seeds[l], deterministic)
            log_q[l] = normal_log_prob(zs[l], loc, scale)
        if gradient_scale is not None:
            # The sampling chain above keeps the raw draws, so a gradient
            # reaching z_1 through z_2's draw is scaled once, at z_2.
            zs = [gradient_scale(z) for z in zs]
            log_q = _path_log_q(model, _repeat(h, k), zs, training)
    else:  # ladder: a deterministic upward pass, then a stochastic downward one
        if gradient_scale is not None:
            raise ValueError("Path / DReG gradients need the posterior's parameters apart from the generative "
                             "model's; ladder inference shares the top-down networks.")
        d = [h]
        for l in range(1, num_layers):
            d.append(model.up_nets[l - 1](d[-1], training=training))
        for l in reversed(range(num_layers)):
            loc, scale = (_repeat(t, k) for t in model.q_heads[l](d[l]))
            if l < num_layers - 1:
                p_params[l] = top_down(model, zs[l + 1], l, training)
                loc, scale = precision_weighted(loc, scale, *p_params[l])
            zs[l] = _draw(loc, scale, seeds[l], deterministic)
            log_q[l] = normal_log_prob(zs[l], loc, scale)
    log_p = []
    for l in range(num_layers - 1):
        loc, scale = p_params[l] if p_params[l] is not None else top_down(model, zs[l + 1], l, training)
        log_p.append(normal_log_prob(zs[l], loc, scale))
    log_p.append(model.prior.log_prob(zs[-1]))
    return zs, log_q, log_p


def _bottom_up_log_q(model, features, zs, training):
    """log q(z_l | z_{l−1}) of given samples, bottom-up: `(k·b,)` per layer;
    `features` are the encoder's, repeated per sample."""
    out = []
    for l, z in enumerate(zs):
        if l > 0:
            features = model.up_nets[l - 1](zs[l - 1], training=training)
        loc, scale = model.q_heads[l](features)
        out.append(normal_log_prob(z, loc, scale))
    return out


def _path_log_q(model, features, zs, training):
    """log q's values, with the gradient through the samples `zs` alone.

    log q_φ(z) − [log q_φ(z̄) − stop(log q_φ(z̄))], z̄ = stop(z): the bracket
    is zero with gradient ∂log q_φ/∂φ at fixed z (the score, also through
    each q(z_l | z_{l−1})'s dependence on φ at fixed z_{l−1}), so what is
    left is the path derivative through z_1..z_L, as for `tfvae.VAE`.
    """
    live = _bottom_up_log_q(model, features, zs, training)
    fixed = _bottom_up_log_q(model, features, [tf.stop_gradient(z) for z in zs], training)
    return [a - (b - tf.stop_gradient(b)) for a, b in zip(live, fixed)]


def prior_sample(model, n, seed, temperature=1.0):
    """z_L ~ p(z_L), then z_l ~ p(z_l | z_{l+1}) down to z_1, `(n, d_1)`;
    `temperature` T scales every layer's noise."""
    num_layers = len(model.latent_dims)
    seeds = tf.random.split(tf.cast(seed, tf.int64), num_layers)
    z = model.prior.sample(n, seeds[-1], temperature=temperature)
    for l in reversed(range(num_layers - 1)):
        loc, scale = top_down(model, z, l)
        z = _draw(loc, scale, seeds[l], False, temperature)
    return z
