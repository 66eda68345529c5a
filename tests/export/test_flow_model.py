"""FlowModel signatures, in-process."""

import numpy as np
import pytest
import tensorflow as tf

from tests.export import _models


def test_log_prob_and_sample_equal_the_keras_model(flow_export):
    model, _, loaded = flow_export
    assert set(loaded.signatures) == {"serving_default", "log_prob", "sample"}
    x = _models.grid_vectors(3)
    out = loaded.signatures["log_prob"](x=x)
    np.testing.assert_allclose(out["log_prob"], model.log_prob(x, seed=0), rtol=1e-5)
    np.testing.assert_allclose(out["bits_per_dim"], model.bits_per_dim(x, seed=0), rtol=1e-5)
    np.testing.assert_allclose(loaded.signatures["serving_default"](x=x)["log_prob"], out["log_prob"])
    s = loaded.signatures["sample"](num_samples=tf.constant(6), seed=tf.constant(9, tf.int64),
                                    temperature=tf.constant(0.7))["samples"]
    np.testing.assert_allclose(s, model.sample(6, temperature=0.7, seed=9), rtol=1e-5, atol=1e-6)
    assert s.shape == (6, 4) and set(np.unique(np.round(s.numpy() * 3))) <= {0.0, 1.0, 2.0, 3.0}


@pytest.mark.parametrize("x,match", [
    (np.full((2, 4), 1.5, "float32"), r"expected `x` to lie in \[0, 1\]"),
    (np.array([[0, np.nan, 0, 0]], "float32"), "`x` contains NaN"),
    (np.zeros((2, 5), "float32"), r"tensor x \[2,5\] is not compatible with expected shape \[\?,4\]"),
])
def test_bad_inputs(flow_export, x, match):
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        flow_export[2].signatures["log_prob"](x=tf.constant(x))
