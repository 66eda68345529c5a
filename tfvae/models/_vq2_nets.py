"""The networks of a two-level VQ-VAE-2 (`tfvae.VQVAE2`) and their shape checks.

Default nets (Razavi et al., 2019, Fig. 2a, with one halving per level),
F = `filters`, D = `embedding_dim`, for an `(H, W, C)` image:

    bottom_encoder  x (H, W, C)                 -> h_b (H/2, W/2, F)   ResidualConvEncoder((F,))
    top_encoder     h_b                          -> h_t (H/4, W/4, F)   ResidualConvEncoder((F,))
    top_decoder     e_top (H/4, W/4, D)          -> (H/2, W/2, F)       ResidualConvDecoder((F,))
    upsampler       e_top (H/4, W/4, D)          -> (H/2, W/2, D)       Conv2DTranspose, stride = grid ratio
    decoder         [up(e_top), e_bottom] (H/2, W/2, 2D) -> (H, W, F)   ResidualConvDecoder((F,))

so 28x28 -> 14x14 bottom and 7x7 top codes, 32x32 -> 16x16 and 8x8,
8x8 -> 4x4 and 2x2. A user's nets may change the ratios; the bottom grid
must be an integer multiple of the top grid.
"""

import keras

from tfvae.nets.residual_conv import ResidualConvDecoder, ResidualConvEncoder


def default_net(role, input_shape, filters, num_residual_blocks):
    """The default layer for `role` (one of the four above)."""
    h, w = input_shape[:2]
    if h % 4 or w % 4:
        raise ValueError(f"The default VQ-VAE-2 nets halve H and W twice; input_shape={tuple(input_shape)} has a "
                         f"side not divisible by 4. Pass your own `{role}` (and the other nets).")
    if role in ("bottom_encoder", "top_encoder"):
        return ResidualConvEncoder((filters,), num_residual_blocks=num_residual_blocks, name=role)
    return ResidualConvDecoder((filters,), num_residual_blocks=num_residual_blocks, name=role)


def spatial(shape, what):
    """`(h, w)` of a `(batch, h, w, F)` output shape, or a clear error."""
    if len(shape) != 4:
        raise ValueError(f"The VQ-VAE-2 {what} must return spatial features (batch, h, w, F); it returned shape "
                         f"{tuple(shape)}.")
    return int(shape[1]), int(shape[2])


def grid_ratio(bottom_grid, top_grid):
    """`(f_h, f_w)` with bottom = f · top, or a clear error."""
    if any(b % t for b, t in zip(bottom_grid, top_grid)):
        raise ValueError(f"The bottom code grid {bottom_grid} must be an integer multiple of the top grid "
                         f"{top_grid} (the top codes are upsampled onto it).")
    return tuple(b // t for b, t in zip(bottom_grid, top_grid))


def upsampler(ratio, channels):
    """A transposed convolution from the top grid to the bottom grid
    (kernel 2f, stride f per side: every output sees two top cells)."""
    return keras.layers.Conv2DTranspose(channels, tuple(2 * f for f in ratio), strides=ratio, padding="same",
                                        name="top_upsampler")
