"""Small hand-built universes for the mock tests: NFW halos with isotropic Gaussian
satellite velocities, plus uniform field galaxies in their own small halos."""

from __future__ import annotations

import numpy as np

from surveymass.cosmology import default_cosmology
from surveymass.universe.store import Universe


def nfw_radii(n: int, concentration: float, r200c: float, rng) -> np.ndarray:
    """Radii [h^-1 Mpc] drawn from an NFW profile truncated at r200c (inverse CDF)."""
    def mu(x):
        return np.log1p(x) - x / (1 + x)

    x = np.linspace(0, concentration, 4000)
    cdf = mu(x) / mu(concentration)
    return np.interp(rng.random(n), cdf, x) * r200c / concentration


def _directions(n: int, rng) -> np.ndarray:
    v = rng.standard_normal((n, 3))
    return v / np.linalg.norm(v, axis=1)[:, None]


def build(halos: list[dict], box: float = 250.0, n_field: int = 0, seed: int = 1,
          field_mag: float = -20.0, sat_mag: float = -21.0, color: float = 0.75) -> Universe:
    """A universe of the given clusters (dicts: halo_id, m200c, r200c, c, pos, vel, sigma,
    n_sat, optional core=(n_core, r_core)) and ``n_field`` uniform field galaxies, each the central of its own 1e11 halo.
    Satellites have magnitude ``sat_mag``; each cluster has a central at its centre."""
    rng = np.random.default_rng(seed)
    hal = {k: [] for k in ("halo_id", "m200c", "r200c", "concentration", "x", "y", "z",
                           "vx", "vy", "vz")}
    gal = {k: [] for k in ("host_id", "is_central", "x", "y", "z", "vx", "vy", "vz",
                           "mag_r", "color_gr", "quiescent")}

    def add_halo(hid, m, r, c, pos, vel):
        for key, val in zip(("halo_id", "m200c", "r200c", "concentration"), (hid, m, r, c)):
            hal[key].append(np.atleast_1d(val))
        for i, key in enumerate("xyz"):
            hal[key].append(np.atleast_1d(pos[..., i]))
            hal["v" + key].append(np.atleast_1d(vel[..., i]))

    def add_galaxies(host, central, pos, vel, mag):
        n = len(pos)
        gal["host_id"].append(np.full(n, host) if np.ndim(host) == 0 else host)
        gal["is_central"].append(np.full(n, central))
        for i, key in enumerate("xyz"):
            gal[key].append(pos[:, i] % box)
            gal["v" + key].append(vel[:, i])
        gal["mag_r"].append(np.full(n, mag, float) if np.ndim(mag) == 0 else mag)
        gal["color_gr"].append(np.full(n, color))
        gal["quiescent"].append(np.ones(n, bool))

    for h in halos:
        pos, vel = np.asarray(h["pos"], float), np.asarray(h.get("vel", (0, 0, 0)), float)
        add_halo(h["halo_id"], h["m200c"], h["r200c"], h["c"], pos, vel)
        add_galaxies(h["halo_id"], True, pos[None], vel[None], sat_mag - 1.5)
        n = h["n_sat"]
        offsets = _directions(n, rng) * nfw_radii(n, h["c"], h["r200c"], rng)[:, None]
        velocities = vel + h["sigma"] * rng.standard_normal((n, 3))
        add_galaxies(h["halo_id"], False, pos + offsets, velocities, sat_mag)
        if "core" in h:  # a dense core: n_core satellites within r_core [h^-1 Mpc]
            n_core, r_core = h["core"]
            core = pos + _directions(n_core, rng) * r_core * rng.random((n_core, 1))
            add_galaxies(h["halo_id"], False, core, vel + h["sigma"] * rng.standard_normal(
                (n_core, 3)), sat_mag)
    if n_field:
        ids = 10**6 + np.arange(n_field)
        pos = rng.uniform(0, box, (n_field, 3))
        vel = 300.0 * rng.standard_normal((n_field, 3))
        add_halo(ids, np.full(n_field, 1e11), np.full(n_field, 0.1), np.full(n_field, 10.0),
                 pos, vel)
        add_galaxies(ids, True, pos, vel, rng.uniform(field_mag - 2, field_mag, n_field))

    halos_out = {k: np.concatenate(v) for k, v in hal.items()}
    galaxies = {k: np.concatenate(v) for k, v in gal.items()}
    galaxies["galaxy_id"] = np.arange(len(galaxies["x"]))
    return Universe(cosmology=default_cosmology(), redshift=0.0, box_size=box,
                    halos=halos_out, galaxies=galaxies)


def cluster(halo_id: int, log_m: float, pos, sigma: float = 700.0, n_sat: int = 200,
            vel=(0.0, 0.0, 0.0), **extra) -> dict:
    """A cluster dict for :func:`build` with r200c from M200c (rho_c = 2.775e11 h^2 Msun/Mpc^3)."""
    r200c = (3 * 10**log_m / (4 * np.pi * 200 * 2.775e11)) ** (1 / 3)
    return dict(halo_id=halo_id, m200c=10**log_m, r200c=r200c, c=5.0, pos=pos, vel=vel,
                sigma=sigma, n_sat=n_sat, **extra)


def mass_sequence(n_halos: int = 60, n_field: int = 100000, seed: int = 5) -> Universe:
    """Halos evenly spaced in log10 M200c over 13-15 at random positions in a 250 h^-1 Mpc
    box, with the Evrard et al. (2008) dispersion, 2 + 4 M/1e14 satellites of M_r = -20.6
    and ``n_field`` field galaxies brighter than -20.5: cylinders of the poor ones hold
    more interlopers than members."""
    rng = np.random.default_rng(seed)
    halos = [cluster(i + 1, m, rng.uniform(0, 250, 3), sigma=1082.9 * (10**m / 1e15) ** 0.3361,
                     n_sat=int(round(4 * 10 ** (m - 14))) + 2)
             for i, m in enumerate(np.linspace(13.0, 15.0, n_halos))]
    return build(halos, n_field=n_field, field_mag=-20.5, sat_mag=-20.6)
