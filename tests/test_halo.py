"""The shared halo formulas (surveymass.halo) against worked values."""

import numpy as np
import pytest

from surveymass.cosmology import default_cosmology
from surveymass.halo import nfw_mass_factor, r200c, v200c

COSMO = default_cosmology()  # Planck15
G_KMS2_MPC_MSUN = 4.300917e-9  # G [(km/s)^2 Mpc / Msun]


def test_r200c_of_a_1e15_cluster_by_hand():
    # rho_c(z) = 3 H(z)^2 / (8 pi G) with H = 100 E(z) h km/s/Mpc -> [h^2 Msun / Mpc^3];
    # M = 1e15 h^-1 Msun at z = 0.07: R200c = 1.5902 physical, 1.7015 comoving h^-1 Mpc.
    z = 0.07
    rho_c = 3 * (100 * COSMO.efunc(z)) ** 2 / (8 * np.pi * G_KMS2_MPC_MSUN)
    r_phys = (3e15 / (4 * np.pi * 200 * rho_c)) ** (1 / 3)
    assert r200c(1e15, z, COSMO) == pytest.approx(r_phys * (1 + z), rel=1e-6)
    assert r200c(1e15, z, COSMO) == pytest.approx(1.7015, abs=1e-4)
    # R ∝ M^(1/3), vectorised
    np.testing.assert_allclose(r200c(np.array([1e15, 8e15]), z, COSMO),
                               [r_phys * 1.07, 2 * r_phys * 1.07], rtol=1e-6)


def test_v200c_is_ten_hubble_r200c():
    # M200c = 100 H^2 R^3 / G, so V200c = sqrt(G M / R) = 10 H(z) R200c (physical).
    z = 0.3
    m = np.array([1e13, 1e15])
    r = r200c(m, z, COSMO)
    hubble = 100 * COSMO.efunc(z)  # h km/s/Mpc
    np.testing.assert_allclose(v200c(m, r, z), 10 * hubble * r / (1 + z), rtol=1e-6)


def test_nfw_mass_factor_worked_values():
    # m(c) = ln(1 + c) - c / (1 + c): m(1) = ln 2 - 1/2; m(4) = ln 5 - 0.8; m -> c^2/2 at c -> 0
    assert nfw_mass_factor(1.0) == pytest.approx(np.log(2) - 0.5, rel=1e-12)
    assert nfw_mass_factor(4.0) == pytest.approx(np.log(5) - 0.8, rel=1e-12)
    assert nfw_mass_factor(1e-3) == pytest.approx(0.5e-6, rel=2e-3)


def test_synthetic_and_readers_use_the_shared_r200c():
    from surveymass.universe.readers.common import r200c_and_concentration
    from surveymass.universe.synthetic.config import SyntheticConfig
    from surveymass.universe.synthetic.halos import r200c as synthetic_r200c

    m = np.array([1e13, 1e15])
    cfg = SyntheticConfig(box_size=100.0)
    np.testing.assert_allclose(synthetic_r200c(cfg, m), r200c(m, cfg.redshift, COSMO),
                               rtol=1e-12)
    r_read, _, _ = r200c_and_concentration(m, np.array([100.0, 300.0]), 0.5, COSMO)
    np.testing.assert_allclose(r_read, r200c(m, 0.5, COSMO), rtol=1e-12)
