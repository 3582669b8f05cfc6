"""The cosmology: one astropy object per model bundle, its serialisation, and fast distances.

Distances in surveymass are comoving and in h^-1 Mpc. The default is Planck15, the
cosmology of the Uchuu simulation (Ishiyama et al. 2021: Omega_m = 0.3089,
h = 0.6774, sigma_8 = 0.8159, n_s = 0.9667).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from surveymass.errors import InputError

if TYPE_CHECKING:
    from astropy.cosmology import FLRW

# astropy.units and astropy.cosmology take ~1 s to import: they are imported inside the
# functions below, so that modules needing only C_KMS or the constants start fast (the
# rule for lazy imports: docs/architecture.md, "Imports and start-up time").

#: Speed of light in km/s: exact by the SI definition of the metre (astropy.constants.c;
#: tests/test_core.py checks they agree).
C_KMS: float = 299792.458

#: Power-spectrum parameters that astropy cosmologies do not carry (Planck15 as in Uchuu).
DEFAULT_SIGMA8 = 0.8159
DEFAULT_NS = 0.9667


def default_cosmology() -> FLRW:
    """Planck15 (astropy realisation), the cosmology of Uchuu."""
    from astropy.cosmology import Planck15

    return Planck15


def cosmology_to_dict(cosmo: FLRW) -> dict:
    """A JSON-serialisable description of ``cosmo``: astropy's own ``mapping`` format
    (class name under ``class``), quantities as numbers in the parameters' own units
    (H0 km/s/Mpc, Tcmb0 K, m_nu eV), without the meta."""
    import astropy.units as u

    mapping = cosmo.to_format("mapping", cosmology_as_str=True)
    out: dict = {"class": mapping.pop("cosmology")}
    for key, value in mapping.items():
        if key == "meta" or value is None:
            continue
        out[key] = value.value.tolist() if isinstance(value, u.Quantity) else value
    return out


def cosmology_from_dict(data: dict) -> FLRW:
    """Rebuild an astropy cosmology written by :func:`cosmology_to_dict` (one immutable
    object per description and process: building one takes ~0.05 s, mostly astropy's unit
    conversion of the critical density, and a bundle and its companion share theirs)."""
    key = json.dumps(data, sort_keys=True)
    if key not in _COSMOLOGIES:
        _COSMOLOGIES[key] = _build_cosmology(data)
    return _COSMOLOGIES[key]


#: The cosmologies cosmology_from_dict built, by their JSON description.
_COSMOLOGIES: dict[str, FLRW] = {}


def _build_cosmology(data: dict) -> FLRW:
    """astropy's ``mapping`` reader; numbers take the parameters' default units."""
    from astropy.cosmology import Cosmology

    mapping = dict(data)
    try:
        return Cosmology.from_format({"cosmology": mapping.pop("class"), **mapping},
                                     format="mapping")
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"invalid cosmology description {data!r} ({type(exc).__name__}: "
                         f"{exc}): it needs a 'class' that astropy.cosmology provides (e.g. "
                         "FlatLambdaCDM) and that class's parameters") from exc


def same_cosmology(a: FLRW, b: FLRW) -> bool:
    """True when two cosmologies give the same distances (parameters equal to 1e-6)."""
    zs = np.array([0.01, 0.1, 0.5, 1.0])
    da = a.comoving_distance(zs).value
    db = b.comoving_distance(zs).value
    return bool(np.allclose(da, db, rtol=1e-6)) and np.isclose(a.h, b.h, rtol=1e-6)


def colossus_cosmology(cosmo: FLRW, sigma8: float = DEFAULT_SIGMA8,
                       ns: float = DEFAULT_NS):
    """The colossus cosmology matching ``cosmo`` (set as colossus' current cosmology).

    colossus has no massive neutrinos: its Om0 is the total matter density today, astropy's
    Om0 (CDM + baryons) plus the massive neutrinos' share of Onu0 (0.3089 for Planck15, as
    in Uchuu); colossus counts all Neff neutrino species as radiation in Or0.
    """
    from colossus.cosmology import cosmology as col

    params = {
        "flat": bool(np.isclose(cosmo.Ok0, 0.0)),
        "H0": cosmo.H0.value,
        "Om0": cosmo.Om0 + massive_neutrino_density(cosmo),
        "Ode0": cosmo.Ode0,
        # colossus' power spectrum needs baryons; a cosmology without them gets Planck15's
        "Ob0": cosmo.Ob0 if cosmo.Ob0 else default_cosmology().Ob0,
        "sigma8": sigma8,
        "ns": ns,
        "Tcmb0": cosmo.Tcmb0.value,
        "Neff": cosmo.Neff,
    }
    # a stable digest: colossus keys its persistent cache on the name (Python's hash()
    # changes every process, so the cache would never hit and grow by one entry a run)
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return col.setCosmology(f"surveymass_{digest}", **params)


def massive_neutrino_density(cosmo: FLRW) -> float:
    """Omega of the massive neutrinos today: astropy's Onu0 less that of the same
    cosmology with massless neutrinos (0.0014 for Planck15; 0 without massive ones)."""
    import astropy.units as u

    if not cosmo.has_massive_nu:
        return 0.0
    return float(cosmo.Onu0 - cosmo.clone(m_nu=0.0 * u.eV).Onu0)


@dataclass(frozen=True)
class DistanceTable:
    """Tabulated comoving distance D_C(z) and transverse comoving distance D_M(z)
    [h^-1 Mpc] on a grid 0 <= z <= z_max, and the inverse z(D_C), for fast mocks.

    The smooth ratios D/z and z/D_C (limit c / 100 km/s/Mpc at z = 0) are interpolated
    linearly: relative error below 1e-8 for 0 < z <= z_max <= 1 (interpolating D itself on
    this grid is off by up to ~6e-5 relative near z -> 0). Redshifts or distances outside
    the grid raise :class:`InputError` instead of being clamped.
    """

    z: np.ndarray
    d_c: np.ndarray  # h^-1 Mpc
    d_m: np.ndarray  # h^-1 Mpc

    def __post_init__(self) -> None:
        hubble_distance = C_KMS / 100.0  # h^-1 Mpc: D / z at z -> 0
        for name, num, den, limit in (("_dc_over_z", self.d_c, self.z, hubble_distance),
                                      ("_dm_over_z", self.d_m, self.z, hubble_distance),
                                      ("_z_over_dc", self.z, self.d_c, 1.0 / hubble_distance)):
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(den > 0, num / np.where(den > 0, den, 1.0), limit)
            object.__setattr__(self, name, ratio)

    def _checked(self, name: str, values, grid: np.ndarray) -> np.ndarray:
        values = np.asarray(values, float)
        outside = (values < grid[0]) | (values > grid[-1])
        if np.any(outside):
            raise InputError(f"{name} {values[outside].ravel()[0]:g} is outside the distance "
                             f"table ({name} in [{grid[0]:g}, {grid[-1]:g}]); build it with "
                             "distance_table(cosmology, z_max=...) covering the range")
        return values

    def comoving_distance(self, z: np.ndarray) -> np.ndarray:
        """D_C [h^-1 Mpc] at redshift ``z`` (0 <= z <= z_max)."""
        z = self._checked("redshift", z, self.z)
        return z * np.interp(z, self.z, self._dc_over_z)

    def transverse_distance(self, z: np.ndarray) -> np.ndarray:
        """D_M [h^-1 Mpc] at redshift ``z`` (0 <= z <= z_max); D_L = (1 + z) D_M."""
        z = self._checked("redshift", z, self.z)
        return z * np.interp(z, self.z, self._dm_over_z)

    def redshift(self, d_c: np.ndarray) -> np.ndarray:
        """Cosmological redshift at comoving distance ``d_c`` [h^-1 Mpc]."""
        d_c = self._checked("comoving distance [h^-1 Mpc]", d_c, self.d_c)
        return d_c * np.interp(d_c, self.d_c, self._z_over_dc)


def distance_table(cosmo: FLRW, z_max: float = 1.0) -> DistanceTable:
    """A :class:`DistanceTable` for ``cosmo`` up to ``z_max`` (cached per cosmology)."""
    import astropy.units as u

    key = (json.dumps(cosmology_to_dict(cosmo), sort_keys=True), float(z_max))
    if key not in _DISTANCE_TABLES:
        z = np.linspace(0.0, z_max, 4000)
        d_c = cosmo.comoving_distance(z).to_value(u.Mpc) * cosmo.h
        _DISTANCE_TABLES[key] = DistanceTable(z=z, d_c=d_c,
                                              d_m=transverse_comoving_distance(cosmo, z))
    return _DISTANCE_TABLES[key]


# astropy cosmologies are not hashable; tables are cached by their JSON description.
_DISTANCE_TABLES: dict[tuple[str, float], DistanceTable] = {}


def transverse_comoving_distance(cosmo: FLRW, z: np.ndarray) -> np.ndarray:
    """Transverse comoving distance D_M(z) [h^-1 Mpc] (equals D_C in a flat universe)."""
    import astropy.units as u

    return cosmo.comoving_transverse_distance(z).to_value(u.Mpc) * cosmo.h
