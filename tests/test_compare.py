"""surveymass compare: statistics, matching, the literature table, GalWeight from VizieR."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
import requests
from astropy.table import QTable
from scipy.optimize import brentq

from surveymass.cli import main
from surveymass.cosmology import C_KMS, default_cosmology, transverse_comoving_distance
from surveymass.errors import InputError, ServiceError
from surveymass.fetch import galwcat
from surveymass.fetch.cache import CacheWarning
from surveymass.inference import galweight
from surveymass.inference.compare import (
    compare_tables,
    load_reference,
    match_clusters,
    read_reference_file,
    read_results,
    reference_masses_at,
    summary_statistics,
)
from surveymass.inference.literature import (
    LITERATURE_SOURCES,
    PublishedMass,
    build_literature_table,
    hecs_sources,
    load_literature_table,
    read_sources,
    to_log10_m200c,
)
from surveymass.inference.matching import MatchWindow

RECORDED = Path(__file__).parent / "data" / "recorded"


def results_table(names, ra, dec, z, median, p16, p84) -> QTable:
    """A results table in the `surveymass infer` contract (extra columns as infer writes)."""
    t = QTable()
    t["name"], t["ra"], t["dec"], t["z"] = names, np.array(ra) * u.deg, np.array(dec) * u.deg, z
    n = len(names)
    t["n_galaxies"], t["n_members"] = np.full(n, 100), np.full(n, 60)
    t["sigma_v"] = np.full(n, 800.0) * u.km / u.s
    t["log10_m200c_msigma"] = median
    t["log10_m200c_median"], t["log10_m200c_p16"], t["log10_m200c_p84"] = median, p16, p84
    t["log10_m200c_p025"] = np.array(p16) - 0.1
    t["log10_m200c_p975"] = np.array(p84) + 0.1
    t["footprint_coverage"], t["flags"] = np.ones(n), [""] * n
    return t


def reference_table(names, ra, dec, z, mass, err_lo, err_hi, reference="ref") -> QTable:
    t = QTable()
    t["name"], t["ra"], t["dec"], t["z"] = names, np.array(ra) * u.deg, np.array(dec) * u.deg, z
    t["log10_m200c"], t["log10_m200c_err_lo"], t["log10_m200c_err_hi"] = mass, err_lo, err_hi
    t["reference"] = reference if not isinstance(reference, str) else [reference] * len(names)
    t["flags"] = [""] * len(names)
    return t


def test_normalised_differences_hand_worked_three_clusters():
    """Three clusters, worked by hand.

    A: ours 15.00, sigma (15.30 - 14.70)/2 = 0.30; ref 14.50 -0.20/+0.40. Ours is higher,
       so the ref's upper error 0.40 is used: sqrt(0.3^2 + 0.4^2) = 0.5, (0.50)/0.5 = +1.0.
    B: ours 14.00, sigma (14.06 - 13.94)/2 = 0.06; ref 14.16 -0.08/+0.50. Ours is lower,
       so the lower error 0.08: sqrt(0.06^2 + 0.08^2) = 0.1, (-0.16)/0.1 = -1.6.
    C: ours 14.526, sigma 0.05; ref 14.50 +/- 0.12: sqrt(0.05^2 + 0.12^2) = 0.13,
       0.026/0.13 = +0.2.
    mean = (1.0 - 1.6 + 0.2)/3 = -0.13333; deviations 1.13333, -1.46667, 0.33333; squares
    sum to 3.54667; sample variance 3.54667/2 = 1.77333; std = 1.33166.
    """
    ra, dec, z = [10.0, 120.0, 200.0], [0.0, 30.0, -5.0], [0.05, 0.08, 0.03]
    ours = results_table(["A", "B", "C"], ra, dec, z, [15.0, 14.0, 14.526],
                         [14.70, 13.94, 14.476], [15.30, 14.06, 14.576])
    ref = reference_table(["a", "b", "c"], np.add(ra, 0.01), dec, np.add(z, 0.001),
                          [14.50, 14.16, 14.50], [0.20, 0.08, 0.12], [0.40, 0.50, 0.12])
    comparison = compare_tables(ours, ref)
    assert list(comparison["ref_name"]) == ["a", "b", "c"]
    np.testing.assert_allclose(comparison["sigma_ref"], [0.40, 0.08, 0.12])
    np.testing.assert_allclose(comparison["normalised_difference"], [1.0, -1.6, 0.2],
                               atol=1e-9)
    stats = summary_statistics(comparison)
    assert stats["n_used"] == 3
    assert stats["mean"] == pytest.approx(-0.133333, abs=1e-6)
    assert stats["std"] == pytest.approx(1.331665, abs=1e-6)


def test_consistent_masses_with_honest_errors_give_zero_mean_and_unit_std():
    """800 clusters (the size of the CNN3D GalWeight sample), ours drawn around the
    reference with the combined error: mu ~ 0 and sigma ~ 1 within their sampling errors
    (1/sqrt(800) = 0.035 and 1/sqrt(1600) = 0.025)."""
    rng = np.random.default_rng(42)
    n = 800
    ra, dec, z = rng.uniform(0, 360, n), rng.uniform(-10, 60, n), rng.uniform(0.02, 0.1, n)
    ref_mass, sigma_ref = rng.uniform(14.0, 15.0, n), rng.uniform(0.05, 0.2, n)
    sigma_ours = rng.uniform(0.05, 0.2, n)
    ours_mass = ref_mass + rng.normal(0, np.hypot(sigma_ours, sigma_ref))
    ours = results_table([f"c{i}" for i in range(n)], ra, dec, z, ours_mass,
                         ours_mass - sigma_ours, ours_mass + sigma_ours)
    ref = reference_table([f"r{i}" for i in range(n)], ra, dec, z, ref_mass, sigma_ref,
                          sigma_ref)
    stats = summary_statistics(compare_tables(ours, ref))
    assert stats["n_used"] == n
    assert abs(stats["mean"]) < 3 * 0.035
    assert abs(stats["std"] - 1.0) < 3 * 0.025


def _offset_north(dec0: float, separation: float, z: float) -> float:
    """Declination [deg] at a projected comoving ``separation`` [h^-1 Mpc] due north
    (gnomonic: eta = tan(delta dec))."""
    d_m = transverse_comoving_distance(default_cosmology(), z)
    return dec0 + np.degrees(np.arctan(separation / d_m))


def test_matching_keeps_the_window_and_nearest_per_reference():
    z0 = 0.0231
    ours = results_table(["Coma"], [194.95], [27.98], [z0], [14.9], [14.8], [15.0])
    z_fast = z0 + 1600.0 * (1 + z0) / C_KMS  # 1600 km/s away: a near miss in velocity
    ref = reference_table(
        ["in_0.95", "out_1.05", "out_dv", "in_0.30_other_ref"],
        [194.95] * 4,
        [_offset_north(27.98, 0.95, z0), _offset_north(27.98, 1.05, z0), 27.98,
         _offset_north(27.98, 0.30, z0)],
        [z0, z0, z_fast, z0], [14.8] * 4, [0.1] * 4, [0.1] * 4,
        reference=["paper1", "paper1", "paper1", "paper2"])
    pairs = match_clusters(ours, ref, MatchWindow(max_separation=1.0, max_dv=1500.0))
    assert [(ref["name"][j], round(sep, 6)) for _, j, sep, _ in pairs] == [
        ("in_0.95", 0.95), ("in_0.30_other_ref", 0.30)]
    # the near misses alone give no match
    assert match_clusters(ours, ref[1:3]) == []
    # a wider velocity window takes in the fast one (dv = 1600 km/s)
    wide = match_clusters(ours, ref[2:3], MatchWindow(max_dv=1700.0))
    assert wide[0][3] == pytest.approx(1600.0, rel=1e-9)


def test_lokas_mamon_virial_mass_converts_to_the_quoted_m200c():
    """LM03: M_vir = 1.4e15 h_70^-1 Msun, NFW c = 9 (30%). Kodi Ramanah et al. 2020
    (Table 1) quote log10 M200c = 14.91 +/- 0.11 h^-1 Msun for it."""
    sources = read_sources()
    coma = sources[sources["bibcode"] == "2003MNRAS.343..401L"]
    assert coma["value"][0] == 14.0 and coma["h"][0] == 0.7 and coma["mdef"][0] == "vir"
    row = build_literature_table(coma)[0]
    log_m, lo, hi = row["log10_m200c"], row["log10_m200c_err_lo"], row["log10_m200c_err_hi"]
    conversion = row["conversion"]
    assert log_m == pytest.approx(14.91, abs=0.015)
    assert hi == pytest.approx(np.log10(1.3), abs=1e-6)  # +30% through a fixed-c ratio
    assert lo == pytest.approx(-np.log10(0.7), abs=1e-6)
    assert "x0.7" in conversion and "vir -> 200c" in conversion


def test_h70_to_h_inverse_by_hand():
    """10e14 h_70^-1 Msun = 10e14 x 0.7 h^-1 Msun = 7e14: log10 = 14.845098."""
    mass = PublishedMass(10.0, 1.0, 2.0, "linear", h=0.7, mdef="200c", z=0.05)
    log_m, lo, hi, conversion = to_log10_m200c(mass)
    assert log_m == pytest.approx(np.log10(7e14), abs=1e-12)
    assert lo == pytest.approx(np.log10(10 / 9), abs=1e-12)
    assert hi == pytest.approx(np.log10(12 / 10), abs=1e-12)
    assert conversion.startswith("x0.7")


def _nfw_m200_over_m500(c500: float) -> float:
    """NFW by hand: the mean density inside x r_s scales as m(x)/x^3,
    m(x) = ln(1+x) - x/(1+x); r200 is where it is 200/500 of its value at c500."""
    def m(x):
        return np.log1p(x) - x / (1 + x)

    c200 = brentq(lambda x: m(x) / x**3 - 0.4 * m(c500) / c500**3, c500, 10 * c500)
    return m(c200) / m(c500)


def test_m500c_to_m200c_matches_nfw_by_hand_and_round_trips():
    mass = PublishedMass(3.0, 0.3, 0.3, "linear", h=1.0, mdef="500c", z=0.1,
                         concentration=3.0)
    log_m, *_ = to_log10_m200c(mass)
    assert log_m == pytest.approx(np.log10(3e14 * _nfw_m200_over_m500(3.0)), abs=1e-4)
    # with the concentration model, 500c -> 200c -> 500c comes back within 0.01 dex
    from colossus.halo import mass_adv

    no_c = PublishedMass(3.0, 0.3, 0.3, "linear", h=1.0, mdef="500c", z=0.1)
    log_200, *_ = to_log10_m200c(no_c)
    back = mass_adv.changeMassDefinitionCModel(10**log_200, 0.1, "200c", "500c",
                                               c_model="ishiyama21")[0]
    assert np.log10(back) == pytest.approx(np.log10(3e14), abs=0.01)
    assert 0.1 < log_200 - np.log10(3e14) < 0.2  # M200c/M500c ~ 1.3-1.5 for clusters


def test_unknown_mass_definition_is_a_clear_error():
    with pytest.raises(InputError, match="cannot convert mass definition 'x500'"):
        to_log10_m200c(PublishedMass(3.0, 0.3, 0.3, "linear", 1.0, "x500", 0.1))


def test_shipped_literature_table_holds_the_published_values():
    table = load_literature_table()
    assert all(table["reference"]) and all(table["bibcode"]) and all(table["conversion"])
    quoted = {("A1689", "2009ApJ...701.1336L"): (15.05, 0.12, 0.12),
              ("A85", "2007MNRAS.377..843W"): (14.88, 0.07, 0.07),
              ("A119", "2020ApJS..246....2A"): (14.61, 0.11, 0.11),
              ("A576", "2007MNRAS.377..843W"): (14.69, 0.08, 0.08),
              ("A1651", "2007MNRAS.377..843W"): (14.81, 0.11, 0.11),
              ("A2142", "2014A&A...566A..68M"): (14.95, 0.14, 0.04),
              ("A2670", "2020ApJS..246....2A"): (14.72, 0.10, 0.10),
              ("Coma", "2022NatAs...6..936H"): (15.10, 0.15, 0.15)}
    for row in table:
        key = (row["name"], row["bibcode"])
        if key in quoted:
            got = (row["log10_m200c"], row["log10_m200c_err_lo"], row["log10_m200c_err_hi"])
            np.testing.assert_allclose(got, quoted.pop(key), atol=1e-9)
    assert not quoted, f"missing rows: {quoted}"
    # the shipped file is what the builder makes from the sources
    rebuilt = build_literature_table(read_sources(LITERATURE_SOURCES))
    np.testing.assert_allclose(table["log10_m200c"][:len(rebuilt)], rebuilt["log10_m200c"])


def test_hecs_transcribed_masses_are_in_h_inverse_units(shared_data):
    """M200 = (4/3) pi 200 rho_c(z) r200^3 holds for the transcribed HeCS M200 and r200
    in h^-1 units (median ratio ~1) and fails for h = 0.7 (ratio ~0.49)."""
    from astropy.table import Table

    folder = shared_data / "real" / "literature"
    raw = Table.read(folder / "HeCS_Rines2013_table4_caustic_masses_transcribed.tsv",
                     format="ascii.tab")
    rows = hecs_sources(folder)
    cosmo = default_cosmology()
    rho_h = (cosmo.critical_density(rows["z"]).to_value(u.Msun / u.Mpc**3) / cosmo.h**2)
    ratio = 4 / 3 * np.pi * 200 * rho_h * raw["r200Mpc"] ** 3 / (raw["M200e14"] * 1e14)
    assert np.median(ratio) == pytest.approx(1.0, abs=0.02)
    assert np.all(np.abs(ratio - 1.0) < 0.05)  # every cluster, to the transcription's rounding
    assert len(rows) == 58 and all("transcribed" in f for f in rows["flags"])
    assert rows[rows["name"] == "A1361"]["flags"][0] == "transcribed;zero_error"


# --- GalWeight (VizieR) -----------------------------------------------------------------

def _fake_vizier(monkeypatch, body: bytes | Exception):
    """Replace astroquery's HTTP call; returns the list of payloads it was sent."""
    from astroquery.vizier.core import VizierClass

    sent = []

    def fake_request(self, method, url, data=None, **kwargs):
        sent.append(data)
        if isinstance(body, Exception):
            raise body
        response = requests.Response()
        response._content, response.status_code = body, 200
        return response

    monkeypatch.setattr(VizierClass, "_request", fake_request)
    return sent


@pytest.fixture
def recorded_votable() -> bytes:
    return (RECORDED / "vizier_galwcat19.xml").read_bytes()


#: GalWCat19 ClID 14, the first line of the recorded sample (shared/data/real/literature/
#: GalWCat19_galwcls_z0.12plus_sample.dat): RAdeg, DEdeg, z, M200 and e_M200 [h^-1 Msun].
CLID_14 = (53.586472, -1.1657616, 0.1380759, 5.4617218e14, 1.9225109e14)
CLUSTER_TABLE = "J/ApJS/246/2/galwcls"


def _recorded_cluster_table(recorded_votable):
    from astroquery.vizier.core import _parse_vizier_votable

    return _parse_vizier_votable(recorded_votable)[CLUSTER_TABLE]


def test_galweight_recorded_response_is_parsed_and_cached(monkeypatch, recorded_votable):
    sent = _fake_vizier(monkeypatch, recorded_votable)
    ref = galweight.galweight_reference()
    assert "-out.max=unlimited" in sent[0] and "-out.all" in sent[0]  # all rows, all columns
    assert "J/ApJS/246/2" in sent[0]
    assert len(ref) == 40 and ref.meta["vizier_table"] == CLUSTER_TABLE
    assert list(ref["name"][:3]) == ["GalWCat19 0014", "GalWCat19 0055", "GalWCat19 0083"]
    ra, dec, z, m200, e_m200 = CLID_14
    row = ref[0]
    assert (row["ra"].to_value(u.deg), row["dec"].to_value(u.deg), row["z"]) == (ra, dec, z)
    assert row["log10_m200c"] == pytest.approx(14.737330, abs=1e-6)  # log10 5.4617218e14
    assert row["log10_m200c_err_lo"] == pytest.approx(np.log10(m200 / (m200 - e_m200)))
    assert row["log10_m200c_err_hi"] == pytest.approx(np.log10((m200 + e_m200) / m200))
    assert ref.meta["galweight_mass_unit"] == "solMass; h convention: h^-1 Msun"
    # the second call reads the cache: no request
    assert galwcat.cache_path().exists()
    again = galweight.galweight_reference()
    assert len(sent) == 1
    np.testing.assert_array_equal(again["log10_m200c"], ref["log10_m200c"])


def test_galweight_recording_holds_the_sample_rows_exactly(shared_data, recorded_votable):
    """Every line of the real GalWCat19 sample comes out with its position, redshift and
    log10 M200 (the 39 columns in the CDS ReadMe order, shared/data/README.md)."""
    lines = (shared_data / "real" / "literature" /
             "GalWCat19_galwcls_z0.12plus_sample.dat").read_text().splitlines()
    cells = [[c.strip() for c in line.split("|")] for line in lines]
    assert len(cells) == 40 and {len(c) for c in cells} == {39}
    ref = galweight.galweight_reference(_recorded_cluster_table(recorded_votable))
    assert list(ref["name"]) == [f"GalWCat19 {int(c[0]):04d}" for c in cells]
    for column, index in (("ra", 1), ("dec", 2), ("z", 3)):
        np.testing.assert_array_equal(np.asarray(ref[column], float) if column == "z" else
                                      ref[column].to_value(u.deg),
                                      [float(c[index]) for c in cells])
    np.testing.assert_allclose(ref["log10_m200c"], np.log10([float(c[18]) for c in cells]),
                               rtol=0, atol=1e-12)
    assert 13.9 < np.median(ref["log10_m200c"]) < 14.3  # z > 0.12: the more massive clusters


def test_galweight_masses_in_another_unit_are_read_or_refused(recorded_votable):
    table = _recorded_cluster_table(recorded_votable)
    unitless = table.copy()
    unitless["M200"].unit = None  # GalWCat19 tabulates plain h^-1 Msun
    with pytest.warns(UserWarning, match="no unit; assuming 1.0 solMass"):
        ref = galweight.galweight_reference(unitless)
    assert ref["log10_m200c"][0] == pytest.approx(14.737330, abs=1e-6)
    misread = table.copy()
    misread["M200"].unit = "10+14solMass"  # values ~1e14 read as units of 1e14 Msun
    with pytest.raises(ServiceError, match="median log10 M200 of 28.08, not a cluster mass"):
        galweight.galweight_reference(misread)


def test_galweight_masked_masses_are_dropped_and_positions_may_be_raj2000(recorded_votable):
    table = _recorded_cluster_table(recorded_votable)
    table.rename_columns(["RAdeg", "DEdeg"], ["RAJ2000", "DEJ2000"])  # VizieR's other spelling
    table["M200"] = np.ma.masked_array(table["M200"], mask=np.arange(len(table)) == 0)
    ref = galweight.galweight_reference(table)
    assert len(ref) == 39 and ref["name"][0] == "GalWCat19 0055"
    assert ref["ra"][0].to_value(u.deg) == 15.240938


def test_galweight_without_a_cluster_table_names_what_it_found(recorded_votable):
    from astroquery.utils import TableList

    table = _recorded_cluster_table(recorded_votable)
    table.remove_columns([n for n in table.colnames if n.startswith(("M", "e_M"))])
    tables = TableList({"J/ApJS/246/2/other": table})
    with pytest.raises(ServiceError, match="J/ApJS/246/2/other: ClID, RAdeg, DEdeg, z"):
        galwcat.select_cluster_table(tables)


def test_galweight_corrupted_cache_is_refetched_with_a_warning(monkeypatch, recorded_votable):
    sent = _fake_vizier(monkeypatch, recorded_votable)
    path = galwcat.cache_path()
    path.parent.mkdir(parents=True)
    path.write_text("# %ECSV 1.0\n# ---\n# truncated by a crash")
    with pytest.warns(CacheWarning, match="damaged"):
        table = galwcat.fetch_galweight_table()
    assert len(sent) == 1 and len(table) == 40
    assert galwcat.fetch_galweight_table().colnames == table.colnames  # repaired


def test_galweight_unreachable_is_a_service_error_after_retries(monkeypatch):
    sent = _fake_vizier(monkeypatch, requests.ConnectionError("no route to host"))
    with pytest.raises(ServiceError, match="after 3 tries.*no route to host.*cached copy"):
        galwcat.fetch_galweight_table(tries=3, first_delay_s=0.0)
    assert len(sent) == 3


def test_galweight_http_4xx_is_not_retried(monkeypatch):
    response = requests.Response()
    response.status_code = 404
    sent = _fake_vizier(monkeypatch, requests.HTTPError("404 Not Found", response=response))
    with pytest.raises(ServiceError, match="answered with an error.*404"):
        galwcat.fetch_galweight_table(tries=3, first_delay_s=0.0)
    assert len(sent) == 1


def test_compare_cli_against_galweight_writes_table_and_plot(monkeypatch, recorded_votable,
                                                             tmp_path, capsys):
    _fake_vizier(monkeypatch, recorded_votable)
    results = tmp_path / "results.ecsv"
    # near GalWCat19 0014 and 0055 of the recording (about 0.1 arcmin and 60 km/s off), and
    # one cluster far from every row
    results_table(["cl14", "cl55", "far"], [53.588, 15.239, 60.0], [-1.167, -9.973, 5.0],
                  [0.1383, 0.1492, 0.05], [14.70, 14.60, 14.0], [14.60, 14.48, 13.9],
                  [14.82, 14.70, 14.1]).write(results)
    out, png = tmp_path / "cmp.ecsv", tmp_path / "cmp.png"
    assert main(["compare", str(results), "--against", "galweight", "-o", str(out),
                 "--plot", str(png)]) == 0
    written = QTable.read(out)
    assert list(written["ref_name"]) == ["GalWCat19 0014", "GalWCat19 0055"]
    assert written.meta["summary"]["n_pairs"] == 2
    # separations are comoving h^-1 Mpc: no astropy Mpc unit that would drop the h^-1
    assert written["separation"].unit is None
    assert "h^-1 Mpc" in written["separation"].description
    assert written.meta["provenance"]["against"] == "galweight"
    assert png.stat().st_size > 10_000
    assert "2 matched pair(s) against galweight" in capsys.readouterr().out


def test_compare_results_without_any_mass_print_a_table_and_a_message(tmp_path, capsys):
    results = tmp_path / "results.ecsv"
    nan = [np.nan, np.nan]
    table = results_table(["Coma", "far"], [194.95, 60.0], [27.98, 5.0], [0.0231, 0.05],
                          nan, nan, nan)
    table["flags"] = ["too_few_galaxies", "redshift_out_of_range"]
    table.write(results)
    out = tmp_path / "cmp.ecsv"
    assert main(["compare", str(results), "--against", "literature", "-o", str(out),
                 "--plot", str(tmp_path / "cmp.png")]) == 0
    printed = capsys.readouterr().out
    assert "Coma  no mass  [too_few_galaxies]" in printed
    assert "far  no mass  [redshift_out_of_range]" in printed
    assert f"no cluster in {results} has a mass" in printed
    written = QTable.read(out)
    assert len(written) == 0 and written.meta["summary"]["n_results_without_mass"] == 2
    assert not (tmp_path / "cmp.png").exists()  # nothing to plot


def test_compare_refuses_to_replace_its_outputs_without_overwrite(tmp_path, capsys):
    results = tmp_path / "results.ecsv"
    results_table(["Coma"], [194.95], [27.98], [0.0231], [14.9], [14.8], [15.0]).write(results)
    out = tmp_path / "cmp.ecsv"
    out.write_text("mine")
    assert main(["compare", str(results), "--against", "literature", "-o", str(out)]) == 2
    assert f"{out} exists" in capsys.readouterr().err and out.read_text() == "mine"
    assert main(["compare", str(results), "--against", "literature", "-o", str(out),
                 "--overwrite"]) == 0
    assert QTable.read(out)["name"][0] == "Coma"


# --- bad input ----------------------------------------------------------------------------

def test_results_missing_columns_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "bad.ecsv"
    t = results_table(["A"], [1.0], [2.0], [0.05], [14.0], [13.9], [14.1])
    t.remove_columns(["log10_m200c_p16", "dec"])
    t.write(path)
    with pytest.raises(InputError, match="lacks the column\\(s\\) dec, log10_m200c_p16"):
        read_results(path)
    assert main(["compare", str(path), "--against", "literature"]) == 2
    assert "lacks the column(s) dec, log10_m200c_p16" in capsys.readouterr().err


def test_reference_file_common_spellings_and_missing_columns(tmp_path):
    good = tmp_path / "mine.csv"
    good.write_text("Cluster,RAJ2000,DEJ2000,redshift,logM200c,e_logM200c\n"
                    "Coma,194.95,27.98,0.0231,15.0,0.1\n")
    ref = read_reference_file(good)
    assert ref["name"][0] == "Coma" and ref["log10_m200c_err_hi"][0] == 0.1
    assert ref["reference"][0] == "mine.csv"
    other = tmp_path / "other.csv"  # ra/dec/z spellings are surveymass.catalog's
    other.write_text("NAME,RA_deg,DEC_deg,z_cl,log10_m200c,log10_m200c_err\n"
                     "Coma,194.95,27.98,0.0231,15.0,0.1\n")
    ref = read_reference_file(other)
    assert (ref["ra"][0], ref["dec"][0], ref["z"][0]) == (194.95, 27.98, 0.0231)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,ra,z,logM\nComa,194.95,0.0231,15.0\n")
    with pytest.raises(InputError) as err:
        read_reference_file(bad)
    assert "dec (one of: dec, dej2000" in str(err.value)
    assert "an error on logM" in str(err.value)


def test_reference_masses_at_coma_and_a_mistyped_against():
    coma = reference_masses_at(194.95, 27.98, 0.0231)
    assert sorted(coma["bibcode"]) == ["2003MNRAS.343..401L", "2022NatAs...6..936H"]
    with pytest.raises(InputError, match="'galweight', 'literature' or an existing table"):
        load_reference("galwieght")


@pytest.mark.live
def test_live_vizier_galwcat19_has_the_expected_cluster_table():
    table = galwcat.fetch_galweight_table(refresh=True)
    ref = galweight.galweight_reference(table)
    assert 1700 < len(ref) < 1900
    assert 13.0 < np.median(ref["log10_m200c"]) < 15.0
    coma = results_table(["Coma"], [194.95], [27.98], [0.0231], [14.9], [14.8], [15.0])
    assert len(match_clusters(coma, ref)) == 1
