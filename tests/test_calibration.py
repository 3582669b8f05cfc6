"""Calibration against real clusters: the volume-limited survey, the shipped real input,
the one measurement of real and mock fields, the pass/fail rule and the command."""

from __future__ import annotations

import json

import mock_universes as mu
import numpy as np
import pytest
from astropy.table import Table

from surveymass.calibration.measure import summarise_fields
from surveymass.calibration.mocks import calibration_mock_config
from surveymass.calibration.real import (
    number_density_check,
    read_calibration_catalog,
    real_fields,
    schechter_density,
)
from surveymass.calibration.statistics import richness_at_fixed_sigma, richness_verdict
from surveymass.cli import main
from surveymass.cosmology import default_cosmology
from surveymass.errors import InputError
from surveymass.masks.footprint import load_footprint
from surveymass.mocks import FieldMaker, MockConfig
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
    assert np.isfinite(s.log_sigma[0]) and np.isnan(s.log_sigma[1])  # 1 galaxy: no sigma


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
    assert status in (0, 1) and numbers["systems"]["n"] == 74
    assert numbers["richness_vs_sigma"]["verdict"]["status"] in ("PASS", "FAIL", "NOT JUDGED")
    assert numbers["mocks"]["n_fields"] > 0
    for name in ("calibration.md", "richness_sigma.png", "profile.png", "phase_space.png",
                 "coma.png"):
        assert (out / name).stat().st_size > 0
