import numpy as np
import pytest

from tfvae.flows.permute import Permute


def test_reverse_and_explicit_orders():
    x = np.arange(8, dtype="float32").reshape(2, 4)
    np.testing.assert_array_equal(Permute("reverse")(x)[0], x[:, ::-1])
    np.testing.assert_array_equal(Permute([2, 0, 3, 1])(x)[0], x[:, [2, 0, 3, 1]])
    image = np.arange(12, dtype="float32").reshape(1, 2, 2, 3)
    y, log_det = Permute("reverse", event_ndims=3)(image)
    np.testing.assert_array_equal(y, image[..., ::-1])
    np.testing.assert_array_equal(log_det, [0.0])
    a, b = Permute("random", seed=1), Permute("random", seed=1)
    np.testing.assert_array_equal(a(x)[0], b(x)[0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(permutation="sorted"), "`permutation`"),
    (dict(permutation=[0, 0, 1]), "`permutation`"),
    (dict(event_ndims=2), "`event_ndims`"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Permute(**kwargs)
    with pytest.raises(ValueError, match="3 entries"):
        Permute([0, 2, 1])(np.zeros((1, 4), "float32"))
