"""Footprint maps: the shipped SDSS Legacy map, the BOSS HEALPix maps, aperture coverage."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from surveymass.cosmology import default_cosmology, transverse_comoving_distance
from surveymass.errors import InputError
from surveymass.masks import (
    Footprint,
    HealpixFootprint,
    MangleFootprint,
    aperture_coverage,
    load_footprint,
    read_healpix_map,
)
from surveymass.masks import healpix
from surveymass.masks.legacy import build_legacy_footprint
from surveymass.masks.sky import unit_vectors
from surveymass.paths import CATALOGS
from surveymass.survey import load_survey

COMA = (194.95, 27.98, 0.0231)  # shared/data README
COSMO = default_cosmology()
CELLS = "real/footprints/sdss_dr7_lss_1deg_cells.dat"
DR7_GALAXIES = "real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits"


@pytest.fixture(scope="module")
def legacy():
    return load_footprint()


@pytest.fixture(scope="module")
def dr7_galaxies(shared_data):
    data = fits.getdata(shared_data / DR7_GALAXIES, 1)
    return np.asarray(data["ra"], float), np.asarray(data["dec"], float)


def test_default_is_the_shipped_legacy_map(legacy):
    survey = load_survey()
    assert isinstance(legacy, HealpixFootprint) and legacy.nside == 256
    assert legacy.name == str(survey.footprint_path)
    assert load_footprint("sdss_legacy") is legacy  # survey name, cached
    assert load_footprint("sdss_legacy_footprint.fits") is legacy  # file in catalogs/
    assert 0 <= legacy.values.min() and legacy.values.max() == 1
    header = fits.getheader(CATALOGS / "sdss_legacy_footprint.fits", 1)
    assert header["QUANTITY"] == "COMPLETENESS" and header["COORDSYS"].strip() == "C"
    assert header["AREA"] == pytest.approx(legacy.area_deg2(weighted=True), abs=0.1)


def test_legacy_map_holds_the_dr7_galaxies(legacy, dr7_galaxies):
    completeness = legacy.completeness(*dr7_galaxies)
    assert np.mean(completeness > 0) > 0.998
    assert np.mean(completeness) > 0.99


def test_legacy_area_against_cells_and_published_area(legacy, shared_data):
    """Inside the listed 1-degree cells (which overshoot the edges) and below the 8032
    deg^2 of the DR7 Legacy spectroscopy (Abazajian et al. 2009), whose three southern
    stripes the inputs do not cover."""
    cells = np.loadtxt(shared_data / CELLS)
    cell_area = np.sum(np.degrees(np.sin(np.radians(cells[:, 1] + 1))
                                  - np.sin(np.radians(cells[:, 1]))))
    area = legacy.area_deg2(weighted=True)
    assert 0.9 * cell_area < area < cell_area < 8032


def test_rebuild_from_shared_data_reproduces_the_shipped_map(legacy, shared_data):
    pytest.importorskip("healpy")  # the build's pixel centres (surveymass/masks/legacy.py)
    build = build_legacy_footprint(shared_data / CELLS, shared_data / DR7_GALAXIES)
    assert np.array_equal(build.values, legacy.values.astype(np.float32))


def test_coma_inside_legacy_and_the_south_outside(legacy):
    ra, dec, z = COMA
    assert legacy.completeness(ra, dec) == 1.0
    assert aperture_coverage(ra, dec, z, 4.0, COSMO) == pytest.approx(1.0)
    assert aperture_coverage(30.0, -60.0, 0.05, 1.6, COSMO) == 0.0


def test_edge_cluster_partly_covered_and_matches_query_disc(legacy):
    """A cluster on the southern edge at RA 185: partial coverage, equal to the mean of
    the map over the pixels whose centres lie in the aperture."""
    dec_grid = np.arange(-6.0, 5.0, 0.02)
    dec = dec_grid[np.argmax(legacy.completeness(np.full(dec_grid.size, 185.0), dec_grid) > 0.5)]
    z, r_max = 0.05, 1.6
    coverage = aperture_coverage(185.0, dec, z, r_max, COSMO)
    assert 0.25 < coverage < 0.75
    radius = np.arctan(r_max / transverse_comoving_distance(COSMO, z))
    centres = healpix.pixel_vectors(256, np.arange(healpix.npix(256)))
    pixels = centres @ unit_vectors(185.0, dec)[0] >= np.cos(radius)
    assert 15 < pixels.sum() < 40  # 1.2 deg^2 of 0.052 deg^2 pixels
    assert coverage == pytest.approx(legacy.values[pixels].mean(), abs=0.03)


class HalfSky(Footprint):
    """Exact analytic footprint: Dec > 0 (or RA < 180 when ``east``), no pixels."""

    name = "half sky"

    def __init__(self, east: bool = False):
        self.east = east

    def _completeness(self, ra, dec):
        return ((ra < 180.0) if self.east else (dec > 0.0)).astype(float)

    def area_deg2(self, weighted=False):
        return 2 * np.pi * np.degrees(1.0) ** 2


def test_coverage_sampling_is_exact_for_analytic_footprints():
    """A cluster on a great-circle boundary is half covered, also across RA = 0, and a
    disc cut at distance d from its centre covers the circular-segment fraction."""
    assert aperture_coverage(120.0, 0.0, 0.03, 3.0, COSMO, HalfSky()) == pytest.approx(0.5,
                                                                                      abs=0.005)
    assert aperture_coverage(0.0, 30.0, 0.03, 3.0, COSMO, HalfSky(east=True)) == pytest.approx(
        0.5, abs=0.005)
    assert aperture_coverage(359.99, 89.99, 0.03, 3.0, COSMO, HalfSky()) == 1.0  # at the pole
    radius = np.degrees(np.arctan(3.0 / transverse_comoving_distance(COSMO, 0.03)))
    u = 0.5  # boundary at half the radius north of the centre: the segment beyond it
    segment = (np.arccos(u) - u * np.sqrt(1 - u**2)) / np.pi
    assert aperture_coverage(120.0, -u * radius, 0.03, 3.0, COSMO, HalfSky()) == pytest.approx(
        segment, abs=0.005)


def test_batches_equal_single_clusters(legacy):
    rng = np.random.default_rng(2)
    ra, dec, z = rng.uniform(100, 270, 50), rng.uniform(-10, 75, 50), rng.uniform(0.02, 0.1, 50)
    batch = aperture_coverage(ra, dec, z, 1.6, COSMO)
    assert batch.shape == (50,)
    assert np.array_equal(batch, [aperture_coverage(*c, 1.6, COSMO) for c in zip(ra, dec, z)])
    assert 0 < np.sum(batch == 0) < 50 and 0 < np.sum(batch == 1) < 50


def test_boss_completeness_at_coma(shared_data):
    """The unified BOSS DR12 completeness maps read 0.93-0.95 at Coma (shared/data README)."""
    ra, dec, z = COMA
    folder = shared_data / "real" / "footprints"
    for sample in ("CMASS", "LOWZ"):
        boss = load_footprint(folder / f"unified_DR12v5_{sample}_completeness_n128.fits")
        assert boss.nside == 128
        assert 0.92 < boss.completeness(ra, dec) < 0.96
        assert 0.9 < aperture_coverage(ra, dec, z, 1.6, COSMO, boss) < 0.97
    assert load_footprint(folder / "DR12v5_CMASS_North_mask.fits").completeness(ra, dec) == 1.0


def test_mangle_footprint_through_the_same_interface(shared_data):
    folder = shared_data / "real" / "footprints"
    boss = load_footprint(folder / "boss_survey_outline.ply")
    assert isinstance(boss, MangleFootprint)
    assert aperture_coverage(*COMA, 4.0, COSMO, boss) == 1.0
    assert boss.area_deg2() == pytest.approx(10778, abs=1)
    masked = load_footprint(folder / "window.dr6safe0.slice.ply",
                            holes=[folder / "mask.dr6safe0.slice.ply"])
    assert len(masked.holes) == 1 and masked.holes[0].n_polygons == 11703


def test_nest_ordered_and_partial_maps(tmp_path):
    """NESTED maps are reordered to RING; pixels absent from a partial map (healpy's
    EXPLICIT indexing) and UNSEEN pixels read as 0."""
    nside = 16
    values = np.linspace(0, 1, healpix.npix(nside))
    nested = values[healpix.nested_to_ring(nside, np.arange(values.size))]
    path = tmp_path / "nest.fits"
    _map_file(path, [fits.Column("T", "1024D", array=nested.reshape(-1, 1024))],
              ORDERING="NESTED")
    assert np.array_equal(read_healpix_map(path).values, values)
    partial = tmp_path / "partial.fits"
    seen = np.flatnonzero(values > 0.5)
    signal = np.where(values[seen] > 0.9, healpix.UNSEEN, values[seen]).astype(np.float32)
    _map_file(partial, [fits.Column("PIXEL", "J", array=seen),
                        fits.Column("SIGNAL", "E", array=signal)],
              ORDERING="RING", INDXSCHM="EXPLICIT", OBJECT="PARTIAL")
    expected = np.where((values > 0.5) & (values <= 0.9), values.astype(np.float32), 0)
    assert np.array_equal(read_healpix_map(partial).values, expected)


def _map_file(path, columns, **keys):
    """A HEALPix FITS file (nside 16, equatorial) of table ``columns`` and header ``keys``."""
    table = fits.BinTableHDU.from_columns(columns)
    for key, value in {"PIXTYPE": "HEALPIX", "NSIDE": 16, "COORDSYS": "C", **keys}.items():
        table.header[key] = value
    table.writeto(path)


@pytest.mark.parametrize("ra, dec", [(np.nan, 10.0), (10.0, 95.0), (800.0, 0.0),
                                     ([1.0, 2.0], [3.0])])
def test_bad_positions_raise_input_error(legacy, ra, dec):
    with pytest.raises(InputError):
        legacy.completeness(ra, dec)
    with pytest.raises(InputError):
        aperture_coverage(ra, dec, 0.05, 1.6, COSMO)


@pytest.mark.parametrize("z, r_max", [(0.0, 1.6), (np.nan, 1.6), (0.05, -1.0), (0.05, np.nan)])
def test_bad_aperture_raises_input_error(z, r_max):
    with pytest.raises(InputError):
        aperture_coverage(*COMA[:2], z, r_max, COSMO)


def test_wrong_files_raise_input_error(tmp_path, shared_data):
    not_healpix = shared_data / DR7_GALAXIES  # a FITS table, not a map
    with pytest.raises(InputError, match="not a readable HEALPix map"):
        load_footprint(not_healpix)
    text = tmp_path / "map.fits"
    text.write_text("not fits")
    with pytest.raises(InputError, match="not a readable HEALPix map"):
        load_footprint(text)
    with pytest.raises(InputError, match="cannot tell the format"):
        load_footprint(shared_data / CELLS)
    with pytest.raises(InputError, match="not found"):
        load_footprint(tmp_path / "absent.fits")
    with pytest.raises(InputError, match="no survey config"):
        load_footprint("no_such_survey")
    galactic = tmp_path / "galactic.fits"
    healpix.write_map(galactic, np.ones(healpix.npix(8)), "T", coordsys="G")
    with pytest.raises(InputError, match="COORDSYS"):
        load_footprint(galactic)
    counts = tmp_path / "counts.fits"
    healpix.write_map(counts, np.full(healpix.npix(8), 3.0), "T")
    with pytest.raises(InputError, match=r"outside \[0, 1\]"):
        load_footprint(counts)
    with pytest.raises(InputError, match="not a HEALPix map"):
        HealpixFootprint(np.ones(100))
