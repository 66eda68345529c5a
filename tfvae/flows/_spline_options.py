"""The spline transformer's options, shared by spline coupling and MADE layers."""

from tfvae.flows import transformers
from tfvae.nets._validate import positive_float, positive_int


class SplineOptions:
    """Mixin (before the structure) for layers whose transformer is a
    `transformers.RationalQuadraticSpline` of K = `num_bins` bins on
    [-B, B], B = `bound`: checks and saves both, and makes the transformer."""

    def _set_spline(self, num_bins, bound):
        self.num_bins = positive_int(num_bins, "num_bins")
        self.bound = positive_float(bound, "bound")

    def _make_transformer(self):
        return transformers.RationalQuadraticSpline(self.num_bins, self.bound)

    def get_config(self):
        config = super().get_config()
        config.update(num_bins=self.num_bins, bound=self.bound)
        return config
