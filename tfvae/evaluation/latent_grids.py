"""Interpolation and latent-traversal image grids of a VAE."""

import numpy as np
import tensorflow as tf

from tfvae.metrics import _checks
from tfvae.training.images import save_image_grid


def _decode(vae, z):
    return np.asarray(vae.decode(tf.convert_to_tensor(z, tf.float32)))


def interpolate(vae, x_start, x_end, steps=8):
    """Decodes straight lines between the codes of image pairs.

        z_t = (1 - t) encode(x_start) + t encode(x_end),  t = 0, 1/(steps-1), ..., 1

    Args:
      vae: a `tfvae.VAE`.
      x_start, x_end: `(pairs, *input_shape)` images.
      steps: points per line, >= 2.

    Returns:
      `(pairs * steps, *input_shape)` images, one pair per row of `steps`.
    """
    steps = _checks.positive_int(steps, "steps")
    if steps < 2:
        raise ValueError(f"Expected `steps` to be at least 2. Received: steps={steps}")
    a, b = np.asarray(vae.encode(x_start)), np.asarray(vae.encode(x_end))
    if a.shape != b.shape:
        raise ValueError(f"Expected as many start as end images. Received: {len(a)} and {len(b)}")
    t = np.linspace(0.0, 1.0, steps)[None, :, None]
    z = (1.0 - t) * a[:, None] + t * b[:, None]
    return _decode(vae, z.reshape(-1, a.shape[1]))


def traverse(vae, x, dims=None, values=None):
    """Decodes a code with one dimension at a time swept over `values`.

        z^(d, v) = encode(x) with z_d := v

    Args:
      vae: a `tfvae.VAE`.
      x: one image `(1, *input_shape)` (the base code).
      dims: code dimensions to sweep (default all).
      values: sweep values (default 9 points in [-3, 3], prior units).

    Returns:
      `(len(dims) * len(values), *input_shape)` images, one dimension per row.
    """
    base = np.asarray(vae.encode(x))
    if base.shape[0] != 1:
        raise ValueError(f"Expected one base image. Received: {base.shape[0]}")
    dims = list(range(base.shape[1])) if dims is None else [int(d) for d in dims]
    if any(not 0 <= d < base.shape[1] for d in dims):
        raise ValueError(f"Expected `dims` in [0, {base.shape[1]}). Received: dims={dims}")
    values = np.linspace(-3.0, 3.0, 9) if values is None else np.asarray(values, np.float64)
    z = np.repeat(base, len(dims) * len(values), axis=0).reshape(len(dims), len(values), -1)
    for row, d in enumerate(dims):
        z[row, :, d] = values
    return _decode(vae, z.reshape(-1, base.shape[1]))


def save_interpolation_png(vae, x_start, x_end, path, steps=8, scale=1):
    """Writes `interpolate(...)` as a PNG, one pair per row. Returns `path`."""
    return save_image_grid(interpolate(vae, x_start, x_end, steps), path, nrow=steps, scale=scale)


def save_traversal_png(vae, x, path, dims=None, values=None, scale=1):
    """Writes `traverse(...)` as a PNG, one code dimension per row. Returns `path`."""
    values = np.linspace(-3.0, 3.0, 9) if values is None else values
    return save_image_grid(traverse(vae, x, dims, values), path, nrow=len(values), scale=scale)
