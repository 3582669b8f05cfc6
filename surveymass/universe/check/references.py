"""Published reference values and the tolerances of ``surveymass universe check``, in one place.

Every number here carries its source. Magnitudes are M_r - 5 log10 h in the ^{0.1}r band;
distances comoving h^-1 Mpc; masses h^-1 Msun; number densities h^3 Mpc^-3.
"""

from __future__ import annotations

import numpy as np

# --- halo mass function -------------------------------------------------------------------
#: Tinker et al. (2008, ApJ 688, 709) dn/dlnM for M200c, evaluated with colossus.
HMF_MODEL = "tinker08"
HMF_MDEF = "200c"
#: A bin is judged only when it holds more than this many halos (issue 3).
HMF_MIN_COUNT = 1000
#: Allowed |N_sim / N_Tinker - 1| per judged bin (issue 3), widened by 2 Poisson sigma.
HMF_TOLERANCE = 0.05
HMF_BIN_DEX = 0.1

# --- r-band luminosity function -----------------------------------------------------------
#: Blanton et al. (2003, ApJ 592, 819), Schechter fit of the ^{0.1}r-band luminosity function
#: of the SDSS main sample (their Table 2): phi* [h^3 Mpc^-3], M* - 5 log10 h, alpha.
BLANTON03_PHI_STAR = 1.49e-2
BLANTON03_M_STAR = -20.44
BLANTON03_ALPHA = -1.05
#: Judged range of M_r - 5 log10 h and allowed |phi_sim / phi_Blanton - 1| (issue 3),
#: widened by 2 Poisson sigma per bin.
LF_RANGE = (-22.0, -17.0)
LF_BIN_MAG = 0.25
LF_TOLERANCE = 0.10

# --- projected correlation function -------------------------------------------------------
#: Zehavi et al. (2011, ApJ 736, 59) measured w_p(r_p) [h^-1 Mpc] of the SDSS DR7
#: luminosity-threshold samples at these r_p [h^-1 Mpc] (bins 0.2 dex wide), as tabulated with
#: the paper's published covariance files; cross-checked against the power-law fits of their
#: Table 2 (M_r < -20: r0 = 5.59, gamma = 1.84; M_r < -21: r0 = 6.42, gamma = 1.90), which
#: reproduce these values within 22% over 0.17-17 h^-1 Mpc (the measurements bend away from
#: a power law at the one- to two-halo transition, 2-10 h^-1 Mpc).
ZEHAVI11_RP = np.array([0.17, 0.27, 0.42, 0.67, 1.1, 1.7, 2.7, 4.2, 6.7, 10.6, 16.9, 26.8])
ZEHAVI11_WP = {
    -20.0: np.array([366.1, 264.3, 184.0, 128.6, 84.7, 59.4, 42.9, 30.9, 21.9, 14.6, 8.24,
                     4.88]),
    -21.0: np.array([586.2, 402.9, 258.7, 163.2, 105.5, 68.9, 50.2, 35.5, 24.5, 15.3, 8.54,
                     4.11]),
}
#: Power-law fits of Zehavi et al. (2011) Table 2: threshold -> (r0 [h^-1 Mpc], gamma).
ZEHAVI11_POWER_LAW = {-20.0: (5.59, 1.84), -21.0: (6.42, 1.90)}
#: Line-of-sight integration limit of Zehavi et al. (2011) for these samples [h^-1 Mpc].
ZEHAVI11_PI_MAX = 60.0
WP_RANGE = (0.3, 20.0)
WP_TOLERANCE = 0.20

# --- satellite velocity dispersion --------------------------------------------------------
#: The Evrard et al. (2008, ApJ 672, 122) relation sigma_DM(M200c, z) the satellites are
#: compared with is :func:`surveymass.halo.evrard2008`.
SIGMA_MIN_LOG10_MASS = 13.5
SIGMA_TOLERANCE = 0.05

# --- radial velocity profile --------------------------------------------------------------
#: Falco et al. (2014, MNRAS 442, 1887): the mean radial velocity of matter around
#: cluster-mass halos of an N-body simulation, outside 3 R_vir, follows
#: v_r(r) = H(z) r_phys - a V_vir (r / R_vir)^-b with a = 0.8 +/- 0.2, b = 0.42 +/- 0.16,
#: fitted over 3 - 8 R_vir (virial overdensity of Bryan & Norman 1998).
FALCO14_A = 0.8
FALCO14_A_ERR = 0.2
FALCO14_B = 0.42
FALCO14_RANGE_RVIR = (3.0, 8.0)
PROFILE_MIN_LOG10_MASS = 14.0
PROFILE_MAX_RADIUS_R200C = 10.0

# --- interloper fraction ------------------------------------------------------------------
#: Deep Sets paper (shared/papers/deepsets-npe-uchuu_cluster-mass-from-galaxy-kinematics,
#: Uchuu-UniverseMachine at z = 0.5, stellar-mass-selected galaxies, neighbouring centrals
#: counted as interlopers): "for clusters with masses around [10^13.5 h^-1 Msun], interlopers
#: account for approximately 84% of the galaxies". Their Table 1 (four ascending mass bins;
#: the bin edges and the stellar-mass cut were lost in text extraction) gives accuracy,
#: precision and recall of two classifiers; the interloper fraction they imply,
#: f = 1 - (1 - acc) / (1 - rec + rec (1 - prec) / prec), is listed here (caustic, ML).
DEEPSETS_INTERLOPER_AROUND_13_5 = 0.84
DEEPSETS_TABLE1 = [  # (caustic acc, prec, recall), (ML acc, prec, recall)
    ((0.707, 0.359, 0.838), (0.921, 0.729, 0.862)),
    ((0.651, 0.403, 0.853), (0.885, 0.729, 0.866)),
    ((0.614, 0.460, 0.868), (0.856, 0.752, 0.856)),
    ((0.583, 0.493, 0.917), (0.804, 0.766, 0.836)),
]
#: Default luminosity limit of the galaxies counted in cylinders (M_r - 5 log10 h), about
#: the SDSS main-sample depth (r < 17.77) at z ~ 0.075 (photometry.absolute_magnitude_limit:
#: -18.05 at z = 0.05, -18.99 at 0.075).
INTERLOPER_MAG_LIMIT = -19.0
INTERLOPER_MASS_EDGES = (13.0, 13.5, 14.0, 14.5, 15.0, 15.5)


def implied_interloper_fraction(accuracy: float, precision: float, recall: float) -> float:
    """Interloper fraction of a classified sample from its accuracy, precision and recall.

    With member fraction m: TP = rec m, FP = TP (1 - prec) / prec, accuracy = 1 - FN - FP,
    FN = (1 - rec) m, so m = (1 - acc) / (1 - rec + rec (1 - prec) / prec).
    """
    member_fraction = (1 - accuracy) / (1 - recall + recall * (1 - precision) / precision)
    return 1.0 - member_fraction


def deepsets_interloper_fractions() -> list[tuple[float, float]]:
    """(caustic, ML) interloper fractions implied by each row of the Deep Sets Table 1."""
    return [(implied_interloper_fraction(*c), implied_interloper_fraction(*m))
            for c, m in DEEPSETS_TABLE1]
