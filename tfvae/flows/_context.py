"""The one context mechanism of conditional flows."""

from tfvae.nets._context import check_context, context_dim_at_build
from tfvae.nets._validate import positive_int


class ContextMixin:
    """Mixin of flows whose maps may depend on a `(batch, c)` context.

    Mixed in before `Flow` (`class F(ContextMixin, Flow)`). It takes and
    saves `context_size`, sets `context_dim` when the flow is built
    (`context_size` if given, else the width of the context seen at the
    first call, else None: unconditional; see `tfvae.nets._context`), and
    `check_context(context)` refuses a call that does not match.
    `accepts_context` (True) is the public property models ask.

    Args:
        context_size: positive int or None (inferred at the first call).
    """

    accepts_context = True

    def __init__(self, context_size=None, **kwargs):
        super().__init__(**kwargs)
        self.context_size = None if context_size is None else positive_int(context_size, "context_size")
        self.context_dim = self.context_size

    def build_context(self, context_shape):
        """Fixes `context_dim` from the context shape at build (or None)."""
        self.context_dim = context_dim_at_build(type(self).__name__, self.context_size, context_shape)
        return self.context_dim

    def check_context(self, context):
        check_context(type(self).__name__, self.context_dim, context)

    def get_config(self):
        config = super().get_config()
        config["context_size"] = self.context_size
        return config
