"""The synthetic shapes: a full factor grid, rendered exactly."""

import numpy as np
import pytest

from tfvae.data import shapes


def test_grid_and_rendering():
    images, factors, names = shapes.make_shapes(image_size=16, num_scales=2, num_positions=3)
    assert names == ("shape", "scale", "x", "y")
    assert images.shape == (3 * 2 * 3 * 3, 16, 16, 1) and images.dtype == np.float32
    assert set(np.unique(images)) == {0.0, 1.0}
    assert len({tuple(f) for f in factors}) == len(factors)  # every combination once
    # Moving x moves the mass right; a larger scale covers more pixels.
    cols = np.arange(16)
    by_x = [images[(factors[:, 2] == x) & (factors[:, 3] == 1) & (factors[:, 1] == 0) & (factors[:, 0] == 0)][0]
            for x in range(3)]
    centres = [(im[..., 0].sum(0) * cols).sum() / im.sum() for im in by_x]
    assert centres[0] < centres[1] < centres[2]
    small, large = (images[(factors[:, 1] == s) & (factors[:, 0] == 1)].sum() for s in (0, 1))
    assert small < large


def test_square_area_is_exact():
    # A square of half-size 0.25 centred in a 16-pixel image covers 8x8 pixels.
    assert shapes.render("square", 0.25, 0.5, 0.5, 16).sum() == 64.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(image_size=4), "image_size"), (dict(num_scales=1), "num_scales"),
    (dict(min_scale=0.3, max_scale=0.2), "min_scale"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        shapes.make_shapes(**kwargs)
