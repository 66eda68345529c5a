import pytest

from tests import checks
from tfvae.flows.permute import Permute


@pytest.mark.parametrize("check", checks.ALL_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("mode", ["reverse", "random"])
def test_permute_vector(check, mode, tmp_path):
    # A permutation has no trainable weights: nothing to randomize or train.
    if check is checks.check_gradients_reach_weights:
        pytest.skip("no trainable weights")
    check(lambda **kw: Permute(mode, seed=3, **kw), (5,), tmp_path=tmp_path,
          identity_at_init=False)
