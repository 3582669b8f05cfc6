"""Tests of ``surveymass universe check``: each statistic against known answers on
constructed universes, the report files, and the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import gamma

from surveymass.cli import main
from surveymass.cosmology import default_cosmology
from surveymass.errors import InputError
from surveymass.halo import v200c
from surveymass.phasespace import Aperture
from surveymass.universe import GALAXY_COLUMNS, HALO_COLUMNS, Universe, write_universe
from surveymass.universe.check import references as ref
from surveymass.universe.check import run_checks, write_report
from surveymass.universe.check.checks import (
    FALL_SHORT,
    NOT_JUDGED,
    PASS,
    WP_EDGES,
    blanton03_lf,
    check_luminosity_function,
    check_mass_function,
    check_projected_correlation,
    check_radial_velocity,
    check_velocity_dispersion,
    cylinder_counts,
    evrard_sigma,
    falco_profile,
    hubble_per_comoving,
    tinker_counts,
    wp_subsample_size,
)
from surveymass.universe.check.pairs import projected_correlation

COSMO = default_cosmology()
Z = 0.07


def make_universe(box: float, halos: dict, galaxies: dict | None = None) -> Universe:
    """A universe with the given columns; the others are filled with neutral values."""
    def fill(columns: dict, spec: dict, n: int) -> dict:
        out = {name: np.zeros(n, dtype=dtype) for name, (dtype, _, _) in spec.items()}
        out.update({k: np.asarray(v) for k, v in columns.items()})
        return out

    n_h = len(halos["m200c"])
    halos = {"halo_id": np.arange(n_h), "r200c": np.ones(n_h), "concentration": np.full(n_h, 5.0),
             **halos}
    galaxies = galaxies or {"host_id": np.zeros(0, int)}
    n_g = len(galaxies["host_id"])
    galaxies = {"galaxy_id": np.arange(n_g), "mag_r": np.full(n_g, -20.0), **galaxies}
    return Universe(cosmology=COSMO, redshift=Z, box_size=box,
                    halos=fill(halos, HALO_COLUMNS, n_h),
                    galaxies=fill(galaxies, GALAXY_COLUMNS, n_g))


def r200c_comoving(m200c: np.ndarray) -> np.ndarray:
    """R200c [comoving h^-1 Mpc] from colossus (physical kpc/h)."""
    from colossus.halo import mass_so

    from surveymass.cosmology import colossus_cosmology

    colossus_cosmology(COSMO)
    return mass_so.M_to_R(m200c, Z, "200c") / 1e3 * (1 + Z)


def sample_inverse_cdf(rng, grid: np.ndarray, density: np.ndarray, n: int) -> np.ndarray:
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(grid))])
    return np.interp(rng.random(n), cdf / cdf[-1], grid)


# --- published formulas against worked values --------------------------------------------

def test_evrard_sigma_is_the_published_normalisation():
    # h(z) M200c = 1e15 Msun gives sigma_15 = 1082.9 km/s (Evrard et al. 2008).
    m = 1e15 / COSMO.efunc(Z)
    assert evrard_sigma(m, Z, COSMO) == pytest.approx(1082.9, rel=1e-10)
    assert evrard_sigma(8 * m, Z, COSMO) == pytest.approx(1082.9 * 8 ** 0.3361, rel=1e-10)


def test_schechter_luminosity_density():
    # int L phi dM = phi* L* Gamma(alpha + 2) for a Schechter function.
    mag = np.linspace(-27.0, -5.0, 200_001)
    lum = 10 ** (-0.4 * (mag - ref.BLANTON03_M_STAR))
    j = np.trapezoid(lum * blanton03_lf(mag), mag)
    assert j == pytest.approx(ref.BLANTON03_PHI_STAR * gamma(ref.BLANTON03_ALPHA + 2), rel=1e-4)


def test_interloper_fraction_from_a_confusion_matrix():
    # 20 members and 80 interlopers; a classifier keeps 16 members and 10 interlopers.
    tp, fn, fp, tn = 16, 4, 10, 70
    acc, prec, rec = (tp + tn) / 100, tp / (tp + fp), tp / (tp + fn)
    assert ref.implied_interloper_fraction(acc, prec, rec) == pytest.approx(0.8)
    caustic, ml = ref.deepsets_interloper_fractions()[0]
    assert caustic == pytest.approx(0.823, abs=0.002) and ml == pytest.approx(0.828, abs=0.002)


def test_v200c_is_ten_hubble_r200c():
    # M200c = 100 H^2 R^3 / G, so V200c = 10 H(z) R200c (physical).
    m = np.array([1e14, 1e15])
    r = r200c_comoving(m)
    hubble_r = 100 * COSMO.efunc(Z) * r / (1 + Z)
    assert v200c(m, r, Z) == pytest.approx(10 * hubble_r, rel=1e-3)


def test_zehavi_table_agrees_with_the_published_power_law_fits():
    # w_p of xi = (r/r0)^-gamma: r_p (r0/r_p)^gamma Gamma(1/2) Gamma((gamma-1)/2) / Gamma(gamma/2)
    for threshold, (r0, g) in ref.ZEHAVI11_POWER_LAW.items():
        rp = ref.ZEHAVI11_RP[:11]
        power_law = rp * (r0 / rp) ** g * gamma(0.5) * gamma((g - 1) / 2) / gamma(g / 2)
        assert power_law == pytest.approx(ref.ZEHAVI11_WP[threshold][:11], rel=0.23)
    # the brighter sample is the more clustered, scale by scale
    assert np.all(ref.ZEHAVI11_WP[-21.0][:11] > ref.ZEHAVI11_WP[-20.0][:11])


# --- halo mass function ----------------------------------------------------------------------

def tinker_universe(shift: float = 1.0, seed: int = 1) -> Universe:
    from colossus.lss import mass_function

    from surveymass.cosmology import colossus_cosmology

    colossus_cosmology(COSMO)
    box, rng = 400.0, np.random.default_rng(seed)
    ln_m = np.linspace(np.log(1e12), np.log(1e15), 4000)
    dn = mass_function.massFunction(np.exp(ln_m), Z, mdef="200c", model="tinker08",
                                    q_out="dndlnM")
    n = rng.poisson(np.trapezoid(dn, ln_m) * box ** 3)
    m = np.exp(sample_inverse_cdf(rng, ln_m, dn, n)) * shift
    return make_universe(box, {"m200c": m})


def test_mass_function_of_a_tinker_box_passes():
    result = check_mass_function(tinker_universe())
    assert result.status == PASS
    assert result.numbers["n_judged_bins"] >= 10
    assert result.numbers["max_abs_deviation"] < 0.05
    assert result.numbers["judged_range_log10_m200c"][0] == pytest.approx(12.0)


def test_mass_function_with_masses_shifted_by_ten_percent_falls_short():
    result = check_mass_function(tinker_universe(shift=1.1))
    assert result.status == FALL_SHORT
    assert result.numbers["max_abs_deviation"] > 0.1
    assert result.shortfalls


def test_tinker_counts_scale_with_volume():
    small, big = make_universe(100.0, {"m200c": [1e13]}), make_universe(200.0, {"m200c": [1e13]})
    edges = np.array([13.0, 13.1, 13.2])
    assert tinker_counts(big, edges) == pytest.approx(8 * tinker_counts(small, edges))


def test_mass_function_needs_halos():
    with pytest.raises(InputError, match="no halos"):
        check_mass_function(make_universe(100.0, {"m200c": np.zeros(0)}))


# --- luminosity function -------------------------------------------------------------------

def schechter_universe(offset: float = 0.0, seed: int = 2) -> Universe:
    box, rng = 300.0, np.random.default_rng(seed)
    mag = np.linspace(-23.5, -16.0, 4000)
    phi = blanton03_lf(mag)
    n = rng.poisson(np.trapezoid(phi, mag) * box ** 3)
    mags = sample_inverse_cdf(rng, mag, phi, n) + offset
    return make_universe(box, {"m200c": [1e12]},
                         {"host_id": np.zeros(n, int), "mag_r": mags.astype("f4")})


def test_luminosity_function_of_a_schechter_sample_passes():
    result = check_luminosity_function(schechter_universe())
    assert result.status == PASS
    assert result.numbers["n_judged_bins"] == 20  # -22 .. -17 in 0.25 mag
    assert result.numbers["max_abs_deviation"] < 0.1


def test_luminosity_function_too_bright_by_a_fifth_of_a_magnitude_falls_short():
    result = check_luminosity_function(schechter_universe(offset=-0.2))
    assert result.status == FALL_SHORT
    assert result.numbers["n_failed_bins"] >= 5


# --- projected correlation function ------------------------------------------------------------

def test_wp_of_a_uniform_box_is_zero():
    rng = np.random.default_rng(3)
    box, pi_max = 150.0, 40.0
    pos = rng.random((15_000, 3)) * box
    wp, err = projected_correlation(pos, box, WP_EDGES, pi_max)
    assert np.all(np.abs(wp) < 4 * err)
    assert np.all(np.abs(wp[3:]) < 1.0)  # h^-1 Mpc, against ~10-200 for SDSS galaxies


def test_wp_of_planted_pairs_peaks_at_their_separation():
    rng = np.random.default_rng(4)
    box, pi_max, n, n_pairs, sep = 150.0, 25.0, 8_000, 4_000, 2.0
    pos = rng.random((n, 3)) * box
    angle = rng.random(n_pairs) * 2 * np.pi
    partner = pos[:n_pairs] + np.column_stack([sep * np.cos(angle), sep * np.sin(angle),
                                               rng.uniform(-5, 5, n_pairs)])
    all_pos = np.vstack([pos, partner]) % box
    wp, err = projected_correlation(all_pos, box, WP_EDGES, pi_max)
    k = np.searchsorted(WP_EDGES, sep) - 1
    assert np.argmax(wp / err) == k
    # the excess pairs in that bin are the planted ones: w_p = 2 pi_max n_pairs / RR
    n_tot = len(all_pos)
    rr = 0.5 * n_tot * (n_tot - 1) * np.pi * (WP_EDGES[k + 1] ** 2 - WP_EDGES[k] ** 2) \
        * 2 * pi_max / box ** 3
    assert wp[k] == pytest.approx(2 * pi_max * n_pairs / rr, abs=4 * err[k])


def test_wp_check_uses_redshift_space_and_reports_subsample():
    rng = np.random.default_rng(5)
    box, n = 150.0, 20_000
    pos = rng.random((n, 3)) * box
    universe = make_universe(box, {"m200c": [1e12]},
                             {"host_id": np.zeros(n, int), "x": pos[:, 0], "y": pos[:, 1],
                              "z": pos[:, 2], "mag_r": np.full(n, -21.5, "f4")})
    result = check_projected_correlation(universe, pi_max=40.0, max_galaxies=10_000, seed=1)
    assert result.numbers["n_galaxies_-20"] == n and result.numbers["n_used_-20"] == 10_000
    assert result.status == FALL_SHORT  # an unclustered box is far below SDSS clustering
    assert np.all(np.abs(result.table["wp_-21"]) < 4 * result.table["wp_err_-21"])
    assert any("subsample" in s for s in result.limitations)


def test_wp_not_judged_in_a_box_smaller_than_two_pi_max():
    result = check_projected_correlation(make_universe(100.0, {"m200c": [1e12]}))
    assert result.status == NOT_JUDGED and "smaller" in result.summary


# --- satellite velocity dispersion ----------------------------------------------------------

def evrard_universe(scale: float = 1.0, seed: int = 6) -> Universe:
    rng = np.random.default_rng(seed)
    n_h, n_sat = 300, 40
    m = 10 ** rng.uniform(13.5, 15.0, n_h)
    v_h = rng.normal(0, 300, (n_h, 3))
    host = np.repeat(np.arange(n_h), n_sat)
    sigma = evrard_sigma(m, Z, COSMO)[host]
    v = v_h[host] + scale * sigma[:, None] * rng.standard_normal((len(host), 3))
    centrals = np.arange(n_h)
    return make_universe(
        200.0, {"m200c": m, "vx": v_h[:, 0], "vy": v_h[:, 1], "vz": v_h[:, 2]},
        {"host_id": np.concatenate([host, centrals]),
         "is_central": np.concatenate([np.zeros(len(host), bool), np.ones(n_h, bool)]),
         "vx": np.concatenate([v[:, 0], v_h[:, 0]]), "vy": np.concatenate([v[:, 1], v_h[:, 1]]),
         "vz": np.concatenate([v[:, 2], v_h[:, 2]])})


def test_velocity_dispersion_of_evrard_satellites_passes():
    result = check_velocity_dispersion(evrard_universe())
    assert result.status == PASS
    assert result.numbers["normalisation"] == pytest.approx(1.0, abs=0.01)
    assert result.numbers["n_satellites"] == 300 * 40  # centrals are not counted
    finite = np.isfinite(result.table["sigma_1d"])
    assert result.table["sigma_1d"][finite] == pytest.approx(
        result.table["sigma_evrard"][finite], rel=0.05)


def test_velocity_dispersion_ten_percent_hot_falls_short():
    result = check_velocity_dispersion(evrard_universe(scale=1.1))
    assert result.status == FALL_SHORT
    assert result.numbers["normalisation"] == pytest.approx(1.1, abs=0.01)


# --- radial velocity profile ---------------------------------------------------------------

def infall_universe(amplitude: float, seed: int = 7) -> Universe:
    """Isolated halos on a grid; around each, galaxies whose mean peculiar radial velocity
    follows the Falco et al. (2014) shape with the given amplitude."""
    from surveymass.universe.check.checks import _virial_ratios

    rng = np.random.default_rng(seed)
    grid = (np.arange(4) + 0.5) * 25.0
    centres = np.array(np.meshgrid(grid, grid, grid)).reshape(3, -1).T
    n_h, per_halo = len(centres), 600
    m = 10 ** rng.uniform(14.0, 14.5, n_h)
    r200 = r200c_comoving(m)
    universe = make_universe(100.0, {"m200c": m, "r200c": r200, "x": centres[:, 0],
                                     "y": centres[:, 1], "z": centres[:, 2]})
    r_ratio, v_ratio = _virial_ratios(m, np.full(n_h, 5.0), Z, universe)
    host = np.repeat(np.arange(n_h), per_halo)
    x = rng.uniform(0.2, 10.0, len(host))
    direction = rng.standard_normal((len(host), 3))
    direction /= np.linalg.norm(direction, axis=1)[:, None]
    pos = centres[host] + direction * (x * r200[host])[:, None]
    v_r = amplitude / ref.FALCO14_A * v_ratio * falco_profile(x / r_ratio) \
        * v200c(m, r200, Z)[host]
    vel = direction * v_r[:, None] + rng.normal(0, 50, (len(host), 3))
    universe.galaxies = make_universe(100.0, {"m200c": m}, {
        "host_id": host, "x": pos[:, 0] % 100, "y": pos[:, 1] % 100, "z": pos[:, 2] % 100,
        "vx": vel[:, 0], "vy": vel[:, 1], "vz": vel[:, 2]}).galaxies
    return universe


def test_radial_velocity_of_falco_infall_passes():
    result = check_radial_velocity(infall_universe(amplitude=0.8))
    assert result.status == PASS
    assert result.numbers["a_fit"] == pytest.approx(0.8, abs=0.05)
    assert 1.2 < result.numbers["r_vir_over_r200c"] < 1.5  # Delta_vir ~ 100 rho_c at z ~ 0


def test_radial_velocity_with_weak_infall_falls_short():
    result = check_radial_velocity(infall_universe(amplitude=0.4))
    assert result.status == FALL_SHORT
    assert result.numbers["a_fit"] == pytest.approx(0.4, abs=0.05)


# --- interloper fraction --------------------------------------------------------------------

def test_cylinder_counts_interlopers_with_hubble_flow():
    dz_edge = 2200.0 / hubble_per_comoving(make_universe(100.0, {"m200c": [1.0]}))
    halos = {"halo_id": np.array([0, 1, 2]), "x": np.array([50.0, 50.5, 51.5]),
             "y": np.array([50.0, 50.0, 50.0]), "z": np.array([50.0, 55.0, 80.0]),
             "vz": np.zeros(3)}
    gal_host = np.r_[np.zeros(20, int), np.ones(5, int), np.full(5, 2), 1, 1, 1]
    gal_xyz = np.r_[np.tile([50.2, 50.0, 50.0], (20, 1)), np.tile([50.5, 50.0, 55.0], (5, 1)),
                    np.tile([51.5, 50.0, 80.0], (5, 1)),
                    [[52.0, 50.0, 50.0],                      # projected 2.0: outside
                     [49.0, 50.0, 50.0 + dz_edge - 0.05],     # just inside 2200 km/s
                     [49.0, 50.0, 50.0 - dz_edge - 0.05]]]    # just outside
    universe = make_universe(100.0, {"m200c": np.full(3, 1e14), **halos},
                             {"host_id": gal_host, "x": gal_xyz[:, 0], "y": gal_xyz[:, 1],
                              "z": gal_xyz[:, 2], "mag_r": np.full(len(gal_host), -21.0)})
    n_in, n_int = cylinder_counts(universe, halos, Aperture(), mag_limit=-19.0)
    assert n_in[0] == 26 and n_int[0] == 6      # 20 members + 5 neighbours + 1 at the edge
    assert n_in[2] == 5 and n_int[2] == 0       # 3000 km/s away from the others
    fainter = cylinder_counts(universe, halos, Aperture(), mag_limit=-22.0)[0]
    assert np.all(fainter == 0)


# --- report and command line ----------------------------------------------------------------

def small_universe() -> Universe:
    universe = evrard_universe()
    rng = np.random.default_rng(8)
    n_g = universe.n_galaxies
    for table, n in (("halos", universe.n_halos), ("galaxies", n_g)):
        for axis in "xyz":
            getattr(universe, table)[axis] = (rng.random(n) * 200).astype("f4")
    universe.halos["r200c"] = r200c_comoving(universe.halos["m200c"]).astype("f4")
    universe.galaxies["mag_r"] = rng.uniform(-22.5, -17, n_g).astype("f4")
    return universe


def test_run_checks_reports_every_check():
    results = run_checks(small_universe(), profile_max_halos=50)
    assert [r.name for r in results] == ["mass_function", "luminosity_function",
                                         "projected_correlation", "velocity_dispersion",
                                         "radial_velocity", "interloper_fraction"]
    assert all(r.summary for r in results)


def test_chunked_file_gives_the_numbers_of_the_universe_in_memory(tmp_path, monkeypatch):
    from surveymass.universe import UniverseFile
    from surveymass.universe.check import checks

    universe = small_universe()
    write_universe(universe, tmp_path / "u.h5")
    monkeypatch.setattr(checks, "_CHUNK", 1000)  # many chunks
    with UniverseFile(tmp_path / "u.h5") as chunked:
        for check in (check_mass_function, check_luminosity_function, check_velocity_dispersion,
                      lambda s: check_radial_velocity(s, max_halos=30)):
            a, b = check(universe).numbers, check(chunked).numbers
            assert a.keys() == b.keys()
            for key in a:
                if key != "runtime_s" and isinstance(a[key], float):
                    assert a[key] == pytest.approx(b[key], rel=1e-5), key
                elif key != "runtime_s":
                    assert a[key] == b[key], key


def test_wp_subsample_bounds_the_pairs():
    # default box: 3e5 galaxies already visit ~1e7 pairs; a 250 h^-1 Mpc box allows ~3.8e4
    assert wp_subsample_size(10 ** 7, 1000.0, 60.0, 300_000, 1e7) == 300_000
    n = wp_subsample_size(10 ** 7, 250.0, 60.0, 300_000, 1e7)
    assert 0.5 * n ** 2 * (2 * WP_EDGES[-1]) ** 2 * 120 / 250.0 ** 3 == pytest.approx(1e7, rel=1e-3)
    assert wp_subsample_size(500, 250.0, 60.0, 300_000, 1e7) == 500


def test_a_universe_without_clusters_is_reported_not_judged():
    rng = np.random.default_rng(9)
    universe = make_universe(50.0, {"m200c": np.full(100, 1e12), "x": rng.random(100) * 50},
                             {"host_id": np.arange(100), "is_central": np.ones(100, bool)})
    status = {r.name: r.status for r in run_checks(universe)}
    assert status == {"mass_function": NOT_JUDGED, "luminosity_function": FALL_SHORT,
                      "projected_correlation": NOT_JUDGED, "velocity_dispersion": NOT_JUDGED,
                      "radial_velocity": NOT_JUDGED, "interloper_fraction": "compared"}


def test_cli_writes_the_report(tmp_path, capsys):
    path = tmp_path / "tiny.h5"
    write_universe(small_universe(), path)
    out = tmp_path / "report"
    assert main(["universe", "check", str(path), "-o", str(out), "--profile-max-halos",
                 "50"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert [c["status"] for c in report["checks"]][3] == PASS  # Evrard satellites
    assert report["provenance"]["inputs"] == [str(path)]
    assert report["universe"]["n_halos"] == 300
    for name in report["plots"].values():
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    markdown = (out / "report.md").read_text()
    assert "## Shortfalls" in markdown and "Evrard et al. 2008" in markdown
    assert "Satellite velocity dispersion" in capsys.readouterr().out


def test_cli_rejects_a_missing_file(tmp_path, capsys):
    assert main(["universe", "check", str(tmp_path / "none.h5"), "-o", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_report_is_written_atomically(tmp_path, monkeypatch):
    from surveymass.universe.check import report

    results = run_checks(small_universe(), profile_max_halos=20)
    files = write_report(results, tmp_path, {"path": "x.h5"}, {})
    before = files["json"].read_text()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report.json, "dumps", broken)
    with pytest.raises(RuntimeError):
        write_report(results, tmp_path, {"path": "y.h5"}, {}, overwrite=True)
    assert files["json"].read_text() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
