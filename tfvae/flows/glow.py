"""Glow: multi-scale flow of ActNorm -> 1x1 conv -> affine coupling steps."""

import keras
import tensorflow as tf

from tfvae.flows.actnorm import ActNorm
from tfvae.flows._context import ContextMixin
from tfvae.flows.base import Flow
from tfvae.flows.chain import Chain
from tfvae.flows.conv1x1 import InvertibleConv1x1
from tfvae.flows.coupling import AffineCoupling
from tfvae.nets._validate import nonnegative_float, positive_int


@keras.saving.register_keras_serializable(package="tfvae")
class Glow(ContextMixin, Flow):
    """Multi-scale Glow between an image and a latent of the same shape.

    Orientation (TFP's, like every tfvae flow): the forward map generates an
    image from a latent (`_latent_to_image`), the inverse maps an image to
    its latent (`_image_to_latent`, the density direction). The inverse at
    level l (of L), on its input h of shape (H_l, W_l, C_l):
        h <- squeeze(h)                      (H_l/2, W_l/2, 4 C_l)
        h <- K steps [ActNorm -> InvertibleConv1x1 -> AffineCoupling("channel")],
             each run in *its own forward* direction (so ActNorm's data
             initialisation meets the data, as in the Glow paper)
        if l < L-1: split h = [z_l, h'] along channels (halves); z_l is
            factored out (goes straight to the latent) and level l+1
            transforms h' only
        output = unsqueeze(concat([z_l, level_{l+1}(h')]))  (H_l, W_l, C_l)
    Squeeze, split and concatenation permute entries (log|det| = 0), so
        log|det ∂z/∂x| = Σ over all steps of their forward log-dets
    (ActNorm: HW Σ s; 1x1 conv: HW Σ log|s|; coupling: -Σ (1-m) s).
    Re-assembling the factored-out parts by un-squeezing gives a latent z
    with the input's shape, so an N(0, I) base density applies directly
    (as in `FlowModel`). The forward runs the same recursion backwards,
    each step by its inverse.

    Example:
        >>> glow = tfvae.flows.Glow(levels=2, steps=4, hidden_channels=64)
        >>> model = tfvae.FlowModel(glow, input_shape=(8, 8, 1), dequantize="uniform",
        ...                         num_bins=2, logit_alpha=0.05)

    Args:
        levels: number of scales L; H and W must be divisible by 2**L.
        steps: flow steps K per level.
        hidden_channels: width of each coupling's conv conditioner.
        context_size: width of an optional `(batch, c)` context fed to every
            coupling; if None, inferred from the first call's context.
        log_scale_clamp: soft bound on coupling log-scales.
        seed: seeds the 1x1 convolutions' initial rotations.

    Raises:
        ValueError: invalid arguments or an input size not divisible by 2**L.

    References:
        Kingma & Dhariwal, "Glow: Generative Flow with Invertible 1x1
        Convolutions", NeurIPS 2018.
    """

    event_ndims = 3

    def __init__(self, levels=2, steps=4, hidden_channels=64, context_size=None, log_scale_clamp=3.0,
                 seed=0, **kwargs):
        super().__init__(context_size=context_size, **kwargs)
        self.levels = positive_int(levels, "levels")
        self.steps = positive_int(steps, "steps")
        self.hidden_channels = positive_int(hidden_channels, "hidden_channels")
        self.log_scale_clamp = nonnegative_float(log_scale_clamp, "log_scale_clamp")
        self.seed = int(seed)
        dtype = self.dtype_policy  # float32 by default, see Flow.__init__
        self.level_flows = []
        for level in range(self.levels):
            flows = []
            for k in range(self.steps):
                flows += [
                    ActNorm(name=f"actnorm_{level}_{k}", dtype=dtype),
                    InvertibleConv1x1(seed=self.seed + 1000 * level + k, name=f"conv1x1_{level}_{k}",
                                      dtype=dtype),
                    AffineCoupling("channel", k % 2, hidden_channels=self.hidden_channels,
                                   context_size=self.context_size, log_scale_clamp=self.log_scale_clamp,
                                   name=f"coupling_{level}_{k}", dtype=dtype),
                ]
            self.level_flows.append(Chain(flows, name=f"level_{level}", dtype=dtype))

    def build(self, x_shape, context_shape=None):
        shape = tuple(x_shape)
        factor = 2 ** self.levels
        if len(shape) != 4 or any(d is None or d % factor for d in shape[1:3]) or shape[3] is None:
            raise ValueError(
                f"Glow(levels={self.levels}) expects (batch, H, W, C) inputs with H and W divisible "
                f"by {factor}. Received input_shape={shape}")
        self.build_context(context_shape)
        b, h, w, c = shape
        for level, chain in enumerate(self.level_flows):
            h, w, c = h // 2, w // 2, 4 * c
            chain._build_with((b, h, w, c), context_shape)
            c = c - c // 2  # the channels kept after factoring out c // 2

    def _image_to_latent(self, x, context, level):
        """Level `level` of the inverse: image -> latent, with its log-det."""
        h, log_det = self.level_flows[level](tf.nn.space_to_depth(x, 2), context=context)
        if level < self.levels - 1:
            split = h.shape[-1] // 2
            rest, rest_log_det = self._image_to_latent(h[..., split:], context, level + 1)
            h = tf.concat([h[..., :split], rest], axis=-1)
            log_det += rest_log_det
        return tf.nn.depth_to_space(h, 2), log_det

    def _latent_to_image(self, y, context, level):
        """Level `level` of the forward: latent -> image, with its log-det."""
        h = tf.nn.space_to_depth(y, 2)
        log_det = tf.zeros(tf.shape(y)[:1], y.dtype)
        if level < self.levels - 1:
            split = h.shape[-1] // 2
            rest, log_det = self._latent_to_image(h[..., split:], context, level + 1)
            h = tf.concat([h[..., :split], rest], axis=-1)
        h, step_log_det = self.level_flows[level].inverse(h, context=context)
        return tf.nn.depth_to_space(h, 2), log_det + step_log_det

    def _forward_and_log_det(self, z, context):
        self.check_context(context)
        return self._latent_to_image(z, context, 0)

    def _inverse_and_log_det(self, x, context):
        self.check_context(context)
        return self._image_to_latent(x, context, 0)

    @property
    def identity_at_init(self):
        return False  # random 1x1 rotations and data-initialised ActNorms

    def get_config(self):
        config = super().get_config()
        config.update(levels=self.levels, steps=self.steps, hidden_channels=self.hidden_channels,
                      log_scale_clamp=self.log_scale_clamp, seed=self.seed)
        return config
