"""Context (conditioning input) checks shared by every layer that takes one.

A conditional layer takes a `(batch, c)` context beside its input. Whether
it is conditional is fixed when it is built: by its `context_size` if set,
else by whether the build (its first call) sees a context, whose width is
then inferred. Afterwards a call must pass a context exactly when the
layer was built with one.
"""


def context_dim_at_build(owner, context_size, context_shape):
    """The context width `c` a layer is built with, or None (unconditional).

    Args:
        owner: the layer's name, for messages.
        context_size: the configured width, or None to infer it.
        context_shape: the context's shape at build, or None. Built from
            the input shape alone (e.g. an old build config), the layer is
            conditional exactly when `context_size` is set.

    Raises:
        ValueError: a context that is not `(batch, c)` or whose width
            differs from `context_size`.
    """
    if context_shape is None:
        return context_size
    context_shape = tuple(context_shape)
    if len(context_shape) != 2 or context_shape[-1] is None:
        raise ValueError(f"{owner} expects a context of shape (batch, c). "
                         f"Received: context.shape={context_shape}")
    if context_size is not None and context_shape[-1] != context_size:
        raise ValueError(f"{owner} was configured with context_size={context_size}. "
                         f"Received: context.shape={context_shape}")
    return int(context_shape[-1])


def check_context(owner, context_dim, context):
    """Raises unless `context` is given exactly when `context_dim` is set."""
    if context is None and context_dim is not None:
        raise ValueError(f"{owner} was built with a context of size {context_dim}; "
                         f"pass `context` of shape (batch, {context_dim}).")
    if context is not None and context_dim is None:
        raise ValueError(f"{owner} was built without a context; received a `context`. Pass one at "
                         "the first call (or set `context_size`) to use one.")
