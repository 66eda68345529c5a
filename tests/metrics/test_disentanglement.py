"""MIG, DCI, SAP and the FactorVAE score on hand-made codes with known answers.

The factors are a full grid (every combination once), so they are exactly
independent. Three codes:
  perfect:   a permutation of the factors, each stretched monotonically;
  rotated:   the first two factors mixed by a 45° rotation (entangled);
  dead:      the perfect code with one factor's dimension replaced by a
             constant (that factor is not captured at all).
"""

import itertools

import numpy as np
import pytest

from tfvae.metrics import dci
from tfvae.metrics import factorvae_score
from tfvae.metrics import mig
from tfvae.metrics import sap

FACTORS = np.array(list(itertools.product(range(6), range(5), range(4))))  # 120 examples, K = 3


def _perfect():
    z = FACTORS[:, [2, 0, 1]].astype(float)              # permuted
    return np.stack([3.0 * z[:, 0] - 1.0, np.exp(z[:, 1] / 3.0), z[:, 2] ** 2], axis=1)


def _rotated():
    standard = (FACTORS - FACTORS.mean(0)) / FACTORS.std(0)
    mixed = (standard[:, 0] + standard[:, 1]) / np.sqrt(2), (standard[:, 0] - standard[:, 1]) / np.sqrt(2)
    return np.stack([*mixed, standard[:, 2]], axis=1)


def _dead():
    z = _perfect()
    z[:, 0] = 0.7  # factor 2 lived here
    return z


def test_mig_perfect_rotated_dead():
    assert mig(_perfect(), FACTORS)["mig"] == pytest.approx(1.0, abs=1e-12)
    rotated = mig(_rotated(), FACTORS)
    assert rotated["per_factor"][2] == pytest.approx(1.0, abs=1e-12)
    assert max(rotated["per_factor"][:2]) < 0.5
    dead = mig(_dead(), FACTORS)
    np.testing.assert_allclose(dead["per_factor"], [1.0, 1.0, 0.0], atol=1e-12)
    assert dead["mig"] == pytest.approx(2.0 / 3.0)


def test_mig_ignores_an_extra_dead_dimension():
    z = np.concatenate([_perfect(), np.zeros((len(FACTORS), 1))], axis=1)
    assert mig(z, FACTORS)["mig"] == pytest.approx(1.0, abs=1e-12)


def test_dci_perfect_rotated_dead():
    repeated = np.repeat(FACTORS, 4, axis=0)  # 480 examples so every value reaches the training split
    perfect = dci(np.repeat(_perfect(), 4, axis=0), repeated)
    assert perfect["disentanglement"] == pytest.approx(1.0, abs=1e-6)
    assert perfect["completeness"] == pytest.approx(1.0, abs=1e-6)
    assert perfect["informativeness"] == 1.0
    rotated = dci(np.repeat(_rotated(), 4, axis=0), repeated)
    assert rotated["disentanglement"] < 0.8 and rotated["completeness"] < 0.8
    assert rotated["informativeness"] == 1.0  # entangled, yet nothing is lost
    dead = dci(np.repeat(_dead(), 4, axis=0), repeated)
    importance = np.array(dead["importance"])
    assert importance[0].sum() == 0.0  # the constant code is never used
    assert importance[1, 0] == pytest.approx(1.0) and importance[2, 1] == pytest.approx(1.0)
    # Factor 2 is predictable from nothing: its classifier is at chance and
    # spreads its (noise) importance over the live codes, which lowers D.
    assert dead["informativeness"] < (1.0 + 1.0 + 0.4) / 3.0
    assert dead["disentanglement"] < 0.8


def test_sap_perfect_rotated_dead():
    repeated = np.repeat(FACTORS, 4, axis=0)
    perfect = sap(np.repeat(_perfect(), 4, axis=0), repeated)
    assert perfect["sap"] == pytest.approx(1.0, abs=0.05)
    rotated = sap(np.repeat(_rotated(), 4, axis=0), repeated)
    assert rotated["sap"] < perfect["sap"] - 0.2
    dead = sap(np.repeat(_dead(), 4, axis=0), repeated)
    assert np.array(dead["scores"])[0].max() == 0.0  # a constant predicts nothing
    assert dead["sap"] == pytest.approx(2.0 / 3.0, abs=0.05)


def test_sap_continuous_perfect_code():
    z = _perfect()[:, [0]] * 0.0 + FACTORS[:, [2]]  # linear in factor 2
    z = np.concatenate([z, FACTORS[:, [0, 1]]], axis=1).astype(float)
    result = sap(np.repeat(z, 4, axis=0), np.repeat(FACTORS, 4, axis=0), discrete=False)
    assert result["sap"] == pytest.approx(1.0, abs=0.05)


def test_factorvae_score_perfect_rotated_dead():
    assert factorvae_score(_perfect(), FACTORS, num_train=500, num_eval=500)["score"] == 1.0
    rotated = factorvae_score(_rotated(), FACTORS, num_train=1000, num_eval=1000)["score"]
    # Fixing factor 0 or 1 leaves both mixed codes equally variable: those votes split.
    assert 0.45 < rotated < 0.9
    dead = factorvae_score(_dead(), FACTORS, num_train=1000, num_eval=1000)
    assert dead["active_codes"] == 2
    assert dead["score"] == pytest.approx(2.0 / 3.0, abs=0.05)


def test_all_dead_code_scores_zero():
    assert factorvae_score(np.zeros((len(FACTORS), 3)), FACTORS)["score"] == 0.0


@pytest.mark.parametrize("call, match", [
    (lambda: mig(np.zeros((5, 2)), np.zeros((4, 1))), "as many rows as `codes`"),
    (lambda: mig(np.ones((4, 2)), np.zeros((4, 1))), "factor 0 is constant"),
    (lambda: mig(np.ones((4, 2)), np.array([[0.5], [1], [0], [1]])), "discrete"),
    (lambda: mig(np.ones((4, 2)), np.array([0, 1, 0, 1]), num_bins=0), "Received: num_bins=0"),
    (lambda: dci(np.ones((4, 1)), np.array([[0, 1], [1, 0], [0, 0], [1, 1]])), "at least 2 code"),
    (lambda: sap(np.ones((4, 2)), np.array([0, 1, 0, 1]), test_fraction=1.5), "test_fraction"),
    (lambda: factorvae_score(np.ones((4, 2)), np.array([0, 1, 0, 1]), batch_size=1), "at least 2"),
    (lambda: mig(np.full((4, 2), np.nan), np.array([0, 1, 0, 1])), "finite"),
])
def test_bad_inputs_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
