"""Toy training sets in the training-set contract (docs/architecture.md), for model tests.

Clusters: members on an NFW profile (concentration 5) inside r200c with Gaussian
line-of-sight velocities whose dispersion follows Evrard et al. (2008),
sigma = 1082.9 km/s (E(z) M200c / 1e15 h^-1 Msun)^0.3361, and (cylindrical setup) interlopers
uniform in the aperture cylinder. Richness grows with mass. Magnitudes are uniform
between 14 and the survey limit. Everything comes from one seed.
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table

from surveymass.cosmology import C_KMS, cosmology_to_dict, default_cosmology
from surveymass.halo import EVRARD_SIGMA_15, EVRARD_SLOPE
from surveymass.mocks.trainingset import write_training_set
from surveymass.survey import SurveyConfig
from surveymass.universe.synthetic.nuisance import COLUMN_PREFIX, DEVIATE_COLUMN

MAG_LIMIT = 17.77
R_MAX, V_MAX = 1.6, 2200.0
RHO_CRIT0 = 2.775e11  # h^2 Msun / Mpc^3


def evrard_sigma(log10_m, z, cosmo):
    return EVRARD_SIGMA_15 * (cosmo.efunc(z) * 10 ** (log10_m - 15)) ** EVRARD_SLOPE


def _nfw_projected(rng, n, r200, c=5.0):
    """Projected radii of n points of an NFW sphere truncated at r200."""
    s = np.linspace(1e-4, 1, 2000)
    mass = np.log1p(c * s) - c * s / (1 + c * s)
    r3 = np.interp(rng.uniform(0, mass[-1], n), mass, s) * r200
    cos_t = rng.uniform(-1, 1, n)
    return r3 * np.sqrt(1 - cos_t ** 2)


def make_fields(n_fields, seed, setup="cylindrical", log10_m_range=(13.7, 15.0),
                z_range=(0.03, 0.12), interlopers_mean=25.0, first_id=0, split="train"):
    """(FIELDS, GALAXIES) astropy tables of ``n_fields`` toy clusters."""
    rng = np.random.default_rng(seed)
    cosmo = default_cosmology()
    fields, galaxies, start = [], [], 0
    for fid in range(first_id, first_id + n_fields):
        log10_m = rng.uniform(*log10_m_range)
        z_cl = rng.uniform(*z_range)
        rho = 200 * RHO_CRIT0 * cosmo.efunc(z_cl) ** 2
        r200 = (3 * 10 ** log10_m / (4 * np.pi * rho)) ** (1 / 3) * (1 + z_cl)  # comoving
        n_mem = max(rng.poisson(25 * 10 ** (0.8 * (log10_m - 14))), 10)
        r = _nfw_projected(rng, n_mem, r200)
        phi = rng.uniform(0, 2 * np.pi, n_mem)
        v = rng.normal(0, evrard_sigma(log10_m, z_cl, cosmo), n_mem)
        member = np.ones(n_mem, bool)
        if setup == "cylindrical":
            n_int = rng.poisson(interlopers_mean)
            r = np.concatenate([r, R_MAX * np.sqrt(rng.uniform(0, 1, n_int))])
            phi = np.concatenate([phi, rng.uniform(0, 2 * np.pi, n_int)])
            v = np.concatenate([v, rng.uniform(-V_MAX, V_MAX, n_int)])
            member = np.concatenate([member, np.zeros(n_int, bool)])
        keep = (r < R_MAX) & (np.abs(v) < V_MAX)
        x, y = (r * np.cos(phi))[keep], (r * np.sin(phi))[keep]
        v, member = v[keep], member[keep]
        n = len(v)
        d_l = cosmo.luminosity_distance(z_cl).value * cosmo.h
        d_m = cosmo.comoving_transverse_distance(z_cl).value * cosmo.h
        fields.append(dict(field_id=fid, halo_id=fid, los_index=0, los_x=0.0, los_y=0.0,
                           los_z=1.0, log10_m200c=log10_m, z_cl=z_cl, ra_cl=150.0,
                           dec_cl=20.0, n_galaxies=n, n_members=int(member.sum()),
                           mag_lim_abs=MAG_LIMIT - 5 * np.log10(d_l) - 25, split=split,
                           gal_start=start))
        start += n
        galaxies.append(dict(
            field_id=np.full(n, fid), galaxy_id=np.arange(n) + 1000 * fid,
            ra=150.0 + np.degrees(x / d_m), dec=20.0 + np.degrees(y / d_m),
            z=z_cl + v * (1 + z_cl) / C_KMS, z_err=np.full(n, 1e-4),
            mag_r=rng.uniform(14.0, MAG_LIMIT, n), x=x, y=y, r=np.hypot(x, y), v_los=v,
            is_member=member, host_id=np.where(member, fid, -1),
            host_log10_m200c=np.where(member, log10_m, 12.0), is_central=np.zeros(n, bool)))
    ftab = Table(rows=[tuple(f.values()) for f in fields], names=tuple(fields[0]))
    gtab = Table({k: np.concatenate([g[k] for g in galaxies]) for k in galaxies[0]})
    return ftab, gtab


def write_toy_training_set(folder, sizes=None, seed=0, setup="cylindrical", galaxy_halo=None,
                           **options):
    """A training-set folder (through the mocks' writer) of toy clusters; with a
    ``galaxy_halo`` prior (GalaxyHaloPrior) its manifest records it and the fields carry
    values drawn from it (the toy clusters do not depend on them)."""
    sizes = sizes or {"train": 300, "val": 80, "test": 80}
    tables, first_id = {}, 0
    for i, (split, n) in enumerate(sizes.items()):
        ftab, gtab = make_fields(max(n, 1), seed + 1000 * i, setup=setup, first_id=first_id,
                                 split=split, **options)
        if n == 0:  # an empty split, for the bad-input tests
            ftab, gtab = ftab[:0], gtab[:0]
        if galaxy_halo is not None:
            rng = np.random.default_rng(seed + 1000 * i + 1)
            drawn = [galaxy_halo.draw(rng) for _ in range(len(ftab))]
            for name in galaxy_halo.ranges:
                ftab[COLUMN_PREFIX + name] = [d[name] for d in drawn]
            ftab[DEVIATE_COLUMN] = np.zeros(len(ftab))
        tables[split] = (ftab, gtab)
        first_id += n
    survey = SurveyConfig(name="toy", mag_limit=MAG_LIMIT, z_min=0.01, z_max=0.2,
                          fibre_radius_arcsec=0.0, collision_recovery=1.0,
                          velocity_error_kms=0.0)
    manifest = {"setup": {"setup": setup, "r_max": R_MAX, "v_max": V_MAX, "min_galaxies": 10,
                          "galaxy_halo": galaxy_halo.to_dict() if galaxy_halo else None},
                "survey": survey.to_dict(),
                "universe": {"name": "toy clusters (tests/toy_clusters.py)",
                             "cosmology": cosmology_to_dict(default_cosmology())},
                "provenance": {"seed": seed}}
    return write_training_set(folder, tables, manifest)


TINY_ARCHITECTURE = dict(width=32, depth=2, latent=16, context=16, blocks=3, flow_bins=8,
                         flow_hidden=32)
_CACHE: dict = {}


def trained_toy_bundle(tmp_path_factory):
    """(training-set folder, bundle folder) of a tiny bundle trained once per session."""
    if "bundle" not in _CACHE:
        from surveymass.models.deepsets import Architecture
        from surveymass.models.pipeline import train_bundle
        from surveymass.models.training import TrainingConfig

        base = tmp_path_factory.mktemp("toy")
        data = write_toy_training_set(base / "trainingset",
                                      {"train": 300, "val": 80, "test": 120}, seed=3)
        bundle = train_bundle(data, "toy", base / "bundle", Architecture(**TINY_ARCHITECTURE),
                              TrainingConfig(batch_size=32, max_epochs=12, patience=4, seed=1),
                              device="cpu", quiet=True)
        _CACHE["bundle"] = (data, bundle)
    return _CACHE["bundle"]
