"""The sky-catalogue format: column recognition, cleaning, atomic writing, the Coma catalogue."""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.stats import biweight_scale
from astropy.table import Table
from conftest import REPO

from surveymass.catalog import (
    CatalogWarning,
    clean_catalog,
    read_catalog,
    standardize,
    write_catalog,
)
from surveymass.cluster import Cluster
from surveymass.cosmology import C_KMS, default_cosmology
from surveymass.errors import InputError
from surveymass.paths import CATALOGS
from surveymass.phasespace import Aperture, sky_to_phase_space

COMA = Cluster("Coma", 194.95, 27.98, 0.0231)
RECORDED = Path(__file__).parent / "data" / "recorded"


def coma_rows(shared_data) -> Table:
    """The real 2019 SkyServer rows around Coma (shared/data/real/coma)."""
    return Table.read(shared_data / "real" / "coma" / "sdss_coma_vicinity.dat",
                      format="ascii.basic", comment="#")


# --- column recognition -------------------------------------------------------------------

@pytest.mark.parametrize("names", [
    ("RA", "DEC", "zGAL", "mag_r"),
    ("RAJ2000", "DEJ2000", "redshift", "rmag"),
    ("ra_deg", "dec_deg", "z_helio", "dered_r"),
    ("RA(deg)", "DEC(deg)", "Redshift", "r_mag"),
])
def test_common_spellings_are_recognised(names):
    raw = Table([[194.9], [27.9], [0.0231], [15.2]], names=names)
    table = standardize(raw, source="user")
    assert list(table.colnames) == ["ra", "dec", "z", "z_err", "mag_r", "source", "objid"]
    assert (table["ra"][0], table["dec"][0], table["z"][0], table["mag_r"][0]) == \
        (194.9, 27.9, 0.0231, 15.2)
    assert np.isnan(table["z_err"][0]) and table["source"][0] == "user"
    assert table["ra"].unit == u.deg and table["mag_r"].unit == u.mag


def test_a_projected_radius_column_r_is_not_a_magnitude():
    # infer's _details.fits has a projected radius R [h^-1 Mpc] beside RA/DEC/Z
    table = standardize(Table({"RA": [194.9], "DEC": [27.9], "Z": [0.0231], "R": [0.8]}))
    assert np.isnan(table["mag_r"][0]) and "mag_r" not in table.meta["column_map"]


def test_raw_sdss_magnitudes_are_dereddened_or_flagged():
    raw = Table({"ra": [194.9], "dec": [27.9], "z": [0.0231], "petroMag_r": [15.2]})
    with pytest.warns(CatalogWarning, match="not corrected for Galactic extinction"):
        assert standardize(raw)["mag_r"][0] == 15.2
    raw["extinction_r"] = [0.03]
    assert standardize(raw)["mag_r"][0] == pytest.approx(15.17)


def test_missing_value_magnitudes_become_unknown_not_bright_or_dropped():
    from surveymass.survey import load_survey

    raw = Table({"ra": [1.0, 2.0, 3.0, 4.0, 5.0], "dec": [1.0] * 5, "z": [0.02] * 5,
                 "mag_r": [-9999.0, 99.0, 999.0, 16.5, np.nan]})
    with pytest.warns(CatalogWarning, match="set 3 r magnitude"):
        cleaned, report = clean_catalog(standardize(raw))
    assert len(cleaned) == 5 and report.bad_magnitude == 3
    assert "3 implausible magnitudes" in report.summary()
    mag = np.asarray(cleaned["mag_r"])
    assert np.isnan(mag[[0, 1, 2, 4]]).all() and mag[3] == 16.5
    assert load_survey().observes(mag).all()  # unknown magnitudes are kept, like 16.5


def test_velocities_become_redshifts():
    raw = Table({"RA": [194.9], "Dec": [27.9], "cz": [6925.0], "e_cz": [29.98]})
    table = standardize(raw)
    assert table["z"][0] == pytest.approx(6925.0 / 299792.458)
    assert table["z_err"][0] == pytest.approx(1e-4, rel=1e-3)
    in_m_s = Table({"RA": [194.9], "Dec": [27.9], "velocity": [6925e3]})
    in_m_s["velocity"].unit = u.m / u.s
    assert standardize(in_m_s)["z"][0] == pytest.approx(6925.0 / C_KMS)


def test_missing_columns_are_listed():
    with pytest.raises(InputError) as err:
        standardize(Table({"alpha_j2000": [1.0], "velocity_disp": [2.0], "zz": [0.1]}))
    message = str(err.value)
    for word in ("ra", "dec", "z (or cz", "alpha_j2000", "Rename"):
        assert word in message


def test_mislabelled_redshift_column_is_caught():
    with pytest.raises(InputError, match="not a redshift.*cz"):
        standardize(Table({"ra": [1.0, 2.0], "dec": [1.0, 2.0], "z": [0.02, 6990.0]}))


def test_non_numeric_column_is_caught():
    with pytest.raises(InputError, match="'RA'.*not numeric"):
        standardize(Table({"RA": ["12h59m48s"], "DEC": [27.98], "z": [0.02]}))


def test_cluster_id_column_marks_a_batch():
    raw = Table({"ra": [1.0, 1.0], "dec": [2.0, 2.0], "z": [0.02, 0.03],
                 "Cluster": ["A85", "A119"]})
    table = standardize(raw)
    assert list(table["cluster_id"]) == ["A85", "A119"]
    cleaned, report = clean_catalog(table)  # same position, different clusters: both kept
    assert len(cleaned) == 2 and report.repeat_spectra == 0


# --- cleaning --------------------------------------------------------------------------------

def test_cleaning_the_real_coma_rows(shared_data):
    raw = coma_rows(shared_data)
    z = np.asarray(raw["zGAL"])
    with pytest.warns(CatalogWarning) as record:
        cleaned, report = clean_catalog(standardize(raw))
    assert any("979 row" in str(w.message) for w in record)
    # shared/data/README.md: 979 rows without a redshift (919 zeros, 60 negative)
    assert report.bad_redshift == int(np.sum(z <= 0)) == 979
    # two redshift-good rows have mag_r of 34 (not a galaxy magnitude): unknown, not dropped
    mag = np.asarray(raw["mag_r"], float)[z > 0]
    assert report.bad_magnitude == int(np.sum((mag <= 5) | (mag >= 30))) == 2
    # every position repeated exactly among the good rows is one galaxy after merging
    good = raw[z > 0]
    exact = sum(n - 1 for n in collections.Counter(zip(good["RA"], good["DEC"])).values())
    assert report.repeat_spectra >= exact
    assert report.n_out == len(raw) - 979 - report.repeat_spectra - report.duplicate_rows
    from astropy.coordinates import SkyCoord
    coords = SkyCoord(cleaned["ra"], cleaned["dec"], unit="deg")
    _, sep, _ = coords.match_to_catalog_sky(coords, nthneighbor=2)
    assert sep.arcsec.min() >= 1.0


def test_repeat_spectra_keep_the_smallest_error_then_the_first():
    raw = Table({"ra": [10.0, 10.0001, 10.0, 20.0, 20.0], "dec": [5.0, 5.0, 5.0, 5.0, 5.0],
                 "z": [0.0300, 0.0302, 0.0301, 0.05, 0.051],
                 "z_err": [3e-4, 1e-4, 2e-4, np.nan, np.nan]})
    cleaned, report = clean_catalog(standardize(raw))
    assert report.repeat_spectra == 3
    assert list(cleaned["z"]) == [0.0302, 0.05]  # smallest z_err; first when unknown


def test_nans_and_duplicated_rows_are_dropped_with_warnings():
    raw = Table({"ra": [10.0, np.nan, 11.0, 12.0, 12.0], "dec": [5.0, 5.0, 5.0, 6.0, 6.0],
                 "z": [0.03, 0.03, np.nan, 0.04, 0.04]})
    with pytest.warns(CatalogWarning) as record:
        cleaned, report = clean_catalog(standardize(raw))
    messages = " ".join(str(w.message) for w in record)
    assert "1 row(s) with a missing or invalid ra/dec" in messages
    assert "1 row(s) without a positive redshift" in messages
    assert "1 exactly duplicated row" in messages
    assert (report.bad_position, report.bad_redshift, report.duplicate_rows, len(cleaned)) == \
        (1, 1, 1, 2)


# --- reading and writing ---------------------------------------------------------------------

def test_write_then_read_keeps_columns_units_and_header(tmp_path):
    table = standardize(Table({"ra": [194.9, 195.0], "dec": [27.9, 28.0],
                               "z": [0.0231, 0.0240], "objid": ["a", "b"]}), source="sdss")
    path = write_catalog(table, tmp_path / "c.fits", COMA,
                         {"RADIUS": 4.0, "VWINDOW": 4000.0, "DR": 17, "SOURCES": "sdss"})
    back, cluster = read_catalog(path)
    assert cluster.name == "Coma" and (cluster.ra, cluster.dec, cluster.z) == (194.95, 27.98,
                                                                               0.0231)
    assert list(back["z"]) == [0.0231, 0.0240] and list(back["objid"]) == ["a", "b"]
    assert back["ra"].unit == u.deg
    with fits.open(path) as hdul:
        header = hdul["GALAXIES"].header
        assert header["N_GAL"] == 2 and header["RADIUS"] == 4.0 and header["SMVERS"]
        assert '"versions"' in header["PROVENAN"]


def test_existing_output_is_not_overwritten(tmp_path):
    path = tmp_path / "c.fits"
    path.write_bytes(b"precious")
    table = standardize(Table({"ra": [1.0], "dec": [1.0], "z": [0.02]}))
    with pytest.raises(InputError, match="exists.*--overwrite"):
        write_catalog(table, path, COMA)
    assert path.read_bytes() == b"precious"


def test_failed_write_leaves_the_old_file_untouched(tmp_path, monkeypatch):
    path = tmp_path / "c.fits"
    path.write_bytes(b"precious")

    def crash(self, name, *args, **kwargs):
        with open(name, "wb") as half:
            half.write(b"SIMPLE  =  half-written")
        raise OSError("disk full")

    monkeypatch.setattr(fits.HDUList, "writeto", crash)
    table = standardize(Table({"ra": [1.0], "dec": [1.0], "z": [0.02]}))
    with pytest.raises(OSError, match="disk full"):
        write_catalog(table, path, COMA, overwrite=True)
    assert path.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["c.fits"]


@pytest.mark.parametrize("suffix, fmt", [(".csv", "ascii.csv"), (".ecsv", "ascii.ecsv"),
                                         (".fits", "fits"), (".txt", "ascii.basic")])
def test_users_files_in_several_formats(tmp_path, suffix, fmt):
    raw = Table({"RAJ2000": [194.9, 195.1], "DEJ2000": [27.9, 28.1], "cz": [6900.0, 7100.0],
                 "name": ["g1", "g2"]})
    path = tmp_path / f"user{suffix}"
    raw.write(path, format=fmt)
    table, cluster = read_catalog(path)
    assert cluster is None
    assert table["z"][1] == pytest.approx(7100.0 / C_KMS)
    assert list(table["ra"]) == [194.9, 195.1]


def test_unreadable_and_missing_files_give_clear_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_catalog(tmp_path / "nope.fits")
    bad = tmp_path / "bad.fits"
    bad.write_text("this is not FITS")
    with pytest.raises(InputError, match="could not read .*bad.fits"):
        read_catalog(bad)


def test_reads_the_raw_skyserver_output(shared_data):
    table, _ = read_catalog(shared_data / "real" / "coma" / "sdss_coma_vicinity.dat")
    assert len(table) == 12271 and table.meta["column_map"]["z"] == "zGAL"


# --- the shipped Coma catalogue --------------------------------------------------------------

def test_shipped_coma_catalogue_matches_the_published_numbers():
    table, cluster = read_catalog(CATALOGS / "coma_sdss.fits")
    assert cluster.name == "Coma" and cluster.z == 0.0231
    assert set(table["source"]) == {"sdss"}
    from astropy.coordinates import SkyCoord
    sep = SkyCoord(table["ra"], table["dec"], unit="deg").separation(
        SkyCoord(cluster.ra, cluster.dec, unit="deg")).deg
    cz = np.asarray(table["z"]) * C_KMS
    near = (sep < 1.5) & (np.abs(cz - 6990) < 3000)
    # shared/data/README.md: ~740 unique galaxies, biweight dispersion ~970 km/s
    assert abs(near.sum() - 740) < 15
    assert biweight_scale(cz[near]) == pytest.approx(970, abs=15)
    # inside the default aperture (Deep Sets paper: 1.6 h^-1 Mpc, 2200 km/s)
    ps = sky_to_phase_space(table["ra"], table["dec"], table["z"], cluster.ra, cluster.dec,
                            cluster.z, default_cosmology())
    inside = Aperture().contains(ps)
    assert 600 < inside.sum() < 740
    assert 850 < biweight_scale(ps.v_los[inside]) < 950


def test_shipped_coma_catalogue_is_reproducible(shared_data, tmp_path):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from build_coma_sdss import build
    finally:
        sys.path.pop(0)
    build(shared_data / "real" / "coma" / "sdss_coma_vicinity.dat", tmp_path / "coma.fits")
    rebuilt, _ = read_catalog(tmp_path / "coma.fits")
    shipped, _ = read_catalog(CATALOGS / "coma_sdss.fits")
    for name in ("ra", "dec", "z", "mag_r"):
        assert np.array_equal(rebuilt[name], shipped[name])


# --- input sanity (issue 15) ------------------------------------------------------------

def test_positions_outside_the_sky_are_dropped_and_counted():
    table = standardize(Table({"ra": [194.9, 400.0, -5.0, 360.0, 195.0],
                               "dec": [27.9, 27.9, 27.9, 27.9, 95.0], "z": [0.023] * 5}))
    with pytest.warns(CatalogWarning, match="RA outside"):
        good, report = clean_catalog(table)
    assert list(good["ra"]) == [194.9] and report.bad_position == 4
    assert "dropped 4 without a valid position" in report.summary()


@pytest.mark.parametrize("column", ["vel", "cz", "Velocity"])
def test_a_velocity_column_holding_redshifts_is_refused(column):
    with pytest.raises(InputError, match=f"column '{column}'.*look like redshifts.*'z'"):
        standardize(Table({"ra": [194.9, 195.0], "dec": [27.9, 28.0],
                           column: [0.0231, 0.0245]}))


def test_a_text_file_that_is_not_a_table_gets_one_line(tmp_path):
    letter = tmp_path / "notes.txt"
    letter.write_text("Dear colleague,\nhere are the Coma redshifts you asked for.\nBest\n")
    with pytest.raises(InputError) as info:
        read_catalog(letter)
    assert "could not read" in str(info.value) and "\n" not in str(info.value)


def test_a_parquet_table_reads_like_its_fits_original(tmp_path):
    pytest.importorskip("pyarrow")  # in the test extra: runs in CI
    original, _ = read_catalog(CATALOGS / "coma_sdss.fits")
    Table(original[["ra", "dec", "z", "mag_r"]]).write(tmp_path / "coma.parquet")
    table, cluster = read_catalog(tmp_path / "coma.parquet")
    assert cluster.name == "Coma"  # astropy keeps the header (CL_*) in the Parquet metadata
    assert len(table) == len(original) == 1158
    for column in ("ra", "dec", "z", "mag_r"):
        assert np.array_equal(table[column], original[column], equal_nan=True)


def test_parquet_without_pyarrow_says_what_to_install(tmp_path, monkeypatch):
    (tmp_path / "g.parquet").write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow fails
    with pytest.raises(InputError, match=r"needs pyarrow \(pip install"):
        read_catalog(tmp_path / "g.parquet")


def test_a_ned_text_response_keeps_spectroscopic_galaxies_only():
    """The recorded NED response (tests/data/recorded, real rows of shared/data/real/coma):
    575 objects, 564 of Type G, 550 of them without a PHOT redshift (awk count); the
    same rule as fetch (test_fetch.test_ned_keeps_spectroscopic_galaxy_redshifts_only)."""
    table, cluster = read_catalog(RECORDED / "ned_coma_30arcmin.txt")
    assert len(table) == 550 and cluster is None
    assert table.meta["column_map"]["z"] == "Redshift"
    assert "IC 3998" in set(table["objid"])
