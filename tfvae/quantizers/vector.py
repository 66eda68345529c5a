"""Vector quantisation with a learned codebook (VQ-VAE)."""

import keras
import tensorflow as tf

from tfvae._replicas import replica_sum, sample_rows
from tfvae.nets._validate import nonnegative_float, positive_int


@keras.saving.register_keras_serializable(package="tfvae")
class VectorQuantizer(keras.layers.Layer):
    """Nearest-neighbour quantisation of encoder outputs to K code vectors.

    Every position i of `z_e (batch, ..., D)` (one per spatial cell of a
    conv encoder) is replaced by its nearest code vector:
        c_i = argmin_k ||z_e,i − e_k||²,    z_q,i = e_{c_i}.
    The output is z_e + sg(z_q − z_e): its value is z_q, its gradient the
    identity (straight-through estimator), so the decoder's gradient reaches
    the encoder. Per example, summed over positions:
        commitment = Σ_i ||z_e,i − sg(e_{c_i})||²   (pulls the encoder to its codes)
        codebook   = Σ_i ||sg(z_e,i) − e_{c_i}||²   (pulls codes to the encoder;
                                                    unused with EMA updates)
    Both have the same value; they differ only in where gradients go.

    EMA updates (`ema_decay=γ`, training only), with n_k the number of
    positions of the batch assigned to code k and s_k the sum of their z_e:
        N_k ← γ N_k + (1 − γ) n_k,       m_k ← γ m_k + (1 − γ) s_k,
        Ñ_k = (N_k + ε) / (Σ_j N_j + K ε) · Σ_j N_j   (Laplace smoothing),
        e_k ← m_k / Ñ_k.
    N starts at 1 and m at the initial codebook, so unused codes stay put.
    Without EMA the codebook is a trainable weight fitted by the `codebook`
    loss, and N is still tracked (with γ = 0.99) as a usage statistic.

    Dead-code restart (`dead_code_threshold > 0`, training only): a code
    whose usage N_k falls below the threshold (in assignments per batch) is
    moved to a randomly chosen encoder output of the current batch, and its
    N_k reset to 1 (m_k = e_k). With the default threshold of 1 (Dhariwal
    et al.), a code is restarted after every step in which nobody used it,
    so unused codes keep landing on the data until they are used; the first
    step thus initialises the codebook from encoder outputs. Keep the
    threshold below the mean usage batch·h·w/K. The choice is a stateless
    draw keyed on the layer's seed generator.

    Args:
        num_embeddings: K ≥ 2.
        embedding_dim: D.
        ema_decay: γ in (0, 1), or None for a codebook trained by gradient.
        epsilon: ε of the Laplace smoothing.
        dead_code_threshold: usage (assignments per batch, EMA) below which
            a code is restarted; 0 disables restarts.
        seed: seed of the restart draws.

    Call: `quantizer(z_e, training)` with `z_e (batch, ..., D)` returns a dict
        quantized  `(batch, ..., D)` float32, straight-through,
        codes      `(batch, ...)` int32 in [0, K),
        commitment, codebook `(batch,)`,
        perplexity  scalar, exp(H(p̄)) of the batch's code frequencies p̄
                    (K for a uniform assignment, 1 for a single code),
        usage       scalar, the fraction of the K codes used in the batch.

    References:
        van den Oord et al., "Neural Discrete Representation Learning", 2017.
        Razavi et al., "Generating Diverse High-Fidelity Images with VQ-VAE-2", 2019.
        Dhariwal et al., "Jukebox" (2020), for restarting dead codes.
    """

    def __init__(self, num_embeddings, embedding_dim, ema_decay=0.99, epsilon=1e-5, dead_code_threshold=1.0,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings")
        if self.num_embeddings < 2:
            raise ValueError(f"Expected `num_embeddings` to be at least 2. Received: num_embeddings={num_embeddings}")
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim")
        if ema_decay is not None and not (isinstance(ema_decay, (int, float)) and 0.0 < ema_decay < 1.0):
            raise ValueError(f"Expected `ema_decay` to be None or a number in (0, 1). Received: ema_decay={ema_decay!r}")
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.epsilon = nonnegative_float(epsilon, "epsilon")
        self.dead_code_threshold = nonnegative_float(dead_code_threshold, "dead_code_threshold")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")

    def build(self, input_shape=None):
        k, d = self.num_embeddings, self.embedding_dim
        # Under tf.distribute every replica computes the same update, from
        # the global batch's statistics (see `_update`); "mean" aggregation
        # of identical values leaves them as they are.
        self.codebook = self.add_weight(
            name="codebook", shape=(k, d), trainable=self.ema_decay is None, aggregation="mean",
            initializer=keras.initializers.VarianceScaling(1.0, "fan_out", "uniform", seed=self.seed))
        self.cluster_size = self.add_weight(name="cluster_size", shape=(k,), trainable=False,
                                            initializer="ones", aggregation="mean")
        self.embed_sum = self.add_weight(name="embed_sum", shape=(k, d), trainable=False,
                                         initializer="zeros", aggregation="mean")
        self.embed_sum.assign(self.codebook)
        self.built = True

    @property
    def decay(self):
        return 0.99 if self.ema_decay is None else self.ema_decay

    # -- weight-free pieces -------------------------------------------------
    def assign_codes(self, flat):
        """`flat (N, D) -> (N,)` int32 indices of the nearest code vectors."""
        e = tf.cast(self.codebook, tf.float32)
        distances = (tf.reduce_sum(flat ** 2, -1, keepdims=True) - 2.0 * tf.matmul(flat, e, transpose_b=True)
                     + tf.reduce_sum(e ** 2, -1)[None])
        return tf.argmin(distances, axis=-1, output_type=tf.int32)

    def lookup(self, codes):
        """`codes (batch, ...)` int -> code vectors `(batch, ..., D)`."""
        return tf.gather(tf.cast(self.codebook, tf.float32), tf.cast(codes, tf.int32))

    def counts(self, codes):
        """Number of positions assigned to each code, `(K,)` float32."""
        flat = tf.reshape(tf.cast(codes, tf.int32), [-1])
        return tf.reduce_sum(tf.one_hot(flat, self.num_embeddings, dtype=tf.float32), axis=0)

    @staticmethod
    def perplexity(counts):
        """exp(−Σ p̄_k log p̄_k) of `(K,)` counts: the effective number of codes."""
        p = counts / tf.maximum(tf.reduce_sum(counts), 1.0)
        return tf.exp(-tf.reduce_sum(tf.math.multiply_no_nan(tf.math.log(p), p)))

    # -- the layer --------------------------------------------------------------
    def call(self, z_e, training=False):
        z_e = tf.cast(z_e, tf.float32)
        shape = tf.shape(z_e)
        flat = tf.reshape(z_e, [-1, self.embedding_dim])
        codes = self.assign_codes(flat)
        z_q = self.lookup(tf.reshape(codes, shape[:-1]))
        batch_axes = list(range(1, len(z_e.shape)))
        commitment = tf.reduce_sum(tf.square(z_e - tf.stop_gradient(z_q)), axis=batch_axes)
        codebook = tf.reduce_sum(tf.square(tf.stop_gradient(z_e) - z_q), axis=batch_axes)
        counts = self.counts(codes)
        if training:
            self._update(flat, codes, counts)
        return {
            "quantized": z_e + tf.stop_gradient(z_q - z_e),
            "codes": tf.reshape(codes, shape[:-1]),
            "commitment": commitment,
            "codebook": codebook,
            "perplexity": self.perplexity(counts),
            "usage": tf.reduce_mean(tf.cast(counts > 0, tf.float32)),
        }

    def _update(self, flat, codes, counts):
        """EMA codebook update and dead-code restart from one batch.

        Under `tf.distribute` the batch is the global one: the counts n_k and
        sums s_k are summed over replicas, and restarts draw from the global
        batch with the same seed on every replica (`sample_rows`), so every
        replica makes the update one device makes on the whole batch.
        """
        flat = tf.stop_gradient(flat)
        gamma = self.decay
        counts = replica_sum(counts)
        n = gamma * self.cluster_size + (1.0 - gamma) * counts
        if self.ema_decay is None:
            codebook = tf.cast(self.codebook, tf.float32)
            m = self.embed_sum
        else:
            sums = replica_sum(tf.matmul(tf.one_hot(codes, self.num_embeddings, dtype=tf.float32), flat,
                                         transpose_a=True))
            m = gamma * self.embed_sum + (1.0 - gamma) * sums
            total = tf.reduce_sum(n)
            smoothed = (n + self.epsilon) / (total + self.num_embeddings * self.epsilon) * total
            codebook = m / smoothed[:, None]
        if self.dead_code_threshold > 0:
            dead = n < self.dead_code_threshold
            seed = tf.cast(self.seed_generator.next(), tf.int32)
            codebook = tf.where(dead[:, None], sample_rows(flat, self.num_embeddings, seed), codebook)
            n = tf.where(dead, tf.ones_like(n), n)
            if self.ema_decay is not None:
                m = tf.where(dead[:, None], codebook, m)
        self.cluster_size.assign(n)
        if self.ema_decay is not None or self.dead_code_threshold > 0:
            self.codebook.assign(tf.cast(codebook, self.codebook.dtype))
        if self.ema_decay is not None:
            self.embed_sum.assign(m)

    def compute_output_shape(self, input_shape):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(num_embeddings=self.num_embeddings, embedding_dim=self.embedding_dim,
                      ema_decay=self.ema_decay, epsilon=self.epsilon,
                      dead_code_threshold=self.dead_code_threshold, seed=self.seed)
        return config
