"""Galaxy-halo nuisances: the prior, the anisotropic Jeans solution, repainted mock fields."""

import hashlib
import warnings

import mock_universes as mu
import numpy as np
import pytest
from scipy.integrate import quad

from surveymass.errors import InputError
from surveymass.halo import nfw_mass_factor
from surveymass.mocks.build import make_training_set
from surveymass.mocks.config import MassBins, MockConfig, TrainingSetConfig
from surveymass.mocks.fields import FieldMaker
from surveymass.mocks.lines_of_sight import HaloDirections
from surveymass.mocks.trainingset import (
    NUISANCE_COLUMNS,
    read_training_set,
    require_nuisance_columns,
)
from surveymass.phasespace import Aperture
from surveymass.survey import load_survey
from surveymass.universe.synthetic.config import GENERATOR, SyntheticConfig
from surveymass.universe.synthetic.galaxies import (
    anisotropic_jeans_table,
    jeans_sigma_r,
)
from surveymass.universe.synthetic.halos import virial_radius_ratio
from surveymass.universe.synthetic.nuisance import (
    PARAMETERS,
    GalaxyHaloPrior,
    load_prior,
)

SDSS = load_survey("sdss_legacy")
LOG_M = 14.5
DIRECTIONS = HaloDirections(400, seed=1)


def synthetic(universe):
    """A hand-built universe that says it is synthetic, with the default galaxy model."""
    universe.config = SyntheticConfig(box_size=universe.box_size, redshift=0.0).to_dict()
    universe.provenance = {"generator": GENERATOR}
    return universe


@pytest.fixture(scope="module")
def universe():
    return synthetic(mu.build([mu.cluster(1, LOG_M, (100, 100, 100), n_sat=200)], seed=2))


def maker(universe, prior, aperture=Aperture(), setup="idealised"):
    config = MockConfig(setup=setup, aperture=aperture, fibre_collisions=False,
                        galaxy_halo=prior)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FieldMaker(universe, SDSS, config, seed=3)


def fields(m, n, z_cos=0.05):
    return [m.make(0, DIRECTIONS.direction(1, j), j, z_cos=z_cos) for j in range(n)]


def fixed(**values):
    return GalaxyHaloPrior().fixed(values)


# --- the prior ------------------------------------------------------------------------------

def test_default_prior_round_trips_and_draws_inside_its_ranges():
    prior = GalaxyHaloPrior()
    assert GalaxyHaloPrior.from_dict(prior.to_dict()) == prior
    rng = np.random.default_rng(0)
    draws = [prior.draw(rng) for _ in range(200)]
    for name, (lo, hi) in prior.ranges.items():
        values = np.array([d[name] for d in draws])
        assert lo <= values.min() and values.max() <= hi
        assert hi == lo or values.std() > 0.2 * (hi - lo)


@pytest.mark.parametrize("ranges, message", [
    ({"log_nsat_scatter": (0.3, 0.1)}, "inverted"),
    ({"velocity_bias": (0.0, 1.1)}, "physical range"),
    ({"anisotropy": (0.0, 1.0)}, "physical range"),
    ({"outer_fraction": (-0.1, 0.2)}, "physical range"),
    ({"conc_ratio": (float("nan"), 1.0)}, "not finite"),
    ({"conc_ratio": (1.0,)}, "needs a range"),
    ({"concentration": (0.5, 1.0)}, "unknown galaxy-halo parameter"),
])
def test_bad_priors_are_refused(ranges, message):
    with pytest.raises(InputError, match=message):
        GalaxyHaloPrior(ranges)


def test_fixed_values_and_percentiles(tmp_path):
    prior = load_prior("default", ["log_nsat_scatter=p90", "anisotropy=0.1"])
    assert prior.ranges["log_nsat_scatter"] == (pytest.approx(0.08 + 0.9 * 0.22),) * 2
    assert prior.ranges["anisotropy"] == (0.1, 0.1)
    assert prior.ranges["velocity_bias"] == (pytest.approx(1.0),) * 2  # centre
    with pytest.raises(InputError, match="outside the prior"):
        load_prior("default", ["anisotropy=0.7"])
    with pytest.raises(InputError, match="name=VALUE"):
        load_prior("default", ["anisotropy"])
    with pytest.raises(InputError, match="need a prior"):
        load_prior("none", ["anisotropy=0.1"])
    assert load_prior("none") is None
    file = tmp_path / "prior.toml"
    file.write_text("[galaxy_halo]\nlog_nsat_scatter = [0.1, 0.3]\n")
    assert load_prior(str(file)).ranges["log_nsat_scatter"] == (0.1, 0.3)
    file.write_text("log_nsat_scatter = [0.3, 0.1]\n")
    with pytest.raises(InputError, match="inverted"):
        load_prior(str(file))


# --- Jeans velocities -------------------------------------------------------------------------

def test_anisotropic_jeans_table_is_the_isotropic_closed_form_at_beta_zero():
    log_y, table = anisotropic_jeans_table(1.0, 0.0)
    for c in (4.0, 9.0):
        s = np.array([0.05, 0.3, 1.0, 2.0])
        numeric = np.sqrt(c / nfw_mass_factor(c) * np.interp(np.log10(c * s), log_y, table))
        np.testing.assert_allclose(numeric, jeans_sigma_r(s, c), rtol=1e-4)


@pytest.mark.parametrize("q, beta", [(0.6, 0.3), (1.3, 0.5), (1.0, -0.4)])
def test_anisotropic_jeans_table_matches_a_direct_jeans_integral(q, beta):
    """sigma_r^2 = 1 / (nu r^(2 beta)) int_r^inf nu(u) G M(u) u^(2 beta - 2) du (Lokas &
    Mamon 2001), integrated here by quadrature in y = r / r_s."""
    log_y, table = anisotropic_jeans_table(q, beta)

    def nu(u):
        return 1.0 / (q * u * (1 + q * u) ** 2)

    for y in (0.1, 1.0, 5.0, 20.0):
        integral = quad(lambda u: nu(u) * nfw_mass_factor(u) * u ** (2 * beta - 2), y, np.inf,
                        limit=200)[0]
        direct = integral / (nu(y) * y ** (2 * beta))
        assert np.interp(np.log10(y), log_y, table) == pytest.approx(direct, rel=1e-3)


# --- repainted fields -----------------------------------------------------------------------

def test_without_a_prior_fields_are_those_of_the_code_before_repainting():
    """Digest of three fields made before galaxy-halo nuisances existed (commit 0c9f43c)."""
    universe = mu.build([mu.cluster(1, 14.5, (100, 100, 100), n_sat=300),
                         mu.cluster(2, 14.0, (103, 101, 96), n_sat=80)], n_field=20000, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = FieldMaker(universe, SDSS, MockConfig(), seed=7)
    digest = hashlib.sha256()
    for j, d in enumerate(([0, 0, 1.0], [0.6, 0.0, 0.8], [0.0, -0.6, 0.8])):
        f = m.make(0, np.array(d), j)
        for key in sorted(f.galaxies):
            digest.update(np.ascontiguousarray(f.galaxies[key]).tobytes())
        digest.update(repr(sorted(f.row.items())).encode())
    assert digest.hexdigest() == \
        "d5ec0c313cab0aecf1d37cc1de02264abdfd6fd32932579eded2d588574992c9"


def test_repainting_replaces_only_the_target_halos_satellites(universe):
    plain = fields(maker(universe, None), 1)[0]
    painted = fields(maker(universe, GalaxyHaloPrior()), 1)[0]
    g = painted.galaxies
    assert np.all(g["galaxy_id"][~g["is_central"]] < 0)  # every satellite is new
    assert g["is_central"].sum() == plain.galaxies["is_central"].sum() == 1  # central stays
    assert painted.row["n_members"] != plain.row["n_members"]
    for name, (lo, hi) in GalaxyHaloPrior().ranges.items():
        assert lo <= painted.row["nuis_" + name] <= hi
    again = fields(maker(universe, GalaxyHaloPrior()), 1)[0]  # reproducible
    np.testing.assert_array_equal(again.galaxies["v_los"], g["v_los"])


def test_member_counts_scatter_as_the_intrinsic_scatter_plus_poisson(universe):
    def scatter(sigma):
        counts = np.array([f.row["n_members"] for f in fields(maker(
            universe, fixed(log_nsat_scatter=sigma)), 150)])
        poisson = np.log10(np.e) / np.sqrt(counts.mean())
        return np.std(np.log10(counts)), poisson

    low, poisson = scatter(0.08)
    high, _ = scatter(0.25)
    assert poisson < 0.06  # ~130 members
    assert low == pytest.approx(np.hypot(0.08, poisson), abs=0.015)
    assert high == pytest.approx(np.hypot(0.25, poisson), abs=0.04)


def projected_fraction_beyond(c_gal, extent, rng, n=200_000):
    """P(R > R200c) of tracers on an NFW of concentration c_gal out to extent R200c,
    projected along a random axis (inverse CDF on a fine grid)."""
    x = np.linspace(0, c_gal * extent, 20_001)
    r = np.interp(rng.random(n), nfw_mass_factor(x) / nfw_mass_factor(x[-1]), x) / c_gal
    return np.mean(r * np.sqrt(1 - rng.uniform(-1, 1, n) ** 2) > 1.0)


def test_outer_population_puts_members_beyond_r200c(universe):
    r200 = mu.cluster(1, LOG_M, (0, 0, 0))["r200c"]

    def beyond(fraction):
        f = fields(maker(universe, fixed(outer_fraction=fraction, outer_extent=2.5),
                         aperture=Aperture(r_max=3.5)), 20)
        r = np.concatenate([x.galaxies["r"][x.galaxies["is_member"] & ~x.galaxies["is_central"]]
                            for x in f])
        return np.mean(r > r200)

    without, with_outer = beyond(0.0), beyond(0.3)  # sets the colossus cosmology
    rng = np.random.default_rng(0)
    c_gal = 5.0 * GalaxyHaloPrior().percentile("conc_ratio", 50)
    x_vir = virial_radius_ratio(SyntheticConfig(redshift=0.0), np.array([5.0]))[0]
    inner = projected_fraction_beyond(c_gal, x_vir, rng)
    outer = projected_fraction_beyond(c_gal, 2.5, rng)
    assert without == pytest.approx(inner, abs=0.02)
    assert with_outer == pytest.approx(0.7 * inner + 0.3 * outer, abs=0.025)
    assert outer - inner > 0.15


def test_member_velocity_dispersion_scales_with_the_velocity_bias(universe):
    def dispersion(bias):
        f = fields(maker(universe, fixed(velocity_bias=bias)), 30)
        return np.std(np.concatenate([x.galaxies["v_los"] for x in f]))

    assert dispersion(1.1) / dispersion(0.9) == pytest.approx(1.1 / 0.9, rel=0.04)


def test_radial_orbits_steepen_the_projected_dispersion_profile(universe):
    r200 = mu.cluster(1, LOG_M, (0, 0, 0))["r200c"]

    def inner_over_outer(beta):
        f = fields(maker(universe, fixed(anisotropy=beta, outer_fraction=0.0)), 60)
        g = {k: np.concatenate([x.galaxies[k] for x in f]) for k in ("r", "v_los")}
        inner, outer = g["r"] < 0.3 * r200, g["r"] > 0.6 * r200
        return np.std(g["v_los"][inner]) / np.std(g["v_los"][outer])

    isotropic, radial = inner_over_outer(0.0), inner_over_outer(0.5)
    assert radial > isotropic + 0.08


def test_repainting_needs_a_synthetic_universe():
    plain = mu.build([mu.cluster(1, LOG_M, (100, 100, 100))])
    with pytest.raises(InputError, match="only synthetic universes"):
        maker(plain, GalaxyHaloPrior())


def test_training_set_records_the_drawn_values_and_the_prior(tmp_path):
    rng = np.random.default_rng(7)
    clusters = [mu.cluster(i, m, rng.uniform(0, 250, 3), n_sat=60)
                for i, m in enumerate(rng.uniform(14.0, 14.8, 40))]
    universe = synthetic(mu.build(clusters, n_field=5000, field_mag=-20.5))
    prior = GalaxyHaloPrior({"log_nsat_scatter": (0.1, 0.2)})
    config = TrainingSetConfig(n_fields=40, bins=MassBins(14.0, 14.8, 0.4), max_los=10,
                               n_natural=5, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make_training_set(universe, SDSS, tmp_path / "set", MockConfig(galaxy_halo=prior),
                          config, progress=False)
        make_training_set(universe, SDSS, tmp_path / "plain", MockConfig(), config,
                          progress=False)
    table, _, manifest = read_training_set(tmp_path / "set", "train")
    assert manifest["version"] == 2
    assert GalaxyHaloPrior.from_dict(manifest["setup"]["galaxy_halo"]) == prior
    require_nuisance_columns(table, manifest)
    for name, (lo, hi) in prior.ranges.items():
        assert np.all((table["nuis_" + name] >= lo) & (table["nuis_" + name] <= hi))
    assert np.std(table["nuis_log_nsat_dev"]) > 0.05
    plain, _, plain_manifest = read_training_set(tmp_path / "plain", "train")
    assert not set(NUISANCE_COLUMNS) & set(plain.colnames)
    with pytest.raises(InputError, match="records no galaxy-halo nuisance values"):
        require_nuisance_columns(plain, plain_manifest)


def test_every_parameter_has_a_default_inside_its_physical_range():
    for name, p in PARAMETERS.items():
        assert p.allows(p.default[0]) and p.allows(p.default[1]), name


def test_cli_refuses_a_hand_built_universe_and_bad_fixed_values(tmp_path, capsys):
    from surveymass.cli import main
    from surveymass.universe.store import write_universe

    path = tmp_path / "u.h5"
    write_universe(mu.build([mu.cluster(1, LOG_M, (100, 100, 100))]), path)
    base = ["mocks", "--universe", str(path), "-o", str(tmp_path / "set"), "--quiet",
            "--n-fields", "1", "--mass-min", "14.4", "--mass-max", "14.6",
            "--bin-width", "0.2"]
    assert main([*base, "--galaxy-halo", "default", "--galaxy-halo-fixed", "beta=0.2"]) == 2
    assert "unknown galaxy-halo parameter(s) ['beta']" in capsys.readouterr().err
    assert main([*base, "--galaxy-halo", "default"]) == 2
    assert "only synthetic universes" in capsys.readouterr().err
    assert not (tmp_path / "set").exists()
