"""The HEALPix layer (surveymass.masks.healpix, on astropy-healpix): pixel numbers, centres,
areas and maps in the healpy FITS format, against known values and, when installed, healpy."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy_healpix.core import ring_to_nested

from surveymass.masks import healpix
from surveymass.masks.sky import unit_vectors

# Coma, both poles, RA just below 360, the equator, a point of the Legacy map's edge.
RA = np.array([194.95, 0.0, 0.0, 359.999, 120.0, 10.0, 248.97379913])
DEC = np.array([27.98, 90.0, -90.0, -45.0, 0.0, 20.0, 47.16134274])
#: healpy 1.20.1 ang2pix(nside, RA, DEC, lonlat=True) (RING) and with nest=True.
KNOWN_PIXELS = {
    1: ([2, 0, 8, 11, 5, 4, 2], [2, 0, 8, 11, 5, 4, 2]),
    8: ([193, 0, 764, 655, 378, 240, 103], [162, 63, 512, 725, 342, 310, 156]),
    256: ([208938, 0, 786428, 671711, 393045, 257564, 105057],
          [166074, 65535, 524288, 742485, 350617, 317814, 160324]),
    1024: ([3338410, 0, 12582908, 10741631, 6290773, 4139122, 1678814],
           [2657196, 1048575, 8388608, 11879765, 5609881, 5085024, 2565190]),
}


@pytest.mark.parametrize("nside", sorted(KNOWN_PIXELS))
def test_pixel_numbers_of_known_positions(nside):
    ring, nested = KNOWN_PIXELS[nside]
    assert healpix.lonlat_to_pixel(nside, RA, DEC).tolist() == ring
    assert healpix.lonlat_to_pixel(nside, RA, DEC, nest=True).tolist() == nested
    assert healpix.vector_to_pixel(nside, unit_vectors(RA, DEC)).tolist() == ring
    assert healpix.nested_to_ring(nside, nested).tolist() == ring


def test_pixel_centres_areas_and_radii():
    """Centres of the first, a middle and the last pixel at nside 256; the pixel area
    4 pi / (12 nside^2) sr and healpy's max_pixrad, to the last bit."""
    ra, dec = healpix.pixel_centres(256, [0, 100000, 786431])
    assert np.allclose(ra, [45.0, 38.77232143, 315.0], rtol=0, atol=1e-8)
    assert np.allclose(dec, [89.81725848, 48.14120779, -89.81725848], rtol=0, atol=1e-8)
    assert np.allclose(healpix.pixel_vectors(256, [0]), unit_vectors(ra[:1], dec[:1]),
                       rtol=0, atol=1e-15)
    assert healpix.pixel_area_deg2(256) == 0.052455852825697924
    assert healpix.npix(256) == 786432 and healpix.nside_of(786432) == 256
    assert [healpix.max_pixel_radius(n) for n in (1, 8, 256, 1024)] == [
        0.8410686705679302, 0.13042543553450464, 0.004172560737300081, 0.0010437213083341575]
    assert healpix.is_npix(12) and not healpix.is_npix(100) and not healpix.is_npix(12 * 9)


def test_degrade_averages_the_nested_children():
    """nside 2 -> 1: every base pixel is the mean of its 4 children (NESTED 4k ... 4k + 3)."""
    nested = np.arange(48, dtype=float)
    ring = nested[ring_to_nested(np.arange(48), 2)]  # the same map, RING
    assert healpix.degrade(ring, 1).tolist() == [4 * k + 1.5 for k in range(12)]
    with pytest.raises(ValueError):
        healpix.degrade(ring, 4)


def _bintable(path, columns, **keys):
    """A FITS file whose HDU 1 is a binary table of ``columns`` with header ``keys``."""
    table = fits.BinTableHDU.from_columns(columns)
    for key, value in keys.items():
        table.header[key] = value
    table.writeto(path)


def test_read_full_nested_and_partial_maps(tmp_path):
    """A map written with write_map reads back; NESTED maps come back in RING order and
    partial (EXPLICIT) maps with the absent pixels UNSEEN, as healpy reads them."""
    nside = 16
    values = np.linspace(0, 1, healpix.npix(nside)).astype(np.float32)
    full = tmp_path / "full.fits"
    healpix.write_map(full, values, "SIGNAL", coordsys="G", extra_header=[("SURVEY", "x", "")])
    read, header = healpix.read_map(full)
    assert read.dtype == np.float64 and np.array_equal(read, values.astype(np.float64))
    assert header["COORDSYS"] == "G" and header["SURVEY"] == "x" and header["NSIDE"] == nside
    assert fits.getheader(full, 1)["TFORM1"] == "1024E"

    nested = tmp_path / "nest.fits"
    order = healpix.nested_to_ring(nside, np.arange(values.size))  # RING pixel of each NESTED
    _bintable(nested, [fits.Column("T", "1024D", array=values[order].reshape(-1, 1024))],
              PIXTYPE="HEALPIX", ORDERING="NESTED", NSIDE=nside)
    assert np.array_equal(healpix.read_map(nested)[0], values)

    partial = tmp_path / "partial.fits"
    seen = np.flatnonzero(values > 0.5)
    _bintable(partial, [fits.Column("PIXEL", "J", array=seen),
                        fits.Column("SIGNAL", "E", array=values[seen])],
              PIXTYPE="HEALPIX", ORDERING="RING", NSIDE=nside, INDXSCHM="EXPLICIT",
              OBJECT="PARTIAL")
    assert np.array_equal(healpix.read_map(partial)[0],
                          np.where(values > 0.5, values.astype(float), healpix.UNSEEN))


def test_not_a_map_raises(tmp_path):
    table = tmp_path / "table.fits"
    _bintable(table, [fits.Column("ra", "D", array=np.arange(100.0))])
    with pytest.raises(ValueError):
        healpix.read_map(table)
    text = tmp_path / "text.fits"
    text.write_text("not fits")
    with pytest.raises(OSError):
        healpix.read_map(text)


def test_agrees_with_healpy():
    """Pixel numbers of 2 10^5 random positions, centres, ring/nest orderings, unit vectors
    and degrading equal healpy's (needs healpy, in the test extra)."""
    hp = pytest.importorskip("healpy")
    rng = np.random.default_rng(1)
    ra, dec = rng.uniform(0, 360, 200_000), np.degrees(np.arcsin(rng.uniform(-1, 1, 200_000)))
    assert np.array_equal(unit_vectors(ra, dec), hp.ang2vec(ra, dec, lonlat=True))
    for nside in (1, 8, 128, 256):
        for nest in (False, True):
            assert np.array_equal(healpix.lonlat_to_pixel(nside, ra, dec, nest),
                                  hp.ang2pix(nside, ra, dec, nest=nest, lonlat=True))
        assert np.array_equal(healpix.vector_to_pixel(nside, unit_vectors(ra, dec)),
                              hp.ang2pix(nside, ra, dec, lonlat=True))
        pix = np.arange(healpix.npix(nside))
        assert np.array_equal(healpix.nested_to_ring(nside, pix), hp.nest2ring(nside, pix))
        assert np.allclose(np.column_stack(healpix.pixel_centres(nside, pix)),
                           np.column_stack(hp.pix2ang(nside, pix, lonlat=True)), rtol=0,
                           atol=1e-12)
        assert healpix.max_pixel_radius(nside) == hp.max_pixrad(nside)
        assert healpix.pixel_area_deg2(nside) == hp.nside2pixarea(nside, degrees=True)
    values = rng.random(healpix.npix(64))
    assert np.array_equal(healpix.degrade(values, 16), hp.ud_grade(values, 16))


def test_maps_interchange_with_healpy(tmp_path):
    """write_map writes the bytes healpy.write_map writes; read_map reads what healpy
    writes (full, NESTED, partial) as healpy.read_map does."""
    hp = pytest.importorskip("healpy")
    values = np.random.default_rng(2).random(healpix.npix(32)).astype(np.float32)
    cards = [("SURVEY", "test", "a comment")]
    ours, theirs = tmp_path / "ours.fits", tmp_path / "theirs.fits"
    healpix.write_map(ours, values, "COMPLETENESS", extra_header=cards)
    hp.write_map(theirs, values, nest=False, coord="C", dtype=np.float32,
                 column_names=["COMPLETENESS"], extra_header=cards)
    assert ours.read_bytes() == theirs.read_bytes()
    nested, partial = tmp_path / "nest.fits", tmp_path / "partial.fits"
    hp.write_map(nested, hp.reorder(values, r2n=True), nest=True, coord="C")
    masked = np.where(values > 0.5, values, hp.UNSEEN)
    hp.write_map(partial, masked, partial=True)
    for path in (ours, nested, partial):
        assert np.array_equal(healpix.read_map(path)[0], hp.read_map(path, dtype=np.float64))
