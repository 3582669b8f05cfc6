"""The surroundings of massive halos, below the grid scale: neighbours gathered towards them
and falling onto them.

Every halo near an "attractor" (a halo above ``config.infall_min_mass``) is assigned to the
attractor that pulls it hardest (largest M / d^2 within ``infall_radius`` R200c). Then:

* sub-cell clustering: within r_sub = max(subcell_radius_cells cells, 2 R_vir) of the
  attractor, the neighbour's distance is remapped monotonically so that the neighbours follow
  r^2 (1 + xi(r)) on [R_vir, r_sub] instead of the uniform r^2 the grid gave them, with
  xi = b_h max(xi_NFW, b_a xi_lin) (halo-matter correlation of Hayashi & White 2008,
  MNRAS 388, 2, times the neighbour bias b_h). The number inside r_sub is kept (the grid
  already set it). Halo exclusion: distinct halos end up outside the attractor's virial
  radius (Bryan & Norman 1998), as in Rockstar catalogues, where a halo inside a bigger
  one's R_vir is its subhalo (Behroozi et al. 2013, ApJ 762, 109); R_vir ~ 1.3 R200c.
* infall: the radial part of the neighbour's velocity relative to the attractor becomes the
  mean infall of N-body clusters, v_r = -a V200c (r / R200c)^-b (Falco et al. 2014,
  MNRAS 442, 1887: a = 0.8, b = 0.42), blended into the linear-theory velocity between
  infall_radius / 2 and infall_radius (in R200c).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from surveymass.halo import nfw_mass_factor, v200c
from surveymass.universe.synthetic.config import SyntheticConfig

_RADIAL_STEPS = 48


@dataclass
class Attractors:
    """Halos above the infall mass: positions [h^-1 Mpc], velocities [km/s], M200c, R200c,
    concentration, bias and virial radius [h^-1 Mpc]."""

    pos: np.ndarray
    vel: np.ndarray
    m200c: np.ndarray
    r200c: np.ndarray
    concentration: np.ndarray
    bias: np.ndarray
    r_vir: np.ndarray
    box_size: float


@dataclass(frozen=True)
class Pull:
    """For each pulled halo: its index in the chunk, its attractor, and the separation
    vector halo - attractor [h^-1 Mpc] (minimum image) and its length."""

    halo: np.ndarray
    attractor: np.ndarray
    sep: np.ndarray
    dist: np.ndarray


def dominant_pull(att: Attractors, pos: np.ndarray, m200c: np.ndarray,
                  config: SyntheticConfig) -> Pull:
    """The attractor pulling each halo hardest (M / d^2) among the more massive attractors
    within ``infall_radius`` R200c; halos with none are left out."""
    # unbalanced, non-compact trees build 5-8x faster and query as fast here
    tree = cKDTree(pos % att.box_size, boxsize=att.box_size, balanced_tree=False,
                   compact_nodes=False)
    lists = tree.query_ball_point(att.pos % att.box_size, config.infall_radius * att.r200c)
    counts = np.fromiter(map(len, lists), np.int64, len(lists))
    halo = np.fromiter(itertools.chain.from_iterable(lists), np.int64, counts.sum())
    attractor = np.repeat(np.arange(len(lists)), counts)
    sep = pos[halo] - att.pos[attractor]
    sep -= att.box_size * np.round(sep / att.box_size)
    dist = np.linalg.norm(sep, axis=1)
    keep = (m200c[halo] < att.m200c[attractor]) & (dist > 0)
    halo, attractor, sep, dist = halo[keep], attractor[keep], sep[keep], dist[keep]
    strength = att.m200c[attractor] / np.maximum(dist, 1e-3) ** 2
    order = np.lexsort((-strength, halo))
    first = order[np.unique(halo[order], return_index=True)[1]]
    return Pull(halo[first], attractor[first], sep[first], dist[first])


def gather_neighbours(att: Attractors, pull: Pull, neighbour_bias: np.ndarray,
                      config: SyntheticConfig, xi_lin, rho_m: float) -> np.ndarray:
    """New separations [h^-1 Mpc] (halo - attractor) after the sub-cell remap; halos beyond
    r_sub keep theirs. ``xi_lin(r)``: linear correlation function; ``rho_m``: mean matter
    density [h^2 Msun Mpc^-3] (comoving)."""
    a = pull.attractor
    r_vir = att.r_vir[a]
    r_sub = np.maximum(config.subcell_radius_cells * config.box_size / config.n_cells,
                       2.0 * r_vir)
    inside = (pull.dist < r_sub) & (att.m200c[a] >= config.subcell_min_mass)
    sep = pull.sep.copy()
    if not inside.any():
        return sep
    idx = np.flatnonzero(inside)
    a, r_vir, r_sub = a[idx], r_vir[idx], r_sub[idx]
    r200 = att.r200c[a]
    c = att.concentration[a].astype(float)
    steps = np.linspace(0.0, 1.0, _RADIAL_STEPS)
    r = r_vir[:, None] + (r_sub - r_vir)[:, None] * steps[None, :]
    xs = r * c[:, None] / r200[:, None]
    rho_s = att.m200c[a] / (4 * np.pi * (r200 / c) ** 3 * nfw_mass_factor(c))
    xi_nfw = rho_s[:, None] / (xs * (1 + xs) ** 2) / rho_m - 1.0
    xi = neighbour_bias[pull.halo[idx], None] * np.maximum(
        xi_nfw, att.bias[a, None] * xi_lin(r))
    weight = r ** 2 * np.maximum(1.0 + xi, 0.0)
    cdf = np.concatenate([np.zeros((idx.size, 1)),
                          np.cumsum(0.5 * (weight[:, 1:] + weight[:, :-1]), axis=1)], axis=1)
    cdf /= cdf[:, -1:]
    u = (pull.dist[idx] / r_sub) ** 3
    j = np.clip((cdf < u[:, None]).sum(axis=1), 1, _RADIAL_STEPS - 1)
    rows = np.arange(idx.size)
    lo, hi = cdf[rows, j - 1], cdf[rows, j]
    frac = (u - lo) / np.maximum(hi - lo, 1e-12)
    new_r = r[rows, j - 1] + frac * (r[rows, j] - r[rows, j - 1])
    sep[idx] *= (new_r / pull.dist[idx])[:, None]
    return sep


def infall_velocities(att: Attractors, pull: Pull, sep: np.ndarray, vel: np.ndarray,
                      config: SyntheticConfig) -> np.ndarray:
    """Velocities [km/s] of the pulled halos with the radial part relative to the attractor
    replaced by the N-body mean infall (blended out between infall_radius/2 and
    infall_radius)."""
    a = pull.attractor
    r200 = att.r200c[a]
    dist = np.linalg.norm(sep, axis=1)
    unit = sep / dist[:, None]
    rel = vel[pull.halo] - att.vel[a]
    radial = np.einsum("ij,ij->i", rel, unit)
    v200 = v200c(att.m200c[a], r200, config.redshift)
    s = np.maximum(dist / r200, 1.0)
    v_inf = -config.infall_amplitude * v200 * s ** -config.infall_slope
    weight = np.clip(2.0 - 2.0 * s / config.infall_radius, 0.0, 1.0)
    new_radial = weight * v_inf + (1.0 - weight) * radial
    return att.vel[a] + rel + (new_radial - radial)[:, None] * unit
