"""Cross-replica primitives for code that runs inside a `tf.distribute` step.

Every function is the identity (or the plain single-device computation)
off a strategy, in the cross-replica context and with one replica, so a
layer can call them unconditionally. Under a strategy with R replicas each
replica holds a share x_r of the global batch x = concat(x_0, ..., x_{R−1})
(MirroredStrategy splits a batch contiguously in replica order), and these
make a statistic of x, not of x_r, identical on every replica.
"""

import tensorflow as tf

_SUM = tf.distribute.ReduceOp.SUM


def num_replicas():
    """Replicas summing gradients here: 1 off a strategy and in the
    cross-replica context (eager calls outside `strategy.run`)."""
    if tf.distribute.in_cross_replica_context():
        return 1
    return tf.distribute.get_strategy().num_replicas_in_sync


def replica_sum(value):
    """Σ_r value_r over replicas (a tensor or a list of them); `value` off a strategy."""
    if num_replicas() == 1:
        return value
    return tf.distribute.get_replica_context().all_reduce(_SUM, value)


def sample_rows(x, num, seed):
    """`num` rows drawn uniformly, with replacement, from the global batch.

    Off a strategy: `tf.gather(x, i)` with i ~ U{0, ..., N−1}^num from the
    stateless `seed`. Under a strategy the indices are drawn once over the
    global batch size B = Σ_r N_r with the same seed on every replica (the
    seed must be the same there: do not fold in the replica id); the replica
    owning row i (offset_r ≤ i < offset_r + N_r) contributes it and the
    others zeros, and a sum over replicas gives every replica the same
    `(num, ...)` rows -- the rows one device would draw from the whole batch,
    at the cost of one all-reduce of `num` rows (no all-gather of the batch).

    Args:
        x: `(N_r, ...)`, this replica's rows.
        num: int, rows to draw.
        seed: `(2,)` int stateless seed, equal on every replica.

    Returns:
        `(num, ...)`, the same on every replica.
    """
    n = tf.shape(x)[0]
    replicas = num_replicas()
    if replicas == 1:
        return tf.gather(x, tf.random.stateless_uniform([num], seed, 0, n, tf.int32))
    rid = tf.distribute.get_replica_context().replica_id_in_sync_group
    # (R,) shares N_r, summed as float32 (exact below 2^24; collectives reduce floats everywhere)
    sizes = tf.cast(replica_sum(tf.one_hot(rid, replicas) * tf.cast(n, tf.float32)), tf.int32)
    offset = tf.reduce_sum(sizes[:rid])
    pick = tf.random.stateless_uniform([num], seed, 0, tf.reduce_sum(sizes), tf.int32) - offset
    mine = (pick >= 0) & (pick < n)
    # A zero row appended, so a replica with an empty share still gathers.
    padded = tf.concat([x, tf.zeros(tf.concat([[1], tf.shape(x)[1:]], 0), x.dtype)], 0)
    rows = tf.gather(padded, tf.where(mine, pick, n))
    mine = tf.reshape(mine, tf.concat([[num], tf.ones([tf.rank(x) - 1], tf.int32)], 0))
    return replica_sum(tf.where(mine, rows, tf.zeros_like(rows)))
