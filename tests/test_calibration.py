"""Calibration against real clusters: the volume-limited survey, the shipped real input,
the one measurement of real and mock fields, the pass/fail rule and the command."""

from __future__ import annotations

import json

import mock_universes as mu
import numpy as np
import pytest
from astropy.stats import biweight_scale
from astropy.table import Table
from scipy.stats import spearmanr

from surveymass.calibration.measure import summarise_fields
from surveymass.calibration.mocks import (
    calibration_mock_config,
    deep_member_maker,
    true_member_dispersion,
)
from surveymass.calibration.real import (
    number_density_check,
    read_calibration_catalog,
    real_fields,
    schechter_density,
)
from surveymass.calibration.run import sigma_agreement
from surveymass.calibration.statistics import richness_at_fixed_sigma, richness_verdict
from surveymass.cli import main
from surveymass.cosmology import default_cosmology
from surveymass.errors import InputError
from surveymass.masks.footprint import load_footprint
from surveymass.mocks import FieldMaker, HaloDirections, MockConfig
from surveymass.models.dispersion import velocity_dispersion
from surveymass.phasespace import Aperture
from surveymass.photometry import absolute_magnitude, apparent_magnitude, transverse_distance
from surveymass.survey import load_survey

COSMO = default_cosmology()
KNOWN_SYSTEM, KNOWN_RICHNESS = "Coma cluster", 64  # DR7 M_r - 5 log h < -20 in its cylinder
VLIM = load_survey("sdss_dr7_vlim20")
CONFIG = calibration_mock_config(MockConfig(fibre_collisions=False), Aperture())


def test_schechter_density_brighter_than_minus_20_is_the_blanton_integral():
    # phi* Gamma(alpha + 1, 10^(0.4 (M* - M))) = 1.49e-2 Gamma(-0.05, 0.667)
    assert schechter_density(-20.0) == pytest.approx(5.892e-3, rel=1e-3)


def test_dr7_volume_limited_density_implies_its_minus_20_cut(shared_data):
    data = shared_data
    z = Table.read(data / "real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits")["z"]
    area = load_footprint(VLIM.footprint_path).area_deg2(weighted=True)
    check = number_density_check(z, area, COSMO)  # 0 < z <= 0.107
    assert check["n_galaxies"] == 120606
    assert check["density"] / schechter_density(-20.0) == pytest.approx(0.906, abs=0.01)
    assert check["implied_mag_limit"] == pytest.approx(-20.08, abs=0.02)


def test_absolute_selection_keeps_exactly_the_galaxies_brighter_than_the_limit():
    rng = np.random.default_rng(1)
    abs_mag, z = rng.uniform(-22, -18, 2000), rng.uniform(0.02, 0.12, 2000)
    mag = apparent_magnitude(abs_mag, z, transverse_distance(z, COSMO), 0.75)
    assert np.allclose(absolute_magnitude(mag, z, COSMO, 0.75), abs_mag, atol=1e-3)
    kept = VLIM.observes(mag, z=z, cosmology=COSMO, color_gr=np.full(2000, 0.75))
    assert np.array_equal(kept, (abs_mag < -20.0) & (z <= 0.107))
    assert load_survey().observes(mag, z=z).sum() > kept.sum()  # the flux limit alone


def test_absolute_selection_needs_magnitudes_unless_the_table_says_it_is_cut():
    mag, z = np.full(3, np.nan), np.array([0.05, 0.08, 0.11])
    with pytest.raises(InputError, match="SELECTED = 'sdss_dr7_vlim20'"):
        VLIM.observes(mag, z=z, cosmology=COSMO)
    assert VLIM.observes(mag, z=z, cosmology=COSMO, already_cut=True).tolist() == [
        True, True, False]


def test_mock_fields_of_the_volume_limited_survey_drop_fainter_satellites():
    def n_galaxies(sat_mag, survey):
        universe = mu.build([mu.cluster(1, 14.5, (100, 100, 100), sigma=400, n_sat=200)],
                            sat_mag=sat_mag)
        made = FieldMaker(universe, survey, CONFIG).make(0, np.array([0, 0, 1.0]), 0,
                                                         z_cos=0.05)
        return 0 if made is None else made.row["n_galaxies"]

    assert n_galaxies(-20.5, VLIM) == 201  # 200 satellites and the central, all inside
    assert n_galaxies(-19.5, load_survey()) == 201  # r < 17.77 reaches -18.05 at z = 0.05
    assert n_galaxies(-19.5, VLIM) == 0  # only the central (M = -21) is left: no field


def test_one_measurement_gives_the_constructed_counts():
    r = [np.array([0.1, 0.3, 0.5, 1.0, 1.5]), np.array([0.05])]
    v = [np.array([-900.0, -300.0, 0.0, 300.0, 2000.0]), np.array([10.0])]
    s = summarise_fields(r, v)
    assert s.n_galaxies.tolist() == [5, 1]
    assert s.profile[0].tolist() == [1, 1, 1, 0, 0, 1, 0, 1]  # 0.2 h^-1 Mpc bins
    assert s.phase_space[0].sum() == 5 and s.phase_space[0, 3, 3] == 1  # R 1.5, |v| 2000
    # the 1700 km/s gap cuts 2000 km/s off: 4 members, below the 5 a sigma needs
    assert s.n_members.tolist() == [4, 1] and np.isnan(s.log_sigma).all()


def test_the_dispersion_is_the_biweight_of_the_gapper_members_only():
    members = np.array([-900.0, -300.0, 0.0, 300.0, 600.0])
    r = [np.linspace(0.1, 1.5, 7)]
    v = [np.concatenate([members, [1700.0, -2100.0]])]  # gaps of 1100 and 1200 km/s
    s = summarise_fields(r, v)
    assert s.n_galaxies[0] == 7 and s.n_members[0] == 5  # richness still counts all
    assert 10 ** s.log_sigma[0] == pytest.approx(biweight_scale(members))
    assert 10 ** s.log_sigma[0] < 0.6 * biweight_scale(v[0])


@pytest.mark.filterwarnings("ignore:the survey reaches")
def test_member_sigma_tracks_the_halo_mass_better_than_the_cylinder_biweight():
    universe = mu.mass_sequence()
    maker, directions = FieldMaker(universe, VLIM, CONFIG), HaloDirections(max_los=3, seed=0)
    rng = np.random.default_rng(0)
    fields = [(made.galaxies["r"], made.galaxies["v_los"], made.row["log10_m200c"])
              for row in range(60) for los in range(3)
              if (made := maker.make(row, directions.direction(row + 1, los), los,
                                     z_cos=float(rng.choice([0.03, 0.05, 0.08]))))
              is not None]
    r, v, log_m = zip(*fields)
    member = summarise_fields(list(r), list(v)).log_sigma
    width = max(len(x) for x in v)
    cylinder = np.log10(velocity_dispersion(np.array(
        [np.pad(np.asarray(x, float), (0, width - len(x)), constant_values=np.nan)
         for x in v]), "biweight"))
    both = np.isfinite(member) & (np.array([len(x) for x in v]) >= 5)
    log_m = np.array(log_m)
    assert both.sum() == 166
    assert spearmanr(cylinder[both], log_m[both])[0] == pytest.approx(0.554, abs=0.005)
    assert spearmanr(member[both], log_m[both])[0] == pytest.approx(0.653, abs=0.005)
    poor = both & (log_m < 13.5)  # poor halos pushed to > 630 km/s by interlopers
    assert np.mean(cylinder[poor] > 2.8) == pytest.approx(0.469, abs=0.01)
    assert np.mean(member[poor] > 2.8) == pytest.approx(0.25, abs=0.01)


def test_true_member_sigma_is_the_halos_own_not_the_contaminated_one():
    # 300 satellites of M_r = -19.5 (below the -20 cut) with 300 km/s per axis, in a field
    # of bright galaxies: the volume-limited cylinder holds the central and interlopers
    universe = mu.build([mu.cluster(1, 14.5, (60, 60, 60), sigma=300, n_sat=300)], box=120,
                        n_field=60000, field_mag=-20.5, sat_mag=-19.5)
    along_z = np.array([0.0, 0.0, 1.0])
    made = FieldMaker(universe, VLIM, CONFIG).make(0, along_z, 0, z_cos=0.05)
    assert made.row["n_galaxies"] == 13 and made.row["n_members"] == 1
    cylinder = summarise_fields([made.galaxies["r"]], [made.galaxies["v_los"]]).log_sigma[0]
    assert 10 ** cylinder == pytest.approx(1105.5, abs=1)  # the interlopers' spread
    deep = deep_member_maker(universe, VLIM, CONFIG, seed=0)
    assert deep.make(0, along_z, 0, z_cos=0.05).row["n_members"] == 301  # all of them
    true = true_member_dispersion(deep, [(0, along_z, 0, 0.05)])[0]
    members = universe.galaxies["vz"][universe.galaxies["host_id"] == 1]
    assert biweight_scale(members) == pytest.approx(300.3, abs=0.1)
    # + Hubble flow across the halo's depth and the survey's redshift errors
    assert 10 ** true == pytest.approx(304.6, abs=0.5)


def test_real_member_sigma_tracks_the_mahdavi_geller_sigma():
    systems, galaxies = read_calibration_catalog()
    s = summarise_fields(*real_fields(systems, galaxies, VLIM, COSMO, Aperture()))
    agreement = sigma_agreement(s.log_sigma, systems["log_sigma_mg01"])
    assert agreement["n"] == 72
    assert agreement["median_dex"] == pytest.approx(-0.0057, abs=0.0005)  # all: -0.0018
    assert agreement["half_width_16_84_dex"] == pytest.approx(0.1118, abs=0.0005)  # 0.1092
    assert int((s.n_galaxies - s.n_members).sum()) == 36  # rejected, in 7 systems
    assert int((s.n_galaxies > s.n_members).sum()) == 7


def test_shipped_real_input_and_a_known_systems_richness():
    systems, galaxies = read_calibration_catalog()
    assert len(systems) == 74
    assert np.all(systems["coverage"] >= 0.9)
    assert np.all((systems["z"] >= 0.02) & (systems["z"] <= 0.098))
    radii, velocities = real_fields(systems, galaxies, VLIM, COSMO, Aperture())
    n = {str(name): len(r) for name, r in zip(systems["name"], radii)}
    assert n == {str(s["name"]): int(s["n_galaxies"]) for s in systems}
    assert n[KNOWN_SYSTEM] == KNOWN_RICHNESS


def test_richness_verdict_passes_inside_the_band_and_fails_outside():
    rng = np.random.default_rng(3)
    mock_sigma = rng.uniform(2.4, 2.8, 4000)
    mock_n = 1.0 + 0.5 * (mock_sigma - 2.4) + 0.2 * rng.standard_normal(4000)
    mock = richness_at_fixed_sigma(mock_sigma, mock_n)
    real_sigma = np.repeat([2.45, 2.55, 2.75], [6, 6, 3])
    good = richness_at_fixed_sigma(real_sigma, 1.0 + 0.5 * (real_sigma - 2.4)
                                   + np.tile(np.linspace(-0.1, 0.1, 3), 5))
    verdict = richness_verdict(good, mock)
    assert verdict["status"] == "PASS" and verdict["n_judged"] == 2  # 2.7-2.8 has 3 systems
    wide = richness_at_fixed_sigma(real_sigma, 1.0 + np.tile([-0.6, 0.0, 0.6], 5))
    assert richness_verdict(wide, mock)["status"] == "FAIL"  # 16-84% wider than 5-95%
    none = richness_at_fixed_sigma(real_sigma[-3:], np.ones(3))
    assert richness_verdict(none, mock)["status"] == "NOT JUDGED"


def test_the_two_checks_get_their_own_verdicts_and_the_mg01_one_sets_the_exit():
    rng = np.random.default_rng(4)
    true_sigma = rng.uniform(2.3, 2.9, 3000)  # mock richness rises with the true sigma
    log_n = 0.8 + 1.0 * (true_sigma - 2.3) + 0.1 * rng.standard_normal(3000)
    contaminated = 5.2 - true_sigma  # poor halos at high sigma: richness falls with it
    mg01 = np.repeat([2.35, 2.55, 2.85], 6)
    real = richness_at_fixed_sigma(mg01, 0.8 + 1.0 * (mg01 - 2.3)
                                   + np.tile(np.linspace(-0.05, 0.05, 6), 3))
    by_true = richness_verdict(real, richness_at_fixed_sigma(true_sigma, log_n))
    by_reversed = richness_verdict(real, richness_at_fixed_sigma(contaminated, log_n))
    assert (by_true["status"], by_true["n_passed"]) == ("PASS", 3)
    assert by_reversed["status"] == "FAIL"
    assert by_reversed["passed"][[1, 3, 6]].tolist() == [False, True, False]


def test_measurement_errors_scatter_mock_sigma_by_the_real_errors():
    from surveymass.calibration.statistics import with_measurement_errors

    exact = np.full(20000, 2.7)
    exact[0] = np.nan
    noisy = with_measurement_errors(exact, [0.05, 0.05, 0.1, np.nan], seed=1)
    assert np.isnan(noisy[0])
    # two thirds of the values get 0.05 dex, a third 0.1 dex (NaN errors are dropped):
    # rms sqrt((2 x 0.05^2 + 0.1^2) / 3) = 0.0707
    assert np.std(noisy[1:] - 2.7) == pytest.approx(0.0707, abs=0.002)
    assert abs(np.mean(noisy[1:] - 2.7)) < 0.002
    assert np.array_equal(noisy, with_measurement_errors(exact, [0.05, 0.05, 0.1], seed=1),
                          equal_nan=True)
    with pytest.raises(InputError, match="no finite"):
        with_measurement_errors(exact, [np.nan])


def test_calibrate_command_writes_the_report(tmp_path):
    from surveymass.universe.store import write_universe

    clusters = [mu.cluster(i + 1, m, (40 + 45 * i, 120, 120), sigma=s, n_sat=k)
                for i, (m, s, k) in enumerate([(13.3, 300, 8), (13.8, 420, 15),
                                                (14.3, 600, 35), (14.9, 950, 120)])]
    universe = mu.build(clusters, n_field=30000, field_mag=-20.5, sat_mag=-20.6)
    path = tmp_path / "u.h5"
    write_universe(universe, path)
    out = tmp_path / "cal"
    status = main(["calibrate", "-u", str(path), "-o", str(out), "--halos", "4", "--los", "2",
                   "--coma-halos", "1", "--quiet"])
    numbers = json.loads((out / "calibration.json").read_text())
    assert numbers["systems"]["n"] == 74 and numbers["mocks"]["n_fields"] > 0
    assert numbers["verdict"]["check"] == "richness_vs_mg01_sigma"
    assert status == (1 if numbers["verdict"]["status"] == "FAIL" else 0)
    assert numbers["verdict"]["status"] == numbers["richness_vs_mg01_sigma"]["verdict"]["status"]
    for key in ("richness_vs_mg01_sigma", "richness_vs_cylinder_sigma"):
        assert numbers[key]["verdict"]["status"] in ("PASS", "FAIL", "NOT JUDGED")
    assert numbers["mocks"]["n_with_true_member_sigma"] > 0
    assert numbers["richness_vs_mg01_sigma"]["verdict_without_sigma_errors"]["status"] in (
        "PASS", "FAIL", "NOT JUDGED")
    for name in ("calibration.md", "richness_sigma.png", "profile.png", "phase_space.png",
                 "coma.png"):
        assert (out / name).stat().st_size > 0
