"""The built-in synthetic universe: published relations against worked values and the
equations they solve, and small built boxes against the distributions they must follow."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from surveymass.cli import main
from surveymass.cosmology import colossus_cosmology, default_cosmology
from surveymass.errors import InputError
from surveymass.halo import v200c
from surveymass.photometry import schechter_magnitudes
from surveymass.universe import read_universe
from surveymass.universe.synthetic import SyntheticConfig, build_universe, build_universe_in_memory
from surveymass.universe.synthetic.galaxies import (
    GalaxyModel,
    SatelliteTail,
    clf_magnitude_function,
    jeans_sigma_r,
    log_luminosity,
    magnitude_map,
    nfw_radii,
    red_fraction,
    satellite_extent,
    satellite_log_lstar,
    satellite_phi_star,
)

BOX = 150.0


def nfw_mass(x):
    return np.log1p(x) - x / (1.0 + x)


@pytest.fixture(scope="module")
def universe():
    return build_universe_in_memory(SyntheticConfig(box_size=BOX, seed=2))


@pytest.fixture(scope="module")
def satellites(universe):
    """Satellites with their offsets from the host: s = r / R200c, dv [km/s], host columns."""
    h, g = universe.halos, universe.galaxies
    sat = ~g["is_central"]
    host = np.searchsorted(h["halo_id"], g["host_id"][sat])
    d = np.stack([g[a][sat] - h[a][host] for a in "xyz"], axis=1)
    d -= BOX * np.round(d / BOX)
    dv = np.stack([g["v" + a][sat] - h["v" + a][host] for a in "xyz"], axis=1)
    c = h["concentration"][host].astype(float)
    return {"s": np.linalg.norm(d, axis=1) / h["r200c"][host], "dv": dv, "c": c,
                "m": h["m200c"][host], "r200": h["r200c"][host].astype(float),
                "extent": satellite_extent(SyntheticConfig(box_size=BOX), c)}


# --- published relations --------------------------------------------------------------------

def test_jeans_dispersion_solves_the_isotropic_jeans_equation():
    """Lokas & Mamon (2001) eq. 14 must satisfy d(rho sigma_r^2)/dr = -rho G M(<r) / r^2."""
    for c in (3.0, 8.0):
        s = np.linspace(0.05, 2.0, 2000)
        rho = 1.0 / (c * s * (1.0 + c * s) ** 2)
        lhs = np.gradient(rho * jeans_sigma_r(s, c) ** 2, s)
        rhs = -rho * nfw_mass(c * s) / nfw_mass(c) / s ** 2
        assert np.allclose(lhs[5:-5], rhs[5:-5], rtol=2e-3)


def test_jeans_dispersion_does_not_depend_on_the_outer_radius_used():
    """The isotropic solution integrates to infinity, so expressing it in R_vir units
    (c_vir = c x, V_vir = V200c sqrt(m(c x) / (m(c) x))) gives the same sigma_r(r)."""
    c, x = 5.0, 1.3
    s = np.linspace(0.05, 1.0, 50)
    in_r200 = jeans_sigma_r(s, c)
    in_rvir = jeans_sigma_r(s / x, c * x) * np.sqrt(nfw_mass(c * x) / nfw_mass(c) / x)
    assert np.allclose(in_rvir, in_r200, rtol=1e-6)


def test_nfw_radii_follow_the_enclosed_mass():
    rng = np.random.default_rng(0)
    c = rng.uniform(2.0, 15.0, 50_000)
    s = nfw_radii(c, rng)
    assert s.max() <= 1.0 + 1e-9
    assert stats.kstest(nfw_mass(c * s) / nfw_mass(c), "uniform").pvalue > 1e-3


def test_v200c_of_a_1e15_cluster():
    """V200c = sqrt(G M / R200c): M = 1e15 h^-1 Msun at z = 0.07 (worked: R200c = 1.55
    physical h^-1 Mpc from 200 rho_c(z), V200c ~ 1665 km/s)."""
    cfg = SyntheticConfig(box_size=BOX)
    colossus_cosmology(default_cosmology())
    from surveymass.universe.synthetic.halos import r200c

    r = r200c(cfg, np.array([1e15]))
    rho_c = default_cosmology().critical_density(0.07).to_value("Msun/Mpc3") / 0.6774 ** 2
    r_expected = (3e15 / (4 * np.pi * 200 * rho_c)) ** (1 / 3) * 1.07
    assert r[0] == pytest.approx(r_expected, rel=2e-3)
    v = v200c(np.array([1e15]), r, cfg.redshift)[0]
    assert v == pytest.approx(np.sqrt(4.300917e-9 * 1e15 / (r_expected / 1.07)), rel=2e-3)
    assert 1550 < v < 1750


def test_clf_alone_is_close_to_blanton_and_the_matched_lf_equals_it():
    """The published Cacciato et al. (2009) CLF (no cluster pivot) on the Tinker08 M200c
    function lies within 25% of the Blanton et al. (2003) LF over -22..-17, the default
    (cluster satellites frozen above the pivot) within 30%; after abundance matching the
    default is within 1%."""
    cfg = SyntheticConfig()
    colossus_cosmology(default_cosmology())
    mags = np.arange(-22.0, -17.0, 0.1)
    blanton = schechter_magnitudes(mags, 1.49e-2, -20.44, -1.05)
    published, central = clf_magnitude_function(SyntheticConfig(clf_pivot_mass=1e17), mags)
    assert np.all(np.abs(published / blanton - 1) < 0.25)
    assert np.all((central / published > 0.5) & (central / published < 1.0))
    assert np.all(np.abs(clf_magnitude_function(cfg, mags)[0] / blanton - 1) < 0.3)
    fine = np.arange(-25.0, -15.0, 0.01)
    clf_fine, _ = clf_magnitude_function(cfg, fine)
    mapped = magnitude_map(cfg)(fine)
    cumulative = integrate.cumulative_trapezoid(clf_fine, fine, initial=0.0)
    per_mag = (np.interp(mags + 0.05, mapped, cumulative)
               - np.interp(mags - 0.05, mapped, cumulative)) / 0.1
    assert np.allclose(per_mag, blanton, rtol=0.01)


def test_mass_conversion_matches_colossus():
    """M200c -> M200m and M_vir of NFW halos as colossus' changeMassDefinition gives them."""
    from colossus.halo import mass_defs

    from surveymass.universe.synthetic.halos import mass_in_definition

    colossus_cosmology(default_cosmology())
    cfg = SyntheticConfig()
    for c in (3.0, 6.0, 12.0):
        for mdef in ("200m", "vir"):
            expected = mass_defs.changeMassDefinition(1e14, c, cfg.redshift, "200c", mdef)[0]
            assert mass_in_definition(cfg, 1e14, c, mdef) == pytest.approx(expected, rel=2e-3)


def test_satellite_clf_is_cacciato_below_the_pivot_and_self_similar_above():
    """Below the pivot: log phi_s* = b0 + b1 log M12 + b2 log M12^2 (Cacciato et al. 2009:
    0.143 at 1e13) and L_s* = 0.562 L_c; above it L_s* is frozen and phi_s* grows as M^slope."""
    cfg = SyntheticConfig()
    assert np.log10(satellite_phi_star(cfg, 1e13)) == pytest.approx(-1.17 + 1.53 - 0.217)
    pivot = cfg.clf_pivot_mass
    assert satellite_log_lstar(cfg, 10 * pivot) == pytest.approx(satellite_log_lstar(cfg, pivot))
    ratio = satellite_phi_star(cfg, 10 * pivot) / satellite_phi_star(cfg, pivot)
    assert ratio == pytest.approx(10 ** cfg.clf_satellite_slope)
    below = satellite_log_lstar(cfg, pivot / 10)
    assert satellite_log_lstar(cfg, pivot) - below > 0.1  # still rising with L_c below


def test_cluster_satellites_match_the_zheng07_hod():
    """Satellites brighter than M_r - 5 log h = -20 and -19 in 10^14-10^15 h^-1 Msun halos
    within a factor 1.5 of the SDSS HOD of Zheng et al. (2007, ApJ 667, 760, table 1:
    N_sat = ((M200m - M0) / M1)^alpha), where the Cacciato extrapolation falls x2 short."""
    from surveymass.universe.synthetic.halos import mass_in_definition, median_concentration

    colossus_cosmology(default_cosmology())
    m200c = 10 ** np.array([14.0, 14.5, 15.0])
    m200m = mass_in_definition(SyntheticConfig(), m200c,
                               median_concentration(SyntheticConfig(), m200c), "200m")
    hod = {-19.0: (11.49, 12.83, 1.02), -20.0: (11.38, 13.31, 1.06)}

    def ratios(cfg):
        mag_map, tail = magnitude_map(cfg), SatelliteTail(cfg.clf_alpha_s)
        out = []
        for threshold, (log_m0, log_m1, alpha) in hod.items():
            log_l = log_luminosity(cfg, mag_map.clf_limit(threshold))
            model = satellite_phi_star(cfg, m200c) * tail(
                10 ** (log_l - satellite_log_lstar(cfg, m200c)))
            out.append(model / ((m200m - 10 ** log_m0) / 10 ** log_m1) ** alpha)
        return np.array(out)

    assert np.all((ratios(SyntheticConfig()) > 0.67) & (ratios(SyntheticConfig()) < 1.5))
    assert ratios(SyntheticConfig(clf_pivot_mass=1e17))[:, -1].max() < 0.6


def test_coma_mass_halos_are_as_rich_as_coma():
    """Members of halos of Coma's mass (log M200c = 14.91, Lokas & Mamon 2003) in the
    1.6 h^-1 Mpc x 2200 km/s cylinder, down to SDSS r = 17.77 at z = 0.0231 (M_r - 5 log h =
    -16.31), against the shipped Coma catalog's count less its flat velocity background
    (from 2200-4000 km/s): within 25%."""
    from surveymass.catalog import read_catalog
    from surveymass.paths import CATALOGS
    from surveymass.phasespace import sky_to_phase_space
    from surveymass.universe.synthetic.halos import concentrations, r200c

    table, cluster = read_catalog(CATALOGS / "coma_sdss.fits")
    p = sky_to_phase_space(table["ra"], table["dec"], table["z"], cluster.ra, cluster.dec,
                           cluster.z, default_cosmology())
    inside = (p.r < 1.6) & np.asarray(table["mag_r"] <= 17.77)
    v = np.abs(p.v_los)
    coma = np.sum(inside & (v < 2200)) - np.sum(inside & (v >= 2200) & (v < 4000)) * 4400 / 3600

    cfg = SyntheticConfig()
    colossus_cosmology(default_cosmology())
    rng = np.random.default_rng(3)
    m = np.full(40, 10 ** 14.91)
    halos = {"halo_id": np.arange(40), "m200c": m, "r200c": r200c(cfg, m),
             "concentration": concentrations(cfg, m, rng)}
    halos.update({a: np.full(40, 500.0) for a in "xyz"})
    halos.update({"v" + a: np.zeros(40) for a in "xyz"})
    g = GalaxyModel(cfg, magnitude_map(cfg)).populate(halos, 0, rng)
    member = ((np.hypot(g["x"] - 500.0, g["y"] - 500.0) < 1.6) & (np.abs(g["vz"]) < 2200)
              & (g["mag_r"] < -16.31))
    assert 500 < coma < 640
    assert np.sum(member) / 40 == pytest.approx(coma, rel=0.25)


def test_red_fraction_of_skibba_sheth():
    assert red_fraction(-20.0) == pytest.approx(0.54)
    assert red_fraction(-22.0) == pytest.approx(0.68)


# --- a built universe -----------------------------------------------------------------------

def test_same_seed_same_universe_other_seed_another():
    cfg = SyntheticConfig(box_size=80.0, seed=5, cell_size=4.0)
    a, b = build_universe_in_memory(cfg), build_universe_in_memory(cfg)
    for table in ("halos", "galaxies"):
        for name, values in getattr(a, table).items():
            assert np.array_equal(values, getattr(b, table)[name]), (table, name)
    c = build_universe_in_memory(SyntheticConfig(box_size=80.0, seed=6, cell_size=4.0))
    assert not np.array_equal(a.halos["x"][:100], c.halos["x"][:100])


def test_links_columns_and_periodic_positions(universe):
    universe.validate()
    for table in (universe.halos, universe.galaxies):
        for axis in "xyz":
            assert table[axis].min() >= 0.0 and table[axis].max() < BOX
    centrals = universe.galaxies["host_id"][universe.galaxies["is_central"]]
    assert np.unique(centrals).size == centrals.size  # one central per host at most
    assert universe.galaxies["mag_r"].max() <= -16.0


def test_halo_counts_follow_tinker08_within_poisson(universe):
    from colossus.lss import mass_function

    colossus_cosmology(default_cosmology())
    m = universe.halos["m200c"]
    for lo, hi in [(11.0, 11.5), (11.5, 12.0), (12.0, 13.0), (13.0, 14.0), (14.0, 15.5)]:
        dndlnm = lambda lm: mass_function.massFunction(10 ** lm, 0.07, mdef="200c",
                                                        model="tinker08", q_out="dndlnM")
        expected = integrate.quad(dndlnm, lo, hi)[0] * np.log(10) * BOX ** 3
        observed = np.sum((m >= 10 ** lo) & (m < 10 ** hi))
        assert abs(observed - expected) < 4 * np.sqrt(expected) + 1, (lo, observed, expected)


def test_virial_radius_is_bryan_norman():
    """R_vir / R200c of NFW halos: ~1.3 at z = 0.07 for Delta_vir = 18 pi^2 + 82 x - 39 x^2
    (x = Omega_m(z) - 1) times rho_c, against 200 rho_c."""
    from surveymass.universe.synthetic.halos import virial_radius_ratio

    colossus_cosmology(default_cosmology())
    x = virial_radius_ratio(SyntheticConfig(), np.array([4.0, 8.0]))
    om = default_cosmology().Om(0.07)
    delta_vir = 18 * np.pi ** 2 + 82 * (om - 1) - 39 * (om - 1) ** 2
    for c, ratio in zip((4.0, 8.0), x):
        assert nfw_mass(c * ratio) / nfw_mass(c) / ratio ** 3 == pytest.approx(
            delta_vir / 200, rel=0.01)


def test_satellites_follow_their_hosts_nfw_profile(satellites):
    """NFW with the host's scale radius, out to R_vir (the default truncation)."""
    c, x = satellites["c"], satellites["extent"]
    u = nfw_mass(c * satellites["s"]) / nfw_mass(c * x)
    assert np.all(satellites["s"] <= x + 1e-4) and np.all(x > 1.2)
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_satellite_velocities_have_the_jeans_dispersion(satellites):
    cfg = SyntheticConfig(box_size=BOX)
    c, x = satellites["c"], satellites["extent"]
    v_out = v200c(satellites["m"], satellites["r200"], cfg.redshift) \
        * np.sqrt(nfw_mass(c * x) / nfw_mass(c) / x)
    sigma = jeans_sigma_r(satellites["s"] / x, c * x) * v_out
    scaled = satellites["dv"] / sigma[:, None]
    assert np.std(scaled) == pytest.approx(1.0, abs=0.02)
    assert abs(np.mean(scaled)) < 0.02


def test_cluster_satellite_dispersion_near_evrard08(satellites):
    """Evrard et al. (2008): sigma_DM = 1082.9 km/s (h(z) M200c / 1e15 h^-1 Msun)^0.3361;
    NFW satellites with isotropic Jeans velocities land within 10% of it."""
    big = satellites["m"] > 1e14
    ez = default_cosmology().efunc(0.07)
    sigma_evrard = 1082.9 * (ez * satellites["m"][big] / 1e15) ** 0.3361
    ratio = np.sqrt(np.mean((satellites["dv"][big] / sigma_evrard[:, None]) ** 2))
    assert big.sum() > 1000
    assert ratio == pytest.approx(1.0, abs=0.10)


def test_luminosity_function_is_blanton_shaped(universe):
    edges = np.arange(-22.0, -16.9, 1.0)
    counts, _ = np.histogram(universe.galaxies["mag_r"], edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    expected = schechter_magnitudes(centres, 1.49e-2, -20.44, -1.05) * BOX ** 3
    # 20%: cosmic variance of a 150 h^-1 Mpc box plus the Schechter curvature over 1-mag bins
    assert np.all(np.abs(counts / expected - 1) < 0.2), counts / expected


def test_colours_separate_red_and_blue(universe):
    g = universe.galaxies
    bright = np.abs(g["mag_r"] + 20.5) < 0.5
    red_gr = g["color_gr"][bright & g["quiescent"]].mean()
    blue_gr = g["color_gr"][bright & ~g["quiescent"]].mean()
    assert red_gr == pytest.approx(0.932 - 0.032 * -0.5, abs=0.02)
    assert blue_gr == pytest.approx(0.62 - 0.11 * -0.5, abs=0.03)


def test_neighbours_fall_onto_clusters_as_in_falco14(universe):
    """Mean radial peculiar velocity of halos at 2-4 R200c around halos above 1e14 relative to
    them: -0.8 V200c (r / R200c)^-0.42 (Falco et al. 2014)."""
    from scipy.spatial import cKDTree

    h = universe.halos
    pos = np.stack([h[a] for a in "xyz"], axis=1).astype(float)
    vel = np.stack([h["v" + a] for a in "xyz"], axis=1).astype(float)
    big = np.flatnonzero(h["m200c"] > 1e14)
    cfg = SyntheticConfig(box_size=BOX)
    tree = cKDTree(pos, boxsize=BOX)
    measured, predicted = [], []
    for i in big:
        r200 = float(h["r200c"][i])
        near = np.array(tree.query_ball_point(pos[i], 4 * r200), dtype=int)
        sep = pos[near] - pos[i]
        sep -= BOX * np.round(sep / BOX)
        s = np.linalg.norm(sep, axis=1) / r200
        keep = (s > 2) & (h["m200c"][near] < h["m200c"][i])
        v_r = np.einsum("ij,ij->i", vel[near[keep]] - vel[i], sep[keep]) / (s[keep] * r200)
        v200 = v200c(h["m200c"][i], r200, cfg.redshift)
        measured.extend(v_r / v200)
        predicted.extend(-0.8 * s[keep] ** -0.42)
    assert len(measured) > 200
    assert np.mean(measured) == pytest.approx(np.mean(predicted), rel=0.15)


def test_neighbours_cluster_around_massive_halos(universe):
    """Halo exclusion: a halo below infall_min_mass pulled by an attractor of at least
    subcell_min_mass is gathered to [R_vir, r_sub] of it, so one inside R_vir of a halo
    above 1e14 must sit in that shell of another attractor (whose pull won; without the
    gathering, R_vir holds hundreds of them, a fifth outside any such shell); and the
    gathering raises the density at 1-2 R200c far above the mean."""
    from scipy.spatial import cKDTree

    from surveymass.universe.synthetic.halos import virial_radius_ratio

    cfg = SyntheticConfig(box_size=BOX)  # the fixture's model parameters
    h = universe.halos
    pos = np.stack([h[a] for a in "xyz"], axis=1).astype(float) % BOX
    m200c, r200c = h["m200c"], h["r200c"].astype(float)
    r_vir = virial_radius_ratio(cfg, h["concentration"].astype(float)) * r200c
    r_sub = np.maximum(cfg.subcell_radius_cells * BOX / cfg.n_cells, 2.0 * r_vir)
    tree = cKDTree(pos, boxsize=BOX)
    gatherers = np.flatnonzero(m200c >= cfg.subcell_min_mass)
    big = np.flatnonzero(m200c > 1e14)
    shell, shell_volume = 0, 0.0
    for i in big:
        near = np.array(tree.query_ball_point(pos[i], 0.999 * r_vir[i]), dtype=int)
        near = near[m200c[near] < cfg.infall_min_mass]
        for j in near:
            sep = pos[gatherers] - pos[j]
            d = np.linalg.norm(sep - BOX * np.round(sep / BOX), axis=1)
            other = ((gatherers != i) & (m200c[gatherers] > m200c[j])
                     & (d >= 0.999 * r_vir[gatherers]) & (d <= 1.001 * r_sub[gatherers]))
            assert other.any(), (i, j)
        r200 = float(r200c[i])
        shell += len(tree.query_ball_point(pos[i], 2 * r200)) - len(
            tree.query_ball_point(pos[i], r200))
        shell_volume += 4 / 3 * np.pi * 7 * r200 ** 3
    mean_density = len(pos) / BOX ** 3
    assert shell / shell_volume > 5 * mean_density


# --- bad input and the command line ---------------------------------------------------------

@pytest.mark.parametrize("params, message", [
    ({"box_size": -5}, "box_size"),
    ({"mag_limit": 17.77}, "absolute magnitude"),
    ({"cell_size": 80.0, "box_size": 100.0}, "cell_size"),
    ({"m_min": 1e15, "m_max": 1e14}, "m_min"),
    ({"seed": -1}, "seed"),
    ({"satellite_truncation": "200m"}, "satellite_truncation"),
    ({"n_bias_nodes": 1}, "n_bias_nodes"),
])
def test_nonsense_parameters_are_refused(params, message):
    with pytest.raises(InputError, match=message):
        SyntheticConfig(**params)


def test_box_too_small_for_clusters_is_refused_before_work():
    with pytest.raises(InputError, match="too small"):
        build_universe_in_memory(SyntheticConfig(box_size=20.0, cell_size=2.0))


def test_unknown_parameter_is_refused():
    with pytest.raises(InputError, match="unknown"):
        SyntheticConfig.from_dict({"box": 100})


def test_cli_builds_a_file_with_its_config(tmp_path):
    out = tmp_path / "u.h5"
    assert main(["universe", "--box", "80", "--seed", "4", "--cell-size", "4", "-q",
                 "-o", str(out), "--set", "chunk_halos=5000"]) == 0
    u = read_universe(out)
    assert u.config["seed"] == 4 and u.config["box_size"] == 80.0
    assert u.config["chunk_halos"] == 5000
    assert u.provenance["seed"] == 4 and u.provenance["derived"]["m_min"] > 1e10
    u.validate()
    same = build_universe_in_memory(SyntheticConfig(box_size=80.0, seed=4, cell_size=4.0,
                                                    chunk_halos=5000))
    assert np.array_equal(u.galaxies["mag_r"], same.galaxies["mag_r"])
    assert build_universe(SyntheticConfig(box_size=80.0, seed=4, cell_size=4.0,
                                          chunk_halos=5000), tmp_path / "v.h5",
                          progress=False).exists()


def test_cli_defaults_are_the_config_defaults(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["universe", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    defaults = SyntheticConfig()
    for option, value in (("--box", defaults.box_size), ("--seed", defaults.seed),
                          ("--redshift", defaults.redshift), ("--mag-limit", defaults.mag_limit),
                          ("--cell-size", defaults.cell_size)):
        assert f"{option} " in text and f"[default: {value}]" in text.split(f"{option} ")[1][:120]


def test_cli_refuses_bad_settings(tmp_path, capsys):
    assert main(["universe", "--box", "80", "-o", str(tmp_path / "u.h5"),
                 "--set", "no_such=1"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err
    assert main(["universe", "--box", "80"]) == 2
    assert not (tmp_path / "u.h5").exists()
