"""Context plumbing shared by conditional vector flows (MAF, IAF, planar,
Sylvester): context-width inference and checks, and parameters that are
either amortised from the context or the flow's own weights."""

import keras

from tfvae.flows.base import Flow
from tfvae.nets._validate import positive_int


class ConditionalFlow(Flow):
    """A vector flow whose parameters may depend on a `(batch, c)` context.

    Whether the flow is conditional is fixed when it is built: by
    `context_size` if given, else by whether the first call passes a
    context (its width is then inferred). So `IAF(num_layers=2)` can be
    handed to a VAE that calls it with its encoder features; the base
    class's `build_for` / `build_from_config` pass the context shape on.
    Built from an input shape alone, the flow is conditional iff
    `context_size` is set. Calling a conditional flow without a context,
    or the reverse, raises.

    Subclasses implement `_build_flow(event_size, context_dim)`.
    """

    def __init__(self, context_size=None, **kwargs):
        super().__init__(**kwargs)
        self.context_size = None if context_size is None else positive_int(context_size, "context_size")

    def build(self, x_shape, context_shape=None):
        if len(x_shape) != 2 or x_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} expects inputs of shape (batch, D). "
                             f"Received: x.shape={tuple(x_shape)}")
        context_dim = None if context_shape is None else context_shape[-1]
        if context_shape is None and self.context_size is not None:
            # Built from the input shape alone (e.g. an old build config):
            # the constructor says how wide the context is.
            context_dim = self.context_size
        elif context_shape is not None and (len(context_shape) != 2 or context_dim is None):
            raise ValueError(f"{type(self).__name__} expects a context of shape (batch, c). "
                             f"Received: context.shape={tuple(context_shape)}")
        if self.context_size is not None and context_dim != self.context_size:
            raise ValueError(f"{type(self).__name__} was configured with context_size="
                             f"{self.context_size}. Received: context.shape={context_shape}")
        self.event_size = int(x_shape[-1])
        self._context_dim = None if context_dim is None else int(context_dim)
        self._build_flow(self.event_size, self._context_dim)

    def _build_flow(self, event_size, context_dim):
        raise NotImplementedError

    def check_context(self, context):
        """Raises unless `context` matches how the flow was built."""
        if context is None and self._context_dim is not None:
            raise ValueError(f"{type(self).__name__} was built with a context of size "
                             f"{self._context_dim}; pass `context` of shape (batch, {self._context_dim}).")
        if context is not None and self._context_dim is None:
            raise ValueError(f"{type(self).__name__} was built without a context; received a "
                             "`context`. Pass one at the first call (or set `context_size`) to use one.")

    def add_parameters(self, groups):
        """Creates the parameter groups `{name: (size, kernel_init, bias_init)}`.

        Amortised (built with a context): one `Dense(size)` head per group
        on the context. Otherwise: one weight vector per group initialised
        like that head's bias, i.e. what the head outputs for a zero context.
        """
        self._parameter_sizes = {name: size for name, (size, _, _) in groups.items()}
        self.parameter_heads, self.parameter_weights = {}, {}
        for name, (size, kernel_init, bias_init) in groups.items():
            if self._context_dim is not None:
                head = keras.layers.Dense(size, kernel_initializer=kernel_init, bias_initializer=bias_init,
                                          name=f"{name}_head", dtype=self.dtype_policy)
                head.build((None, self._context_dim))
                self.parameter_heads[name] = head
            else:
                self.parameter_weights[name] = self.add_weight(shape=(size,), initializer=bias_init, name=name)

    def parameters(self, context):
        """Returns `{name: (batch or 1, size)}` for this context (or None)."""
        self.check_context(context)
        if context is None:
            return {name: keras.ops.expand_dims(w, 0) for name, w in self.parameter_weights.items()}
        return {name: head(context) for name, head in self.parameter_heads.items()}

    def get_config(self):
        config = super().get_config()
        config.update(context_size=self.context_size)
        return config
