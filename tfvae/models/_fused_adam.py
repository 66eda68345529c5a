"""Keras's Adam update as TensorFlow's fused kernel, one op per variable.

Keras 3's `Adam.update_step` is about ten element-wise ops per variable,
each a pass over memory and a kernel launch. TensorFlow has the same
update as one kernel, `ResourceApplyAdam` (what `tf.compat.v1` and Keras 2
optimizers ran):

    α_t = lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ),   t = iterations + 1
    m ← β₁ m + (1 − β₁) g
    v ← β₂ v + (1 − β₂) g²
    θ ← θ − α_t m / (√v + ε)

which is Keras's arithmetic (Keras writes the moment updates as m + (g − m)
(1 − β₁), equal up to float rounding). For a step that is not
XLA-compiled it is faster than Keras's ops and than the same update as an
XLA cluster (`_xla.cluster`), and it needs no compilation, which the
cluster pays in the first epoch. In an XLA-compiled step XLA lowers it
(tf2xla has the kernel), from fewer ops than Keras's update.

Used only where it is exactly Keras's update: `keras.optimizers.Adam`
itself, without AMSGrad, weight decay, clipping, EMA, gradient
accumulation or a loss scale, on float32 variables without constraints,
with a dense gradient for every variable; anything else goes through
Keras (`_steps._apply`).
"""

import keras
import tensorflow as tf


def applies(optimizer, grads, variables):
    """Whether `apply(optimizer, grads, variables)` is Keras's update exactly."""
    if type(optimizer) is not keras.optimizers.Adam:
        return False
    if optimizer.amsgrad or optimizer.weight_decay or optimizer.use_ema or optimizer.gradient_accumulation_steps:
        return False
    if optimizer.clipnorm or optimizer.clipvalue or optimizer.global_clipnorm or optimizer.loss_scale_factor:
        return False
    if len(grads) != len(variables):
        return False
    for g, v in zip(grads, variables):
        if not isinstance(g, tf.Tensor) or g.dtype != tf.float32 or v.dtype != "float32":
            return False
        if v.constraint is not None or getattr(v, "overwrite_with_gradient", False):
            return False
    return True


def apply(optimizer, grads, variables):
    """One Adam step on `variables` (built optimizer), then `iterations += 1`."""
    with tf.name_scope(optimizer.name):
        step = tf.cast(optimizer.iterations + 1, tf.float32)
        beta_1, beta_2 = tf.constant(optimizer.beta_1, tf.float32), tf.constant(optimizer.beta_2, tf.float32)
        lr = tf.cast(optimizer.learning_rate, tf.float32)
        shared = dict(beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step), lr=lr,
                      beta1=beta_1, beta2=beta_2, epsilon=tf.constant(optimizer.epsilon, tf.float32))
        for g, v in zip(grads, variables):
            i = optimizer._get_variable_index(v)
            tf.raw_ops.ResourceApplyAdam(var=v.handle, m=optimizer._momentums[i].handle,
                                         v=optimizer._velocities[i].handle, grad=g, **shared)
        optimizer.iterations.assign_add(1)
