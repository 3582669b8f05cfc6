"""The shifting gapper (Fadda et al. 1996) on known configurations."""

from __future__ import annotations

import numpy as np

from surveymass.models.data import FieldSet
from surveymass.models.membership import (
    main_velocity_group,
    radial_bins,
    shifting_gapper,
    shifting_gapper_fields,
)


def test_radial_bins_are_wide_enough_and_full_enough():
    r = np.array([0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.9, 1.0, 1.1, 1.5])
    assert radial_bins(r, 0.4, 3) == [slice(0, 5), slice(5, 10)]
    assert radial_bins(r, 0.0, 4) == [slice(0, 4), slice(4, 10)]  # remainder < 4 joins


def test_main_group_is_the_one_holding_the_cluster_velocity():
    v = np.array([1500.0, -500.0, 300.0, 0.0, 1600.0, -2600.0])
    # gaps: -2600 | 2100 | -500 .. 300 | 1200 | 1500, 1600
    assert main_velocity_group(v, 1000.0).tolist() == [False, True, True, True, False, False]


def _cluster_with_interlopers(seed):
    rng = np.random.default_rng(seed)
    n_mem = 80
    r_mem = rng.uniform(0.0, 1.5, n_mem)
    v_mem = np.clip(rng.normal(0, 400, n_mem), -1100, 1100)
    r_int = rng.uniform(0.0, 1.5, 20)
    v_int = rng.choice([-1, 1], 20) * rng.uniform(2500, 4000, 20)  # > 1000 km/s gap
    return (np.concatenate([r_mem, r_int]), np.concatenate([v_mem, v_int]),
            np.arange(100) < n_mem)


def test_shifting_gapper_removes_interlopers_behind_a_velocity_gap():
    r, v, truth = _cluster_with_interlopers(4)
    assert np.array_equal(shifting_gapper(r, v), truth)


def test_shifting_gapper_keeps_a_gapless_gaussian_cluster():
    rng = np.random.default_rng(5)
    r, v = rng.uniform(0, 1.5, 60), np.clip(rng.normal(0, 300, 60), -800, 800)
    assert shifting_gapper(r, v).all()


def test_fields_version_matches_single_fields():
    (r1, v1, t1), (r2, v2, t2) = _cluster_with_interlopers(1), _cluster_with_interlopers(2)
    fs = FieldSet(offsets=np.array([0, 100, 200]), x=np.concatenate([r1, r2]), y=np.zeros(200),
                  v_los=np.concatenate([v1, v2]), mag_r=np.zeros(200), z_cl=np.ones(2) * 0.1,
                  mag_lim_abs=np.zeros(2), field_id=np.arange(2))
    np.testing.assert_array_equal(shifting_gapper_fields(fs), np.concatenate([t1, t2]))
