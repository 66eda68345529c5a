"""PNG grids of images, for sample/reconstruction snapshots.

Written with Pillow (a dependency of matplotlib), so it needs no display
and no matplotlib backend.
"""

import math

import numpy as np

from tfvae.training import files


def make_image_grid(images, nrow=None, padding=2, pad_value=1.0, scale=1):
    """Tiles images into one uint8 array.

    The grid has `nrow` images per row and `rows = ceil(n / nrow)` rows,
    with `padding` pixels between and around the tiles, so its size is
    `(rows (H + padding) + padding) * scale` by
    `(nrow (W + padding) + padding) * scale` pixels.

    Args:
      images: `(n, H, W, C)` with C in {1, 3} (or `(n, H, W)`), values in
        [0, 1]; values slightly outside (e.g. Gaussian means) are clipped.
        NumPy arrays or tensors.
      nrow: images per row; defaults to `ceil(sqrt(n))` (a square-ish grid).
      padding: non-negative int, pixels of `pad_value` between tiles.
      pad_value: grey level of the padding in [0, 1].
      scale: positive int, nearest-neighbour magnification (8x8 digits are
        hard to see at scale 1).

    Returns:
      uint8 array `(height, width)` for C = 1 or `(height, width, 3)`.

    Raises:
      ValueError: wrong shape or channel count, no images, NaN/inf values,
        or bad `nrow`, `padding`, `pad_value`, `scale`.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(
            f"Expected `images` of shape (n, H, W, C) with C in {{1, 3}}. Received: shape {x.shape}")
    n, h, w, c = x.shape
    if n == 0:
        raise ValueError(f"Expected at least one image. Received: images with shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("Expected `images` to be finite. Received: images containing NaN or inf")
    nrow = int(math.ceil(math.sqrt(n))) if nrow is None else nrow
    for value, name, low in ((nrow, "nrow", 1), (padding, "padding", 0), (scale, "scale", 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            kind = "a positive" if low else "a non-negative"
            raise ValueError(f"Expected `{name}` to be {kind} integer. Received: {name}={value!r}")
    if not 0.0 <= pad_value <= 1.0:
        raise ValueError(f"Expected `pad_value` in [0, 1]. Received: pad_value={pad_value!r}")
    ncol = min(nrow, n)
    rows = int(math.ceil(n / ncol))
    grid = np.full((rows * (h + padding) + padding, ncol * (w + padding) + padding, c),
                   pad_value, np.float32)
    for i in range(n):
        top = padding + (i // ncol) * (h + padding)
        left = padding + (i % ncol) * (w + padding)
        grid[top:top + h, left:left + w] = x[i]
    grid = np.clip(grid, 0.0, 1.0)
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    grid = np.round(grid * 255.0).astype(np.uint8)
    return grid[..., 0] if c == 1 else grid


def save_image_grid(images, path, nrow=None, padding=2, pad_value=1.0, scale=1):
    """Writes images as one PNG grid (see `make_image_grid` for the layout).

    Args:
      images: `(n, H, W, C)` in [0, 1], C in {1, 3}.
      path: file to write (parent folders are created); `.png` recommended.
        Written crash-safely: a kill mid-write leaves the previous file.
      nrow, padding, pad_value, scale: as in `make_image_grid`.

    Returns:
      `path`.

    Raises:
      ValueError: as `make_image_grid`.
      IsADirectoryError: `path` is a folder.
    """
    from PIL import Image  # Lazy: only needed when writing.

    # uint8 (h, w) is saved as greyscale "L", (h, w, 3) as "RGB".

    grid = make_image_grid(images, nrow=nrow, padding=padding, pad_value=pad_value, scale=scale)
    # Crash-safe: a temporary file in the same folder, fsync, rename.
    with files.atomic_path(path) as tmp:
        Image.fromarray(grid).save(tmp, format="PNG")
    return path
