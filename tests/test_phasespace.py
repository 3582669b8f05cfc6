"""Sky -> projected phase space: hand-worked values, an independent WCS calculation,
RA = 0/360 wrap-around and fields at the poles."""

import numpy as np
import pytest
from astropy.cosmology import FlatLambdaCDM
from astropy.wcs import WCS
from scipy.integrate import quad

from surveymass.cosmology import C_KMS, default_cosmology
from surveymass.errors import InputError
from surveymass.phasespace import (
    Aperture,
    los_velocity,
    observed_redshift,
    redshift_at_velocity,
    sky_to_phase_space,
    tangent_plane,
)

# A cosmology without radiation, so D_C has a one-line integral to check against.
SIMPLE = FlatLambdaCDM(H0=70.0, Om0=0.3, Tcmb0=0.0)


def comoving_distance_by_hand(z, om=0.3):
    """D_C [h^-1 Mpc] = (c / 100 km/s/Mpc) * int_0^z dz' / E(z') for flat LCDM."""
    integral, _ = quad(lambda zz: 1.0 / np.sqrt(om * (1 + zz) ** 3 + 1 - om), 0.0, z)
    return C_KMS / 100.0 * integral


def gnomonic_by_wcs(ra, dec, ra0, dec0):
    """Tangent-plane offsets [deg] from astropy's TAN projection (CDELT1 > 0: east)."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra0, dec0]
    wcs.wcs.crpix = [0.0, 0.0]
    wcs.wcs.cdelt = [1.0, 1.0]
    px, py = wcs.wcs_world2pix(np.atleast_1d(ra), np.atleast_1d(dec), 1)  # 1-based = FITS
    return px, py


def test_hand_worked_offset_along_equator():
    # 1 degree east of a cluster on the equator at z = 0.05: x = tan(1 deg) * D_M.
    ps = sky_to_phase_space(1.0, 0.0, 0.05, 0.0, 0.0, 0.05, SIMPLE)
    expected = np.tan(np.radians(1.0)) * comoving_distance_by_hand(0.05)
    # D_C ~ (c/H0) z (1 - 3 Om z / 4) = 2997.9 * 0.05 * 0.98875 = 148.2 h^-1 Mpc
    assert expected == pytest.approx(148.2 * 0.017455, rel=1e-3)
    assert ps.x == pytest.approx(expected, rel=1e-5)
    assert ps.y == pytest.approx(0.0, abs=1e-12)
    assert ps.v_los == pytest.approx(0.0, abs=1e-9)


def test_projected_distances_are_in_h_inverse_mpc():
    # In h^-1 Mpc the result must not depend on H0.
    other_h = FlatLambdaCDM(H0=50.0, Om0=0.3, Tcmb0=0.0)
    a = sky_to_phase_space(195.3, 28.2, 0.024, 194.95, 27.98, 0.0231, SIMPLE)
    b = sky_to_phase_space(195.3, 28.2, 0.024, 194.95, 27.98, 0.0231, other_h)
    assert a.r == pytest.approx(b.r, rel=1e-9)


def test_line_of_sight_velocity_worked_value():
    # c * (0.101 - 0.1) / 1.1 = 272.54 km/s
    assert los_velocity(0.101, 0.1) == pytest.approx(299792.458 * 0.001 / 1.1, rel=1e-12)
    assert los_velocity(0.101, 0.1) == pytest.approx(272.54, abs=0.01)


@pytest.mark.parametrize(
    "ra0, dec0, ra, dec",
    [
        (194.95, 27.98, [195.5, 194.0, 196.2], [28.5, 27.0, 29.9]),  # Coma
        (359.9, 2.0, [0.3, 359.2, 0.05], [2.4, 1.5, 1.9]),  # straddling RA = 0/360
        (0.2, -5.0, [359.5, 0.9], [-5.5, -4.2]),  # the other side of the wrap
        (10.0, 89.8, [190.0, 100.0, 280.0, 10.0], [89.7, 89.5, 89.9, 89.0]),  # north pole
        (250.0, -89.5, [70.0, 250.0, 160.0], [-89.6, -88.9, -89.0]),  # south pole
    ],
)
def test_tangent_plane_matches_astropy_wcs(ra0, dec0, ra, dec):
    xi, eta = tangent_plane(np.array(ra), np.array(dec), ra0, dec0)
    px, py = gnomonic_by_wcs(ra, dec, ra0, dec0)
    np.testing.assert_allclose(np.degrees(xi), px, atol=1e-9)
    np.testing.assert_allclose(np.degrees(eta), py, atol=1e-9)


def test_ra_wrap_gives_small_offsets_with_the_right_sign():
    ps = sky_to_phase_space([0.1, 359.8], [0.0, 0.0], [0.05, 0.05], 359.9, 0.0, 0.05, SIMPLE)
    d_m = comoving_distance_by_hand(0.05)
    np.testing.assert_allclose(ps.x, np.tan(np.radians([0.2, -0.1])) * d_m, rtol=1e-5)


def test_distance_across_the_pole_equals_great_circle_projection():
    # Two points on opposite meridians, each 0.3 deg from the pole: 0.6 deg apart.
    ps = sky_to_phase_space(180.0, 89.7, 0.05, 0.0, 89.7, 0.05, SIMPLE)
    assert ps.r == pytest.approx(np.tan(np.radians(0.6)) * comoving_distance_by_hand(0.05),
                                 rel=1e-5)
    assert ps.y > 0  # towards north, across the pole


def test_batches_of_clusters_broadcast():
    cosmo = default_cosmology()
    ra = np.array([195.0, 10.5])
    single = [sky_to_phase_space(r, 1.0, 0.03, c, 1.0, 0.03, cosmo) for r, c in
              zip(ra, [194.9, 10.0])]
    batch = sky_to_phase_space(ra, [1.0, 1.0], [0.03, 0.03], [194.9, 10.0], [1.0, 1.0],
                               [0.03, 0.03], cosmo)
    np.testing.assert_allclose(batch.x, [s.x for s in single], rtol=1e-12)


def test_aperture_selects_the_cylinder():
    ps = sky_to_phase_space([195.0, 195.0, 197.0], [28.0, 28.0, 28.0],
                            [0.0231, 0.0231 + 0.01, 0.0231], 194.95, 27.98, 0.0231,
                            default_cosmology())
    inside = Aperture().contains(ps)
    assert inside.tolist() == [True, False, False]  # 2900 km/s; 2 deg ~ 2.4 h^-1 Mpc


@pytest.mark.parametrize("bad", [dict(min_galaxies=2), dict(min_galaxies=0),
                                 dict(r_max=0.0), dict(v_max=-1.0)])
def test_aperture_refuses_too_few_galaxies_for_a_dispersion(bad):
    with pytest.raises(InputError, match="min_galaxies at least 3"):
        Aperture(**bad)
    assert Aperture(min_galaxies=3).min_galaxies == 3


@pytest.mark.parametrize("bad", [dict(dec=95.0), dict(z=np.nan), dict(z_cl=0.0),
                                 dict(z_cl=-0.1), dict(ra=np.inf)])
def test_bad_coordinates_raise_clear_errors(bad):
    args = dict(ra=195.0, dec=28.0, z=0.02, ra_cl=194.95, dec_cl=27.98, z_cl=0.0231)
    args.update(bad)
    with pytest.raises(InputError, match="must be finite and within"):
        sky_to_phase_space(cosmology=default_cosmology(), **args)


def test_invalid_aperture_is_rejected():
    with pytest.raises(InputError, match="invalid aperture"):
        Aperture(r_max=-1.0)


def test_redshift_at_velocity_is_the_exact_inverse_of_los_velocity():
    # worked: z_cl = 0.0231 (Coma), v = 3000 km/s -> z = 0.0231 + 3000 * 1.0231 / c
    assert redshift_at_velocity(3000.0, 0.0231) == pytest.approx(
        0.0231 + 3000.0 * 1.0231 / 299792.458, rel=1e-14)
    z_cl = np.array([0.01, 0.1, 0.5])[:, None]
    v = np.array([-4000.0, -1.0, 0.0, 2200.0])[None, :]
    np.testing.assert_allclose(los_velocity(redshift_at_velocity(v, z_cl), z_cl),
                               np.broadcast_to(v, (3, 4)), rtol=1e-10, atol=1e-8)
    z = np.array([0.02, 0.11, 0.45])
    np.testing.assert_allclose(redshift_at_velocity(los_velocity(z, 0.1), 0.1), z, rtol=1e-12)


def test_observed_redshift_worked_values():
    # (1 + z_obs) = (1 + z_cos)(1 + v/c): z_cos = 0.1, v = c/100 -> 1.1 * 1.01 - 1 = 0.111
    assert observed_redshift(0.1, C_KMS / 100) == pytest.approx(0.111, rel=1e-12)
    assert observed_redshift(np.array([0.0, 0.3]), 0.0) == pytest.approx([0.0, 0.3])
    # a galaxy at the cluster's distance moving with the cluster has its redshift; a
    # peculiar velocity v relative to it gives v_los = v exactly at the cluster.
    z_cl = observed_redshift(0.05, 500.0)
    assert los_velocity(observed_redshift(0.05, 500.0 + 1000.0 * (1 + 500.0 / C_KMS)), z_cl) \
        == pytest.approx(1000.0, rel=1e-10)
