"""Features, normalisation, padded batches and the FieldSet conversion (surveymass.models)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from surveymass.errors import InputError
from surveymass.models.data import FieldSet, fieldset_from_tables, pad, padding_mask
from surveymass.models.features import (
    FIELD_FEATURES,
    GALAXY_FEATURES,
    Normalisation,
    compute_features,
    ellipse,
    make_batch,
)


def _fieldset(xs, ys, vs, mags=None, mag_lim_abs=-20.0):
    counts = [len(x) for x in xs]
    mags = mags or [np.full(n, 16.0) for n in counts]
    return FieldSet(offsets=np.concatenate([[0], np.cumsum(counts)]),
                    x=np.concatenate(xs), y=np.concatenate(ys), v_los=np.concatenate(vs),
                    mag_r=np.concatenate(mags), z_cl=np.full(len(xs), 0.1),
                    mag_lim_abs=np.full(len(xs), mag_lim_abs), field_id=np.arange(len(xs)))


def _rotated_ellipse(a, b, angle, n=360):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x, y = a * np.cos(t), b * np.sin(t)
    return (x * np.cos(angle) - y * np.sin(angle), x * np.sin(angle) + y * np.cos(angle))


def test_ellipse_recovers_axis_and_ellipticity_of_points_on_an_ellipse():
    # Uniform points on an ellipse: <x'^2> = a^2/2, <y'^2> = b^2/2, so b/a is exact.
    x1, y1 = _rotated_ellipse(2.0, 1.0, np.radians(30))
    x2, y2 = _rotated_ellipse(1.0, 1.0, 0.0)
    angle, ellipticity = ellipse(np.concatenate([x1, x2]), np.concatenate([y1, y2]),
                                 np.array([0, 360, 720]))
    assert np.degrees(angle[0]) == pytest.approx(30.0, abs=1e-9)
    np.testing.assert_allclose(ellipticity, [0.5, 0.0], atol=1e-12)


def test_galaxy_features_angle_radius_and_magnitude():
    x, y = _rotated_ellipse(2.0, 1.0, np.radians(30), n=8)  # t = 0 is on the major axis
    fs = _fieldset([x], [y], [np.arange(8.0) * 100], mags=[np.full(8, 17.0)])
    feats = compute_features(fs, mag_limit=17.77)
    col = {name: feats.galaxy[:, i] for i, name in enumerate(GALAXY_FEATURES)}
    assert col["angle_to_major_axis"][0] == pytest.approx(0.0, abs=1e-9)   # on major axis
    assert col["angle_to_major_axis"][2] == pytest.approx(np.pi / 2)      # t = 90 deg: minor
    assert col["angle_to_major_axis"][4] == pytest.approx(0.0, abs=1e-9)  # opposite side
    np.testing.assert_allclose(col["r_proj"], np.hypot(x, y))
    np.testing.assert_allclose(col["mag_minus_limit"], -0.77)
    np.testing.assert_allclose(col["v_los"], np.arange(8.0) * 100)
    field = dict(zip(FIELD_FEATURES, feats.field[0]))
    assert field["log10_n_galaxies"] == pytest.approx(np.log10(8))
    assert field["mag_lim_abs"] == -20.0


def test_normalisation_standardises_train_and_fills_unknown_magnitudes():
    rng = np.random.default_rng(1)
    xs = [rng.normal(size=n) for n in (20, 35, 50)]
    ys = [rng.normal(size=n) for n in (20, 35, 50)]
    vs = [rng.normal(0, 600, size=n) for n in (20, 35, 50)]
    mags = [rng.uniform(14, 17.7, size=n) for n in (20, 35, 50)]
    mags[1][:5] = np.nan
    feats = compute_features(_fieldset(xs, ys, vs, mags), 17.77)
    norm = Normalisation.fit(feats)
    out = norm.apply(feats)
    assert np.isnan(feats.galaxy).sum() == 5
    assert np.all(np.isfinite(out.galaxy))
    np.testing.assert_allclose(out.galaxy[:, :3].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.galaxy[:, :3].std(axis=0), 1, atol=1e-12)
    assert np.all(out.galaxy[20:25, 3] == 0.0)  # unknown magnitudes -> training mean
    again = Normalisation.from_dict(norm.to_dict())
    np.testing.assert_array_equal(again.galaxy_std, norm.galaxy_std)


def test_normalisation_rejects_another_feature_list():
    feats = compute_features(_fieldset([np.ones(3)], [np.zeros(3)], [np.ones(3)]), 17.0)
    card = Normalisation.fit(feats).to_dict()
    card["galaxy_features"] = ["v_los", "r_proj"]
    with pytest.raises(InputError, match="retrain"):
        Normalisation.from_dict(card)


def test_make_batch_pads_with_a_mask_and_keeps_row_order():
    fs = _fieldset([np.arange(3.0), np.arange(5.0)], [np.zeros(3), np.zeros(5)],
                   [np.arange(3.0), 10 + np.arange(5.0)])
    feats = compute_features(fs, 17.0)
    batch = make_batch(feats, np.array([1, 0]))
    assert batch.galaxy.shape == (2, 5, len(GALAXY_FEATURES))
    assert batch.mask.sum(1).tolist() == [5, 3]
    assert batch.galaxy[1, 3:].abs().sum() == 0  # padding is zero
    np.testing.assert_allclose(batch.galaxy[batch.mask][:, 0].numpy(),
                               feats.galaxy[batch.rows, 0])
    np.testing.assert_array_equal(pad(np.arange(4.0), np.array([0, 1, 4]), -1),
                                  [[0, -1, -1], [1, 2, 3]])
    assert padding_mask(np.array([0, 2, 3])).tolist() == [[True, True], [True, False]]


def _tables():
    fields = Table({"field_id": [7, 3], "z_cl": [0.1, 0.05], "mag_lim_abs": [-20.0, -19.0],
                    "log10_m200c": [14.2, 14.8]})
    galaxies = Table({"field_id": [3, 7, 3, 7, 7], "x": [1.0, 2, 3, 4, 5], "y": [0.0] * 5,
                      "r": [1.0, 2, 3, 4, 5], "v_los": [10.0, 20, 30, 40, 50],
                      "mag_r": [15.0] * 5, "is_member": [True, False, True, True, False]})
    return fields, galaxies


def test_fieldset_from_tables_groups_galaxies_by_field_in_field_order():
    fs = fieldset_from_tables(*_tables())
    assert fs.n_galaxies.tolist() == [3, 2]
    assert fs.v_los.tolist() == [20, 40, 50, 10, 30]
    assert fs.is_member.tolist() == [False, True, False, True, True]
    sub = fs.subset(np.array([1]))
    assert sub.v_los.tolist() == [10, 30] and sub.log10_m200c.tolist() == [14.8]


def test_fieldset_from_tables_bad_input():
    fields, galaxies = _tables()
    with pytest.raises(InputError, match="v_los"):
        fieldset_from_tables(fields, galaxies[[c for c in galaxies.colnames if c != "v_los"]])
    with pytest.raises(InputError, match="empty"):
        fieldset_from_tables(fields[:0], galaxies)
    with pytest.raises(InputError, match="no galaxies"):
        fieldset_from_tables(fields, galaxies[galaxies["field_id"] == 3])
    bad = _fieldset([np.array([0.0, np.nan])], [np.zeros(2)], [np.zeros(2)])
    with pytest.raises(InputError, match="non-finite"):
        compute_features(bad, 17.0)
