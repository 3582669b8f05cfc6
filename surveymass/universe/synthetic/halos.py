"""Halo masses from the mass function, radii and concentrations (colossus).

Masses are M200c [h^-1 Msun]; radii comoving h^-1 Mpc.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from surveymass import halo
from surveymass.cosmology import default_cosmology
from surveymass.errors import InputError
from surveymass.universe.synthetic.config import SyntheticConfig


@dataclass(frozen=True)
class MassGrid:
    """The mass function tabulated on log-mass bins: edges [log10 h^-1 Msun] and the expected
    number of halos per bin in the box."""

    log_edges: np.ndarray
    expected: np.ndarray

    @property
    def log_centres(self) -> np.ndarray:
        return 0.5 * (self.log_edges[1:] + self.log_edges[:-1])


def mass_function_dndlnm(config: SyntheticConfig, masses: np.ndarray) -> np.ndarray:
    """dn/dlnM [h^3 Mpc^-3] of M200c at the snapshot (colossus; set the cosmology first)."""
    from colossus.lss import mass_function

    return mass_function.massFunction(masses, config.redshift, mdef="200c",
                                      model=config.mass_function_model, q_out="dndlnM")


def mass_grid(config: SyntheticConfig, m_min: float) -> MassGrid:
    """Expected halo counts in the box on bins of ``config.mass_bin_dex`` from ``m_min`` to
    ``m_max`` (Simpson integration of dn/dlnM inside each bin)."""
    lo, hi = np.log10(m_min), np.log10(config.m_max)
    n_bins = max(1, int(np.ceil((hi - lo) / config.mass_bin_dex)))
    edges = np.linspace(lo, hi, n_bins + 1)
    mids = 0.5 * (edges[1:] + edges[:-1])
    f = mass_function_dndlnm(config, 10 ** np.concatenate([edges, mids]))
    f_edges, f_mids = f[: n_bins + 1], f[n_bins + 1:]
    width = np.diff(edges) * np.log(10.0)
    per_volume = width / 6.0 * (f_edges[:-1] + 4.0 * f_mids + f_edges[1:])
    return MassGrid(log_edges=edges, expected=per_volume * config.box_size ** 3)


def check_box_holds_masses(config: SyntheticConfig, grid: MassGrid) -> None:
    """Raise :class:`InputError` when the box is too small for the requested mass range."""
    top_decade = grid.log_edges[1:] > np.log10(config.m_max) - 1.0
    n_top = grid.expected[top_decade].sum()
    n_cluster = grid.expected[grid.log_edges[1:] > 14.0].sum()
    if grid.expected.sum() < 1.0 or n_cluster < 1.0:
        raise InputError(f"a box of {config.box_size:g} h^-1 Mpc expects {n_cluster:.2f} halos "
                         "above 1e14 h^-1 Msun: too small to hold clusters; use box_size of "
                         "at least ~60 h^-1 Mpc")
    if n_top < 1e-3 and config.m_max < 1e16:
        raise InputError(f"m_max={config.m_max:g}: the box expects {n_top:.1e} halos in the top "
                         "decade of masses; lower m_max or enlarge the box")


def sample_masses(grid: MassGrid, bins: slice, rng: np.random.Generator) -> np.ndarray:
    """Poisson numbers per bin, masses uniform in log10 M inside each bin [h^-1 Msun],
    sorted by bin."""
    counts = rng.poisson(grid.expected[bins])
    lo = np.repeat(grid.log_edges[:-1][bins], counts)
    width = np.repeat(np.diff(grid.log_edges)[bins], counts)
    return 10.0 ** (lo + width * rng.random(lo.size))


def r200c(config: SyntheticConfig, m200c: np.ndarray) -> np.ndarray:
    """Comoving R200c [h^-1 Mpc] of M200c [h^-1 Msun] at the snapshot, in the synthetic
    universe's cosmology (:func:`surveymass.cosmology.default_cosmology`; see
    :func:`surveymass.halo.r200c`)."""
    return halo.r200c(m200c, config.redshift, default_cosmology())


def concentrations(config: SyntheticConfig, m200c: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """NFW concentrations c200c: the mean relation of ``config.concentration_model``
    (interpolated on a fine mass grid) with log-normal scatter."""
    log_m = np.log10(m200c)
    table_m = np.linspace(log_m.min() - 0.01, log_m.max() + 0.01, 400) if log_m.size else [12.0]
    table_c = median_concentration(config, 10 ** np.asarray(table_m))
    if not np.all(np.isfinite(table_c)):
        raise InputError(f"concentration model {config.concentration_model!r} is undefined "
                         f"over {10 ** table_m[0]:.2g}-{10 ** table_m[-1]:.2g} h^-1 Msun")
    mean = np.interp(log_m, table_m, np.log10(table_c))
    return 10.0 ** (mean + config.concentration_scatter_dex * rng.standard_normal(log_m.size))


def halo_bias(config: SyntheticConfig, m200c: np.ndarray) -> np.ndarray:
    """Linear halo bias b(M200c) at the snapshot (colossus, ``config.bias_model``)."""
    from colossus.lss import bias

    return bias.haloBias(m200c, config.redshift, mdef="200c", model=config.bias_model)


def virial_radius_ratio(config: SyntheticConfig, concentration: np.ndarray) -> np.ndarray:
    """R_vir / R200c (Bryan & Norman 1998 virial overdensity) of NFW halos of c200c at the
    snapshot (:func:`surveymass.halo.nfw_radius_ratio`)."""
    return halo.nfw_radius_ratio(concentration, config.redshift, "200c", "vir")


def mass_in_definition(config: SyntheticConfig, m200c: np.ndarray, concentration: np.ndarray,
                       mdef: str) -> np.ndarray:
    """Mass [h^-1 Msun] of NFW halos of M200c and c200c in another colossus definition at
    the snapshot (:func:`surveymass.halo.nfw_mass_in_definition`)."""
    return halo.nfw_mass_in_definition(m200c, concentration, config.redshift, "200c", mdef)


def median_concentration(config: SyntheticConfig, m200c: np.ndarray) -> np.ndarray:
    """The mean c200c of ``config.concentration_model`` at M200c [h^-1 Msun] (no scatter)."""
    from colossus.halo import concentration

    return concentration.concentration(np.asarray(m200c, float), "200c", config.redshift,
                                       model=config.concentration_model)
