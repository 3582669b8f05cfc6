"""The real side of the calibration: Mahdavi & Geller (2001) systems in the SDSS DR7
volume-limited sample, Coma at full depth, and the sample's number-density check.

The shipped input ``calibration_mg01_vlim20.fits`` (package data, built by
scripts/build_calibration.py with :func:`select_systems` and
:func:`cylinder_galaxies`) holds extension ``SYSTEMS`` (name, ra, dec, z, log_sigma_mg01,
e_log_sigma_mg01, coverage) and ``GALAXIES`` (system, ra, dec, z, weight: the DR7 galaxies
inside each system's cylinder; header ``SELECTED = 'sdss_dr7_vlim20'``: already cut).
"""

from __future__ import annotations

import warnings

import numpy as np
from astropy.table import Table
from astropy.units import UnitsWarning
from scipy.integrate import quad

from surveymass.catalog import read_catalog
from surveymass.cosmology import distance_table
from surveymass.errors import InputError
from surveymass.masks.footprint import aperture_coverage, load_footprint
from surveymass.masks.sky import SkyIndex
from surveymass.observe import observe_field
from surveymass.paths import CATALOGS
from surveymass.phasespace import Aperture, angular_radius, sky_to_phase_space
from surveymass.survey import SurveyConfig, selection_applied
from surveymass.universe.check.references import (
    BLANTON03_ALPHA,
    BLANTON03_M_STAR,
    BLANTON03_PHI_STAR,
)

CALIBRATION_CATALOG = CATALOGS / "calibration_mg01_vlim20.fits"
COMA_CATALOG = CATALOGS / "coma_sdss.fits"
#: Least footprint coverage of a system's cylinder.
MIN_COVERAGE = 0.9


def schechter_density(mag_limit: float, phi_star: float = BLANTON03_PHI_STAR,
                      m_star: float = BLANTON03_M_STAR, alpha: float = BLANTON03_ALPHA) -> float:
    """Number density [h^3 Mpc^-3] of galaxies brighter than ``mag_limit`` (M_r - 5 log h)
    in a Schechter function (default: Blanton et al. 2003, ^{0.1}r)."""
    x_min = 10.0 ** (0.4 * (m_star - mag_limit))
    return float(quad(lambda x: phi_star * x ** alpha * np.exp(-x), x_min, np.inf)[0])


def number_density_check(z, area_deg2: float, cosmology, z_min: float = 0.0,
                         z_max: float | None = None) -> dict:
    """Number density of a galaxy sample of redshifts ``z`` over ``area_deg2`` and
    z_min < z <= z_max (default: the largest z), and the absolute-magnitude limit at which
    the Blanton et al. (2003) LF has that density."""
    from scipy.optimize import brentq

    z = np.asarray(z, float)
    z_max = float(z.max()) if z_max is None else z_max
    d = distance_table(cosmology).comoving_distance(np.array([z_min, z_max]))
    sky_fraction = area_deg2 / (4 * np.pi * (180 / np.pi) ** 2)
    volume = 4.0 / 3.0 * np.pi * (d[1] ** 3 - d[0] ** 3) * sky_fraction
    density = int(np.sum((z > z_min) & (z <= z_max))) / volume
    implied = brentq(lambda m: schechter_density(m) - density, -24.0, -15.0)
    return {"n_galaxies": int(np.sum((z > z_min) & (z <= z_max))), "area_deg2": area_deg2,
            "volume_h3mpc3": float(volume), "density": float(density),
            "implied_mag_limit": float(implied)}


def read_mahdavi(path) -> Table:
    """The Mahdavi & Geller (2001) systems table (VizieR J/ApJ/554/L129) as name, ra, dec,
    z, log_sigma_mg01, e_log_sigma_mg01."""
    with warnings.catch_warnings():  # VizieR's log units ("[km/s]") are not FITS units
        warnings.simplefilter("ignore", UnitsWarning)
        t = Table.read(path)
    need = {"Name", "RAJ2000", "DEJ2000", "z", "logsigma", "e_logsigma"}
    if need - set(t.colnames):
        raise InputError(f"{path} lacks columns {sorted(need - set(t.colnames))}")
    return Table({"name": [str(n).strip() for n in t["Name"]],
                  "ra": np.asarray(t["RAJ2000"], float), "dec": np.asarray(t["DEJ2000"], float),
                  "z": np.asarray(t["z"], float),
                  "log_sigma_mg01": np.asarray(t["logsigma"], float),
                  "e_log_sigma_mg01": np.asarray(t["e_logsigma"], float)})


def select_systems(systems: Table, survey: SurveyConfig, cosmology,
                   aperture: Aperture = Aperture(), footprint=None,
                   min_coverage: float = MIN_COVERAGE) -> Table:
    """Systems inside the survey's cluster range z_min <= z <= z_max whose cylinder is at
    least ``min_coverage`` inside the footprint (default: the survey's); adds ``coverage``."""
    fp = load_footprint(footprint or survey.footprint_path)
    in_z = (systems["z"] >= survey.z_min) & (systems["z"] <= survey.z_max)
    out = systems[in_z]
    out["coverage"] = aperture_coverage(out["ra"], out["dec"], out["z"], aperture.r_max,
                                        cosmology, fp)
    return out[out["coverage"] >= min_coverage]


def cylinder_galaxies(systems: Table, ra, dec, z, cosmology,
                      aperture: Aperture = Aperture()) -> np.ndarray:
    """(system row, galaxy index) pairs of the galaxies inside each system's cylinder
    (a KD-tree on unit vectors finds each cone; phase space decides)."""
    ra, dec, z = (np.asarray(a, float) for a in (ra, dec, z))
    cones = SkyIndex(ra, dec).cones(
        systems["ra"], systems["dec"],
        angular_radius(1.05 * aperture.r_max, systems["z"], cosmology))
    pairs = []
    for i, (row, cone) in enumerate(zip(systems, cones)):
        ps = sky_to_phase_space(ra[cone], dec[cone], z[cone], row["ra"], row["dec"],
                                row["z"], cosmology)
        pairs.extend((i, j) for j in cone[aperture.contains(ps)])
    return np.array(pairs, int).reshape(-1, 2)


def read_calibration_catalog(path=CALIBRATION_CATALOG) -> tuple[Table, Table]:
    """(systems, galaxies) of the shipped calibration input."""
    try:
        systems = Table.read(path, hdu="SYSTEMS")
        galaxies = Table.read(path, hdu="GALAXIES")
    except (OSError, KeyError) as exc:
        raise InputError(f"cannot read the calibration catalogue {path}: {exc}") from exc
    return systems, galaxies


def real_fields(systems: Table, galaxies: Table, survey: SurveyConfig, cosmology,
                aperture: Aperture) -> tuple[list, list]:
    """Per system, (R, v_los) of its galaxies the survey observes inside ``aperture``."""
    already = selection_applied(galaxies.meta, survey)
    mag = (np.asarray(galaxies["mag_r"], float) if "mag_r" in galaxies.colnames
           else np.full(len(galaxies), np.nan))
    columns = [np.asarray(galaxies[k], float) for k in ("ra", "dec", "z")] + [mag]
    radii, velocities = [], []
    for i, row in enumerate(systems):
        mine = np.asarray(galaxies["system"]) == i
        field = observe_field(*(c[mine] for c in columns), (row["ra"], row["dec"], row["z"]),
                              survey, aperture, cosmology, already_cut=already)
        radii.append(field.phase_space.r[field.in_aperture])
        velocities.append(field.phase_space.v_los[field.in_aperture])
    return radii, velocities


def coma_field(survey: SurveyConfig, cosmology, aperture: Aperture,
               path=COMA_CATALOG) -> tuple[tuple[float, float, float], np.ndarray, np.ndarray]:
    """Coma's (ra, dec, z) and the (R, v_los) of its galaxies ``survey`` observes."""
    table, header_cluster = read_catalog(path)
    if header_cluster is None:
        raise InputError(f"{path} does not record its cluster (CL_RA, CL_DEC, CL_Z)")
    cluster = (header_cluster.ra, header_cluster.dec, header_cluster.z)
    field = observe_field(*(np.asarray(table[k], float) for k in ("ra", "dec", "z", "mag_r")),
                          cluster, survey, aperture, cosmology)
    ps, inside = field.phase_space, field.in_aperture
    return cluster, ps.r[inside], ps.v_los[inside]
