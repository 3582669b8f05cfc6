"""Mock fields: kinematics through the sky path, survey selection, lines of sight, bad input."""

import dataclasses
import warnings

import mock_universes as mu
import numpy as np
import pytest
from scipy import stats
from tqdm import tqdm

from surveymass.cosmology import C_KMS
from surveymass.errors import InputError
from surveymass.mocks.build import FieldRunner, flat_fields
from surveymass.mocks.config import MockConfig, TrainingSetConfig
from surveymass.mocks.fields import FieldMaker
from surveymass.mocks.lines_of_sight import (
    HaloDirections,
    MassBins,
    check_fillable,
    fibonacci_directions,
)
from surveymass.phasespace import Aperture
from surveymass.survey import SurveyConfig, load_survey

SDSS = load_survey("sdss_legacy")
EXACT = dataclasses.replace(SDSS, velocity_error_kms=0.0)
NO_FIBRES = MockConfig(fibre_collisions=False)


def maker(universe, survey=SDSS, config=NO_FIBRES, seed=0):
    with warnings.catch_warnings():  # toy universes are shallower than the survey
        warnings.simplefilter("ignore")
        return FieldMaker(universe, survey, config, seed=seed)


def test_fibonacci_lattice_is_uniform_on_the_sphere():
    v = fibonacci_directions(1000)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0)
    np.testing.assert_allclose(v.mean(axis=0), 0.0, atol=2e-3)
    # equal-area: the second moments of a uniform sphere are 1/3 on each axis
    np.testing.assert_allclose((v**2).mean(axis=0), 1 / 3, atol=2e-3)


def test_first_lines_of_sight_of_a_halo_are_spread_over_the_sphere():
    d = np.array([HaloDirections(64, seed=3).direction(7, j) for j in range(8)])
    smallest = min(np.degrees(np.arccos(np.clip(d[i] @ d[j], -1, 1)))
                   for i in range(8) for j in range(i))
    assert smallest > 30  # 8 random directions would typically come within ~20 deg


def test_isolated_nfw_halo_recovers_its_velocity_dispersion():
    sigma = 600.0
    universe = mu.build([mu.cluster(1, 14.8, (100, 100, 100), sigma=sigma, n_sat=2000)])
    m = maker(universe, config=MockConfig(setup="idealised", fibre_collisions=False))
    field = m.make(0, np.array([0.0, 0.6, 0.8]), 0, z_cos=0.05)
    v = field.galaxies["v_los"][~field.galaxies["is_central"]]
    assert len(v) > 1500
    # the Hubble flow across the halo adds H(z)/(1+z) x depth: ~100 km/s/(h^-1 Mpc) x
    # 0.4 h^-1 Mpc rms, and the 30 km/s redshift errors; both in quadrature
    expected = np.sqrt(sigma**2 + 30.0**2 + (100 * 1.03 * 0.45) ** 2)
    assert np.std(v) == pytest.approx(expected, rel=3 / np.sqrt(2 * len(v)))
    assert np.std(v) == pytest.approx(sigma, rel=0.1)


@pytest.mark.parametrize("z_cos", [0.02, 0.05, 0.095])
def test_sky_path_velocities_equal_the_direct_projection(z_cos):
    halo_vel = np.array([300.0, -200.0, 250.0])
    universe = mu.build([mu.cluster(5, 14.6, (60, 180, 30), sigma=900, n_sat=400,
                                    vel=halo_vel)], n_field=20000, field_mag=-22)
    m = maker(universe, survey=EXACT)
    n = np.array([0.48, -0.6, 0.64])
    n /= np.linalg.norm(n)
    field = m.make(0, n, 0, z_cos=z_cos)
    g = field.galaxies
    member = g["is_member"]
    idx = g["galaxy_id"][member]
    gal = universe.galaxies
    centre = np.array([60.0, 180.0, 30.0])
    delta = np.column_stack([gal["x"][idx], gal["y"][idx], gal["z"][idx]]) - centre
    delta -= universe.box_size * np.round(delta / universe.box_size)
    d_cl = m._table.comoving_distance(z_cos)
    q = d_cl * n + delta
    own_los = q / np.linalg.norm(q, axis=1)[:, None]
    v_gal = np.column_stack([gal["vx"][idx], gal["vy"][idx], gal["vz"][idx]])
    z_cl = (1 + z_cos) * (1 + halo_vel @ n / C_KMS) - 1
    hubble = 100 * universe.cosmology.efunc(z_cos) / (1 + z_cl)
    direct = (np.einsum("ij,ij->i", v_gal, own_los) - halo_vel @ n
              + hubble * (np.linalg.norm(q, axis=1) - d_cl))
    assert member.sum() > 100
    assert np.max(np.abs(g["v_los"][member] - direct)) < 5.0


def test_cylindrical_fields_hold_interlopers_and_neighbouring_centrals():
    universe = mu.build([mu.cluster(1, 14.5, (100, 100, 100), n_sat=150)], n_field=60000,
                        field_mag=-21)
    cyl = maker(universe)
    ideal = maker(universe, config=MockConfig(setup="idealised", fibre_collisions=False))
    cyl_gal = [cyl.make(0, fibonacci_directions(10)[j], j, z_cos=0.03) for j in range(10)]
    ideal_gal = [ideal.make(0, fibonacci_directions(10)[j], j, z_cos=0.03) for j in range(10)]
    interlopers = np.concatenate([f.galaxies["is_member"] == 0 for f in cyl_gal])
    centrals = np.concatenate([f.galaxies["is_central"] for f in cyl_gal])
    assert interlopers.sum() > 0
    assert (interlopers & centrals).sum() > 0  # centrals of other halos are interlopers
    assert all(f.galaxies["is_member"].all() for f in ideal_gal)
    for f in cyl_gal:
        assert f.row["n_galaxies"] == len(f.galaxies["ra"])
        assert np.all(f.galaxies["r"] < 1.6) and np.all(np.abs(f.galaxies["v_los"]) < 2200)
        assert f.row["n_members"] == f.galaxies["is_member"].sum()


def test_magnitude_limit_removes_galaxies_fainter_than_the_survey():
    universe = mu.build([mu.cluster(1, 14.5, (100, 100, 100), n_sat=300)], sat_mag=-19.0)
    m = maker(universe)
    near = m.make(0, np.array([0, 0, 1.0]), 0, z_cos=0.03)
    far = m.make(0, np.array([0, 0, 1.0]), 0, z_cos=0.1)
    # M = -19 is seen at z = 0.03 (limit ~ -17) but not at z = 0.1 (limit -19.67)
    assert near.row["n_members"] > 250
    assert far is None
    assert np.all(near.galaxies["mag_r"] <= SDSS.mag_limit)


def test_blueshifted_foreground_galaxies_are_left_out_of_a_nearby_field():
    """A group 45 h^-1 Mpc in front of a cluster at z = 0.02, falling towards us at
    2500 km/s, has z < 0: it is never observed and the field is still made."""
    universe = mu.build([mu.cluster(1, 14.5, (100, 100, 100), n_sat=100),
                         mu.cluster(2, 13.0, (100, 100, 55), n_sat=5, sigma=100.0,
                                    vel=(0.0, 0.0, -2500.0))], sat_mag=-19.0)
    m = maker(universe)
    window, _ = m._window(np.array([100.0, 100.0, 100.0]), np.array([0, 0, 1.0]),
                          float(m._table.comoving_distance(0.02)))
    assert np.sum(window["host_id"] == 2) == 6  # inside the window
    field = m.make(0, np.array([0, 0, 1.0]), 0, z_cos=0.02)
    assert field.row["n_members"] > 90
    assert not np.any(field.galaxies["host_id"] == 2)


def test_fibre_collisions_in_a_dense_core_keep_what_the_model_says():
    # 30 satellites within 0.004 h^-1 Mpc (< 6 arcsec at z = 0.05): all mutually collided;
    # the model keeps one of a collided group plus each other one with the recovery
    # probability: (1 + 29 x 0.3) / 30 = 0.323 of them.
    universe = mu.build([mu.cluster(1, 14.5, (100, 100, 100), n_sat=0, core=(30, 0.004))])
    config = MockConfig(aperture=Aperture(min_galaxies=3), fibre_collisions=True)
    m = maker(universe, config=config)
    kept = [m.make(0, d, j, z_cos=0.05).row["n_galaxies"] - 1  # minus the central
            for j, d in enumerate(fibonacci_directions(60))]
    expected = (1 + 29 * SDSS.collision_recovery) / 30
    spread = np.sqrt(29 * 0.3 * 0.7 / len(kept)) / 30
    assert np.mean(kept) / 30 == pytest.approx(expected, abs=4 * spread)
    no_fibres = maker(universe, config=dataclasses.replace(config, fibre_collisions=False))
    assert no_fibres.make(0, np.array([1.0, 0, 0]), 0, z_cos=0.05).row["n_galaxies"] == 31


def test_same_seed_same_field_and_other_seed_other_field():
    universe = mu.build([mu.cluster(1, 14.5, (100, 100, 100), n_sat=200)], n_field=5000)
    n = np.array([0.0, 0.0, 1.0])
    a, b = maker(universe, seed=1).make(0, n, 3), maker(universe, seed=1).make(0, n, 3)
    c = maker(universe, seed=2).make(0, n, 3)
    np.testing.assert_array_equal(a.galaxies["z"], b.galaxies["z"])
    assert a.row["z_cl"] != c.row["z_cl"]


def test_flat_fields_are_flat_in_mass_within_poisson_noise():
    rng = np.random.default_rng(4)
    # a steep mass function: dN/dlog10 M ~ M^-1.5 over 13.9-14.7 (30x more low-mass halos)
    u = rng.random(500)
    log_m = -np.log10(10**(-1.5 * 13.9) - u * (10**(-1.5 * 13.9) - 10**(-1.5 * 14.7))) / 1.5
    clusters = [mu.cluster(i, lm, rng.uniform(0, 250, 3), sigma=500, n_sat=40)
                for i, lm in enumerate(log_m)]
    universe = mu.build(clusters, sat_mag=-22.0)
    config = TrainingSetConfig(n_fields=800, bins=MassBins(13.9, 14.7, 0.2), max_los=60)
    runner = FieldRunner(maker(universe), HaloDirections(config.max_los, config.seed))
    fields, shortfall = flat_fields(runner, config, tqdm(disable=True))
    masses = np.array([f.row["log10_m200c"] for f in fields])
    assert not shortfall and len(masses) == 800
    # flat within bins too: a KS test against uniform over the range, and a chi^2 test
    # on bins that do not line up with the sampling bins
    assert stats.kstest((masses - 13.9) / 0.8, "uniform").pvalue > 0.01
    counts, _ = np.histogram(masses, bins=np.linspace(13.9, 14.7, 11))
    assert stats.chisquare(counts).pvalue > 0.01
    # the abundant low-mass halos were seen along fewer lines of sight each
    per_halo = {}
    for f in fields:
        per_halo[f.row["halo_id"]] = per_halo.get(f.row["halo_id"], 0) + 1
    low = np.mean([v for k, v in per_halo.items() if log_m[k] < 14.1])
    high = np.mean([v for k, v in per_halo.items() if log_m[k] > 14.5])
    assert high > 5 * low


def test_mass_bins_of_different_master_seeds_draw_different_streams():
    """flat_fields gives bin b of master seed s the stream SeedSequence(s).spawn(...)[b];
    the old seed + 7919 b gave bin 1 of seed 0 the same order as bin 0 of seed 7919."""
    from surveymass.mocks.lines_of_sight import candidate_order

    log_m = np.linspace(13.5, 15.0, 40)

    def order(seed, b):
        stream = np.random.SeedSequence(seed).spawn(3)[b]
        return np.concatenate(candidate_order(log_m, 0, 6, stream))

    np.testing.assert_array_equal(order(3, 2), order(3, 2))  # deterministic
    assert not np.array_equal(order(0, 1), order(7919, 0))
    assert not np.array_equal(order(0, 1), order(0, 0))
    assert not np.array_equal(order(0, 0), np.concatenate(candidate_order(log_m, 0, 6, 0)))


def test_mocks_command_defaults_are_the_library_defaults():
    """The CLI repeats the defaults (so that --help shows them); they must not drift."""
    import inspect

    from surveymass.cli.mocks import mocks

    given = {k: p.default.default for k, p in inspect.signature(mocks).parameters.items()}
    library = TrainingSetConfig()
    assert (given["n_fields"], given["max_los"]) == (library.n_fields, library.max_los)
    assert (given["mass_min"], given["mass_max"], given["bin_width"]) == (
        library.bins.log_min, library.bins.log_max, library.bins.width)


def test_mass_range_the_universe_cannot_fill_is_refused_before_work():
    log_m = np.array([14.0, 14.1, 14.2, 14.6])
    with pytest.raises(InputError, match="cannot fill"):
        check_fillable(log_m, MassBins(14.0, 15.0, 0.2), per_bin=50, max_los=100)


def test_window_larger_than_half_the_box_is_refused():
    # |v| < 2200 + 2500 km/s is +-49 h^-1 Mpc deep at z = 0.1: more than half of 80
    universe = mu.build([mu.cluster(1, 14.5, (40, 40, 40), n_sat=20)], box=80.0)
    with pytest.raises(InputError, match="half the box"):
        maker(universe)


def test_survey_beyond_the_supported_redshifts_is_refused():
    universe = mu.build([mu.cluster(1, 14.5, (50, 50, 50), n_sat=20)], box=2000.0)
    deep = dataclasses.replace(SDSS, z_max=0.4)
    with pytest.raises(InputError, match="z_max"):
        maker(universe, survey=deep)


@pytest.mark.parametrize("data, match", [
    ({"name": "x", "mag_limit": 17.7, "z_min": 0.02, "z_max": 0.1}, "missing"),
    ({"name": "x", "mag_limit": 17.7, "z_min": 0.1, "z_max": 0.02, "fibre_radius_arcsec": 55,
      "collision_recovery": 0.3, "velocity_error_kms": 30}, "z_min"),
])
def test_bad_survey_configs_are_refused(data, match):
    with pytest.raises(InputError, match=match):
        SurveyConfig.from_dict(data)


def test_unknown_setup_is_refused():
    with pytest.raises(InputError, match="setup"):
        MockConfig(setup="spherical")


def test_forked_workers_make_the_same_fields():
    universe = mu.build([mu.cluster(i, 14.5, (50 * i + 20, 100, 100), n_sat=100)
                         for i in range(4)], n_field=5000)
    m, directions = maker(universe), HaloDirections(10, seed=0)
    rows, los = np.repeat(np.arange(4), 5), np.tile(np.arange(5), 4)
    with FieldRunner(m, directions, workers=1) as one, FieldRunner(m, directions, 2) as two:
        a, b = one.run(rows, los, tqdm(disable=True)), two.run(rows, los, tqdm(disable=True))
    assert len(a) == len(b) == 20
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.galaxies["v_los"], y.galaxies["v_los"])


def test_footprint_places_clusters_and_galaxies_inside_the_survey():
    from surveymass.masks.footprint import load_footprint

    footprint = load_footprint(SDSS.footprint_path)
    universe = mu.build([mu.cluster(1, 14.5, (100, 100, 100), n_sat=200)], n_field=5000)
    m = maker(universe, config=MockConfig(fibre_collisions=False, footprint=True))
    fields = [m.make(0, d, j) for j, d in enumerate(fibonacci_directions(8))]
    ra_cl = np.array([f.row["ra_cl"] for f in fields])
    dec_cl = np.array([f.row["dec_cl"] for f in fields])
    assert np.all(footprint.completeness(ra_cl, dec_cl) > 0)
    for f in fields:
        assert np.all(footprint.completeness(f.galaxies["ra"], f.galaxies["dec"]) > 0)
