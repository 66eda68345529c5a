"""Binary masks of coupling layers (weight-free)."""

import numpy as np

MASKS = ("alternating", "checkerboard", "channel")


def make_mask(kind, event_shape, parity=0):
    """Binary numpy mask `m` of shape `event_shape` (1 = conditioning, kept).

    - "alternating" (vectors `(D,)`): m[i] = (i + parity + 1) % 2, so
      parity 0 keeps the even features and transforms the odd ones.
    - "checkerboard" (images `(H, W, C)`): m[h, w, :] = (h + w + parity + 1) % 2.
    - "channel" (images): parity 0 keeps the first C // 2 channels.
    """
    shape = tuple(int(d) for d in event_shape)
    if kind == "alternating":
        if len(shape) != 1 or shape[0] < 2:
            raise ValueError(f"An alternating mask needs vectors with D >= 2. Received event shape {shape}")
        mask = (np.arange(shape[0]) + parity + 1) % 2
    elif kind == "checkerboard":
        if len(shape) != 3 or shape[0] * shape[1] < 2:
            raise ValueError(f"A checkerboard mask needs images (H, W, C) with H*W >= 2. Received {shape}")
        h, w = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
        mask = np.broadcast_to(((h + w + parity + 1) % 2)[..., None], shape)
    elif kind == "channel":
        if len(shape) != 3 or shape[2] < 2:
            raise ValueError(f"A channel mask needs images (H, W, C) with C >= 2. Received {shape}")
        keep = np.arange(shape[2]) < shape[2] // 2
        mask = np.broadcast_to(keep if parity == 0 else ~keep, shape)
    else:
        raise ValueError(f"Expected `mask` to be one of {MASKS}. Received: mask={kind!r}")
    return np.ascontiguousarray(mask, dtype=np.float64)
