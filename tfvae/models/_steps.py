"""One optimiser step for every tfvae model's `train_step`, correct on one
device, under `tf.distribute` and under a mixed-precision policy.

`minimize(model, tape, loss, batch_size)` takes the replica's loss, the
*mean* over the `batch_size` examples it saw, and

- weights it by `b_r / B` (this replica's share of the global batch,
  `B = Σ_r b_r` by an all-reduce) so that the gradients the strategy sums
  over replicas are the gradient of the global-batch mean, also for a last,
  partial batch split unevenly across replicas (dividing by
  `num_replicas_in_sync` is exact only for equal shares);
- multiplies by the loss scale of a `LossScaleOptimizer` (Keras wraps the
  optimizer in one at `compile` when the policy is "mixed_float16"), whose
  `apply` unscales and skips non-finite steps;
- applies the optimizer's `clipnorm` / `global_clipnorm` / `clipvalue` to
  the *summed* gradient under a strategy. Keras clips before it all-reduces,
  i.e. each replica's partial gradient, which is not what one device does
  with the same global batch; here the gradient is all-reduced first,
  clipped, and handed on divided by the replica count (so the optimizer's
  own sum restores it and its own clipping is then a no-op).

`replica_seed(seed)` folds the replica id into a stateless seed so replicas
draw independent noise (with the same seed they would draw the same ε for
their halves of the batch). Replica 0, and a single device, keep `seed`.

Every tfvae model (VAE, ConditionalVAE, FlowModel, VQ-VAE and its code
prior, Gumbel-softmax VAE) calls `minimize` in its `train_step` and
`replica_seed` on its noise seed.
"""

import tensorflow as tf

from tfvae._replicas import num_replicas as _num_replicas
from tfvae._replicas import replica_sum
from tfvae.models import _fused_adam, _xla


def replica_weight(batch_size):
    """`b_r / Σ_r b_r` as a float32 scalar; exactly 1.0 without a strategy."""
    if _num_replicas() == 1:
        return tf.constant(1.0)
    b = tf.cast(batch_size, tf.float32)
    return b / replica_sum(b)


def replica_seed(seed):
    """A `(2,)` int64 stateless seed, distinct on every replica."""
    seed = tf.cast(seed, tf.int64)
    if _num_replicas() == 1:
        return seed
    rid = tf.distribute.get_replica_context().replica_id_in_sync_group
    return seed + tf.cast(tf.stack([0, 1_000_003 * rid]), tf.int64)


def step_logs(logs):
    """The dict a `train_step`/`test_step` returns, shaped for the strategy.

    Keras 3.15 reduces step outputs under a multi-worker strategy with
    `strategy.reduce("MEAN", v, axis=0)`, which rejects scalars ("Invalid
    reduction dimension 0 for input with 0 dimensions"); a `(1,)` tensor
    reduces to the same mean. Elsewhere the scalars are returned as they are.
    """
    strategy = tf.distribute.get_strategy()
    extended = getattr(strategy, "extended", None)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and extended._in_multi_worker_mode():
        return {k: tf.reshape(v, [1]) for k, v in logs.items()}
    return logs


def minimize(model, tape, loss, batch_size, variables=None):
    """Applies one optimiser step for `loss` (the replica's per-example mean).

    Args:
        model: a compiled `keras.Model` (its `optimizer` is used).
        tape: the `tf.GradientTape` that recorded `loss`.
        loss: scalar float32, mean over this replica's `batch_size` examples.
        batch_size: scalar int, examples this replica saw.
        variables: defaults to `model.trainable_variables`.

    Returns:
        The gradients applied (after any unscaling is left to the optimizer).
    """
    variables = model.trainable_variables if variables is None else variables
    optimizer = model.optimizer
    factor = replica_weight(batch_size)
    # d(loss·w·s)/dθ = w·s·dloss/dθ: the weight and the loss scale enter as
    # the output gradient, so the tape needs no second pass.
    seed_grad = optimizer.scale_loss(factor)
    grads = tape.gradient(loss, variables, output_gradients=tf.cast(seed_grad, loss.dtype))
    n = _num_replicas()
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    if n > 1 and (inner.clipnorm or inner.global_clipnorm or inner.clipvalue):
        grads = _clip_summed(optimizer, inner, grads, n)
    _apply(model, optimizer, grads, variables)
    return grads


def _apply(model, optimizer, grads, variables):
    """`optimizer.apply(grads, variables)`, fused when the optimizer is
    Keras's own and the step runs as a graph outside any tf.distribute
    strategy.

    Keras's optimizers update each variable with several element-wise ops
    (Adam: about ten), each a pass over the variable in memory. Plain Adam
    runs as TensorFlow's one-kernel update (`_fused_adam`), in an
    XLA-compiled step too (XLA lowers the kernel's few ops, which compile
    faster than Keras's ten); any other Keras optimizer (or Adam with
    AMSGrad, weight decay, clipping, EMA, ...) as one XLA cluster (`_xla`)
    when the step is not compiled, one fused loop per variable, the update
    XLA gives a `jit_compile=True` step. The same arithmetic, so the same
    weights up to float rounding. Under a strategy Keras's `apply`
    aggregates across replicas, and optimizers from outside Keras are left
    alone (their ops may have no XLA kernel).
    """
    if not (_xla.traced_without_strategy(model) and type(optimizer).__module__.startswith("keras.")):
        optimizer.apply(grads, variables)
        return
    if not optimizer.built:
        optimizer.build(variables)
    if _fused_adam.applies(optimizer, grads, variables):
        _fused_adam.apply(optimizer, grads, variables)
    elif _xla.enabled(model):
        key = ("optimizer", id(optimizer), tuple(id(v) for v in variables))
        _xla.cluster(model, key, lambda g: optimizer.apply(g, variables))(list(grads))
    else:
        optimizer.apply(grads, variables)


def _clip_summed(optimizer, inner, grads, n):
    idx = [i for i, g in enumerate(grads) if g is not None]
    summed = replica_sum([grads[i] for i in idx])
    if inner is not optimizer:  # LossScaleOptimizer: clip the unscaled gradient
        s = tf.cast(optimizer.scale_loss(tf.constant(1.0)), summed[0].dtype)
        summed = [g * s for g in inner._clip_gradients([g / s for g in summed])]
    else:
        summed = inner._clip_gradients(summed)
    out = list(grads)
    for i, g in zip(idx, summed):
        out[i] = g / n
    return out


def data_init_before_fit(model, x, batch_size, run):
    """Runs the data-dependent initialisation (ActNorm) eagerly on the first
    *global* batch, in the cross-replica context, when `model` trains under a
    strategy with several replicas. One device initialises inside its first
    traced step on that same batch, so both start from the same weights.

    Args:
        model: the model about to `fit`.
        x: what `fit` was given: a `tf.data.Dataset` of batches, or an array
            (tuple) batched by `batch_size` (default 32, as Keras).
        run: `batch -> anything`, one forward pass that calls every flow.
    """
    strategy = model.distribute_strategy
    if strategy.num_replicas_in_sync == 1 or x is None:
        return
    pending = [layer for layer in model._flatten_layers()
               if getattr(layer, "data_init", False) and hasattr(layer, "initialized")
               and not bool(layer.initialized.numpy())]
    if not pending:
        return
    if isinstance(x, tf.data.Dataset):
        batch = next(iter(x))
    else:
        n = batch_size or 32
        batch = tuple(a[:n] for a in x) if isinstance(x, tuple) else x[:n]
    with strategy.scope():
        run(batch)
