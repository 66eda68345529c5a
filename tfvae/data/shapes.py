"""A synthetic data set of rendered shapes with known generative factors.

    images, factors, names = tfvae.data.shapes.make_shapes()
    # images (N, 32, 32, 1) in {0, 1}; factors (N, 4) int; names ("shape", "scale", "x", "y")

Every combination of the factors appears once (a full grid, like dSprites
without rotation), which is what the disentanglement metrics' "hold one
factor fixed, let the others vary" sampling expects. NumPy only, so it
runs offline.
"""

import itertools

import numpy as np

FACTOR_NAMES = ("shape", "scale", "x", "y")
SHAPES = ("square", "circle", "triangle")


def _check(value, name, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"Expected `{name}` to be an integer >= {low}. Received: {name}={value!r}")
    return int(value)


def render(shape, half_size, centre_x, centre_y, image_size):
    """One binary image `(image_size, image_size)` of a shape.

    Pixel `(row, col)` has centre `((col + 0.5) / S, (row + 0.5) / S)` in
    the unit square (y points down). It is 1 when that centre lies in:
    square `max(|dx|, |dy|) <= h`; circle `dx² + dy² <= h²`; triangle
    (apex up) `-h <= dy <= h` and `|dx| <= (dy + h) / 2`, where
    `(dx, dy)` is the offset from the centre and `h = half_size`.
    """
    grid = (np.arange(image_size) + 0.5) / image_size
    dx = grid[None, :] - centre_x
    dy = grid[:, None] - centre_y
    if shape == "square":
        mask = np.maximum(np.abs(dx), np.abs(dy)) <= half_size
    elif shape == "circle":
        mask = dx ** 2 + dy ** 2 <= half_size ** 2
    elif shape == "triangle":
        mask = (np.abs(dy) <= half_size) & (np.abs(dx) <= (dy + half_size) / 2.0)
    else:
        raise ValueError(f"Expected `shape` in {SHAPES}. Received: shape={shape!r}")
    return mask.astype(np.float32)


def make_shapes(image_size=32, num_scales=4, num_positions=12, min_scale=0.12, max_scale=0.24):
    """Renders every (shape, scale, x, y) combination.

    Half-sizes are `num_scales` values evenly spaced in
    `[min_scale, max_scale]` (fractions of the image side); centres are
    `num_positions` values evenly spaced in `[max_scale, 1 - max_scale]` on
    each axis, so no shape is clipped by the border.

    Args:
      image_size: side in pixels, >= 8.
      num_scales, num_positions: values per factor, >= 2.
      min_scale, max_scale: half-size range, `0 < min_scale < max_scale < 0.5`.

    Returns:
      `(images, factors, names)`: float32 `(N, S, S, 1)` in {0, 1},
      int32 `(N, 4)` factor indices, and `FACTOR_NAMES`, with
      `N = 3 * num_scales * num_positions²` in the order of
      `itertools.product` over the factors.

    Raises:
      ValueError: bad sizes or scales.
    """
    image_size = _check(image_size, "image_size", 8)
    num_scales = _check(num_scales, "num_scales", 2)
    num_positions = _check(num_positions, "num_positions", 2)
    if not 0.0 < min_scale < max_scale < 0.5:
        raise ValueError(f"Expected 0 < min_scale < max_scale < 0.5. Received: min_scale={min_scale!r}, "
                         f"max_scale={max_scale!r}")
    scales = np.linspace(min_scale, max_scale, num_scales)
    positions = np.linspace(max_scale, 1.0 - max_scale, num_positions)
    factors = np.array(list(itertools.product(range(len(SHAPES)), range(num_scales), range(num_positions),
                                              range(num_positions))), np.int32)
    images = np.stack([render(SHAPES[s], scales[c], positions[x], positions[y], image_size)
                       for s, c, x, y in factors])
    return images[..., None], factors, FACTOR_NAMES
