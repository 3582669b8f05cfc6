"""The mangle reader against the real BOSS and SDSS (NYU-VAGC DR6) polygon files."""

from __future__ import annotations

import numpy as np
import pytest

from surveymass.errors import InputError
from surveymass.masks import MangleFootprint, healpix, read_mangle

SQ_DEG_PER_SR = np.degrees(1.0) ** 2


@pytest.fixture(scope="module")
def footprints(shared_data):
    return shared_data / "real" / "footprints"


@pytest.fixture(scope="module")
def boss(footprints):
    return read_mangle(footprints / "boss_survey_outline.ply")


def random_sphere(n, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


def random_box(n, ra_range, dec_range, seed):
    """Uniform points on the sphere in an RA/Dec box; returns ra, dec, box area [deg^2]."""
    rng = np.random.default_rng(seed)
    sin_lo, sin_hi = np.sin(np.radians(dec_range))
    ra = np.mod(rng.uniform(*ra_range, n), 360.0)
    dec = np.degrees(np.arcsin(rng.uniform(sin_lo, sin_hi, n)))
    area = np.radians(ra_range[1] - ra_range[0]) * (sin_hi - sin_lo) * SQ_DEG_PER_SR
    return ra, dec, area


def test_boss_outline_counts_and_published_area(boss):
    # skymapper's boss_survey.ply: 32 polygons, 10,778 deg^2 (shared/data README)
    assert boss.n_polygons == 32
    assert boss.area_deg2() == pytest.approx(10778, abs=1)


def test_boss_point_in_polygon_reproduces_the_area(boss):
    """Counting HEALPix pixel centres inside the polygons recovers the area in the file."""
    nside = 256
    ra, dec = healpix.pixel_centres(nside, np.arange(healpix.npix(nside)))
    inside = boss.polygon_index(ra, dec) >= 0
    area = inside.sum() * healpix.pixel_area_deg2(nside)
    assert area == pytest.approx(boss.area_deg2(), rel=0.005)


def test_boss_polygon_ids_match_pymangle(boss, footprints):
    pymangle = pytest.importorskip("pymangle")
    reference = pymangle.Mangle(str(footprints / "boss_survey_outline.ply"))
    ra, dec = random_sphere(100_000, seed=3)
    ours = boss.polygon_index(ra, dec)
    theirs = reference.polyid(ra, dec)
    assert np.array_equal(ours >= 0, theirs >= 0)
    assert np.array_equal(boss.ids[ours[ours >= 0]], theirs[theirs >= 0])


def test_coma_inside_boss_and_the_south_outside(boss):
    assert boss.weight(np.array([194.95, 30.0]), np.array([27.98, -60.0])).tolist() == [1.0, 0.0]


def test_weighted_window_and_holes(footprints):
    """The DR6 safe0 slice: Monte Carlo areas equal the polygon areas in the files,
    completeness equals the sector weights, and holes cut it to zero."""
    window = read_mangle(footprints / "window.dr6safe0.slice.ply")
    holes = read_mangle(footprints / "mask.dr6safe0.slice.ply")
    assert (window.n_polygons, holes.n_polygons) == (5140, 11703)
    ra, dec, box = random_box(600_000, (-50, 95), (-2, 17), seed=5)

    index = window.polygon_index(ra, dec)
    assert np.mean(index >= 0) * box == pytest.approx(window.areas_sr.sum() * SQ_DEG_PER_SR,
                                                      rel=0.015)
    weight = window.weight(ra, dec)
    assert np.array_equal(weight[index >= 0], window.weights[index[index >= 0]])
    assert weight.mean() * box == pytest.approx(window.area_deg2(weighted=True), rel=0.015)

    in_hole = holes.polygon_index(ra, dec) >= 0
    assert np.mean(in_hole) * box == pytest.approx(holes.areas_sr.sum() * SQ_DEG_PER_SR,
                                                   rel=0.1)
    completeness = MangleFootprint(window, (holes,)).completeness(ra, dec)
    assert np.all(completeness[in_hole] == 0)
    assert np.array_equal(completeness[~in_hole], weight[~in_hole])


def test_polygon_without_caps_is_the_whole_sky(tmp_path):
    path = tmp_path / "allsky.ply"
    path.write_text("1 polygons\npolygon 0 ( 0 caps, 0.5 weight, 0 pixel, 12.566 str):\n")
    ra, dec = random_sphere(1000, seed=1)
    assert np.all(read_mangle(path).weight(ra, dec) == 0.5)


def test_cap_geometry_positive_and_negative(tmp_path):
    """A ring: inside the 10-degree cap about the north pole, outside the 5-degree one."""
    cm10, cm5 = 1 - np.cos(np.radians(10)), 1 - np.cos(np.radians(5))
    path = tmp_path / "ring.ply"
    path.write_text(f"polygon 7 ( 2 caps, 1 weight, 0 pixel, 0.0 str):\n"
                    f" 0 0 1 {float(cm10)!r}\n 0 0 1 {float(-cm5)!r}\n")
    dec = np.array([89.0, 84.0, 82.0, 79.0])
    assert read_mangle(path).weight(np.zeros(4), dec).tolist() == [0, 1, 1, 0]


@pytest.mark.parametrize("text, message", [
    ("polygon 1 ( 2 caps, 1 weight, 0 pixel, 0.1 str):\n 0 0 1 0.5\n", "announces 2 caps"),
    ("polygon 1 ( 1 caps, 1 weight, 0 pixel, 0.1 str):\n 0 0 one 0.5\n", "expected a cap"),
    ("polygon 1 ( 1 caps, 1 weight, 0 pixel, 0.1 str):\n 0 0 1\n", "expected a cap"),
    ("polygon 1 ( 1 weight, 0 pixel, 0.1 str):\n 0 0 1 0.5\n", "cap count"),
    ("# ra dec\n108 40\n", "holds no mangle polygon"),
])
def test_malformed_files_raise_input_error(tmp_path, text, message):
    path = tmp_path / "bad.ply"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_mangle(path)


def test_binary_or_missing_file_raises_input_error(tmp_path, footprints):
    binary = tmp_path / "map.ply"
    binary.write_bytes((footprints / "DR12v5_CMASS_North_mask.fits").read_bytes()[:4000]
                       + bytes(range(128, 256)))
    with pytest.raises(InputError, match="not a mangle polygon file|no mangle polygon"):
        read_mangle(binary)
    with pytest.raises(InputError, match="does not exist"):
        read_mangle(tmp_path / "absent.ply")
