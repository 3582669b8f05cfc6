"""Catalogue mode (``infer GALAXIES --clusters CLUSTERS``) and the coverage of an aperture by
the galaxy table itself, on real tables: the shipped Coma catalogue and the SDSS DR7
volume-limited sample with the Mahdavi & Geller (2001) systems."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from surveymass.calibration.real import read_calibration_catalog
from surveymass.catalog import read_catalog
from surveymass.cli import main
from surveymass.cosmology import default_cosmology
from surveymass.errors import InputError
from surveymass.inference.catalogue import FIELD_MARGIN, catalogue_fields, read_clusters
from surveymass.inference.fields import read_fields, table_footprint
from surveymass.inference.infer import infer_fields, run_infer
from surveymass.masks.footprint import TableFootprint, aperture_coverage
from surveymass.masks.sky import unit_vectors
from surveymass.models.bundle import load_bundle
from surveymass.paths import CATALOGS
from surveymass.phasespace import Aperture, angular_radius, los_velocity

COMA = CATALOGS / "coma_sdss.fits"


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    monkeypatch.setenv("SURVEYMASS_CPU_THREADS", "1")


@pytest.fixture(scope="module")
def shipped():
    return load_bundle("sdss_legacy", "cpu")


def _clusters_file(tmp_path, rows, name="clusters.ecsv", **extra) -> str:
    table = Table(rows=rows, names=("name", "ra", "dec", "z"))
    for key, values in extra.items():
        table[key] = values
    path = tmp_path / name
    table.write(path)
    return str(path)


# --- the clusters table ---------------------------------------------------------------

def test_a_clusters_table_gives_clusters_and_its_other_columns(tmp_path):
    path = _clusters_file(tmp_path, [("Coma", 194.95, 27.98, 0.0231), ("A2199", 247.16, 39.55,
                                                                       0.0302)],
                          richness=[120, 80])
    clusters, extra = read_clusters(path)
    assert [c.name for c in clusters] == ["Coma", "A2199"]
    assert clusters[1].ra == 247.16 and clusters[1].z == 0.0302
    assert extra.colnames == ["richness"] and list(extra["richness"]) == [120, 80]


@pytest.mark.parametrize("rows, message", [
    ([("Coma", 194.95, 27.98, 0.0231), ("Coma", 247.16, 39.55, 0.0302)], "repeated: Coma"),
    ([("Coma", 400.0, 27.98, 0.0231)], "row 1: cluster 'Coma': RA 400"),
    ([("Coma", 194.95, 27.98, -0.1)], "row 1: .* redshift"),
])
def test_bad_clusters_tables_are_refused_with_the_row(tmp_path, rows, message):
    with pytest.raises(InputError, match=message):
        read_clusters(_clusters_file(tmp_path, rows))


def test_a_clusters_table_without_a_redshift_is_refused(tmp_path):
    Table({"name": ["Coma"], "ra": [194.95], "dec": [27.98]}).write(tmp_path / "c.csv")
    with pytest.raises(InputError, match="lacks z"):
        read_clusters(tmp_path / "c.csv")


# --- fields from one table ------------------------------------------------------------

def test_fields_are_the_galaxies_a_full_scan_finds(shared_data):
    """Every MG01 system's field from the 120,606-galaxy DR7 table through the sky index
    equals a scan of the whole table with the same cone and velocity window."""
    galaxies = Table.read(shared_data / "real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits")
    systems, _ = read_calibration_catalog()
    clusters, _ = read_clusters_from(systems)
    cosmology, aperture = default_cosmology(), Aperture()
    fields = catalogue_fields(galaxies, clusters, aperture, cosmology)
    vectors = unit_vectors(galaxies["ra"], galaxies["dec"])
    radius = angular_radius(FIELD_MARGIN * aperture.r_max, systems["z"], cosmology)
    for field, cluster, theta in zip(fields, clusters, radius):
        separation = np.arccos(np.clip(vectors @ unit_vectors(cluster.ra, cluster.dec)[0],
                                       -1, 1))
        near = np.abs(los_velocity(galaxies["z"], cluster.z)) < FIELD_MARGIN * aperture.v_max
        expected = galaxies[(separation <= theta * (1 + 1e-9)) & near]
        assert field.cluster == cluster
        assert sorted(field.galaxies["ra"]) == sorted(expected["ra"])
    assert sum(len(f.galaxies) for f in fields) > 74 * 10  # real fields, not empty ones


def read_clusters_from(systems: Table):
    from surveymass.cluster import Cluster

    return [Cluster(str(s["name"]), s["ra"], s["dec"], s["z"]) for s in systems], None


def test_coma_from_a_table_of_clusters_equals_coma_from_its_own_file(shipped, tmp_path):
    """The shipped Coma catalogue used as a survey table: the Coma row of catalogue mode is
    the single-file result (same galaxies in the aperture, same draws, same flags); the
    other clusters get rows with flags saying why there is no mass, in the table's order."""
    single = run_infer([COMA], output=tmp_path / "single.ecsv", device="cpu").results[0]
    path = _clusters_file(tmp_path, [("far", 150.0, 2.0, 0.05), ("Coma", 194.95, 27.98, 0.0231),
                                     ("too far", 194.95, 27.98, 0.3)], richness=[1, 2, 3])
    result = run_infer([COMA], clusters=path, output=tmp_path / "many.ecsv", device="cpu")
    rows = result.results
    assert list(rows["name"]) == ["far", "Coma", "too far"]
    assert list(rows["richness"]) == [1, 2, 3]
    coma = rows[1]
    for column in ("n_galaxies", "n_members", "log10_m200c_median", "log10_m200c_p16",
                   "log10_m200c_p84", "log10_m200c_kinematic_median", "flags",
                   "catalogue_coverage"):
        assert coma[column] == single[column], column
    assert rows["n_galaxies"][0] == 0 and "too_few_galaxies" in rows["flags"][0]
    assert "redshift_out_of_range" in rows["flags"][2]
    assert np.isnan(rows["log10_m200c_median"][0]) and np.isnan(rows["log10_m200c_median"][2])


def test_the_cli_weighs_a_clusters_table(tmp_path, capsys):
    path = _clusters_file(tmp_path, [("Coma", 194.95, 27.98, 0.0231)])
    out = tmp_path / "res.ecsv"
    assert main(["infer", str(COMA), "--clusters", path, "-o", str(out), "--samples", "200",
                 "--device", "cpu", "-q"]) == 0
    assert "Coma: log10 M200c = 14.8" in capsys.readouterr().out
    assert Table.read(out)["name"][0] == "Coma"


def test_the_cli_refuses_two_galaxy_tables_with_clusters(tmp_path, capsys):
    path = _clusters_file(tmp_path, [("Coma", 194.95, 27.98, 0.0231)])
    assert main(["infer", str(COMA), str(COMA), "--clusters", path, "-o",
                 str(tmp_path / "r.ecsv"), "-q"]) == 2
    assert "one galaxy table; got 2" in capsys.readouterr().err


def test_a_volume_limited_survey_needs_magnitudes_or_selected(tmp_path):
    """A table without magnitudes cannot be cut to M_r < -20: refused, unless declared
    selected already (the DR7 volume-limited sample is)."""
    from surveymass.survey import load_survey

    survey = load_survey("sdss_dr7_vlim20")
    with pytest.raises(InputError, match="--selected"):
        survey.observes(np.full(3, np.nan), z=np.full(3, 0.05), cosmology=default_cosmology())
    assert survey.observes(np.full(3, np.nan), z=np.full(3, 0.05),
                           cosmology=default_cosmology(), already_cut=True).all()


# --- coverage from the table itself ----------------------------------------------------

def test_coma_cut_at_a_declination_edge_is_flagged_incomplete(shipped):
    """Coma's catalogue cut at Dec 28.0 (2 arcmin north of the centre): half the aperture
    is missing. The survey mask cannot know; the table's own coverage does (0.49 exactly,
    overestimated by its covering radius, docs/user_guide.md) and flags the result."""
    field = read_fields([COMA])[0]
    full = table_footprint(field.galaxies, "coma")
    cut_table = field.galaxies[field.galaxies["dec"] > 28.0]
    cut = TableFootprint(cut_table["ra"], cut_table["dec"])
    c = field.cluster
    assert aperture_coverage(c.ra, c.dec, c.z, 1.6, default_cosmology(), full) > 0.97
    truth = 0.49  # the fraction of the aperture's equal-area points north of Dec 28.0
    assert truth < aperture_coverage(c.ra, c.dec, c.z, 1.6, default_cosmology(), cut) < 0.7
    weighed = infer_fields([type(field)(c, cut_table, "", cut)], shipped, n_samples=200,
                           device="cpu").results[0]
    assert "incomplete_footprint" in weighed["flags"]
    assert weighed["footprint_coverage"] == 1.0  # the Legacy mask sees nothing wrong


def test_table_coverage_finds_the_real_survey_edges_the_cell_map_misses(shared_data):
    """The DR7 volume-limited table covers 72 of the 74 MG01 systems (all >= 0.9 in the
    shipped Legacy map) to >= 0.9; the two below sit at real edges of the survey that the
    map, built from 1-degree cells, rounds over: Abell 957 (Dec -0.9, the data stop at
    Dec -1.25) and NRGS 404 (no galaxies east of it)."""
    galaxies = Table.read(shared_data / "real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits")
    systems, _ = read_calibration_catalog()
    footprint = TableFootprint(galaxies["ra"], galaxies["dec"])
    coverage = aperture_coverage(systems["ra"], systems["dec"], systems["z"], 1.6,
                                 default_cosmology(), footprint)
    low = sorted(np.asarray(systems["name"]).astype(str)[coverage < 0.9])
    assert low == ["Abell 957", "NRGS 404"]
    assert np.all(systems["coverage"] >= 0.9)


def test_the_calibration_cylinders_rebuild_from_the_dr7_table(shared_data):
    """calibration.real.cylinder_galaxies (the same sky index) finds, for each of the 74
    systems, exactly the DR7 galaxies the shipped calibration catalogue holds."""
    from surveymass.calibration.real import cylinder_galaxies

    galaxies = Table.read(shared_data / "real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits")
    systems, shipped_galaxies = read_calibration_catalog()
    pairs = cylinder_galaxies(systems, galaxies["ra"], galaxies["dec"], galaxies["z"],
                              default_cosmology())
    rebuilt = np.bincount(pairs[:, 0], minlength=len(systems))
    assert np.array_equal(rebuilt, np.bincount(shipped_galaxies["system"],
                                               minlength=len(systems)))
    assert np.allclose(np.sort(galaxies["z"][pairs[:, 1]]), np.sort(shipped_galaxies["z"]))


def test_the_two_shipped_depths_agree_on_coma(shared_data, tmp_path):
    """Coma weighed twice from independent samples: the volume-limited bundle on the DR7
    M_r < -20 table (64 galaxies in the aperture) and the flux-limited bundle on the
    r < 17.77 catalogue (665): the medians agree within the narrower posterior's width."""
    galaxies = shared_data / "real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits"
    clusters = _clusters_file(tmp_path, [("Coma", 194.95, 27.98, 0.0231)])
    vlim = run_infer([galaxies], clusters=clusters, selected=True, model="sdss_dr7_vlim20",
                     output=tmp_path / "vlim.ecsv", device="cpu").results[0]
    flux = run_infer([COMA], output=tmp_path / "flux.ecsv", device="cpu").results[0]
    assert vlim["n_galaxies"] < 100 < flux["n_galaxies"]
    width = min(vlim["log10_m200c_p84"] - vlim["log10_m200c_p16"],
                flux["log10_m200c_p84"] - flux["log10_m200c_p16"]) / 2
    assert abs(vlim["log10_m200c_median"] - flux["log10_m200c_median"]) < width
    assert 14.6 < vlim["log10_m200c_median"] < 15.0 and vlim["flags"] == ""
    # its kinematics-only companion agrees with it within the companion's half-width
    kinematic = vlim["log10_m200c_kinematic_median"]
    half = (vlim["log10_m200c_kinematic_p84"] - vlim["log10_m200c_kinematic_p16"]) / 2
    assert abs(kinematic - vlim["log10_m200c_median"]) < half and half > width


def test_the_volume_limited_bundle_refuses_a_flux_limited_claim(tmp_path):
    with pytest.raises(InputError, match="trained for 'sdss_dr7_vlim20'"):
        run_infer([COMA], model="sdss_dr7_vlim20", survey="sdss_legacy",
                  output=tmp_path / "r.ecsv", device="cpu")


def test_a_table_without_magnitudes_needs_selected_for_a_volume_limited_bundle(shared_data,
                                                                               tmp_path):
    """The DR7 volume-limited table has no magnitudes: without --selected the bundle's
    M_r < -20 cut cannot be applied, and infer says so before any work is written."""
    galaxies = shared_data / "real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits"
    clusters = _clusters_file(tmp_path, [("Coma", 194.95, 27.98, 0.0231)])
    with pytest.raises(InputError, match="no magnitude.*--selected"):
        run_infer([galaxies], clusters=clusters, model="sdss_dr7_vlim20",
                  output=tmp_path / "r.ecsv", device="cpu")
    assert not (tmp_path / "r.ecsv").exists()


def test_the_dr7_table_covers_the_area_of_the_legacy_map(shared_data):
    """The sky the 120,606 DR7 volume-limited galaxies cover themselves, 7,164 deg^2, is
    within 5% of the shipped Legacy spectroscopic map's 7,326 deg^2 (an independent
    estimate: the map is built from the DR7 LSS 1-degree cells)."""
    from surveymass.masks.footprint import load_footprint

    galaxies = Table.read(shared_data / "real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits")
    area = TableFootprint(galaxies["ra"], galaxies["dec"]).area_deg2()
    assert area == pytest.approx(load_footprint(None).area_deg2(), rel=0.05)


def test_catalogue_mode_from_parquet_with_plots(tmp_path, capsys):
    """A Parquet survey table and a CSV cluster list through the command line, with plots:
    one figure per cluster, the extra column carried to the results."""
    pytest.importorskip("pyarrow")
    galaxies, _ = read_catalog(COMA)
    Table(galaxies[["ra", "dec", "z", "mag_r"]]).write(tmp_path / "survey.parquet")
    Table({"Name": ["Coma", "far"], "RAJ2000": [194.95, 150.0], "DEJ2000": [27.98, 2.0],
           "redshift": [0.0231, 0.05], "lambda": [120.0, 5.0]}).write(tmp_path / "cl.csv")
    out = tmp_path / "res.ecsv"
    assert main(["infer", str(tmp_path / "survey.parquet"), "--clusters",
                 str(tmp_path / "cl.csv"), "-o", str(out), "--plots", str(tmp_path / "png"),
                 "--samples", "200", "--device", "cpu", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "Coma: log10 M200c = 14.8" in printed and "far: no mass" in printed
    results = Table.read(out)
    assert list(results["name"]) == ["Coma", "far"] and list(results["lambda"]) == [120.0, 5.0]
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == ["Coma.png", "far.png"]


def test_no_details_writes_the_results_table_only(tmp_path, capsys):
    path = _clusters_file(tmp_path, [("Coma", 194.95, 27.98, 0.0231)])
    out = tmp_path / "res.ecsv"
    assert main(["infer", str(COMA), "--clusters", path, "-o", str(out), "--no-details",
                 "--samples", "100", "--device", "cpu", "-q"]) == 0
    assert "galaxies and posterior draws" not in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clusters.ecsv", "res.ecsv"]
