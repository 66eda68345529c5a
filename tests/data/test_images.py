"""`save_image_grid` writes a readable PNG of the documented size."""

import numpy as np
import pytest
from PIL import Image

from tfvae.training.images import make_image_grid
from tfvae.training.images import save_image_grid


def test_greyscale_grid_size_and_content(tmp_path):
    images = np.random.default_rng(0).random((10, 8, 8, 1)).astype(np.float32)
    path = save_image_grid(images, tmp_path / "sub" / "grid.png")
    with Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "L"
        # nrow = ceil(sqrt(10)) = 4 columns, 3 rows, 2 px padding around tiles.
        assert im.size == (4 * 10 + 2, 3 * 10 + 2)
        pixels = np.asarray(im)
    np.testing.assert_array_equal(pixels[2:10, 2:10], np.round(images[0, ..., 0] * 255))
    np.testing.assert_array_equal(pixels[12:20, 22:30], np.round(images[6, ..., 0] * 255))
    assert np.all(pixels[:2] == 255)  # White padding.


def test_rgb_grid_nrow_and_scale(tmp_path):
    images = np.ones((5, 4, 6, 3), np.float32) * np.array([1.0, 0.0, 0.0], np.float32)
    path = save_image_grid(images, tmp_path / "rgb.png", nrow=2, padding=0, scale=3)
    with Image.open(path) as im:
        assert im.mode == "RGB" and im.size == (2 * 6 * 3, 3 * 4 * 3)
        assert tuple(np.asarray(im)[0, 0]) == (255, 0, 0)


def test_values_are_clipped_and_bad_input_raises():
    assert make_image_grid(np.full((1, 2, 2, 1), 1.2), padding=0).max() == 255
    with pytest.raises(ValueError, match=r"\(n, H, W, C\)"):
        make_image_grid(np.zeros((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="finite"):
        make_image_grid(np.full((1, 2, 2, 1), np.nan))
    with pytest.raises(ValueError, match="`nrow` to be a positive integer"):
        make_image_grid(np.zeros((1, 2, 2, 1)), nrow=0)
