"""The kinematics-only feature set: phase space alone, blind to magnitudes, depth and count."""

import numpy as np
import pytest

from surveymass.errors import InputError
from surveymass.models.bundle import load_bundle
from surveymass.models.datasets import load_split
from surveymass.models.deepsets import Architecture
from surveymass.models.features import FEATURE_SETS, Normalisation, compute_features
from surveymass.models.pipeline import train_bundle
from surveymass.models.predict import predict
from surveymass.models.training import TrainingConfig
from toy_clusters import TINY_ARCHITECTURE, write_toy_training_set


@pytest.fixture(scope="module")
def kinematic_bundle(tmp_path_factory):
    base = tmp_path_factory.mktemp("kin")
    data = write_toy_training_set(base / "ts", {"train": 200, "val": 50, "test": 60}, seed=5)
    folder = train_bundle(data, "kin", base / "bundle", Architecture(**TINY_ARCHITECTURE),
                          TrainingConfig(batch_size=32, max_epochs=3, patience=2, seed=1),
                          device="cpu", quiet=True, features="kinematic")
    return data, folder


def test_kinematic_features_are_the_phase_space_columns_of_the_full_set(kinematic_bundle):
    data, _ = kinematic_bundle
    fields = load_split(data, "test")
    full = compute_features(fields, 17.77)
    kin = compute_features(fields, 17.77, "kinematic")
    assert kin.galaxy.shape[1] == 3 and kin.field.shape[1] == 1
    np.testing.assert_array_equal(kin.galaxy, full.galaxy[:, :3])
    np.testing.assert_array_equal(kin.field[:, 0], full.field[:, 0])


def test_a_kinematic_bundle_ignores_magnitudes_and_depth(kinematic_bundle):
    data, folder = kinematic_bundle
    bundle = load_bundle(folder)
    assert bundle.normalisation.features == "kinematic"
    fields = load_split(data, "test").subset(np.arange(8))
    a = predict(bundle, fields, n_samples=50, seed=3, device="cpu")
    fields.mag_r = np.random.default_rng(0).permutation(fields.mag_r) + 1.0
    fields.mag_lim_abs = fields.mag_lim_abs - 1.0
    b = predict(bundle, fields, n_samples=50, seed=3, device="cpu")
    np.testing.assert_array_equal(a.samples, b.samples)
    np.testing.assert_array_equal(a.p_member, b.p_member)


def test_normalisation_knows_its_feature_set_and_refuses_others():
    rng = np.random.default_rng(0)
    for name, (galaxy, field) in FEATURE_SETS.items():
        norm = Normalisation(*(rng.random(len(n)) for n in (galaxy, galaxy, field, field,
                                                             field, field)), features=name)
        assert Normalisation.from_dict(norm.to_dict()).features == name
    data = norm.to_dict()
    data["field_features"] = ["ellipticity", "log10_n_galaxies"]
    with pytest.raises(InputError, match="retrain"):
        Normalisation.from_dict(data)
    with pytest.raises(InputError, match="unknown feature set"):
        compute_features(None, 17.0, "colour")
