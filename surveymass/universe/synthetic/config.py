"""Every parameter of the synthetic universe, with its default and where it comes from.

Units: lengths comoving h^-1 Mpc, masses M200c h^-1 Msun, luminosities h^-2 Lsun in the
z = 0.1-shifted SDSS r band (Blanton et al. 2003), magnitudes M_r - 5 log10 h, velocities km/s.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from surveymass.config import dataclass_from_dict
from surveymass.cosmology import DEFAULT_NS, DEFAULT_SIGMA8
from surveymass.errors import InputError

#: The provenance "generator" of universes built from a :class:`SyntheticConfig`.
GENERATOR = "surveymass.universe.synthetic"


@dataclass(frozen=True)
class SyntheticConfig:
    """Parameters of :func:`surveymass.universe.synthetic.build_universe`.

    Box and snapshot
        box_size: side of the periodic box [h^-1 Mpc]; redshift: snapshot redshift (0.07,
        the middle of the SDSS cluster range of the shipped survey); seed: master seed.
    Depth
        mag_limit: faintest absolute magnitude populated. The shipped survey (r < 17.77,
        clusters from z = 0.02) reaches M_r - 5 log h = 17.77 - 33.92 + 0.17 = -15.98 at
        z = 0.02 (Planck15 distance modulus, ^{0.1}r K-correction -0.17 of a red galaxy:
        photometry.absolute_magnitude_limit); -16.0 covers it from z = 0.0201 on.
        m_min: lowest halo mass [h^-1 Msun]; 0 derives it from the CLF so that the galaxies
        lost below it are fewer than ``lost_fraction`` of those above the limit.
        m_max: highest halo mass sampled.
    Halos
        Tinker et al. (2008) mass function and Tinker et al. (2010) bias for M200c (colossus);
        concentrations from Ishiyama et al. (2021, calibrated on Uchuu) with a log-normal
        scatter of 0.16 dex (Diemer & Joyce 2019 measure 0.16 dex for relaxed+unrelaxed halos).
    Density field
        cell_size: grid cell of the lognormal field [h^-1 Mpc]; n_bias_nodes: biased fields
        computed (a halo is placed with one of the two nodes bracketing its bias).
        nonlinear_clustering: halo fields follow b^2 times the nonlinear matter correlation
        (HMcode-2020 boost from CAMB) instead of the linear one.
        subcell_min_mass: halos above it attract their neighbours below the cell scale,
        following the halo-halo correlation (see :mod:`.infall`); subcell_radius_cells:
        reach of that redistribution in cells.
    Infall (:mod:`.infall`)
        Mean radial peculiar velocity of the surroundings of halos above infall_min_mass,
        v_r = -infall_amplitude V200c (r / R200c)^-infall_slope out to infall_radius R200c
        (Falco et al. 2014, MNRAS 442, 1887, fit to N-body clusters: a = 0.8, b = 0.42).
    Galaxies (:mod:`.galaxies`)
        Conditional luminosity function of Cacciato et al. (2009, MNRAS 394, 929, table 3,
        fiducial WMAP3 fit; the same numbers are the prior centres of van den Bosch et al.
        2013): log L0 = 9.95, log M1 = 11.24, gamma1 = 3.18, gamma2 = 0.245,
        sigma_c = 0.157 dex, alpha_s = -1.18, b0 = -1.17, b1 = 1.53, b2 = -0.217,
        L*_s = 0.562 L_c. The CLF takes the halo mass in clf_mass_definition (M200c by
        default; "200m" raises cluster satellites by ~15% and the M_r < -20 w_p one-halo
        term from +16% to +28% in a 300 h^-1 Mpc box). Cluster satellites: the quadratic
        phi_s* of Cacciato et al. saturates beyond the groups that constrain it (d ln N_sat
        / d ln M = 0.23 at 1e15), unlike the near-proportional satellite numbers of SDSS
        HODs (Zheng et al. 2007, ApJ 667, 760: alpha = 1.02-1.15 for M_r < -19..-21), and
        mean satellite luminosities barely grow with halo mass (Skibba, Sheth & Martino
        2007, MNRAS 382, 1940). Above clf_pivot_mass (10^13.5) L*_s is therefore held at
        its pivot value and phi_s* grows as (M / M_pivot)^clf_satellite_slope (1.0).
        Measured: satellites brighter than -19 and -20 in 10^14-10^15 halos within a
        factor 1.5 of the Zheng et al. HOD (the published form falls x2 short at 1e15);
        Coma-mass halos (10^14.91) hold 595 members in the 1.6 h^-1 Mpc x 2200 km/s
        cylinder to r = 17.77 (Coma: 632 after a flat background; published form: 199);
        w_p(M_r < -21) within 17% (published form: +128%) in a 300 h^-1 Mpc box. The
        pivot and slope were chosen among (10^13, 10^13.5, 10^14) x (0.9, 1.0, 1.1) against
        the Zheng et al. HOD and w_p, with Coma's richness in view (so Coma's member count
        is not an independent test). Set clf_pivot_mass = 1e17 for the published CLF.
        Magnitudes are then abundance-matched to the Blanton et al.
        (2003) Schechter LF (phi*, M*, alpha below) when match_blanton_lf is true.
        Colours: red fraction and red/blue g-r sequences of Skibba & Sheth (2009,
        MNRAS 392, 1080, sec. 2.2). Satellites: NFW with the host's scale radius out to
        its virial radius (satellite_truncation "vir": R_vir of Bryan & Norman 1998, ~1.3
        R200c, the subhalo boundary of Rockstar catalogues such as Uchuu; "200c": R200c),
        isotropic Jeans dispersion (Lokas & Mamon 2001) times satellite_velocity_bias.
        Galaxy-halo nuisances (:mod:`.nuisance`; defaults leave the model above unchanged):
        clf_satellite_scatter_dex, a log-normal factor on each halo's mean satellite number
        (mean-preserving) [dex]; satellite_concentration_ratio, the satellites' NFW
        concentration over the host's; satellite_outer_fraction of the satellites on the
        same profile extended to satellite_outer_extent R200c (a splashback-like outer
        population); satellite_anisotropy, a constant orbital anisotropy beta of the Jeans
        solution (numerical, Lokas & Mamon 2001; closed form for beta = 0 with the
        tracer at the host's concentration).
    Velocities
        small_scale_dispersion: 1-D dispersion [km/s] added to every halo for motions below
        the grid; 0 derives it from the linear power beyond the grid Nyquist frequency.
    Work
        chunk_halos: halos processed (and written) per chunk, bounding memory.
    """

    box_size: float = 1000.0
    redshift: float = 0.07
    seed: int = 1
    sigma8: float = DEFAULT_SIGMA8
    ns: float = DEFAULT_NS

    mag_limit: float = -16.0
    m_min: float = 0.0
    m_max: float = 1e16
    lost_fraction: float = 2e-3
    mass_bin_dex: float = 0.01

    mass_function_model: str = "tinker08"
    bias_model: str = "tinker10"
    concentration_model: str = "ishiyama21"
    concentration_scatter_dex: float = 0.16

    cell_size: float = 2.0
    n_bias_nodes: int = 8
    nonlinear_clustering: bool = True
    subcell_min_mass: float = 1e13
    subcell_radius_cells: float = 2.0

    infall_min_mass: float = 1e13
    infall_radius: float = 10.0
    infall_amplitude: float = 0.8
    infall_slope: float = 0.42

    clf_log_l0: float = 9.95
    clf_log_m1: float = 11.24
    clf_gamma1: float = 3.18
    clf_gamma2: float = 0.245
    clf_sigma_c: float = 0.157
    clf_alpha_s: float = -1.18
    clf_b0: float = -1.17
    clf_b1: float = 1.53
    clf_b2: float = -0.217
    clf_satellite_l_ratio: float = 0.562
    clf_mass_definition: str = "200c"
    clf_pivot_mass: float = 10 ** 13.5
    clf_satellite_slope: float = 1.0
    sun_abs_mag_r: float = 4.76

    match_blanton_lf: bool = True
    lf_phi_star: float = 1.49e-2
    lf_m_star: float = -20.44
    lf_alpha: float = -1.05

    satellite_truncation: str = "vir"
    satellite_velocity_bias: float = 1.0
    clf_satellite_scatter_dex: float = 0.0
    satellite_concentration_ratio: float = 1.0
    satellite_outer_fraction: float = 0.0
    satellite_outer_extent: float = 2.5
    satellite_anisotropy: float = 0.0
    small_scale_dispersion: float = 0.0

    chunk_halos: int = 2_000_000

    def __post_init__(self) -> None:
        problems = [text for ok, text in self._checks() if not ok]
        if problems:
            raise InputError("synthetic universe config is inconsistent: " + "; ".join(problems))

    def _checks(self) -> list[tuple[bool, str]]:
        return [
            (self.box_size > 0, f"box_size must be positive, got {self.box_size}"),
            (0 <= self.redshift <= 3, f"redshift must be in [0, 3], got {self.redshift}"),
            (isinstance(self.seed, int) and self.seed >= 0,
             f"seed must be a non-negative integer, got {self.seed!r}"),
            (-24 < self.mag_limit < -10,
             (f"mag_limit={self.mag_limit} is not an absolute magnitude M_r - 5 log h "
             "(expected e.g. -16)")),
            (self.m_min == 0 or 1e8 <= self.m_min < self.m_max,
             (f"need m_min = 0 (derived) or 1e8 <= m_min < m_max, got m_min={self.m_min:g}, "
             f"m_max={self.m_max:g}")),
            (1e13 < self.m_max <= 1e17, f"m_max={self.m_max:g} h^-1 Msun is out of range"),
            (0 < self.lost_fraction < 0.1, "lost_fraction must be in (0, 0.1)"),
            (0 < self.mass_bin_dex <= 0.05, "mass_bin_dex must be in (0, 0.05]"),
            (0 <= self.concentration_scatter_dex < 1, "concentration_scatter_dex in [0, 1)"),
            (0 < self.cell_size <= self.box_size / 4,
             f"cell_size must be positive and at most box_size / 4, got {self.cell_size}"),
            (2 <= self.n_bias_nodes <= 32, "n_bias_nodes must be in [2, 32]"),
            (self.subcell_radius_cells >= 0, "subcell_radius_cells must be >= 0"),
            (self.infall_radius > 1, "infall_radius (in R200c) must exceed 1"),
            (self.infall_amplitude >= 0, "infall_amplitude must be >= 0"),
            (self.clf_sigma_c > 0, "clf_sigma_c must be positive"),
            (self.clf_alpha_s > -2, "clf_alpha_s must exceed -2"),
            (self.clf_mass_definition in ("200c", "200m", "180m", "vir"),
             "clf_mass_definition must be one of '200c', '200m', '180m', 'vir', got "
             f"{self.clf_mass_definition!r}"),
            (1e11 <= self.clf_pivot_mass <= 1e17, "clf_pivot_mass must be in [1e11, 1e17]"),
            (0 <= self.clf_satellite_slope <= 2, "clf_satellite_slope must be in [0, 2]"),
            (self.lf_phi_star > 0, "lf_phi_star must be positive"),
            (self.satellite_velocity_bias > 0, "satellite_velocity_bias must be positive"),
            (0 <= self.clf_satellite_scatter_dex <= 1, "clf_satellite_scatter_dex in [0, 1]"),
            (0 < self.satellite_concentration_ratio <= 10,
             "satellite_concentration_ratio must be in (0, 10]"),
            (0 <= self.satellite_outer_fraction <= 1, "satellite_outer_fraction in [0, 1]"),
            (1 <= self.satellite_outer_extent <= 10,
             "satellite_outer_extent (in R200c) must be in [1, 10]"),
            (-1 <= self.satellite_anisotropy < 1, "satellite_anisotropy must be in [-1, 1)"),
            (self.satellite_truncation in ("vir", "200c"),
             f"satellite_truncation must be 'vir' or '200c', got {self.satellite_truncation!r}"),
            (self.small_scale_dispersion >= 0, "small_scale_dispersion must be >= 0"),
            (self.chunk_halos >= 1000, "chunk_halos must be at least 1000"),
        ]

    @property
    def n_cells(self) -> int:
        """Cells per side of the density grid (at least 8)."""
        return max(8, round(self.box_size / self.cell_size))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SyntheticConfig:
        return dataclass_from_dict(cls, data, "synthetic-universe config")
